/**
 * Batching policy (pure): which assets go into the next posting. An asset is a candidate when it
 * has a reading newer than its last built one and either its meters changed since the last posted
 * reading or its heartbeat is due. Candidates are ordered by how long they have waited (oldest
 * posting first, never-posted first of all, then by asset id) and cut into batches of at most
 * `maxBatchSize`; at most `maxBatches` batches per cycle, the rest waits for the next cycle.
 */
import type { AssetState } from "./meters";

export interface BatchPolicy {
  maxBatchSize: number;
  maxBatches: number;
  /** Post an unchanged asset anyway after this long (proves liveness; keeps `isFresh` true). */
  heartbeatSeconds: number;
}

export interface Candidate {
  assetId: string;
  lastPostedAtMs: number | undefined;
}

/** Whether the asset's meter differs from its last posted reading (in whole units) or has never posted. */
export function hasChanged(asset: AssetState): boolean {
  const p = asset.lastPosted;
  if (!p) return true;
  const m = asset.meter;
  return (
    Math.floor(m.busyGpuSeconds).toString() !== p.busyGpuSeconds ||
    Math.floor(m.availableGpuSeconds).toString() !== p.availableGpuSeconds ||
    Math.floor(m.energyJ).toString() !== p.energyJ
  );
}

/** Whether a reading dated now would be strictly newer than the last built one. */
export function hasNewTimestamp(asset: AssetState, nowS: number): boolean {
  if (asset.meter.timeMs === 0) return false;
  const ts = Math.min(Math.floor(asset.meter.timeMs / 1000), nowS);
  return !asset.lastBuilt || ts > asset.lastBuilt.timestamp;
}

/** Selects and orders the assets to post this cycle, as batches of asset ids. */
export function selectBatches(
  assets: Readonly<Record<string, AssetState>>,
  eligible: readonly string[],
  policy: BatchPolicy,
  nowMs: number,
): string[][] {
  const nowS = Math.floor(nowMs / 1000);
  const candidates: Candidate[] = [];
  for (const id of eligible) {
    const a = assets[id];
    if (!a || !hasNewTimestamp(a, nowS)) continue;
    const heartbeatDue = a.lastPostedAtMs === undefined || nowMs - a.lastPostedAtMs >= policy.heartbeatSeconds * 1000;
    if (hasChanged(a) || heartbeatDue) candidates.push({ assetId: id, lastPostedAtMs: a.lastPostedAtMs });
  }
  candidates.sort((x, y) => {
    const ax = x.lastPostedAtMs ?? -1;
    const ay = y.lastPostedAtMs ?? -1;
    if (ax !== ay) return ax - ay;
    const ix = BigInt(x.assetId);
    const iy = BigInt(y.assetId);
    return ix < iy ? -1 : ix > iy ? 1 : 0;
  });
  const batches: string[][] = [];
  for (let i = 0; i < candidates.length && batches.length < policy.maxBatches; i += policy.maxBatchSize) {
    batches.push(candidates.slice(i, i + policy.maxBatchSize).map((c) => c.assetId));
  }
  return batches;
}
