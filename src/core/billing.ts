/**
 * The escrow's billing math in TypeScript, client-free: `leaseBill` and `fullUseCost` mirror
 * `contracts/libraries/SettlementMath.sol` to the unit (tested equal to the contract), so an
 * integrator can preview what a settlement or a close will charge from meters alone (for example
 * with `meterAtTime` of `src/meterHistory.ts`).
 */

/** An asset's cumulative meters at one time (GPU-seconds, joules). */
export interface MeterValues {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** The parts of a lease's terms its bill depends on (token base units; bps). */
export interface BillingTerms {
  reservationPricePerGpuHour: bigint;
  usagePricePerBusyGpuHour: bigint;
  energyPricePerKWh: bigint;
  slaAvailabilityBps: bigint;
}

/** `LeaseBill`: a lease's bill from its start up to a meter time. */
export interface LeaseBill {
  meteredSeconds: bigint;
  availabilityBps: bigint;
  reservationFee: bigint;
  usageFee: bigint;
  energyFee: bigint;
  slaCredit: bigint;
  total: bigint;
}

const SECONDS_PER_HOUR = 3_600n;
const JOULES_PER_KWH = 3_600_000n;
const BPS = 10_000n;
/** `SettlementMath.MAX_ENERGY_MARGIN_BPS` (= `UsageOracle.MAX_ENERGY_MARGIN_BPS`). */
export const MAX_ENERGY_MARGIN_BPS = 5_000n;

function clampedDelta(from: bigint, to: bigint, max: bigint): bigint {
  if (!(to > from)) return 0n;
  const delta = to - from;
  return delta < max ? delta : max;
}

/** `SettlementMath.maxEnergyJ`: gpuCount × TDP × seconds × 1.5, joules, rounded down. */
export function maxEnergyJ(gpuCount: bigint, tdpWattsPerGpu: bigint, seconds: bigint): bigint {
  return (gpuCount * tdpWattsPerGpu * seconds * (BPS + MAX_ENERGY_MARGIN_BPS)) / BPS;
}

/** `SettlementMath.availabilityBps`. */
export function availabilityBps(availableGpuSeconds: bigint, gpuCount: bigint, seconds: bigint): bigint {
  const capacity = gpuCount * seconds;
  if (capacity === 0n) return 0n;
  const bps = (availableGpuSeconds * BPS) / capacity;
  return bps < BPS ? bps : BPS;
}

/** `SettlementMath.slaCredit`. */
export function slaCredit(gross: bigint, availability: bigint, targetBps: bigint): bigint {
  if (!(availability < targetBps)) return 0n;
  return gross - (gross * availability) / targetBps;
}

/**
 * What a curtailable lease's bill also depends on: the available GPU-seconds inside counted
 * demand-response events up to the point (`IDemandResponseProgramme.curtailedGpuSeconds`, previewed by
 * `previewCurtailedGpuSeconds` of `src/demandResponse.ts`) and the reservation discount (bps).
 */
export interface Curtailment {
  curtailedGpuSeconds: bigint;
  reservationDiscountBps: bigint;
}

/**
 * `SettlementMath.leaseBill`: the bill from `start` (the meter at the lease start) to `point`; with
 * `curtailment`, the curtailable form (reservation only on the available GPU-seconds outside counted
 * events, at the discounted price).
 */
export function leaseBill(
  start: MeterValues,
  point: MeterValues,
  leaseSeconds: bigint,
  gpuCount: bigint,
  tdpWattsPerGpu: bigint,
  terms: BillingTerms,
  curtailment: Curtailment = { curtailedGpuSeconds: 0n, reservationDiscountBps: 0n },
): LeaseBill {
  const zero: LeaseBill = {
    meteredSeconds: 0n,
    availabilityBps: 0n,
    reservationFee: 0n,
    usageFee: 0n,
    energyFee: 0n,
    slaCredit: 0n,
    total: 0n,
  };
  if (!(point.timestamp > start.timestamp)) return zero;
  const metered = point.timestamp - start.timestamp;
  const available = clampedDelta(start.availableGpuSeconds, point.availableGpuSeconds, gpuCount * metered);
  const busy = clampedDelta(start.busyGpuSeconds, point.busyGpuSeconds, available);
  const energy = clampedDelta(start.energyJ, point.energyJ, maxEnergyJ(gpuCount, tdpWattsPerGpu, metered));
  const reservable = available > curtailment.curtailedGpuSeconds ? available - curtailment.curtailedGpuSeconds : 0n;
  const reservationFee =
    (reservable * terms.reservationPricePerGpuHour * (BPS - curtailment.reservationDiscountBps)) /
    (SECONDS_PER_HOUR * BPS);
  const usageFee = (busy * terms.usagePricePerBusyGpuHour) / SECONDS_PER_HOUR;
  const energyFee = (energy * terms.energyPricePerKWh) / JOULES_PER_KWH;
  const availability = availabilityBps(available, gpuCount, leaseSeconds);
  const credit = slaCredit(reservationFee + usageFee, availability, terms.slaAvailabilityBps);
  return {
    meteredSeconds: metered,
    availabilityBps: availability,
    reservationFee,
    usageFee,
    energyFee,
    slaCredit: credit,
    total: reservationFee + usageFee - credit + energyFee,
  };
}

/** `SettlementMath.fullUseCost`: the most `seconds` of a lease can be billed. */
export function fullUseCost(gpuCount: bigint, tdpWattsPerGpu: bigint, terms: BillingTerms, seconds: bigint): bigint {
  const gpuSeconds = gpuCount * seconds;
  return (
    (gpuSeconds * terms.reservationPricePerGpuHour) / SECONDS_PER_HOUR +
    (gpuSeconds * terms.usagePricePerBusyGpuHour) / SECONDS_PER_HOUR +
    (maxEnergyJ(gpuCount, tdpWattsPerGpu, seconds) * terms.energyPricePerKWh) / JOULES_PER_KWH
  );
}
