// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { SettlementMath } from "./SettlementMath.sol";
import { Meter } from "../types/OracleTypes.sol";
import { StoredLeaseTerms, WindowCharge } from "../types/EscrowTypes.sol";

/// @title SettlementMathHarness
/// @notice Exposes the internal `SettlementMath` functions so tests can call them directly.
/// @dev Warning: test-only. Never deploy to a public network.
contract SettlementMathHarness {
    /// @notice See `SettlementMath.overlapSeconds`.
    function overlapSeconds(
        uint64 fromTimestamp,
        uint64 toTimestamp,
        uint64 leaseStart,
        uint64 leaseEnd
    ) external pure returns (uint64) {
        return SettlementMath.overlapSeconds(fromTimestamp, toTimestamp, leaseStart, leaseEnd);
    }

    /// @notice See `SettlementMath.proRataFee`.
    function proRataFee(
        uint256 gpuSecondsDelta,
        uint256 billedSeconds,
        uint256 windowSeconds,
        uint256 pricePerGpuHour
    ) external pure returns (uint256) {
        return SettlementMath.proRataFee(gpuSecondsDelta, billedSeconds, windowSeconds, pricePerGpuHour);
    }

    /// @notice See `SettlementMath.availabilityBps`.
    function availabilityBps(
        uint256 availableDelta,
        uint16 gpuCount,
        uint256 windowSeconds
    ) external pure returns (uint16) {
        return SettlementMath.availabilityBps(availableDelta, gpuCount, windowSeconds);
    }

    /// @notice See `SettlementMath.slaCredit`.
    function slaCredit(uint256 grossFee, uint16 availabilityBps_, uint16 targetBps) external pure returns (uint256) {
        return SettlementMath.slaCredit(grossFee, availabilityBps_, targetBps);
    }

    /// @notice See `SettlementMath.priceWindow`.
    function priceWindow(
        Meter calldata from,
        Meter calldata to,
        uint64 leaseStart,
        uint64 leaseEnd,
        uint16 gpuCount,
        StoredLeaseTerms calldata terms
    ) external pure returns (WindowCharge memory) {
        return SettlementMath.priceWindow(from, to, leaseStart, leaseEnd, gpuCount, terms);
    }

    /// @notice See `SettlementMath.fullHourCost`.
    function fullHourCost(
        uint16 gpuCount,
        uint256 reservationPricePerGpuHour,
        uint256 usagePricePerBusyGpuHour
    ) external pure returns (uint256) {
        return SettlementMath.fullHourCost(gpuCount, reservationPricePerGpuHour, usagePricePerBusyGpuHour);
    }
}
