/**
 * Unit conversions shared by the contracts' users: the feeder, the tests, the escrow and integrators.
 * Units are those of docs/DESIGN ("Units"): seconds, GPU-seconds, joules and basis points on chain.
 * Exact integer conversions return bigint; conversions to display units return number.
 */

/** Joules in one kilowatt-hour. */
export const JOULES_PER_KWH = 3_600_000n;
/** Seconds in one hour (also GPU-seconds in one GPU-hour). */
export const SECONDS_PER_HOUR = 3_600n;
/** Basis points in 100 %. */
export const BPS_DENOMINATOR = 10_000n;
/** Millijoules in one joule (the DCGM energy counter is in mJ). */
export const MILLIJOULES_PER_JOULE = 1_000n;

function nonNegative(value: bigint, what: string): void {
  if (value < 0n) throw new RangeError(`${what} must not be negative: ${value}`);
}

function finiteNonNegative(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be a finite number >= 0: ${value}`);
}

/** Joules to kilowatt-hours (for display; loses precision beyond 2^53 J). */
export function joulesToKwh(joules: bigint): number {
  nonNegative(joules, "joules");
  return Number(joules) / Number(JOULES_PER_KWH);
}

/** Kilowatt-hours to whole joules, rounded to the nearest joule. */
export function kwhToJoules(kwh: number): bigint {
  finiteNonNegative(kwh, "kWh");
  return BigInt(Math.round(kwh * Number(JOULES_PER_KWH)));
}

/** Millijoules (DCGM `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION`) to whole joules, rounded down. */
export function millijoulesToJoules(millijoules: bigint): bigint {
  nonNegative(millijoules, "millijoules");
  return millijoules / MILLIJOULES_PER_JOULE;
}

/** Energy of a constant power over a time: watts x seconds = joules (not rounded). */
export function wattsSecondsToJoules(watts: number, seconds: number): number {
  finiteNonNegative(watts, "watts");
  finiteNonNegative(seconds, "seconds");
  return watts * seconds;
}

/** GPU-seconds to GPU-hours (for display and pricing in off-chain code). */
export function gpuSecondsToGpuHours(gpuSeconds: bigint): number {
  nonNegative(gpuSeconds, "GPU-seconds");
  return Number(gpuSeconds) / Number(SECONDS_PER_HOUR);
}

/** GPU-hours to whole GPU-seconds, rounded to the nearest second. */
export function gpuHoursToGpuSeconds(gpuHours: number): bigint {
  finiteNonNegative(gpuHours, "GPU-hours");
  return BigInt(Math.round(gpuHours * Number(SECONDS_PER_HOUR)));
}

/** `part / whole` in basis points, rounded down (0 when `whole` is 0), e.g. utilization = busy / available. */
export function ratioBps(part: bigint, whole: bigint): bigint {
  nonNegative(part, "part");
  nonNegative(whole, "whole");
  if (whole === 0n) return 0n;
  return (part * BPS_DENOMINATOR) / whole;
}

/** `amount x bps / 10000`, rounded down (e.g. a margin or a credit in basis points). */
export function applyBps(amount: bigint, bps: bigint): bigint {
  nonNegative(amount, "amount");
  nonNegative(bps, "bps");
  return (amount * bps) / BPS_DENOMINATOR;
}

/** Basis points to a fraction (10000 bps = 1), for display. */
export function bpsToFraction(bps: bigint | number): number {
  return Number(bps) / Number(BPS_DENOMINATOR);
}

/** A fraction (0.95 = 95 %) to whole basis points, rounded to the nearest basis point. */
export function fractionToBps(fraction: number): bigint {
  finiteNonNegative(fraction, "fraction");
  return BigInt(Math.round(fraction * Number(BPS_DENOMINATOR)));
}

/**
 * The largest energy delta the oracle accepts between two readings (`MeterLib.checkDelta`):
 * gpuCount x tdpWattsPerGpu x elapsedSeconds x (10000 + energyMarginBps) / 10000, rounded down.
 */
export function maxEnergyDeltaJ(
  gpuCount: bigint,
  tdpWattsPerGpu: bigint,
  elapsedSeconds: bigint,
  energyMarginBps: bigint,
): bigint {
  return (gpuCount * elapsedSeconds * tdpWattsPerGpu * (BPS_DENOMINATOR + energyMarginBps)) / BPS_DENOMINATOR;
}
