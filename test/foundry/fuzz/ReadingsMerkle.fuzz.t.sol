// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { ReferenceMerkle } from "../utils/ReferenceMerkle.sol";
import { ReadingsMerkle } from "../../../contracts/libraries/ReadingsMerkle.sol";

/// @notice Calls `ReadingsMerkle` with calldata arguments, as the oracle does.
contract ReadingsMerkleCaller {
    function scan(bytes calldata readings, uint256 count, uint256 batchIndex) external pure returns (bytes32, uint256) {
        return ReadingsMerkle.scan(readings, count, batchIndex);
    }

    function rootOf(bytes calldata readings, uint256 count) external pure returns (bytes32) {
        return ReadingsMerkle.rootOf(readings, count);
    }

    function rootFromProof(bytes32 leaf, bytes32[] calldata path) external pure returns (bytes32) {
        return ReadingsMerkle.rootFromProof(leaf, path);
    }

    function leafOf(bytes28 reading) external pure returns (bytes32) {
        return ReadingsMerkle.leafOf(reading);
    }
}

/// @notice `ReadingsMerkle` against `utils/ReferenceMerkle.sol` (README: RM1–RM4): the assembly tree
/// equals the plain one for any batch size and content; every reference path climbs to the root
/// through `rootFromProof`; a changed reading or sibling does not; `scan` reports exactly the first
/// reading that breaks the batch rules.
contract ReadingsMerkleFuzzTest is TestBase {
    ReadingsMerkleCaller internal caller;

    function setUp() public {
        caller = new ReadingsMerkleCaller();
    }

    /// @dev `count` readings with strictly increasing asset ids and links below `batchIndex`.
    function _readings(uint256 seed, uint256 count, uint32 batchIndex) internal pure returns (bytes28[] memory rs) {
        rs = new bytes28[](count);
        uint32 assetId;
        for (uint256 i = 0; i < count; i++) {
            uint256 h = uint256(keccak256(abi.encode(seed, i)));
            assetId += uint32(1 + (h % 1_000));
            rs[i] = ReferenceMerkle.pack(
                assetId,
                batchIndex == 0 ? 0 : uint32((h >> 16) % batchIndex),
                uint48(h >> 64),
                uint48(h >> 112),
                uint64(h >> 160)
            );
        }
    }

    // ---------------------------------------------------------------- RM1: the root

    function testFuzz_rootEqualsTheReferenceTree(uint256 seed, uint256 count) public view {
        count = bound(count, 1, 80);
        bytes28[] memory rs = _readings(seed, count, 1_000);
        bytes32 root = ReferenceMerkle.root(rs);
        vm.assertEq(caller.rootOf(ReferenceMerkle.concat(rs), count), root, "rootOf");
        (bytes32 scanned, uint256 firstInvalid) = caller.scan(ReferenceMerkle.concat(rs), count, 1_000);
        vm.assertEq(scanned, root, "scan's root");
        vm.assertEq(firstInvalid, count, "a valid batch has no invalid reading");
    }

    function testFuzz_rootOfAnyBytesEqualsTheReferenceTree(bytes28[] memory rs) public view {
        // Any content, not only valid batches (rootOf serves readingsRoot, which checks nothing).
        vm.assume(rs.length > 0 && rs.length <= 120);
        vm.assertEq(caller.rootOf(ReferenceMerkle.concat(rs), rs.length), ReferenceMerkle.root(rs), "rootOf");
    }

    function test_rootOfFiveHundredReadings() public view {
        bytes28[] memory rs = _readings(500, 500, 1_000);
        vm.assertEq(caller.rootOf(ReferenceMerkle.concat(rs), 500), ReferenceMerkle.root(rs), "500 readings");
        bytes32 root = ReferenceMerkle.root(rs);
        bytes32[] memory first = ReferenceMerkle.path(rs, 0);
        vm.assertEq(first.length, 9, "depth 9");
        vm.assertEq(caller.rootFromProof(caller.leafOf(rs[0]), first), root, "first path");
        // The last reading is carried up twice (levels of 125 and 63 nodes): two siblings fewer.
        bytes32[] memory last = ReferenceMerkle.path(rs, 499);
        vm.assertEq(last.length, 7, "depth 7");
        vm.assertEq(caller.rootFromProof(caller.leafOf(rs[499]), last), root, "last path");
    }

    function test_rootOfOneReadingIsItsLeaf() public view {
        bytes28[] memory rs = _readings(1, 1, 5);
        vm.assertEq(caller.rootOf(ReferenceMerkle.concat(rs), 1), keccak256(abi.encodePacked(rs[0])), "leaf");
        vm.assertEq(caller.leafOf(rs[0]), keccak256(abi.encodePacked(rs[0])), "leafOf");
    }

    // ---------------------------------------------------------------- RM2, RM3: proofs

    function testFuzz_everyPathClimbsToTheRoot(uint256 seed, uint256 count, uint256 index) public view {
        count = bound(count, 1, 70);
        index = bound(index, 0, count - 1);
        bytes28[] memory rs = _readings(seed, count, 1_000);
        bytes32 root = ReferenceMerkle.root(rs);
        bytes32[] memory path = ReferenceMerkle.path(rs, index);
        vm.assertEq(caller.rootFromProof(caller.leafOf(rs[index]), path), root, "the path of a member");
        vm.assertEq(ReferenceMerkle.climb(ReferenceMerkle.leaf(rs[index]), path), root, "reference climb");
    }

    function testFuzz_aChangedReadingOrSiblingDoesNotClimbToTheRoot(
        uint256 seed,
        uint256 count,
        uint256 index,
        uint256 bit,
        bool inPath
    ) public view {
        count = bound(count, 2, 70);
        index = bound(index, 0, count - 1);
        bytes28[] memory rs = _readings(seed, count, 1_000);
        bytes32 root = ReferenceMerkle.root(rs);
        bytes32[] memory path = ReferenceMerkle.path(rs, index);
        bytes28 reading = rs[index];
        if (inPath) {
            uint256 level = bound(bit, 0, path.length - 1);
            path[level] = path[level] ^ bytes32(uint256(1) << (bit % 256));
        } else {
            reading = reading ^ bytes28(bytes32(uint256(1) << (32 + (bit % 224))));
        }
        vm.assertTrue(caller.rootFromProof(caller.leafOf(reading), path) != root, "a changed proof fails");
    }

    // ---------------------------------------------------------------- RM4: the batch rules

    function testFuzz_scanReportsTheFirstBrokenReading(
        uint256 seed,
        uint256 count,
        uint32 batchIndex,
        uint256 where,
        uint256 how,
        uint256 alsoLater
    ) public view {
        count = bound(count, 1, 60);
        batchIndex = uint32(bound(batchIndex, 1, type(uint32).max));
        bytes28[] memory rs = _readings(seed, count, batchIndex);
        uint256 broken = bound(where, 0, count - 1);
        rs[broken] = _break(rs, broken, batchIndex, how);
        // Sometimes break a later one too: the first must still be reported.
        uint256 later = bound(alsoLater, broken, count - 1);
        if (later > broken) rs[later] = _break(rs, later, batchIndex, how >> 8);
        (bytes32 root, uint256 firstInvalid) = caller.scan(ReferenceMerkle.concat(rs), count, batchIndex);
        vm.assertEq(firstInvalid, _firstInvalid(rs, batchIndex), "the first broken reading");
        vm.assertEq(root, ReferenceMerkle.root(rs), "the root of whatever was published");
    }

    /// @dev Reading `i` with one rule broken: its link not below `batchIndex`, or (when i > 0) its asset
    /// id not above the previous reading's.
    function _break(bytes28[] memory rs, uint256 i, uint32 batchIndex, uint256 how) internal pure returns (bytes28) {
        uint256 word = uint256(bytes32(rs[i])) >> 32;
        if (i == 0 || how % 2 == 0) {
            uint32 link = uint32(bound(how >> 1, batchIndex, type(uint32).max));
            word = (word & ~(uint256(type(uint32).max) << 160)) | (uint256(link) << 160);
        } else {
            uint32 previousId = uint32(uint256(bytes32(rs[i - 1])) >> 224);
            uint32 id = uint32(bound(how >> 1, 0, previousId));
            word = (word & ~(uint256(type(uint32).max) << 192)) | (uint256(id) << 192);
        }
        return bytes28(bytes32(word << 32));
    }

    /// @dev The batch rules, written out: the first reading whose link is not below the batch, or whose
    /// asset id is not above the previous reading's; `rs.length` when none.
    function _firstInvalid(bytes28[] memory rs, uint32 batchIndex) internal pure returns (uint256) {
        for (uint256 i = 0; i < rs.length; i++) {
            uint256 word = uint256(bytes32(rs[i]));
            uint32 assetId = uint32(word >> 224);
            uint32 link = uint32(word >> 192);
            if (link >= batchIndex) return i;
            if (i > 0 && assetId <= uint32(uint256(bytes32(rs[i - 1])) >> 224)) return i;
        }
        return rs.length;
    }
}
