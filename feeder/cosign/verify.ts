/**
 * A peer's check of a proposed batch against its own view (pure): its view of the chain (next batch
 * index, previous batch time, each asset's latest reading and the batch holding it), its own meters
 * (history + anchors), and the configured tolerances. The result names every reading it refuses and
 * why; the batch as a whole is refused (no per-reading verdicts) when its round, time or shape is wrong.
 */
import {
  caps,
  compareReading,
  readingAt,
  type Anchor,
  type ChainReading,
  type OwnHistory,
  type ReadingLimits,
  type Tolerance,
} from "./anchors";
import type { UsageBatch } from "../../src/eip712";
import type { ReadingVerdict } from "./protocol";

export interface ChainView {
  /** The oracle's next batch index (1 before any batch). */
  nextBatchIndex: number;
  /** The latest batch's timestamp (undefined before any batch). */
  lastBatchTimestamp?: number;
  configVersion: bigint;
  /** Each asset's latest reading on chain. */
  latest: ReadonlyMap<string, ChainReading>;
}

export interface OwnView {
  history: OwnHistory;
  /** Anchors by asset id (see anchors.ts); built from history when missing. */
  anchorOf(assetId: string, prev: ChainReading): Anchor | undefined;
  /** The asset's limits, or undefined when this feeder does not meter the asset. */
  limitsOf(assetId: string): ReadingLimits | undefined;
}

export interface TimePolicy {
  nowMs: number;
  /** Proposals date batches this long before their sending time (every feeder has samples past it). */
  proposalLagMs: number;
  /** How far the batch time may be from this feeder's own `now − lag`. */
  maxTimeSkewMs: number;
  /** Most readings a batch may hold. */
  maxReadings: number;
}

export type BatchCheck = { ok: false; reason: string } | { ok: true; verdicts: ReadingVerdict[] };

export function checkBatch(
  batch: UsageBatch,
  chain: ChainView,
  own: OwnView,
  tol: Tolerance,
  time: TimePolicy,
): BatchCheck {
  if (batch.configVersion !== chain.configVersion)
    return { ok: false, reason: `configVersion ${batch.configVersion}, the oracle is at ${chain.configVersion}` };
  if (batch.batchIndex !== BigInt(chain.nextBatchIndex))
    return {
      ok: false,
      reason: `batch index ${batch.batchIndex}, this feeder's view of the oracle expects ${chain.nextBatchIndex}`,
    };
  if (batch.readings.length === 0 || batch.readings.length > time.maxReadings)
    return { ok: false, reason: `a batch holds 1 to ${time.maxReadings} readings, got ${batch.readings.length}` };
  for (let i = 1; i < batch.readings.length; i++)
    if (batch.readings[i].assetId <= batch.readings[i - 1].assetId)
      return { ok: false, reason: `asset ids must strictly increase (reading ${i})` };
  const timestamp = Number(batch.timestamp);
  if (chain.lastBatchTimestamp !== undefined && timestamp <= chain.lastBatchTimestamp)
    return {
      ok: false,
      reason: `timestamp ${batch.timestamp} is not after the previous batch's ${chain.lastBatchTimestamp}`,
    };
  const mine = time.nowMs - time.proposalLagMs;
  const skew = timestamp * 1000 - mine;
  if (Math.abs(skew) > time.maxTimeSkewMs)
    return {
      ok: false,
      reason: `batch time is ${(skew / 1000).toFixed(1)} s from this feeder's clock (tolerance ${time.maxTimeSkewMs / 1000} s)`,
    };
  const verdicts = batch.readings.map((r): ReadingVerdict => {
    const assetId = r.assetId.toString();
    const refuse = (reason: string): ReadingVerdict => ({ assetId, ok: false, reason });
    const limits = own.limitsOf(assetId);
    if (!limits) return refuse("this feeder does not meter the asset");
    const prev = chain.latest.get(assetId);
    if (r.previousBatch !== BigInt(prev?.batchIndex ?? 0))
      return refuse(`previousBatch ${r.previousBatch}, this feeder's view of the chain says ${prev?.batchIndex ?? 0}`);
    const at = own.history.valueAt(assetId, timestamp * 1000);
    if (!at) return refuse("this feeder has no samples of the asset around the batch time");
    if (prev) {
      const dt = timestamp - prev.timestamp;
      const cap = caps(limits, dt);
      const dAvail = r.availableGpuSeconds - prev.availableGpuSeconds;
      const dBusy = r.busyGpuSeconds - prev.busyGpuSeconds;
      const dEnergy = r.energyJ - prev.energyJ;
      if (dAvail < 0n || dBusy < 0n || dEnergy < 0n) return refuse("a counter decreased");
      if (dAvail > cap.avail) return refuse(`available +${dAvail} exceeds ${limits.gpuCount} GPUs × ${dt} s`);
      if (dBusy > dAvail) return refuse(`busy +${dBusy} exceeds available +${dAvail}`);
      if (dEnergy > cap.energy) return refuse(`energy +${dEnergy} J exceeds the TDP bound ${cap.energy} J`);
    }
    const anchor = prev ? own.anchorOf(assetId, prev) : undefined;
    if (prev && !anchor) return refuse("this feeder has no samples of the asset around its previous reading");
    const expected = readingAt(assetId, timestamp, prev, anchor, at, limits);
    if (!expected) return refuse("this feeder cannot compute the reading");
    const why = compareReading(r, prev, expected, limits, tol);
    return why ? refuse(why) : { assetId, ok: true };
  });
  return { ok: true, verdicts };
}
