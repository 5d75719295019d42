// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CreditMath } from "../libraries/CreditMath.sol";

/// @title CreditMathHarness
/// @notice Test-only: exposes CreditMath's internal functions so the Hardhat tests can call them
/// (forge calls the library directly).
/// @dev Warning: test-only. Never deploy to any network.
contract CreditMathHarness {
    /// @notice See CreditMath.INTEREST_DENOMINATOR.
    /// @return The divisor.
    function interestDenominator() external pure returns (uint256) {
        return CreditMath.INTEREST_DENOMINATOR;
    }

    /// @notice See CreditMath.accrue.
    function accrue(
        uint256 principal,
        uint256 rateBpsPerYear,
        uint256 elapsedSeconds,
        uint256 remainder
    ) external pure returns (uint256 interest, uint256 newRemainder) {
        return CreditMath.accrue(principal, rateBpsPerYear, elapsedSeconds, remainder);
    }

    /// @notice See CreditMath.dueDatesPassed.
    function dueDatesPassed(
        uint256 startTime,
        uint256 periodSeconds,
        uint256 periodCount,
        uint256 time
    ) external pure returns (uint256) {
        return CreditMath.dueDatesPassed(startTime, periodSeconds, periodCount, time);
    }

    /// @notice See CreditMath.dueDate.
    function dueDate(uint256 startTime, uint256 periodSeconds, uint256 index) external pure returns (uint256) {
        return CreditMath.dueDate(startTime, periodSeconds, index);
    }

    /// @notice See CreditMath.principalDueBy.
    function principalDueBy(
        uint256 principal,
        uint256 periodCount,
        uint256 amortizationPeriods,
        uint256 index
    ) external pure returns (uint256) {
        return CreditMath.principalDueBy(principal, periodCount, amortizationPeriods, index);
    }

    /// @notice See CreditMath.applyPayment.
    function applyPayment(
        uint256 amount,
        uint256 interestOwed,
        uint256 principalOwed
    ) external pure returns (uint256, uint256, uint256) {
        return CreditMath.applyPayment(amount, interestOwed, principalOwed);
    }

    /// @notice See CreditMath.waterfall.
    function waterfall(
        uint256 amount,
        uint256 interestOwed,
        uint256 principalOwed,
        uint256 reserveRoom
    ) external pure returns (uint256, uint256, uint256, uint256) {
        return CreditMath.waterfall(amount, interestOwed, principalOwed, reserveRoom);
    }
}
