// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Meter } from "../types/OracleTypes.sol";

/// @title MockMeterOracle
/// @notice Test-only meter source for the vault's end-to-end tests and benchmarks: answers
/// `latestReading` (the one IUsageOracle function SettlementEscrow reads) with whatever a test stored,
/// so leases can be settled through the real escrow without signed batches.
/// @dev Warning: test-only; anyone can write any meter. Never deploy to any network.
contract MockMeterOracle {
    /// @notice Emitted when a test stores a meter.
    event MeterPut(uint256 indexed assetId, uint64 timestamp, uint64 busyGpuSeconds, uint64 availableGpuSeconds);

    mapping(uint256 assetId => Meter) private _meters;

    /// @notice Stores the latest meter of `assetId` (energy left at zero).
    /// @param assetId The asset.
    /// @param timestamp Reading time.
    /// @param busyGpuSeconds Cumulative busy GPU-seconds.
    /// @param availableGpuSeconds Cumulative available GPU-seconds.
    function put(uint256 assetId, uint64 timestamp, uint64 busyGpuSeconds, uint64 availableGpuSeconds) external {
        _meters[assetId] = Meter({
            timestamp: timestamp,
            busyGpuSeconds: busyGpuSeconds,
            availableGpuSeconds: availableGpuSeconds,
            energyJ: 0
        });
        emit MeterPut(assetId, timestamp, busyGpuSeconds, availableGpuSeconds);
    }

    /// @notice As IUsageOracle.latestReading.
    /// @param assetId The asset.
    /// @return The stored meter (all zero when none).
    function latestReading(uint256 assetId) external view returns (Meter memory) {
        return _meters[assetId];
    }
}
