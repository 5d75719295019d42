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
 * The meters count from this feeder's own start; readings are built from their increase since the
 * chain's previous reading of the asset (`cosign/anchors.ts`), never from their absolute values.
 */
import type { GpuSample } from "./types";

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

/** A reading in JSON-safe form (decimal strings), as the state file keeps a pending transaction's. */
export interface StoredReading {
  timestamp: number;
  busyGpuSeconds: string;
  availableGpuSeconds: string;
  energyJ: string;
}

export interface AssetState {
  meter: AssetMeter;
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
