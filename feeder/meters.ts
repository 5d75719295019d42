/**
 * Meters: per asset, cumulative busy GPU-seconds, available GPU-seconds and energy in joules, built
 * from per-GPU samples over time. Pure (no I/O); the state is plain JSON so it can be persisted.
 *
 * Per GPU, between two consecutive samples at most `staleAfterSeconds` apart, the interval Δt counts
 * as available, busy for utilization% × Δt (utilization describes the sample period that ends at the
 * sample; a sample without utilization leaves the interval's busy time **unknown**: none accrues,
 * and the GPU's `busyUnknownSeconds` grows so the feeder can say so), and energy is the counter's difference (a counter below its previous value has reset:
 * the energy since the reset, i.e. the new value, is taken — a lower bound) or, without a counter,
 * the trapezoid of the two power readings. A longer gap means the GPU stopped reporting: none of
 * it is available or busy, and power is not extrapolated across it (a counter still is: the energy
 * was really drawn).
 *
 * A reading is the floor of the meter at the asset's newest sample time, capped so that it always
 * passes the oracle's bounds against the previous reading: busy ≤ available ≤ gpuCount × Δt and
 * energy ≤ gpuCount × TDP × Δt × margin. Anything above a cap is dropped from the meter too, so the
 * local meter and the chain stay equal.
 */
import type { AssetLimits, GpuSample, OracleReading } from "./types";

export interface GpuState {
  assetId: string;
  lastTimeMs: number;
  lastPowerW?: number;
  lastEnergyCounterJ?: number;
  /** Whether the newest sample reported utilization (false: busy unknown). */
  busyKnown?: boolean;
  /** Available seconds whose busy time was unknown (no utilization reported), cumulative. */
  busyUnknownSeconds?: number;
  /** Seconds between samples further apart than `staleAfterSeconds` (not metered), cumulative. */
  gapSeconds?: number;
}

/** Cumulative meter of one asset; values are fractional, readings floor them. */
export interface AssetMeter {
  busyGpuSeconds: number;
  availableGpuSeconds: number;
  energyJ: number;
  /** Newest sample time folded into the meter, unix ms (0 = none yet). */
  timeMs: number;
}

/** A reading in JSON-safe form (decimal strings), as kept in the state file. */
export interface StoredReading {
  timestamp: number;
  busyGpuSeconds: string;
  availableGpuSeconds: string;
  energyJ: string;
}

export interface AssetState {
  meter: AssetMeter;
  /** The newest reading built for this asset (signed; maybe not yet on chain). Next caps are relative to it. */
  lastBuilt?: StoredReading;
  /** The newest reading known to be on chain. */
  lastPosted?: StoredReading;
  /** When `lastPosted` was confirmed, unix ms (for the heartbeat and metrics). */
  lastPostedAtMs?: number;
}

export interface MeterState {
  gpus: Record<string, GpuState>;
  assets: Record<string, AssetState>;
}

export interface MeterOptions {
  /** Samples further apart than this mean the GPU stopped reporting in between. */
  staleAfterSeconds: number;
}

export function emptyMeterState(): MeterState {
  return { gpus: {}, assets: {} };
}

function assetState(state: MeterState, assetId: string): AssetState {
  let a = state.assets[assetId];
  if (!a) {
    a = { meter: { busyGpuSeconds: 0, availableGpuSeconds: 0, energyJ: 0, timeMs: 0 } };
    state.assets[assetId] = a;
  }
  return a;
}

/**
 * Folds samples into the state. Samples of unknown GPUs are ignored (returned count excludes them);
 * samples not newer than the GPU's previous one are ignored. Returns the number of samples used.
 */
export function ingestSamples(
  state: MeterState,
  samples: readonly GpuSample[],
  assetOfGpu: ReadonlyMap<string, string>,
  options: MeterOptions,
): number {
  const sorted = samples.length > 1 ? [...samples].sort((a, b) => a.timeMs - b.timeMs) : samples;
  let used = 0;
  for (const s of sorted) {
    const assetId = assetOfGpu.get(s.uuid);
    if (assetId === undefined) continue;
    const asset = assetState(state, assetId);
    const g = state.gpus[s.uuid];
    if (!g || g.assetId !== assetId) {
      state.gpus[s.uuid] = {
        assetId,
        lastTimeMs: s.timeMs,
        lastPowerW: s.powerW,
        lastEnergyCounterJ: s.energyCounterJ,
        busyKnown: s.utilizationPct !== undefined,
        busyUnknownSeconds: 0,
      };
      asset.meter.timeMs = Math.max(asset.meter.timeMs, s.timeMs);
      used++;
      continue;
    }
    const dtS = (s.timeMs - g.lastTimeMs) / 1000;
    if (dtS <= 0) continue;
    const fresh = dtS <= options.staleAfterSeconds;
    const m = asset.meter;
    if (fresh) {
      m.availableGpuSeconds += dtS;
      if (s.utilizationPct !== undefined) m.busyGpuSeconds += (dtS * s.utilizationPct) / 100;
      else g.busyUnknownSeconds = (g.busyUnknownSeconds ?? 0) + dtS;
    } else g.gapSeconds = (g.gapSeconds ?? 0) + dtS;
    if (s.energyCounterJ !== undefined && g.lastEnergyCounterJ !== undefined) {
      const d = s.energyCounterJ - g.lastEnergyCounterJ;
      m.energyJ += d >= 0 ? d : s.energyCounterJ; // a reset: count what accrued since it
    } else if (fresh) {
      const p0 = g.lastPowerW;
      const p1 = s.powerW;
      if (p0 !== undefined && p1 !== undefined) m.energyJ += ((p0 + p1) / 2) * dtS;
      else if (p1 !== undefined) m.energyJ += p1 * dtS;
      else if (p0 !== undefined) m.energyJ += p0 * dtS;
    }
    g.lastTimeMs = s.timeMs;
    g.lastPowerW = s.powerW;
    g.lastEnergyCounterJ = s.energyCounterJ;
    g.busyKnown = s.utilizationPct !== undefined;
    m.timeMs = Math.max(m.timeMs, s.timeMs);
    used++;
  }
  return used;
}

export function toStored(r: OracleReading): StoredReading {
  return {
    timestamp: Number(r.timestamp),
    busyGpuSeconds: r.busyGpuSeconds.toString(),
    availableGpuSeconds: r.availableGpuSeconds.toString(),
    energyJ: r.energyJ.toString(),
  };
}

export function fromStored(assetId: string, r: StoredReading): OracleReading {
  return {
    assetId: BigInt(assetId),
    timestamp: BigInt(r.timestamp),
    busyGpuSeconds: BigInt(r.busyGpuSeconds),
    availableGpuSeconds: BigInt(r.availableGpuSeconds),
    energyJ: BigInt(r.energyJ),
  };
}

export interface ReadingOptions {
  /** The oracle's energy margin in basis points (10000 = exactly gpuCount × TDP × Δt). */
  energyMarginBps: number;
  /** Current time, unix seconds: a reading is never dated after it. */
  nowS: number;
}

/**
 * Builds the next reading of an asset, or undefined when none is possible (no samples yet, or no
 * second has passed since the previous reading). With no previous reading the asset's first report
 * is all zero at the current meter time and the meter restarts from zero there ("cumulative since
 * the asset's first report"). Mutates the meter only to drop what a cap removed.
 */
export function buildReading(
  assetId: string,
  asset: AssetState,
  limits: AssetLimits,
  options: ReadingOptions,
): OracleReading | undefined {
  const m = asset.meter;
  if (m.timeMs === 0) return undefined;
  const ts = Math.min(Math.floor(m.timeMs / 1000), options.nowS);
  const prev = asset.lastBuilt;
  if (!prev) {
    m.busyGpuSeconds = 0;
    m.availableGpuSeconds = 0;
    m.energyJ = 0;
    return {
      assetId: BigInt(assetId),
      timestamp: BigInt(ts),
      busyGpuSeconds: 0n,
      availableGpuSeconds: 0n,
      energyJ: 0n,
    };
  }
  if (ts <= prev.timestamp) return undefined;
  const dt = BigInt(ts - prev.timestamp);
  const pBusy = BigInt(prev.busyGpuSeconds);
  const pAvail = BigInt(prev.availableGpuSeconds);
  const pEnergy = BigInt(prev.energyJ);
  const floorBig = (x: number) => BigInt(Math.floor(x));
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  const avail = min(max(floorBig(m.availableGpuSeconds), pAvail), pAvail + BigInt(limits.gpuCount) * dt);
  const busy = min(max(floorBig(m.busyGpuSeconds), pBusy), pBusy + (avail - pAvail));
  const energyCap =
    (BigInt(limits.gpuCount) * BigInt(limits.tdpWattsPerGpu) * dt * BigInt(options.energyMarginBps)) / 10_000n;
  const energy = min(max(floorBig(m.energyJ), pEnergy), pEnergy + energyCap);
  // Keep the meter consistent with what is posted: never below the reading, never above a cap.
  m.availableGpuSeconds = clampTo(m.availableGpuSeconds, avail);
  m.busyGpuSeconds = clampTo(m.busyGpuSeconds, busy);
  m.energyJ = clampTo(m.energyJ, energy);
  return {
    assetId: BigInt(assetId),
    timestamp: BigInt(ts),
    busyGpuSeconds: busy,
    availableGpuSeconds: avail,
    energyJ: energy,
  };
}

/** Keeps the fractional part when `value` floors to `reading`; otherwise sets it to the reading. */
function clampTo(value: number, reading: bigint): number {
  return BigInt(Math.floor(value)) === reading ? value : Number(reading);
}

/**
 * Reconciles the local state of an asset with the chain's latest reading at start. The chain wins
 * where it is ahead (a transaction mined after the last state write, or a lost state file): the
 * meter is raised to it and it becomes the reference for the next caps.
 */
export function reconcileWithChain(
  asset: AssetState,
  chain: OracleReading | undefined,
  nowMs: number,
): "in-sync" | "chain-ahead" | "chain-behind" | "never-posted" {
  if (!chain || chain.timestamp === 0n) {
    if (asset.lastPosted) {
      delete asset.lastPosted;
      return "chain-behind";
    }
    return "never-posted";
  }
  const stored = toStored(chain);
  const m = asset.meter;
  const local = asset.lastBuilt;
  let outcome: "in-sync" | "chain-ahead" | "chain-behind" = "in-sync";
  if (!local || stored.timestamp > local.timestamp) {
    outcome = "chain-ahead";
    asset.lastBuilt = stored;
  } else if (!asset.lastPosted || stored.timestamp > asset.lastPosted.timestamp) {
    // A built reading reached the chain after the last state write: fine, nothing to do but record it.
    outcome = stored.timestamp === local.timestamp ? "in-sync" : "chain-behind";
  } else if (stored.timestamp < asset.lastPosted.timestamp) outcome = "chain-behind";
  if (!asset.lastPosted || stored.timestamp !== asset.lastPosted.timestamp) {
    asset.lastPosted = stored;
    asset.lastPostedAtMs = asset.lastPostedAtMs ?? nowMs;
  }
  if (m.availableGpuSeconds < Number(chain.availableGpuSeconds))
    m.availableGpuSeconds = Number(chain.availableGpuSeconds);
  if (m.busyGpuSeconds < Number(chain.busyGpuSeconds)) m.busyGpuSeconds = Number(chain.busyGpuSeconds);
  if (m.energyJ < Number(chain.energyJ)) m.energyJ = Number(chain.energyJ);
  if (m.timeMs < Number(chain.timestamp) * 1000) m.timeMs = Number(chain.timestamp) * 1000;
  return outcome;
}
