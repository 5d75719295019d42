// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IGpuAssetNFT } from "./IGpuAssetNFT.sol";
import { MeterAt, MeterBound, MeterBoundary, ProvenReading, ReadingProof } from "../types/OracleTypes.sol";

/// @title IUsageOracle — signed utilization and energy meters, with their whole history provable
/// @notice Readings arrive in batches signed (EIP-712) by at least `threshold` distinct members of the
/// current signer set. The oracle keeps one storage slot per accepted batch — a commitment to the
/// Merkle root of its readings, its timestamp, its acceptance time and its signer-set version — and
/// the readings travel in `submit`'s calldata, so that anyone can rebuild a proof of any reading from
/// chain data alone (`src/meterHistory.ts`). Consumers (the escrow, and
/// anything else that bills or credits meters) ask `meterAt` for an asset's meter at a chosen time.
/// @dev EIP-712 domain: name "ComputeRWA UsageOracle", version "1", chainId, verifyingContract.
/// Signed type: `UsageBatch(uint64 configVersion,uint32 batchIndex,uint64 timestamp,bytes32 readingsRoot)`.
///
/// A reading (28 bytes, big-endian): assetId uint32 | previousBatch uint32 | busyGpuSeconds uint48 |
/// availableGpuSeconds uint48 | energyJ uint64, all counters cumulative, stamped with the batch's
/// timestamp. `previousBatch` links each reading to the batch holding the same asset's previous
/// reading (0 for its first), so "these two readings are adjacent" and "the first reading at or after
/// time t" are provable. Batch timestamps strictly increase with the batch index, hence so do an
/// asset's reading times along its links.
///
/// Rules a batch must satisfy (anything else reverts the whole batch with the error named):
/// - not paused (`EnforcedPause`); `configVersion` is current (`StaleConfigVersion`);
/// - `batchIndex == nextBatchIndex()` (`BatchIndexTaken` when lower — a replay, or another
///   transmitter was first: compare `batchCommitment` to tell which — `BatchIndexAhead` when higher);
/// - `timestamp` later than the previous batch's (`BatchNotNewer`) and at most
///   `block.timestamp + maxFutureSkewSeconds` (`BatchInFuture`);
/// - 1 to `MAX_READINGS` whole readings (`MalformedReadings`, `EmptyBatch`, `BatchTooLarge`), asset ids
///   strictly increasing (`AssetIdsNotAscending`: at most one reading per asset), every
///   `previousBatch` lower than `batchIndex` (`PreviousBatchNotEarlier`);
/// - `signatures` is whole 65-byte signatures (`MalformedSignatures`), between `threshold` and the
///   signer count of them (`NotEnoughSignatures`, `TooManySignatures`), each a valid low-s ECDSA
///   signature (OpenZeppelin `ECDSA` errors) of the batch digest by a current signer
///   (`UnknownSigner`), no signer twice (`DuplicateSigner`).
/// Nothing about a reading's values is checked at submission: the physical bounds are applied by
/// `meterAt` to the readings a consumer uses, so one impossible reading never blocks the others.
interface IUsageOracle {
    // ---------------------------------------------------------------- errors

    /// @notice The admin given to the constructor is the zero address.
    error InvalidAdmin(address admin);

    /// @notice The NFT given to the constructor is the zero address.
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

    /// @notice A batch with index `batchIndex` was already accepted (the next free index is `nextBatchIndex`):
    /// a replay, or another transmitter's batch. `batchCommitment(batchIndex)` tells which.
    error BatchIndexTaken(uint32 batchIndex, uint32 nextBatchIndex);

    /// @notice `batchIndex` is past the next free index `nextBatchIndex` (a batch in between is missing).
    error BatchIndexAhead(uint32 batchIndex, uint32 nextBatchIndex);

    /// @notice The batch's timestamp is not later than the previous batch's.
    error BatchNotNewer(uint64 timestamp, uint64 lastBatchTimestamp);

    /// @notice The batch's timestamp is later than `maxTimestamp` (now + the allowed skew).
    error BatchInFuture(uint64 timestamp, uint64 maxTimestamp);

    /// @notice `readings` is not a whole number of `READING_BYTES`-byte readings.
    error MalformedReadings(uint256 length);

    /// @notice The batch has no reading.
    error EmptyBatch();

    /// @notice The batch has more than `MAX_READINGS` readings.
    error BatchTooLarge(uint256 count, uint256 max);

    /// @notice Reading `index` does not have a larger asset id than the reading before it.
    error AssetIdsNotAscending(uint256 index, uint256 assetId, uint256 previousAssetId);

    /// @notice Reading `index` links to `previousBatch`, which is not earlier than the batch itself.
    error PreviousBatchNotEarlier(uint256 index, uint32 previousBatch, uint32 batchIndex);

    /// @notice `signatures` is not a whole number of 65-byte signatures.
    error MalformedSignatures(uint256 length);

    /// @notice Fewer signatures than the threshold.
    error NotEnoughSignatures(uint256 count, uint8 threshold);

    /// @notice More signatures than there are signers (at least one would be a duplicate or a stranger).
    error TooManySignatures(uint256 count, uint256 signerCount);

    /// @notice A signature recovers to `recovered`, which is not a current signer.
    error UnknownSigner(address recovered);

    /// @notice Two signatures recover to the same signer.
    error DuplicateSigner(address signer);

    /// @notice No batch with this index has been accepted.
    error UnknownBatch(uint32 batchIndex);

    /// @notice The proof's reading, header or path does not match the commitment of batch `batchIndex`.
    error InvalidReadingProof(uint32 batchIndex);

    /// @notice A proven reading belongs to asset `found`, not to `expected`.
    error ReadingOfOtherAsset(uint256 expected, uint256 found);

    /// @notice The later reading links to `previousBatch`, but the earlier reading is from `beforeBatch`.
    error ReadingsNotAdjacent(uint32 previousBatch, uint32 beforeBatch);

    /// @notice The readings do not surround `time` as required (before < time <= after).
    error ReadingsNotAroundTime(uint64 time, uint64 beforeTimestamp, uint64 afterTimestamp);

    // ---------------------------------------------------------------- events

    /// @notice The signer set was replaced; batches must now be signed under `configVersion`.
    /// @param configVersion The new version.
    /// @param signers The new signers.
    /// @param threshold Signatures required per batch.
    event SignerSetUpdated(uint64 indexed configVersion, address[] signers, uint8 threshold);

    /// @notice The maximum future skew changed.
    /// @param previousSeconds The old value.
    /// @param newSeconds The new value.
    event MaxFutureSkewUpdated(uint64 previousSeconds, uint64 newSeconds);

    /// @notice The energy margin over gpuCount * TDP changed.
    /// @param previousBps The old value.
    /// @param newBps The new value.
    event EnergyMarginUpdated(uint16 previousBps, uint16 newBps);

    /// @notice A batch was accepted. Its readings are in the transaction's calldata (`submit`'s
    /// `readings`), from which anyone rebuilds every proof (`src/meterHistory.ts`): publishing them in
    /// the log as well would cost 8 gas a byte more.
    /// @param batchIndex The batch's index.
    /// @param configVersion The signer-set version it was signed under.
    /// @param timestamp The time every reading of the batch refers to.
    /// @param readingsRoot The Merkle root of its readings.
    /// @param readingCount How many readings it holds.
    /// @dev The acceptance time is the block's timestamp.
    event BatchAccepted(
        uint32 indexed batchIndex,
        uint64 indexed configVersion,
        uint64 timestamp,
        bytes32 readingsRoot,
        uint256 readingCount
    );

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

    /// @notice Most readings per batch (a Merkle tree of depth 9 at most).
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
    /// @dev Why no transmitter allowlist: the k signatures bind the batch to this chain, this contract,
    /// the signer-set version and the batch index, and a replay is refused, so the sender adds no
    /// trust; letting anyone relay means one stuck sender key cannot halt the meters.
    /// @param configVersion The signer-set version the batch was signed under; must be current.
    /// @param batchIndex The index the batch takes; must be `nextBatchIndex()`.
    /// @param timestamp The time the readings refer to, unix seconds.
    /// @param readings Packed readings back to back, asset ids strictly increasing.
    /// @param signatures 65-byte signatures (r, s, v) back to back, by distinct current signers, any order.
    /// @return readingsRoot The Merkle root of the readings (what was signed).
    function submit(
        uint64 configVersion,
        uint32 batchIndex,
        uint64 timestamp,
        bytes calldata readings,
        bytes calldata signatures
    ) external returns (bytes32 readingsRoot);

    /// @notice The commitment stored for an accepted batch:
    /// keccak256(abi.encode(readingsRoot, timestamp, acceptedAt, configVersion)); zero when unknown.
    /// @param batchIndex The batch.
    /// @return The commitment.
    function batchCommitment(uint32 batchIndex) external view returns (bytes32);

    /// @notice The index the next accepted batch takes (batches are numbered from 1).
    /// @return The index.
    function nextBatchIndex() external view returns (uint32);

    /// @notice The timestamp of the latest accepted batch (0 before the first).
    /// @return Unix seconds.
    function lastBatchTimestamp() external view returns (uint64);

    /// @notice Checks a reading's proof against the batch commitments and unpacks it.
    /// @dev Reverts `UnknownBatch` or `InvalidReadingProof` when it does not check out.
    /// @param proof The proof.
    /// @return The reading.
    function verifyReading(ReadingProof calldata proof) external view returns (ProvenReading memory);

    /// @notice An asset's meter at `time`, proven from the first reading at or after `time` (`after`)
    /// and the reading it links to (`before`).
    /// @dev Cases: `after` stamped exactly `time` → its values (`before` is ignored); `after` is the
    /// asset's first reading (previousBatch 0) → its values, nothing earlier being proven (`before`
    /// ignored); otherwise `before` must be the reading `after` links to, stamped before `time`, and if
    /// the two are physically possible together (`isPossible` with the NFT's spec and the energy
    /// margin) the values are interpolated linearly (rounded down), else `bound` picks `before`'s
    /// values (Lower) or `after`'s (Upper). Reverts when a proof fails, a reading is of another asset
    /// (`ReadingOfOtherAsset`), the readings are not adjacent (`ReadingsNotAdjacent`) or do not
    /// surround `time` (`ReadingsNotAroundTime`); the NFT's `ERC721NonexistentToken` when the asset
    /// was burned.
    /// @param assetId The asset.
    /// @param time Unix seconds.
    /// @param earlierProof The reading `laterProof` links to (an empty proof when not needed).
    /// @param laterProof The first reading of the asset at or after `time`.
    /// @param bound Which bound to return for a physically impossible pair.
    /// @return The meter at `time`.
    function meterAt(
        uint256 assetId,
        uint64 time,
        ReadingProof calldata earlierProof,
        ReadingProof calldata laterProof,
        MeterBound bound
    ) external view returns (MeterAt memory);

    /// @notice The meters that bound a window of an asset: at `startTime`, and at a point up to `endLimit`.
    /// @dev What a consumer billing (or crediting) [startTime, endLimit] needs, in one call. The start
    /// is `meterAt(startTime, start, Upper)` — an unusable pair counts nothing before its later reading
    /// — or all zero when `start` is absent (`start.later.batchIndex == 0`: the consumer stored it).
    /// The point is `point.later`'s reading as it is when stamped at or before `endLimit`, else
    /// `meterAt(endLimit, point, Lower)` — an unusable pair counts nothing after its earlier reading.
    /// Reverts as `meterAt` and `verifyReading` do (the NFT's `ERC721NonexistentToken` for a burned asset).
    /// @param assetId The asset.
    /// @param startTime The window start.
    /// @param endLimit The latest time the point may take.
    /// @param start The meter at `startTime` (absent when not needed).
    /// @param point The first reading at or after the point, and the reading it links to when needed.
    /// @return atStart The meter at `startTime` (zero when `start` is absent).
    /// @return atPoint The meter at the point; `atPoint.meter.timestamp` is the point.
    /// @return gpuCount The asset's GPU count now (the NFT's spec the readings were checked against).
    /// @return tdpWattsPerGpu Its TDP per GPU now, watts.
    function meterWindow(
        uint256 assetId,
        uint64 startTime,
        uint64 endLimit,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external view returns (MeterAt memory atStart, MeterAt memory atPoint, uint16 gpuCount, uint16 tdpWattsPerGpu);

    /// @notice The current signer-set version; bumped by every signer-set change.
    /// @return The version.
    function configVersion() external view returns (uint64);

    /// @notice The EIP-712 digest signers sign for a batch.
    /// @param configVersion The signer-set version.
    /// @param batchIndex The batch index.
    /// @param timestamp The batch timestamp.
    /// @param readingsRoot The Merkle root of the readings.
    /// @return The digest.
    function batchDigest(
        uint64 configVersion,
        uint32 batchIndex,
        uint64 timestamp,
        bytes32 readingsRoot
    ) external view returns (bytes32);

    /// @notice The Merkle root of packed readings, by the oracle's own tree rules (`ReadingsMerkle`).
    /// @param readings Whole packed readings, at least one.
    /// @return The root.
    function readingsRoot(bytes calldata readings) external pure returns (bytes32);

    // ---------------------------------------------------------------- configuration

    /// @notice Replaces the signer set and threshold and bumps `configVersion`, so every batch signed
    /// before is refused. Oracle-admin role only. Batches accepted earlier stay provable.
    /// @param signers The new signers: non-zero, distinct, at most `MAX_SIGNERS`.
    /// @param threshold Signatures required per batch: 1 to `signers.length`.
    function setSigners(address[] calldata signers, uint8 threshold) external;

    /// @notice Sets how far in the future a batch's timestamp may be. Oracle-admin role only.
    /// @param maxFutureSkewSeconds Seconds, at most `MAX_FUTURE_SKEW_SECONDS`.
    function setMaxFutureSkew(uint64 maxFutureSkewSeconds) external;

    /// @notice Sets the energy margin over gpuCount * TDP used by the physical check. Oracle-admin only.
    /// @dev Warning: it applies to every pair of readings checked from then on, old ones included.
    /// @param energyMarginBps Basis points, at most `MAX_ENERGY_MARGIN_BPS`.
    function setEnergyMargin(uint16 energyMarginBps) external;

    /// @notice Stops `submit`. Pauser role only. Proofs of accepted batches keep working.
    function pause() external;

    /// @notice Resumes `submit`. Pauser role only.
    function unpause() external;

    /// @notice The NFT whose spec bounds the readings.
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

    /// @notice How far in the future a batch's timestamp may be, in seconds.
    /// @return Seconds.
    function maxFutureSkewSeconds() external view returns (uint64);

    /// @notice Margin over gpuCount * TDP allowed for energy deltas, in basis points.
    /// @return Basis points.
    function energyMarginBps() external view returns (uint16);
}
