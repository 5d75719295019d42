// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CheatBase } from "../utils/TestBase.sol";
import { ReferenceMerkle } from "../utils/ReferenceMerkle.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { IUsageOracle } from "../../../contracts/interfaces/IUsageOracle.sol";
import { MeterMath } from "../../../contracts/libraries/MeterMath.sol";
import {
    Meter,
    MeterAt,
    MeterBound,
    MeterSource,
    ProvenReading,
    ReadingProof
} from "../../../contracts/types/OracleTypes.sol";

/// @notice Drives UsageOracle v2 with signed batches and proofs. Valid batches: the next index, a
/// newer timestamp up to the skew ahead, a random non-empty set of assets linked to their previous
/// batches, random counters (impossible ones included: `submit` checks no values), signed by a random
/// quorum of distinct current signers in a random order. Fifteen kinds of invalid batch, each with the
/// error it must raise. Replays, signer rotations, skew changes, pauses, time. Proofs of random
/// readings (must verify), of forged ones (must not), and meters at random times (must follow the
/// ghost history). The ghost history is what the handler submitted and saw accepted.
/// @dev This contract holds ORACLE_ADMIN_ROLE and PAUSER_ROLE.
contract UsageOracleHandler is CheatBase {
    /// @notice A batch the oracle accepted, as the handler submitted it.
    struct Accepted {
        bytes32 root;
        uint64 timestamp;
        uint64 acceptedAt;
        uint64 configVersion;
        uint64 skewAtAcceptance;
        bytes32 commitment;
    }

    /// @dev A batch being built.
    struct Draft {
        uint64 configVersion;
        uint32 batchIndex;
        uint64 timestamp;
        bytes28[] readings;
        bool truncated; // the readings' bytes lose their last byte (a malformed batch)
        bytes signatures;
    }

    UsageOracle public immutable oracle;
    GpuAssetNFT public immutable nft;
    uint256[] public assets;
    uint256[] internal _keys; // every key that is or was a signer
    uint256[] internal _currentKeys;
    uint8 public threshold;
    uint256 internal immutable _strangerKey;

    Accepted[] internal _accepted; // batch i is _accepted[i - 1]
    mapping(uint256 batchIndex => bytes28[]) internal _readingsOf;
    mapping(uint256 assetId => uint32[]) internal _batchesOfAsset;
    mapping(uint256 assetId => mapping(uint256 batchIndex => uint256)) internal _positionOf;
    Draft internal _lastAccepted;

    /// @notice An invalid batch that was accepted: must stay zero (O4).
    uint256 public invalidAccepted;
    string public lastInvalidAccepted;
    /// @notice An invalid batch refused with another error than the rule it breaks: must stay zero.
    uint256 public wrongError;
    string public lastWrongError;
    /// @notice A valid batch that was refused, or accepted with another root: must stay zero.
    uint256 public validRefused;
    bytes public lastValidRefusal;
    /// @notice A proof of a published reading that did not verify or unpacked wrongly: must stay zero (O5).
    uint256 public proofFailures;
    string public lastProofFailure;
    /// @notice A forged proof that verified: must stay zero (O5).
    uint256 public forgedAccepted;
    string public lastForgedAccepted;
    /// @notice A meterAt result that differs from the ghost history's: must stay zero (O6).
    uint256 public meterMismatches;
    string public lastMeterMismatch;

    /// @notice How often each kind of check ran (the campaign's coverage, printed by the invariant test).
    uint256 public acceptedCount;
    uint256 public refusedCount;
    uint256 public proofsChecked;
    uint256 public metersChecked;
    mapping(uint8 source => uint256) public metersBySource;

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
        _strangerKey = (uint256(keccak256("oracle handler stranger")) % (2 ** 200)) + 1;
    }

    // ---------------------------------------------------------------- ghost views

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function batchCount() external view returns (uint256) {
        return _accepted.length;
    }

    function acceptedBatch(uint256 batchIndex) external view returns (Accepted memory) {
        return _accepted[batchIndex - 1];
    }

    function lastTimestamp() public view returns (uint64) {
        return _accepted.length == 0 ? 0 : _accepted[_accepted.length - 1].timestamp;
    }

    // ---------------------------------------------------------------- building batches

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev `count` signatures by distinct current signers from a seed-chosen one, forwards or backwards.
    function _quorum(bytes32 digest, uint256 count, uint256 seed) internal view returns (bytes memory sigs) {
        uint256 n = _currentKeys.length;
        for (uint256 i = 0; i < count; i++) {
            uint256 k = (seed >> 8) % 2 == 0 ? ((seed % n) + i) % n : ((seed % n) + n * count - i) % n;
            sigs = bytes.concat(sigs, _sign(_currentKeys[k], digest));
        }
    }

    /// @dev A valid next batch (not signed): the assets chosen by `mask`, linked to their previous batches.
    function _draft(uint256 mask, uint256 valuesSeed, uint256 ahead) internal view returns (Draft memory d, bool ok) {
        uint64 last = lastTimestamp();
        uint256 maxTimestamp = block.timestamp + oracle.maxFutureSkewSeconds();
        if (last >= maxTimestamp) return (d, false);
        d.configVersion = oracle.configVersion();
        d.batchIndex = uint32(_accepted.length + 1);
        // Between a day behind the block (a late transmission) and the skew ahead of it.
        uint256 earliest = block.timestamp > 1 days ? block.timestamp - 1 days : 0;
        d.timestamp = uint64(bound(ahead, earliest > last ? earliest : uint256(last) + 1, maxTimestamp));
        uint256 count;
        for (uint256 i = 0; i < assets.length; i++) if ((mask >> i) & 1 == 1) count++;
        if (count == 0) mask = 1 << (mask % assets.length);
        if (count == 0) count = 1;
        d.readings = new bytes28[](count);
        uint256 j;
        for (uint256 i = 0; i < assets.length; i++) {
            if ((mask >> i) & 1 == 0) continue;
            d.readings[j++] = _nextReading(assets[i], d.timestamp, uint256(keccak256(abi.encode(valuesSeed, i))));
        }
        ok = true;
    }

    /// @dev The asset's next reading: mostly physically possible after its last one, sometimes anything.
    function _nextReading(uint256 assetId, uint64 timestamp, uint256 seed) internal view returns (bytes28) {
        uint32[] storage list = _batchesOfAsset[assetId];
        if (list.length == 0 || seed % 5 == 0) {
            // A first reading, or any values at all (impossible ones included).
            return
                ReferenceMerkle.pack(
                    uint32(assetId),
                    list.length == 0 ? 0 : list[list.length - 1],
                    uint48(seed >> 8) % 1e12,
                    uint48(seed >> 56) % 1e12,
                    uint64(seed >> 104) % 1e15
                );
        }
        uint32 previous = list[list.length - 1];
        Meter memory m = _meterOf(previous, assetId);
        (uint16 gpuCount, uint16 tdp, ) = nft.meteringLimits(assetId);
        uint256 capacity = uint256(gpuCount) * (timestamp - m.timestamp);
        uint256 available = (capacity * bound(seed >> 8, 0, 10_000)) / 10_000;
        uint256 busy = (available * bound(seed >> 24, 0, 10_000)) / 10_000;
        uint256 energy = (capacity * tdp * bound(seed >> 40, 0, 11_000)) / 10_000;
        return
            ReferenceMerkle.pack(
                uint32(assetId),
                previous,
                uint48(m.busyGpuSeconds + busy),
                uint48(m.availableGpuSeconds + available),
                uint64(m.energyJ + energy)
            );
    }

    function _submit(Draft memory d) internal returns (bool accepted, bytes memory reason, bytes32 root) {
        bytes memory packed = ReferenceMerkle.concat(d.readings);
        if (d.truncated) {
            // solhint-disable-next-line no-inline-assembly
            assembly {
                mstore(packed, sub(mload(packed), 1))
            }
        }
        try oracle.submit(d.configVersion, d.batchIndex, d.timestamp, packed, d.signatures) returns (bytes32 r) {
            return (true, "", r);
        } catch (bytes memory why) {
            return (false, why, bytes32(0));
        }
    }

    function _record(Draft memory d) internal {
        uint64 acceptedAt = uint64(block.timestamp);
        bytes32 root = ReferenceMerkle.root(d.readings);
        _accepted.push(
            Accepted({
                root: root,
                timestamp: d.timestamp,
                acceptedAt: acceptedAt,
                configVersion: d.configVersion,
                skewAtAcceptance: oracle.maxFutureSkewSeconds(),
                commitment: keccak256(abi.encode(root, d.timestamp, acceptedAt, d.configVersion))
            })
        );
        for (uint256 i = 0; i < d.readings.length; i++) {
            _readingsOf[d.batchIndex].push(d.readings[i]);
            uint256 assetId = uint32(bytes4(d.readings[i]));
            _batchesOfAsset[assetId].push(d.batchIndex);
            _positionOf[assetId][d.batchIndex] = i;
        }
        _lastAccepted = d;
        acceptedCount++;
    }

    // ---------------------------------------------------------------- actions: batches

    /// @notice A valid batch, signed by a random quorum: must be accepted with the reference root.
    function submitValid(uint256 mask, uint256 valuesSeed, uint256 ahead, uint256 signerSeed, uint256 extra) external {
        (Draft memory d, bool ok) = _draft(mask, valuesSeed, ahead);
        if (!ok) return;
        bytes32 digest = oracle.batchDigest(
            d.configVersion,
            d.batchIndex,
            d.timestamp,
            ReferenceMerkle.root(d.readings)
        );
        d.signatures = _quorum(digest, bound(extra, threshold, _currentKeys.length), signerSeed);
        (bool accepted, bytes memory reason, bytes32 root) = _submit(d);
        if (!accepted) {
            validRefused++;
            lastValidRefusal = reason;
            return;
        }
        if (root != ReferenceMerkle.root(d.readings)) {
            validRefused++;
            lastValidRefusal = "accepted with another root";
        }
        _record(d);
    }

    /// @notice One kind of invalid batch: must be refused with the error of the rule it breaks.
    function submitInvalid(uint256 kind, uint256 mask, uint256 seed) external {
        (Draft memory d, bool ok) = _draft(mask, seed, seed >> 32);
        if (!ok) return;
        kind = kind % 15;
        bytes4 expected;
        string memory what;
        (d, expected, what) = _break(d, kind, seed);
        (bool accepted, bytes memory reason, ) = _submit(d);
        if (accepted) {
            invalidAccepted++;
            lastInvalidAccepted = what;
            _record(d); // keep the ghost in step with the chain, so later checks stay meaningful
            return;
        }
        refusedCount++;
        if (reason.length < 4 || bytes4(reason) != expected) {
            wrongError++;
            lastWrongError = what;
        }
    }

    /// @dev Breaks one rule of a valid draft; signs it (validly unless the signatures are what is broken).
    function _break(
        Draft memory d,
        uint256 kind,
        uint256 seed
    ) internal view returns (Draft memory, bytes4 expected, string memory what) {
        bytes32 signedRoot;
        uint256 sigCount = threshold;
        if (kind == 0) {
            (what, expected) = ("stale config version", IUsageOracle.StaleConfigVersion.selector);
            d.configVersion = d.configVersion > 1 && seed % 2 == 0 ? d.configVersion - 1 : d.configVersion + 1;
        } else if (kind == 1) {
            (what, expected) = ("batch index taken", IUsageOracle.BatchIndexTaken.selector);
            d.batchIndex = uint32(seed % d.batchIndex);
        } else if (kind == 2) {
            (what, expected) = ("batch index ahead", IUsageOracle.BatchIndexAhead.selector);
            d.batchIndex += uint32(1 + (seed % 5));
        } else if (kind == 3) {
            (what, expected) = ("not newer", IUsageOracle.BatchNotNewer.selector);
            d.timestamp = lastTimestamp() - uint64(seed % (uint256(lastTimestamp()) + 1));
        } else if (kind == 4) {
            (what, expected) = ("beyond the skew", IUsageOracle.BatchInFuture.selector);
            d.timestamp = uint64(block.timestamp + oracle.maxFutureSkewSeconds() + 1 + (seed % 1 days));
        } else if (kind == 5) {
            (what, expected) = ("empty", IUsageOracle.EmptyBatch.selector);
            d.readings = new bytes28[](0);
        } else if (kind == 6) {
            (what, expected) = ("asset ids not ascending", IUsageOracle.AssetIdsNotAscending.selector);
            bytes28[] memory twice = new bytes28[](d.readings.length + 1);
            for (uint256 i = 0; i < d.readings.length; i++) twice[i + 1] = d.readings[i];
            twice[0] = d.readings[0];
            d.readings = twice;
        } else if (kind == 7) {
            (what, expected) = ("previous batch not earlier", IUsageOracle.PreviousBatchNotEarlier.selector);
            uint256 i = seed % d.readings.length;
            uint256 word = uint256(bytes32(d.readings[i]));
            uint256 link = uint256(d.batchIndex) + (seed % 3);
            word = (word & ~(uint256(type(uint32).max) << 192)) | (link << 192);
            d.readings[i] = bytes28(bytes32(word));
        } else if (kind == 8) {
            (what, expected) = ("too few signatures", IUsageOracle.NotEnoughSignatures.selector);
            sigCount = threshold - 1;
        } else if (kind == 9) {
            (what, expected) = ("too many signatures", IUsageOracle.TooManySignatures.selector);
            sigCount = _currentKeys.length + 1;
        } else if (kind == 10) {
            (what, expected) = ("duplicate signer", IUsageOracle.DuplicateSigner.selector);
        } else if (kind == 11) {
            (what, expected) = ("unknown signer", IUsageOracle.UnknownSigner.selector);
        } else if (kind == 12) {
            (what, expected) = ("readings changed after signing", IUsageOracle.UnknownSigner.selector);
            signedRoot = ReferenceMerkle.root(d.readings);
            uint256 i = seed % d.readings.length;
            d.readings[i] = d.readings[i] ^ bytes28(uint224(1) << uint224(seed % 160));
        } else if (kind == 13) {
            (what, expected) = ("malformed signatures", IUsageOracle.MalformedSignatures.selector);
        } else {
            (what, expected) = ("malformed readings", IUsageOracle.MalformedReadings.selector);
            d.truncated = true;
        }
        if (signedRoot == bytes32(0) && d.readings.length > 0) signedRoot = ReferenceMerkle.root(d.readings);
        bytes32 digest = oracle.batchDigest(d.configVersion, d.batchIndex, d.timestamp, signedRoot);
        if (kind == 9) {
            d.signatures = bytes.concat(_quorum(digest, _currentKeys.length, seed), _sign(_strangerKey, digest));
        } else if (kind == 10) {
            bytes memory one = _sign(_currentKeys[seed % _currentKeys.length], digest);
            d.signatures = bytes.concat(one, one);
            if (threshold > 2) d.signatures = bytes.concat(d.signatures, _quorum(digest, threshold - 2, seed >> 1));
        } else if (kind == 11) {
            d.signatures = bytes.concat(_sign(_strangerKey, digest), _quorum(digest, threshold - 1, seed));
        } else {
            d.signatures = _quorum(digest, sigCount, seed);
            if (kind == 13) d.signatures = bytes.concat(d.signatures, hex"00");
        }
        return (d, expected, what);
    }

    /// @notice Replays the last accepted batch: must be refused with BatchIndexTaken (StaleConfigVersion
    /// once the signer set changed: the version is checked first).
    function replay() external {
        if (_accepted.length == 0) return;
        bytes4 expected =
            _lastAccepted.configVersion == oracle.configVersion()
                ? IUsageOracle.BatchIndexTaken.selector
                : IUsageOracle.StaleConfigVersion.selector;
        (bool accepted, bytes memory reason, ) = _submit(_lastAccepted);
        if (accepted) {
            invalidAccepted++;
            lastInvalidAccepted = "replay";
        } else if (reason.length < 4 || bytes4(reason) != expected) {
            wrongError++;
            lastWrongError = "replay";
        }
    }

    /// @notice While paused a valid batch is refused (EnforcedPause) and proofs keep working.
    function pauseAndProbe(uint256 mask, uint256 seed) external {
        oracle.pause();
        (Draft memory d, bool ok) = _draft(mask, seed, seed >> 16);
        if (ok) {
            bytes32 digest = oracle.batchDigest(
                d.configVersion,
                d.batchIndex,
                d.timestamp,
                ReferenceMerkle.root(d.readings)
            );
            d.signatures = _quorum(digest, threshold, seed);
            (bool accepted, bytes memory reason, ) = _submit(d);
            if (accepted) {
                invalidAccepted++;
                lastInvalidAccepted = "while paused";
                _record(d);
            } else if (reason.length < 4 || bytes4(reason) != bytes4(keccak256("EnforcedPause()"))) {
                wrongError++;
                lastWrongError = "while paused";
            }
        }
        if (_accepted.length > 0) _checkMember(1 + (seed % _accepted.length), seed >> 8, "while paused");
        oracle.unpause();
    }

    /// @notice The oracle admin installs 3 of the 5 keys with a threshold of 1 to 3.
    function rotateSigners(uint256 seed) external {
        uint256 start = seed % _keys.length;
        address[] memory next = new address[](3);
        uint256[] memory nextKeys = new uint256[](3);
        for (uint256 i = 0; i < 3; i++) {
            nextKeys[i] = _keys[(start + i) % _keys.length];
            next[i] = vm.addr(nextKeys[i]);
        }
        uint8 nextThreshold = uint8(1 + ((seed >> 8) % 3));
        try oracle.setSigners(next, nextThreshold) {
            delete _currentKeys;
            for (uint256 i = 0; i < 3; i++) _currentKeys.push(nextKeys[i]);
            threshold = nextThreshold;
        } catch {}
    }

    /// @notice The oracle admin changes the future skew (0 to 1 hour).
    function setSkew(uint256 seed) external {
        try oracle.setMaxFutureSkew(uint64(bound(seed, 0, 3_600))) {} catch {}
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 days));
    }

    // ---------------------------------------------------------------- actions: proofs

    /// @dev The proof of reading `position` of batch `batchIndex`, as the ghost history builds it.
    function _proof(uint256 batchIndex, uint256 position) internal view returns (ReadingProof memory p) {
        Accepted storage b = _accepted[batchIndex - 1];
        bytes28[] memory rs = _readingsOf[batchIndex];
        p = ReadingProof({
            batchIndex: uint32(batchIndex),
            batchTimestamp: b.timestamp,
            acceptedAt: b.acceptedAt,
            configVersion: b.configVersion,
            reading: rs[position],
            path: ReferenceMerkle.path(rs, position)
        });
    }

    function _meterOf(uint256 batchIndex, uint256 assetId) internal view returns (Meter memory m) {
        (, , uint64 busy, uint64 available, uint64 energy) = MeterMath.unpack(
            _readingsOf[batchIndex][_positionOf[assetId][batchIndex]]
        );
        m = Meter(_accepted[batchIndex - 1].timestamp, busy, available, energy);
    }

    function _checkMember(uint256 batchIndex, uint256 positionSeed, string memory when) internal {
        uint256 position = positionSeed % _readingsOf[batchIndex].length;
        ReadingProof memory p = _proof(batchIndex, position);
        proofsChecked++;
        try oracle.verifyReading(p) returns (ProvenReading memory r) {
            (uint256 assetId, uint32 previousBatch, uint64 busy, uint64 available, uint64 energy) = MeterMath.unpack(
                p.reading
            );
            bool same =
                r.assetId == assetId &&
                    r.batchIndex == batchIndex &&
                    r.previousBatch == previousBatch &&
                    r.acceptedAt == p.acceptedAt &&
                    r.meter.timestamp == p.batchTimestamp &&
                    r.meter.busyGpuSeconds == busy &&
                    r.meter.availableGpuSeconds == available &&
                    r.meter.energyJ == energy;
            if (!same) {
                proofFailures++;
                lastProofFailure = string.concat("wrong values ", when);
            }
        } catch {
            proofFailures++;
            lastProofFailure = string.concat("refused ", when);
        }
    }

    /// @notice The proof of a published reading verifies and unpacks to it (O5, "if").
    function proveMember(uint256 batchSeed, uint256 positionSeed) external {
        if (_accepted.length == 0) return;
        _checkMember(1 + (batchSeed % _accepted.length), positionSeed, "");
    }

    /// @notice A proof with anything changed does not verify (O5, "only if").
    function proveForged(uint256 batchSeed, uint256 positionSeed, uint256 kind, uint256 bit) external {
        if (_accepted.length == 0) return;
        uint256 batchIndex = 1 + (batchSeed % _accepted.length);
        ReadingProof memory p = _proof(batchIndex, positionSeed % _readingsOf[batchIndex].length);
        string memory what;
        kind = kind % 8;
        if (kind == 0 || (kind == 1 && p.path.length == 0)) {
            what = "a reading bit";
            p.reading = p.reading ^ bytes28(uint224(1) << uint224(bit % 224));
        } else if (kind == 1) {
            what = "a sibling bit";
            p.path[bit % p.path.length] ^= bytes32(uint256(1) << (bit % 256));
        } else if (kind == 2) {
            what = "a sibling added";
            bytes32[] memory longer = new bytes32[](p.path.length + 1);
            for (uint256 i = 0; i < p.path.length; i++) longer[i] = p.path[i];
            longer[p.path.length] = bytes32(bit);
            p.path = longer;
        } else if (kind == 3) {
            what = "the batch timestamp";
            p.batchTimestamp ^= uint64(1) << uint64(bit % 64);
        } else if (kind == 4) {
            what = "the acceptance time";
            p.acceptedAt ^= uint64(1) << uint64(bit % 64);
        } else if (kind == 5) {
            what = "the config version";
            p.configVersion ^= uint64(1) << uint64(bit % 64);
        } else if (kind == 6) {
            what = "the batch index";
            p.batchIndex = uint32(1 + ((batchIndex + (bit % _accepted.length)) % (_accepted.length + 1)));
            if (p.batchIndex == batchIndex) p.batchIndex = uint32(_accepted.length + 1);
        } else {
            what = "a reading never published";
            p.reading = bytes28(keccak256(abi.encode(bit)));
        }
        try oracle.verifyReading(p) {
            forgedAccepted++;
            lastForgedAccepted = what;
        } catch (bytes memory reason) {
            bytes4 selector = reason.length < 4 ? bytes4(0) : bytes4(reason);
            if (
                selector != IUsageOracle.InvalidReadingProof.selector && selector != IUsageOracle.UnknownBatch.selector
            ) {
                wrongError++;
                lastWrongError = string.concat("forged proof: ", what);
            }
        }
    }

    /// @notice meterAt at a random time, from the ghost history's proofs, equals what the history says (O6).
    function proveMeter(uint256 assetSeed, uint256 timeSeed, bool upper) external {
        uint256 assetId = assets[assetSeed % assets.length];
        uint32[] storage list = _batchesOfAsset[assetId];
        if (list.length == 0) return;
        uint64 first = _accepted[list[0] - 1].timestamp;
        uint64 last = _accepted[list[list.length - 1] - 1].timestamp;
        uint64 t = uint64(bound(timeSeed, first > 1_000 ? first - 1_000 : 0, last));
        // A quarter of the times exactly at one of the asset's readings.
        if (timeSeed % 4 == 0) t = _accepted[list[(timeSeed >> 2) % list.length] - 1].timestamp;
        (ReadingProof memory earlier, ReadingProof memory later, MeterAt memory expected) = _expectedMeter(
            assetId,
            t,
            upper
        );
        metersChecked++;
        try oracle.meterAt(assetId, t, earlier, later, upper ? MeterBound.Upper : MeterBound.Lower) returns (
            MeterAt memory got
        ) {
            metersBySource[uint8(got.source)]++;
            if (keccak256(abi.encode(got)) != keccak256(abi.encode(expected))) {
                meterMismatches++;
                lastMeterMismatch = string.concat("asset ", vm.toString(assetId), " at ", vm.toString(uint256(t)));
            }
        } catch {
            meterMismatches++;
            lastMeterMismatch = string.concat("refused: asset ", vm.toString(assetId), " at ", vm.toString(uint256(t)));
        }
    }

    /// @dev The proofs of the asset's meter at `t` and the meter they must prove, from the ghost history:
    /// the first reading at or after `t`, the one before it (its link), and the rules of `meterAt`.
    function _expectedMeter(
        uint256 assetId,
        uint64 t,
        bool upper
    ) internal view returns (ReadingProof memory earlier, ReadingProof memory later, MeterAt memory expected) {
        uint32[] storage list = _batchesOfAsset[assetId];
        uint256 k;
        while (_accepted[list[k] - 1].timestamp < t) k++;
        later = _proof(list[k], _positionOf[assetId][list[k]]);
        Meter memory l = _meterOf(list[k], assetId);
        expected.acceptedAt = later.acceptedAt;
        if (l.timestamp == t || k == 0) {
            expected.meter = Meter(t, l.busyGpuSeconds, l.availableGpuSeconds, l.energyJ);
            expected.source = l.timestamp == t ? MeterSource.Exact : MeterSource.FirstReading;
            return (earlier, later, expected);
        }
        earlier = _proof(list[k - 1], _positionOf[assetId][list[k - 1]]);
        Meter memory e = _meterOf(list[k - 1], assetId);
        if (earlier.acceptedAt > expected.acceptedAt) expected.acceptedAt = earlier.acceptedAt;
        (uint16 gpuCount, uint16 tdp, ) = nft.meteringLimits(assetId);
        if (MeterMath.isPossible(e, l, gpuCount, tdp, oracle.energyMarginBps())) {
            expected.meter = MeterMath.interpolate(e, l, t);
            expected.source = MeterSource.Interpolated;
        } else {
            Meter memory b = upper ? l : e;
            expected.meter = Meter(t, b.busyGpuSeconds, b.availableGpuSeconds, b.energyJ);
            expected.source = MeterSource.UnusablePair;
        }
    }
}
