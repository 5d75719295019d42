import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { CreditMathHarness__factory } from "../../typechain-types";
import { INTEREST_DENOMINATOR, accrue, applyPayment, dueDatesPassed, principalDueBy, waterfall } from "./model";

/**
 * CreditMath against the reference model of test/credit/model.ts: hand-picked cases with figures worked
 * out by hand, then a deterministic pseudo-random sweep. The forge suite (test/foundry/fuzz/
 * CreditMath.fuzz.t.sol) fuzzes the same rules with random inputs.
 */

const USDC = 1_000_000n;
const DAY = 86_400n;
const U96 = 2n ** 96n - 1n;

/** xorshift64*: a reproducible stream of bigints below `bound`. */
function prng(seed: bigint) {
  let s = seed;
  return (bound: bigint) => {
    s ^= s << 13n;
    s &= 2n ** 64n - 1n;
    s ^= s >> 7n;
    s ^= s << 17n;
    s &= 2n ** 64n - 1n;
    return bound === 0n ? 0n : (s * 0x2545f4914f6cdd1dn) % bound;
  };
}

async function deployHarness() {
  const [deployer] = await ethers.getSigners();
  return new CreditMathHarness__factory(deployer).deploy();
}

describe("CreditMath", () => {
  describe("accrue", () => {
    it("charges 12 % a year on 10,000 USDC over 30 days as 98.630136 USDC, carrying the remainder", async () => {
      const math = await loadFixture(deployHarness);
      // 10,000e6 × 1200 × 2,592,000 = 31,104,000,000,000,000,000; / 315,360,000,000 = 98,630,136.98…
      const [interest, remainder] = await math.accrue(10_000n * USDC, 1200n, 30n * DAY, 0n);
      expect(interest).to.equal(98_630_136n);
      expect(remainder).to.equal(31_104_000_000_000_000_000n - 98_630_136n * INTEREST_DENOMINATOR);
      expect(await math.interestDenominator()).to.equal(315_360_000_000n);
    });

    it("does not depend on how the time is cut: one year in 365 daily steps equals one step", async () => {
      const math = await loadFixture(deployHarness);
      const principal = 1_234_567_891n;
      let total = 0n;
      let remainder = 0n;
      for (let day = 0; day < 365; day++) {
        const [interest, r] = await math.accrue(principal, 777n, DAY, remainder);
        total += interest;
        remainder = r;
      }
      const [once, onceRemainder] = await math.accrue(principal, 777n, 365n * DAY, 0n);
      expect(total).to.equal(once);
      expect(remainder).to.equal(onceRemainder);
      // Exactly 7.77 % of the principal, rounded down.
      expect(once).to.equal((principal * 777n) / 10_000n);
    });

    it("is zero for a zero principal, rate or duration and keeps the carried remainder", async () => {
      const math = await loadFixture(deployHarness);
      expect(await math.accrue(0n, 1200n, DAY, 5n)).to.deep.equal([0n, 5n]);
      expect(await math.accrue(USDC, 0n, DAY, 5n)).to.deep.equal([0n, 5n]);
      expect(await math.accrue(USDC, 1200n, 0n, 5n)).to.deep.equal([0n, 5n]);
    });

    it("turns a carried remainder into a unit exactly when it reaches the denominator", async () => {
      const math = await loadFixture(deployHarness);
      // 1 base unit at 1 bps for 1 s adds 1 to the numerator.
      expect(await math.accrue(1n, 1n, 1n, INTEREST_DENOMINATOR - 2n)).to.deep.equal([0n, INTEREST_DENOMINATOR - 1n]);
      expect(await math.accrue(1n, 1n, 1n, INTEREST_DENOMINATOR - 1n)).to.deep.equal([1n, 0n]);
    });

    it("handles the largest principal and rate over a century without overflow", async () => {
      const math = await loadFixture(deployHarness);
      const century = 100n * 365n * DAY;
      expect(await math.accrue(U96, 65_535n, century, 0n)).to.deep.equal(accrue(U96, 65_535n, century, 0n));
    });
  });

  describe("dueDatesPassed and dueDate", () => {
    it("counts a due date from its exact second on, and caps at the period count", async () => {
      const math = await loadFixture(deployHarness);
      const start = 1_000_000n;
      const period = 30n * DAY;
      expect(await math.dueDatesPassed(start, period, 12n, start - 1n)).to.equal(0n);
      expect(await math.dueDatesPassed(start, period, 12n, start)).to.equal(0n);
      expect(await math.dueDatesPassed(start, period, 12n, start + period - 1n)).to.equal(0n);
      expect(await math.dueDatesPassed(start, period, 12n, start + period)).to.equal(1n);
      expect(await math.dueDatesPassed(start, period, 12n, start + 12n * period)).to.equal(12n);
      expect(await math.dueDatesPassed(start, period, 12n, start + 100n * period)).to.equal(12n);
      expect(await math.dueDate(start, period, 3n)).to.equal(start + 3n * period);
    });
  });

  describe("principalDueBy", () => {
    it("amortizes straight-line over every period when amortizationPeriods = periodCount", async () => {
      const math = await loadFixture(deployHarness);
      const principal = 10_000n * USDC;
      expect(await math.principalDueBy(principal, 12n, 12n, 0n)).to.equal(0n);
      expect(await math.principalDueBy(principal, 12n, 12n, 1n)).to.equal(833_333_333n);
      expect(await math.principalDueBy(principal, 12n, 12n, 2n)).to.equal(1_666_666_666n);
      expect(await math.principalDueBy(principal, 12n, 12n, 11n)).to.equal(9_166_666_666n);
      expect(await math.principalDueBy(principal, 12n, 12n, 12n)).to.equal(principal);
    });

    it("is a bullet at maturity when amortizationPeriods = 1", async () => {
      const math = await loadFixture(deployHarness);
      for (const k of [0n, 1n, 5n, 11n]) expect(await math.principalDueBy(1_000n, 12n, 1n, k)).to.equal(0n);
      expect(await math.principalDueBy(1_000n, 12n, 1n, 12n)).to.equal(1_000n);
      expect(await math.principalDueBy(1_000n, 12n, 1n, 13n)).to.equal(1_000n);
    });

    it("starts repaying after the interest-only periods", async () => {
      const math = await loadFixture(deployHarness);
      // 6 periods, the last 3 amortizing: nothing by 3, then 1/3, 2/3, all.
      expect(await math.principalDueBy(900n, 6n, 3n, 3n)).to.equal(0n);
      expect(await math.principalDueBy(900n, 6n, 3n, 4n)).to.equal(300n);
      expect(await math.principalDueBy(900n, 6n, 3n, 5n)).to.equal(600n);
      expect(await math.principalDueBy(900n, 6n, 3n, 6n)).to.equal(900n);
    });
  });

  describe("applyPayment and waterfall", () => {
    it("pays interest, then principal, then keeps the rest", async () => {
      const math = await loadFixture(deployHarness);
      expect(await math.applyPayment(50n, 80n, 100n)).to.deep.equal([50n, 0n, 0n]);
      expect(await math.applyPayment(130n, 80n, 100n)).to.deep.equal([80n, 50n, 0n]);
      expect(await math.applyPayment(230n, 80n, 100n)).to.deep.equal([80n, 100n, 50n]);
    });

    it("fills the reserve only up to its room, and the borrower gets the rest", async () => {
      const math = await loadFixture(deployHarness);
      expect(await math.waterfall(230n, 80n, 100n, 20n)).to.deep.equal([80n, 100n, 20n, 30n]);
      expect(await math.waterfall(190n, 80n, 100n, 20n)).to.deep.equal([80n, 100n, 10n, 0n]);
      expect(await math.waterfall(100n, 0n, 0n, 0n)).to.deep.equal([0n, 0n, 0n, 100n]);
    });
  });

  describe("against the reference model", () => {
    it("agrees on 300 pseudo-random inputs, and every waterfall conserves its amount", async () => {
      const math = await loadFixture(deployHarness);
      const next = prng(0xc0ffeen);
      for (let i = 0; i < 300; i++) {
        const principal = next(U96);
        const rate = next(65_536n);
        const elapsed = next(50n * 365n * DAY);
        const remainder = next(INTEREST_DENOMINATOR);
        expect(await math.accrue(principal, rate, elapsed, remainder)).to.deep.equal(
          accrue(principal, rate, elapsed, remainder),
        );
        const count = next(400n) + 1n;
        const amortization = next(count) + 1n;
        const index = next(count + 3n);
        expect(await math.principalDueBy(principal, count, amortization, index)).to.equal(
          principalDueBy(principal, count, amortization, index),
        );
        const start = next(2n ** 40n);
        const period = next(365n * DAY) + 3600n;
        const time = next(2n ** 41n);
        expect(await math.dueDatesPassed(start, period, count, time)).to.equal(
          dueDatesPassed(start, period, count, time),
        );
        const [amount, interestOwed, principalOwed, room] = [next(U96), next(U96), next(U96), next(U96)];
        const split = await math.waterfall(amount, interestOwed, principalOwed, room);
        const expected = waterfall(amount, interestOwed, principalOwed, room);
        expect(split).to.deep.equal([
          expected.toInterest,
          expected.toPrincipal,
          expected.toReserve,
          expected.toBorrower,
        ]);
        expect(split[0] + split[1] + split[2] + split[3]).to.equal(amount);
        expect(await math.applyPayment(amount, interestOwed, principalOwed)).to.deep.equal(
          applyPayment(amount, interestOwed, principalOwed),
        );
      }
    });
  });
});
