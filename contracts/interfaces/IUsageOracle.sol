// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Reading, Meter } from "../types/OracleTypes.sol";

/// @title IUsageOracle — signed utilization and energy meters
/// @notice Keeps the latest accepted cumulative reading of each GPU asset. Readings arrive in batches
/// signed (EIP-712) by at least `threshold` distinct members of the current signer set.
/// @dev EIP-712 domain: name "ComputeRWA UsageOracle", version "1", chainId, verifyingContract.
/// Batch type: `UsageBatch(uint64 configVersion,Reading[] readings)` + the `Reading` type.
/// Replays: a reading whose timestamp is not newer than the asset's latest is skipped with
/// `ReadingSkipped`; a batch in which every reading is skipped reverts `BatchAlreadyAccepted` so a
/// feeder's simulation recognizes "already done" without spending gas.
/// Cross-contract surface (used by SettlementEscrow, the feeder) is fixed: `submit`, `latestReading`,
/// `isFresh`, `configVersion`, `batchDigest`. The implementation's owner adds errors, events, admin.
interface IUsageOracle {
    /// @notice Accepts a signed batch of readings. Anyone may transmit: the signatures are the authority.
    /// @param configVersion The signer-set version the batch was signed under; must be current.
    /// @param readings Cumulative readings, at most one per asset.
    /// @param signatures At least `threshold` EIP-712 signatures by distinct current signers.
    /// @return accepted Number of readings accepted (the rest were skipped as already known).
    function submit(
        uint64 configVersion,
        Reading[] calldata readings,
        bytes[] calldata signatures
    ) external returns (uint256 accepted);

    /// @notice The latest accepted reading of an asset; all zero when never reported.
    /// @param assetId The asset.
    /// @return The meter.
    function latestReading(uint256 assetId) external view returns (Meter memory);

    /// @notice Whether the asset's latest reading is at most `maxAgeSeconds` old.
    /// @param assetId The asset.
    /// @param maxAgeSeconds Maximum accepted age in seconds.
    /// @return True when fresh; false when never reported or older.
    function isFresh(uint256 assetId, uint64 maxAgeSeconds) external view returns (bool);

    /// @notice The current signer-set version; bumped by every signer-set change.
    /// @return The version.
    function configVersion() external view returns (uint64);

    /// @notice The EIP-712 digest signers sign for a batch.
    /// @param configVersion The signer-set version.
    /// @param readings The readings.
    /// @return The digest.
    function batchDigest(uint64 configVersion, Reading[] calldata readings) external view returns (bytes32);
}
