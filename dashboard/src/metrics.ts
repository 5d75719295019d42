/**
 * Derived figures of the meters (STYLE 17: computed in the page, not stored). All inputs are the
 * oracle's cumulative counters; every figure is a ratio of differences between two readings.
 */

/** Joules in one kilowatt-hour (src/units.ts JOULES_PER_KWH). */
export const JOULES_PER_KWH = 3_600_000;

/** One accepted reading, as the indexer stores it. */
export interface Reading {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** An asset's figures over a span of readings. */
export interface SpanFigures {
  /** Seconds between the first and the last reading. */
  seconds: number;
  /** Busy GPU-hours in the span. */
  busyGpuHours: number;
  /** Available (healthy, rentable) GPU-hours in the span. */
  availableGpuHours: number;
  /** Busy / available GPU-seconds. */
  utilization: number;
  /** Available GPU-seconds / (GPU count x seconds). */
  availability: number;
  /** Energy in the span, kWh. */
  energyKwh: number;
  /** Energy per available GPU-hour, kWh (what one GPU-hour of the fleet's time costs in energy). */
  kwhPerGpuHour: number;
}

/** The figures between the first and the last of `readings` (ascending by timestamp). */
export function spanFigures(readings: readonly Reading[], gpuCount: number): SpanFigures {
  if (readings.length < 2) {
    return {
      seconds: 0,
      busyGpuHours: 0,
      availableGpuHours: 0,
      utilization: NaN,
      availability: NaN,
      energyKwh: 0,
      kwhPerGpuHour: NaN,
    };
  }
  return between(readings[0]!, readings[readings.length - 1]!, gpuCount);
}

/** The figures between two readings. */
export function between(first: Reading, last: Reading, gpuCount: number): SpanFigures {
  const seconds = Number(last.timestamp - first.timestamp);
  const busy = Number(last.busyGpuSeconds - first.busyGpuSeconds);
  const available = Number(last.availableGpuSeconds - first.availableGpuSeconds);
  const energyKwh = Number(last.energyJ - first.energyJ) / JOULES_PER_KWH;
  return {
    seconds,
    busyGpuHours: busy / 3600,
    availableGpuHours: available / 3600,
    utilization: available > 0 ? busy / available : NaN,
    availability: seconds > 0 ? available / (gpuCount * seconds) : NaN,
    energyKwh,
    kwhPerGpuHour: available > 0 ? energyKwh / (available / 3600) : NaN,
  };
}

/** Per-interval series for the charts: one point per reading after the first. */
export interface Series {
  /** Interval end, unix seconds. */
  time: number[];
  /** Utilization in the interval, %. */
  utilizationPct: (number | null)[];
  /** Availability in the interval, %. */
  availabilityPct: (number | null)[];
  /** Mean power in the interval, kW. */
  powerKw: (number | null)[];
  /** Cumulative energy since the first reading, kWh. */
  energyKwh: number[];
}

/** Builds the charts' series from consecutive readings (ascending by timestamp). */
export function intervalSeries(readings: readonly Reading[], gpuCount: number): Series {
  const out: Series = { time: [], utilizationPct: [], availabilityPct: [], powerKw: [], energyKwh: [] };
  for (let i = 1; i < readings.length; i++) {
    const f = between(readings[i - 1]!, readings[i]!, gpuCount);
    out.time.push(Number(readings[i]!.timestamp));
    out.utilizationPct.push(Number.isFinite(f.utilization) ? f.utilization * 100 : null);
    out.availabilityPct.push(Number.isFinite(f.availability) ? f.availability * 100 : null);
    out.powerKw.push(f.seconds > 0 ? (f.energyKwh * 3600) / f.seconds : null);
    out.energyKwh.push(Number(readings[i]!.energyJ - readings[0]!.energyJ) / JOULES_PER_KWH);
  }
  return out;
}
