/**
 * `MeterMath` (through `SettlementMathHarness`), as a specification with figures worked out by hand:
 * the packed layout, each physical bound of `isPossible` exactly at and one unit beyond it, and
 * `interpolate`'s rounding. The same functions are fuzzed in test/foundry/fuzz/MeterMath.fuzz.t.sol.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SettlementMathHarness__factory } from "../../typechain-types";
import type { Meter } from "../../src/eip712";
import { asMeter } from "./fixtures";

async function harnessFixture() {
  const [deployer] = await ethers.getSigners();
  return new SettlementMathHarness__factory(deployer).deploy();
}

const MAX64 = (1n << 64n) - 1n;
const E: Meter = { timestamp: 1_000n, busyGpuSeconds: 100n, availableGpuSeconds: 200n, energyJ: 300n };
/** `E` plus deltas, `dt` seconds later. */
function after(dt: bigint, busy: bigint, available: bigint, energy: bigint): Meter {
  return {
    timestamp: E.timestamp + dt,
    busyGpuSeconds: E.busyGpuSeconds + busy,
    availableGpuSeconds: E.availableGpuSeconds + available,
    energyJ: E.energyJ + energy,
  };
}

describe("MeterMath", function () {
  describe("unpack", function () {
    it("reads assetId | previousBatch | busy (48 bits) | available (48 bits) | energy (64 bits), big-endian", async function () {
      const h = await loadFixture(harnessFixture);
      const bytes = "0x" + Array.from({ length: 28 }, (_, i) => (i + 1).toString(16).padStart(2, "0")).join("");
      expect(await h.unpack(bytes)).to.deep.equal([
        0x01020304n,
        0x05060708n,
        0x090a0b0c0d0en,
        0x0f1011121314n,
        0x15161718191a1b1cn,
      ]);
      expect(await h.unpack("0x" + "ff".repeat(28))).to.deep.equal([
        (1n << 32n) - 1n,
        (1n << 32n) - 1n,
        (1n << 48n) - 1n,
        (1n << 48n) - 1n,
        MAX64,
      ]);
      expect(await h.unpack("0x" + "00".repeat(28))).to.deep.equal([0n, 0n, 0n, 0n, 0n]);
    });
  });

  describe("isPossible", function () {
    // 8 GPUs x 700 W over 600 s: 4800 GPU-s of capacity, 3,360,000 J at TDP.
    const [gpus, tdp, dt] = [8, 700, 600n];

    it("accepts every delta exactly at its bound: busy = available = gpuCount x dt, energy = that x TDP x (1 + margin)", async function () {
      const h = await loadFixture(harnessFixture);
      for (const [margin, energy] of [
        [0, 3_360_000n],
        [1_000, 3_696_000n],
        [5_000, 5_040_000n],
      ] as const) {
        expect(
          await h.isPossible(E, after(dt, 4_800n, 4_800n, energy), gpus, tdp, margin),
          `margin ${margin}`,
        ).to.equal(true);
        expect(
          await h.isPossible(E, after(dt, 4_800n, 4_800n, energy + 1n), gpus, tdp, margin),
          `margin ${margin} + 1 J`,
        ).to.equal(false);
      }
    });

    it("accepts no change at all over any positive time", async function () {
      const h = await loadFixture(harnessFixture);
      expect(await h.isPossible(E, after(1n, 0n, 0n, 0n), 1, 1, 0)).to.equal(true);
    });

    it("refuses a time that does not move forward", async function () {
      const h = await loadFixture(harnessFixture);
      expect(await h.isPossible(E, after(0n, 0n, 0n, 0n), gpus, tdp, 1_000)).to.equal(false);
      expect(await h.isPossible(after(1n, 0n, 0n, 0n), E, gpus, tdp, 1_000)).to.equal(false);
    });

    it("refuses any counter that decreases", async function () {
      const h = await loadFixture(harnessFixture);
      const ok = after(dt, 10n, 20n, 30n);
      for (const field of ["busyGpuSeconds", "availableGpuSeconds", "energyJ"] as const) {
        expect(await h.isPossible(E, { ...ok, [field]: E[field] - 1n }, gpus, tdp, 1_000), field).to.equal(false);
      }
    });

    it("refuses busy above available, and available above gpuCount x dt", async function () {
      const h = await loadFixture(harnessFixture);
      expect(await h.isPossible(E, after(dt, 21n, 20n, 0n), gpus, tdp, 1_000)).to.equal(false);
      expect(await h.isPossible(E, after(dt, 20n, 20n, 0n), gpus, tdp, 1_000)).to.equal(true);
      expect(await h.isPossible(E, after(dt, 0n, 4_801n, 0n), gpus, tdp, 1_000)).to.equal(false);
    });

    it("rounds the energy bound down", async function () {
      const h = await loadFixture(harnessFixture);
      // 1 GPU x 333 W x 7 s x 1.0001 = 2331.2331 J: 2331 allowed, 2332 not.
      expect(await h.isPossible(E, after(7n, 0n, 7n, 2_331n), 1, 333, 1)).to.equal(true);
      expect(await h.isPossible(E, after(7n, 0n, 7n, 2_332n), 1, 333, 1)).to.equal(false);
    });

    it("does not overflow for the largest asset over ten years at full load and the largest margin", async function () {
      const h = await loadFixture(harnessFixture);
      const tenYears = 10n * 365n * 86_400n;
      const capacity = 65_535n * tenYears;
      const energy = (capacity * 65_535n * 15_000n) / 10_000n;
      expect(energy).to.be.lessThan(MAX64);
      const zero = { timestamp: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n };
      const full = { timestamp: tenYears, busyGpuSeconds: capacity, availableGpuSeconds: capacity, energyJ: energy };
      expect(await h.isPossible(zero, full, 65_535, 65_535, 5_000)).to.equal(true);
      expect(await h.isPossible(zero, { ...full, energyJ: MAX64 }, 65_535, 65_535, 5_000)).to.equal(false);
    });
  });

  describe("interpolate", function () {
    it("is linear between the readings, each counter rounded down on its own", async function () {
      const h = await loadFixture(harnessFixture);
      const later = after(3n, 1n, 2n, 3n);
      // 1 / 3 of the way: +0.33 -> 0, +0.67 -> 0, +1.
      expect(asMeter(await h.interpolate(E, later, 1_001n))).to.deep.equal({
        timestamp: 1_001n,
        busyGpuSeconds: 100n,
        availableGpuSeconds: 200n,
        energyJ: 301n,
      });
      // 2 / 3: +0.67 -> 0, +1.33 -> 1, +2.
      expect(asMeter(await h.interpolate(E, later, 1_002n))).to.deep.equal({
        timestamp: 1_002n,
        busyGpuSeconds: 100n,
        availableGpuSeconds: 201n,
        energyJ: 302n,
      });
      expect(asMeter(await h.interpolate(E, later, 1_003n))).to.deep.equal(later);
    });

    it("handles the widest counters and spans without overflow", async function () {
      const h = await loadFixture(harnessFixture);
      const zero = { timestamp: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n };
      const top = { timestamp: MAX64, busyGpuSeconds: MAX64, availableGpuSeconds: MAX64, energyJ: MAX64 };
      const mid = asMeter(await h.interpolate(zero, top, 1n << 63n));
      expect(mid).to.deep.equal({
        timestamp: 1n << 63n,
        busyGpuSeconds: 1n << 63n,
        availableGpuSeconds: 1n << 63n,
        energyJ: 1n << 63n,
      });
      expect(asMeter(await h.interpolate(zero, top, MAX64 - 1n)).energyJ).to.equal(MAX64 - 1n);
    });
  });
});
