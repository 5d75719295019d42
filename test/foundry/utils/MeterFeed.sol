// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Meter } from "../../../contracts/types/OracleTypes.sol";

/// @title MeterFeed — a test-only meter source the escrow campaign writes directly
/// @notice The escrow reads only `IUsageOracle.latestReading`; this contract answers it (the escrow is
/// given its address as its oracle). The campaign's handler posts readings that obey the oracle's rules
/// (O1, O2) itself, so the escrow is fuzzed against every *valid* meter history without paying for
/// signatures. The real oracle is fuzzed in its own campaign.
contract MeterFeed {
    error MeterWentBackwards(uint256 assetId);

    mapping(uint256 assetId => Meter) private _meters;

    /// @notice Stores `meter` as the asset's latest reading; refuses anything that is not forward.
    function post(uint256 assetId, Meter calldata meter) external {
        Meter memory last = _meters[assetId];
        if (
            meter.timestamp <= last.timestamp ||
            meter.busyGpuSeconds < last.busyGpuSeconds ||
            meter.availableGpuSeconds < last.availableGpuSeconds ||
            meter.energyJ < last.energyJ
        ) revert MeterWentBackwards(assetId);
        _meters[assetId] = meter;
    }

    /// @notice As `IUsageOracle.latestReading`.
    function latestReading(uint256 assetId) external view returns (Meter memory) {
        return _meters[assetId];
    }
}
