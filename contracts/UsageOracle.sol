// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import { ECDSA } from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import { IUsageOracle } from "./interfaces/IUsageOracle.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import { AssetStatus } from "./types/GpuAssetTypes.sol";
import { Reading, Meter } from "./types/OracleTypes.sol";
import { MeterLib } from "./libraries/MeterLib.sol";

/// @title UsageOracle — signed utilization and energy meters of GPU assets
/// @notice See `IUsageOracle`. Stores each asset's latest reading in one word and emits one
/// `UsageReported` event per batch.
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

    /// @notice EIP-712 type hash of `Reading`.
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant READING_TYPEHASH = keccak256(
        "Reading(uint256 assetId,uint64 timestamp,uint64 busyGpuSeconds,uint64 availableGpuSeconds,uint64 energyJ)"
    );
    /// @notice EIP-712 type hash of `UsageBatch` (with the referenced `Reading` type appended).
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant USAGE_BATCH_TYPEHASH = keccak256(
        "UsageBatch(uint64 configVersion,Reading[] readings)"
        "Reading(uint256 assetId,uint64 timestamp,uint64 busyGpuSeconds,uint64 availableGpuSeconds,uint64 energyJ)"
    );

    IGpuAssetNFT private immutable _nft;

    // The settings `submit` reads are declared together right after Pausable's `_paused` (1 byte), so
    // the pause flag and all of them share one slot: 1 + 8 + 1 + 1 + 8 + 2 = 21 bytes, one cold read.
    uint64 private _configVersion;
    uint8 private _threshold;
    uint8 private _signerCount;
    uint64 private _maxFutureSkewSeconds;
    uint16 private _energyMarginBps;

    address[] private _signers;
    /// @dev 1 + index in `_signers` for current signers, 0 otherwise.
    mapping(address signer => uint256 position) private _signerPosition;
    /// @dev The latest accepted reading of each asset, packed as `MeterLib.pack` describes.
    mapping(uint256 assetId => uint256 packedMeter) private _meters;

    /// @notice Deploys a fully configured oracle: no follow-up transaction is needed.
    /// @param admin Receives DEFAULT_ADMIN_ROLE, ORACLE_ADMIN_ROLE and PAUSER_ROLE.
    /// @param nft_ The GpuAssetNFT whose spec and status bound the readings.
    /// @param signers_ The initial signer set (configuration version 1).
    /// @param threshold_ Signatures required per batch.
    /// @param maxFutureSkewSeconds_ How far in the future a reading may be, at most 1 hour.
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
        _maxFutureSkewSeconds = maxFutureSkewSeconds_;
        emit MaxFutureSkewUpdated(0, maxFutureSkewSeconds_);
        _energyMarginBps = energyMarginBps_;
        emit EnergyMarginUpdated(0, energyMarginBps_);
        _replaceSigners(signers_, threshold_);
    }

    // ---------------------------------------------------------------- reporting

    /// @inheritdoc IUsageOracle
    function submit(
        uint64 batchConfigVersion,
        Reading[] calldata readings,
        bytes[] calldata signatures
    ) external whenNotPaused returns (uint256 accepted) {
        // Checks: the batch as a whole (version, size, signatures).
        uint64 currentVersion = _configVersion;
        if (batchConfigVersion != currentVersion) revert StaleConfigVersion(batchConfigVersion, currentVersion);
        uint256 count = readings.length;
        if (count == 0) revert EmptyBatch();
        if (count > MAX_READINGS) revert BatchTooLarge(count, MAX_READINGS);
        bytes32 digest = _batchDigest(batchConfigVersion, readings);
        _verifySignatures(digest, signatures);

        // Effects, reading by reading, each checked first. The only external call, `meteringLimits`,
        // is a view on the NFT (no state change and no re-entry into this contract can follow from it).
        uint256[] memory meters;
        (meters, accepted) = _applyReadings(readings);
        emit UsageReported(digest, batchConfigVersion, meters);
    }

    /// @inheritdoc IUsageOracle
    function latestReading(uint256 assetId) external view returns (Meter memory) {
        return MeterLib.unpack(_meters[assetId]);
    }

    /// @inheritdoc IUsageOracle
    function isFresh(uint256 assetId, uint64 maxAgeSeconds) external view returns (bool) {
        uint64 timestamp = MeterLib.timestampOf(_meters[assetId]);
        // age <= maxAgeSeconds, written so that a timestamp in the (allowed) future counts as age 0.
        return timestamp != 0 && block.timestamp < uint256(timestamp) + maxAgeSeconds + 1;
    }

    /// @inheritdoc IUsageOracle
    function configVersion() external view returns (uint64) {
        return _configVersion;
    }

    /// @inheritdoc IUsageOracle
    function batchDigest(uint64 batchConfigVersion, Reading[] calldata readings) external view returns (bytes32) {
        return _batchDigest(batchConfigVersion, readings);
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
        // Effects
        _maxFutureSkewSeconds = maxFutureSkewSeconds_;
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

    /// @dev EIP-712 digest of `UsageBatch(configVersion, readings)`.
    function _batchDigest(uint64 batchConfigVersion, Reading[] calldata readings) private view returns (bytes32) {
        bytes32 readingsHash = MeterLib.hashReadings(readings, READING_TYPEHASH);
        return _hashTypedDataV4(keccak256(abi.encode(USAGE_BATCH_TYPEHASH, batchConfigVersion, readingsHash)));
    }

    /// @dev Checks and stores each reading newer than its asset's latest; returns the event's meter
    /// words and the accepted count. Reverts `BatchAlreadyAccepted` when none is newer.
    function _applyReadings(Reading[] calldata readings) private returns (uint256[] memory meters, uint256 accepted) {
        uint256 count = readings.length;
        uint64 maxTimestamp = uint64(block.timestamp) + _maxFutureSkewSeconds;
        uint16 energyMarginBps_ = _energyMarginBps;
        meters = new uint256[](2 * count);
        uint256 words;
        uint256 previousAssetId;
        for (uint256 i; i < count;) {
            Reading calldata reading = readings[i];
            uint256 assetId = reading.assetId;
            // solhint-disable-next-line gas-strict-inequalities
            if (i != 0 && assetId <= previousAssetId) revert AssetIdsNotAscending(i, assetId, previousAssetId);
            previousAssetId = assetId;

            uint256 previous = _meters[assetId];
            {
                uint64 timestamp = reading.timestamp;
                uint64 latestTimestamp = MeterLib.timestampOf(previous);
                // solhint-disable-next-line gas-strict-inequalities
                if (timestamp <= latestTimestamp) {
                    emit ReadingSkipped(assetId, timestamp, latestTimestamp);
                    unchecked {
                        ++i;
                    }
                    continue;
                }
            }
            uint256 current = _checkedMeter(reading, previous, maxTimestamp, energyMarginBps_);

            _meters[assetId] = current;
            // `words` < 2 * count: the array has room, and nothing here can overflow.
            meters[words] = assetId;
            unchecked {
                meters[words + 1] = current;
                words += 2;
                ++i;
            }
        }
        unchecked {
            accepted = words / 2;
        }
        if (accepted == 0) revert BatchAlreadyAccepted();
        if (accepted != count) _truncate(meters, words);
    }

    /// @dev The packed meter of a reading newer than the asset's latest (`previous`), after the per-reading
    /// checks: not in the future, asset not Retired, and (after the baseline) a possible delta.
    function _checkedMeter(
        Reading calldata reading,
        uint256 previous,
        uint64 maxTimestamp,
        uint16 energyMarginBps_
    ) private view returns (uint256 current) {
        uint256 assetId = reading.assetId;
        uint64 timestamp = reading.timestamp;
        if (timestamp > maxTimestamp) revert ReadingInFuture(assetId, timestamp, maxTimestamp);
        (uint16 gpuCount, uint16 tdpWattsPerGpu, AssetStatus status) = _meteringLimits(assetId);
        if (status == AssetStatus.Retired) revert AssetRetired(assetId);
        current = MeterLib.pack(timestamp, reading.busyGpuSeconds, reading.availableGpuSeconds, reading.energyJ);
        // The first reading of an asset is its baseline: there is no delta to bound yet.
        if (MeterLib.timestampOf(previous) != 0) {
            MeterLib.checkDelta(assetId, previous, current, gpuCount, tdpWattsPerGpu, energyMarginBps_);
        }
    }

    /// @dev `_nft.meteringLimits(assetId)` with a hand-written call: the ABI encoding and decoding Solidity
    /// generates for it cost several hundred gas per reading (measured with `BENCH_ONLY=oracle`). A revert
    /// of the NFT (e.g. `ERC721NonexistentToken`) is bubbled unchanged; a malformed answer (short, or out
    /// of the types' ranges) reverts `InvalidNft`, as the ABI decoder would revert.
    function _meteringLimits(
        uint256 assetId
    ) private view returns (uint16 gpuCount, uint16 tdpWattsPerGpu, AssetStatus status) {
        address nftAddress = address(_nft);
        bytes4 selector = IGpuAssetNFT.meteringLimits.selector;
        uint256 rawGpuCount;
        uint256 rawTdp;
        uint256 rawStatus;
        bool wellFormed;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let buffer := mload(0x40)
            mstore(buffer, selector)
            mstore(add(buffer, 0x04), assetId)
            if iszero(staticcall(gas(), nftAddress, buffer, 0x24, buffer, 0x60)) {
                returndatacopy(buffer, 0, returndatasize())
                revert(buffer, returndatasize())
            }
            wellFormed := eq(returndatasize(), 0x60)
            rawGpuCount := mload(buffer)
            rawTdp := mload(add(buffer, 0x20))
            rawStatus := mload(add(buffer, 0x40))
        }
        if (!wellFormed || (rawGpuCount | rawTdp) > type(uint16).max || rawStatus > uint8(AssetStatus.Retired)) {
            revert InvalidNft(nftAddress);
        }
        return (uint16(rawGpuCount), uint16(rawTdp), AssetStatus(rawStatus));
    }

    /// @dev Reverts unless `signatures` are `threshold` to `signerCount` valid signatures of `digest`
    /// by distinct current signers. A bitmap over signer positions catches a repeated signer in any order.
    function _verifySignatures(bytes32 digest, bytes[] calldata signatures) private view {
        uint256 count = signatures.length;
        uint8 required = _threshold;
        if (count < required) revert NotEnoughSignatures(count, required);
        uint256 signerCount = _signerCount;
        if (count > signerCount) revert TooManySignatures(count, signerCount);
        uint256 seen;
        for (uint256 i; i < count; ++i) {
            address signer = ECDSA.recoverCalldata(digest, signatures[i]);
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

    /// @dev Shortens a memory array in place to its first `length` elements (`length` <= its length).
    function _truncate(uint256[] memory array, uint256 length) private pure {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(array, length)
        }
    }
}
