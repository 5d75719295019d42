// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IUsageOracle } from "../../../contracts/interfaces/IUsageOracle.sol";
import { Meter, Reading } from "../../../contracts/types/OracleTypes.sol";

/// @title MeterFeed — a test-only IUsageOracle whose meters the escrow campaign writes directly
/// @notice The escrow only reads `latestReading`; the campaign's handler posts readings that obey the
/// oracle's rules (O1, O2) itself, so the escrow is fuzzed against every possible *valid* meter history
/// without paying for signatures. The real oracle is fuzzed in its own campaign.
contract MeterFeed is IUsageOracle {
    error NotImplemented();
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

    function submit(uint64, Reading[] calldata, bytes[] calldata) external pure returns (uint256) {
        revert NotImplemented();
    }

    function latestReading(uint256 assetId) external view returns (Meter memory) {
        return _meters[assetId];
    }

    function isFresh(uint256 assetId, uint64 maxAgeSeconds) external view returns (bool) {
        uint64 ts = _meters[assetId].timestamp;
        return ts != 0 && block.timestamp - ts <= maxAgeSeconds;
    }

    function configVersion() external pure returns (uint64) {
        return 1;
    }

    function batchDigest(uint64, Reading[] calldata) external pure returns (bytes32) {
        revert NotImplemented();
    }
}
