// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { Meter } from "../types/OracleTypes.sol";
import { StoredLeaseTerms, WindowCharge } from "../types/EscrowTypes.sol";

/// @title SettlementMath — pricing, SLA credit and window arithmetic of the settlement escrow
/// @notice Pure functions, no storage. Every rounding goes in the lessee's favour: fees and
/// availability round down, the SLA credit rounds up.
/// @dev The meter window is (from.timestamp, to.timestamp]; only the part of it inside the lease
/// [leaseStart, leaseEnd] is billed, and the window's meter deltas are scaled pro rata by time to that
/// part. Within one window the meters are assumed to have accrued evenly: the oracle proves totals,
/// not when inside the window they happened.
library SettlementMath {
    /// @notice Seconds in one hour: prices are per GPU-hour, meters count GPU-seconds.
    uint256 internal constant SECONDS_PER_HOUR = 3600;
    /// @notice Basis points in 100 %.
    uint256 internal constant BPS = 10_000;

    /// @notice Seconds of the window [fromTimestamp, toTimestamp] that fall inside [leaseStart, leaseEnd].
    /// @param fromTimestamp Window start (the last settled reading).
    /// @param toTimestamp Window end (the newest reading).
    /// @param leaseStart Lease start.
    /// @param leaseEnd Lease end.
    /// @return The overlap in seconds; zero when the intervals do not overlap.
    function overlapSeconds(
        uint64 fromTimestamp,
        uint64 toTimestamp,
        uint64 leaseStart,
        uint64 leaseEnd
    ) internal pure returns (uint64) {
        uint64 lo = fromTimestamp > leaseStart ? fromTimestamp : leaseStart;
        uint64 hi = toTimestamp < leaseEnd ? toTimestamp : leaseEnd;
        return hi > lo ? hi - lo : 0;
    }

    /// @notice Fee for `gpuSecondsDelta` GPU-seconds accrued over `windowSeconds`, of which only
    /// `billedSeconds` are billed: gpuSecondsDelta × billedSeconds / windowSeconds × price / 3600.
    /// @dev One division, rounded down. Zero when `windowSeconds` is zero.
    /// @param gpuSecondsDelta GPU-seconds accrued over the whole window.
    /// @param billedSeconds Seconds of the window inside the lease (at most `windowSeconds`).
    /// @param windowSeconds Length of the window.
    /// @param pricePerGpuHour Price per GPU-hour, token base units.
    /// @return fee Token base units, rounded down.
    function proRataFee(
        uint256 gpuSecondsDelta,
        uint256 billedSeconds,
        uint256 windowSeconds,
        uint256 pricePerGpuHour
    ) internal pure returns (uint256 fee) {
        if (windowSeconds == 0) return 0;
        return Math.mulDiv(gpuSecondsDelta * billedSeconds, pricePerGpuHour, windowSeconds * SECONDS_PER_HOUR);
    }

    /// @notice Proven availability: availableDelta ÷ (gpuCount × windowSeconds), in basis points.
    /// @dev Rounded down and capped at 10000. Zero when the capacity is zero.
    /// @param availableDelta Available GPU-seconds accrued over the window.
    /// @param gpuCount GPUs in the asset.
    /// @param windowSeconds Length of the window.
    /// @return Availability in basis points.
    function availabilityBps(
        uint256 availableDelta,
        uint16 gpuCount,
        uint256 windowSeconds
    ) internal pure returns (uint16) {
        uint256 capacity = uint256(gpuCount) * windowSeconds;
        if (capacity == 0) return 0;
        uint256 bps = (availableDelta * BPS) / capacity;
        return bps < BPS ? uint16(bps) : uint16(BPS);
    }

    /// @notice SLA credit: grossFee × (targetBps − availabilityBps) ÷ targetBps when availability is
    /// below the target, else zero. Linear: no credit at the target, the whole fee at zero availability.
    /// @dev Rounded up; never more than `grossFee`.
    /// @param grossFee Reservation fee + usage fee of the window.
    /// @param availabilityBps_ Proven availability, basis points.
    /// @param targetBps SLA availability target, basis points.
    /// @return credit Token base units.
    function slaCredit(
        uint256 grossFee,
        uint16 availabilityBps_,
        uint16 targetBps
    ) internal pure returns (uint256 credit) {
        if (availabilityBps_ < targetBps) {
            return Math.mulDiv(grossFee, targetBps - availabilityBps_, targetBps, Math.Rounding.Ceil);
        }
        return 0;
    }

    /// @notice Prices one settlement window: from the last settled meter to the newest meter.
    /// @dev Counters that went backwards (never accepted by the oracle) count as zero. Returns all zero
    /// when `to` is not newer than `from`.
    /// @param from The last settled meter (the window start).
    /// @param to The newest meter (the window end).
    /// @param leaseStart Lease start.
    /// @param leaseEnd Lease end.
    /// @param gpuCount GPUs in the asset.
    /// @param terms The lease's terms.
    /// @return charge The priced window.
    function priceWindow(
        Meter memory from,
        Meter memory to,
        uint64 leaseStart,
        uint64 leaseEnd,
        uint16 gpuCount,
        StoredLeaseTerms memory terms
    ) internal pure returns (WindowCharge memory charge) {
        // An empty or backwards window prices to zero.
        if (to.timestamp < from.timestamp || to.timestamp == from.timestamp) return charge;
        uint256 windowSeconds = to.timestamp - from.timestamp;
        uint256 busyDelta = to.busyGpuSeconds > from.busyGpuSeconds ? to.busyGpuSeconds - from.busyGpuSeconds : 0;
        uint256 availableDelta =
            to.availableGpuSeconds > from.availableGpuSeconds ? to.availableGpuSeconds - from.availableGpuSeconds : 0;
        charge.billedSeconds = overlapSeconds(from.timestamp, to.timestamp, leaseStart, leaseEnd);
        charge.availabilityBps = availabilityBps(availableDelta, gpuCount, windowSeconds);
        charge.reservationFee = proRataFee(
            availableDelta,
            charge.billedSeconds,
            windowSeconds,
            terms.reservationPricePerGpuHour
        );
        charge.usageFee = proRataFee(busyDelta, charge.billedSeconds, windowSeconds, terms.usagePricePerBusyGpuHour);
        uint256 gross = charge.reservationFee + charge.usageFee;
        charge.slaCredit = slaCredit(gross, charge.availabilityBps, terms.slaAvailabilityBps);
        charge.netCharge = gross - charge.slaCredit;
    }

    /// @notice The most one hour of full use can cost: every GPU available and busy for the hour.
    /// @dev The escrow's minimum deposit and its insufficient-funds threshold.
    /// @param gpuCount GPUs in the asset.
    /// @param reservationPricePerGpuHour Reservation price per GPU-hour.
    /// @param usagePricePerBusyGpuHour Usage price per busy GPU-hour.
    /// @return Token base units.
    function fullHourCost(
        uint16 gpuCount,
        uint256 reservationPricePerGpuHour,
        uint256 usagePricePerBusyGpuHour
    ) internal pure returns (uint256) {
        return uint256(gpuCount) * (reservationPricePerGpuHour + usagePricePerBusyGpuHour);
    }
}
