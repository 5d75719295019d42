// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { SettlementMath } from "../libraries/SettlementMath.sol";
import { MeterMath } from "../libraries/MeterMath.sol";
import { ReadingsMerkle } from "../libraries/ReadingsMerkle.sol";
import { Meter } from "../types/OracleTypes.sol";
import { LeaseBill, StoredLeaseTerms } from "../types/EscrowTypes.sol";

/// @title SettlementMathHarness
/// @notice Exposes the internal functions of the pure libraries `SettlementMath`, `MeterMath` and
/// `ReadingsMerkle` so tests can call them directly.
/// @dev Warning: test-only. Never deploy to a public network.
contract SettlementMathHarness {
    /// @notice See `SettlementMath.leaseBill`.
    function leaseBill(
        Meter calldata start,
        Meter calldata point,
        uint64 leaseSeconds,
        uint16 gpuCount,
        uint16 tdpWattsPerGpu,
        StoredLeaseTerms calldata terms
    ) external pure returns (LeaseBill memory) {
        return SettlementMath.leaseBill(start, point, leaseSeconds, gpuCount, tdpWattsPerGpu, terms);
    }

    /// @notice See `SettlementMath.availabilityBps`.
    function availabilityBps(
        uint256 availableGpuSeconds,
        uint16 gpuCount,
        uint256 seconds_
    ) external pure returns (uint16) {
        return SettlementMath.availabilityBps(availableGpuSeconds, gpuCount, seconds_);
    }

    /// @notice See `SettlementMath.slaCredit`.
    function slaCredit(uint256 gross, uint16 availabilityBps_, uint16 targetBps) external pure returns (uint256) {
        return SettlementMath.slaCredit(gross, availabilityBps_, targetBps);
    }

    /// @notice See `SettlementMath.fullUseCost`.
    function fullUseCost(
        uint16 gpuCount,
        uint16 tdpWattsPerGpu,
        StoredLeaseTerms calldata terms,
        uint256 seconds_
    ) external pure returns (uint256) {
        return SettlementMath.fullUseCost(gpuCount, tdpWattsPerGpu, terms, seconds_);
    }

    /// @notice See `MeterMath.isPossible`.
    function isPossible(
        Meter calldata earlier,
        Meter calldata later,
        uint16 gpuCount,
        uint16 tdpWattsPerGpu,
        uint16 energyMarginBps
    ) external pure returns (bool) {
        return MeterMath.isPossible(earlier, later, gpuCount, tdpWattsPerGpu, energyMarginBps);
    }

    /// @notice See `MeterMath.interpolate`.
    function interpolate(
        Meter calldata earlier,
        Meter calldata later,
        uint64 time
    ) external pure returns (Meter memory) {
        return MeterMath.interpolate(earlier, later, time);
    }

    /// @notice See `MeterMath.unpack`.
    function unpack(
        bytes28 reading
    ) external pure returns (uint256 assetId, uint32 previousBatch, uint64 busy, uint64 available, uint64 energy) {
        return MeterMath.unpack(reading);
    }

    /// @notice See `ReadingsMerkle.rootOf`.
    function rootOf(bytes calldata readings, uint256 count) external pure returns (bytes32) {
        return ReadingsMerkle.rootOf(readings, count);
    }

    /// @notice See `ReadingsMerkle.rootFromProof`.
    function rootFromProof(bytes32 leaf, bytes32[] calldata path) external pure returns (bytes32) {
        return ReadingsMerkle.rootFromProof(leaf, path);
    }
}
