import { expect } from "chai";
import { MeterHistory, type AcceptedBatch } from "../../src/meterHistory";
import {
  BaselineRule,
  EventStatus,
  OutcomeStatus,
  baselineWindow,
  boundaryPostTimes,
  countedEvents,
  creditOf,
  eventTimes,
  gridTimes,
  maxPowerW,
  reductionOf,
  reductionProofs,
  splitCredit,
  type StoredEvent,
} from "../../src/demandResponse";
import { assetEfficiency, efficiency, energyCharge, energyUse, formatKWh, leaseEfficiency } from "../../src/energy";
import { readingsRoot } from "../../src/eip712";

const H = 3_600n;

function ev(start: bigint, duration: bigint, overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    startTime: start,
    noticeLeadSeconds: 1_800n,
    durationSeconds: duration,
    baselineRule: BaselineRule.PreNotice,
    baselineWindowSeconds: 2n * H,
    memberCount: 2n,
    provenCount: 0n,
    status: EventStatus.Announced,
    ratePerKWh: 500_000n,
    committedReductionJ: 28_800_000n,
    ...overrides,
  };
}

/** A history of one 8-GPU asset with readings every hour from t = 0: full use, 4,800 W. */
function history(hours: number, wattsAt: (h: number) => bigint = () => 4_800n): MeterHistory {
  const batches: AcceptedBatch[] = [];
  let busy = 0n;
  let available = 0n;
  let energy = 0n;
  for (let h = 0; h <= hours; h++) {
    if (h > 0) {
      busy += 8n * H;
      available += 8n * H;
      energy += wattsAt(h) * H;
    }
    const readings = [
      {
        assetId: 1n,
        previousBatch: h === 0 ? 0n : BigInt(h),
        busyGpuSeconds: busy,
        availableGpuSeconds: available,
        energyJ: energy,
      },
    ];
    batches.push({
      batchIndex: BigInt(h + 1),
      configVersion: 1n,
      timestamp: BigInt(h) * H,
      acceptedAt: BigInt(h) * H,
      readingsRoot: readingsRoot(readings),
      readings,
    });
  }
  return new MeterHistory(batches);
}

describe("src/demandResponse", function () {
  it("baselineWindow: PreNotice ends at the last 15-minute boundary at or before the notice; PriorDay is a day earlier", function () {
    expect(baselineWindow(BaselineRule.PreNotice, 10_000n, 12_000n, 15_600n, 1_800n)).to.deep.equal({
      from: 8_100n,
      to: 9_900n,
    });
    expect(baselineWindow(BaselineRule.PreNotice, 9_000n, 12_000n, 15_600n, 900n)).to.deep.equal({
      from: 8_100n,
      to: 9_000n,
    });
    expect(baselineWindow(BaselineRule.PriorDay, 100_000n, 100_600n, 104_200n, 0n)).to.deep.equal({
      from: 14_200n,
      to: 17_800n,
    });
  });

  it("eventTimes unpacks a stored event", function () {
    expect(eventTimes(ev(10_800n, H))).to.deep.equal({
      noticeTime: 9_000n,
      startTime: 10_800n,
      endTime: 14_400n,
      baselineFrom: 1_800n,
      baselineTo: 9_000n,
    });
  });

  it("boundaryPostTimes lists each live event's start and end after the feeder's last post, once, in order", function () {
    const events = [
      ev(20_000n, H),
      ev(10_000n, 2n * H),
      ev(30_000n, 0n, { status: EventStatus.Cancelled }),
      ev(17_200n, H),
    ];
    expect(boundaryPostTimes(events, 0n)).to.deep.equal([10_000n, 17_200n, 20_000n, 20_800n, 23_600n]);
    expect(boundaryPostTimes(events, 17_200n)).to.deep.equal([20_000n, 20_800n, 23_600n]);
    expect(boundaryPostTimes([], 0n)).to.deep.equal([]);
  });

  it("gridTimes lists the 15-minute boundaries in (after, until]", function () {
    expect(gridTimes(0n, 2_700n)).to.deep.equal([900n, 1_800n, 2_700n]);
    expect(gridTimes(901n, 1_800n)).to.deep.equal([1_800n]);
    expect(gridTimes(1_800n, 1_800n)).to.deep.equal([]);
  });

  it("reductionOf follows DemandResponseMath: capped, no reduction, unproven", function () {
    const m = (t: bigint, e: bigint) => ({ timestamp: t, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: e });
    const power = maxPowerW(8n, 700n);
    expect(power).to.equal(8_400n);
    // 4,800 W for 2 h of baseline; 1 h event at 480 W: 4.32 kWh reduced, under 8 kWh.
    const r = reductionOf(
      m(0n, 0n),
      m(2n * H, 4_800n * 2n * H),
      m(3n * H, 0n),
      m(4n * H, 480n * H),
      true,
      power,
      28_800_000n,
      500_000n,
    );
    expect(r).to.deep.equal({
      status: OutcomeStatus.Credited,
      baselineJ: 17_280_000n,
      meteredJ: 1_728_000n,
      reductionJ: 15_552_000n,
      credit: 2_160_000n,
    });
    const capped = reductionOf(
      m(0n, 0n),
      m(2n * H, 4_800n * 2n * H),
      m(3n * H, 0n),
      m(4n * H, 0n),
      true,
      power,
      3_600_000n,
      500_000n,
    );
    expect(capped.reductionJ).to.equal(3_600_000n);
    expect(capped.credit).to.equal(500_000n);
    const none = reductionOf(
      m(0n, 0n),
      m(2n * H, 480n * 2n * H),
      m(3n * H, 0n),
      m(4n * H, 4_800n * H),
      true,
      power,
      28_800_000n,
      500_000n,
    );
    expect(none.status).to.equal(OutcomeStatus.NoReduction);
    expect(reductionOf(m(0n, 0n), m(H, 1n), m(2n * H, 10n), m(3n * H, 5n), true, power, 1n, 1n).status).to.equal(
      OutcomeStatus.Unproven,
    );
    expect(reductionOf(m(0n, 0n), m(H, 1n), m(2n * H, 0n), m(3n * H, 8_401n * H), true, power, 1n, 1n).status).to.equal(
      OutcomeStatus.Unproven,
    );
    expect(reductionOf(m(0n, 0n), m(H, 1n), m(2n * H, 0n), m(3n * H, 0n), false, power, 1n, 1n).status).to.equal(
      OutcomeStatus.Unproven,
    );
    // A baseline window claiming more than the asset can draw is clamped to maxPowerW.
    const inflated = reductionOf(
      m(0n, 0n),
      m(H, 10n ** 12n),
      m(2n * H, 0n),
      m(3n * H, 0n),
      true,
      power,
      10n ** 12n,
      500_000n,
    );
    expect(inflated.baselineJ).to.equal(8_400n * H);
  });

  it("creditOf and splitCredit round down the credit and the lessee's part", function () {
    expect(creditOf(3_599_999n, 1_000_000n)).to.equal(999_999n);
    expect(splitCredit(1_000_001n, 3_000n)).to.deep.equal({ toLessee: 300_000n, toOwner: 700_001n });
    expect(splitCredit(5n, 0n)).to.deep.equal({ toLessee: 0n, toOwner: 5n });
  });

  it("countedEvents: overlapping events in order while the count and whole durations stay within the caps", function () {
    const events = [1, 2, 3, 4].map((i) => ({ eventIndex: BigInt(i), event: ev(BigInt(i) * 10n * H, H * BigInt(i)) }));
    const caps = { maxEventsPerLease: 2n, maxEventSecondsPerLease: 10n * H };
    // The first event ends before the lease: not counted; 2 and 3 count; 4 is past the count cap.
    expect(countedEvents(events, 12n * H, 100n * H, caps).map((e) => e.eventIndex)).to.deep.equal([2n, 3n]);
    // Time cap 4 h: event 2 (2 h) counts, event 3 (3 h) would make 5 h.
    expect(
      countedEvents(events, 12n * H, 100n * H, { ...caps, maxEventSecondsPerLease: 4n * H }).map((e) => e.eventIndex),
    ).to.deep.equal([2n]);
    // A lease ending before event 3 starts.
    expect(
      countedEvents(events, 0n, 30n * H, { ...caps, maxEventsPerLease: 8n }).map((e) => e.eventIndex),
    ).to.deep.equal([1n, 2n]);
  });

  it("reductionProofs builds the four boundaries from the history, and waits for a reading after the end", function () {
    const h = history(6);
    const e = ev(4n * H, H, { noticeLeadSeconds: 1_800n });
    const proofs = reductionProofs(h, e, 1n)!;
    expect(proofs.eventStart.later.batchTimestamp).to.equal(4n * H);
    expect(proofs.eventEnd.later.batchTimestamp).to.equal(5n * H);
    // Notice 3 h 30 min: the baseline window is [1 h 30 min, 3 h 30 min], between hourly readings.
    expect(proofs.baselineEnd.later.batchTimestamp).to.equal(4n * H);
    expect(proofs.baselineEnd.earlier.batchTimestamp).to.equal(3n * H);
    expect(proofs.baselineStart.later.batchTimestamp).to.equal(2n * H);
    expect(proofs.baselineStart.earlier.batchTimestamp).to.equal(H);
    expect(reductionProofs(history(4), e, 1n)).to.equal(undefined);
  });
});

describe("src/energy", function () {
  it("efficiency: kWh per busy and per available GPU-hour, and average powers", function () {
    const e = efficiency({
      seconds: 3_600n,
      energyJ: 17_280_000n,
      busyGpuSeconds: 14_400n,
      availableGpuSeconds: 28_800n,
    });
    expect(e.energyKWh).to.equal(4.8);
    expect(e.kwhPerBusyGpuHour).to.equal(1.2);
    expect(e.kwhPerAvailableGpuHour).to.equal(0.6);
    expect(e.wattsPerBusyGpu).to.equal(1_200n);
    expect(e.wattsPerAvailableGpu).to.equal(600n);
    expect(e.averagePowerW).to.equal(4_800n);
    const idle = efficiency({ seconds: 0n, energyJ: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n });
    expect(idle.kwhPerBusyGpuHour).to.equal(undefined);
    expect(idle.averagePowerW).to.equal(undefined);
  });

  it("energyUse clamps counters that went backwards; energyCharge rounds down as SettlementMath", function () {
    const a = { timestamp: 0n, busyGpuSeconds: 10n, availableGpuSeconds: 10n, energyJ: 10n };
    const b = { timestamp: 5n, busyGpuSeconds: 5n, availableGpuSeconds: 20n, energyJ: 30n };
    expect(energyUse(a, b)).to.deep.equal({ seconds: 5n, energyJ: 20n, busyGpuSeconds: 0n, availableGpuSeconds: 10n });
    expect(energyCharge(3_599_999n, 200_000n)).to.equal(199_999n);
    expect(formatKWh(3_600_000n)).to.equal("1.000");
  });

  it("assetEfficiency and leaseEfficiency read the meters at the boundaries (interpolated), or up to the latest reading", function () {
    const spec = { gpuCount: 8n, tdpWattsPerGpu: 700n, energyMarginBps: 1_000n };
    const h = history(6, (hour) => (hour === 3 ? 480n : 4_800n));
    const eff = assetEfficiency(h, 1n, spec, 2n * H, 4n * H)!;
    expect(eff.energyJ).to.equal((480n + 4_800n) * H);
    expect(eff.busyGpuSeconds).to.equal(16n * H);
    const half = assetEfficiency(h, 1n, spec, 1_800n, 5_400n)!;
    expect(half.energyJ).to.equal(4_800n * H);
    expect(assetEfficiency(h, 1n, spec, 0n, 7n * H)).to.equal(undefined);
    const lease = leaseEfficiency(h, { assetId: 1n, startTime: 1_800n, endTime: 100n * H }, spec)!;
    expect(lease.seconds).to.equal(6n * H - 1_800n);
    expect(leaseEfficiency(h, { assetId: 1n, startTime: 6n * H, endTime: 100n * H }, spec)).to.equal(undefined);
  });
});
