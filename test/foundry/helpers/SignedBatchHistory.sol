// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CheatBase } from "../utils/TestBase.sol";
import { MerkleBuilder } from "./MerkleBuilder.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { Meter, MeterBoundary, ReadingProof } from "../../../contracts/types/OracleTypes.sol";
import { Lease } from "../../../contracts/types/EscrowTypes.sol";

/// @title SignedBatchHistory — a feeder and a keeper for forge campaigns, against the real UsageOracle
/// @notice Posts v2 batches to the real oracle the way a feeder does — packed readings linked to each
/// asset's previous batch, the Merkle root built by `MerkleBuilder`, the EIP-712 digest taken from the
/// oracle's own `batchDigest` (so no type is written twice), signed with the `sign` cheatcode by the
/// oracle's one signer (threshold 1) — and keeps every batch it posted, so it can prove any meter the
/// way `src/meterHistory.ts` does: `boundaryAt` (the first reading at or after a time and the reading
/// it links to) and `leaseProofs` (what `settle`, `close` and `dispute` take).
/// @dev Everything the oracle accepted is posted through here (the campaigns have no other feeder),
/// so the history is complete. Quorums of several signers, rotations and refused batches are the
/// oracle campaign's business.
abstract contract SignedBatchHistory is CheatBase {
    /// @notice One accepted batch, as the chain records it (readings from calldata).
    struct PostedBatch {
        uint64 timestamp;
        uint64 acceptedAt;
        uint64 configVersion;
        bytes28[] readings;
    }

    /// @notice Where one reading of an asset was published.
    struct ReadingRef {
        uint32 batchIndex;
        uint32 position;
        uint64 timestamp;
        uint64 acceptedAt;
    }

    UsageOracle public immutable oracle;
    uint256 internal immutable _signerKey;

    mapping(uint32 batchIndex => PostedBatch) internal _batches;
    mapping(uint256 assetId => ReadingRef[]) internal _readingsOf;
    mapping(uint256 assetId => Meter) internal _latestMeter;

    constructor(UsageOracle oracle_, uint256 signerKey_) {
        oracle = oracle_;
        _signerKey = signerKey_;
    }

    /// @notice Posts one batch now (moving time on by a second when the previous batch has this
    /// timestamp) with the given cumulative values per asset (`assetIds` strictly increasing).
    function _postBatch(uint256[] memory assetIds, Meter[] memory values) internal returns (uint32 batchIndex) {
        if (block.timestamp <= oracle.lastBatchTimestamp()) vm.warp(oracle.lastBatchTimestamp() + 1);
        uint64 timestamp = uint64(block.timestamp);
        batchIndex = oracle.nextBatchIndex();
        uint64 version = oracle.configVersion();
        bytes28[] memory readings = _pack(assetIds, values);
        bytes32 root = MerkleBuilder.root(readings);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signerKey, oracle.batchDigest(version, batchIndex, timestamp, root));
        bytes32 accepted = oracle.submit(
            version,
            batchIndex,
            timestamp,
            MerkleBuilder.encode(readings),
            abi.encodePacked(r, s, v)
        );
        require(accepted == root, "SignedBatchHistory: the oracle's root differs from MerkleBuilder's");
        _record(batchIndex, version, readings, assetIds, values);
    }

    /// @dev Each asset's reading, linked to the batch of its previous one.
    function _pack(uint256[] memory assetIds, Meter[] memory values) private view returns (bytes28[] memory readings) {
        readings = new bytes28[](assetIds.length);
        for (uint256 i = 0; i < assetIds.length; i++) {
            uint256 count = _readingsOf[assetIds[i]].length;
            uint256 previous = count == 0 ? 0 : _readingsOf[assetIds[i]][count - 1].batchIndex;
            readings[i] = MerkleBuilder.pack(
                assetIds[i],
                previous,
                values[i].busyGpuSeconds,
                values[i].availableGpuSeconds,
                values[i].energyJ
            );
        }
    }

    /// @dev Keeps an accepted batch (accepted now, stamped now) and each asset's latest values.
    function _record(
        uint32 batchIndex,
        uint64 version,
        bytes28[] memory readings,
        uint256[] memory assetIds,
        Meter[] memory values
    ) private {
        uint64 now_ = uint64(block.timestamp);
        PostedBatch storage batch = _batches[batchIndex];
        batch.timestamp = now_;
        batch.acceptedAt = now_;
        batch.configVersion = version;
        batch.readings = readings;
        for (uint256 i = 0; i < assetIds.length; i++) {
            _readingsOf[assetIds[i]].push(ReadingRef(batchIndex, uint32(i), now_, now_));
            Meter memory m = values[i];
            m.timestamp = now_;
            _latestMeter[assetIds[i]] = m;
        }
    }

    /// @notice The asset's latest reading (all zero before its first).
    function latestMeter(uint256 assetId) public view returns (Meter memory) {
        return _latestMeter[assetId];
    }

    /// @notice The number of readings of the asset posted so far.
    function readingCount(uint256 assetId) public view returns (uint256) {
        return _readingsOf[assetId].length;
    }

    /// @notice The proof of one reading.
    function _proof(ReadingRef memory ref) internal view returns (ReadingProof memory) {
        PostedBatch storage batch = _batches[ref.batchIndex];
        bytes28[] memory readings = batch.readings;
        return
            ReadingProof({
                batchIndex: ref.batchIndex,
                batchTimestamp: batch.timestamp,
                acceptedAt: batch.acceptedAt,
                configVersion: batch.configVersion,
                reading: readings[ref.position],
                path: MerkleBuilder.path(readings, ref.position)
            });
    }

    function _absentProof() internal pure returns (ReadingProof memory proof) {}

    function _absentBoundary() internal pure returns (MeterBoundary memory boundary) {}

    /// @notice The proofs of the asset's meter at `time`: the first reading at or after it and, when that
    /// reading is later than `time` and not the asset's first, the reading it links to. `found` is false
    /// while no such reading exists, or (unless `anyAge`) when a reading used was accepted after `billableBy`.
    function _boundaryAt(
        uint256 assetId,
        uint64 time,
        uint256 billableBy,
        bool anyAge
    ) internal view returns (bool found, MeterBoundary memory boundary) {
        ReadingRef[] storage refs = _readingsOf[assetId];
        for (uint256 i = 0; i < refs.length; i++) {
            ReadingRef memory later = refs[i];
            if (later.timestamp < time) continue;
            bool needsEarlier = later.timestamp > time && i > 0;
            if (!anyAge) {
                if (later.acceptedAt > billableBy) return (false, boundary);
                if (needsEarlier && refs[i - 1].acceptedAt > billableBy) return (false, boundary);
            }
            boundary.later = _proof(later);
            boundary.earlier = needsEarlier ? _proof(refs[i - 1]) : _absentProof();
            return (true, boundary);
        }
    }

    /// @notice What `settle`/`close` (with `anyAge` false: readings accepted at or before now minus the
    /// dispute window only) or `dispute` (`anyAge`) take to bill `lease` as far as the history allows:
    /// to its end when a reading at or after the end exists (`final`), else to its latest reading inside.
    /// `found` is false when nothing can be billed (no usable start meter or point).
    function _leaseProofs(
        Lease memory lease,
        uint256 disputeWindowSeconds,
        bool anyAge
    ) internal view returns (bool found, MeterBoundary memory start, MeterBoundary memory point, bool final_) {
        uint256 billableBy = block.timestamp > disputeWindowSeconds ? block.timestamp - disputeWindowSeconds : 0;
        if (!lease.startMetered) {
            (bool ok, MeterBoundary memory atStart) = _boundaryAt(lease.assetId, lease.startTime, billableBy, anyAge);
            if (!ok) return (false, start, point, false);
            start = atStart;
        }
        (bool atEndFound, MeterBoundary memory atEnd) = _boundaryAt(lease.assetId, lease.endTime, billableBy, anyAge);
        if (atEndFound) return (true, start, atEnd, true);
        ReadingRef[] storage refs = _readingsOf[lease.assetId];
        for (uint256 i = refs.length; i > 0; i--) {
            ReadingRef memory r = refs[i - 1];
            if (r.timestamp <= lease.startTime) break;
            if (r.timestamp > lease.endTime || (!anyAge && r.acceptedAt > billableBy)) continue;
            point.later = _proof(r);
            return (true, start, point, false);
        }
        return (false, start, point, false);
    }
}
