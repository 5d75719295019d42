import { expect } from "chai";
import { OutcomeStatus, previewReduction } from "../../src/demandResponse";
import {
  BaselineRule,
  DAY,
  FULL,
  HOUR,
  IDLE,
  MINUTE,
  RATE_PER_KWH,
  SPEC,
  USDC,
  createdProgramme,
  deployProgramme,
  eventParams,
  nextGridTime,
  prove,
  storedEvent,
  time,
  type Load,
} from "./helpers";

const ASSETS = [1n, 2n];

/**
 * Two enrolled assets fed on the 15-minute grid from t0; an event is announced at t0 + 3 h 7 min
 * (baseline: hours 1–3) for [notice + 30 min, + 1 h]. `before(a)` is asset a's load before the notice,
 * `between(a)` from the notice to the start, `during(a)` in the event.
 */
async function run(
  before: (a: bigint) => Load,
  between: (a: bigint) => Load,
  during: (a: bigint) => Load,
  committedJ?: bigint,
) {
  const f = await createdProgramme(await deployProgramme(), 100n * USDC, ASSETS);
  const t0 = await nextGridTime();
  await f.feeder.post(t0, new Map(ASSETS.map((a) => [a, before(a)])));
  await f.feeder.feed(t0 + 3n * HOUR, ASSETS, (_t, a) => before(a));
  const notice = t0 + 3n * HOUR + 7n * MINUTE;
  const start = notice + 30n * MINUTE;
  const end = start + HOUR;
  await time.setNextBlockTimestamp(notice);
  await f.programme
    .connect(f.sponsor)
    .announce(1, eventParams(notice, start, end, committedJ === undefined ? {} : { committedReductionJ: committedJ }));
  // The grid reading at 3 h 15 min covers 3 h 0 min – 3 h 15 min: the notice falls inside it; the
  // changed load is metered from the notice's interval on.
  const loadAt = (t: bigint, a: bigint) =>
    t <= t0 + 3n * HOUR ? before(a) : t <= start ? between(a) : t <= end ? during(a) : FULL;
  await f.feeder.feed(end + 15n * MINUTE, ASSETS, loadAt, [start, end]);
  return { ...f, t0, notice, start, end };
}

describe("Demand response: baseline gaming", function () {
  it("load inflated after the notice does not count: an idle asset that spins up before the event earns nothing", async function () {
    // #1 idles before the notice, runs flat out between the notice and the start, idles in the event.
    // #2 (honest) runs before, and idles in the event.
    const f = await run(
      (a) => (a === 1n ? IDLE : FULL),
      () => FULL,
      () => IDLE,
    );
    const { programme, rig, other } = f;
    // Baseline of #1: 8 × 60 W over the 2 h window = its idle draw; the event draws the same: no reduction.
    await expect(prove(programme, rig, 1, 1, 1n, other))
      .to.emit(programme, "NonCompliance")
      .withArgs(1, 1, 1n, OutcomeStatus.NoReduction, 1_728_000n, 1_728_000n);
    // Had the baseline been the load just before the start (full load), #1 would have been paid for
    // 4.32 kWh it never reduced: the honest #2 is paid exactly that.
    await expect(prove(programme, rig, 1, 1, 2n, other))
      .to.emit(programme, "ReductionProven")
      .withArgs(1, 1, 2n, [
        OutcomeStatus.Credited,
        17_280_000n,
        1_728_000n,
        15_552_000n,
        (15_552_000n * RATE_PER_KWH) / 3_600_000n,
      ]);
    const history = await rig.history();
    const ev = await storedEvent(programme, 1, 1);
    expect(previewReduction(history, ev, 1n, SPEC)!.status).to.equal(OutcomeStatus.NoReduction);
    expect(previewReduction(history, ev, 2n, SPEC)!.reductionJ).to.equal(15_552_000n);
  });

  it("the reduction is capped at the committed reduction, however large the drop", async function () {
    // #1 runs at its TDP-bounded maximum before the notice, then draws nothing in the event; 1 kWh committed.
    const max: Load = { availableBps: 10_000n, busyBps: 10_000n, wattsPerGpu: 770n };
    const off: Load = { availableBps: 10_000n, busyBps: 0n, wattsPerGpu: 0n };
    const f = await run(
      () => max,
      () => max,
      () => off,
      3_600_000n,
    );
    const { programme, rig, other } = f;
    // Baseline 8 × 770 W × 1 h = 22.176 MJ; metered 0; reduction capped at 3.6 MJ: 0.50 USDC.
    await expect(prove(programme, rig, 1, 1, 1n, other))
      .to.emit(programme, "ReductionProven")
      .withArgs(1, 1, 1n, [OutcomeStatus.Credited, 22_176_000n, 0n, 3_600_000n, 500_000n]);
  });

  it("an asset that used more during the event than its baseline is recorded as non-compliant", async function () {
    const f = await run(
      () => IDLE,
      () => IDLE,
      () => FULL,
    );
    const { programme, rig, other } = f;
    await expect(prove(programme, rig, 1, 1, 1n, other))
      .to.emit(programme, "NonCompliance")
      .withArgs(1, 1, 1n, OutcomeStatus.NoReduction, 1_728_000n, 17_280_000n);
    expect((await programme.outcomeOf(1, 1, 1n)).credit).to.equal(0n);
  });

  it("a physically impossible reading around the event's end leaves its energy unproven: nothing paid", async function () {
    const f = await createdProgramme(await deployProgramme(), 100n * USDC, ASSETS);
    const t0 = await nextGridTime();
    await f.feeder.post(t0, new Map(ASSETS.map((a) => [a, FULL])));
    await f.feeder.feed(t0 + 3n * HOUR, ASSETS, () => FULL);
    const notice = t0 + 3n * HOUR + 7n * MINUTE;
    const start = notice + 30n * MINUTE;
    const end = start + HOUR;
    await time.setNextBlockTimestamp(notice);
    await f.programme.connect(f.sponsor).announce(1, eventParams(notice, start, end));
    await f.feeder.feed(end - 15n * MINUTE, ASSETS, (t) => (t > start ? IDLE : FULL), [start]);
    // The next reading of #1 claims its counters went backwards (an impossible pair around the end).
    const prev = f.feeder.counters.get(1n)!;
    await f.rig.post(
      end + 15n * MINUTE,
      new Map([
        [
          1n,
          {
            busyGpuSeconds: prev.busyGpuSeconds,
            availableGpuSeconds: prev.availableGpuSeconds,
            energyJ: prev.energyJ - 1n,
          },
        ],
      ]),
    );
    await expect(prove(f.programme, f.rig, 1, 1, 1n, f.other))
      .to.emit(f.programme, "NonCompliance")
      .withArgs(1, 1, 1n, OutcomeStatus.Unproven, 17_280_000n, 0n);
    expect((await f.programme.outcomeOf(1, 1, 1n)).status).to.equal(BigInt(OutcomeStatus.Unproven));
  });

  it("a PriorDay baseline compares the event with the same clock window one day earlier", async function () {
    const f = await createdProgramme(await deployProgramme(), 100n * USDC, ASSETS);
    const t0 = await nextGridTime(60n, HOUR);
    await f.feeder.post(t0, new Map(ASSETS.map((a) => [a, FULL])));
    // Day 1: full load at 10:00–11:00 for #1, idle for #2.
    const windowStart = t0 + 10n * HOUR;
    const loadDay1 = (t: bigint, a: bigint) => (t > windowStart && t <= windowStart + HOUR && a === 2n ? IDLE : FULL);
    await f.feeder.feed(t0 + DAY + 9n * HOUR, ASSETS, loadDay1, [], HOUR);
    const notice = t0 + DAY + 9n * HOUR + 5n * MINUTE;
    const start = windowStart + DAY;
    await time.setNextBlockTimestamp(notice);
    await f.programme
      .connect(f.sponsor)
      .announce(
        1,
        eventParams(notice, start, start + HOUR, { baselineRule: BaselineRule.PriorDay, baselineWindowSeconds: 0n }),
      );
    await f.feeder.feed(start + HOUR + 15n * MINUTE, ASSETS, (t) => (t > start && t <= start + HOUR ? IDLE : FULL), [
      start,
      start + HOUR,
    ]);
    // #1's baseline is yesterday's full hour: credited; #2 was idle then too: no reduction.
    await expect(prove(f.programme, f.rig, 1, 1, 1n, f.other))
      .to.emit(f.programme, "ReductionProven")
      .withArgs(1, 1, 1n, [
        OutcomeStatus.Credited,
        17_280_000n,
        1_728_000n,
        15_552_000n,
        (15_552_000n * RATE_PER_KWH) / 3_600_000n,
      ]);
    await expect(prove(f.programme, f.rig, 1, 1, 2n, f.other))
      .to.emit(f.programme, "NonCompliance")
      .withArgs(1, 1, 2n, OutcomeStatus.NoReduction, 1_728_000n, 1_728_000n);
  });
});
