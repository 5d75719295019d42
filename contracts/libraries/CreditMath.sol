// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title CreditMath — interest, payment schedule and harvest waterfall, as pure functions
/// @notice The arithmetic of CreditFacility with no storage, so each rule can be fuzzed alone.
/// Interest is simple: `principal × rateBps × seconds / (10000 × 365 days)`, never charged on unpaid
/// interest, with the division's remainder carried between accruals so that the total accrued is the
/// exact floor of the interest integral however often (or rarely) a loan is touched.
/// @dev Bounds: the facility keeps principals below 2^128 and rates below 2^16, so
/// `principal × rate × seconds + remainder` fits in 256 bits for any elapsed time below 2^100 seconds.
library CreditMath {
    /// @notice Basis points in one (10000 = 100 %).
    uint256 internal constant BPS = 10_000;
    /// @notice Seconds in the 365-day year that rates are quoted over.
    uint256 internal constant YEAR_SECONDS = 365 days;
    /// @notice The interest divisor: rate in bps × seconds / this = fraction of the principal.
    uint256 internal constant INTEREST_DENOMINATOR = BPS * YEAR_SECONDS;

    /// @notice Simple interest on `principal` over `elapsedSeconds`, with the carried remainder.
    /// @param principal Outstanding principal over the whole interval, in base units.
    /// @param rateBpsPerYear Rate in basis points per year.
    /// @param elapsedSeconds Length of the interval.
    /// @param remainder Remainder carried from the previous accrual (< INTEREST_DENOMINATOR).
    /// @return interest Whole base units of interest for the interval (rounded down).
    /// @return newRemainder The remainder to carry (< INTEREST_DENOMINATOR).
    function accrue(
        uint256 principal,
        uint256 rateBpsPerYear,
        uint256 elapsedSeconds,
        uint256 remainder
    ) internal pure returns (uint256 interest, uint256 newRemainder) {
        uint256 numerator = principal * rateBpsPerYear * elapsedSeconds + remainder;
        interest = numerator / INTEREST_DENOMINATOR;
        newRemainder = numerator % INTEREST_DENOMINATOR;
    }

    /// @notice How many due dates lie at or before `time`: ⌊(time − start) / period⌋, capped at the
    /// number of periods (0 before the first due date).
    /// @param startTime Funding time.
    /// @param periodSeconds Period length (non-zero).
    /// @param periodCount Number of periods.
    /// @param time The instant.
    /// @return count Due dates passed, 0 … periodCount.
    function dueDatesPassed(
        uint256 startTime,
        uint256 periodSeconds,
        uint256 periodCount,
        uint256 time
    ) internal pure returns (uint256 count) {
        if (time < startTime) return 0;
        count = (time - startTime) / periodSeconds;
        if (count > periodCount) count = periodCount;
    }

    /// @notice The due date number `index` (1-based): `start + index × period`.
    /// @param startTime Funding time.
    /// @param periodSeconds Period length.
    /// @param index Which due date (0 gives the funding time itself).
    /// @return The timestamp.
    function dueDate(uint256 startTime, uint256 periodSeconds, uint256 index) internal pure returns (uint256) {
        return startTime + index * periodSeconds;
    }

    /// @notice Principal scheduled to be repaid by due date `index` (cumulative): nothing during the
    /// interest-only periods, then equal installments over the last `amortizationPeriods` periods,
    /// rounded down, and all of it at the maturity.
    /// @param principal Original principal.
    /// @param periodCount Number of periods (≥ 1).
    /// @param amortizationPeriods Periods over which the principal is repaid (1 … periodCount).
    /// @param index Due dates passed (0 … periodCount; larger values count as the maturity).
    /// @return Principal due by then, in base units (≤ principal, non-decreasing in `index`).
    function principalDueBy(
        uint256 principal,
        uint256 periodCount,
        uint256 amortizationPeriods,
        uint256 index
    ) internal pure returns (uint256) {
        if (!(index < periodCount)) return principal;
        uint256 interestOnly = periodCount - amortizationPeriods;
        if (!(index > interestOnly)) return 0;
        return (principal * (index - interestOnly)) / amortizationPeriods;
    }

    /// @notice Applies `amount` to a debt: interest first, then principal, each up to what is owed.
    /// @param amount Amount available.
    /// @param interestOwed Interest owed.
    /// @param principalOwed Principal owed (in the context: due, or all of it).
    /// @return toInterest Part paying interest.
    /// @return toPrincipal Part paying principal.
    /// @return rest What is left (`amount − toInterest − toPrincipal`).
    function applyPayment(
        uint256 amount,
        uint256 interestOwed,
        uint256 principalOwed
    ) internal pure returns (uint256 toInterest, uint256 toPrincipal, uint256 rest) {
        toInterest = amount < interestOwed ? amount : interestOwed;
        rest = amount - toInterest;
        toPrincipal = rest < principalOwed ? rest : principalOwed;
        rest -= toPrincipal;
    }

    /// @notice Splits harvested revenue: interest owed → principal owed → reserve (up to its room) →
    /// borrower. Every unit goes to exactly one of them.
    /// @param amount Revenue harvested.
    /// @param interestOwed Interest the lender is owed now.
    /// @param principalOwed Principal the lender is owed now (the current installment, or all of it in
    /// default).
    /// @param reserveRoom What the reserve may still take (target − balance, or 0).
    /// @return toInterest Part paying interest.
    /// @return toPrincipal Part paying principal.
    /// @return toReserve Part kept in the reserve.
    /// @return toBorrower Part credited to the borrower.
    function waterfall(
        uint256 amount,
        uint256 interestOwed,
        uint256 principalOwed,
        uint256 reserveRoom
    ) internal pure returns (uint256 toInterest, uint256 toPrincipal, uint256 toReserve, uint256 toBorrower) {
        uint256 rest;
        (toInterest, toPrincipal, rest) = applyPayment(amount, interestOwed, principalOwed);
        toReserve = rest < reserveRoom ? rest : reserveRoom;
        toBorrower = rest - toReserve;
    }
}
