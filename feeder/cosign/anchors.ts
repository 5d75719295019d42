/**
 * Readings every operator can agree on (pure). Each feeder's local meters count from whenever that
 * feeder started, so operators never compare raw cumulative values: a reading is the chain's
 * previous reading of the asset plus this feeder's own increase of the meter since that reading's
 * time. The own meter at a past time comes from a short history of snapshots, linearly interpolated
 * between the two samples around it; the link between the chain's value and the own meter at the
 * previous reading's time is an **anchor** (kept in the state file, so a restart resumes it).
 *
 * A proposer builds `chain + ownDelta` (capped to what is physically possible); a peer computes its
 * own delta over the same interval and accepts when the two agree within tolerance.
 */
import type { Reading } from "../../src/eip712";
import type { AssetMeter } from "../meters";
import type { AssetLimits } from "../types";

/** A meter value at one time (unix ms): cumulative busy, available (GPU-seconds), energy (J). */
export interface Snapshot {
  tMs: number;
  busy: number;
  avail: number;
  energy: number;
}

/** The chain's latest reading of an asset: in batch `batchIndex`, at the batch's timestamp. */
export interface ChainReading {
  assetId: string;
  batchIndex: number;
  timestamp: number;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** Links the chain's reading of an asset (batch `batchIndex`) to this feeder's own meter at that time. */
export interface Anchor {
  batchIndex: number;
  /** The own meter value standing for the chain's value (fractions carried from our own readings). */
  own: { busy: number; avail: number; energy: number };
}

/** This feeder's own per-asset meter snapshots, oldest first; pruned to what anchors still need. */
export class OwnHistory {
  private readonly snaps = new Map<string, Snapshot[]>();

  constructor(private readonly maxPerAsset = 100_000) {}

  /** Appends the asset's meter if it moved to a newer sample time. */
  record(assetId: string, m: AssetMeter): void {
    if (m.timeMs === 0) return;
    let list = this.snaps.get(assetId);
    if (!list) this.snaps.set(assetId, (list = []));
    const last = list[list.length - 1];
    if (last && m.timeMs <= last.tMs) return;
    list.push({ tMs: m.timeMs, busy: m.busyGpuSeconds, avail: m.availableGpuSeconds, energy: m.energyJ });
    if (list.length > this.maxPerAsset) list.splice(0, list.length - this.maxPerAsset);
  }

  /** Time of the oldest snapshot, or 0. */
  firstMs(assetId: string): number {
    return this.snaps.get(assetId)?.[0]?.tMs ?? 0;
  }

  /** Time of the newest snapshot, or 0. */
  newestMs(assetId: string): number {
    const list = this.snaps.get(assetId);
    return list?.length ? list[list.length - 1].tMs : 0;
  }

  /**
   * The meter at `tMs`, interpolated between the snapshots around it; exactly a snapshot's value at
   * its time; undefined before the first or after the newest snapshot (not observed).
   */
  valueAt(assetId: string, tMs: number): Snapshot | undefined {
    const list = this.snaps.get(assetId);
    if (!list?.length || tMs < list[0].tMs || tMs > list[list.length - 1].tMs) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (list[mid].tMs <= tMs) lo = mid;
      else hi = mid;
    }
    const a = list[lo];
    const b = list[hi];
    if (a.tMs === tMs || a === b) return { ...a, tMs };
    if (b.tMs === tMs) return { ...b, tMs };
    const f = (tMs - a.tMs) / (b.tMs - a.tMs);
    return {
      tMs,
      busy: a.busy + (b.busy - a.busy) * f,
      avail: a.avail + (b.avail - a.avail) * f,
      energy: a.energy + (b.energy - a.energy) * f,
    };
  }

  /** Drops snapshots older than the one at or before `tMs` (keeps what interpolation at `tMs` needs). */
  prune(assetId: string, tMs: number): void {
    const list = this.snaps.get(assetId);
    if (!list) return;
    let keepFrom = 0;
    while (keepFrom + 1 < list.length && list[keepFrom + 1].tMs <= tMs) keepFrom++;
    if (keepFrom > 0) list.splice(0, keepFrom);
  }
}

/** The own-meter increase since the anchor, never negative. */
export function ownDelta(anchor: Anchor, at: Snapshot): { busy: number; avail: number; energy: number } {
  return {
    busy: Math.max(0, at.busy - anchor.own.busy),
    avail: Math.max(0, at.avail - anchor.own.avail),
    energy: Math.max(0, at.energy - anchor.own.energy),
  };
}

export interface ReadingLimits extends AssetLimits {
  /** The oracle's energy allowance in basis points of gpuCount × TDP × Δt (10000 + energyMarginBps). */
  energyFactorBps: number;
}

/** The most an asset can accrue in `dtS` seconds, per counter. */
export function caps(limits: ReadingLimits, dtS: number): { avail: bigint; energy: bigint } {
  const dt = BigInt(Math.max(0, dtS));
  const g = BigInt(limits.gpuCount);
  return {
    avail: g * dt,
    energy: (g * BigInt(limits.tdpWattsPerGpu) * dt * BigInt(limits.energyFactorBps)) / 10_000n,
  };
}

const floorBig = (x: number) => BigInt(Math.floor(x));
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * The reading of an asset at batch time `timestampS`: the chain's previous reading plus the own
 * delta since it (floored, capped so busy ≤ available ≤ gpuCount × Δt and energy within the TDP
 * bound). Without a previous reading, the first report: all zero, `previousBatch` 0.
 */
export function readingAt(
  assetId: string,
  timestampS: number,
  prev: ChainReading | undefined,
  anchor: Anchor | undefined,
  at: Snapshot,
  limits: ReadingLimits,
): Reading | undefined {
  if (!prev)
    return { assetId: BigInt(assetId), previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n };
  if (!anchor || anchor.batchIndex !== prev.batchIndex || timestampS <= prev.timestamp) return undefined;
  const d = ownDelta(anchor, at);
  const cap = caps(limits, timestampS - prev.timestamp);
  const avail = minBig(floorBig(d.avail), cap.avail);
  const busy = minBig(floorBig(d.busy), avail);
  const energy = minBig(floorBig(d.energy), cap.energy);
  return {
    assetId: BigInt(assetId),
    previousBatch: BigInt(prev.batchIndex),
    busyGpuSeconds: prev.busyGpuSeconds + busy,
    availableGpuSeconds: prev.availableGpuSeconds + avail,
    energyJ: prev.energyJ + energy,
  };
}

/**
 * The anchor after the chain accepted `accepted` (this asset's reading at the batch's time) given
 * the own meter `at` that time. When the reading is exactly what this feeder would have built from
 * `previous` (its own, or one it agreed with to the unit), the fractions below one unit are carried
 * into the new anchor; otherwise the anchor restarts at the own meter (the chain's word wins).
 */
export function advanceAnchor(
  previous: { anchor: Anchor; chain: ChainReading } | undefined,
  accepted: ChainReading,
  at: Snapshot,
): Anchor {
  if (previous && previous.anchor.batchIndex === previous.chain.batchIndex) {
    const d = ownDelta(previous.anchor, at);
    const same =
      previous.chain.busyGpuSeconds + floorBig(d.busy) === accepted.busyGpuSeconds &&
      previous.chain.availableGpuSeconds + floorBig(d.avail) === accepted.availableGpuSeconds &&
      previous.chain.energyJ + floorBig(d.energy) === accepted.energyJ;
    if (same) {
      const a = previous.anchor.own;
      return {
        batchIndex: accepted.batchIndex,
        own: {
          busy: a.busy + Number(accepted.busyGpuSeconds - previous.chain.busyGpuSeconds),
          avail: a.avail + Number(accepted.availableGpuSeconds - previous.chain.availableGpuSeconds),
          energy: a.energy + Number(accepted.energyJ - previous.chain.energyJ),
        },
      };
    }
  }
  return { batchIndex: accepted.batchIndex, own: { busy: at.busy, avail: at.avail, energy: at.energy } };
}

/** How far two operators' deltas may differ: one unit (flooring), `slack`, plus `pct` percent of the larger. */
export interface Tolerance {
  /** Busy GPU-seconds: percent of the larger delta. */
  busyPct: number;
  availablePct: number;
  energyPct: number;
  /** Absolute slack per GPU, seconds (sampling phase between operators); energy slack is this × TDP. */
  slackSecondsPerGpu: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { busyPct: 3, availablePct: 2, energyPct: 5, slackSecondsPerGpu: 1 };

/** Why a proposed reading is refused, or undefined when it is within tolerance of the own delta. */
export function compareReading(
  proposed: Reading,
  prev: ChainReading | undefined,
  expected: Reading,
  limits: ReadingLimits,
  tol: Tolerance,
): string | undefined {
  if (proposed.previousBatch !== expected.previousBatch)
    return `previousBatch ${proposed.previousBatch}, this feeder's view of the chain says ${expected.previousBatch}`;
  if (!prev) {
    if (proposed.busyGpuSeconds || proposed.availableGpuSeconds || proposed.energyJ)
      return "a first report must be all zero";
    return undefined;
  }
  const check = (what: string, p: bigint, e: bigint, base: bigint, pct: number, slack: number): string | undefined => {
    const dp = Number(p - base);
    const de = Number(e - base);
    if (dp < 0) return `${what} decreased`;
    // One unit for flooring (both sides floor their own delta), the slack, and the percentage.
    const allowed = 1 + slack + (pct / 100) * Math.max(dp, de);
    const diff = Math.abs(dp - de);
    return diff > allowed
      ? `${what} +${dp}, this feeder measured +${de} (allowed difference ${allowed.toFixed(1)})`
      : undefined;
  };
  const g = limits.gpuCount;
  const s = tol.slackSecondsPerGpu;
  return (
    check(
      "busyGpuSeconds",
      proposed.busyGpuSeconds,
      expected.busyGpuSeconds,
      prev.busyGpuSeconds,
      tol.busyPct,
      s * g,
    ) ??
    check(
      "availableGpuSeconds",
      proposed.availableGpuSeconds,
      expected.availableGpuSeconds,
      prev.availableGpuSeconds,
      tol.availablePct,
      s * g,
    ) ??
    check("energyJ", proposed.energyJ, expected.energyJ, prev.energyJ, tol.energyPct, s * g * limits.tdpWattsPerGpu)
  );
}
