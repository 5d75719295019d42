// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title MerkleBuilder — test-only builder of the oracle's batch trees and reading proofs
/// @notice Builds what `contracts/libraries/ReadingsMerkle.sol` checks, the other way round: packs
/// readings, concatenates them into `submit`'s `readings` bytes, computes a batch's root and the
/// sibling path of any of its readings. Written out independently of ReadingsMerkle (plain Solidity,
/// no assembly) from the rules it documents, so a campaign whose proofs the real oracle accepts shows
/// that the two agree:
/// - leaf = keccak256 of the reading's 28 bytes;
/// - parent = keccak256 of its two children, the smaller word first;
/// - on a level with an odd number of nodes the last one is carried up unchanged;
/// - the root of one reading is its leaf.
/// @dev Reading layout (28 bytes, big-endian): assetId uint32 | previousBatch uint32 |
/// busyGpuSeconds uint48 | availableGpuSeconds uint48 | energyJ uint64.
library MerkleBuilder {
    /// @notice Packs one reading; reverts (SafeCast-like `require`) when a field does not fit.
    function pack(
        uint256 assetId,
        uint256 previousBatch,
        uint256 busyGpuSeconds,
        uint256 availableGpuSeconds,
        uint256 energyJ
    ) internal pure returns (bytes28) {
        require(assetId <= type(uint32).max && previousBatch <= type(uint32).max, "MerkleBuilder: id field");
        require(
            busyGpuSeconds <= type(uint48).max && availableGpuSeconds <= type(uint48).max,
            "MerkleBuilder: seconds"
        );
        require(energyJ <= type(uint64).max, "MerkleBuilder: energy");
        uint224 packed =
            (uint224(assetId) << 192) |
                (uint224(previousBatch) << 160) |
                (uint224(busyGpuSeconds) << 112) |
                (uint224(availableGpuSeconds) << 64) |
                uint224(energyJ);
        return bytes28(packed);
    }

    /// @notice The asset id of a packed reading.
    function assetIdOf(bytes28 reading) internal pure returns (uint256) {
        return uint32(uint224(reading) >> 192);
    }

    /// @notice The readings back to back, as `submit` takes them.
    function encode(bytes28[] memory readings) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < readings.length; i++) out = bytes.concat(out, readings[i]);
    }

    /// @notice The leaf of one reading.
    function leafOf(bytes28 reading) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(reading));
    }

    /// @notice The root over `readings` (at least one).
    function root(bytes28[] memory readings) internal pure returns (bytes32) {
        bytes32[] memory level = _leaves(readings);
        while (level.length > 1) level = _up(level);
        return level[0];
    }

    /// @notice The sibling path of reading `index`, from its level upwards.
    function path(bytes28[] memory readings, uint256 index) internal pure returns (bytes32[] memory siblings) {
        require(index < readings.length, "MerkleBuilder: index");
        bytes32[] memory level = _leaves(readings);
        bytes32[] memory collected = new bytes32[](32);
        uint256 depth;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            // A last odd node has no sibling on this level: it is carried up unchanged.
            if (sibling < level.length) collected[depth++] = level[sibling];
            level = _up(level);
            index /= 2;
        }
        siblings = new bytes32[](depth);
        for (uint256 i = 0; i < depth; i++) siblings[i] = collected[i];
    }

    /// @notice The root a leaf and a sibling path lead to (sorted pairs).
    function rootFromPath(bytes32 leaf, bytes32[] memory siblings) internal pure returns (bytes32 node) {
        node = leaf;
        for (uint256 i = 0; i < siblings.length; i++) node = _parent(node, siblings[i]);
    }

    function _leaves(bytes28[] memory readings) private pure returns (bytes32[] memory level) {
        require(readings.length != 0, "MerkleBuilder: no readings");
        level = new bytes32[](readings.length);
        for (uint256 i = 0; i < readings.length; i++) level[i] = leafOf(readings[i]);
    }

    function _up(bytes32[] memory level) private pure returns (bytes32[] memory next) {
        next = new bytes32[]((level.length + 1) / 2);
        for (uint256 i = 0; i < next.length; i++) {
            uint256 left = 2 * i;
            next[i] = left + 1 < level.length ? _parent(level[left], level[left + 1]) : level[left];
        }
    }

    function _parent(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }
}
