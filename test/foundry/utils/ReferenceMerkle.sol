// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ReferenceMerkle — the readings tree of `ReadingsMerkle`, written the plain way
/// @notice A second, independent statement of the tree rules (docs: `contracts/libraries/ReadingsMerkle.sol`),
/// for the fuzz and invariant suites: memory arrays, one level at a time, no assembly, no scratch space.
/// - leaf = keccak256 of the reading's 28 bytes;
/// - parent = keccak256 of its two children, the smaller word first;
/// - the last node of an odd level is carried up unchanged;
/// - the root of one reading is its leaf.
library ReferenceMerkle {
    /// @notice The packed reading (big-endian: assetId | previousBatch | busy | available | energy).
    function pack(
        uint32 assetId,
        uint32 previousBatch,
        uint48 busyGpuSeconds,
        uint48 availableGpuSeconds,
        uint64 energyJ
    ) internal pure returns (bytes28) {
        return bytes28(abi.encodePacked(assetId, previousBatch, busyGpuSeconds, availableGpuSeconds, energyJ));
    }

    /// @notice Readings back to back, as `submit` takes them.
    function concat(bytes28[] memory readings) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < readings.length; i++) out = bytes.concat(out, readings[i]);
    }

    function leaf(bytes28 reading) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(reading));
    }

    function parent(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @notice The level above `nodes`.
    function up(bytes32[] memory nodes) internal pure returns (bytes32[] memory above) {
        above = new bytes32[]((nodes.length + 1) / 2);
        for (uint256 i = 0; i + 1 < nodes.length; i += 2) above[i / 2] = parent(nodes[i], nodes[i + 1]);
        if (nodes.length % 2 == 1) above[above.length - 1] = nodes[nodes.length - 1];
    }

    function leaves(bytes28[] memory readings) internal pure returns (bytes32[] memory nodes) {
        nodes = new bytes32[](readings.length);
        for (uint256 i = 0; i < readings.length; i++) nodes[i] = leaf(readings[i]);
    }

    /// @notice The root of at least one reading.
    function root(bytes28[] memory readings) internal pure returns (bytes32) {
        require(readings.length > 0, "ReferenceMerkle: no readings");
        bytes32[] memory nodes = leaves(readings);
        while (nodes.length > 1) nodes = up(nodes);
        return nodes[0];
    }

    /// @notice The sibling path of reading `index`, from its level upwards (a carried node has none).
    function path(bytes28[] memory readings, uint256 index) internal pure returns (bytes32[] memory out) {
        require(index < readings.length, "ReferenceMerkle: no such reading");
        bytes32[] memory nodes = leaves(readings);
        bytes32[] memory siblings = new bytes32[](16);
        uint256 depth;
        while (nodes.length > 1) {
            uint256 sibling = index % 2 == 0 ? index + 1 : index - 1;
            if (sibling < nodes.length) siblings[depth++] = nodes[sibling];
            nodes = up(nodes);
            index /= 2;
        }
        out = new bytes32[](depth);
        for (uint256 i = 0; i < depth; i++) out[i] = siblings[i];
    }

    /// @notice The root a leaf and a path lead to, hashing pairs sorted.
    function climb(bytes32 node, bytes32[] memory siblings) internal pure returns (bytes32) {
        for (uint256 i = 0; i < siblings.length; i++) node = parent(node, siblings[i]);
        return node;
    }
}
