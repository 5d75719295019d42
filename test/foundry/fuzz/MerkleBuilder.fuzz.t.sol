// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { MerkleBuilder } from "../helpers/MerkleBuilder.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { ProvenReading, ReadingProof } from "../../../contracts/types/OracleTypes.sol";

/// @notice The test-only MerkleBuilder agrees with the oracle's ReadingsMerkle: for any batch of 1 to
/// 64 readings, the builder's root is the oracle's `readingsRoot`, every path leads back to it, and
/// after the batch is signed and submitted the oracle's `verifyReading` accepts the builder's proof of
/// any reading and unpacks it to the values packed. The campaigns that build proofs with it rely on this.
contract MerkleBuilderFuzzTest is TestBase {
    uint256 internal constant SIGNER_KEY = 0xb0117de5;

    GpuAssetNFT internal nft;
    UsageOracle internal oracle;

    function setUp() public {
        nft = new GpuAssetNFT(address(this));
        address[] memory signers = new address[](1);
        signers[0] = vm.addr(SIGNER_KEY);
        oracle = new UsageOracle(address(this), nft, signers, 1, 300, 1_000);
    }

    /// @dev `count` readings with strictly increasing asset ids drawn from `seed`, first readings (no link).
    function _readings(uint256 seed, uint256 count) internal pure returns (bytes28[] memory readings) {
        readings = new bytes28[](count);
        uint256 id;
        for (uint256 i = 0; i < count; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            id += 1 + (r % 1_000);
            readings[i] = MerkleBuilder.pack(id, 0, uint48(r >> 16), uint48(r >> 64), uint64(r >> 112));
        }
    }

    function testFuzz_rootAndPathsMatchTheOracle(uint256 seed, uint256 countSeed, uint256 indexSeed) public view {
        uint256 count = bound(countSeed, 1, 64);
        bytes28[] memory readings = _readings(seed, count);
        bytes32 root = MerkleBuilder.root(readings);
        vm.assertEq(root, oracle.readingsRoot(MerkleBuilder.encode(readings)), "root = the oracle's readingsRoot");
        uint256 index = bound(indexSeed, 0, count - 1);
        bytes32[] memory path = MerkleBuilder.path(readings, index);
        vm.assertEq(
            MerkleBuilder.rootFromPath(MerkleBuilder.leafOf(readings[index]), path),
            root,
            "path leads to root"
        );
        vm.assertLe(path.length, 6, "depth of a 64-reading tree");
    }

    function testFuzz_theOracleVerifiesTheBuildersProofs(uint256 seed, uint256 countSeed, uint256 indexSeed) public {
        uint256 count = bound(countSeed, 1, 64);
        bytes28[] memory readings = _readings(seed, count);
        bytes32 root = MerkleBuilder.root(readings);
        uint64 timestamp = uint64(block.timestamp);
        uint64 version = oracle.configVersion();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_KEY, oracle.batchDigest(version, 1, timestamp, root));
        oracle.submit(version, 1, timestamp, MerkleBuilder.encode(readings), abi.encodePacked(r, s, v));
        uint256 index = bound(indexSeed, 0, count - 1);
        ProvenReading memory proven = oracle.verifyReading(
            ReadingProof({
                batchIndex: 1,
                batchTimestamp: timestamp,
                acceptedAt: uint64(block.timestamp),
                configVersion: version,
                reading: readings[index],
                path: MerkleBuilder.path(readings, index)
            })
        );
        vm.assertEq(proven.assetId, MerkleBuilder.assetIdOf(readings[index]), "asset id");
        vm.assertEq(proven.batchIndex, 1, "batch");
        vm.assertEq(proven.previousBatch, 0, "link");
        uint256 word = uint256(keccak256(abi.encode(seed, index)));
        vm.assertEq(proven.meter.busyGpuSeconds, uint48(word >> 16), "busy");
        vm.assertEq(proven.meter.availableGpuSeconds, uint48(word >> 64), "available");
        vm.assertEq(proven.meter.energyJ, uint64(word >> 112), "energy");
        vm.assertEq(proven.meter.timestamp, timestamp, "timestamp");
    }
}
