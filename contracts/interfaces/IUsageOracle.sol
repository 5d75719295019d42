// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IGpuAssetNFT } from "./IGpuAssetNFT.sol";
import { Reading, Meter, MeterField } from "../types/OracleTypes.sol";

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
///
/// Rules a batch must satisfy (anything else reverts the whole batch with the error named):
/// - not paused (`EnforcedPause`); `configVersion` is current (`StaleConfigVersion`);
/// - 1 to `MAX_READINGS` readings (`EmptyBatch`, `BatchTooLarge`), sorted by strictly increasing
///   `assetId` (`AssetIdsNotAscending`), which also makes "at most one reading per asset" cheap to check;
/// - between `threshold` and the signer count signatures (`NotEnoughSignatures`, `TooManySignatures`),
///   each a valid 65-byte low-s ECDSA signature (OpenZeppelin `ECDSA` errors) of `batchDigest` by a
///   current signer (`UnknownSigner`), no signer twice in any order (`DuplicateSigner`);
/// - per reading not skipped: the asset exists (`ERC721NonexistentToken`, from the NFT) and is not
///   Retired (`AssetRetired`); `timestamp <= block.timestamp + maxFutureSkewSeconds` (`ReadingInFuture`);
///   after the asset's first (baseline) reading: no counter decreases (`MeterDecreased`) and the deltas
///   over dt = timestamp - previous timestamp are physically possible:
///   busy <= available (`BusyExceedsAvailable`), available <= gpuCount * dt (`AvailableExceedsCapacity`),
///   energy <= gpuCount * tdpWattsPerGpu * dt * (10000 + energyMarginBps) / 10000 (`EnergyExceedsLimit`).
interface IUsageOracle {
    // ---------------------------------------------------------------- errors

    /// @notice The admin given to the constructor is the zero address.
    error InvalidAdmin(address admin);

    /// @notice The NFT given to the constructor is the zero address, or the NFT answered `meteringLimits`
    /// with malformed data (short, or values outside the declared types).
    error InvalidNft(address nft);

    /// @notice A signer set contains the zero address.
    error InvalidSigner(address signer);

    /// @notice A signer set lists `signer` twice.
    error DuplicateSignerInSet(address signer);

    /// @notice A signer set has more than `MAX_SIGNERS` members.
    error TooManySigners(uint256 count, uint256 max);

    /// @notice The threshold is 0 or greater than the number of signers.
    error InvalidThreshold(uint8 threshold, uint256 signerCount);

    /// @notice The new signer set and threshold equal the current ones.
    error SignerSetUnchanged();

    /// @notice The maximum future skew exceeds `MAX_FUTURE_SKEW_SECONDS`.
    error FutureSkewTooLarge(uint64 maxFutureSkewSeconds, uint64 max);

    /// @notice The new maximum future skew equals the current one.
    error FutureSkewUnchanged(uint64 maxFutureSkewSeconds);

    /// @notice The energy margin exceeds `MAX_ENERGY_MARGIN_BPS`.
    error EnergyMarginTooLarge(uint16 energyMarginBps, uint16 max);

    /// @notice The new energy margin equals the current one.
    error EnergyMarginUnchanged(uint16 energyMarginBps);

    /// @notice The batch was signed under `given`, but the signer set is now at version `current`.
    error StaleConfigVersion(uint64 given, uint64 current);

    /// @notice The batch has no reading.
    error EmptyBatch();

    /// @notice The batch has more than `MAX_READINGS` readings.
    error BatchTooLarge(uint256 count, uint256 max);

    /// @notice Reading `index` does not have a larger asset id than the reading before it.
    error AssetIdsNotAscending(uint256 index, uint256 assetId, uint256 previousAssetId);

    /// @notice Fewer signatures than the threshold.
    error NotEnoughSignatures(uint256 count, uint8 threshold);

    /// @notice More signatures than there are signers (at least one would be a duplicate or a stranger).
    error TooManySignatures(uint256 count, uint256 signerCount);

    /// @notice A signature recovers to `recovered`, which is not a current signer.
    error UnknownSigner(address recovered);

    /// @notice Two signatures recover to the same signer.
    error DuplicateSigner(address signer);

    /// @notice Every reading of the batch is already known (a replay, or another feeder was first).
    error BatchAlreadyAccepted();

    /// @notice The asset is Retired and no longer metered.
    error AssetRetired(uint256 assetId);

    /// @notice The reading's timestamp is later than `maxTimestamp` (now + the allowed skew).
    error ReadingInFuture(uint256 assetId, uint64 timestamp, uint64 maxTimestamp);

    /// @notice A cumulative counter is lower than in the asset's latest accepted reading.
    error MeterDecreased(uint256 assetId, MeterField field, uint64 previous, uint64 reported);

    /// @notice More busy than available GPU-seconds since the previous reading.
    error BusyExceedsAvailable(uint256 assetId, uint64 busyDeltaGpuSeconds, uint64 availableDeltaGpuSeconds);

    /// @notice More available GPU-seconds than gpuCount * elapsed seconds since the previous reading.
    error AvailableExceedsCapacity(uint256 assetId, uint64 availableDeltaGpuSeconds, uint256 capacityGpuSeconds);

    /// @notice More energy than gpuCount * TDP * elapsed seconds * (1 + margin) since the previous reading.
    error EnergyExceedsLimit(uint256 assetId, uint64 energyDeltaJ, uint256 maxEnergyJ);

    // ---------------------------------------------------------------- events

    /// @notice The signer set was replaced; batches must now be signed under `configVersion`.
    /// @param configVersion The new version.
    /// @param signers The new signers.
    /// @param threshold Signatures required per batch.
    event SignerSetUpdated(uint64 indexed configVersion, address[] signers, uint8 threshold);

    /// @notice The allowed skew of reading timestamps into the future changed.
    /// @param previousSeconds The old value.
    /// @param newSeconds The new value.
    event MaxFutureSkewUpdated(uint64 previousSeconds, uint64 newSeconds);

    /// @notice The energy margin over gpuCount * TDP changed.
    /// @param previousBps The old value.
    /// @param newBps The new value.
    event EnergyMarginUpdated(uint16 previousBps, uint16 newBps);

    /// @notice Readings of a batch were accepted. One event per batch (not per reading) keeps `submit`
    /// cheap; it still carries every accepted meter, so an indexer rebuilds every meter history from it.
    /// @param batchDigest The EIP-712 digest the signers signed.
    /// @param configVersion The signer-set version of the batch.
    /// @param meters Two words per accepted reading, in batch order: the asset id, then the meter
    /// packed as `timestamp | busyGpuSeconds << 64 | availableGpuSeconds << 128 | energyJ << 192`
    /// (see `MeterLib.pack`; `src/eip712.ts` `decodeUsageReported` decodes it).
    /// @dev Warning: a meter that is an asset's first reading is its baseline; later deltas are
    /// measured from it.
    event UsageReported(bytes32 indexed batchDigest, uint64 indexed configVersion, uint256[] meters);

    /// @notice A reading was not newer than the asset's latest and was skipped (replay or race).
    /// @param assetId The asset.
    /// @param timestamp The skipped reading's timestamp.
    /// @param latestTimestamp The asset's latest accepted timestamp.
    event ReadingSkipped(uint256 indexed assetId, uint64 timestamp, uint64 latestTimestamp);

    // ---------------------------------------------------------------- roles and constants

    /// @notice Role that replaces the signer set and sets the skew and energy margin.
    /// @return The role id.
    function ORACLE_ADMIN_ROLE() external view returns (bytes32);

    /// @notice Role that pauses and unpauses `submit`.
    /// @return The role id.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice Largest signer set (a signature bitmap must fit one word; committees are small).
    /// @return The maximum.
    function MAX_SIGNERS() external view returns (uint256);

    /// @notice Most readings per batch: a batch of first readings (baselines, each a new storage slot)
    /// still fits the 2^24 per-transaction gas cap.
    /// @return The maximum.
    function MAX_READINGS() external view returns (uint256);

    /// @notice Upper bound for `maxFutureSkewSeconds`.
    /// @return Seconds.
    function MAX_FUTURE_SKEW_SECONDS() external view returns (uint64);

    /// @notice Upper bound for `energyMarginBps`.
    /// @return Basis points.
    function MAX_ENERGY_MARGIN_BPS() external view returns (uint16);

    // ---------------------------------------------------------------- reporting

    /// @notice Accepts a signed batch of readings. Anyone may transmit: the signatures are the authority.
    /// @dev Why no transmitter allowlist: a batch is fully authenticated by k signer signatures bound to
    /// this chain, this contract and the signer-set version, and a replay changes nothing, so the sender
    /// adds no trust; letting anyone relay means any feeder (or a third party paying gas) can deliver, and
    /// one stuck sender key cannot halt the meters.
    /// @param configVersion The signer-set version the batch was signed under; must be current.
    /// @param readings Cumulative readings, at most one per asset, sorted by strictly increasing `assetId`.
    /// @param signatures At least `threshold` EIP-712 signatures by distinct current signers, in any order.
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
    /// @dev A reading timestamped in the (allowed) future counts as age 0.
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

    // ---------------------------------------------------------------- configuration

    /// @notice Replaces the signer set and threshold and bumps `configVersion`, so every batch signed
    /// before is refused. Oracle-admin role only.
    /// @param signers The new signers: non-zero, distinct, at most `MAX_SIGNERS`.
    /// @param threshold Signatures required per batch: 1 to `signers.length`.
    function setSigners(address[] calldata signers, uint8 threshold) external;

    /// @notice Sets how far in the future a reading's timestamp may be. Oracle-admin role only.
    /// @param maxFutureSkewSeconds Seconds, at most `MAX_FUTURE_SKEW_SECONDS`.
    function setMaxFutureSkew(uint64 maxFutureSkewSeconds) external;

    /// @notice Sets the energy margin over gpuCount * TDP. Oracle-admin role only.
    /// @param energyMarginBps Basis points, at most `MAX_ENERGY_MARGIN_BPS`.
    function setEnergyMargin(uint16 energyMarginBps) external;

    /// @notice Stops `submit`. Pauser role only.
    function pause() external;

    /// @notice Resumes `submit`. Pauser role only.
    function unpause() external;

    /// @notice The NFT whose spec and status bound the readings.
    /// @return The NFT.
    function nft() external view returns (IGpuAssetNFT);

    /// @notice The current signers, in the order they were set.
    /// @return The signers.
    function signers() external view returns (address[] memory);

    /// @notice Signatures required per batch.
    /// @return The threshold.
    function threshold() external view returns (uint8);

    /// @notice Whether `account` is a current signer.
    /// @param account The account.
    /// @return True when it is.
    function isSigner(address account) external view returns (bool);

    /// @notice How far in the future a reading's timestamp may be, in seconds.
    /// @return Seconds.
    function maxFutureSkewSeconds() external view returns (uint64);

    /// @notice Margin over gpuCount * TDP allowed for energy deltas, in basis points.
    /// @return Basis points.
    function energyMarginBps() external view returns (uint16);
}
