// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { DemandResponseMath } from "../libraries/DemandResponseMath.sol";
import { AvailableAt, BaselineRule, Reduction, ReductionInput } from "../types/DemandResponseTypes.sol";

/// @title DemandResponseMathHarness
/// @notice Exposes the internal functions of the pure library `DemandResponseMath` so tests can call
/// them directly (and compare them with `src/demandResponse.ts`).
/// @dev Warning: test-only. Never deploy to a public network.
contract DemandResponseMathHarness {
    /// @notice See `DemandResponseMath.baselineWindow`.
    function baselineWindow(
        BaselineRule rule,
        uint64 noticeTime,
        uint64 startTime,
        uint64 endTime,
        uint64 windowSeconds
    ) external pure returns (uint64 from, uint64 to) {
        return DemandResponseMath.baselineWindow(rule, noticeTime, startTime, endTime, windowSeconds);
    }

    /// @notice See `DemandResponseMath.maxPowerW`.
    function maxPowerW(uint16 gpuCount, uint16 tdpWattsPerGpu) external pure returns (uint256) {
        return DemandResponseMath.maxPowerW(gpuCount, tdpWattsPerGpu);
    }

    /// @notice See `DemandResponseMath.reduction`.
    function reduction(ReductionInput calldata input) external pure returns (Reduction memory) {
        return DemandResponseMath.reduction(input);
    }

    /// @notice See `DemandResponseMath.creditOf`.
    function creditOf(uint256 reductionJ, uint256 ratePerKWh) external pure returns (uint256) {
        return DemandResponseMath.creditOf(reductionJ, ratePerKWh);
    }

    /// @notice See `DemandResponseMath.split`.
    function split(uint256 credit, uint16 lesseeShareBps) external pure returns (uint256 toLessee, uint256 toOwner) {
        return DemandResponseMath.split(credit, lesseeShareBps);
    }

    /// @notice See `DemandResponseMath.curtailedInLease`.
    function curtailedInLease(
        AvailableAt calldata eventStart,
        AvailableAt calldata eventEnd,
        AvailableAt calldata leaseStart,
        AvailableAt calldata point
    ) external pure returns (uint256) {
        return DemandResponseMath.curtailedInLease(eventStart, eventEnd, leaseStart, point);
    }

    /// @notice See `DemandResponseMath.clampedDelta`.
    function clampedDelta(uint64 from, uint64 to, uint256 max) external pure returns (uint256) {
        return DemandResponseMath.clampedDelta(from, to, max);
    }
}
