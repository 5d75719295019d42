/**
 * Energy as a priced quantity: what an asset or a lease drew, what it did with it, and what the energy
 * cost. Pure functions over proven meters (`src/meterHistory.ts`), no client.
 *
 * Efficiency is stated two ways, both per GPU-hour:
 * - kWh per busy GPU-hour: the energy per hour of work (for a GPU that idles between jobs this includes
 *   the idle draw, so it rises when work is sparse);
 * - kWh per available GPU-hour: the energy per hour the GPUs were rentable (what capacity costs to
 *   keep on).
 * 1 kWh per GPU-hour is an average of 1,000 W per GPU; the exact form kept on chain's units is joules per
 * GPU-second, which *is* that average power in watts (`wattsPerBusyGpu`).
 */
import type { Meter } from "./eip712";
import { MeterHistory, meterAtTime, type MeteringSpec } from "./meterHistory";
import { JOULES_PER_KWH, SECONDS_PER_HOUR } from "./units";

/** What the meters show over a period: deltas of the cumulative counters. */
export interface EnergyUse {
  /** Seconds between the two meters. */
  seconds: bigint;
  /** Energy drawn, joules. */
  energyJ: bigint;
  /** Busy GPU-seconds. */
  busyGpuSeconds: bigint;
  /** Available GPU-seconds. */
  availableGpuSeconds: bigint;
}

/** Efficiency figures of an `EnergyUse`, for display (undefined where the denominator is zero). */
export interface Efficiency extends EnergyUse {
  energyKWh: number;
  busyGpuHours: number;
  availableGpuHours: number;
  /** Energy per busy GPU-hour, kWh. */
  kwhPerBusyGpuHour?: number;
  /** Energy per available GPU-hour, kWh. */
  kwhPerAvailableGpuHour?: number;
  /** Average power per busy GPU, watts, rounded down (= J per busy GPU-second). */
  wattsPerBusyGpu?: bigint;
  /** Average power per available GPU, watts, rounded down. */
  wattsPerAvailableGpu?: bigint;
  /** Average power of the whole asset over the period, watts, rounded down. */
  averagePowerW?: bigint;
}

/** The counters' growth from `from` to `to` (each clamped at 0: meters only move forward). */
export function energyUse(from: Meter, to: Meter): EnergyUse {
  const grow = (a: bigint, b: bigint) => (b > a ? b - a : 0n);
  return {
    seconds: grow(from.timestamp, to.timestamp),
    energyJ: grow(from.energyJ, to.energyJ),
    busyGpuSeconds: grow(from.busyGpuSeconds, to.busyGpuSeconds),
    availableGpuSeconds: grow(from.availableGpuSeconds, to.availableGpuSeconds),
  };
}

/** The efficiency figures of an energy use. */
export function efficiency(use: EnergyUse): Efficiency {
  const kwh = Number(use.energyJ) / Number(JOULES_PER_KWH);
  const busyH = Number(use.busyGpuSeconds) / Number(SECONDS_PER_HOUR);
  const availableH = Number(use.availableGpuSeconds) / Number(SECONDS_PER_HOUR);
  return {
    ...use,
    energyKWh: kwh,
    busyGpuHours: busyH,
    availableGpuHours: availableH,
    kwhPerBusyGpuHour: use.busyGpuSeconds === 0n ? undefined : kwh / busyH,
    kwhPerAvailableGpuHour: use.availableGpuSeconds === 0n ? undefined : kwh / availableH,
    wattsPerBusyGpu: use.busyGpuSeconds === 0n ? undefined : use.energyJ / use.busyGpuSeconds,
    wattsPerAvailableGpu: use.availableGpuSeconds === 0n ? undefined : use.energyJ / use.availableGpuSeconds,
    averagePowerW: use.seconds === 0n ? undefined : use.energyJ / use.seconds,
  };
}

/**
 * An asset's efficiency over [from, to], from the meter history (meters at both times as the oracle
 * proves them: the start bound Upper, the end bound Lower, as a bill counts a window). Undefined while
 * no reading at or after `to` exists.
 */
export function assetEfficiency(
  history: MeterHistory,
  assetId: bigint,
  spec: MeteringSpec,
  from: bigint,
  to: bigint,
): Efficiency | undefined {
  const start = meterAtTime(history, assetId, from, spec, "upper");
  const end = meterAtTime(history, assetId, to, spec, "lower");
  if (!start || !end) return undefined;
  return efficiency(energyUse(start, end));
}

/** What `leaseEfficiency` needs of a lease (`ISettlementEscrow.leaseOf` has it). */
export interface LeaseSpan {
  assetId: bigint;
  startTime: bigint;
  endTime: bigint;
}

/**
 * A lease's efficiency from its start up to its end, or up to the asset's latest reading inside the
 * lease while the end is not yet provable (the same span a bill covers). Undefined before any reading
 * after the lease start.
 */
export function leaseEfficiency(history: MeterHistory, lease: LeaseSpan, spec: MeteringSpec): Efficiency | undefined {
  const start = meterAtTime(history, lease.assetId, lease.startTime, spec, "upper");
  if (!start) return undefined;
  let end = meterAtTime(history, lease.assetId, lease.endTime, spec, "lower");
  if (!end) {
    const last = history.latest(lease.assetId, lease.endTime);
    if (!last || !(last.meter.timestamp > lease.startTime)) return undefined;
    end = last.meter;
  }
  return efficiency(energyUse(start, end));
}

/** The energy charge of `energyJ` at `pricePerKWh` (token base units per kWh), rounded down as `SettlementMath` does. */
export function energyCharge(energyJ: bigint, pricePerKWh: bigint): bigint {
  return (energyJ * pricePerKWh) / JOULES_PER_KWH;
}

/** A kWh figure with `digits` decimals, for tables. */
export function formatKWh(energyJ: bigint, digits = 3): string {
  return (Number(energyJ) / Number(JOULES_PER_KWH)).toFixed(digits);
}
