import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SettlementMathHarness__factory } from "../../typechain-types";
import { billArgs, billOf, type BillMeter, type BillTerms } from "./helpers";

/**
 * SettlementMath (through SettlementMathHarness) against an independent bigint model written from its
 * NatSpec (`billOf` in ./helpers.ts): hand-picked edge cases, then deterministic pseudo-random sweeps
 * of the properties settlement relies on: every rounding favours the lessee, the bill never exceeds
 * full use, the bill only grows with the meter at the point (and as the lease shortens), and full use
 * is superadditive. The forge fuzz suite (test/foundry/fuzz/SettlementMath.fuzz.t.sol) checks the same
 * properties on random inputs.
 */

const HOUR = 3600n;
const BPS = 10_000n;
const U48 = 2n ** 48n - 1n;
const U64 = 2n ** 64n - 1n;
const U96 = 2n ** 96n - 1n;
const USDC = 1_000_000n;

/** `StoredLeaseTerms` as the harness takes it. */
function stored(t: Partial<BillTerms> = {}) {
  return {
    token: ethers.ZeroAddress,
    slaAvailabilityBps: t.slaAvailabilityBps ?? 0n,
    earlyEndAllowed: false,
    energyPricePerKWh: t.energyPricePerKWh ?? 0n,
    curtailable: false,
    reservationPricePerGpuHour: t.reservationPricePerGpuHour ?? 2n * USDC,
    usagePricePerBusyGpuHour: t.usagePricePerBusyGpuHour ?? 1n * USDC,
    minDurationSeconds: 1n,
    maxDurationSeconds: 1n,
  };
}

function asTerms(s: ReturnType<typeof stored>): BillTerms {
  return {
    reservationPricePerGpuHour: s.reservationPricePerGpuHour,
    usagePricePerBusyGpuHour: s.usagePricePerBusyGpuHour,
    energyPricePerKWh: s.energyPricePerKWh,
    slaAvailabilityBps: s.slaAvailabilityBps,
  };
}

function meter(timestamp: bigint, busy: bigint, available: bigint, energy = 0n): BillMeter {
  return { timestamp, busyGpuSeconds: busy, availableGpuSeconds: available, energyJ: energy };
}

/** `SettlementMath.fullUseCost`, from its NatSpec: every GPU available and busy, the most energy. */
function fullUseModel(gpus: bigint, tdp: bigint, t: BillTerms, seconds: bigint): bigint {
  const gpuSeconds = gpus * seconds;
  const energy = (gpus * tdp * seconds * 15_000n) / BPS;
  return (
    (gpuSeconds * t.reservationPricePerGpuHour) / HOUR +
    (gpuSeconds * t.usagePricePerBusyGpuHour) / HOUR +
    (energy * t.energyPricePerKWh) / 3_600_000n
  );
}

/** Small deterministic PRNG (xorshift64*) so the sweeps are reproducible. */
function rng(seed: bigint) {
  let x = seed;
  return (bound: bigint): bigint => {
    x ^= x >> 12n;
    x ^= (x << 25n) & U64;
    x ^= x >> 27n;
    const r = (x * 2685821657736338717n) & U64;
    return bound === 0n ? 0n : r % bound;
  };
}

describe("SettlementMath", function () {
  async function harnessFixture() {
    const [deployer] = await ethers.getSigners();
    return { harness: await new SettlementMathHarness__factory(deployer).deploy() };
  }

  describe("leaseBill", function () {
    async function billed(
      start: BillMeter,
      point: BillMeter,
      leaseSeconds: bigint,
      gpus: bigint,
      tdp: bigint,
      t = stored(),
    ) {
      const { harness } = await loadFixture(harnessFixture);
      const onChain = await harness.leaseBill(start, point, leaseSeconds, gpus, tdp, t);
      const expected = billOf(start, point, leaseSeconds, gpus, tdp, asTerms(t));
      expect([...onChain]).to.deep.equal(billArgs(expected));
      return expected;
    }

    it("bills a day of full use on 8 GPUs at 2 + 1 USDC per GPU-hour: 576 USDC, 100 % available, no credit", async function () {
      const b = await billed(
        meter(0n, 0n, 0n),
        meter(86_400n, 8n * 86_400n, 8n * 86_400n),
        86_400n,
        8n,
        700n,
        stored({ slaAvailabilityBps: 9900n }),
      );
      expect(billArgs(b)).to.deep.equal([86_400n, 10_000n, 384n * USDC, 192n * USDC, 0n, 0n, 576n * USDC]);
    });

    it("is all zero when the point is not after the start", async function () {
      for (const pointTime of [100n, 99n]) {
        const b = await billed(meter(100n, 0n, 0n), meter(pointTime, 1_000n, 1_000n, 1_000n), 1_000n, 8n, 700n);
        expect(billArgs(b)).to.deep.equal([0n, 0n, 0n, 0n, 0n, 0n, 0n]);
      }
    });

    it("bills nothing for counters that went backwards", async function () {
      const b = await billed(
        meter(0n, 500n, 500n, 500n),
        meter(100n, 400n, 100n, 0n),
        100n,
        8n,
        700n,
        stored({ energyPricePerKWh: USDC }),
      );
      expect(billArgs(b)).to.deep.equal([100n, 0n, 0n, 0n, 0n, 0n, 0n]);
    });

    it("clamps available to gpuCount × metered seconds, busy to available and energy to TDP + 50 %", async function () {
      const t = stored({ energyPricePerKWh: 3_600_000n }); // 1 base unit per joule
      const b = await billed(meter(0n, 0n, 0n), meter(3_600n, U48, U48, U64), 3_600n, 2n, 500n, t);
      // 2 GPUs x 1 h = 7200 GPU-s; 2 x 500 W x 3600 s x 1.5 = 5.4 MJ.
      expect([b.reservationFee, b.usageFee, b.energyFee, b.availabilityBps]).to.deep.equal([
        4n * USDC,
        2n * USDC,
        5_400_000n,
        10_000n,
      ]);
      const busyOverAvailable = await billed(meter(0n, 0n, 0n), meter(3_600n, 7_200n, 3_600n), 3_600n, 2n, 500n);
      expect(busyOverAvailable.usageFee).to.equal(USDC); // busy counted only up to the 3600 available GPU-s
    });

    it("measures availability against the lease's whole time, not the metered time", async function () {
      const b = await billed(
        meter(0n, 0n, 0n),
        meter(43_200n, 0n, 8n * 43_200n),
        86_400n,
        8n,
        700n,
        stored({ slaAvailabilityBps: 9900n }),
      );
      expect(b.availabilityBps).to.equal(5_000n);
      // 192 USDC gross at 50 % against 99 %: the bill is 192 x 50 / 99 rounded down, the credit the rest.
      expect([b.slaCredit, b.total]).to.deep.equal([192n * USDC - 96_969_696n, 96_969_696n]);
    });

    it("credits the whole reservation and usage fees at zero availability, never the energy fee", async function () {
      const t = stored({ slaAvailabilityBps: 9900n, energyPricePerKWh: USDC });
      const b = await billed(meter(0n, 0n, 0n, 0n), meter(3_600n, 0n, 0n, 3_600_000n), 3_600n, 8n, 700n, t);
      expect(billArgs(b)).to.deep.equal([3_600n, 0n, 0n, 0n, USDC, 0n, USDC]);
      const some = await billed(meter(0n, 0n, 0n, 0n), meter(360_000n, 0n, 1n, 3_600_000n), 360_000n, 8n, 700n, t);
      expect([some.availabilityBps, some.slaCredit, some.total]).to.deep.equal([0n, some.reservationFee, USDC]);
    });

    it("rounds every fee down and the credit up (the lessee's favour)", async function () {
      // 1 GPU-s at 3599 per GPU-hour is 0.9997 base units: nothing; at 7199, one unit.
      const lo = await billed(
        meter(0n, 0n, 0n),
        meter(1n, 1n, 1n),
        1n,
        1n,
        1n,
        stored({ reservationPricePerGpuHour: 3_599n, usagePricePerBusyGpuHour: 7_199n }),
      );
      expect([lo.reservationFee, lo.usageFee]).to.deep.equal([0n, 1n]);
      // 1 J at 3,599,999 per kWh: nothing.
      const e = await billed(
        meter(0n, 0n, 0n, 0n),
        meter(1n, 0n, 0n, 1n),
        1n,
        1n,
        1n,
        stored({ energyPricePerKWh: 3_599_999n }),
      );
      expect(e.energyFee).to.equal(0n);
      // Gross 10 at availability 1 bps against 3 bps: 10 - floor(10 / 3) = 7 credited (6.67 rounded up).
      const c = await billed(
        meter(0n, 0n, 0n),
        meter(10_000n, 0n, 1n),
        10_000n,
        1n,
        1n,
        stored({ reservationPricePerGpuHour: 36_000n, slaAvailabilityBps: 3n }),
      );
      expect([c.reservationFee, c.availabilityBps, c.slaCredit, c.total]).to.deep.equal([10n, 1n, 7n, 3n]);
    });

    it("is zero-available for a zero GPU count or a zero lease time, without reverting", async function () {
      const zeroGpus = await billed(meter(0n, 0n, 0n), meter(100n, 100n, 100n), 100n, 0n, 700n);
      expect([zeroGpus.availabilityBps, zeroGpus.total]).to.deep.equal([0n, 0n]);
      const zeroLease = await billed(meter(0n, 0n, 0n), meter(100n, 100n, 100n), 0n, 8n, 700n);
      expect([zeroLease.availabilityBps, zeroLease.reservationFee]).to.deep.equal([0n, (100n * 2n * USDC) / HOUR]);
    });

    it("does not overflow at the widest values the escrow can pass (48-bit counters, 96/72-bit prices, 65535 GPUs)", async function () {
      const t = stored({
        reservationPricePerGpuHour: U96,
        usagePricePerBusyGpuHour: U96,
        energyPricePerKWh: U64,
        slaAvailabilityBps: 10_000n,
      });
      await billed(meter(0n, 0n, 0n, 0n), meter(U64, U48, U48, U64), U64, 65_535n, 65_535n, t);
      await billed(meter(0n, 0n, 0n, 0n), meter(2n ** 40n, U48, U48, U64), 2n ** 40n, 65_535n, 65_535n, t);
    });

    it("equals the model on 150 pseudo-random inputs", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const r = rng(0x5eedn);
      for (let i = 0; i < 150; i++) {
        const gpus = 1n + r(64n);
        const tdp = 1n + r(1_500n);
        const t0 = r(2n ** 32n);
        const metered = r(30n * 86_400n);
        const lease = metered + r(30n * 86_400n);
        const cap = gpus * metered;
        const start = meter(t0, r(U48 / 2n), r(U48 / 2n), r(U64 / 2n));
        const wild = r(4n) === 0n; // a quarter of the points lie outside physical bounds
        const available = start.availableGpuSeconds + r(wild ? cap * 2n + 2n : cap + 1n);
        const point = meter(
          t0 + metered,
          start.busyGpuSeconds + r(wild ? cap * 2n + 2n : available - start.availableGpuSeconds + 1n),
          available,
          start.energyJ + r(gpus * tdp * (metered + 1n) * 2n),
        );
        const t = stored({
          reservationPricePerGpuHour: r(10n * USDC),
          usagePricePerBusyGpuHour: r(10n * USDC),
          energyPricePerKWh: r(USDC),
          slaAvailabilityBps: r(10_001n),
        });
        const onChain = await harness.leaseBill(start, point, lease, gpus, tdp, t);
        expect([...onChain], `case ${i}`).to.deep.equal(billArgs(billOf(start, point, lease, gpus, tdp, asTerms(t))));
      }
    });

    it("never decreases as the meter at the point grows, or as the lease time shrinks (60 pseudo-random chains)", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const r = rng(0xb111n);
      for (let i = 0; i < 60; i++) {
        const gpus = 1n + r(16n);
        const t = stored({
          reservationPricePerGpuHour: r(5n * USDC),
          usagePricePerBusyGpuHour: r(5n * USDC),
          energyPricePerKWh: r(USDC),
          slaAvailabilityBps: r(10_001n),
        });
        const lease = 3_600n + r(10n * 86_400n);
        const start = meter(1_000n, r(1_000_000n), r(1_000_000n), r(1_000_000n));
        let point = { ...start, timestamp: start.timestamp + 1n + r(lease) };
        let last = 0n;
        for (let step = 0; step < 4; step++) {
          const total = (await harness.leaseBill(start, point, lease, gpus, 700n, t)).total;
          expect(total, `chain ${i} step ${step}`).to.be.gte(last);
          // An earlier end (shorter lease, same meters) never bills less.
          const shorter = (
            await harness.leaseBill(
              start,
              point,
              lease - r(lease - (point.timestamp - start.timestamp) + 1n),
              gpus,
              700n,
              t,
            )
          ).total;
          expect(shorter, `chain ${i} step ${step}: shorter lease`).to.be.gte(total);
          last = total;
          const dt = r(3_600n);
          const grownAvailable = point.availableGpuSeconds + r(gpus * (dt + 1n));
          point = {
            timestamp: point.timestamp + dt,
            availableGpuSeconds: grownAvailable,
            busyGpuSeconds: point.busyGpuSeconds + r(grownAvailable - point.availableGpuSeconds + 1n),
            energyJ: point.energyJ + r(gpus * 700n * (dt + 1n)),
          };
        }
      }
    });
  });

  describe("availabilityBps", function () {
    it("is available ÷ (gpuCount × seconds) in basis points, rounded down and capped at 10000", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.availabilityBps(8n * 600n, 8, 600n)).to.equal(10_000n);
      expect(await harness.availabilityBps(2n, 3, 1n)).to.equal(6_666n);
      expect(await harness.availabilityBps(100n, 1, 10n)).to.equal(10_000n);
      expect(await harness.availabilityBps(U64, 65_535, 1n)).to.equal(10_000n);
    });

    it("is zero when the capacity is zero", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.availabilityBps(100n, 0, 10n)).to.equal(0n);
      expect(await harness.availabilityBps(100n, 4, 0n)).to.equal(0n);
    });
  });

  describe("slaCredit", function () {
    it("is zero at or above the target and for a zero target", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.slaCredit(USDC, 9_900, 9_900)).to.equal(0n);
      expect(await harness.slaCredit(USDC, 10_000, 9_900)).to.equal(0n);
      expect(await harness.slaCredit(USDC, 0, 0)).to.equal(0n);
    });

    it("is the whole gross at zero availability and gross × shortfall ÷ target rounded up below the target", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.slaCredit(USDC, 0, 9_900)).to.equal(USDC);
      // 1,000,000 x 4900 / 9900 = 494,949.49 -> 494,950.
      expect(await harness.slaCredit(USDC, 5_000, 9_900)).to.equal(494_950n);
      expect(await harness.slaCredit(0n, 5_000, 9_900)).to.equal(0n);
    });

    it("never exceeds the gross and does not overflow at the largest gross", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const r = rng(0xc4ed17n);
      for (let i = 0; i < 40; i++) {
        const gross = r(2n ** 200n);
        const target = r(10_001n);
        const availability = r(target + 1n);
        const credit = await harness.slaCredit(gross, availability, target);
        const expected = availability >= target ? 0n : gross - (gross * availability) / target;
        expect(credit).to.equal(expected);
        expect(credit).to.be.lte(gross);
      }
      expect(await harness.slaCredit(2n ** 256n - 1n, 1, 10_000)).to.equal(
        2n ** 256n - 1n - (2n ** 256n - 1n) / 10_000n,
      );
    });
  });

  describe("fullUseCost", function () {
    it("is one hour of full use for the minimum deposit (8 GPUs, 2 + 1 USDC, 0.30 USDC/kWh at 700 W + 50 %)", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.fullUseCost(8, 700, stored(), 3_600n)).to.equal(24n * USDC);
      expect(await harness.fullUseCost(8, 700, stored({ energyPricePerKWh: 300_000n }), 3_600n)).to.equal(
        24n * USDC + 2_520_000n,
      );
      expect(await harness.fullUseCost(8, 700, stored(), 0n)).to.equal(0n);
    });

    it("bounds every bill over the same seconds from above, and is superadditive (80 pseudo-random cases)", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const r = rng(0xf011n);
      for (let i = 0; i < 80; i++) {
        const gpus = 1n + r(128n);
        const tdp = 1n + r(2_000n);
        const t = stored({
          reservationPricePerGpuHour: r(10n * USDC),
          usagePricePerBusyGpuHour: r(10n * USDC),
          energyPricePerKWh: r(USDC),
          slaAvailabilityBps: r(10_001n),
        });
        const a = r(10n * 86_400n);
        const b = r(10n * 86_400n);
        const whole = await harness.fullUseCost(gpus, tdp, t, a + b);
        expect(whole).to.equal(fullUseModel(gpus, tdp, asTerms(t), a + b));
        const parts = (await harness.fullUseCost(gpus, tdp, t, a)) + (await harness.fullUseCost(gpus, tdp, t, b));
        expect(whole, `case ${i}: superadditive`).to.be.gte(parts);
        // Any pair of meters over a + b seconds, however wrong, bills at most full use.
        const start = meter(0n, r(U48), r(U48), r(U64 / 2n));
        const point = meter(a + b, r(U48), r(U48), r(U64 / 2n));
        const bill = await harness.leaseBill(start, point, a + b + r(86_400n), gpus, tdp, t);
        expect(bill.total, `case ${i}: bill <= full use`).to.be.lte(whole);
      }
    });
  });
});
