/**
 * Demand response off chain: the same rules as `contracts/DemandResponseProgramme.sol` and
 * `contracts/libraries/DemandResponseMath.sol`, as pure functions with no client.
 *
 * - `baselineWindow`, `eventTimes`: an event's baseline window and boundaries;
 * - `boundaryPostTimes`: the times the feeder must post readings at for announced events (their start
 *   and end), so that reductions and curtailable leases are proven from exact readings;
 * - `reductionProofs`: the oracle proofs of one reduction claim, built from the chain's meter history
 *   (`src/meterHistory.ts`);
 * - `previewReduction`: what `proveReduction` will compute from that history (tested equal);
 * - `countedEvents`, `previewCurtailedGpuSeconds`: which events count in a curtailable lease, and the
 *   available GPU-seconds whose reservation the escrow does not bill.
 *
 * Units: seconds, GPU-seconds, joules; rates in token base units per kWh reduced.
 */
import type { Meter } from "./eip712";
import { MeterHistory, meterAtTime, type MeterBoundary, type MeteringSpec } from "./meterHistory";
import { JOULES_PER_KWH } from "./units";

/** `BaselineRule` of `contracts/types/DemandResponseTypes.sol`. */
export enum BaselineRule {
  /** Meter Before / Meter After: the average power over a window just before the notice. */
  PreNotice = 0,
  /** The event's clock window one day earlier (it must end at or before the notice). */
  PriorDay = 1,
}

/** `OutcomeStatus` of `contracts/types/DemandResponseTypes.sol`. */
export enum OutcomeStatus {
  None = 0,
  Credited = 1,
  NoReduction = 2,
  Unproven = 3,
  Late = 4,
}

/** `EventStatus` of `contracts/types/DemandResponseTypes.sol`. */
export enum EventStatus {
  Announced = 0,
  Cancelled = 1,
  Released = 2,
}

/** Seconds in one day (the `PriorDay` offset). */
export const DAY_SECONDS = 86_400n;
/** The oracle's largest energy margin over TDP, bps (`DemandResponseMath.MAX_ENERGY_MARGIN_BPS`). */
const MAX_ENERGY_MARGIN_BPS = 5_000n;

/** An event as `IDemandResponseProgramme.eventOf` returns it (TypeChain results have these fields). */
export interface StoredEvent {
  startTime: bigint;
  noticeLeadSeconds: bigint;
  durationSeconds: bigint;
  baselineRule: bigint | number;
  baselineWindowSeconds: bigint;
  memberCount: bigint;
  provenCount: bigint;
  status: bigint | number;
  ratePerKWh: bigint;
  committedReductionJ: bigint;
}

/**
 * The stored event's fields these rules read, copied out of what `eventOf(programmeId, eventIndex)`
 * returns (an ethers `Result` or a viem object: both carry the fields by name).
 */
export function toStoredEvent(e: StoredEvent): StoredEvent {
  return {
    startTime: e.startTime,
    noticeLeadSeconds: e.noticeLeadSeconds,
    durationSeconds: e.durationSeconds,
    baselineRule: e.baselineRule,
    baselineWindowSeconds: e.baselineWindowSeconds,
    memberCount: e.memberCount,
    provenCount: e.provenCount,
    status: e.status,
    ratePerKWh: e.ratePerKWh,
    committedReductionJ: e.committedReductionJ,
  };
}

/** An event's times and terms, unpacked. */
export interface EventTimes {
  noticeTime: bigint;
  startTime: bigint;
  endTime: bigint;
  baselineFrom: bigint;
  baselineTo: bigint;
}

/** The settlement interval baseline windows are made of (`DemandResponseMath.INTERVAL_SECONDS`). */
export const INTERVAL_SECONDS = 900n;

/**
 * `DemandResponseMath.baselineWindow`: PreNotice — the `windowSeconds` ending at the last 15-minute
 * boundary at or before the notice; PriorDay — the event's window one day earlier.
 */
export function baselineWindow(
  rule: BaselineRule,
  noticeTime: bigint,
  startTime: bigint,
  endTime: bigint,
  windowSeconds: bigint,
): { from: bigint; to: bigint } {
  if (rule === BaselineRule.PreNotice) {
    const to = noticeTime - (noticeTime % INTERVAL_SECONDS);
    return { from: to - windowSeconds, to };
  }
  return { from: startTime - DAY_SECONDS, to: endTime - DAY_SECONDS };
}

/**
 * The 15-minute grid times in (after, until]: a feeder that posts on them (as well as at the event
 * boundaries) gives every PreNotice baseline boundary an exact reading, so a reduction is proven from
 * four single-reading proofs instead of up to eight.
 */
export function gridTimes(after: bigint, until: bigint): bigint[] {
  const out: bigint[] = [];
  for (let t = after - (after % INTERVAL_SECONDS) + INTERVAL_SECONDS; t <= until; t += INTERVAL_SECONDS) out.push(t);
  return out;
}

/** The notice, start, end and baseline window of a stored event. */
export function eventTimes(ev: StoredEvent): EventTimes {
  const startTime = BigInt(ev.startTime);
  const endTime = startTime + BigInt(ev.durationSeconds);
  const noticeTime = startTime - BigInt(ev.noticeLeadSeconds);
  const { from, to } = baselineWindow(
    Number(ev.baselineRule) as BaselineRule,
    noticeTime,
    startTime,
    endTime,
    BigInt(ev.baselineWindowSeconds),
  );
  return { noticeTime, startTime, endTime, baselineFrom: from, baselineTo: to };
}

/**
 * The feeder hook: the reading times it must post for announced events, in order, from `after`
 * (exclusive; its last posted batch time) on. Each event needs a reading exactly at its start and
 * exactly at its end: the escrow can then bill a curtailable lease up to the start while the event
 * runs, and the reduction's event energy is proven from exact readings (no interpolation across the
 * boundary). The baseline window lies before the notice, in the past when the event is announced:
 * it is proven by interpolating the readings that already exist, and needs no post.
 * Cancelled events (an empty window) need nothing.
 */
export function boundaryPostTimes(events: readonly StoredEvent[], after: bigint): bigint[] {
  const times = new Set<bigint>();
  for (const ev of events) {
    if (Number(ev.status) === EventStatus.Cancelled || BigInt(ev.durationSeconds) === 0n) continue;
    const { startTime, endTime } = eventTimes(ev);
    for (const t of [startTime, endTime]) if (t > after) times.add(t);
  }
  return [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `ReductionProofs` of `contracts/types/DemandResponseTypes.sol`, ready to pass to the contract. */
export interface ReductionProofs {
  baselineStart: MeterBoundary;
  baselineEnd: MeterBoundary;
  eventStart: MeterBoundary;
  eventEnd: MeterBoundary;
}

/**
 * The proofs `proveReduction` needs for an asset and an event: the asset's meter at the baseline
 * window's start and end and at the event's start and end (each the first reading at or after the
 * time and the reading it links to). Undefined while a reading at or after the event end is missing.
 */
export function reductionProofs(history: MeterHistory, ev: StoredEvent, assetId: bigint): ReductionProofs | undefined {
  const t = eventTimes(ev);
  const at = (time: bigint) => history.boundaryAt(assetId, time)?.boundary;
  const eventEnd = at(t.endTime);
  if (!eventEnd) return undefined;
  return {
    baselineStart: at(t.baselineFrom)!,
    baselineEnd: at(t.baselineTo)!,
    eventStart: at(t.startTime)!,
    eventEnd,
  };
}

/** `Reduction` of `contracts/types/DemandResponseTypes.sol`. */
export interface Reduction {
  status: OutcomeStatus;
  baselineJ: bigint;
  meteredJ: bigint;
  reductionJ: bigint;
  credit: bigint;
}

/** `DemandResponseMath.maxPowerW`: gpuCount × TDP × 1.5, watts, rounded down. */
export function maxPowerW(gpuCount: bigint, tdpWattsPerGpu: bigint): bigint {
  return (gpuCount * tdpWattsPerGpu * (10_000n + MAX_ENERGY_MARGIN_BPS)) / 10_000n;
}

/** `DemandResponseMath.creditOf`: reduction × rate ÷ 1 kWh, rounded down. */
export function creditOf(reductionJ: bigint, ratePerKWh: bigint): bigint {
  return (reductionJ * ratePerKWh) / JOULES_PER_KWH;
}

/** `DemandResponseMath.split`: the lessee's part (rounded down) and the owner's. */
export function splitCredit(credit: bigint, lesseeShareBps: bigint): { toLessee: bigint; toOwner: bigint } {
  const toLessee = (credit * lesseeShareBps) / 10_000n;
  return { toLessee, toOwner: credit - toLessee };
}

/** What `DemandResponseMath.reduction` computes from four meters. */
export function reductionOf(
  baselineFrom: Meter,
  baselineTo: Meter,
  eventFrom: Meter,
  eventTo: Meter,
  eventProven: boolean,
  powerW: bigint,
  committedReductionJ: bigint,
  ratePerKWh: bigint,
): Reduction {
  const windowSeconds = baselineTo.timestamp - baselineFrom.timestamp;
  const eventSeconds = eventTo.timestamp - eventFrom.timestamp;
  let windowJ = baselineTo.energyJ > baselineFrom.energyJ ? baselineTo.energyJ - baselineFrom.energyJ : 0n;
  if (windowJ > powerW * windowSeconds) windowJ = powerW * windowSeconds;
  const baselineJ = windowSeconds === 0n ? 0n : (windowJ * eventSeconds) / windowSeconds;
  const none = { baselineJ, meteredJ: 0n, reductionJ: 0n, credit: 0n };
  if (!eventProven || eventTo.energyJ < eventFrom.energyJ) return { status: OutcomeStatus.Unproven, ...none };
  const meteredJ = eventTo.energyJ - eventFrom.energyJ;
  if (meteredJ > powerW * eventSeconds) return { status: OutcomeStatus.Unproven, ...none };
  let reductionJ = 0n;
  let credit = 0n;
  if (baselineJ > meteredJ) {
    reductionJ = baselineJ - meteredJ;
    if (reductionJ > committedReductionJ) reductionJ = committedReductionJ;
    credit = creditOf(reductionJ, ratePerKWh);
  }
  return {
    status: credit === 0n ? OutcomeStatus.NoReduction : OutcomeStatus.Credited,
    baselineJ,
    meteredJ,
    reductionJ,
    credit,
  };
}

/**
 * What `proveReduction` will find for an asset and an event, from the chain's meter history and the
 * asset's metering spec (the oracle's `meterWindow` rules: the start of each window bound Upper, its end
 * Lower). Undefined while a reading at or after the event end is missing. Does not apply the claim
 * window (a late proof records `Late` and pays nothing).
 */
export function previewReduction(
  history: MeterHistory,
  ev: StoredEvent,
  assetId: bigint,
  spec: MeteringSpec,
): Reduction | undefined {
  const t = eventTimes(ev);
  // meterWindow: a window's start is proven with the Upper bound, its end with the Lower one.
  const lower = (time: bigint) => meterAtTime(history, assetId, time, spec, "lower");
  const upper = (time: bigint) => meterAtTime(history, assetId, time, spec, "upper");
  const eventTo = lower(t.endTime);
  if (!eventTo) return undefined;
  const proven = pairUsable(history, assetId, t.startTime, spec) && pairUsable(history, assetId, t.endTime, spec);
  return reductionOf(
    upper(t.baselineFrom)!,
    lower(t.baselineTo)!,
    upper(t.startTime)!,
    eventTo,
    proven,
    maxPowerW(spec.gpuCount, spec.tdpWattsPerGpu),
    BigInt(ev.committedReductionJ),
    BigInt(ev.ratePerKWh),
  );
}

/** Whether the readings around `time` form a physically possible pair (or one of them is exact). */
function pairUsable(history: MeterHistory, assetId: bigint, time: bigint, spec: MeteringSpec): boolean {
  const lower = meterAtTime(history, assetId, time, spec, "lower");
  const upper = meterAtTime(history, assetId, time, spec, "upper");
  if (!lower || !upper) return false;
  return (
    lower.energyJ === upper.energyJ &&
    lower.busyGpuSeconds === upper.busyGpuSeconds &&
    lower.availableGpuSeconds === upper.availableGpuSeconds
  );
}

/** A programme's event with its index, as a lease's curtailment is computed from. */
export interface IndexedEvent {
  eventIndex: bigint;
  event: StoredEvent;
}

/** What a curtailable terms version caps (`CurtailmentTerms`). */
export interface CurtailmentCaps {
  maxEventsPerLease: bigint;
  maxEventSecondsPerLease: bigint;
}

/**
 * The events that count in a lease (`curtailedGpuSeconds`' rule): among the events that call the asset
 * (pass only those) and overlap [leaseStart, leaseEnd), in start order, as long as their number stays
 * within the event cap and their whole durations within the time cap.
 */
export function countedEvents(
  events: readonly IndexedEvent[],
  leaseStart: bigint,
  leaseEnd: bigint,
  caps: CurtailmentCaps,
): IndexedEvent[] {
  const out: IndexedEvent[] = [];
  let seconds = 0n;
  const sorted = [...events].sort((a, b) => (a.eventIndex < b.eventIndex ? -1 : 1));
  for (const e of sorted) {
    if (Number(e.event.status) === EventStatus.Cancelled) continue;
    const { startTime, endTime } = eventTimes(e.event);
    if (!(endTime > leaseStart)) continue;
    if (!(startTime < leaseEnd)) break;
    seconds += BigInt(e.event.durationSeconds);
    if (BigInt(out.length) === caps.maxEventsPerLease || seconds > caps.maxEventSecondsPerLease) break;
    out.push(e);
  }
  return out;
}

/**
 * The available GPU-seconds the counted events curtail in a lease up to `point`, from the meter
 * history (what the escrow reads from the programme once every counted event before the point has its
 * outcome recorded): for each, the growth of the available meter over the part of the event inside
 * [leaseStart, point]. Event boundaries use the meters `proveReduction` records (start Upper, end
 * Lower); the lease start and the point those of the escrow's bill.
 */
export function previewCurtailedGpuSeconds(
  history: MeterHistory,
  assetId: bigint,
  spec: MeteringSpec,
  counted: readonly IndexedEvent[],
  leaseStart: { time: bigint; availableGpuSeconds: bigint },
  point: { time: bigint; availableGpuSeconds: bigint },
): bigint {
  let total = 0n;
  for (const { event } of counted) {
    const { startTime, endTime } = eventTimes(event);
    if (!(startTime < point.time)) break;
    const from =
      startTime < leaseStart.time
        ? leaseStart
        : {
            time: startTime,
            availableGpuSeconds: meterAtTime(history, assetId, startTime, spec, "upper")!.availableGpuSeconds,
          };
    const to =
      endTime > point.time
        ? point
        : {
            time: endTime,
            availableGpuSeconds: meterAtTime(history, assetId, endTime, spec, "lower")!.availableGpuSeconds,
          };
    if (to.time > from.time && to.availableGpuSeconds > from.availableGpuSeconds) {
      total += to.availableGpuSeconds - from.availableGpuSeconds;
    }
  }
  return total;
}
