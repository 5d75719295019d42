// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { DemandResponseMath } from "../../../contracts/libraries/DemandResponseMath.sol";
import { SettlementMath } from "../../../contracts/libraries/SettlementMath.sol";
import { Meter } from "../../../contracts/types/OracleTypes.sol";
import { LeaseBill, StoredLeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import {
    AvailableAt,
    BaselineRule,
    OutcomeStatus,
    Reduction,
    ReductionInput
} from "../../../contracts/types/DemandResponseTypes.sol";

/// @notice R1–R7 of test/foundry/README.md: the demand-response math alone, for any meters.
contract DemandResponseMathFuzzTest is TestBase {
    uint256 internal constant MAX_POWER_W = 8_400; // 8 × 700 W × 1.5

    function _meter(uint64 t, uint64 energyJ) internal pure returns (Meter memory) {
        return Meter({ timestamp: t, busyGpuSeconds: 0, availableGpuSeconds: 0, energyJ: energyJ });
    }

    /// @dev A reduction input from raw fuzz values: baseline window [t0, t0 + w], event [t1, t1 + d].
    function _input(
        uint64 w,
        uint64 d,
        uint64 baselineJ,
        uint64 eventJ,
        uint256 committedJ,
        uint256 rate
    ) internal pure returns (ReductionInput memory input) {
        uint64 t0 = 1_700_000_000;
        uint64 t1 = t0 + w + 600;
        input.baselineFrom = _meter(t0, 1_000_000);
        input.baselineTo = _meter(t0 + w, 1_000_000 + baselineJ);
        input.eventFrom = _meter(t1, 1_000_000 + baselineJ + 5);
        input.eventTo = _meter(t1 + d, 1_000_000 + baselineJ + 5 + eventJ);
        input.eventProven = true;
        input.maxPowerW = MAX_POWER_W;
        input.committedReductionJ = committedJ;
        input.ratePerKWh = rate;
    }

    /// R1 — the reduction never exceeds the committed one, nor the credit committed × rate (what the
    /// programme reserved per asset).
    function testFuzz_R1_creditWithinReservation(
        uint64 w,
        uint64 d,
        uint64 baselineJ,
        uint64 eventJ,
        uint256 committedJ,
        uint256 rate
    ) public pure {
        w = uint64(bound(w, 900, 1 days));
        d = uint64(bound(d, 900, 1 days));
        baselineJ = uint64(bound(baselineJ, 0, type(uint48).max));
        eventJ = uint64(bound(eventJ, 0, type(uint48).max));
        committedJ = bound(committedJ, 1, type(uint40).max);
        rate = bound(rate, 1, type(uint64).max);
        Reduction memory r = DemandResponseMath.reduction(_input(w, d, baselineJ, eventJ, committedJ, rate));
        vm.assertLe(r.reductionJ, committedJ, "R1 reduction <= committed");
        vm.assertLe(r.credit, DemandResponseMath.creditOf(committedJ, rate), "R1 credit <= committed x rate");
        if (r.status != OutcomeStatus.Credited) vm.assertEq(r.credit, 0, "R1 nothing paid unless credited");
    }

    /// R2 — no baseline exceeds what the asset can draw over the event, however wrong the readings.
    function testFuzz_R2_baselineBoundedByPhysics(uint64 w, uint64 d, uint64 baselineJ) public pure {
        w = uint64(bound(w, 900, 1 days));
        d = uint64(bound(d, 900, 1 days));
        Reduction memory r = DemandResponseMath.reduction(
            _input(w, d, baselineJ % type(uint56).max, 0, type(uint40).max, 1)
        );
        vm.assertLe(r.baselineJ, MAX_POWER_W * d, "R2 baseline <= max power x event seconds");
    }

    /// R3 — drawing more during the event never earns more.
    function testFuzz_R3_moreEnergyNeverEarnsMore(
        uint64 w,
        uint64 d,
        uint64 baselineJ,
        uint64 eventJ,
        uint64 extraJ
    ) public pure {
        w = uint64(bound(w, 900, 1 days));
        d = uint64(bound(d, 900, 1 days));
        baselineJ = uint64(bound(baselineJ, 0, MAX_POWER_W * w));
        eventJ = uint64(bound(eventJ, 0, MAX_POWER_W * d));
        extraJ = uint64(bound(extraJ, 0, MAX_POWER_W * d - eventJ));
        Reduction memory less = DemandResponseMath.reduction(_input(w, d, baselineJ, eventJ, type(uint40).max, 1e6));
        Reduction memory more = DemandResponseMath.reduction(
            _input(w, d, baselineJ, eventJ + extraJ, type(uint40).max, 1e6)
        );
        vm.assertLe(more.reductionJ, less.reductionJ, "R3 more energy, no more reduction");
        vm.assertLe(more.credit, less.credit, "R3 more energy, no more credit");
    }

    /// R4 — the lessee's and the owner's parts add up to the credit; the lessee's is its share, rounded down.
    function testFuzz_R4_splitAddsUp(uint256 credit, uint16 share) public pure {
        credit = bound(credit, 0, type(uint96).max);
        share = uint16(bound(share, 0, 10_000));
        (uint256 toLessee, uint256 toOwner) = DemandResponseMath.split(credit, share);
        vm.assertEq(toLessee + toOwner, credit, "R4 parts add up");
        vm.assertLe(toLessee * 10_000, credit * share, "R4 lessee part <= share");
    }

    /// R5 — a PreNotice baseline window is whole 15-minute intervals ending at or before the notice, at
    /// most one interval before it; a PriorDay window is the event shifted by one day.
    function testFuzz_R5_baselineWindow(uint64 notice, uint64 intervals, uint64 lead, uint64 d) public pure {
        notice = uint64(bound(notice, 10 days, type(uint40).max));
        intervals = uint64(bound(intervals, 1, 96));
        (uint64 from, uint64 to) = DemandResponseMath.baselineWindow(
            BaselineRule.PreNotice,
            notice,
            0,
            0,
            intervals * 900
        );
        vm.assertLe(to, notice, "R5 ends at or before the notice");
        vm.assertLt(notice - to, 900, "R5 at the last interval boundary");
        vm.assertEq(to % 900, 0, "R5 on the grid");
        vm.assertEq(to - from, intervals * 900, "R5 whole intervals");
        lead = uint64(bound(lead, 600, 1 days));
        d = uint64(bound(d, 900, 1 days));
        (from, to) = DemandResponseMath.baselineWindow(
            BaselineRule.PriorDay,
            notice,
            notice + lead,
            notice + lead + d,
            0
        );
        vm.assertEq(from, notice + lead - 1 days, "R5 prior day start");
        vm.assertEq(to - from, d, "R5 prior day length");
    }

    /// R6 — for an available meter growing linearly, the curtailed GPU-seconds of an event in a lease
    /// never exceed the meter's growth over the lease, and available − curtailed never decreases as the
    /// billing point moves (the escrow's bill stays monotone).
    function testFuzz_R6_curtailedMonotone(
        uint64 leaseStart,
        uint64 eventStart,
        uint64 d,
        uint64 p1,
        uint64 p2,
        uint64 rate
    ) public pure {
        leaseStart = uint64(bound(leaseStart, 1_000, 1_000_000));
        eventStart = uint64(bound(eventStart, 0, 2_000_000));
        d = uint64(bound(d, 900, 86_400));
        rate = uint64(bound(rate, 0, 8));
        p1 = uint64(bound(p1, leaseStart, 3_000_000));
        p2 = uint64(bound(p2, p1, 3_000_000));
        uint256 c1 = _curtailed(leaseStart, eventStart, d, p1, rate);
        uint256 c2 = _curtailed(leaseStart, eventStart, d, p2, rate);
        vm.assertLe(c1, (p1 - leaseStart) * rate, "R6 curtailed <= growth over the lease");
        vm.assertLe(c1, c2, "R6 curtailed grows with the point");
        vm.assertLe((p1 - leaseStart) * rate - c1, (p2 - leaseStart) * rate - c2, "R6 reservable never decreases");
    }

    /// @dev `curtailedInLease` for a meter that grows `rate` GPU-seconds per second from time 0.
    function _curtailed(
        uint64 leaseStart,
        uint64 eventStart,
        uint64 d,
        uint64 point,
        uint64 rate
    ) internal pure returns (uint256) {
        return
            DemandResponseMath.curtailedInLease(
                AvailableAt(eventStart, eventStart * rate),
                AvailableAt(eventStart + d, (eventStart + d) * rate),
                AvailableAt(leaseStart, leaseStart * rate),
                AvailableAt(point, point * rate)
            );
    }

    /// @dev A lease's meters over `seconds_` from time 1000.
    struct Use {
        uint64 seconds_;
        uint64 busy;
        uint64 available;
        uint64 energyJ;
    }

    /// R7 — a curtailable bill differs from the plain one only in its reservation fee, which only falls
    /// as more is curtailed.
    function testFuzz_R7_curtailedBillOnlyLowersReservation(
        Use memory u,
        uint64 curtailed,
        uint64 moreCurtailed,
        uint16 discount
    ) public pure {
        u.seconds_ = uint64(bound(u.seconds_, 1, 30 days));
        u.available = uint64(bound(u.available, 0, 8 * uint256(u.seconds_)));
        u.busy = uint64(bound(u.busy, 0, u.available));
        u.energyJ = uint64(bound(u.energyJ, 0, 8 * 700 * uint256(u.seconds_)));
        curtailed = uint64(bound(curtailed, 0, u.available));
        moreCurtailed = uint64(bound(moreCurtailed, curtailed, type(uint64).max));
        discount = uint16(bound(discount, 0, 10_000));
        LeaseBill memory plain = _bill(u, 0, 0);
        LeaseBill memory c = _bill(u, curtailed, discount);
        vm.assertEq(c.usageFee, plain.usageFee, "R7 usage unchanged");
        vm.assertEq(c.energyFee, plain.energyFee, "R7 energy unchanged");
        vm.assertEq(c.availabilityBps, plain.availabilityBps, "R7 availability unchanged");
        vm.assertLe(c.reservationFee, plain.reservationFee, "R7 reservation not higher");
        vm.assertLe(c.total, plain.total, "R7 total not higher");
        vm.assertLe(
            _bill(u, moreCurtailed, discount).reservationFee,
            c.reservationFee,
            "R7 more curtailed, no more reservation"
        );
    }

    /// R7 (continued) — with nothing curtailed and no discount, the curtailable form is the plain bill.
    function testFuzz_R7_noCurtailmentIsThePlainBill(Use memory u) public pure {
        u.seconds_ = uint64(bound(u.seconds_, 1, 30 days));
        u.available = uint64(bound(u.available, 0, 8 * uint256(u.seconds_)));
        u.busy = uint64(bound(u.busy, 0, u.available));
        u.energyJ = uint64(bound(u.energyJ, 0, 8 * 700 * uint256(u.seconds_)));
        StoredLeaseTerms memory terms = _terms();
        (Meter memory start, Meter memory point) = _meters(u);
        LeaseBill memory plain = SettlementMath.leaseBill(start, point, u.seconds_, 8, 700, terms);
        vm.assertEq(_bill(u, 0, 0).total, plain.total, "R7 no curtailment, no discount: the plain bill");
    }

    function _terms() internal pure returns (StoredLeaseTerms memory terms) {
        terms.reservationPricePerGpuHour = 2e6;
        terms.usagePricePerBusyGpuHour = 1e6;
        terms.energyPricePerKWh = 2e5;
        terms.slaAvailabilityBps = 9_900;
    }

    function _meters(Use memory u) internal pure returns (Meter memory start, Meter memory point) {
        start = Meter({ timestamp: 1_000, busyGpuSeconds: 0, availableGpuSeconds: 0, energyJ: 0 });
        point = Meter({
            timestamp: 1_000 + u.seconds_,
            busyGpuSeconds: u.busy,
            availableGpuSeconds: u.available,
            energyJ: u.energyJ
        });
    }

    function _bill(Use memory u, uint256 curtailed, uint16 discount) internal pure returns (LeaseBill memory) {
        (Meter memory start, Meter memory point) = _meters(u);
        return SettlementMath.leaseBill(start, point, u.seconds_, 8, 700, _terms(), curtailed, discount);
    }
}
