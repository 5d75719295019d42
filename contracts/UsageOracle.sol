// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import { ECDSA } from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import { IUsageOracle } from "./interfaces/IUsageOracle.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import {
    READING_BYTES,
    Meter,
    MeterAt,
    MeterBound,
    MeterBoundary,
    MeterSource,
    ProvenReading,
    ReadingProof
} from "./types/OracleTypes.sol";
import { MeterMath } from "./libraries/MeterMath.sol";
import { ReadingsMerkle } from "./libraries/ReadingsMerkle.sol";

/// @title UsageOracle — signed utilization and energy meters of GPU assets, with provable history
/// @notice See `IUsageOracle`. One storage slot per accepted batch; readings travel in calldata and
/// in the `BatchAccepted` event; `meterAt` proves any asset's meter at any time.
contract UsageOracle is IUsageOracle, EIP712, AccessControl, Pausable {
    /// @inheritdoc IUsageOracle
    bytes32 public constant ORACLE_ADMIN_ROLE = keccak256("ORACLE_ADMIN_ROLE");
    /// @inheritdoc IUsageOracle
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IUsageOracle
    uint256 public constant MAX_SIGNERS = 32;
    /// @inheritdoc IUsageOracle
    uint256 public constant MAX_READINGS = 500;
    /// @inheritdoc IUsageOracle
    uint64 public constant MAX_FUTURE_SKEW_SECONDS = 1 hours;
    /// @inheritdoc IUsageOracle
    uint16 public constant MAX_ENERGY_MARGIN_BPS = 5_000;

    /// @notice EIP-712 type hash of `UsageBatch`.
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant USAGE_BATCH_TYPEHASH = keccak256(
        "UsageBatch(uint64 configVersion,uint32 batchIndex,uint64 timestamp,bytes32 readingsRoot)"
    );

    /// @dev Length of one (r, s, v) signature.
    uint256 private constant SIGNATURE_BYTES = 65;

    IGpuAssetNFT private immutable _nft;

    // Everything `submit` reads and writes besides the batch slot is declared right after Pausable's
    // `_paused` (1 byte), so that all of it shares one slot: 1 + 8 + 1 + 1 + 4 + 2 + 4 + 8 = 29 bytes.
    uint64 private _configVersion;
    uint8 private _threshold;
    uint8 private _signerCount;
    uint32 private _maxFutureSkewSeconds;
    uint16 private _energyMarginBps;
    uint32 private _nextBatchIndex;
    uint64 private _lastBatchTimestamp;

    address[] private _signers;
    /// @dev 1 + index in `_signers` for current signers, 0 otherwise.
    mapping(address signer => uint256 position) private _signerPosition;
    /// @dev keccak256(abi.encode(readingsRoot, timestamp, acceptedAt, configVersion)) per accepted batch.
    mapping(uint32 batchIndex => bytes32 commitment) private _batchCommitments;

    /// @notice Deploys a fully configured oracle: no follow-up transaction is needed.
    /// @param admin Receives DEFAULT_ADMIN_ROLE, ORACLE_ADMIN_ROLE and PAUSER_ROLE.
    /// @param nft_ The GpuAssetNFT whose spec bounds the readings.
    /// @param signers_ The initial signer set (configuration version 1).
    /// @param threshold_ Signatures required per batch.
    /// @param maxFutureSkewSeconds_ How far in the future a batch may be, at most 1 hour.
    /// @param energyMarginBps_ Energy allowed above gpuCount * TDP, at most 5000 bps.
    constructor(
        address admin,
        IGpuAssetNFT nft_,
        address[] memory signers_,
        uint8 threshold_,
        uint64 maxFutureSkewSeconds_,
        uint16 energyMarginBps_
    ) EIP712("ComputeRWA UsageOracle", "1") {
        if (admin == address(0)) revert InvalidAdmin(admin);
        if (address(nft_) == address(0)) revert InvalidNft(address(nft_));
        if (maxFutureSkewSeconds_ > MAX_FUTURE_SKEW_SECONDS) {
            revert FutureSkewTooLarge(maxFutureSkewSeconds_, MAX_FUTURE_SKEW_SECONDS);
        }
        if (energyMarginBps_ > MAX_ENERGY_MARGIN_BPS) {
            revert EnergyMarginTooLarge(energyMarginBps_, MAX_ENERGY_MARGIN_BPS);
        }
        _nft = nft_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        // At most MAX_FUTURE_SKEW_SECONDS (checked above): fits 32 bits.
        _maxFutureSkewSeconds = uint32(maxFutureSkewSeconds_);
        emit MaxFutureSkewUpdated(0, maxFutureSkewSeconds_);
        _energyMarginBps = energyMarginBps_;
        emit EnergyMarginUpdated(0, energyMarginBps_);
        _nextBatchIndex = 1;
        _replaceSigners(signers_, threshold_);
    }

    // ---------------------------------------------------------------- reporting

    /// @inheritdoc IUsageOracle
    function submit(
        uint64 batchConfigVersion,
        uint32 batchIndex,
        uint64 timestamp,
        bytes calldata readings,
        bytes calldata signatures
    ) external whenNotPaused returns (bytes32 root) {
        // Checks: the header, the readings' shape, then the signatures over the rebuilt root.
        _checkHeader(batchConfigVersion, batchIndex, timestamp);
        uint256 count = _readingCount(readings);
        uint256 firstInvalid;
        (root, firstInvalid) = ReadingsMerkle.scan(readings, count, batchIndex);
        if (firstInvalid != count) _revertInvalidReading(readings, firstInvalid, batchIndex);
        _verifySignatures(_batchDigest(batchConfigVersion, batchIndex, timestamp, root), signatures);

        // Effects
        _batchCommitments[batchIndex] = _commitment(root, timestamp, uint64(block.timestamp), batchConfigVersion);
        _nextBatchIndex = batchIndex + 1;
        _lastBatchTimestamp = timestamp;
        emit BatchAccepted(batchIndex, batchConfigVersion, timestamp, root, count);
    }

    /// @inheritdoc IUsageOracle
    function batchCommitment(uint32 batchIndex) external view returns (bytes32) {
        return _batchCommitments[batchIndex];
    }

    /// @inheritdoc IUsageOracle
    function nextBatchIndex() external view returns (uint32) {
        return _nextBatchIndex;
    }

    /// @inheritdoc IUsageOracle
    function lastBatchTimestamp() external view returns (uint64) {
        return _lastBatchTimestamp;
    }

    /// @inheritdoc IUsageOracle
    function verifyReading(ReadingProof calldata proof) external view returns (ProvenReading memory) {
        return _verified(proof);
    }

    /// @inheritdoc IUsageOracle
    function meterAt(
        uint256 assetId,
        uint64 time,
        ReadingProof calldata earlierProof,
        ReadingProof calldata laterProof,
        MeterBound bound
    ) external view returns (MeterAt memory) {
        (uint16 gpuCount, uint16 tdpWattsPerGpu, ) = _nft.meteringLimits(assetId);
        return _meterAt(assetId, time, earlierProof, laterProof, bound, gpuCount, tdpWattsPerGpu);
    }

    /// @inheritdoc IUsageOracle
    function meterWindow(
        uint256 assetId,
        uint64 startTime,
        uint64 endLimit,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external view returns (MeterAt memory atStart, MeterAt memory atPoint, uint16 gpuCount, uint16 tdpWattsPerGpu) {
        (gpuCount, tdpWattsPerGpu, ) = _nft.meteringLimits(assetId);
        if (start.later.batchIndex != 0) {
            atStart = _meterAt(
                assetId,
                startTime,
                start.earlier,
                start.later,
                MeterBound.Upper,
                gpuCount,
                tdpWattsPerGpu
            );
        }
        ProvenReading memory later = _verified(point.later);
        if (later.assetId != assetId) revert ReadingOfOtherAsset(assetId, later.assetId);
        if (later.meter.timestamp > endLimit) {
            atPoint = _meterAt(
                assetId,
                endLimit,
                point.earlier,
                point.later,
                MeterBound.Lower,
                gpuCount,
                tdpWattsPerGpu
            );
        } else {
            atPoint = MeterAt({ meter: later.meter, source: MeterSource.Exact, acceptedAt: later.acceptedAt });
        }
    }

    /// @inheritdoc IUsageOracle
    function configVersion() external view returns (uint64) {
        return _configVersion;
    }

    /// @inheritdoc IUsageOracle
    function batchDigest(
        uint64 batchConfigVersion,
        uint32 batchIndex,
        uint64 timestamp,
        bytes32 root
    ) external view returns (bytes32) {
        return _batchDigest(batchConfigVersion, batchIndex, timestamp, root);
    }

    /// @inheritdoc IUsageOracle
    function readingsRoot(bytes calldata readings) external pure returns (bytes32) {
        uint256 length = readings.length;
        if (length % READING_BYTES != 0) revert MalformedReadings(length);
        if (length == 0) revert EmptyBatch();
        return ReadingsMerkle.rootOf(readings, length / READING_BYTES);
    }

    // ---------------------------------------------------------------- configuration

    /// @inheritdoc IUsageOracle
    function setSigners(address[] calldata signers_, uint8 threshold_) external onlyRole(ORACLE_ADMIN_ROLE) {
        _replaceSigners(signers_, threshold_);
    }

    /// @inheritdoc IUsageOracle
    function setMaxFutureSkew(uint64 maxFutureSkewSeconds_) external onlyRole(ORACLE_ADMIN_ROLE) {
        // Checks
        uint64 previous = _maxFutureSkewSeconds;
        if (maxFutureSkewSeconds_ > MAX_FUTURE_SKEW_SECONDS) {
            revert FutureSkewTooLarge(maxFutureSkewSeconds_, MAX_FUTURE_SKEW_SECONDS);
        }
        if (maxFutureSkewSeconds_ == previous) revert FutureSkewUnchanged(maxFutureSkewSeconds_);
        // Effects (fits 32 bits: checked above)
        _maxFutureSkewSeconds = uint32(maxFutureSkewSeconds_);
        emit MaxFutureSkewUpdated(previous, maxFutureSkewSeconds_);
    }

    /// @inheritdoc IUsageOracle
    function setEnergyMargin(uint16 energyMarginBps_) external onlyRole(ORACLE_ADMIN_ROLE) {
        // Checks
        uint16 previous = _energyMarginBps;
        if (energyMarginBps_ > MAX_ENERGY_MARGIN_BPS) {
            revert EnergyMarginTooLarge(energyMarginBps_, MAX_ENERGY_MARGIN_BPS);
        }
        if (energyMarginBps_ == previous) revert EnergyMarginUnchanged(energyMarginBps_);
        // Effects
        _energyMarginBps = energyMarginBps_;
        emit EnergyMarginUpdated(previous, energyMarginBps_);
    }

    /// @inheritdoc IUsageOracle
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IUsageOracle
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IUsageOracle
    function nft() external view returns (IGpuAssetNFT) {
        return _nft;
    }

    /// @inheritdoc IUsageOracle
    function signers() external view returns (address[] memory) {
        return _signers;
    }

    /// @inheritdoc IUsageOracle
    function threshold() external view returns (uint8) {
        return _threshold;
    }

    /// @inheritdoc IUsageOracle
    function isSigner(address account) external view returns (bool) {
        return _signerPosition[account] != 0;
    }

    /// @inheritdoc IUsageOracle
    function maxFutureSkewSeconds() external view returns (uint64) {
        return _maxFutureSkewSeconds;
    }

    /// @inheritdoc IUsageOracle
    function energyMarginBps() external view returns (uint16) {
        return _energyMarginBps;
    }

    // ---------------------------------------------------------------- internals

    /// @dev The header rules of `submit`: current signer set, the next index, a newer time, not too far ahead.
    function _checkHeader(uint64 batchConfigVersion, uint32 batchIndex, uint64 timestamp) private view {
        uint64 currentVersion = _configVersion;
        if (batchConfigVersion != currentVersion) revert StaleConfigVersion(batchConfigVersion, currentVersion);
        uint32 next = _nextBatchIndex;
        if (batchIndex < next) revert BatchIndexTaken(batchIndex, next);
        if (batchIndex > next) revert BatchIndexAhead(batchIndex, next);
        uint64 lastTimestamp = _lastBatchTimestamp;
        // solhint-disable-next-line gas-strict-inequalities
        if (timestamp <= lastTimestamp) revert BatchNotNewer(timestamp, lastTimestamp);
        uint64 maxTimestamp = uint64(block.timestamp) + _maxFutureSkewSeconds;
        if (timestamp > maxTimestamp) revert BatchInFuture(timestamp, maxTimestamp);
    }

    /// @dev The number of readings, after the shape rules: whole readings, 1 to `MAX_READINGS`.
    function _readingCount(bytes calldata readings) private pure returns (uint256 count) {
        uint256 length = readings.length;
        if (length % READING_BYTES != 0) revert MalformedReadings(length);
        count = length / READING_BYTES;
        if (count == 0) revert EmptyBatch();
        if (count > MAX_READINGS) revert BatchTooLarge(count, MAX_READINGS);
    }

    /// @dev Reverts with the rule reading `index` breaks (`ReadingsMerkle.scan` found it).
    function _revertInvalidReading(bytes calldata readings, uint256 index, uint32 batchIndex) private pure {
        (uint256 assetId, uint32 previousBatch, , , ) = MeterMath.unpack(_readingAt(readings, index));
        // solhint-disable-next-line gas-strict-inequalities
        if (previousBatch >= batchIndex) revert PreviousBatchNotEarlier(index, previousBatch, batchIndex);
        (uint256 previousAssetId, , , , ) = MeterMath.unpack(_readingAt(readings, index - 1));
        revert AssetIdsNotAscending(index, assetId, previousAssetId);
    }

    /// @dev Reading `index` of packed readings.
    function _readingAt(bytes calldata readings, uint256 index) private pure returns (bytes28) {
        uint256 start = index * READING_BYTES;
        return bytes28(readings[start:start + READING_BYTES]);
    }

    /// @dev EIP-712 digest of `UsageBatch(configVersion, batchIndex, timestamp, readingsRoot)`.
    function _batchDigest(
        uint64 batchConfigVersion,
        uint32 batchIndex,
        uint64 timestamp,
        bytes32 root
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(USAGE_BATCH_TYPEHASH, batchConfigVersion, batchIndex, timestamp, root))
            );
    }

    /// @dev The one word stored per batch.
    function _commitment(
        bytes32 root,
        uint64 timestamp,
        uint64 acceptedAt,
        uint64 batchConfigVersion
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(root, timestamp, acceptedAt, batchConfigVersion));
    }

    /// @dev See `IUsageOracle.meterAt`. The caller reads `gpuCount` and `tdpWattsPerGpu` from the NFT
    /// (`meteringLimits`, which reverts for a burned asset) before, whichever case applies.
    function _meterAt(
        uint256 assetId,
        uint64 time,
        ReadingProof calldata earlierProof,
        ReadingProof calldata laterProof,
        MeterBound bound,
        uint16 gpuCount,
        uint16 tdpWattsPerGpu
    ) private view returns (MeterAt memory result) {
        ProvenReading memory later = _verified(laterProof);
        if (later.assetId != assetId) revert ReadingOfOtherAsset(assetId, later.assetId);
        uint64 laterTime = later.meter.timestamp;
        if (laterTime < time) revert ReadingsNotAroundTime(time, 0, laterTime);
        result.acceptedAt = later.acceptedAt;
        if (laterTime == time || later.previousBatch == 0) {
            // Nothing before the asset's first reading is proven: its values stand for any earlier time.
            result.meter = _stamped(later.meter, time);
            result.source = laterTime == time ? MeterSource.Exact : MeterSource.FirstReading;
            return result;
        }
        ProvenReading memory earlier = _verified(earlierProof);
        if (earlier.batchIndex != later.previousBatch) {
            revert ReadingsNotAdjacent(later.previousBatch, earlier.batchIndex);
        }
        if (earlier.assetId != assetId) revert ReadingOfOtherAsset(assetId, earlier.assetId);
        if (!(earlier.meter.timestamp < time)) revert ReadingsNotAroundTime(time, earlier.meter.timestamp, laterTime);
        if (earlier.acceptedAt > result.acceptedAt) result.acceptedAt = earlier.acceptedAt;
        if (MeterMath.isPossible(earlier.meter, later.meter, gpuCount, tdpWattsPerGpu, _energyMarginBps)) {
            result.meter = MeterMath.interpolate(earlier.meter, later.meter, time);
            result.source = MeterSource.Interpolated;
        } else {
            result.meter = _stamped(bound == MeterBound.Lower ? earlier.meter : later.meter, time);
            result.source = MeterSource.UnusablePair;
        }
    }

    /// @dev A copy of `meter` stamped `time` (a fresh struct: the reading it comes from stays intact).
    function _stamped(Meter memory meter, uint64 time) private pure returns (Meter memory) {
        return
            Meter({
                timestamp: time,
                busyGpuSeconds: meter.busyGpuSeconds,
                availableGpuSeconds: meter.availableGpuSeconds,
                energyJ: meter.energyJ
            });
    }

    /// @dev The reading a proof proves, or a revert.
    function _verified(ReadingProof calldata proof) private view returns (ProvenReading memory reading) {
        uint32 batchIndex = proof.batchIndex;
        bytes32 stored = _batchCommitments[batchIndex];
        if (stored == bytes32(0)) revert UnknownBatch(batchIndex);
        bytes32 root = ReadingsMerkle.rootFromProof(ReadingsMerkle.leafOf(proof.reading), proof.path);
        if (_commitment(root, proof.batchTimestamp, proof.acceptedAt, proof.configVersion) != stored) {
            revert InvalidReadingProof(batchIndex);
        }
        (
            uint256 assetId,
            uint32 previousBatch,
            uint64 busyGpuSeconds,
            uint64 availableGpuSeconds,
            uint64 energyJ
        ) = MeterMath.unpack(proof.reading);
        reading = ProvenReading({
            assetId: assetId,
            batchIndex: batchIndex,
            previousBatch: previousBatch,
            acceptedAt: proof.acceptedAt,
            meter: Meter({
                timestamp: proof.batchTimestamp,
                busyGpuSeconds: busyGpuSeconds,
                availableGpuSeconds: availableGpuSeconds,
                energyJ: energyJ
            })
        });
    }

    /// @dev Reverts unless `signatures` holds `threshold` to `signerCount` valid signatures of `digest`
    /// by distinct current signers. A bitmap over signer positions catches a repeated signer in any order.
    function _verifySignatures(bytes32 digest, bytes calldata signatures) private view {
        uint256 length = signatures.length;
        if (length % SIGNATURE_BYTES != 0) revert MalformedSignatures(length);
        uint256 count = length / SIGNATURE_BYTES;
        uint8 required = _threshold;
        if (count < required) revert NotEnoughSignatures(count, required);
        uint256 signerCount = _signerCount;
        if (count > signerCount) revert TooManySignatures(count, signerCount);
        uint256 seen;
        for (uint256 i; i < count; ++i) {
            uint256 start = i * SIGNATURE_BYTES;
            address signer = ECDSA.recoverCalldata(digest, signatures[start:start + SIGNATURE_BYTES]);
            uint256 position = _signerPosition[signer];
            if (position == 0) revert UnknownSigner(signer);
            uint256 bit = 1 << position;
            if (seen & bit != 0) revert DuplicateSigner(signer);
            seen |= bit;
        }
    }

    /// @dev Validates and installs a new signer set and bumps the configuration version.
    function _replaceSigners(address[] memory signers_, uint8 threshold_) private {
        // Checks (duplicates and zero addresses are found while installing; a revert undoes it all)
        uint256 count = signers_.length;
        if (count > MAX_SIGNERS) revert TooManySigners(count, MAX_SIGNERS);
        if (threshold_ == 0 || threshold_ > count) revert InvalidThreshold(threshold_, count);
        bool unchanged = count == _signers.length && threshold_ == _threshold;
        for (uint256 i; unchanged && i < count; ++i) {
            unchanged = _signerPosition[signers_[i]] != 0;
        }

        // Effects
        address[] storage current = _signers;
        for (uint256 i = current.length; i != 0; --i) {
            delete _signerPosition[current[i - 1]];
            current.pop();
        }
        for (uint256 i; i < count; ++i) {
            address signer = signers_[i];
            if (signer == address(0)) revert InvalidSigner(signer);
            if (_signerPosition[signer] != 0) revert DuplicateSignerInSet(signer);
            _signerPosition[signer] = i + 1;
            current.push(signer);
        }
        // Checked after the duplicate scan, so a set such as {A, A} against {A, B} reports the duplicate.
        if (unchanged) revert SignerSetUnchanged();
        uint64 version = _configVersion + 1;
        _configVersion = version;
        _threshold = threshold_;
        _signerCount = uint8(count);
        emit SignerSetUpdated(version, signers_, threshold_);
    }
}
