import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { RevenueShareMathHarness__factory } from "../../typechain-types";

const PRECISION = 10n ** 30n;

/** Deterministic pseudo-random bigints (xorshift), so failures reproduce. */
function rng(seed: bigint) {
  let x = seed;
  return (bits: number): bigint => {
    let out = 0n;
    for (let i = 0; i < bits; i += 32) {
      x ^= (x << 13n) & 0xffffffffn;
      x ^= x >> 17n;
      x ^= (x << 5n) & 0xffffffffn;
      out = (out << 32n) | x;
    }
    return out & ((1n << BigInt(bits)) - 1n);
  };
}

describe("RevenueShareMath", function () {
  async function harnessFixture() {
    const [deployer] = await ethers.getSigners();
    const math = await new RevenueShareMathHarness__factory(deployer).deploy();
    return { math };
  }

  describe("PRECISION", function () {
    it("is 1e30", async function () {
      const { math } = await loadFixture(harnessFixture);
      expect(await math.precision()).to.equal(PRECISION);
    });
  });

  describe("distribute", function () {
    it("raises the index by 1000 for 1 base unit over 1e27 shares, leaving no carry", async function () {
      const { math } = await loadFixture(harnessFixture);
      const [index, carry] = await math.distribute(0n, 0n, 1n, 10n ** 27n);
      expect(index).to.equal(1000n);
      expect(carry).to.equal(0n);
    });

    it("carries the remainder into the next distribution", async function () {
      const { math } = await loadFixture(harnessFixture);
      const supply = 3n * PRECISION; // 1 unit over 3e30 shares: index +0, carry 1e30
      const [index1, carry1] = await math.distribute(0n, 0n, 1n, supply);
      expect(index1).to.equal(0n);
      expect(carry1).to.equal(PRECISION);
      const [index2, carry2] = await math.distribute(index1, carry1, 2n, supply);
      expect(index2).to.equal(1n); // 3e30 scaled over 3e30 shares
      expect(carry2).to.equal(0n);
    });

    it("conserves every scaled unit over random sequences: supply × index + carry = PRECISION × Σ amounts", async function () {
      const { math } = await loadFixture(harnessFixture);
      const next = rng(0x9e3779b97f4a7c15n);
      for (let run = 0; run < 12; run++) {
        const supply = (next(96) % ((1n << 96n) - 1n)) + 1n;
        let index = 0n;
        let carry = 0n;
        let total = 0n;
        for (let step = 0; step < 8; step++) {
          const amount = next(64) >> BigInt(Number(next(6)));
          [index, carry] = await math.distribute(index, carry, amount, supply);
          total += amount;
          expect(carry < supply).to.equal(true);
          expect(supply * index + carry).to.equal(total * PRECISION);
        }
      }
    });

    it("reverts with a division panic over zero shares", async function () {
      const { math } = await loadFixture(harnessFixture);
      await expect(math.distribute(0n, 0n, 1n, 0n)).to.be.revertedWithPanic(0x12);
    });

    it("reverts with an overflow panic when amount × PRECISION exceeds 256 bits", async function () {
      const { math } = await loadFixture(harnessFixture);
      await expect(math.distribute(0n, 0n, 2n ** 256n / PRECISION + 1n, 1n)).to.be.revertedWithPanic(0x11);
    });
  });

  describe("earned", function () {
    it("is shares × index delta, exactly", async function () {
      const { math } = await loadFixture(harnessFixture);
      expect(await math.earned(7n, 1000n, 400n)).to.equal(4200n);
      expect(await math.earned(0n, 1000n, 400n)).to.equal(0n);
    });

    it("reverts with an underflow panic when the index went backwards", async function () {
      const { math } = await loadFixture(harnessFixture);
      await expect(math.earned(1n, 1n, 2n)).to.be.revertedWithPanic(0x11);
    });
  });

  describe("split", function () {
    it("rounds down to whole base units and keeps the sub-unit rest", async function () {
      const { math } = await loadFixture(harnessFixture);
      const [amount, rest] = await math.split(5n * PRECISION + 123n);
      expect(amount).to.equal(5n);
      expect(rest).to.equal(123n);
      const [zero, almost] = await math.split(PRECISION - 1n);
      expect(zero).to.equal(0n);
      expect(almost).to.equal(PRECISION - 1n);
    });
  });

  describe("holders never receive more than was distributed", function () {
    it("pays Σ floor(shares_i × index / PRECISION) ≤ Σ amounts, short by less than one unit per holder plus one", async function () {
      const { math } = await loadFixture(harnessFixture);
      const next = rng(0x1234567n);
      for (let run = 0; run < 10; run++) {
        const holders = Array.from({ length: 1 + Number(next(3)) }, () => next(80) + 1n);
        const supply = holders.reduce((a, b) => a + b, 0n);
        let index = 0n;
        let carry = 0n;
        let total = 0n;
        for (let step = 0; step < 5; step++) {
          const amount = next(40);
          [index, carry] = await math.distribute(index, carry, amount, supply);
          total += amount;
        }
        let paid = 0n;
        for (const shares of holders) {
          const [amount] = await math.split(await math.earned(shares, index, 0n));
          paid += amount;
        }
        expect(paid <= total).to.equal(true);
        expect(total - paid <= BigInt(holders.length)).to.equal(true);
      }
    });
  });
});
