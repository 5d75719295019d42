// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CheatBase } from "../utils/TestBase.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { Meter, Reading } from "../../../contracts/types/OracleTypes.sol";

/// @notice Drives UsageOracle with signed batches: valid ones (physically possible deltas, a quorum of
/// distinct current signers, possibly slightly in the future), and every kind of invalid one (impossible
/// deltas, decreasing counters, beyond the skew, too few / duplicate / unknown signers, an outdated
/// signer-set version, replays), plus signer rotations and time. The ghost meter moves only when a
/// valid batch is accepted.
/// @dev This contract holds ORACLE_ADMIN_ROLE.
contract UsageOracleHandler is CheatBase {
    UsageOracle public immutable oracle;
    GpuAssetNFT public immutable nft;
    uint256[] public assets;
    uint256[] internal _keys; // every key that is or was a signer
    uint256[] internal _currentKeys;
    uint8 public threshold;

    mapping(uint256 assetId => Meter) internal _ghost;
    mapping(uint256 assetId => Meter) internal _ghostPrevious;
    /// @notice An invalid batch that was accepted (O2, O3, O4): must stay zero.
    uint256 public invalidAccepted;
    string public lastInvalidAccepted;
    /// @notice A valid batch that was refused: the oracle must not lose honest data.
    uint256 public validRefused;
    bytes public lastValidRefusal;
    /// @notice A reading accepted later than the skew allows at acceptance time (O3): must stay zero.
    uint256 public futureAccepted;

    uint64 internal _lastVersion;
    Reading[] internal _lastBatch;
    bytes[] internal _lastSignatures;

    constructor(
        UsageOracle oracle_,
        GpuAssetNFT nft_,
        uint256[] memory assets_,
        uint256[] memory keys_,
        uint8 threshold_
    ) {
        oracle = oracle_;
        nft = nft_;
        assets = assets_;
        _keys = keys_;
        for (uint256 i = 0; i < 3; i++) _currentKeys.push(keys_[i]);
        threshold = threshold_;
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function ghost(uint256 assetId) external view returns (Meter memory) {
        return _ghost[assetId];
    }

    function ghostPrevious(uint256 assetId) external view returns (Meter memory) {
        return _ghostPrevious[assetId];
    }

    // ---------------------------------------------------------------- signing

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev `count` signatures by distinct current signers, starting at a seed-chosen one.
    function _quorum(bytes32 digest, uint256 count, uint256 seed) internal view returns (bytes[] memory sigs) {
        sigs = new bytes[](count);
        for (uint256 i = 0; i < count; i++) {
            sigs[i] = _sign(_currentKeys[((seed % _currentKeys.length) + i) % _currentKeys.length], digest);
        }
    }

    function _one(Reading memory r) internal pure returns (Reading[] memory batch) {
        batch = new Reading[](1);
        batch[0] = r;
    }

    // ---------------------------------------------------------------- actions

    /// @notice A physically possible next reading, signed by a quorum: must be accepted.
    function submitValid(
        uint256 assetSeed,
        uint256 aheadSeconds,
        uint256 availableBps,
        uint256 busyBps,
        uint256 energyBps,
        uint256 signerSeed
    ) external {
        uint256 assetId = assets[assetSeed % assets.length];
        Meter memory last = _ghost[assetId];
        uint64 timestamp = uint64(block.timestamp + bound(aheadSeconds, 0, oracle.maxFutureSkewSeconds()));
        if (timestamp <= last.timestamp) return;
        Reading memory r = _possibleReading(assetId, last, timestamp, availableBps, busyBps, energyBps);
        Reading[] memory batch = _one(r);
        uint64 version = oracle.configVersion();
        bytes[] memory sigs = _quorum(oracle.batchDigest(version, batch), threshold, signerSeed);
        try oracle.submit(version, batch, sigs) returns (uint256 accepted) {
            if (accepted != 1) validRefused++;
            _ghostPrevious[assetId] = last;
            _ghost[assetId] = Meter(r.timestamp, r.busyGpuSeconds, r.availableGpuSeconds, r.energyJ);
            if (r.timestamp > block.timestamp + oracle.maxFutureSkewSeconds()) futureAccepted++;
            _remember(version, batch, sigs);
        } catch (bytes memory reason) {
            validRefused++;
            lastValidRefusal = reason;
        }
    }

    function _possibleReading(
        uint256 assetId,
        Meter memory last,
        uint64 timestamp,
        uint256 availableBps,
        uint256 busyBps,
        uint256 energyBps
    ) internal view returns (Reading memory r) {
        if (last.timestamp == 0) {
            // The baseline: any cumulative values.
            return
                Reading(
                    assetId,
                    timestamp,
                    uint64(busyBps % 1e9),
                    uint64(busyBps % 1e9) + uint64(availableBps % 1e9),
                    uint64(energyBps % 1e12)
                );
        }
        (uint16 gpuCount, uint16 tdp, ) = nft.meteringLimits(assetId);
        uint256 dt = timestamp - last.timestamp;
        uint256 availableDelta = (uint256(gpuCount) * dt * bound(availableBps, 0, 10_000)) / 10_000;
        uint256 busyDelta = (availableDelta * bound(busyBps, 0, 10_000)) / 10_000;
        uint256 energyDelta = (uint256(gpuCount) * tdp * dt * bound(energyBps, 0, 10_000)) / 10_000;
        r = Reading(
            assetId,
            timestamp,
            last.busyGpuSeconds + uint64(busyDelta),
            last.availableGpuSeconds + uint64(availableDelta),
            last.energyJ + uint64(energyDelta)
        );
    }

    function _remember(uint64 version, Reading[] memory batch, bytes[] memory sigs) internal {
        _lastVersion = version;
        delete _lastBatch;
        delete _lastSignatures;
        for (uint256 i = 0; i < batch.length; i++) _lastBatch.push(batch[i]);
        for (uint256 i = 0; i < sigs.length; i++) _lastSignatures.push(sigs[i]);
    }

    struct Attempt {
        Reading reading;
        uint64 version;
        uint256 signatureCount;
        string what;
        bool skip;
    }

    /// @notice One kind of invalid batch: must be refused and change nothing.
    function submitInvalid(uint256 kind, uint256 assetSeed, uint256 seed) external {
        uint256 assetId = assets[assetSeed % assets.length];
        if (block.timestamp <= _ghost[assetId].timestamp) return;
        kind = kind % 9;
        Attempt memory a = _invalidAttempt(kind, assetId, seed);
        if (a.skip) return;
        Reading[] memory batch = _one(a.reading);
        bytes32 digest = oracle.batchDigest(a.version, batch);
        bytes[] memory sigs = _quorum(digest, a.signatureCount, seed);
        if (kind == 7) {
            a.what = "duplicate signer";
            if (sigs.length < 2) return;
            sigs[1] = sigs[0];
        } else if (kind == 8) {
            a.what = "unknown signer";
            sigs[0] = _sign((uint256(keccak256(abi.encode("stranger", seed))) % (2 ** 200)) + 1, digest);
        }
        try oracle.submit(a.version, batch, sigs) {
            invalidAccepted++;
            lastInvalidAccepted = a.what;
        } catch {}
    }

    /// @dev A valid next reading with one thing broken, by kind (7 and 8 break the signatures later).
    function _invalidAttempt(uint256 kind, uint256 assetId, uint256 seed) internal view returns (Attempt memory a) {
        Meter memory last = _ghost[assetId];
        uint64 timestamp = uint64(block.timestamp);
        a.reading = _possibleReading(assetId, last, timestamp, seed, seed >> 16, seed >> 32);
        a.version = oracle.configVersion();
        a.signatureCount = threshold;
        bool baseline = last.timestamp == 0;
        (uint16 gpuCount, uint16 tdp, ) = nft.meteringLimits(assetId);
        uint256 dt = timestamp - last.timestamp;
        if (kind == 0) {
            a.what = "busy > available";
            a.skip = baseline;
            a.reading.busyGpuSeconds =
                a.reading.availableGpuSeconds -
                last.availableGpuSeconds +
                last.busyGpuSeconds +
                1;
        } else if (kind == 1) {
            a.what = "available > capacity";
            a.skip = baseline;
            a.reading.availableGpuSeconds = last.availableGpuSeconds + uint64(uint256(gpuCount) * dt) + 1;
        } else if (kind == 2) {
            a.what = "energy > limit";
            a.skip = baseline;
            uint256 limit = (uint256(gpuCount) * tdp * dt * (10_000 + oracle.energyMarginBps())) / 10_000;
            a.reading.energyJ = last.energyJ + uint64(limit) + 1;
        } else if (kind == 3) {
            a.what = "busy decreased";
            a.skip = baseline || last.busyGpuSeconds == 0;
            if (!a.skip) {
                a.reading.busyGpuSeconds = last.busyGpuSeconds - 1;
                a.reading.availableGpuSeconds = last.availableGpuSeconds;
            }
        } else if (kind == 4) {
            a.what = "beyond the future skew";
            uint64 future = uint64(block.timestamp + oracle.maxFutureSkewSeconds() + 1 + (seed % 1 days));
            a.reading = _possibleReading(assetId, last, future, seed, seed >> 16, seed >> 32);
        } else if (kind == 5) {
            a.what = "too few signatures";
            a.skip = threshold < 2;
            a.signatureCount = threshold - 1;
        } else if (kind == 6) {
            a.what = "stale config version";
            a.skip = a.version == 1;
            a.version = a.version - 1;
        }
    }

    /// @notice Replays the last accepted batch: must be refused (BatchAlreadyAccepted) or stale.
    function replay() external {
        if (_lastBatch.length == 0) return;
        Reading[] memory batch = _lastBatch;
        bytes[] memory sigs = _lastSignatures;
        try oracle.submit(_lastVersion, batch, sigs) {
            invalidAccepted++;
            lastInvalidAccepted = "replay";
        } catch {}
    }

    /// @notice The oracle admin installs another 3-key signer set (threshold 2): the version moves on.
    function rotateSigners(uint256 seed) external {
        uint256 start = seed % _keys.length;
        address[] memory next = new address[](3);
        uint256[] memory nextKeys = new uint256[](3);
        for (uint256 i = 0; i < 3; i++) {
            nextKeys[i] = _keys[(start + i) % _keys.length];
            next[i] = vm.addr(nextKeys[i]);
        }
        try oracle.setSigners(next, 2) {
            delete _currentKeys;
            for (uint256 i = 0; i < 3; i++) _currentKeys.push(nextKeys[i]);
            threshold = 2;
        } catch {}
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 3 days));
    }
}
