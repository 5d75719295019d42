import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { leaseBill } from "../../src/core/billing";
import { ABSENT_BOUNDARY, meterAtTime, type MeterHistory } from "../../src/meterHistory";
import { countedEvents, previewCurtailedGpuSeconds, type IndexedEvent } from "../../src/demandResponse";
import { DISPUTE_WINDOW, EndReason, expectSolvent } from "../escrow/helpers";
import {
  DAY,
  FULL,
  GPUS,
  HOUR,
  IDLE,
  MINUTE,
  SPEC,
  TDP_WATTS,
  USDC,
  createdProgramme,
  curtailment,
  deployProgramme,
  eventParams,
  nextGridTime,
  prove,
  publishCurtailable,
  storedEvent,
  termsFor,
  time,
} from "./helpers";

const ASSETS = [1n, 2n];
const DEPOSIT = 1_000n * USDC;

type F = Awaited<ReturnType<typeof leased>>;

/**
 * A funded programme with assets 1 and 2 enrolled; #1 leased on curtailable terms (10 % off, at most
 * 2 events and 4 h per lease), #2 on plain terms, both for one day from t0 + 10 s; both fed on the
 * 15-minute grid at full load for 2 h.
 */
async function leased() {
  const f = await createdProgramme(await deployProgramme(), 1_000n * USDC, ASSETS);
  await publishCurtailable(f, 1n);
  await f.escrow.connect(f.provider).setLeaseTerms(2n, termsFor(await f.usdc.getAddress()));
  const t0 = await nextGridTime();
  await f.feeder.post(t0, new Map(ASSETS.map((a) => [a, FULL])));
  await time.setNextBlockTimestamp(t0 + 10n);
  await f.escrow.connect(f.lessee).openLease(1n, 1, DAY, DEPOSIT);
  await f.escrow.connect(f.lessee2).openLease(2n, 1, DAY, DEPOSIT);
  await f.feeder.feed(t0 + 2n * HOUR, ASSETS, () => FULL);
  return { ...f, t0, start: t0 + 10n, windows: [] as { start: bigint; end: bigint }[] };
}

/** Announces an event starting `lead` after the chain's time and lasting `duration` (both whole minutes). */
async function announce(f: F, lead: bigint, duration: bigint) {
  const notice = BigInt(await time.latest()) + 1n;
  await time.setNextBlockTimestamp(notice);
  await f.programme.connect(f.sponsor).announce(1, eventParams(notice, notice + lead, notice + lead + duration));
  const window = { start: notice + lead, end: notice + lead + duration };
  f.windows.push(window);
  return window;
}

/** Feeds both assets up to `until`: inside every announced window both idle (curtailed), else full. */
async function feed(f: F, until: bigint) {
  const inside = (t: bigint) => f.windows.some((w) => t > w.start && t <= w.end);
  await f.feeder.feed(
    until,
    ASSETS,
    (t) => (inside(t) ? IDLE : FULL),
    f.windows.flatMap((w) => [w.start, w.end]),
  );
}

/** Proves every announced event for both assets. */
async function proveAll(f: F) {
  for (let i = 1; i <= f.windows.length; i++) for (const a of ASSETS) await prove(f.programme, f.rig, 1, i, a, f.other);
}

/** The programme's events for `countedEvents`. */
async function events(f: F): Promise<IndexedEvent[]> {
  const out: IndexedEvent[] = [];
  for (let i = 1n; i <= BigInt(f.windows.length); i++)
    out.push({ eventIndex: i, event: await storedEvent(f.programme, 1, i) });
  return out;
}

/** The bill the TypeScript mirrors give for lease `leaseId` up to `point` (curtailable or not). */
async function expectedBill(f: F, history: MeterHistory, leaseId: bigint, point: bigint) {
  const lease = await f.escrow.leaseOf(leaseId);
  const terms = await f.escrow.leaseTermsAt(lease.assetId, lease.termsVersion);
  const c = await f.escrow.curtailmentTermsAt(lease.assetId, lease.termsVersion);
  const start = meterAtTime(history, lease.assetId, lease.startTime, SPEC, "upper")!;
  const at = meterAtTime(history, lease.assetId, point, SPEC, "lower")!;
  let curtailed = 0n;
  if (c.programme !== ethers.ZeroAddress) {
    const counted = countedEvents(await events(f), lease.startTime, lease.endTime, c);
    curtailed = previewCurtailedGpuSeconds(
      history,
      lease.assetId,
      SPEC,
      counted,
      { time: lease.startTime, availableGpuSeconds: start.availableGpuSeconds },
      { time: point, availableGpuSeconds: at.availableGpuSeconds },
    );
  }
  return leaseBill(start, at, lease.endTime - lease.startTime, GPUS, TDP_WATTS, terms, {
    curtailedGpuSeconds: curtailed,
    reservationDiscountBps: BigInt(c.reservationDiscountBps),
  });
}

/** Closes both leases after their end (and the dispute window). */
async function closeBoth(f: F) {
  const at = f.start + DAY + HOUR + DISPUTE_WINDOW;
  await time.setNextBlockTimestamp(at);
  await f.keeper.close(1n, f.other, at);
  await f.keeper.close(2n, f.other, at + 1n);
}

/** One event of 2 h at hours 3–5, fed to a day and an hour past the lease start, proven. */
async function oneEvent() {
  const f = await leased();
  await announce(f, HOUR, 2n * HOUR);
  await feed(f, f.start + DAY + HOUR);
  await proveAll(f);
  return f;
}

describe("SettlementEscrow with demand response", function () {
  describe("setCurtailableLeaseTerms", function () {
    it("publishes a curtailable version: LeaseTermsSet then CurtailmentTermsSet, readable with curtailmentTermsAt", async function () {
      const f = await loadFixture(deployProgramme);
      const { escrow, provider, programme, usdc } = f;
      const terms = termsFor(await usdc.getAddress());
      const c = await curtailment(programme);
      await expect(escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, c))
        .to.emit(escrow, "LeaseTermsSet")
        .withArgs(1n, 1, provider.address, Object.values(terms))
        .and.to.emit(escrow, "CurtailmentTermsSet")
        .withArgs(1n, 1, Object.values(c));
      expect(await escrow.curtailmentTermsAt(1n, 1)).to.deep.equal(Object.values(c));
      expect(await escrow.leaseTermsAt(1n, 1)).to.deep.equal(Object.values(terms));
      // Plain terms have no curtailment; the same curtailable terms again are a no-op.
      await escrow.connect(provider).setLeaseTerms(1n, terms);
      expect(await escrow.curtailmentTermsAt(1n, 2)).to.deep.equal([ethers.ZeroAddress, 0n, 0n, 0n, 0n]);
      await escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, c);
      await expect(escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, c))
        .to.be.revertedWithCustomError(escrow, "LeaseTermsUnchanged")
        .withArgs(1n);
      await expect(
        escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, { ...c, reservationDiscountBps: 0 }),
      ).to.emit(escrow, "CurtailmentTermsSet");
      expect(await escrow.currentTermsVersion(1n)).to.equal(4n);
      expect(await escrow.MAX_EVENTS_PER_LEASE()).to.equal(8n);
    });

    it("reverts ProgrammeNotAllowed for a contract without PROGRAMME_ROLE (or after its revocation), and out-of-bound caps", async function () {
      const f = await loadFixture(deployProgramme);
      const { escrow, provider, programme, usdc, admin, other } = f;
      const terms = termsFor(await usdc.getAddress());
      const c = await curtailment(programme);
      await expect(escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, { ...c, programme: other.address }))
        .to.be.revertedWithCustomError(escrow, "ProgrammeNotAllowed")
        .withArgs(other.address);
      for (const [bad, args] of [
        [{ reservationDiscountBps: 10_001 }, [10_001, 2, 14_400]],
        [{ maxEventsPerLease: 0 }, [1_000, 0, 14_400]],
        [{ maxEventsPerLease: 9 }, [1_000, 9, 14_400]],
        [{ maxEventSecondsPerLease: 0 }, [1_000, 2, 0]],
      ] as const) {
        await expect(escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, { ...c, ...bad }))
          .to.be.revertedWithCustomError(escrow, "InvalidCurtailmentTerms")
          .withArgs(...args);
      }
      await expect(escrow.connect(other).setCurtailableLeaseTerms(1n, terms, c))
        .to.be.revertedWithCustomError(escrow, "NotAssetOperator")
        .withArgs(1n, other.address);
      expect(await escrow.currentTermsVersion(1n)).to.equal(0n);
      await escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, c);
      await escrow.connect(admin).revokeRole(await escrow.PROGRAMME_ROLE(), await programme.getAddress());
      await expect(escrow.connect(provider).setCurtailableLeaseTerms(1n, terms, { ...c, maxEventsPerLease: 3 }))
        .to.be.revertedWithCustomError(escrow, "ProgrammeNotAllowed")
        .withArgs(await programme.getAddress());
      // The version already published keeps its programme.
      expect((await escrow.curtailmentTermsAt(1n, 1)).programme).to.equal(await programme.getAddress());
    });
  });

  describe("billing", function () {
    it("does not bill the reservation of the curtailed 2 h of a curtailable lease, 10 % off the rest; the plain lease is billed as without any event", async function () {
      const f = await loadFixture(oneEvent);
      const { escrow, rig, usdc, provider, lessee, lessee2 } = f;
      await closeBoth(f);
      const history = await rig.history();
      const end = f.start + DAY;
      // #1: reservation on 22 of 24 h at 2 × 0.9 USDC per GPU-hour; usage on the 22 busy hours.
      expect((await escrow.accountingOf(1n)).charged).to.equal(8n * 22n * (1_800_000n + 1_000_000n));
      expect((await escrow.accountingOf(1n)).charged).to.equal((await expectedBill(f, history, 1n, end)).total);
      // #2 was curtailed by the same event (it is enrolled), but its lease is not curtailable: full
      // reservation for 24 h, usage for its 22 busy hours.
      expect((await escrow.accountingOf(2n)).charged).to.equal(8n * (24n * 2_000_000n + 22n * 1_000_000n));
      expect((await escrow.accountingOf(2n)).charged).to.equal(
        (await expectedBill(f, history, 2n, (await escrow.leaseOf(2n)).endTime)).total,
      );
      expect((await escrow.leaseOf(1n)).endReason).to.equal(BigInt(EndReason.Expired));
      await expectSolvent(escrow, usdc, [provider.address, lessee.address, lessee2.address]);
    });

    it("bills the same total however often it is settled (before, at and after the event)", async function () {
      const f = await loadFixture(oneEvent);
      const { escrow, rig, other } = f;
      const history = await rig.history();
      const w = f.windows[0];
      const startBoundary = history.boundaryAt(1n, f.start)!.boundary;
      let at = BigInt(await time.latest()) + DISPUTE_WINDOW;
      for (const [i, time_] of [w.start - HOUR, w.start, w.start + 30n * MINUTE, w.end, w.end + HOUR].entries()) {
        // The point is the first reading at or after each time.
        const reading = history.firstAtOrAfter(1n, time_)!;
        at += 60n;
        await time.setNextBlockTimestamp(at);
        await escrow.connect(other).settle(1n, i === 0 ? startBoundary : ABSENT_BOUNDARY, history.single(reading));
        expect((await escrow.leaseOf(1n)).billed).to.equal(
          (await expectedBill(f, history, 1n, reading.meter.timestamp)).total,
        );
      }
      const last = history.firstAtOrAfter(1n, f.start + DAY)!;
      await time.setNextBlockTimestamp(at + 60n);
      await escrow.connect(other).close(1n, ABSENT_BOUNDARY, history.boundaryAt(1n, f.start + DAY)!.boundary);
      expect(last.meter.timestamp).to.be.greaterThanOrEqual(f.start + DAY);
      expect((await escrow.accountingOf(1n)).charged).to.equal(8n * 22n * 2_800_000n);
    });

    it("counts at most 2 events per lease: a third one is billed as usual", async function () {
      const f = await leased();
      for (let k = 0; k < 3; k++) {
        await announce(f, 30n * MINUTE, HOUR);
        await feed(f, f.windows[k].end + 15n * MINUTE);
      }
      await feed(f, f.start + DAY + HOUR);
      await proveAll(f);
      await closeBoth(f);
      const history = await f.rig.history();
      // Curtailed: 2 of the 3 idle hours; usage billed on the 21 busy hours.
      expect((await f.escrow.accountingOf(1n)).charged).to.equal(8n * (22n * 1_800_000n + 21n * 1_000_000n));
      expect((await f.escrow.accountingOf(1n)).charged).to.equal(
        (await expectedBill(f, history, 1n, f.start + DAY)).total,
      );
    });

    it("counts events while their whole durations stay within 4 h: one of 3 h, then one of 2 h does not count", async function () {
      const f = await leased();
      await announce(f, 30n * MINUTE, 3n * HOUR);
      await feed(f, f.windows[0].end + 15n * MINUTE);
      await announce(f, 30n * MINUTE, 2n * HOUR);
      await feed(f, f.start + DAY + HOUR);
      await proveAll(f);
      await closeBoth(f);
      expect((await f.escrow.accountingOf(1n)).charged).to.equal(8n * (21n * 1_800_000n + 19n * 1_000_000n));
    });

    it("an early end inside an event bills up to the end, without the curtailed part before it", async function () {
      const f = await leased();
      const w = await announce(f, HOUR, 2n * HOUR);
      await feed(f, w.start + HOUR);
      await time.setNextBlockTimestamp(w.start + HOUR);
      await f.escrow.connect(f.lessee).endByLessee(1n);
      await feed(f, w.end + 15n * MINUTE);
      await prove(f.programme, f.rig, 1, 1, 1n, f.other);
      const at = BigInt(await time.latest()) + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      await f.keeper.close(1n, f.other, at);
      // Billed up to w.start + 1 h: reservation for the time before the event, none for its first hour.
      const before = w.start - f.start;
      const expected = (8n * before * 1_800_000n) / 3_600n + (8n * before * 1_000_000n) / 3_600n;
      expect((await f.escrow.accountingOf(1n)).charged).to.equal(expected);
      expect((await f.escrow.accountingOf(1n)).charged).to.equal(
        (await expectedBill(f, await f.rig.history(), 1n, w.start + HOUR)).total,
      );
    });

    it("cannot close a curtailable lease past an unrecorded event; a late proof (after the claim window) unblocks it", async function () {
      const f = await leased();
      const w = await announce(f, HOUR, HOUR);
      await feed(f, f.start + DAY + HOUR);
      const at = w.end + 30n * DAY + DAY;
      await time.setNextBlockTimestamp(at);
      await expect(f.keeper.close(1n, f.other, at))
        .to.be.revertedWithCustomError(f.programme, "OutcomeNotRecorded")
        .withArgs(1, 1, 1n);
      // The plain lease on #2 closes regardless.
      await expect(f.keeper.close(2n, f.other, at + 1n)).to.emit(f.escrow, "LeaseClosed");
      await prove(f.programme, f.rig, 1, 1, 1n, f.other);
      expect((await f.programme.outcomeOf(1, 1, 1n)).status).to.equal(4n); // Late
      await expect(f.keeper.close(1n, f.other, at + 2n)).to.emit(f.escrow, "LeaseClosed");
      expect((await f.escrow.accountingOf(1n)).charged).to.equal(8n * (23n * 1_800_000n + 23n * 1_000_000n));
    });

    it("an event announced before the lease opened counts; a lease whose asset is not enrolled gets the discount only", async function () {
      const f = await createdProgramme(await deployProgramme(), 1_000n * USDC, [2n]);
      await publishCurtailable(f, 1n);
      await publishCurtailable(f, 2n);
      const t0 = await nextGridTime();
      await f.feeder.post(t0, new Map(ASSETS.map((a) => [a, FULL])));
      await f.feeder.feed(t0 + HOUR, ASSETS, () => FULL);
      const notice = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(notice);
      await f.programme.connect(f.sponsor).announce(1, eventParams(notice, notice + HOUR, notice + 2n * HOUR));
      const start = notice + 10n;
      await time.setNextBlockTimestamp(start);
      await f.escrow.connect(f.lessee).openLease(1n, 1, DAY, DEPOSIT);
      await f.escrow.connect(f.lessee2).openLease(2n, 1, DAY, DEPOSIT);
      const inside = (t: bigint) => t > notice + HOUR && t <= notice + 2n * HOUR;
      await f.feeder.feed(start + DAY + HOUR, ASSETS, (t) => (inside(t) ? IDLE : FULL), [
        notice + HOUR,
        notice + 2n * HOUR,
      ]);
      await prove(f.programme, f.rig, 1, 1, 2n, f.other);
      const at = start + DAY + HOUR + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      await f.keeper.close(1n, f.other, at);
      await f.keeper.close(2n, f.other, at + 1n);
      // #1 is not enrolled: its idle hour is billed (no usage), the reservation at 10 % off throughout.
      expect((await f.escrow.accountingOf(1n)).charged).to.equal(8n * (24n * 1_800_000n + 23n * 1_000_000n));
      // #2 is: the event announced before its lease opened curtails it.
      expect((await f.escrow.accountingOf(2n)).charged).to.equal(8n * (23n * 1_800_000n + 23n * 1_000_000n));
    });

    it("previewBill shows the curtailed bill before it is charged", async function () {
      const f = await loadFixture(oneEvent);
      const history = await f.rig.history();
      const lease = await f.escrow.leaseOf(1n);
      const [bill] = await f.escrow.previewBill(
        1n,
        history.boundaryAt(1n, lease.startTime)!.boundary,
        history.boundaryAt(1n, lease.endTime)!.boundary,
      );
      expect(bill.total).to.equal(8n * 22n * 2_800_000n);
      expect(bill.reservationFee).to.equal(8n * 22n * 1_800_000n);
    });
  });
});
