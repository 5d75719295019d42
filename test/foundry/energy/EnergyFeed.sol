// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Vm } from "../utils/Vm.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { Meter, MeterBoundary, ReadingProof } from "../../../contracts/types/OracleTypes.sol";

/// @title EnergyFeed — the demand-response campaign's feeder: signed batches to the real oracle, and proofs
/// @notice Every batch carries one reading of each of the campaign's assets (ids 1..n, so every reading
/// links to the previous batch), signed with the `sign` cheatcode over the oracle's own `batchDigest`
/// by its one signer. The feed keeps each batch's readings, rebuilds the Merkle tree by the rules of
/// `ReadingsMerkle` written out here (so the proofs do not come from the code they feed), checks every
/// root against the oracle's `readingsRoot`, and builds the `MeterBoundary` of any asset at any time:
/// the first reading at or after it and the reading that one links to.
contract EnergyFeed {
    /// @dev forge's cheatcode address.
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    UsageOracle public immutable oracle;
    uint256 internal immutable _signerKey;
    uint256 public immutable assetCount;

    /// @dev Batch timestamps, acceptance times, readings by batch index (from 1).
    uint64[] internal _timestamps;
    uint64[] internal _acceptedAt;
    mapping(uint256 batchIndex => bytes28[]) internal _readings;
    /// @dev Each asset's cumulative counters, by batch index (asset ids from 1).
    mapping(uint256 batchIndex => mapping(uint256 assetId => Meter)) internal _meters;

    constructor(UsageOracle oracle_, uint256 signerKey_, uint256 assetCount_) {
        oracle = oracle_;
        _signerKey = signerKey_;
        assetCount = assetCount_;
    }

    /// @notice Batches posted so far.
    function batchCount() public view returns (uint256) {
        return _timestamps.length;
    }

    /// @notice The timestamp of batch `batchIndex` (from 1).
    function timestampOf(uint256 batchIndex) external view returns (uint64) {
        return _timestamps[batchIndex - 1];
    }

    /// @notice The latest posted timestamp (0 before the first batch).
    function lastTimestamp() public view returns (uint64) {
        uint256 n = _timestamps.length;
        return n == 0 ? 0 : _timestamps[n - 1];
    }

    /// @notice An asset's counters in batch `batchIndex`.
    function meterOf(uint256 batchIndex, uint256 assetId) external view returns (Meter memory) {
        return _meters[batchIndex][assetId];
    }

    /// @notice Posts one batch stamped `timestamp` with the given cumulative counters per asset (index
    /// i is asset i + 1). Reverts with the oracle's error if refused.
    function post(uint64 timestamp, Meter[] memory values) external {
        require(values.length == assetCount, "EnergyFeed: one meter per asset");
        uint256 batchIndex = _timestamps.length + 1;
        (bytes28[] memory readings, bytes memory packed) = _pack(values, batchIndex);
        bytes32 root = _root(readings);
        require(root == oracle.readingsRoot(packed), "EnergyFeed: root differs from the oracle's");
        _submit(timestamp, batchIndex, root, packed);
        _timestamps.push(timestamp);
        _acceptedAt.push(uint64(block.timestamp));
        for (uint256 i; i < assetCount; ++i) {
            _readings[batchIndex].push(readings[i]);
            Meter memory m = values[i];
            m.timestamp = timestamp;
            _meters[batchIndex][i + 1] = m;
        }
    }

    /// @dev The packed readings of one batch (asset i + 1 linked to the previous batch).
    function _pack(
        Meter[] memory values,
        uint256 batchIndex
    ) private view returns (bytes28[] memory readings, bytes memory packed) {
        readings = new bytes28[](assetCount);
        for (uint256 i; i < assetCount; ++i) {
            Meter memory m = values[i];
            readings[i] = bytes28(
                abi.encodePacked(
                    uint32(i + 1),
                    uint32(batchIndex - 1),
                    uint48(m.busyGpuSeconds),
                    uint48(m.availableGpuSeconds),
                    uint64(m.energyJ)
                )
            );
            packed = bytes.concat(packed, readings[i]);
        }
    }

    /// @dev Signs the batch header over the oracle's own digest and submits it.
    function _submit(uint64 timestamp, uint256 batchIndex, bytes32 root, bytes memory packed) private {
        uint64 version = oracle.configVersion();
        bytes32 digest = oracle.batchDigest(version, uint32(batchIndex), timestamp, root);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signerKey, digest);
        oracle.submit(version, uint32(batchIndex), timestamp, packed, abi.encodePacked(r, s, v));
    }

    /// @notice The index of the first batch stamped at or after `time` (0 when none).
    function firstAtOrAfter(uint64 time) public view returns (uint256) {
        uint256 lo;
        uint256 hi = _timestamps.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_timestamps[mid] < time) lo = mid + 1;
            else hi = mid;
        }
        return lo == _timestamps.length ? 0 : lo + 1;
    }

    /// @notice The index of the last batch stamped at or before `time` (0 when none).
    function lastAtOrBefore(uint64 time) public view returns (uint256) {
        uint256 first = firstAtOrAfter(time + 1);
        if (first == 0) return _timestamps.length;
        return first - 1;
    }

    /// @notice The proof of asset `assetId`'s reading in batch `batchIndex`.
    function proofOf(uint256 batchIndex, uint256 assetId) public view returns (ReadingProof memory proof) {
        bytes28[] memory readings = _readings[batchIndex];
        proof = ReadingProof({
            batchIndex: uint32(batchIndex),
            batchTimestamp: _timestamps[batchIndex - 1],
            acceptedAt: _acceptedAt[batchIndex - 1],
            configVersion: oracle.configVersion(),
            reading: readings[assetId - 1],
            path: _path(readings, assetId - 1)
        });
    }

    /// @notice The boundary of asset `assetId` at `time` (`exists` false while no batch at or after it).
    /// @return boundary The proofs.
    /// @return exists Whether a reading at or after `time` exists.
    /// @return acceptedAt The latest acceptance time of the readings used.
    function boundaryAt(
        uint256 assetId,
        uint64 time
    ) external view returns (MeterBoundary memory boundary, bool exists, uint64 acceptedAt) {
        uint256 later = firstAtOrAfter(time);
        if (later == 0) return (boundary, false, 0);
        boundary.later = proofOf(later, assetId);
        acceptedAt = _acceptedAt[later - 1];
        if (_timestamps[later - 1] > time && later > 1) {
            boundary.earlier = proofOf(later - 1, assetId);
            if (_acceptedAt[later - 2] > acceptedAt) acceptedAt = _acceptedAt[later - 2];
        }
        exists = true;
    }

    /// @notice The boundary holding only asset `assetId`'s reading in batch `batchIndex`.
    function single(uint256 batchIndex, uint256 assetId) external view returns (MeterBoundary memory boundary) {
        boundary.later = proofOf(batchIndex, assetId);
    }

    /// @notice When batch `batchIndex` was accepted.
    function acceptedAtOf(uint256 batchIndex) external view returns (uint64) {
        return _acceptedAt[batchIndex - 1];
    }

    // ---------------------------------------------------------------- the tree (ReadingsMerkle's rules)

    function _leaves(bytes28[] memory readings) private pure returns (bytes32[] memory level) {
        level = new bytes32[](readings.length);
        for (uint256 i; i < readings.length; ++i) level[i] = keccak256(abi.encodePacked(readings[i]));
    }

    function _up(bytes32[] memory level) private pure returns (bytes32[] memory up) {
        uint256 n = level.length;
        up = new bytes32[]((n + 1) / 2);
        for (uint256 i; i + 1 < n; i += 2) {
            (bytes32 a, bytes32 b) = level[i] < level[i + 1] ? (level[i], level[i + 1]) : (level[i + 1], level[i]);
            up[i / 2] = keccak256(abi.encodePacked(a, b));
        }
        if (n % 2 == 1) up[n / 2] = level[n - 1];
    }

    function _root(bytes28[] memory readings) private pure returns (bytes32) {
        bytes32[] memory level = _leaves(readings);
        while (level.length > 1) level = _up(level);
        return level[0];
    }

    function _path(bytes28[] memory readings, uint256 index) private pure returns (bytes32[] memory path) {
        bytes32[] memory level = _leaves(readings);
        bytes32[] memory siblings = new bytes32[](16);
        uint256 depth;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) siblings[depth++] = level[sibling];
            level = _up(level);
            index >>= 1;
        }
        path = new bytes32[](depth);
        for (uint256 k; k < depth; ++k) path[k] = siblings[k];
    }
}
