import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SettlementMathHarness__factory } from "../../typechain-types";

/**
 * SettlementMath against an independent bigint reference model: hand-picked edge cases plus a
 * deterministic pseudo-random sweep. Every rounding must favour the lessee.
 */

const HOUR = 3600n;
const BPS = 10_000n;
const U64 = 2n ** 64n - 1n;
const U96 = 2n ** 96n - 1n;

interface MeterIn {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}
interface TermsIn {
  token: string;
  minDurationSeconds: bigint;
  slaAvailabilityBps: bigint;
  earlyEndAllowed: boolean;
  reservationPricePerGpuHour: bigint;
  usagePricePerBusyGpuHour: bigint;
  maxDurationSeconds: bigint;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);
const ceilDiv = (a: bigint, b: bigint) => (a === 0n ? 0n : (a - 1n) / b + 1n);

/** Reference model, written from the spec in docs/escrow.md, not from the Solidity. */
const model = {
  overlap(from: bigint, to: bigint, start: bigint, end: bigint): bigint {
    const lo = max(from, start);
    const hi = min(to, end);
    return hi > lo ? hi - lo : 0n;
  },
  fee(delta: bigint, billed: bigint, window: bigint, price: bigint): bigint {
    return window === 0n ? 0n : (delta * billed * price) / (window * HOUR);
  },
  availability(avail: bigint, gpus: bigint, window: bigint): bigint {
    const capacity = gpus * window;
    if (capacity === 0n) return 0n;
    return min((avail * BPS) / capacity, BPS);
  },
  credit(gross: bigint, availability: bigint, target: bigint): bigint {
    return availability >= target ? 0n : ceilDiv(gross * (target - availability), target);
  },
  window(from: MeterIn, to: MeterIn, start: bigint, end: bigint, gpus: bigint, terms: TermsIn) {
    if (to.timestamp <= from.timestamp) {
      return { billedSeconds: 0n, availabilityBps: 0n, reservationFee: 0n, usageFee: 0n, slaCredit: 0n, netCharge: 0n };
    }
    const window = to.timestamp - from.timestamp;
    const busy = max(to.busyGpuSeconds - from.busyGpuSeconds, 0n);
    const avail = max(to.availableGpuSeconds - from.availableGpuSeconds, 0n);
    const billedSeconds = model.overlap(from.timestamp, to.timestamp, start, end);
    const availabilityBps = model.availability(avail, gpus, window);
    const reservationFee = model.fee(avail, billedSeconds, window, terms.reservationPricePerGpuHour);
    const usageFee = model.fee(busy, billedSeconds, window, terms.usagePricePerBusyGpuHour);
    const slaCredit = model.credit(reservationFee + usageFee, availabilityBps, terms.slaAvailabilityBps);
    return {
      billedSeconds,
      availabilityBps,
      reservationFee,
      usageFee,
      slaCredit,
      netCharge: reservationFee + usageFee - slaCredit,
    };
  },
};

/** Small deterministic PRNG (xorshift64*) so the sweep is reproducible. */
function rng(seed: bigint) {
  let x = seed;
  const next = (): bigint => {
    x ^= x >> 12n;
    x ^= (x << 25n) & U64;
    x ^= x >> 27n;
    return (x * 2685821657736338717n) & U64;
  };
  return (bound: bigint) => (bound === 0n ? 0n : next() % bound);
}

function meter(timestamp: bigint, busy: bigint, avail: bigint): MeterIn {
  return { timestamp, busyGpuSeconds: busy, availableGpuSeconds: avail, energyJ: 0n };
}

function terms(reservation: bigint, usage: bigint, sla: bigint): TermsIn {
  return {
    token: ethers.ZeroAddress,
    minDurationSeconds: 1n,
    slaAvailabilityBps: sla,
    earlyEndAllowed: false,
    reservationPricePerGpuHour: reservation,
    usagePricePerBusyGpuHour: usage,
    maxDurationSeconds: 1n,
  };
}

describe("SettlementMath", function () {
  async function harnessFixture() {
    const [deployer] = await ethers.getSigners();
    const harness = await new SettlementMathHarness__factory(deployer).deploy();
    return { harness };
  }

  describe("overlapSeconds", function () {
    const cases: [bigint, bigint, bigint, bigint, bigint, string][] = [
      [100n, 200n, 0n, 1000n, 100n, "window fully inside the lease"],
      [100n, 200n, 150n, 1000n, 50n, "window starts before the lease"],
      [100n, 200n, 0n, 150n, 50n, "window ends after the lease"],
      [100n, 200n, 120n, 180n, 60n, "lease fully inside the window"],
      [100n, 200n, 200n, 300n, 0n, "window ends exactly at the lease start"],
      [100n, 200n, 0n, 100n, 0n, "window starts exactly at the lease end"],
      [100n, 200n, 300n, 400n, 0n, "window before the lease"],
      [500n, 600n, 300n, 400n, 0n, "window after the lease"],
      [100n, 100n, 0n, 1000n, 0n, "empty window"],
      [0n, U64, 0n, U64, U64, "the whole uint64 range"],
    ];
    for (const [from, to, start, end, expected, name] of cases) {
      it(`returns ${expected} for ${name}`, async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.overlapSeconds(from, to, start, end)).to.equal(expected);
        expect(model.overlap(from, to, start, end)).to.equal(expected);
      });
    }
  });

  describe("proRataFee", function () {
    it("charges a full GPU-hour at the hourly price", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.proRataFee(3600n, 600n, 600n, 2_000_000n)).to.equal(2_000_000n);
    });

    it("scales the delta by billed ÷ window seconds", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // 7200 GPU-s over 1000 s, 250 s billed: 1800 GPU-s at 1 USDC/h = 0.5 USDC.
      expect(await harness.proRataFee(7200n, 250n, 1000n, 1_000_000n)).to.equal(500_000n);
    });

    it("rounds down in the lessee's favour", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // 1 GPU-s at 3599 per hour is 0.9997 base units: nothing is charged.
      expect(await harness.proRataFee(1n, 1n, 1n, 3599n)).to.equal(0n);
      // 1 GPU-s at 7199 per hour is 1.9997: one base unit.
      expect(await harness.proRataFee(1n, 1n, 1n, 7199n)).to.equal(1n);
    });

    it("returns zero for an empty window", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.proRataFee(1000n, 0n, 0n, 1_000_000n)).to.equal(0n);
    });

    it("does not overflow at the largest stored values", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.proRataFee(U64, U64, U64, U96)).to.equal(model.fee(U64, U64, U64, U96));
    });
  });

  describe("availabilityBps", function () {
    it("is 10000 when every GPU was available the whole window", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.availabilityBps(8n * 600n, 8, 600n)).to.equal(10_000n);
    });

    it("rounds down in the lessee's favour", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // 2 of 3 GPU-seconds: 6666.67 bps -> 6666.
      expect(await harness.availabilityBps(2n, 3, 1n)).to.equal(6666n);
    });

    it("caps at 10000", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.availabilityBps(100n, 1, 10n)).to.equal(10_000n);
    });

    it("is zero when the capacity is zero", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.availabilityBps(100n, 0, 10n)).to.equal(0n);
      expect(await harness.availabilityBps(100n, 4, 0n)).to.equal(0n);
    });
  });

  describe("slaCredit", function () {
    it("is zero at or above the target", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.slaCredit(1_000_000n, 9900, 9900)).to.equal(0n);
      expect(await harness.slaCredit(1_000_000n, 10_000, 9900)).to.equal(0n);
    });

    it("is zero when the target is zero", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.slaCredit(1_000_000n, 0, 0)).to.equal(0n);
    });

    it("grows linearly with the shortfall below the target", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // Target 10000, availability 7500: a quarter of the fee.
      expect(await harness.slaCredit(1_000_000n, 7500, 10_000)).to.equal(250_000n);
      // Availability zero: the whole fee.
      expect(await harness.slaCredit(1_000_000n, 0, 9500)).to.equal(1_000_000n);
    });

    it("rounds up in the lessee's favour", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // 10 × 1 / 3 = 3.33 -> 4.
      expect(await harness.slaCredit(10n, 2, 3)).to.equal(4n);
    });
  });

  describe("priceWindow", function () {
    it("prices a window inside the lease: reservation + usage, no credit above target", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // 8 GPUs, one hour, 7.92 GPU-hours available (99 %), 4 GPU-hours busy.
      const from = meter(1000n, 50_000n, 80_000n);
      const to = meter(4600n, 50_000n + 4n * 3600n, 80_000n + 28_512n);
      const t = terms(2_000_000n, 1_000_000n, 9900n);
      const r = await harness.priceWindow(from, to, 0n, 100_000n, 8, t);
      expect(r.billedSeconds).to.equal(3600n);
      expect(r.availabilityBps).to.equal(9900n);
      expect(r.reservationFee).to.equal(15_840_000n);
      expect(r.usageFee).to.equal(4_000_000n);
      expect(r.slaCredit).to.equal(0n);
      expect(r.netCharge).to.equal(19_840_000n);
    });

    it("credits the lessee when availability is below the SLA target", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // 4 GPUs, one hour, 2 GPU-hours available (50 %), 1 busy; target 10000 -> half the fees back.
      const from = meter(0n + 1n, 0n, 0n);
      const to = meter(3601n, 3600n, 7200n);
      const r = await harness.priceWindow(from, to, 0n, 10_000n, 4, terms(1_000_000n, 3_000_000n, 10_000n));
      expect(r.availabilityBps).to.equal(5000n);
      expect(r.reservationFee).to.equal(2_000_000n);
      expect(r.usageFee).to.equal(3_000_000n);
      expect(r.slaCredit).to.equal(2_500_000n);
      expect(r.netCharge).to.equal(2_500_000n);
    });

    it("bills only the part of the window inside the lease, pro rata", async function () {
      const { harness } = await loadFixture(harnessFixture);
      // Window 1000..2000 (1000 s), lease ends at 1250: a quarter of the deltas.
      const from = meter(1000n, 0n, 0n);
      const to = meter(2000n, 2000n, 4000n);
      const r = await harness.priceWindow(from, to, 500n, 1250n, 4, terms(3_600_000n, 3_600_000n, 0n));
      expect(r.billedSeconds).to.equal(250n);
      expect(r.reservationFee).to.equal(1_000_000n); // 1000 GPU-s × 1000 per GPU-s
      expect(r.usageFee).to.equal(500_000n); // 500 GPU-s
    });

    it("bills nothing for a window entirely outside the lease", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const r = await harness.priceWindow(
        meter(5000n, 0n, 0n),
        meter(6000n, 1000n, 1000n),
        0n,
        5000n,
        1,
        terms(1_000_000n, 1_000_000n, 9000n),
      );
      expect(r.billedSeconds).to.equal(0n);
      expect(r.netCharge).to.equal(0n);
      expect(r.slaCredit).to.equal(0n);
    });

    it("bills nothing when the newest meter is not newer than the last settled one", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const r = await harness.priceWindow(
        meter(5000n, 10n, 10n),
        meter(5000n, 20n, 20n),
        0n,
        10_000n,
        1,
        terms(1_000_000n, 1_000_000n, 0n),
      );
      expect(r.netCharge).to.equal(0n);
      expect(r.billedSeconds).to.equal(0n);
    });

    it("treats counters that went backwards as zero", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const r = await harness.priceWindow(
        meter(0n + 10n, 500n, 500n),
        meter(3610n, 100n, 100n),
        0n,
        10_000n,
        1,
        terms(1_000_000n, 1_000_000n, 0n),
      );
      expect(r.reservationFee).to.equal(0n);
      expect(r.usageFee).to.equal(0n);
    });

    it("matches the reference model on a pseudo-random sweep, never charging more than full use", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const rand = rng(0x9e3779b97f4a7c15n);
      for (let i = 0; i < 150; i++) {
        const gpus = 1n + rand(64n);
        const t0 = 1_700_000_000n + rand(1_000_000n);
        const window = 1n + rand(i % 3 === 0 ? 10n : 200_000n);
        const t1 = t0 + window;
        const avail = rand(gpus * window + 1n);
        const busy = rand(avail + 1n);
        const b0 = rand(2n ** 40n);
        const a0 = b0 + rand(2n ** 40n);
        const start = t0 - 50_000n + rand(100_000n + window);
        const end = start + rand(300_000n);
        const tt = terms(rand(10n ** 9n), rand(10n ** 9n), rand(BPS + 1n));
        const from = meter(t0, b0, a0);
        const to = meter(t1, b0 + busy, a0 + avail);
        const got = await harness.priceWindow(from, to, start, end, gpus, tt);
        const want = model.window(from, to, start, end, gpus, tt);
        expect(got.billedSeconds, `case ${i}`).to.equal(want.billedSeconds);
        expect(got.availabilityBps, `case ${i}`).to.equal(want.availabilityBps);
        expect(got.reservationFee, `case ${i}`).to.equal(want.reservationFee);
        expect(got.usageFee, `case ${i}`).to.equal(want.usageFee);
        expect(got.slaCredit, `case ${i}`).to.equal(want.slaCredit);
        expect(got.netCharge, `case ${i}`).to.equal(want.netCharge);
        // Never more than every GPU busy and available for every billed second.
        const ceiling =
          (gpus * want.billedSeconds * (tt.reservationPricePerGpuHour + tt.usagePricePerBusyGpuHour)) / HOUR;
        expect(got.netCharge <= ceiling, `case ${i}`).to.equal(true);
        expect(got.slaCredit <= got.reservationFee + got.usageFee, `case ${i}`).to.equal(true);
      }
    });

    it("bills two adjacent windows no more than one window over both (splitting never costs the lessee)", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const rand = rng(12345n);
      for (let i = 0; i < 40; i++) {
        const t0 = 1000n;
        const t1 = t0 + 1n + rand(10_000n);
        const t2 = t1 + 1n + rand(10_000n);
        const m0 = meter(t0, 0n, 0n);
        const a1 = rand((t1 - t0) * 4n + 1n);
        const m1 = meter(t1, rand(a1 + 1n), a1);
        const a2 = a1 + rand((t2 - t1) * 4n + 1n);
        const m2 = meter(t2, m1.busyGpuSeconds + rand(a2 - a1 + 1n), a2);
        const tt = terms(1_000_000n + rand(10n ** 7n), rand(10n ** 7n), 0n);
        const whole = await harness.priceWindow(m0, m2, 0n, 10n ** 9n, 4, tt);
        const p1 = await harness.priceWindow(m0, m1, 0n, 10n ** 9n, 4, tt);
        const p2 = await harness.priceWindow(m1, m2, 0n, 10n ** 9n, 4, tt);
        expect(p1.netCharge + p2.netCharge <= whole.netCharge, `case ${i}`).to.equal(true);
      }
    });
  });

  describe("fullHourCost", function () {
    it("is gpuCount × (reservation + usage price)", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.fullHourCost(8, 2_000_000n, 1_000_000n)).to.equal(24_000_000n);
      expect(await harness.fullHourCost(0, 2_000_000n, 1_000_000n)).to.equal(0n);
    });
  });
});
