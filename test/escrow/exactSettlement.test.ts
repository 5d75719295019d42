/**
 * The properties of issue 13 ("exact settlement"), each a named test against the real oracle, real
 * signed batches and proofs rebuilt from chain data by `src/meterHistory.ts`:
 *   1. cadence independence, 2. no double billing, 3. late close, 4. pause, 5. isolation,
 *   6. accounting and solvency still hold, every lease closes.
 * The expected bills are computed independently from the same meters with the TypeScript mirror of
 * `SettlementMath` (`src/core/billing.ts`) and the oracle's interpolation rules (`meterAtTime`).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  DAY,
  DISPUTE_WINDOW,
  GPUS,
  HOUR,
  MockUSDC__factory,
  TDP_WATTS,
  USDC,
  deployCore,
  expectSolvent,
  termsFor,
} from "./helpers";
import { leaseBill, type BillingTerms } from "../../src/core/billing";
import { meterAtTime, type MeteringSpec } from "../../src/meterHistory";
import type { Values } from "../helpers/oracleRig";

/** 0.30 USDC per kWh: energy is billed in every scenario here. */
const ENERGY_PRICE = 300_000n;
const SPEC: MeteringSpec = { gpuCount: GPUS, tdpWattsPerGpu: TDP_WATTS, energyMarginBps: 1_000n };

/** A small deterministic PRNG (mulberry32), so every run replays the same "random" cases. */
function rng(seed: number) {
  let a = seed >>> 0;
  return (lo: number, hi: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + Math.floor(u * (hi - lo + 1));
  };
}

async function fixture() {
  const core = await deployCore();
  const { admin, provider, lessee, other, escrow, assetId } = core;
  const usdc = await new MockUSDC__factory(admin).deploy();
  await escrow.setTokenAllowed(await usdc.getAddress(), true);
  await escrow
    .connect(provider)
    .setLeaseTerms(assetId, termsFor(await usdc.getAddress(), { energyPricePerKWh: ENERGY_PRICE }));
  for (const who of [lessee, other]) {
    await usdc.mint(who.address, 1_000_000n * USDC);
    await usdc.connect(who).approve(await escrow.getAddress(), ethers.MaxUint256);
  }
  const terms = await escrow.leaseTermsOf(assetId);
  const billingTerms: BillingTerms = {
    reservationPricePerGpuHour: terms.reservationPricePerGpuHour,
    usagePricePerBusyGpuHour: terms.usagePricePerBusyGpuHour,
    energyPricePerKWh: terms.energyPricePerKWh,
    slaAvailabilityBps: terms.slaAvailabilityBps,
  };
  const t0 = BigInt(await time.latest()) + 100n;
  return { ...core, usdc, billingTerms, t0 };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/**
 * The fixture with `t0` taken after the snapshot is restored: block times keep following the wall clock
 * after a restore (the restored latest block does not show it until a block is mined), so a `t0` cached
 * with the snapshot can already be in the past in a long run.
 */
async function freshFixture(): Promise<Fixture> {
  const f = await loadFixture(fixture);
  await mine(); // the first block after a restore is where the clock has moved to
  return { ...f, t0: BigInt(await time.latest()) + 100n };
}

/** A reading schedule: at each time, the fraction (bps) of the elapsed capacity available and busy. */
interface Step {
  at: bigint;
  availableBps: bigint;
  busyBps: bigint;
  watts: bigint;
}

/** Readings every 10 to 60 minutes from `from` to `to`, with random load, an outage and idle spells. */
function randomSchedule(next: ReturnType<typeof rng>, from: bigint, to: bigint): Step[] {
  const steps: Step[] = [];
  for (let at = from; at <= to; at += BigInt(next(600, 3600))) {
    const outage = next(0, 9) === 0;
    const availableBps = outage ? BigInt(next(0, 5_000)) : 10_000n;
    const busyBps = (availableBps * BigInt(next(0, 10_000))) / 10_000n;
    steps.push({ at, availableBps, busyBps, watts: BigInt(next(100, 700)) });
  }
  return steps;
}

/** Everything that happens on the chain, in time order. */
type Action =
  | { at: bigint; kind: "read"; step: Step }
  | { at: bigint; kind: "open"; durationSeconds: bigint; deposit: bigint }
  | { at: bigint; kind: "settle" }
  | { at: bigint; kind: "close" }
  | { at: bigint; kind: "pause" }
  | { at: bigint; kind: "unpause" }
  | { at: bigint; kind: "endByLessee" };

/** Runs `actions` (distinct times, ascending) against lease 1; settle attempts that bill nothing are skipped. */
async function play(f: Fixture, actions: Action[]) {
  const leaseId = 1n;
  for (const a of [...actions].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0))) {
    if (a.kind === "read") {
      await f.rig.postUse(f.assetId, a.at, GPUS, a.step.availableBps, a.step.busyBps, a.step.watts);
      continue;
    }
    await time.setNextBlockTimestamp(a.at);
    if (a.kind === "open") {
      await f.escrow.connect(f.lessee).openLease(f.assetId, 1, a.durationSeconds, a.deposit);
    } else if (a.kind === "settle") {
      const p = await f.keeper.proofs(leaseId, a.at);
      const lease = await f.escrow.leaseOf(leaseId);
      const preview = p && !lease.closed ? await f.escrow.previewBill(leaseId, p.start, p.point) : undefined;
      if (p && preview && (preview.chargeable > 0n || !lease.startMetered)) {
        await f.escrow.connect(f.other).settle(leaseId, p.start, p.point);
      } else {
        await ethers.provider.send("evm_mine", []); // keep the planned time line
      }
    } else if (a.kind === "close") {
      await f.keeper.close(leaseId, f.other, a.at);
    } else if (a.kind === "pause") {
      await f.escrow.connect(f.pauser).pause();
    } else if (a.kind === "unpause") {
      await f.escrow.connect(f.pauser).unpause();
    } else {
      await f.escrow.connect(f.lessee).endByLessee(leaseId);
    }
  }
  return f.escrow.accountingOf(leaseId);
}

/** The bill of a lease computed off chain from the chain's meters: interpolated at its start and end. */
async function expectedBill(f: Fixture, leaseId: bigint) {
  const lease = await f.escrow.leaseOf(leaseId);
  const history = await f.rig.history();
  const start = meterAtTime(history, f.assetId, lease.startTime, SPEC, "upper")!;
  const end = meterAtTime(history, f.assetId, lease.endTime, SPEC, "lower")!;
  return leaseBill(start, end, lease.endTime - lease.startTime, GPUS, TDP_WATTS, f.billingTerms);
}

describe("SettlementEscrow: exact settlement (issue 13 properties)", function () {
  describe("1. cadence independence", function () {
    for (const seed of [1, 2, 3, 4]) {
      it(`charges the same bill to the unit whoever settles, however often and late (random case ${seed})`, async function () {
        const f = await freshFixture();
        const next = rng(seed);
        const start = f.t0 + BigInt(next(60, 3000));
        const duration = BigInt(next(1, 3)) * DAY + BigInt(next(0, 7200));
        const end = start + duration;
        const reads: Action[] = randomSchedule(next, f.t0, end + 2n * HOUR).map((step) => ({
          at: step.at,
          kind: "read",
          step,
        }));
        const taken = new Set(reads.map((r) => r.at));
        const free = (at: bigint) => {
          while (taken.has(at)) at += 1n;
          taken.add(at);
          return at;
        };
        const open: Action = { at: free(start), kind: "open", durationSeconds: duration, deposit: 100_000n * USDC };
        const snapshot = await takeSnapshot();
        const totals: bigint[] = [];
        for (let cadence = 0; cadence < 3; cadence++) {
          await snapshot.restore();
          // Cadence 0: close only; 1: settle every few hours; 2: random settles and a very late close.
          const settles: Action[] = [];
          const count = cadence === 0 ? 0 : cadence === 1 ? 12 : next(3, 20);
          for (let i = 0; i < count; i++) {
            const at =
              cadence === 1
                ? start + DISPUTE_WINDOW + BigInt(i) * 6n * HOUR
                : start + BigInt(next(3600, Number(duration + DISPUTE_WINDOW * 2n)));
            settles.push({ at: free(at), kind: "settle" });
          }
          const closeAt = end + 2n * HOUR + DISPUTE_WINDOW + (cadence === 2 ? 30n * DAY : BigInt(cadence) * HOUR);
          const accounting = await play(f, [...reads, open, ...settles, { at: free(closeAt), kind: "close" }]);
          totals.push(accounting.charged);
          const settled = await f.escrow.queryFilter(f.escrow.filters.LeaseSettled(1n));
          // The close emits one LeaseSettled; the regular cadence settles every 6 h, the random one at least once.
          if (cadence === 1) expect(settled.length, "interim settlements ran").to.be.greaterThan(4);
          if (cadence === 2) expect(settled.length, "interim settlements ran").to.be.greaterThan(1);
          await expectSolvent(f.escrow, f.usdc, [f.lessee.address, f.provider.address]);
        }
        const expected = await expectedBill(f, 1n);
        expect(expected.total, "the bill is not trivial").to.be.greaterThan(0n);
        expect(totals).to.deep.equal([expected.total, expected.total, expected.total]);
      });
    }
  });

  describe("2. no double billing", function () {
    it("bills an idle day and the busy day after it only for their own meters, in whatever order they close", async function () {
      const f = await freshFixture();
      const { escrow, lessee, other, rig, assetId, keeper } = f;
      await rig.postUse(assetId, f.t0, GPUS, 10_000n, 0n);
      const startA = f.t0 + 600n;
      await time.setNextBlockTimestamp(startA);
      await escrow.connect(lessee).openLease(assetId, 1, DAY, 10_000n * USDC);
      // Lease A: idle (available, not busy), readings every 6 h; one reading exactly at its end.
      for (let h = 6n; h <= 24n; h += 6n) await rig.postUse(assetId, startA + h * HOUR, GPUS, 10_000n, 0n);
      // Lease B opens right at A's end: every GPU busy for 24 h.
      const startB = startA + DAY + 1n;
      await time.setNextBlockTimestamp(startB);
      await escrow.connect(other).openLease(assetId, 1, DAY, 10_000n * USDC);
      for (let h = 6n; h <= 24n; h += 6n) await rig.postUse(assetId, startB + h * HOUR, GPUS, 10_000n, 10_000n);
      await rig.postUse(assetId, startB + DAY + HOUR, GPUS, 10_000n, 10_000n);
      // Close B first, then A (a day late): each from its own boundary meters.
      const at = startB + DAY + HOUR + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      await keeper.close(2n, other, at);
      await time.setNextBlockTimestamp(at + DAY);
      await keeper.close(1n, other, at + DAY);
      const [a, b] = [await expectedBill(f, 1n), await expectedBill(f, 2n)];
      expect(a.usageFee, "the idle lease pays no usage").to.equal(0n);
      // B: 8 GPUs x 24 h busy x 1 USDC (the one second between A's end and B's start is billed to nobody).
      expect(b.usageFee).to.equal((GPUS * DAY * USDC) / HOUR);
      expect((await escrow.accountingOf(1n)).charged).to.equal(a.total);
      expect((await escrow.accountingOf(2n)).charged).to.equal(b.total);
      // Together never more GPU-seconds than the meters show from A's start to B's end.
      const available = ((a.reservationFee + b.reservationFee) * HOUR) / (2n * USDC);
      expect(available).to.be.at.most(GPUS * (startB + DAY - startA));
      await expectSolvent(escrow, f.usdc, [lessee.address, other.address, f.provider.address]);
    });
  });

  describe("3. late close", function () {
    it("gives the same bill a month late as right after the first reading past the end", async function () {
      const f = await freshFixture();
      const { escrow, lessee, rig, assetId, keeper, other } = f;
      await rig.postUse(assetId, f.t0, GPUS, 10_000n, 0n);
      const start = f.t0 + 60n;
      await time.setNextBlockTimestamp(start);
      await escrow.connect(lessee).openLease(assetId, 1, DAY, 10_000n * USDC);
      for (let h = 4n; h <= 28n; h += 4n)
        await rig.postUse(assetId, start + h * HOUR - 7n, GPUS, 10_000n, 10_000n, 650n);
      const firstPastEnd = start + 28n * HOUR - 7n;
      const snapshot = await takeSnapshot();
      const prompt = firstPastEnd + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(prompt);
      await keeper.close(1n, other, prompt);
      const promptly = (await escrow.accountingOf(1n)).charged;
      await snapshot.restore();
      const late = firstPastEnd + 30n * DAY;
      await time.setNextBlockTimestamp(late);
      await keeper.close(1n, other, late);
      expect((await escrow.accountingOf(1n)).charged).to.equal(promptly);
      // A day of full use: 8 GPUs x 24 h x (2 + 1) USDC plus energy, no SLA credit.
      const bill = await expectedBill(f, 1n);
      expect(bill.reservationFee + bill.usageFee).to.equal(576n * USDC);
      expect(promptly).to.equal(bill.total);
    });
  });

  describe("4. pause", function () {
    it("bills a lease that ends (early) and closes while the escrow is paused exactly as without the pause", async function () {
      const f = await freshFixture();
      const { escrow, lessee, rig, assetId } = f;
      await rig.postUse(assetId, f.t0, GPUS, 10_000n, 0n);
      const start = f.t0 + 30n;
      const steps = randomSchedule(rng(7), start + 1_000n, start + 2n * DAY);
      const reads: Action[] = steps.map((step) => ({ at: step.at, kind: "read", step }));
      const base: Action[] = [
        ...reads,
        { at: start, kind: "open", durationSeconds: 3n * DAY, deposit: 100_000n * USDC },
        { at: start + DAY + 17n, kind: "endByLessee" },
        { at: start + DAY + 17n + 2n * DAY, kind: "close" },
      ];
      const snapshot = await takeSnapshot();
      const plain = (await play(f, base)).charged;
      await snapshot.restore();
      const paused = await play(f, [
        ...base,
        { at: start + DAY, kind: "pause" },
        { at: start + DAY + 17n + 3n * DAY, kind: "unpause" },
      ]);
      expect(paused.charged).to.equal(plain);
      expect(plain).to.equal((await expectedBill(f, 1n)).total);
      void lessee;
    });
  });

  describe("5. isolation", function () {
    it("settles a lease from a batch whose reading of another asset is physically impossible", async function () {
      const f = await freshFixture();
      const { escrow, lessee, rig, assetId, keeper, other, nft, provider } = f;
      await nft.mint(provider.address, {
        gpuModel: "NVIDIA L4",
        datacenter: "eu-west-fra2",
        serialsHash: ethers.id("serials-2"),
        vramMiBPerGpu: 23_034,
        gpuCount: 1,
        tdpWattsPerGpu: 72,
      });
      const both = (busy: bigint, other2: Values) =>
        new Map<bigint, Values>([
          [
            assetId,
            { busyGpuSeconds: busy, availableGpuSeconds: 10_000_000n + busy, energyJ: 5_000_000n + busy * 500n },
          ],
          [2n, other2],
        ]);
      await rig.post(f.t0, both(0n, { busyGpuSeconds: 100n, availableGpuSeconds: 200n, energyJ: 300n }));
      const start = f.t0 + 60n;
      await time.setNextBlockTimestamp(start);
      await escrow.connect(lessee).openLease(assetId, 1, HOUR, 100n * USDC);
      // Asset 2's next reading goes backwards (impossible); asset 1's is fine.
      await rig.post(
        start + HOUR + 60n,
        both(GPUS * (HOUR + 120n), { busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n }),
      );
      const at = start + HOUR + 60n + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      await keeper.close(1n, other, at);
      const bill = await expectedBill(f, 1n);
      expect(bill.usageFee).to.equal((GPUS * HOUR * USDC) / HOUR);
      expect((await escrow.accountingOf(1n)).charged).to.equal(bill.total);
    });
  });
});
