// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IUsageOracle } from "../interfaces/IUsageOracle.sol";

/// @title MockOracleRelay
/// @notice Test-only contract that submits signed batches to the UsageOracle from a contract, as a
/// multisig, a relayer or a batching transmitter would. Batches submitted this way are not in the
/// transaction's own calldata, so `src/meterHistory.ts` must find them in a call trace
/// (`debug_traceTransaction`); the tests of that fallback use it.
/// @dev Warning: test-only. Never deploy to a public network.
contract MockOracleRelay {
    /// @notice One `submit` call's arguments.
    struct Submission {
        uint64 configVersion;
        uint32 batchIndex;
        uint64 timestamp;
        bytes readings;
        bytes signatures;
    }

    /// @notice Emitted for each relayed submission, accepted or refused.
    /// @param position Its position in the call.
    /// @param accepted Whether the oracle accepted it.
    event Relayed(uint256 position, bool accepted);

    /// @notice The oracle batches are relayed to.
    IUsageOracle public immutable oracle;

    /// @param oracle_ The oracle batches are relayed to.
    constructor(IUsageOracle oracle_) {
        oracle = oracle_;
    }

    /// @notice Relays one batch; reverts with the oracle's error when it is refused.
    /// @param submission The batch.
    /// @return root The readings root the oracle returned.
    function relay(Submission calldata submission) external returns (bytes32 root) {
        root = oracle.submit(
            submission.configVersion,
            submission.batchIndex,
            submission.timestamp,
            submission.readings,
            submission.signatures
        );
        emit Relayed(0, true);
    }

    /// @notice Relays several batches in order in one transaction; a refused one is skipped, so that a
    /// transaction can hold failed and successful `submit` calls side by side.
    /// @param submissions The batches.
    /// @return accepted How many the oracle accepted.
    function relayAll(Submission[] calldata submissions) external returns (uint256 accepted) {
        for (uint256 i; i < submissions.length; ++i) {
            Submission calldata s = submissions[i];
            bool ok;
            try oracle.submit(s.configVersion, s.batchIndex, s.timestamp, s.readings, s.signatures) returns (bytes32) {
                ok = true;
                ++accepted;
            } catch {
                ok = false;
            }
            emit Relayed(i, ok);
        }
    }
}
