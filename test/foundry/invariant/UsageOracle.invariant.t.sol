// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";
import { UsageOracleHandler } from "../handlers/UsageOracleHandler.sol";

/// @notice The oracle campaign's system: an NFT with three assets (8 x 700 W, 1 x 300 W, 64 x 1000 W),
/// a 2-of-3 oracle (skew 300 s, margin 10 %) with five keys to rotate through, and the handler, which
/// holds the oracle-admin and pauser roles.
abstract contract UsageOracleCampaign is TestBase {
    GpuAssetNFT internal nft;
    UsageOracle internal oracle;
    UsageOracleHandler internal handler;

    function setUp() public virtual {
        nft = new GpuAssetNFT(address(this));
        nft.grantRole(nft.REGISTRAR_ROLE(), address(this));
        uint256[] memory assets = new uint256[](3);
        assets[0] = _mint(8, 700, "a");
        assets[1] = _mint(1, 300, "b");
        assets[2] = _mint(64, 1000, "c");

        uint256[] memory keys = new uint256[](5);
        address[] memory initial = new address[](3);
        for (uint256 i = 0; i < keys.length; i++) {
            keys[i] = (uint256(keccak256(abi.encode("signer", i))) % (2 ** 200)) + 1;
        }
        for (uint256 i = 0; i < 3; i++) initial[i] = vm.addr(keys[i]);
        oracle = new UsageOracle(address(this), nft, initial, 2, 300, 1_000);
        handler = new UsageOracleHandler(oracle, nft, assets, keys, 2);
        oracle.grantRole(oracle.ORACLE_ADMIN_ROLE(), address(handler));
        oracle.grantRole(oracle.PAUSER_ROLE(), address(handler));
        targetContract(address(handler));
    }

    function _mint(uint16 gpuCount, uint16 tdp, string memory serials) internal returns (uint256) {
        return
            nft.mint(
                // An account without code: mint is safe, and this test contract has no receiver hook.
                address(0x0BE1),
                GpuSpec({
                    gpuModel: "NVIDIA H100 80GB HBM3",
                    datacenter: "eu-west-fra2",
                    serialsHash: keccak256(bytes(serials)),
                    vramMiBPerGpu: 81_559,
                    gpuCount: gpuCount,
                    tdpWattsPerGpu: tdp
                })
            );
    }
}

/// @notice O1–O6 of test/foundry/README.md after every random action of the oracle campaign.
/// forge-config: default.invariant.depth = 60
/// forge-config: deep.invariant.depth = 120
contract UsageOracleInvariantTest is UsageOracleCampaign {
    /// @notice O1: batches are numbered 1, 2, 3, … without gaps; every accepted index has a commitment,
    /// no other index has one.
    function invariant_batchIndicesHaveNoGaps() public view {
        uint256 count = handler.batchCount();
        vm.assertEq(oracle.nextBatchIndex(), count + 1, "O1 nextBatchIndex = accepted batches + 1");
        vm.assertEq(oracle.batchCommitment(0), bytes32(0), "O1 no batch 0");
        for (uint256 i = 1; i <= count; i++) {
            vm.assertTrue(oracle.batchCommitment(uint32(i)) != bytes32(0), "O1 every accepted index is committed");
        }
        vm.assertEq(oracle.batchCommitment(uint32(count + 1)), bytes32(0), "O1 nothing at the next index");
        vm.assertEq(oracle.batchCommitment(uint32(count + 2)), bytes32(0), "O1 nothing beyond");
    }

    /// @notice O2: a commitment, once written, never changes, and it commits to exactly what was
    /// submitted: keccak256(abi.encode(root of the readings, timestamp, block time, config version)).
    function invariant_commitmentsNeverChange() public view {
        for (uint256 i = 1; i <= handler.batchCount(); i++) {
            UsageOracleHandler.Accepted memory b = handler.acceptedBatch(i);
            vm.assertEq(
                b.commitment,
                keccak256(abi.encode(b.root, b.timestamp, b.acceptedAt, b.configVersion)),
                "O2 the commitment of what was submitted"
            );
            vm.assertEq(oracle.batchCommitment(uint32(i)), b.commitment, "O2 the stored commitment is unchanged");
        }
    }

    /// @notice O3: batch timestamps strictly increase with the index, each at most the skew ahead of
    /// the block that accepted it; lastBatchTimestamp is the latest one.
    function invariant_timestampsStrictlyIncrease() public view {
        uint256 count = handler.batchCount();
        uint64 previous;
        uint64 previousAcceptance;
        for (uint256 i = 1; i <= count; i++) {
            UsageOracleHandler.Accepted memory b = handler.acceptedBatch(i);
            vm.assertGt(b.timestamp, previous, "O3 timestamps strictly increase");
            vm.assertLe(b.timestamp, uint256(b.acceptedAt) + b.skewAtAcceptance, "O3 at most the skew ahead");
            vm.assertGe(b.acceptedAt, previousAcceptance, "O3 acceptance times never go back");
            previous = b.timestamp;
            previousAcceptance = b.acceptedAt;
        }
        vm.assertEq(oracle.lastBatchTimestamp(), previous, "O3 lastBatchTimestamp is the latest batch's");
    }

    /// @notice O4: only batches signed by a quorum of distinct current signers, for the next index and a
    /// newer time, are accepted; every other is refused with the error of the rule it breaks; no valid
    /// batch is refused.
    function invariant_onlyValidQuorumBatchesAreAccepted() public view {
        vm.assertEq(
            handler.invalidAccepted(),
            0,
            string.concat("O4 invalid batch accepted: ", handler.lastInvalidAccepted())
        );
        vm.assertEq(
            handler.wrongError(),
            0,
            string.concat("O4 refused with another error: ", handler.lastWrongError())
        );
        vm.assertEq(
            handler.validRefused(),
            0,
            string.concat("O4 valid batch refused: ", vm.toString(handler.lastValidRefusal()))
        );
    }

    /// @notice O5: a proof verifies if and only if its reading was published in that batch: every
    /// published reading proves (paused or not) and unpacks to what was published; a proof with any
    /// field, sibling or bit changed does not.
    function invariant_aProofVerifiesIffTheReadingWasPublished() public view {
        vm.assertEq(
            handler.proofFailures(),
            0,
            string.concat("O5 a member's proof failed: ", handler.lastProofFailure())
        );
        vm.assertEq(
            handler.forgedAccepted(),
            0,
            string.concat("O5 a forged proof verified: ", handler.lastForgedAccepted())
        );
    }

    /// @notice O6: meterAt at any time equals the meter the ghost history defines there (exact, first
    /// reading, interpolated, or the requested bound of an impossible pair).
    function invariant_metersFollowTheHistory() public view {
        vm.assertEq(handler.meterMismatches(), 0, string.concat("O6 meterAt differs: ", handler.lastMeterMismatch()));
    }
}
