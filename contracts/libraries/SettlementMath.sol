// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { Meter } from "../types/OracleTypes.sol";
import { LeaseBill, StoredLeaseTerms } from "../types/EscrowTypes.sol";

/// @title SettlementMath — a lease's bill as a pure function of the meters
/// @notice No storage. A lease's bill up to a meter time is priced from the meter at the lease start
/// and the meter at that time only, so it cannot depend on how often, or when, anyone settles: the
/// escrow charges the increase of this bill since the last settlement, and the increases telescope to
/// the final bill exactly. Rounding favours the lessee: fees and availability round down, the SLA
/// credit rounds up.
/// @dev Monotonicity (what makes interim settlements safe): with `leaseSeconds` fixed (or shrinking,
/// as an early end does), the bill never decreases when the meter at the point grows. Fees grow with
/// the deltas; availability grows with the available delta; and reservation + usage net of the
/// credit equals floor(gross * availability / target) below the target, non-decreasing in both.
library SettlementMath {
    /// @notice Seconds in one hour: prices are per GPU-hour, meters count GPU-seconds.
    uint256 internal constant SECONDS_PER_HOUR = 3600;
    /// @notice Joules in one kWh: energy prices are per kWh, meters count joules.
    uint256 internal constant JOULES_PER_KWH = 3_600_000;
    /// @notice Basis points in 100 %.
    uint256 internal constant BPS = 10_000;
    /// @notice The largest energy margin over TDP the oracle accepts (`IUsageOracle.MAX_ENERGY_MARGIN_BPS`):
    /// the energy a lease can be billed for is bounded with it.
    uint256 internal constant MAX_ENERGY_MARGIN_BPS = 5_000;

    /// @notice The bill of a lease from `start` (the meter at its start) to `point` (a later meter).
    /// @dev Deltas are clamped to what is physically possible over the metered time (negative → 0;
    /// available ≤ gpuCount × seconds; busy ≤ available; energy ≤ the TDP bound), so no pair of
    /// readings, however wrong, can bill more than full use. Availability is measured against the
    /// lease's whole time (`leaseSeconds`), so an interim bill never exceeds the final one.
    /// @param start The meter at the lease start.
    /// @param point The meter at the billing point (its timestamp is the point).
    /// @param leaseSeconds The lease's duration (end − start).
    /// @param gpuCount GPUs in the asset.
    /// @param tdpWattsPerGpu TDP per GPU, watts.
    /// @param terms The lease's terms.
    /// @return bill The bill.
    function leaseBill(
        Meter memory start,
        Meter memory point,
        uint64 leaseSeconds,
        uint16 gpuCount,
        uint16 tdpWattsPerGpu,
        StoredLeaseTerms memory terms
    ) internal pure returns (LeaseBill memory bill) {
        return leaseBill(start, point, leaseSeconds, gpuCount, tdpWattsPerGpu, terms, 0, 0);
    }

    /// @notice The bill of a curtailable lease: as `leaseBill` above, with the reservation billed only on
    /// the available GPU-seconds outside counted demand-response events, at a discounted price.
    /// @dev reservationFee = (available − curtailed, at least 0) × price × (10000 − discount) ÷ 10000,
    /// rounded down once. `curtailedGpuSeconds` (from `IDemandResponseProgramme.curtailedGpuSeconds`)
    /// grows with the point exactly as the available meter does inside an event, so the reservable
    /// GPU-seconds, and with them the bill, never decrease as the point grows. The SLA availability
    /// still counts every available GPU-second: a curtailed GPU that stays healthy is available.
    /// @param start The meter at the lease start.
    /// @param point The meter at the billing point (its timestamp is the point).
    /// @param leaseSeconds The lease's duration (end − start).
    /// @param gpuCount GPUs in the asset.
    /// @param tdpWattsPerGpu TDP per GPU, watts.
    /// @param terms The lease's terms.
    /// @param curtailedGpuSeconds Available GPU-seconds inside counted events up to the point.
    /// @param reservationDiscountBps Discount on the reservation price, basis points (at most 10000).
    /// @return bill The bill.
    function leaseBill(
        Meter memory start,
        Meter memory point,
        uint64 leaseSeconds,
        uint16 gpuCount,
        uint16 tdpWattsPerGpu,
        StoredLeaseTerms memory terms,
        uint256 curtailedGpuSeconds,
        uint16 reservationDiscountBps
    ) internal pure returns (LeaseBill memory bill) {
        if (!(point.timestamp > start.timestamp)) return bill;
        uint64 metered = point.timestamp - start.timestamp;
        bill.meteredSeconds = metered;
        uint256 capacity = uint256(gpuCount) * metered;
        uint256 available = _clampedDelta(start.availableGpuSeconds, point.availableGpuSeconds, capacity);
        uint256 busy = _clampedDelta(start.busyGpuSeconds, point.busyGpuSeconds, available);
        uint256 energy = _clampedDelta(start.energyJ, point.energyJ, maxEnergyJ(gpuCount, tdpWattsPerGpu, metered));
        uint256 reservable = available > curtailedGpuSeconds ? available - curtailedGpuSeconds : 0;
        bill.reservationFee =
            (reservable * terms.reservationPricePerGpuHour * (BPS - reservationDiscountBps)) / (SECONDS_PER_HOUR * BPS);
        bill.usageFee = (busy * terms.usagePricePerBusyGpuHour) / SECONDS_PER_HOUR;
        bill.energyFee = (energy * terms.energyPricePerKWh) / JOULES_PER_KWH;
        bill.availabilityBps = availabilityBps(available, gpuCount, leaseSeconds);
        uint256 gross = bill.reservationFee + bill.usageFee;
        bill.slaCredit = slaCredit(gross, bill.availabilityBps, terms.slaAvailabilityBps);
        bill.total = gross - bill.slaCredit + bill.energyFee;
    }

    /// @notice Proven availability: availableGpuSeconds ÷ (gpuCount × seconds), basis points.
    /// @dev Rounded down, capped at 10000; zero when the capacity is zero.
    /// @param availableGpuSeconds Available GPU-seconds.
    /// @param gpuCount GPUs in the asset.
    /// @param seconds_ The period.
    /// @return Availability in basis points.
    function availabilityBps(
        uint256 availableGpuSeconds,
        uint16 gpuCount,
        uint256 seconds_
    ) internal pure returns (uint16) {
        uint256 capacity = uint256(gpuCount) * seconds_;
        if (capacity == 0) return 0;
        uint256 bps = (availableGpuSeconds * BPS) / capacity;
        return bps < BPS ? uint16(bps) : uint16(BPS);
    }

    /// @notice SLA credit: gross − floor(gross × availability ÷ target) below the target, else zero.
    /// That is gross × (target − availability) ÷ target rounded up: no credit at the target, the
    /// whole gross at zero availability.
    /// @param gross Reservation fee + usage fee.
    /// @param availabilityBps_ Proven availability, basis points.
    /// @param targetBps SLA availability target, basis points.
    /// @return Token base units, at most `gross`.
    function slaCredit(uint256 gross, uint16 availabilityBps_, uint16 targetBps) internal pure returns (uint256) {
        if (!(availabilityBps_ < targetBps)) return 0;
        return gross - Math.mulDiv(gross, availabilityBps_, targetBps);
    }

    /// @notice The most energy `gpuCount` GPUs of `tdpWattsPerGpu` can draw in `seconds_`, with the
    /// largest margin the oracle accepts: gpuCount × TDP × seconds × (1 + 50 %), joules, rounded down.
    /// @param gpuCount GPUs in the asset.
    /// @param tdpWattsPerGpu TDP per GPU, watts.
    /// @param seconds_ The period.
    /// @return Joules.
    function maxEnergyJ(uint16 gpuCount, uint16 tdpWattsPerGpu, uint256 seconds_) internal pure returns (uint256) {
        return (uint256(gpuCount) * tdpWattsPerGpu * seconds_ * (BPS + MAX_ENERGY_MARGIN_BPS)) / BPS;
    }

    /// @notice The most `seconds_` of a lease can be billed: every GPU available and busy throughout,
    /// drawing the most energy `maxEnergyJ` allows. The minimum deposit is one hour of it, and a lease
    /// whose balance covers it for its unbilled time can never be closed as underfunded.
    /// @dev Each term is rounded down exactly as `leaseBill` rounds its fee, which makes the cost
    /// superadditive (fullUseCost(a + b) ≥ fullUseCost(a) + fullUseCost(b)) and an upper bound of any
    /// bill over the same seconds: the two facts behind "a funded lease is never underfunded".
    /// @param gpuCount GPUs in the asset.
    /// @param tdpWattsPerGpu TDP per GPU, watts.
    /// @param terms The terms.
    /// @param seconds_ The period.
    /// @return Token base units.
    function fullUseCost(
        uint16 gpuCount,
        uint16 tdpWattsPerGpu,
        StoredLeaseTerms memory terms,
        uint256 seconds_
    ) internal pure returns (uint256) {
        uint256 gpuSeconds = uint256(gpuCount) * seconds_;
        return
            (gpuSeconds * terms.reservationPricePerGpuHour) / SECONDS_PER_HOUR +
            (gpuSeconds * terms.usagePricePerBusyGpuHour) / SECONDS_PER_HOUR +
            (maxEnergyJ(gpuCount, tdpWattsPerGpu, seconds_) * terms.energyPricePerKWh) / JOULES_PER_KWH;
    }

    /// @dev to − from, clamped to [0, max].
    function _clampedDelta(uint64 from, uint64 to, uint256 max) private pure returns (uint256) {
        if (!(to > from)) return 0;
        uint256 delta = to - from;
        return delta < max ? delta : max;
    }
}
