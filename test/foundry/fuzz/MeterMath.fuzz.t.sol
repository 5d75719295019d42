// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { ReferenceMerkle } from "../utils/ReferenceMerkle.sol";
import { MeterMath } from "../../../contracts/libraries/MeterMath.sol";
import { Meter } from "../../../contracts/types/OracleTypes.sol";

/// @notice `MeterMath` alone (README: MM1–MM4): unpacking inverts packing at every width; `isPossible`
/// accepts every delta within the physical bounds and refuses one unit beyond each; a larger asset or
/// margin never makes a pair impossible; `interpolate` stays between its readings, hits the later one
/// exactly at its time, rounds each counter down, and never decreases as time moves on.
contract MeterMathFuzzTest is TestBase {
    uint256 internal constant BPS = 10_000;

    /// @dev A possible pair from fuzzed fractions: `dt` seconds apart, counters within the bounds.
    struct Pair {
        Meter earlier;
        Meter later;
        uint16 gpuCount;
        uint16 tdp;
        uint16 margin;
        uint256 capacity;
        uint256 maxEnergy;
    }

    function _pair(
        uint64 t0,
        uint256 dt,
        uint16 gpuCount,
        uint16 tdp,
        uint16 margin,
        uint256[3] memory base,
        uint256[3] memory fractions
    ) internal pure returns (Pair memory p) {
        p.gpuCount = uint16(bound(gpuCount, 1, type(uint16).max));
        p.tdp = uint16(bound(tdp, 1, type(uint16).max));
        p.margin = uint16(bound(margin, 0, 5_000));
        dt = bound(dt, 1, 10 * 365 days);
        p.capacity = uint256(p.gpuCount) * dt;
        p.maxEnergy = (p.capacity * p.tdp * (BPS + p.margin)) / BPS;
        // Base counters leave room for the largest deltas (capacity < 2^45; energy is capped below).
        p.earlier.timestamp = uint64(bound(t0, 0, type(uint64).max - dt));
        p.earlier.busyGpuSeconds = uint64(bound(base[0], 0, type(uint48).max));
        p.earlier.availableGpuSeconds = uint64(bound(base[1], 0, type(uint48).max));
        p.earlier.energyJ = uint64(bound(base[2], 0, type(uint64).max / 2));
        uint256 available = bound(fractions[0], 0, p.capacity);
        uint256 energyRoom = type(uint64).max - p.earlier.energyJ;
        p.later.timestamp = uint64(p.earlier.timestamp + dt);
        p.later.availableGpuSeconds = uint64(p.earlier.availableGpuSeconds + available);
        p.later.busyGpuSeconds = uint64(p.earlier.busyGpuSeconds + bound(fractions[1], 0, available));
        p.later.energyJ = uint64(
            p.earlier.energyJ + bound(fractions[2], 0, p.maxEnergy < energyRoom ? p.maxEnergy : energyRoom)
        );
    }

    // ---------------------------------------------------------------- MM1: packing

    function testFuzz_unpackInvertsPack(
        uint32 assetId,
        uint32 previousBatch,
        uint48 busy,
        uint48 available,
        uint64 energy
    ) public pure {
        bytes28 packed = ReferenceMerkle.pack(assetId, previousBatch, busy, available, energy);
        (uint256 a, uint32 p, uint64 b, uint64 av, uint64 e) = MeterMath.unpack(packed);
        vm.assertEq(a, assetId, "assetId");
        vm.assertEq(p, previousBatch, "previousBatch");
        vm.assertEq(b, busy, "busy");
        vm.assertEq(av, available, "available");
        vm.assertEq(e, energy, "energy");
    }

    function test_unpackAtTheMaximumWidths() public pure {
        bytes28 all = bytes28(type(uint224).max);
        (uint256 a, uint32 p, uint64 b, uint64 av, uint64 e) = MeterMath.unpack(all);
        vm.assertEq(a, type(uint32).max, "assetId 2^32 - 1");
        vm.assertEq(p, type(uint32).max, "previousBatch 2^32 - 1");
        vm.assertEq(b, type(uint48).max, "busy 2^48 - 1");
        vm.assertEq(av, type(uint48).max, "available 2^48 - 1");
        vm.assertEq(e, type(uint64).max, "energy 2^64 - 1");
    }

    // ---------------------------------------------------------------- MM2: physical bounds

    function testFuzz_isPossibleWithinTheBounds(
        uint64 t0,
        uint256 dt,
        uint16 gpuCount,
        uint16 tdp,
        uint16 margin,
        uint256[3] memory base,
        uint256[3] memory fractions
    ) public pure {
        Pair memory p = _pair(t0, dt, gpuCount, tdp, margin, base, fractions);
        vm.assertTrue(MeterMath.isPossible(p.earlier, p.later, p.gpuCount, p.tdp, p.margin), "within the bounds");
    }

    function testFuzz_isPossibleRefusesOneUnitBeyondEachBound(
        uint64 t0,
        uint256 dt,
        uint16 gpuCount,
        uint16 tdp,
        uint16 margin,
        uint256[3] memory base,
        uint256[3] memory fractions
    ) public pure {
        Pair memory p = _pair(t0, dt, gpuCount, tdp, margin, base, fractions);
        Meter memory e = p.earlier;
        Meter memory l;

        // available = capacity + 1 (busy unchanged), when it fits the counter
        l = _copy(p.later);
        l.availableGpuSeconds = uint64(e.availableGpuSeconds + p.capacity + 1);
        vm.assertFalse(MeterMath.isPossible(e, l, p.gpuCount, p.tdp, p.margin), "available > gpuCount x dt");
        // busy = available + 1
        l = _copy(p.later);
        l.busyGpuSeconds = uint64(e.busyGpuSeconds + (l.availableGpuSeconds - e.availableGpuSeconds) + 1);
        vm.assertFalse(MeterMath.isPossible(e, l, p.gpuCount, p.tdp, p.margin), "busy > available");
        // energy = max + 1, when it fits
        if (e.energyJ + p.maxEnergy + 1 <= type(uint64).max) {
            l = _copy(p.later);
            l.energyJ = uint64(e.energyJ + p.maxEnergy + 1);
            vm.assertFalse(MeterMath.isPossible(e, l, p.gpuCount, p.tdp, p.margin), "energy > TDP bound");
        }
        // any counter below the earlier one
        if (e.busyGpuSeconds > 0) {
            l = _copy(p.later);
            l.busyGpuSeconds = e.busyGpuSeconds - 1;
            vm.assertFalse(MeterMath.isPossible(e, l, p.gpuCount, p.tdp, p.margin), "busy decreased");
        }
        if (e.availableGpuSeconds > 0) {
            l = _copy(p.later);
            l.availableGpuSeconds = e.availableGpuSeconds - 1;
            vm.assertFalse(MeterMath.isPossible(e, l, p.gpuCount, p.tdp, p.margin), "available decreased");
        }
        if (e.energyJ > 0) {
            l = _copy(p.later);
            l.energyJ = e.energyJ - 1;
            vm.assertFalse(MeterMath.isPossible(e, l, p.gpuCount, p.tdp, p.margin), "energy decreased");
        }
        // time not moving forward
        l = _copy(p.later);
        l.timestamp = e.timestamp;
        vm.assertFalse(MeterMath.isPossible(e, l, p.gpuCount, p.tdp, p.margin), "same time");
        vm.assertFalse(MeterMath.isPossible(p.later, e, p.gpuCount, p.tdp, p.margin), "backwards");
    }

    function test_isPossibleExactlyAtEveryBound() public pure {
        // 8 GPUs x 700 W, 10 % margin, 600 s: 4800 GPU-s, 3,696,000 J.
        Meter memory e = Meter(1_000, 10, 20, 30);
        Meter memory l = Meter(1_600, 10 + 4_800, 20 + 4_800, 30 + 3_696_000);
        vm.assertTrue(MeterMath.isPossible(e, l, 8, 700, 1_000), "at the bounds");
        l.energyJ += 1;
        vm.assertFalse(MeterMath.isPossible(e, l, 8, 700, 1_000), "one joule above");
        // The largest asset over ten years at full load: no overflow.
        uint64 tenYears = 10 * 365 days;
        uint256 cap = uint256(type(uint16).max) * tenYears;
        Meter memory big = Meter(tenYears, uint64(cap), uint64(cap), uint64((cap * type(uint16).max * 15_000) / BPS));
        vm.assertTrue(
            MeterMath.isPossible(Meter(0, 0, 0, 0), big, type(uint16).max, type(uint16).max, 5_000),
            "largest"
        );
    }

    function testFuzz_isPossibleIsMonotoneInTheSpec(
        uint64 t0,
        uint256 dt,
        uint16 gpuCount,
        uint16 tdp,
        uint16 margin,
        uint256[3] memory base,
        uint256[3] memory fractions,
        uint16 moreGpus,
        uint16 moreTdp,
        uint16 moreMargin,
        uint32 laterBy
    ) public pure {
        Pair memory p = _pair(t0, dt, gpuCount, tdp, margin, base, fractions);
        uint16 g = uint16(bound(moreGpus, p.gpuCount, type(uint16).max));
        uint16 w = uint16(bound(moreTdp, p.tdp, type(uint16).max));
        uint16 m = uint16(bound(moreMargin, p.margin, 5_000));
        vm.assertTrue(MeterMath.isPossible(p.earlier, p.later, g, w, m), "a larger asset or margin");
        // The same counters over a longer time are possible too.
        Meter memory l = _copy(p.later);
        if (uint256(l.timestamp) + laterBy <= type(uint64).max) l.timestamp += laterBy;
        vm.assertTrue(MeterMath.isPossible(p.earlier, l, p.gpuCount, p.tdp, p.margin), "more time");
    }

    // ---------------------------------------------------------------- MM3, MM4: interpolation

    function testFuzz_interpolateStaysBetweenRoundsDownAndHitsTheLaterReading(
        uint64[4] memory from,
        uint64[3] memory deltas,
        uint64 span,
        uint64 elapsed
    ) public pure {
        span = uint64(bound(span, 1, type(uint64).max - 1));
        uint64 t0 = uint64(bound(from[0], 0, type(uint64).max - span));
        Meter memory e = Meter(t0, from[1], from[2], from[3]);
        Meter memory l = Meter(
            t0 + span,
            uint64(bound(deltas[0], 0, type(uint64).max - from[1])) + from[1],
            uint64(bound(deltas[1], 0, type(uint64).max - from[2])) + from[2],
            uint64(bound(deltas[2], 0, type(uint64).max - from[3])) + from[3]
        );
        elapsed = uint64(bound(elapsed, 1, span));
        Meter memory m = MeterMath.interpolate(e, l, t0 + elapsed);
        vm.assertEq(m.timestamp, t0 + elapsed, "stamped with the time");
        _checkFloor(e.busyGpuSeconds, l.busyGpuSeconds, m.busyGpuSeconds, elapsed, span, "busy");
        _checkFloor(e.availableGpuSeconds, l.availableGpuSeconds, m.availableGpuSeconds, elapsed, span, "available");
        _checkFloor(e.energyJ, l.energyJ, m.energyJ, elapsed, span, "energy");
        Meter memory atLater = MeterMath.interpolate(e, l, l.timestamp);
        vm.assertEq(atLater.busyGpuSeconds, l.busyGpuSeconds, "busy at the later reading");
        vm.assertEq(atLater.availableGpuSeconds, l.availableGpuSeconds, "available at the later reading");
        vm.assertEq(atLater.energyJ, l.energyJ, "energy at the later reading");
    }

    /// @dev from <= value <= to, and value - from = floor((to - from) x elapsed / span), stated without
    /// dividing: (value - from) x span <= (to - from) x elapsed < (value - from + 1) x span.
    function _checkFloor(
        uint64 from,
        uint64 to,
        uint64 value,
        uint256 elapsed,
        uint256 span,
        string memory what
    ) internal pure {
        vm.assertGe(value, from, string.concat(what, " >= earlier"));
        vm.assertLe(value, to, string.concat(what, " <= later"));
        uint256 scaled = uint256(to - from) * elapsed;
        vm.assertLe(uint256(value - from) * span, scaled, string.concat(what, " rounded down"));
        vm.assertGt(uint256(value - from + 1) * span, scaled, string.concat(what, " by less than one"));
    }

    function testFuzz_interpolateIsMonotoneInTime(
        uint64[4] memory from,
        uint64[3] memory deltas,
        uint64 span,
        uint64 a,
        uint64 b
    ) public pure {
        span = uint64(bound(span, 1, type(uint64).max - 1));
        uint64 t0 = uint64(bound(from[0], 0, type(uint64).max - span));
        Meter memory e = Meter(t0, from[1], from[2], from[3]);
        Meter memory l = Meter(
            t0 + span,
            uint64(bound(deltas[0], 0, type(uint64).max - from[1])) + from[1],
            uint64(bound(deltas[1], 0, type(uint64).max - from[2])) + from[2],
            uint64(bound(deltas[2], 0, type(uint64).max - from[3])) + from[3]
        );
        a = uint64(bound(a, 1, span));
        b = uint64(bound(b, a, span));
        Meter memory ma = MeterMath.interpolate(e, l, t0 + a);
        Meter memory mb = MeterMath.interpolate(e, l, t0 + b);
        vm.assertLe(ma.busyGpuSeconds, mb.busyGpuSeconds, "busy never decreases");
        vm.assertLe(ma.availableGpuSeconds, mb.availableGpuSeconds, "available never decreases");
        vm.assertLe(ma.energyJ, mb.energyJ, "energy never decreases");
    }

    function testFuzz_interpolationSplitsAPossiblePairIntoPossibleHalves(
        uint64 t0,
        uint256 dt,
        uint16 gpuCount,
        uint16 tdp,
        uint16 margin,
        uint256[3] memory base,
        uint256[3] memory fractions,
        uint256 at
    ) public pure {
        // A window's meters are as physical as the readings they come from: the first half of a split
        // possible pair is always possible (each counter rounded down stays within floor(bound x elapsed));
        // the second half too, except that energy may exceed its bound by the one joule rounding moved.
        Pair memory p = _pair(t0, dt, gpuCount, tdp, margin, base, fractions);
        uint64 t = uint64(bound(at, p.earlier.timestamp + 1, p.later.timestamp));
        Meter memory m = MeterMath.interpolate(p.earlier, p.later, t);
        vm.assertTrue(MeterMath.isPossible(p.earlier, m, p.gpuCount, p.tdp, p.margin), "first half");
        if (t == p.later.timestamp) return;
        if (MeterMath.isPossible(m, p.later, p.gpuCount, p.tdp, p.margin)) return;
        uint256 cap = uint256(p.gpuCount) * (p.later.timestamp - t);
        uint256 maxE = (cap * p.tdp * (BPS + p.margin)) / BPS;
        uint256 busy = p.later.busyGpuSeconds - m.busyGpuSeconds;
        uint256 available = p.later.availableGpuSeconds - m.availableGpuSeconds;
        vm.assertLe(busy, available, "second half: busy <= available");
        vm.assertLe(available, cap, "second half: available <= capacity");
        vm.assertEq(p.later.energyJ - m.energyJ, maxE + 1, "second half: energy at most one joule over");
    }

    function _copy(Meter memory m) internal pure returns (Meter memory) {
        return Meter(m.timestamp, m.busyGpuSeconds, m.availableGpuSeconds, m.energyJ);
    }
}
