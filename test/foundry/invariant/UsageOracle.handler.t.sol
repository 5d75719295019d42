// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { UsageOracleCampaign } from "./UsageOracle.invariant.t.sol";
import { MeterSource } from "../../../contracts/types/OracleTypes.sol";

/// @notice The oracle campaign's handler does what it claims: each action, called with fixed inputs,
/// reaches the oracle (batches accepted, every kind of invalid batch refused with its own error,
/// proofs and meters of all four sources checked), so a green invariant run cannot be a vacuous one.
contract UsageOracleHandlerTest is UsageOracleCampaign {
    function _history(uint256 batches) internal {
        for (uint256 i = 0; i < batches; i++) {
            handler.submitValid(i + 1, uint256(keccak256(abi.encode("values", i))), 0, i, i);
            handler.warp(600 + i * 97);
        }
    }

    function test_validBatchesAreAccepted() public {
        _history(6);
        vm.assertEq(handler.acceptedCount(), 6, "every valid batch accepted");
        vm.assertEq(handler.validRefused(), 0, "none refused");
        vm.assertEq(oracle.nextBatchIndex(), 7, "indices 1 to 6 taken");
        _checkAll();
    }

    function test_everyKindOfInvalidBatchIsRefusedWithItsError() public {
        _history(2);
        for (uint256 kind = 0; kind < 15; kind++) {
            handler.submitInvalid(kind, 7, uint256(keccak256(abi.encode("invalid", kind))));
        }
        vm.assertEq(handler.refusedCount(), 15, "fifteen refusals");
        vm.assertEq(handler.invalidAccepted(), 0, handler.lastInvalidAccepted());
        vm.assertEq(handler.wrongError(), 0, handler.lastWrongError());
        handler.replay();
        handler.rotateSigners(1 << 8); // threshold 2, keys 1..3
        handler.replay(); // now stale
        handler.pauseAndProbe(7, 42);
        vm.assertEq(handler.wrongError(), 0, handler.lastWrongError());
        vm.assertEq(handler.invalidAccepted(), 0, handler.lastInvalidAccepted());
        vm.assertFalse(oracle.paused(), "unpaused again");
        handler.submitValid(7, 99, 0, 3, 3);
        vm.assertEq(handler.acceptedCount(), 3, "a batch under the new signer set");
        _checkAll();
    }

    function test_proofsAndMetersOfEveryKindAreChecked() public {
        _history(12);
        for (uint256 i = 0; i < 40; i++) {
            handler.proveMember(i, i * 7);
            handler.proveForged(i, i * 3, i, uint256(keccak256(abi.encode(i))));
        }
        for (uint256 i = 0; i < 300; i++) {
            handler.proveMeter(i, uint256(keccak256(abi.encode("t", i))), i % 2 == 0);
        }
        vm.assertEq(handler.proofsChecked(), 40, "members proven");
        vm.assertGt(handler.metersBySource(uint8(MeterSource.Exact)), 0, "Exact meters");
        vm.assertGt(handler.metersBySource(uint8(MeterSource.FirstReading)), 0, "FirstReading meters");
        vm.assertGt(handler.metersBySource(uint8(MeterSource.Interpolated)), 0, "Interpolated meters");
        vm.assertGt(handler.metersBySource(uint8(MeterSource.UnusablePair)), 0, "UnusablePair meters");
        _checkAll();
    }

    /// @dev The campaign's checks, on the state these tests reach.
    function _checkAll() internal view {
        vm.assertEq(handler.proofFailures(), 0, handler.lastProofFailure());
        vm.assertEq(handler.forgedAccepted(), 0, handler.lastForgedAccepted());
        vm.assertEq(handler.meterMismatches(), 0, handler.lastMeterMismatch());
        vm.assertEq(handler.wrongError(), 0, handler.lastWrongError());
        for (uint256 i = 1; i <= handler.batchCount(); i++) {
            vm.assertEq(oracle.batchCommitment(uint32(i)), handler.acceptedBatch(i).commitment, "commitment");
        }
    }
}
