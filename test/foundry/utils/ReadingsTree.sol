// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ReadingsTree — packs readings and builds batch roots and Merkle proofs in Solidity
/// @notice The test-side twin of `contracts/libraries/ReadingsMerkle.sol` and of `readingsTree` /
/// `readingPath` in `src/eip712.ts`, written out separately so a campaign can prove its own readings
/// without the library under test: leaf = keccak256 of the 28 packed bytes; a parent = keccak256 of
/// its two children, the smaller word first; on a level with an odd number of nodes the last one is
/// carried up unchanged; one reading's root is its leaf. Campaigns check `rootOf` against the oracle's
/// own `readingsRoot` for every batch they post, so a drift between the two cannot go unnoticed.
library ReadingsTree {
    /// @notice The 28-byte reading, big-endian: assetId | previousBatch | busy | available | energy.
    function pack(
        uint32 assetId,
        uint32 previousBatch,
        uint48 busyGpuSeconds,
        uint48 availableGpuSeconds,
        uint64 energyJ
    ) internal pure returns (bytes28) {
        return bytes28(abi.encodePacked(assetId, previousBatch, busyGpuSeconds, availableGpuSeconds, energyJ));
    }

    /// @notice The readings back to back, as `UsageOracle.submit` takes them.
    function concat(bytes28[] memory readings) internal pure returns (bytes memory out) {
        for (uint256 i = 0; i < readings.length; i++) out = bytes.concat(out, readings[i]);
    }

    /// @notice The leaf of a reading.
    function leafOf(bytes28 reading) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(reading));
    }

    /// @notice The root of the tree over `readings` (at least one).
    function rootOf(bytes28[] memory readings) internal pure returns (bytes32) {
        bytes32[] memory level = _leaves(readings);
        while (level.length > 1) level = _parents(level);
        return level[0];
    }

    /// @notice The sibling path of reading `index`, from its level upwards (a carried node has none).
    function pathOf(bytes28[] memory readings, uint256 index) internal pure returns (bytes32[] memory path) {
        bytes32[] memory level = _leaves(readings);
        bytes32[] memory siblings = new bytes32[](32);
        uint256 depth;
        uint256 i = index;
        while (level.length > 1) {
            uint256 sibling = i ^ 1;
            if (sibling < level.length) siblings[depth++] = level[sibling];
            level = _parents(level);
            i >>= 1;
        }
        path = new bytes32[](depth);
        for (uint256 k = 0; k < depth; k++) path[k] = siblings[k];
    }

    function _leaves(bytes28[] memory readings) private pure returns (bytes32[] memory level) {
        level = new bytes32[](readings.length);
        for (uint256 i = 0; i < readings.length; i++) level[i] = leafOf(readings[i]);
    }

    function _parents(bytes32[] memory level) private pure returns (bytes32[] memory up) {
        uint256 n = level.length;
        up = new bytes32[]((n + 1) / 2);
        for (uint256 i = 0; i + 1 < n; i += 2) {
            (bytes32 lo, bytes32 hi) = level[i] < level[i + 1] ? (level[i], level[i + 1]) : (level[i + 1], level[i]);
            up[i / 2] = keccak256(abi.encodePacked(lo, hi));
        }
        if (n % 2 == 1) up[n / 2] = level[n - 1];
    }
}
