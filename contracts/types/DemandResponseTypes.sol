// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Meter, MeterBoundary } from "./OracleTypes.sol";

/// @notice How an event's baseline (the power the asset would have drawn without the event) is measured.
/// Both rules average the metered power over a window that ends at or before the notice, so nothing
/// an operator does after learning of the event can move its baseline.
enum BaselineRule {
    /// Meter Before / Meter After: the average power over the `baselineWindowSeconds` (whole 15-minute
    /// settlement intervals) ending at the last interval boundary at or before the notice, compared
    /// with the energy metered during the event.
    PreNotice,
    /// Prior day: the average power over the event's own clock window one day earlier
    /// ([start − 1 day, end − 1 day]); that window must end at or before the notice.
    PriorDay
}

/// @notice What proving an asset's reduction for an event found (`IDemandResponseProgramme.outcomeOf`).
enum OutcomeStatus {
    /// Not proven yet.
    None,
    /// A reduction was proven and credited (reduction × rate, owed from the event's reservation and
    /// paid by `claimOwnerCredit` / `claimLesseeCredit`).
    Credited,
    /// The metered energy was not below the baseline: nothing paid, recorded as non-compliance.
    NoReduction,
    /// The event's energy is not proven (a reading pair around a boundary is physically impossible,
    /// or the energy metered is beyond what the asset can draw): nothing paid, recorded as non-compliance.
    Unproven,
    /// Proven after the claim window (or after the event's reservation was released): recorded for
    /// the escrow's bills, nothing paid.
    Late
}

/// @notice A programme: one sponsor (grid operator or aggregator), one stablecoin, one deposit, a roster
/// of enrolled assets (a grid region or any portfolio the sponsor calls together) and its events.
struct Programme {
    // slot 0
    /// Who created it: the only account that may fund-withdraw, enrol, announce and cancel.
    address sponsor;
    /// Events announced so far (event indices run from 1).
    uint32 eventCount;
    /// Assets enrolled now: each is called by every event announced while it is enrolled.
    uint8 activeMembers;
    /// End of the latest event: a new event may not start before it (a programme's events never overlap).
    uint40 lastEventEnd;
    // slot 1
    /// The stablecoin deposited and paid out.
    address token;
    /// Deposited and not reserved by any event: what the sponsor may withdraw or commit to new events.
    uint96 available;
}

/// @notice An asset's membership of a programme. It is called by the events with an index in
/// [firstEvent, endEvent) (endEvent 0 while it is still enrolled). An asset is enrolled once per programme.
struct Member {
    /// The first event index that calls it (the programme's event count + 1 at enrolment); 0: never enrolled.
    uint32 firstEvent;
    /// The first event index that no longer calls it (set when removed); 0 while enrolled.
    uint32 endEvent;
    /// The share of each credit the asset's lessee receives, basis points, set by the asset's owner
    /// (fixed for an event when the lessee checks in).
    uint16 lesseeShareBps;
}

/// @notice Where an event is in its life.
enum EventStatus {
    /// Announced: it calls every member enrolled at the announcement.
    Announced,
    /// Cancelled before it started: its reservation went back to the sponsor, and its window collapsed
    /// to an empty one at the end of the event before it (so the programme's events stay in order).
    Cancelled,
    /// Its claim window passed and its unclaimed reservation went back to the sponsor.
    Released
}

/// @notice One curtailment event, as stored (one slot). Times in seconds; energy in joules; the rate in
/// token base units per kWh reduced.
struct CurtailmentEvent {
    // slot 0
    /// When the curtailment starts.
    uint40 startTime;
    /// start − notice: how much warning the participants had.
    uint24 noticeLeadSeconds;
    /// end − start.
    uint24 durationSeconds;
    /// How the baseline is measured.
    BaselineRule baselineRule;
    /// The pre-notice window of `BaselineRule.PreNotice` (0 for `PriorDay`).
    uint24 baselineWindowSeconds;
    /// Assets called (enrolled at the announcement): the event reserved the largest credit for each.
    uint8 memberCount;
    /// Assets whose reduction was proven inside the claim window (their reservation slice is settled).
    uint8 provenCount;
    /// Announced, cancelled or released.
    EventStatus status;
    /// Pay per kWh reduced, token base units.
    uint64 ratePerKWh;
    /// The most reduction paid per asset, joules.
    uint40 committedReductionJ;
}

/// @notice An announcement, as the sponsor gives it.
struct EventParams {
    /// When the sponsor instructed the curtailment: at most the announcement time, and at most
    /// `MAX_NOTICE_DELAY_SECONDS` before it.
    uint64 noticeTime;
    /// When the curtailment starts: at least `MIN_NOTICE_SECONDS` after the notice, after the
    /// announcement and after every reading the oracle has accepted.
    uint64 startTime;
    /// When it ends: `MIN_EVENT_SECONDS` to `MAX_EVENT_SECONDS` after the start.
    uint64 endTime;
    /// Pay per kWh reduced, token base units (non-zero, at most 2^64 − 1).
    uint256 ratePerKWh;
    /// The most reduction paid per asset, joules (non-zero, at most 2^40 − 1).
    uint256 committedReductionJ;
    /// How the baseline is measured.
    BaselineRule baselineRule;
    /// For `PreNotice`: the window before the notice, whole 15-minute intervals, `MIN_BASELINE_SECONDS`
    /// to `MAX_BASELINE_SECONDS`; for `PriorDay`: 0.
    uint64 baselineWindowSeconds;
}

/// @notice What proving an asset's reduction recorded (one slot).
struct Outcome {
    /// What the proof found.
    OutcomeStatus status;
    /// The asset's cumulative available GPU-seconds at the event start (`IUsageOracle.meterWindow` start).
    uint48 availableAtStart;
    /// Its cumulative available GPU-seconds at the event end.
    uint48 availableAtEnd;
    /// The credit owed (owner's and lessee's parts together), token base units.
    uint96 credit;
    /// Whether the owner's part was paid (or returned to the sponsor for a burned asset).
    bool ownerPaid;
    /// Whether the checked-in lessee's part was paid.
    bool lesseePaid;
}

/// @notice The lessee who checked in for an asset during an event, and the share it was promised then.
struct Participant {
    /// The NFT's user (ERC-4907) at check-in: the lessee holding the asset during the event.
    address account;
    /// The asset's lessee share at check-in, basis points.
    uint16 shareBps;
}

/// @notice The oracle proofs of one reduction claim: the asset's meter at the four boundaries.
/// @dev Each boundary is the first reading at or after the time and the reading it links to
/// (`src/demandResponse.ts` `reductionProofs` builds them from chain data).
struct ReductionProofs {
    MeterBoundary baselineStart;
    MeterBoundary baselineEnd;
    MeterBoundary eventStart;
    MeterBoundary eventEnd;
}

/// @notice What a reduction is computed from (`DemandResponseMath.reduction`): four proven meters and
/// the event's terms.
struct ReductionInput {
    /// The meter at the baseline window's start.
    Meter baselineFrom;
    /// The meter at the baseline window's end.
    Meter baselineTo;
    /// The meter at the event start.
    Meter eventFrom;
    /// The meter at the event end.
    Meter eventTo;
    /// Whether both event meters come from physically possible reading pairs.
    bool eventProven;
    /// The most power the asset can draw: gpuCount × TDP × (1 + the oracle's largest margin), watts.
    uint256 maxPowerW;
    /// The most reduction paid, joules.
    uint256 committedReductionJ;
    /// Pay per kWh reduced, token base units.
    uint256 ratePerKWh;
}

/// @notice What proving a reduction computed (the `ReductionProven` event and `DemandResponseMath`).
struct Reduction {
    /// What the proof found.
    OutcomeStatus status;
    /// The energy the asset would have drawn during the event at its baseline power, joules.
    uint256 baselineJ;
    /// The energy metered during the event, joules.
    uint256 meteredJ;
    /// baselineJ − meteredJ, capped at the committed reduction (0 when not positive), joules.
    uint256 reductionJ;
    /// reductionJ × rate, token base units, rounded down.
    uint256 credit;
}

/// @notice What the escrow asks the programme about a curtailable lease (`curtailedGpuSeconds`'s
/// arguments, gathered in memory by the programme).
struct CurtailmentQuery {
    /// The leased asset.
    uint256 assetId;
    /// The programme its terms follow.
    uint32 programmeId;
    /// The lease start.
    uint64 leaseStart;
    /// The lease end (truncated by an early end).
    uint64 leaseEnd;
    /// The billing point (the meter time the bill reaches).
    uint64 point;
    /// The asset's cumulative available GPU-seconds at the lease start (the escrow's start meter).
    uint64 startAvailableGpuSeconds;
    /// The asset's cumulative available GPU-seconds at the point (the escrow's point meter).
    uint64 pointAvailableGpuSeconds;
    /// The terms' cap on events per lease.
    uint8 maxEvents;
    /// The terms' cap on event seconds per lease (each counted event's whole duration).
    uint32 maxEventSeconds;
}

/// @notice An asset's cumulative available GPU-seconds at a time (one end of a curtailed span).
struct AvailableAt {
    /// Unix seconds.
    uint64 time;
    /// The available meter at `time`.
    uint64 availableGpuSeconds;
}
