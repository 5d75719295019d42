// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { SettlementMath } from "../../../contracts/libraries/SettlementMath.sol";
import { LeaseBill, StoredLeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import { Meter } from "../../../contracts/types/OracleTypes.sol";

/// @notice S1–S7 of test/foundry/README.md: the pure bill of a lease, fuzzed alone. These are the
/// facts the escrow's exact settlement rests on: no pair of meters bills more than full use; the bill
/// only grows with the meter at the point and as the lease shortens, so interim charges telescope to
/// the final bill whatever the cadence; full use is superadditive; every rounding favours the lessee.
contract SettlementMathFuzzTest is TestBase {
    uint256 internal constant MAX_COUNTER = type(uint48).max; // what a packed reading carries
    uint256 internal constant MAX_SECONDS = 10 * 365 days;

    /// @dev Fuzzed terms, within the widths the escrow stores.
    function _terms(uint256 seed) internal pure returns (StoredLeaseTerms memory t) {
        t.reservationPricePerGpuHour = uint96(bound(seed, 0, type(uint96).max));
        t.usagePricePerBusyGpuHour = uint96(bound(uint256(keccak256(abi.encode(seed, 1))), 0, type(uint96).max));
        t.energyPricePerKWh = uint72(bound(uint256(keccak256(abi.encode(seed, 2))), 0, type(uint72).max));
        t.slaAvailabilityBps = uint16(bound(uint256(keccak256(abi.encode(seed, 3))), 0, 10_000));
    }

    /// @dev A meter from a seed, counters within 48 bits (energy 64).
    function _meter(uint64 timestamp, uint256 seed) internal pure returns (Meter memory m) {
        m.timestamp = timestamp;
        m.busyGpuSeconds = uint64(bound(seed, 0, MAX_COUNTER));
        m.availableGpuSeconds = uint64(bound(uint256(keccak256(abi.encode(seed, 1))), 0, MAX_COUNTER));
        m.energyJ = uint64(bound(uint256(keccak256(abi.encode(seed, 2))), 0, type(uint64).max));
    }

    /// @dev One fuzzed bill: two meters `metered` seconds apart, a lease at least that long, terms.
    struct Case {
        Meter start;
        Meter point;
        uint256 metered;
        uint64 leaseSeconds;
        StoredLeaseTerms terms;
    }

    function _case(uint256 seed) internal pure returns (Case memory c) {
        c.metered = bound(uint256(keccak256(abi.encode(seed, "metered"))), 0, MAX_SECONDS);
        uint64 t0 = uint64(bound(seed, 0, type(uint40).max));
        c.start = _meter(t0, uint256(keccak256(abi.encode(seed, "start"))));
        c.point = _meter(uint64(t0 + c.metered), uint256(keccak256(abi.encode(seed, "point"))));
        c.leaseSeconds = uint64(c.metered + bound(uint256(keccak256(abi.encode(seed, "extra"))), 0, MAX_SECONDS));
        c.terms = _terms(uint256(keccak256(abi.encode(seed, "terms"))));
    }

    /// @notice S1: whatever the two meters (wrong, decreasing, impossible), a bill over t seconds never
    /// exceeds full use of the asset for t seconds.
    function testFuzz_billNeverExceedsFullUse(uint256 seed, uint16 gpuCount, uint16 tdp) public pure {
        Case memory c = _case(seed);
        LeaseBill memory b = SettlementMath.leaseBill(c.start, c.point, c.leaseSeconds, gpuCount, tdp, c.terms);
        vm.assertLe(b.total, SettlementMath.fullUseCost(gpuCount, tdp, c.terms, c.metered), "S1 bill <= full use");
        vm.assertLe(b.slaCredit, b.reservationFee + b.usageFee, "S1 credit <= reservation + usage");
        vm.assertEq(b.total, b.reservationFee + b.usageFee - b.slaCredit + b.energyFee, "S1 total = fees - credit");
        vm.assertLe(b.availabilityBps, 10_000, "S1 availability <= 100 %");
    }

    /// @notice S2: with the lease fixed, a later point whose counters are no lower never bills less.
    function testFuzz_billGrowsWithThePoint(uint256 seed, uint256 dt, uint256 growSeed, uint16 gpuCount, uint16 tdp) public pure {
        Case memory c = _case(seed);
        dt = bound(dt, 0, MAX_SECONDS);
        Meter memory p2 = Meter({
            timestamp: uint64(c.point.timestamp + dt),
            busyGpuSeconds: uint64(c.point.busyGpuSeconds + bound(growSeed, 0, MAX_COUNTER)),
            availableGpuSeconds: uint64(
                c.point.availableGpuSeconds + bound(uint256(keccak256(abi.encode(growSeed, 1))), 0, MAX_COUNTER)
            ),
            energyJ: uint64(bound(uint256(keccak256(abi.encode(growSeed, 2))), c.point.energyJ, type(uint64).max))
        });
        uint64 leaseSeconds = uint64(c.leaseSeconds + dt);
        uint256 b1 = SettlementMath.leaseBill(c.start, c.point, leaseSeconds, gpuCount, tdp, c.terms).total;
        uint256 b2 = SettlementMath.leaseBill(c.start, p2, leaseSeconds, gpuCount, tdp, c.terms).total;
        vm.assertGe(b2, b1, "S2 a later, larger point never bills less");
    }

    /// @notice S3: the same meters over a shorter lease (an early end) never bill less.
    function testFuzz_earlierEndNeverBillsLess(uint256 seed, uint256 shorter, uint16 gpuCount, uint16 tdp) public pure {
        Case memory c = _case(seed);
        uint256 short_ = bound(shorter, c.metered, c.leaseSeconds);
        uint256 bLong = SettlementMath.leaseBill(c.start, c.point, c.leaseSeconds, gpuCount, tdp, c.terms).total;
        uint256 bShort = SettlementMath.leaseBill(c.start, c.point, uint64(short_), gpuCount, tdp, c.terms).total;
        vm.assertGe(bShort, bLong, "S3 a shorter lease never bills less for the same meters");
    }

    /// @notice S4 (cadence independence of the math): charging the increase of the bill at any number
    /// of interim points of a growing meter, each capped at the balance left, charges in total exactly
    /// the final bill (capped at the deposit).
    function testFuzz_interimChargesTelescope(
        uint256 seed,
        uint8 steps,
        uint256 deposit,
        uint16 gpuCount,
        uint16 tdp,
        uint256 termsSeed
    ) public pure {
        steps = uint8(bound(steps, 1, 12));
        gpuCount = uint16(bound(gpuCount, 1, type(uint16).max));
        StoredLeaseTerms memory terms = _terms(termsSeed);
        Meter memory start = _meter(uint64(bound(seed, 0, type(uint40).max)), seed);
        start.energyJ = uint64(bound(start.energyJ, 0, MAX_COUNTER));
        uint64 leaseSeconds = uint64(bound(seed >> 64, 1, 90 days));
        deposit = bound(deposit, 0, type(uint96).max);
        Meter memory point = Meter({
            timestamp: start.timestamp,
            busyGpuSeconds: start.busyGpuSeconds,
            availableGpuSeconds: start.availableGpuSeconds,
            energyJ: start.energyJ
        });
        uint256 billed;
        for (uint256 i = 0; i < steps; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 dt = bound(r, 0, leaseSeconds / steps + 1);
            point.timestamp += uint64(dt);
            point.availableGpuSeconds += uint64(bound(r >> 64, 0, uint256(gpuCount) * (dt + 1)));
            point.busyGpuSeconds += uint64(bound(r >> 128, 0, uint256(gpuCount) * (dt + 1)));
            point.energyJ += uint64(bound(r >> 192, 0, uint256(gpuCount) * tdp * (dt + 1)));
            uint256 bill = SettlementMath.leaseBill(start, point, leaseSeconds, gpuCount, tdp, terms).total;
            if (bill > billed) {
                uint256 increase = bill - billed;
                uint256 balance = deposit - billed;
                billed += increase < balance ? increase : balance;
            }
        }
        uint256 finalBill = SettlementMath.leaseBill(start, point, leaseSeconds, gpuCount, tdp, terms).total;
        vm.assertEq(billed, finalBill < deposit ? finalBill : deposit, "S4 interim charges sum to the final bill");
    }

    /// @notice S5: full use is superadditive, so deposits that cover full use up to a time always cover
    /// what was used before it and the rest after it.
    function testFuzz_fullUseIsSuperadditive(uint16 gpuCount, uint16 tdp, uint256 termsSeed, uint256 a, uint256 b) public pure {
        StoredLeaseTerms memory terms = _terms(termsSeed);
        a = bound(a, 0, MAX_SECONDS);
        b = bound(b, 0, MAX_SECONDS);
        vm.assertGe(
            SettlementMath.fullUseCost(gpuCount, tdp, terms, a + b),
            SettlementMath.fullUseCost(gpuCount, tdp, terms, a) + SettlementMath.fullUseCost(gpuCount, tdp, terms, b),
            "S5 fullUse(a + b) >= fullUse(a) + fullUse(b)"
        );
    }

    /// @notice S6: the SLA credit is zero at or above the target, the whole gross at zero availability,
    /// and otherwise exactly gross − floor(gross × availability ÷ target): rounded up for the lessee.
    function testFuzz_slaCredit(uint256 gross, uint16 availability, uint16 target) public pure {
        target = uint16(bound(target, 0, 10_000));
        availability = uint16(bound(availability, 0, 10_000));
        uint256 credit = SettlementMath.slaCredit(gross, availability, target);
        vm.assertLe(credit, gross, "S6 credit <= gross");
        if (availability >= target) {
            vm.assertEq(credit, 0, "S6 no credit at or above the target");
        } else {
            // gross - credit = floor(gross * availability / target), without overflow for any gross.
            uint256 kept = gross - credit;
            if (gross <= type(uint128).max) {
                vm.assertEq(kept, (gross * availability) / target, "S6 the bill keeps floor(gross x availability / target)");
            }
            if (availability == 0) vm.assertEq(credit, gross, "S6 the whole gross at zero availability");
        }
    }

    /// @notice S7: each fee is the exact rational fee rounded down (never up), availability is the
    /// exact ratio rounded down and capped, and busy time counts at most up to the available time.
    function testFuzz_roundingFavoursTheLessee(uint256 seed, uint16 gpuCount, uint16 tdp) public pure {
        Case memory c = _case(seed);
        gpuCount = uint16(bound(gpuCount, 1, type(uint16).max));
        if (c.metered == 0) c.metered = 1;
        c.point.timestamp = uint64(c.start.timestamp + c.metered);
        if (c.leaseSeconds < c.metered) c.leaseSeconds = uint64(c.metered);
        LeaseBill memory b = SettlementMath.leaseBill(c.start, c.point, c.leaseSeconds, gpuCount, tdp, c.terms);
        uint256 available = c.point.availableGpuSeconds > c.start.availableGpuSeconds
            ? _min(c.point.availableGpuSeconds - c.start.availableGpuSeconds, uint256(gpuCount) * c.metered)
            : 0;
        uint256 exact = available * c.terms.reservationPricePerGpuHour;
        vm.assertLe(b.reservationFee * 3600, exact, "S7 reservation fee not rounded up");
        vm.assertGt((b.reservationFee + 1) * 3600, exact, "S7 reservation fee is the floor");
        uint256 bps = (available * 10_000) / (uint256(gpuCount) * c.leaseSeconds);
        vm.assertEq(b.availabilityBps, bps < 10_000 ? bps : 10_000, "S7 availability floor, capped");
        // Busy time is counted at most up to the available time (so never beyond the GPUs' capacity).
        vm.assertLe(b.usageFee, (available * c.terms.usagePricePerBusyGpuHour) / 3600, "S7 busy <= available");
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
