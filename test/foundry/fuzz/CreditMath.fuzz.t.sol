// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { CreditMath } from "../../../contracts/libraries/CreditMath.sol";

/// @notice CreditMath's rules (M1–M5 of test/foundry/README.md) on random inputs: interest is exact
/// and independent of how time is cut, the schedule is monotone and sums to the principal, and the
/// waterfall conserves every unit in its order.
contract CreditMathFuzzTest is TestBase {
    uint256 internal constant D = CreditMath.INTEREST_DENOMINATOR;

    /// M1: accruing over a + b equals accruing over a, then over b with the carried remainder; the
    /// total is the floor of the exact integral.
    function testFuzz_accrualIsAdditive(
        uint256 principal,
        uint256 rate,
        uint256 a,
        uint256 b,
        uint256 remainder
    ) public pure {
        principal = bound(principal, 0, type(uint128).max);
        rate = bound(rate, 0, type(uint16).max);
        a = bound(a, 0, 2 ** 40);
        b = bound(b, 0, 2 ** 40);
        remainder = bound(remainder, 0, D - 1);
        uint256 exact = principal * rate * (a + b) + remainder;
        (uint256 whole, uint256 wholeRemainder) = CreditMath.accrue(principal, rate, a + b, remainder);
        vm.assertEq(whole * D + wholeRemainder, exact, "M1 exact division");
        vm.assertLt(wholeRemainder, D, "M1 remainder below the denominator");
        (uint256 first, uint256 carried) = CreditMath.accrue(principal, rate, a, remainder);
        (uint256 second, uint256 finalRemainder) = CreditMath.accrue(principal, rate, b, carried);
        vm.assertEq(first + second, whole, "M1 interest(a) + interest(b) = interest(a + b)");
        vm.assertEq(finalRemainder, wholeRemainder, "M1 same remainder");
    }

    /// M2: interest never decreases with time, principal or rate, and a year at r bps is r/10000 of
    /// the principal, rounded down.
    function testFuzz_accrualIsMonotone(uint256 principal, uint256 rate, uint256 t, uint256 more) public pure {
        principal = bound(principal, 0, type(uint128).max);
        rate = bound(rate, 0, type(uint16).max);
        t = bound(t, 0, 2 ** 40);
        more = bound(more, 0, 2 ** 40);
        (uint256 shorter, ) = CreditMath.accrue(principal, rate, t, 0);
        (uint256 longer, ) = CreditMath.accrue(principal, rate, t + more, 0);
        vm.assertLe(shorter, longer, "M2 more time, no less interest");
        (uint256 year, ) = CreditMath.accrue(principal, rate, CreditMath.YEAR_SECONDS, 0);
        vm.assertEq(year, (principal * rate) / CreditMath.BPS, "M2 one year = principal x rate");
    }

    /// M3: the principal schedule is non-decreasing, zero during the interest-only periods, every
    /// installment is ⌊P/a⌋ or ⌈P/a⌉, and the maturity's cumulative due is the whole principal.
    function testFuzz_scheduleSumsToThePrincipal(uint256 principal, uint256 count, uint256 amortization) public pure {
        principal = bound(principal, 0, type(uint96).max);
        count = bound(count, 1, 120);
        amortization = bound(amortization, 1, count);
        uint256 interestOnly = count - amortization;
        uint256 previous = 0;
        for (uint256 k = 0; k <= count + 1; k++) {
            uint256 due = CreditMath.principalDueBy(principal, count, amortization, k);
            vm.assertGe(due, previous, "M3 cumulative due never decreases");
            vm.assertLe(due, principal, "M3 never more than the principal");
            if (k <= interestOnly && k < count) vm.assertEq(due, 0, "M3 nothing due while interest-only");
            if (k > interestOnly && k <= count) {
                uint256 installment = due - previous;
                vm.assertGe(installment, principal / amortization, "M3 installment >= floor(P/a)");
                vm.assertLe(installment, (principal + amortization - 1) / amortization, "M3 installment <= ceil(P/a)");
            }
            previous = due;
        }
        vm.assertEq(previous, principal, "M3 all of it by the maturity");
    }

    /// M4: due dates passed grow with time, one per period, capped at the period count.
    function testFuzz_dueDatesPassed(uint256 start, uint256 period, uint256 count, uint256 t) public pure {
        start = bound(start, 0, 2 ** 40);
        period = bound(period, 1 hours, 400 days);
        count = bound(count, 1, 600);
        t = bound(t, 0, 2 ** 42);
        uint256 passed = CreditMath.dueDatesPassed(start, period, count, t);
        vm.assertLe(passed, count, "M4 capped");
        if (passed < count) {
            vm.assertTrue(t < CreditMath.dueDate(start, period, passed + 1), "M4 the next due date is ahead");
        }
        if (passed > 0) vm.assertGe(t, CreditMath.dueDate(start, period, passed), "M4 the counted one has come");
    }

    /// M5: the waterfall hands every unit to exactly one party, in order: principal only once
    /// interest is paid, the reserve only once principal is, the borrower only once the reserve is full.
    function testFuzz_waterfallConservesInOrder(
        uint256 amount,
        uint256 interestOwed,
        uint256 principalOwed,
        uint256 room
    ) public pure {
        amount = bound(amount, 0, type(uint128).max);
        interestOwed = bound(interestOwed, 0, type(uint128).max);
        principalOwed = bound(principalOwed, 0, type(uint128).max);
        room = bound(room, 0, type(uint128).max);
        (uint256 toInterest, uint256 toPrincipal, uint256 toReserve, uint256 toBorrower) = CreditMath.waterfall(
            amount,
            interestOwed,
            principalOwed,
            room
        );
        vm.assertEq(toInterest + toPrincipal + toReserve + toBorrower, amount, "M5 every unit goes somewhere once");
        vm.assertLe(toInterest, interestOwed, "M5 interest capped");
        vm.assertLe(toPrincipal, principalOwed, "M5 principal capped");
        vm.assertLe(toReserve, room, "M5 reserve capped");
        if (toPrincipal > 0) vm.assertEq(toInterest, interestOwed, "M5 interest first");
        if (toReserve > 0) vm.assertEq(toPrincipal, principalOwed, "M5 then principal");
        if (toBorrower > 0) vm.assertEq(toReserve, room, "M5 then the reserve");
    }
}
