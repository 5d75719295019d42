// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// READING_BYTES is used inside the assembly blocks, where solhint does not look.
// solhint-disable-next-line no-unused-import
import { READING_BYTES } from "../types/OracleTypes.sol";

/// @title ReadingsMerkle — the Merkle tree over a batch's packed readings
/// @notice Pure functions shared by the oracle (which rebuilds the root from the published readings,
/// so no proof can ever point at data that was not published) and by every proof check.
/// @dev Tree rules (mirrored exactly by `readingsRoot` in `src/eip712.ts`):
/// - leaf = keccak256 of the reading's `READING_BYTES` bytes (28, never 64, so no internal node can
///   pass for a leaf);
/// - a parent = keccak256 of its two children, the smaller word first (sorted pairs: a proof needs no
///   left/right flags);
/// - on a level with an odd number of nodes the last one is carried up unchanged;
/// - the root of one reading is its leaf.
library ReadingsMerkle {
    /// @notice The leaf hash of one packed reading.
    /// @param reading The packed reading.
    /// @return The leaf.
    function leafOf(bytes28 reading) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(reading));
    }

    /// @notice The root of the tree over `readings` (`count` packed readings back to back), and the
    /// position of the first reading that breaks the batch rules: an asset id not above the previous
    /// reading's, or a `previousBatch` not below `batchIndex`. `firstInvalid == count` when none does.
    /// @dev One pass hashes the leaves and checks the rules (the oracle's hot path). Hashes in place in
    /// scratch memory past the free memory pointer (never allocated): the leaf level takes `count`
    /// words, each higher level overwrites the start of the one below. A reading's 28 bytes are the top
    /// of the calldata word at its offset, so each leaf hashes that word's first 28 bytes.
    /// @param readings The concatenated packed readings, in calldata.
    /// @param count How many readings (the caller checked `readings.length == count * READING_BYTES`, count > 0).
    /// @param batchIndex The batch's index (every `previousBatch` must be lower).
    /// @return root The root.
    /// @return firstInvalid Index of the first reading breaking a rule, or `count`.
    // One assembly block (the leaf pass, then the levels), clearer whole than split.
    // solhint-disable-next-line function-max-lines
    function scan(
        bytes calldata readings,
        uint256 count,
        uint256 batchIndex
    ) internal pure returns (bytes32 root, uint256 firstInvalid) {
        firstInvalid = count;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let nodes := mload(0x40)
            let source := readings.offset
            let previousAssetId := 0
            for {
                let i := 0
            } lt(i, count) {
                i := add(i, 1)
            } {
                let w := calldataload(add(source, mul(i, READING_BYTES)))
                let assetId := shr(224, w)
                let broken := iszero(lt(and(shr(192, w), 0xffffffff), batchIndex))
                if i {
                    broken := or(broken, iszero(gt(assetId, previousAssetId)))
                }
                if and(broken, eq(firstInvalid, count)) {
                    firstInvalid := i
                }
                previousAssetId := assetId
                mstore(0x00, w)
                mstore(add(nodes, shl(5, i)), keccak256(0x00, READING_BYTES))
            }
            // Levels: n nodes become ceil(n / 2); a last odd node is carried up as it is.
            for {
                let n := count
            } gt(n, 1) {
                n := shr(1, add(n, 1))
            } {
                let pairs := shr(1, n)
                for {
                    let i := 0
                } lt(i, pairs) {
                    i := add(i, 1)
                } {
                    let a := mload(add(nodes, shl(6, i)))
                    let b := mload(add(nodes, add(shl(6, i), 0x20)))
                    switch gt(a, b)
                    case 0 {
                        mstore(0x00, a)
                        mstore(0x20, b)
                    }
                    default {
                        mstore(0x00, b)
                        mstore(0x20, a)
                    }
                    mstore(add(nodes, shl(5, i)), keccak256(0x00, 0x40))
                }
                if and(n, 1) {
                    mstore(add(nodes, shl(5, pairs)), mload(add(nodes, shl(5, sub(n, 1)))))
                }
            }
            root := mload(nodes)
        }
    }

    /// @notice The root of the tree over `readings`, whatever their content.
    /// @param readings The concatenated packed readings, in calldata.
    /// @param count How many readings (`readings.length == count * READING_BYTES`, count > 0).
    /// @return root The root.
    function rootOf(bytes calldata readings, uint256 count) internal pure returns (bytes32 root) {
        (root, ) = scan(readings, count, type(uint256).max);
    }

    /// @notice The root a leaf and its sibling path lead to.
    /// @param leaf The leaf hash.
    /// @param path Sibling hashes from the leaf's level upwards.
    /// @return node The computed root.
    function rootFromProof(bytes32 leaf, bytes32[] calldata path) internal pure returns (bytes32 node) {
        node = leaf;
        uint256 length = path.length;
        for (uint256 i; i < length; ++i) {
            node = _hashPair(node, path[i]);
        }
    }

    /// @dev keccak256 of two words, the smaller first.
    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32 parent) {
        (bytes32 lo, bytes32 hi) = a < b ? (a, b) : (b, a);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, lo)
            mstore(0x20, hi)
            parent := keccak256(0x00, 0x40)
        }
    }
}
