// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CheatBase } from "./TestBase.sol";
import { ReadingsTree } from "./ReadingsTree.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { Meter, MeterBoundary, ReadingProof } from "../../../contracts/types/OracleTypes.sol";

/// @title OracleHistory — a campaign's own record of the meter history it posted to the real oracle
/// @notice Posts signed batches to `UsageOracle.submit` (digest from the oracle's `batchDigest`, signed
/// with the `sign` cheatcode by the oracle's one signer), keeps every batch and every asset's readings,
/// builds the Merkle proofs a consumer passes (`ReadingsTree`), and evaluates an asset's meter at any
/// time by the rules `IUsageOracle.meterAt` documents — written out here independently of the oracle's
/// `MeterMath`, so a campaign's ghost bills do not share code with what they check.
abstract contract OracleHistory is CheatBase {
    /// @dev One accepted batch.
    struct Batch {
        uint64 timestamp;
        uint64 acceptedAt;
        uint64 configVersion;
        bytes28[] readings;
    }

    /// @dev One reading of one asset, with where it was published.
    struct Recorded {
        uint32 batchIndex;
        uint32 position;
        uint32 previousBatch;
        uint64 timestamp;
        uint64 acceptedAt;
        uint64 busyGpuSeconds;
        uint64 availableGpuSeconds;
        uint64 energyJ;
    }

    /// @dev An asset's meter at a time, and the latest acceptance time of the readings it comes from.
    struct GhostMeter {
        bool exists;
        Meter meter;
        uint64 acceptedAt;
    }

    UsageOracle public immutable oracle;
    GpuAssetNFT public immutable nft;
    uint256 internal immutable _signerKey;

    /// @dev Each asset's GPU count and TDP, read once (they stay readable after a burn).
    mapping(uint256 assetId => uint16[2]) internal _spec;
    mapping(uint32 batchIndex => Batch) internal _batches;
    mapping(uint256 assetId => Recorded[]) internal _history;
    uint64 public lastBatchTimestamp;

    constructor(UsageOracle oracle_, GpuAssetNFT nft_, uint256 signerKey_) {
        oracle = oracle_;
        nft = nft_;
        _signerKey = signerKey_;
    }

    /// @dev Remembers an asset's spec (call once per asset, before it can be burned).
    function _rememberSpec(uint256 assetId) internal {
        (uint16 gpuCount, uint16 tdp, ) = nft.meteringLimits(assetId);
        _spec[assetId] = [gpuCount, tdp];
    }

    /// @dev The asset's GPU count and TDP per GPU.
    function _limits(uint256 assetId) internal view returns (uint16 gpuCount, uint16 tdp) {
        return (_spec[assetId][0], _spec[assetId][1]);
    }

    /// @notice How many readings of an asset were posted.
    function readingCount(uint256 assetId) external view returns (uint256) {
        return _history[assetId].length;
    }

    // ---------------------------------------------------------------- posting

    /// @dev Posts one batch stamped `timestamp` with one reading per asset (ids strictly ascending), each
    /// linked to the asset's previous batch. Reverts (with the oracle's error) if refused.
    function _post(uint64 timestamp, uint256[] memory assetIds, Meter[] memory values) internal {
        bytes28[] memory readings = _pack(assetIds, values);
        (uint32 batchIndex, uint64 version) = _submit(timestamp, readings);
        Batch storage b = _batches[batchIndex];
        b.timestamp = timestamp;
        b.acceptedAt = uint64(block.timestamp);
        b.configVersion = version;
        for (uint256 i = 0; i < assetIds.length; i++) {
            b.readings.push(readings[i]);
            Recorded[] storage h = _history[assetIds[i]];
            h.push(
                Recorded({
                    batchIndex: batchIndex,
                    position: uint32(i),
                    previousBatch: h.length == 0 ? 0 : h[h.length - 1].batchIndex,
                    timestamp: timestamp,
                    acceptedAt: uint64(block.timestamp),
                    busyGpuSeconds: values[i].busyGpuSeconds,
                    availableGpuSeconds: values[i].availableGpuSeconds,
                    energyJ: values[i].energyJ
                })
            );
        }
        lastBatchTimestamp = timestamp;
    }

    /// @dev The packed readings of a batch, each linked to its asset's previous batch.
    function _pack(uint256[] memory assetIds, Meter[] memory values) private view returns (bytes28[] memory readings) {
        readings = new bytes28[](assetIds.length);
        for (uint256 i = 0; i < assetIds.length; i++) {
            Recorded[] storage h = _history[assetIds[i]];
            uint32 previous = h.length == 0 ? 0 : h[h.length - 1].batchIndex;
            readings[i] = ReadingsTree.pack(
                uint32(assetIds[i]),
                previous,
                uint48(values[i].busyGpuSeconds),
                uint48(values[i].availableGpuSeconds),
                values[i].energyJ
            );
        }
    }

    /// @dev Signs the batch over the oracle's own digest and submits it; returns its index and version.
    function _submit(uint64 timestamp, bytes28[] memory readings) private returns (uint32 batchIndex, uint64 version) {
        batchIndex = oracle.nextBatchIndex();
        version = oracle.configVersion();
        bytes memory packed = ReadingsTree.concat(readings);
        bytes32 root = ReadingsTree.rootOf(readings);
        vm.assertEq(root, oracle.readingsRoot(packed), "ReadingsTree root = the oracle's readingsRoot");
        bytes32 digest = oracle.batchDigest(version, batchIndex, timestamp, root);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signerKey, digest);
        oracle.submit(version, batchIndex, timestamp, packed, abi.encodePacked(r, s, v));
    }

    /// @dev The asset's latest reading as a meter (all zero before its first).
    function _latest(uint256 assetId) internal view returns (Meter memory m) {
        Recorded[] storage h = _history[assetId];
        if (h.length == 0) return m;
        return _meterOf(h[h.length - 1]);
    }

    // ---------------------------------------------------------------- proofs

    /// @dev The proof of one recorded reading.
    function _proof(Recorded memory r) internal view returns (ReadingProof memory p) {
        Batch storage b = _batches[r.batchIndex];
        p.batchIndex = r.batchIndex;
        p.batchTimestamp = b.timestamp;
        p.acceptedAt = b.acceptedAt;
        p.configVersion = b.configVersion;
        p.reading = b.readings[r.position];
        p.path = ReadingsTree.pathOf(b.readings, r.position);
    }

    /// @dev Index of the asset's first reading stamped at or after `t` (the history's length when none).
    function _firstAtOrAfter(uint256 assetId, uint64 t) internal view returns (uint256 k) {
        Recorded[] storage h = _history[assetId];
        while (k < h.length && h[k].timestamp < t) k++;
    }

    /// @dev The boundary proving the meter at `t` from reading `k` (the first at or after `t`) and,
    /// when interpolation needs it, the reading it links to.
    function _boundary(uint256 assetId, uint256 k, uint64 t) internal view returns (MeterBoundary memory b) {
        Recorded memory later = _history[assetId][k];
        b.later = _proof(later);
        if (later.timestamp != t && later.previousBatch != 0) b.earlier = _proof(_history[assetId][k - 1]);
    }

    /// @dev A boundary holding reading `k` alone (a billing point stamped inside a window).
    function _single(uint256 assetId, uint256 k) internal view returns (MeterBoundary memory b) {
        b.later = _proof(_history[assetId][k]);
    }

    // ---------------------------------------------------------------- the meter at a time (ghost)

    /// @dev The asset's meter at `t` from reading `k` (the first at or after `t`) by the documented rules:
    /// exact at a reading's own time; the first reading's values before it; else linear interpolation
    /// (rounded down) of a physically possible pair, or the `upper` (later) / lower (earlier) reading's
    /// values for an impossible one. Stamped `t`.
    function _meterAt(uint256 assetId, uint256 k, uint64 t, bool upper) internal view returns (GhostMeter memory g) {
        Recorded[] storage h = _history[assetId];
        if (k >= h.length) return g;
        Recorded memory later = h[k];
        g.exists = true;
        g.acceptedAt = later.acceptedAt;
        if (later.timestamp == t || later.previousBatch == 0) {
            g.meter = _meterOf(later);
        } else {
            Recorded memory earlier = h[k - 1];
            if (earlier.acceptedAt > g.acceptedAt) g.acceptedAt = earlier.acceptedAt;
            if (_possible(assetId, earlier, later)) {
                uint256 elapsed = t - earlier.timestamp;
                uint256 span = later.timestamp - earlier.timestamp;
                g.meter.busyGpuSeconds = _lerp(earlier.busyGpuSeconds, later.busyGpuSeconds, elapsed, span);
                g.meter.availableGpuSeconds = _lerp(earlier.availableGpuSeconds, later.availableGpuSeconds, elapsed, span);
                g.meter.energyJ = _lerp(earlier.energyJ, later.energyJ, elapsed, span);
            } else {
                g.meter = _meterOf(upper ? later : earlier);
            }
        }
        g.meter.timestamp = t;
    }

    /// @dev Whether two adjacent readings can both be true for the asset's spec and the oracle's margin.
    function _possible(uint256 assetId, Recorded memory a, Recorded memory b) internal view returns (bool) {
        if (b.timestamp <= a.timestamp) return false;
        if (b.busyGpuSeconds < a.busyGpuSeconds || b.availableGpuSeconds < a.availableGpuSeconds || b.energyJ < a.energyJ) {
            return false;
        }
        (uint16 gpuCount, uint16 tdp) = _limits(assetId);
        uint256 dt = b.timestamp - a.timestamp;
        uint256 busy = b.busyGpuSeconds - a.busyGpuSeconds;
        uint256 available = b.availableGpuSeconds - a.availableGpuSeconds;
        if (busy > available || available > uint256(gpuCount) * dt) return false;
        return b.energyJ - a.energyJ <= (uint256(gpuCount) * dt * tdp * (10_000 + oracle.energyMarginBps())) / 10_000;
    }

    function _lerp(uint64 from, uint64 to, uint256 elapsed, uint256 span) private pure returns (uint64) {
        return from + uint64((uint256(to - from) * elapsed) / span);
    }

    function _meterOf(Recorded memory r) internal pure returns (Meter memory) {
        return
            Meter({
                timestamp: r.timestamp,
                busyGpuSeconds: r.busyGpuSeconds,
                availableGpuSeconds: r.availableGpuSeconds,
                energyJ: r.energyJ
            });
    }
}
