// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AvailableAt, BaselineRule, OutcomeStatus, Reduction, ReductionInput } from "../types/DemandResponseTypes.sol";

/// @title DemandResponseMath — baselines, reductions, credits and curtailed time, as pure functions
/// @notice No storage. A reduction is a pure function of four proven meters (the baseline window's
/// start and end, the event's start and end) and the event's terms; the GPU-seconds an event curtails
/// in a lease are a pure function of the meters at the event and lease boundaries.
/// @dev Rounding: the baseline and the credit round down (against the participant: only proven energy
/// is paid for); the curtailed GPU-seconds are plain differences of meters.
library DemandResponseMath {
    /// @notice Joules in one kWh: rates are per kWh reduced, meters count joules.
    uint256 internal constant JOULES_PER_KWH = 3_600_000;
    /// @notice Basis points in 100 %.
    uint256 internal constant BPS = 10_000;
    /// @notice Seconds in one day (the `PriorDay` rule's offset).
    uint64 internal constant DAY_SECONDS = 86_400;
    /// @notice The largest energy margin over TDP the oracle accepts (`IUsageOracle.MAX_ENERGY_MARGIN_BPS`).
    uint256 internal constant MAX_ENERGY_MARGIN_BPS = 5_000;

    /// @notice The settlement interval: baseline windows are whole intervals (ERCOT settles in 15-minute
    /// intervals), so a feeder posting on this grid gives every baseline boundary an exact reading.
    uint64 internal constant INTERVAL_SECONDS = 900;

    /// @notice The baseline window of an event, [from, to], by its rule.
    /// @dev PreNotice: the `windowSeconds` (whole intervals) ending at the last interval boundary at or
    /// before the notice: to = notice − notice mod 900, from = to − windowSeconds. PriorDay:
    /// [start − 1 day, end − 1 day]. The caller checked that the window ends at or before the notice.
    /// @param rule The baseline rule.
    /// @param noticeTime When the curtailment was instructed.
    /// @param startTime The event start.
    /// @param endTime The event end.
    /// @param windowSeconds The PreNotice window.
    /// @return from The window start.
    /// @return to The window end.
    function baselineWindow(
        BaselineRule rule,
        uint64 noticeTime,
        uint64 startTime,
        uint64 endTime,
        uint64 windowSeconds
    ) internal pure returns (uint64 from, uint64 to) {
        if (rule == BaselineRule.PreNotice) {
            to = noticeTime - (noticeTime % INTERVAL_SECONDS);
            return (to - windowSeconds, to);
        }
        return (startTime - DAY_SECONDS, endTime - DAY_SECONDS);
    }

    /// @notice The most power an asset can draw: gpuCount × TDP × (1 + 50 %), the oracle's largest
    /// energy margin, watts, rounded down.
    /// @param gpuCount GPUs in the asset.
    /// @param tdpWattsPerGpu TDP per GPU, watts.
    /// @return Watts.
    function maxPowerW(uint16 gpuCount, uint16 tdpWattsPerGpu) internal pure returns (uint256) {
        return (uint256(gpuCount) * tdpWattsPerGpu * (BPS + MAX_ENERGY_MARGIN_BPS)) / BPS;
    }

    /// @notice The reduction of one asset during one event, from its proven meters.
    /// @dev baseline = the baseline window's energy ÷ its seconds × the event's seconds (the average
    /// baseline power held over the event), the window's energy clamped to `maxPowerW` × its seconds
    /// (so no reading, however wrong, inflates a baseline); metered = the event's energy. When the
    /// event's energy is not proven — `eventProven` false (an impossible reading pair around a
    /// boundary), a counter that went backwards, or more than `maxPowerW` × the event's seconds — the
    /// status is `Unproven` and nothing is credited. Otherwise reduction = baseline − metered, capped at
    /// the committed reduction (`NoReduction` when the credit would be 0), and
    /// credit = reduction × rate ÷ 1 kWh.
    /// @param input The meters and the event's terms.
    /// @return r The reduction.
    function reduction(ReductionInput memory input) internal pure returns (Reduction memory r) {
        uint256 windowSeconds = input.baselineTo.timestamp - input.baselineFrom.timestamp;
        uint256 eventSeconds = input.eventTo.timestamp - input.eventFrom.timestamp;
        uint256 windowJ = clampedDelta(
            input.baselineFrom.energyJ,
            input.baselineTo.energyJ,
            input.maxPowerW * windowSeconds
        );
        r.baselineJ = windowSeconds == 0 ? 0 : (windowJ * eventSeconds) / windowSeconds;
        if (!input.eventProven || input.eventTo.energyJ < input.eventFrom.energyJ) {
            r.status = OutcomeStatus.Unproven;
            return r;
        }
        r.meteredJ = input.eventTo.energyJ - input.eventFrom.energyJ;
        if (r.meteredJ > input.maxPowerW * eventSeconds) {
            r.meteredJ = 0;
            r.status = OutcomeStatus.Unproven;
            return r;
        }
        if (r.baselineJ > r.meteredJ) {
            uint256 reduced = r.baselineJ - r.meteredJ;
            r.reductionJ = reduced < input.committedReductionJ ? reduced : input.committedReductionJ;
            r.credit = creditOf(r.reductionJ, input.ratePerKWh);
        }
        r.status = r.credit == 0 ? OutcomeStatus.NoReduction : OutcomeStatus.Credited;
    }

    /// @notice Pay for a reduction: joules × rate per kWh ÷ 3.6e6, rounded down.
    /// @param reductionJ The reduction, joules.
    /// @param ratePerKWh Pay per kWh reduced.
    /// @return Token base units.
    function creditOf(uint256 reductionJ, uint256 ratePerKWh) internal pure returns (uint256) {
        return (reductionJ * ratePerKWh) / JOULES_PER_KWH;
    }

    /// @notice The lessee's and the owner's parts of a credit; the lessee's rounds down.
    /// @param credit The credit.
    /// @param lesseeShareBps The lessee's share, basis points (at most 10000).
    /// @return toLessee The lessee's part.
    /// @return toOwner The rest.
    function split(uint256 credit, uint16 lesseeShareBps) internal pure returns (uint256 toLessee, uint256 toOwner) {
        toLessee = (credit * lesseeShareBps) / BPS;
        toOwner = credit - toLessee;
    }

    /// @notice The available GPU-seconds one event curtails in a lease up to a billing point: the
    /// growth of the available meter over [max(event start, lease start), min(event end, point)].
    /// @dev Each end of that span takes the meter at that time: the event's own recorded meter when
    /// the span ends at an event boundary, the lease's meter when it ends at the lease start or the
    /// point. Zero when the span is empty or the meter did not grow. As the point moves through the
    /// event, the curtailed seconds grow exactly as the lease's available meter does, so the reservable
    /// GPU-seconds (available − curtailed) never decrease: the bill stays monotone.
    /// @param eventStart The event start and the available meter then.
    /// @param eventEnd The event end and the available meter then.
    /// @param leaseStart The lease start and the available meter then.
    /// @param point The billing point and the available meter then.
    /// @return GPU-seconds.
    function curtailedInLease(
        AvailableAt memory eventStart,
        AvailableAt memory eventEnd,
        AvailableAt memory leaseStart,
        AvailableAt memory point
    ) internal pure returns (uint256) {
        AvailableAt memory from = eventStart.time < leaseStart.time ? leaseStart : eventStart;
        AvailableAt memory to = eventEnd.time > point.time ? point : eventEnd;
        if (!(to.time > from.time) || !(to.availableGpuSeconds > from.availableGpuSeconds)) return 0;
        return to.availableGpuSeconds - from.availableGpuSeconds;
    }

    /// @notice to − from, clamped to [0, max].
    /// @param from The earlier counter.
    /// @param to The later counter.
    /// @param max The most the difference may be.
    /// @return The clamped difference.
    function clampedDelta(uint64 from, uint64 to, uint256 max) internal pure returns (uint256) {
        if (!(to > from)) return 0;
        uint256 delta = to - from;
        return delta < max ? delta : max;
    }
}
