// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IUsageOracle } from "./IUsageOracle.sol";
import { IGpuAssetNFT } from "./IGpuAssetNFT.sol";
import { CurtailmentTerms } from "../types/EscrowTypes.sol";
import {
    BaselineRule,
    CurtailmentEvent,
    EventParams,
    Member,
    Outcome,
    OutcomeStatus,
    Participant,
    Programme,
    Reduction,
    ReductionProofs
} from "../types/DemandResponseTypes.sol";

/// @title IDemandResponseProgramme — curtailment events paid per kWh reduced, proven from the oracle's meters
/// @notice A sponsor (grid operator or aggregator, `SPONSOR_ROLE`) creates a programme in one
/// stablecoin, deposits into it, enrols assets (its roster: a grid region, or any set of assets it
/// calls together) and announces curtailment events: notice, start, end, pay per kWh reduced, the most
/// reduction paid per asset and the baseline rule. Announcing reserves, from the deposit, the largest
/// credit of every enrolled asset, so every proven reduction is paid in full and the sponsor can never
/// pay out more than it deposited. After the event anyone proves an asset's reduction from the
/// UsageOracle's meters: baseline = the average power over a window before the notice, reduction =
/// baseline energy − metered energy during the event, capped at the committed reduction, credit =
/// reduction × rate. The credit is paid (by pull) to the asset's owner, less the share promised to the
/// lessee who checked in during the event. No reduction earns nothing and is recorded as non-compliance.
/// @dev Dependencies point one way: the programme reads the oracle (meters) and the NFT (owners, users,
/// spec); the escrow reads the programme (`curtailedGpuSeconds`) to stop billing curtailed time;
/// nothing here reads the escrow. Pause stops new business (create, deposit, enrol, announce) and
/// never exits (withdrawals, proofs, check-ins, releases, cancellations).
///
/// A programme's events never overlap and are announced in start order (each starts at or after the
/// previous one's end), so the events of a lease are found by binary search. An event may start only
/// after every reading the oracle has accepted, so no lease bill computed before the announcement
/// reaches into it: the escrow's bills stay a pure function of the meters and of the recorded events.
interface IDemandResponseProgramme {
    // ---------------------------------------------------------------- errors

    /// @notice A zero address was given where an account or contract is required.
    error ZeroAddress();
    /// @notice A zero amount was given.
    error ZeroAmount();
    /// @notice No programme has this id.
    /// @param programmeId The id.
    error UnknownProgramme(uint32 programmeId);
    /// @notice The caller is not the programme's sponsor.
    /// @param programmeId The programme.
    /// @param caller The caller.
    error NotSponsor(uint32 programmeId, address caller);
    /// @notice The token delivered a different amount than was sent (fee-on-transfer or rebasing).
    /// @param token The token.
    /// @param expected Amount sent.
    /// @param received Amount that arrived.
    error TransferAmountMismatch(address token, uint256 expected, uint256 received);
    /// @notice The programme's unreserved funds do not cover the amount.
    /// @param programmeId The programme.
    /// @param needed The amount needed.
    /// @param available The unreserved funds.
    error InsufficientFunds(uint32 programmeId, uint256 needed, uint256 available);
    /// @notice The asset id does not fit the oracle's 32-bit reading field: it could never be metered.
    /// @param assetId The asset.
    error AssetNotMeterable(uint256 assetId);
    /// @notice The asset is (or was) enrolled in the programme: an asset is enrolled once per programme.
    /// @param programmeId The programme.
    /// @param assetId The asset.
    error AlreadyEnrolled(uint32 programmeId, uint256 assetId);
    /// @notice The asset is not enrolled in the programme now.
    /// @param programmeId The programme.
    /// @param assetId The asset.
    error NotEnrolled(uint32 programmeId, uint256 assetId);
    /// @notice The programme already has `MAX_MEMBERS` enrolled assets.
    /// @param programmeId The programme.
    /// @param max The maximum.
    error TooManyMembers(uint32 programmeId, uint256 max);
    /// @notice The programme has no enrolled asset to call.
    /// @param programmeId The programme.
    error NoMembers(uint32 programmeId);
    /// @notice The caller is neither the NFT's owner nor an operator the owner approved.
    /// @param assetId The asset.
    /// @param caller The caller.
    error NotAssetOperator(uint256 assetId, address caller);
    /// @notice A lessee share above 10000 bps.
    /// @param lesseeShareBps The share.
    error InvalidLesseeShare(uint16 lesseeShareBps);
    /// @notice The lessee share already has this value.
    /// @param programmeId The programme.
    /// @param assetId The asset.
    /// @param lesseeShareBps The share.
    error LesseeShareUnchanged(uint32 programmeId, uint256 assetId, uint16 lesseeShareBps);
    /// @notice The notice time is later than the announcement, or more than `MAX_NOTICE_DELAY_SECONDS`
    /// before it.
    /// @param noticeTime The notice time.
    /// @param earliest The earliest notice time allowed now.
    /// @param latest The latest (the block time).
    error InvalidNoticeTime(uint64 noticeTime, uint64 earliest, uint64 latest);
    /// @notice The start is outside [earliest, latest]: earliest is the latest of notice +
    /// `MIN_NOTICE_SECONDS`, one second after the block time, one second after the latest reading the
    /// oracle accepted (so no lease can already have been billed past it), and the programme's previous
    /// event end (its events never overlap); latest is notice + `MAX_NOTICE_LEAD_SECONDS`.
    /// @param startTime The start.
    /// @param earliest The earliest start allowed.
    /// @param latest The latest start allowed.
    error InvalidStartTime(uint64 startTime, uint64 earliest, uint64 latest);
    /// @notice The event lasts less than `MIN_EVENT_SECONDS` or more than `MAX_EVENT_SECONDS`.
    /// @param durationSeconds The duration (0 when the end is not after the start).
    error InvalidEventDuration(uint64 durationSeconds);
    /// @notice The rate is zero or above 2^64 − 1.
    /// @param ratePerKWh The rate.
    error InvalidRate(uint256 ratePerKWh);
    /// @notice The committed reduction is zero or above 2^40 − 1 J.
    /// @param committedReductionJ The committed reduction.
    error InvalidCommittedReduction(uint256 committedReductionJ);
    /// @notice The baseline window does not fit the rule: `PreNotice` needs whole 15-minute intervals,
    /// `MIN_BASELINE_SECONDS` to `MAX_BASELINE_SECONDS`; `PriorDay` needs 0, and its window must end at
    /// or before the notice.
    /// @param rule The rule.
    /// @param baselineWindowSeconds The given window.
    error InvalidBaselineWindow(BaselineRule rule, uint64 baselineWindowSeconds);
    /// @notice No event of the programme has this index.
    /// @param programmeId The programme.
    /// @param eventIndex The index.
    error UnknownEvent(uint32 programmeId, uint32 eventIndex);
    /// @notice The event was cancelled.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    error CancelledEvent(uint32 programmeId, uint32 eventIndex);
    /// @notice Only the programme's latest event can be cancelled.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param latest The latest event's index.
    error NotLatestEvent(uint32 programmeId, uint32 eventIndex, uint32 latest);
    /// @notice The event has started, or a reading at or after its start exists: too late to cancel.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param startTime Its start.
    error EventStarted(uint32 programmeId, uint32 eventIndex, uint64 startTime);
    /// @notice Check-in is open only while the event runs, [start, end).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param startTime Its start.
    /// @param endTime Its end.
    error NotDuringEvent(uint32 programmeId, uint32 eventIndex, uint64 startTime, uint64 endTime);
    /// @notice A lessee already checked in for the asset.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param participant Who checked in.
    error AlreadyCheckedIn(uint32 programmeId, uint32 eventIndex, uint256 assetId, address participant);
    /// @notice The asset has no user (lessee) now.
    /// @param assetId The asset.
    error NoLessee(uint256 assetId);
    /// @notice The event does not call the asset (it was not enrolled when the event was announced).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    error NotCalled(uint32 programmeId, uint32 eventIndex, uint256 assetId);
    /// @notice The event has not ended yet.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param endTime Its end.
    error EventNotOver(uint32 programmeId, uint32 eventIndex, uint64 endTime);
    /// @notice The asset's outcome for the event is already recorded.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    error AlreadyProven(uint32 programmeId, uint32 eventIndex, uint256 assetId);
    /// @notice A boundary proof is absent, or proves the meter at another time than the boundary.
    /// @param expected The boundary time.
    /// @param proven The time proven (0: absent).
    error MeterNotAtBoundary(uint64 expected, uint64 proven);
    /// @notice The event's claim window is still open.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param closesAt When it closes.
    error ClaimWindowOpen(uint32 programmeId, uint32 eventIndex, uint64 closesAt);
    /// @notice The event's reservation was already released.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    error AlreadyReleased(uint32 programmeId, uint32 eventIndex);
    /// @notice The asset's outcome for the event is not `Credited`: there is no credit to pay.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    error NotCredited(uint32 programmeId, uint32 eventIndex, uint256 assetId);
    /// @notice The part was already paid.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param lesseePart True for the lessee's part, false for the owner's.
    error AlreadyPaid(uint32 programmeId, uint32 eventIndex, uint256 assetId, bool lesseePart);
    /// @notice Nobody checked in for the asset during the event, or its share is 0: no lessee part.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    error NoLesseePart(uint32 programmeId, uint32 eventIndex, uint256 assetId);
    /// @notice `proveReductions` got no asset, or not one proof per asset.
    /// @param assets The number of assets.
    /// @param proofs The number of proofs.
    error ProofCountMismatch(uint256 assets, uint256 proofs);
    /// @notice A lease cannot be billed past the start of a counted event until the asset's outcome for
    /// it is recorded (`proveReduction`, by anyone, once the event is over).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    error OutcomeNotRecorded(uint32 programmeId, uint32 eventIndex, uint256 assetId);

    // ---------------------------------------------------------------- events

    /// @notice A programme was created.
    /// @param programmeId The new programme.
    /// @param sponsor Its sponsor.
    /// @param token Its stablecoin.
    event ProgrammeCreated(uint32 indexed programmeId, address indexed sponsor, address token);
    /// @notice A programme was funded.
    /// @param programmeId The programme.
    /// @param payer Who paid.
    /// @param amount Amount received.
    event ProgrammeFunded(uint32 indexed programmeId, address indexed payer, uint256 amount);
    /// @notice The sponsor withdrew unreserved funds.
    /// @param programmeId The programme.
    /// @param to The recipient.
    /// @param amount The amount.
    event FundsWithdrawn(uint32 indexed programmeId, address indexed to, uint256 amount);
    /// @notice An asset was enrolled: the programme's events from `firstEvent` on call it.
    /// @param programmeId The programme.
    /// @param assetId The asset.
    /// @param firstEvent The first event index that calls it.
    event AssetEnrolled(uint32 indexed programmeId, uint256 indexed assetId, uint32 firstEvent);
    /// @notice An asset was removed: events from `endEvent` on no longer call it.
    /// @param programmeId The programme.
    /// @param assetId The asset.
    /// @param endEvent The first event index that no longer calls it.
    event AssetRemoved(uint32 indexed programmeId, uint256 indexed assetId, uint32 endEvent);
    /// @notice The asset's owner set the share of each credit its lessee receives.
    /// @param programmeId The programme.
    /// @param assetId The asset.
    /// @param lesseeShareBps The share, basis points.
    event LesseeShareSet(uint32 indexed programmeId, uint256 indexed assetId, uint16 lesseeShareBps);
    /// @notice An event was announced.
    /// @param programmeId The programme.
    /// @param eventIndex The event's index in the programme.
    /// @param params The announcement.
    /// @param memberCount Assets called.
    /// @param reserved The largest credit of every asset called, taken from the unreserved funds.
    event EventAnnounced(
        uint32 indexed programmeId,
        uint32 indexed eventIndex,
        EventParams params,
        uint8 memberCount,
        uint256 reserved
    );
    /// @notice An event was cancelled before it started; its reservation went back to the sponsor.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param released The reservation returned.
    event EventCancelled(uint32 indexed programmeId, uint32 indexed eventIndex, uint256 released);
    /// @notice The lessee holding an asset during an event checked in for its share of the credit.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param participant The NFT's user at check-in.
    /// @param shareBps The share promised, basis points.
    event CheckedIn(
        uint32 indexed programmeId,
        uint32 indexed eventIndex,
        uint256 indexed assetId,
        address participant,
        uint16 shareBps
    );
    /// @notice An asset's reduction for an event was proven and its outcome recorded; a credit is owed
    /// to the owner and the checked-in lessee (`claimOwnerCredit`, `claimLesseeCredit`).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param reduction What was proven (status, baseline, metered, reduction, credit).
    event ReductionProven(
        uint32 indexed programmeId,
        uint32 indexed eventIndex,
        uint256 indexed assetId,
        Reduction reduction
    );
    /// @notice An asset called by an event did not reduce below its baseline (`NoReduction`), or its
    /// event energy is not proven (`Unproven`): nothing was paid.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param status `NoReduction` or `Unproven`.
    /// @param baselineJ The baseline energy, joules.
    /// @param meteredJ The metered energy, joules.
    event NonCompliance(
        uint32 indexed programmeId,
        uint32 indexed eventIndex,
        uint256 indexed assetId,
        OutcomeStatus status,
        uint256 baselineJ,
        uint256 meteredJ
    );
    /// @notice An event's claim window passed: what no proof claimed went back to the sponsor.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param released The amount returned to the unreserved funds.
    event EventReleased(uint32 indexed programmeId, uint32 indexed eventIndex, uint256 released);
    /// @notice A part of a credit was paid.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param to The recipient: the NFT's owner now, or the lessee who checked in.
    /// @param amount The amount.
    /// @param lesseePart True for the lessee's part.
    event CreditPaid(
        uint32 indexed programmeId,
        uint32 indexed eventIndex,
        uint256 indexed assetId,
        address to,
        uint256 amount,
        bool lesseePart
    );
    /// @notice The owner's part of a credit went back to the sponsor's unreserved funds: the asset was
    /// burned, so it has no owner to pay.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param amount The amount.
    event CreditReturned(
        uint32 indexed programmeId,
        uint32 indexed eventIndex,
        uint256 indexed assetId,
        uint256 amount
    );

    // ---------------------------------------------------------------- roles and constants

    /// @notice Role that may create programmes, enrol assets and announce events.
    /// @return The role id.
    function SPONSOR_ROLE() external view returns (bytes32);

    /// @notice Role that pauses and unpauses new business.
    /// @return The role id.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The fewest seconds between the notice and the start (ERCOT's fastest ERS product: 10 minutes).
    /// @return Seconds.
    function MIN_NOTICE_SECONDS() external view returns (uint64);

    /// @notice The most seconds between the notice and the start.
    /// @return Seconds.
    function MAX_NOTICE_LEAD_SECONDS() external view returns (uint64);

    /// @notice How long before its announcement a notice may have been given.
    /// @return Seconds.
    function MAX_NOTICE_DELAY_SECONDS() external view returns (uint64);

    /// @notice The shortest event.
    /// @return Seconds.
    function MIN_EVENT_SECONDS() external view returns (uint64);

    /// @notice The longest event.
    /// @return Seconds.
    function MAX_EVENT_SECONDS() external view returns (uint64);

    /// @notice The shortest `PreNotice` baseline window.
    /// @return Seconds.
    function MIN_BASELINE_SECONDS() external view returns (uint64);

    /// @notice The longest `PreNotice` baseline window.
    /// @return Seconds.
    function MAX_BASELINE_SECONDS() external view returns (uint64);

    /// @notice How long after an event's end its reductions are paid; later proofs are recorded (for the
    /// escrow's bills) but paid nothing, and the unclaimed reservation can be released.
    /// @return Seconds.
    function CLAIM_WINDOW_SECONDS() external view returns (uint64);

    /// @notice The most assets enrolled in one programme at a time.
    /// @return The maximum.
    function MAX_MEMBERS() external view returns (uint256);

    /// @notice The oracle whose meters prove reductions.
    /// @return The oracle.
    function oracle() external view returns (IUsageOracle);

    /// @notice The NFT of the assets (the oracle's).
    /// @return The NFT.
    function nft() external view returns (IGpuAssetNFT);

    // ---------------------------------------------------------------- programmes and funds

    /// @notice Creates a programme in `token`, sponsored by the caller. Sponsor role only.
    /// @param token The stablecoin deposits and credits are in.
    /// @return programmeId The new programme (ids run from 1).
    function createProgramme(address token) external returns (uint32 programmeId);

    /// @notice Deposits into a programme (anyone may pay; only the sponsor withdraws).
    /// @param programmeId The programme.
    /// @param amount The amount, pulled by allowance; the programme's funds stay within 2^96 − 1.
    function deposit(uint32 programmeId, uint256 amount) external;

    /// @notice Withdraws unreserved funds. The programme's sponsor only.
    /// @param programmeId The programme.
    /// @param amount The amount, at most the unreserved funds.
    /// @param to The recipient.
    function withdrawFunds(uint32 programmeId, uint256 amount, address to) external;

    // ---------------------------------------------------------------- roster

    /// @notice Enrols an asset: every event announced from now on calls it. The sponsor only (with the
    /// sponsor role). An asset is enrolled at most once per programme.
    /// @param programmeId The programme.
    /// @param assetId The asset (an existing NFT, id below 2^32).
    function enroll(uint32 programmeId, uint256 assetId) external;

    /// @notice Removes an asset: events announced from now on no longer call it (earlier ones still do).
    /// The sponsor only.
    /// @param programmeId The programme.
    /// @param assetId The asset.
    function removeMember(uint32 programmeId, uint256 assetId) external;

    /// @notice Sets the share of each of the asset's credits that the lessee who checks in during an
    /// event receives. The NFT's owner or an approved operator only; applies to check-ins from now on.
    /// @param programmeId The programme.
    /// @param assetId The asset (enrolled now).
    /// @param lesseeShareBps The share, at most 10000 bps.
    function setLesseeShare(uint32 programmeId, uint256 assetId, uint16 lesseeShareBps) external;

    // ---------------------------------------------------------------- events

    /// @notice Announces a curtailment event calling every asset enrolled now, and reserves the largest
    /// credit of each (committed reduction × rate) from the unreserved funds. The sponsor only (with the
    /// sponsor role).
    /// @dev The rules on times are those of `EventParams`; the start must exceed the oracle's
    /// `lastBatchTimestamp` and the programme's previous event end.
    /// @param programmeId The programme.
    /// @param params The announcement.
    /// @return eventIndex The event's index in the programme (from 1).
    function announce(uint32 programmeId, EventParams calldata params) external returns (uint32 eventIndex);

    /// @notice Cancels the programme's latest event before it starts (and before any reading at or after
    /// its start exists); its reservation goes back to the unreserved funds. The sponsor only.
    /// @param programmeId The programme.
    /// @param eventIndex The event (the latest).
    function cancel(uint32 programmeId, uint32 eventIndex) external;

    /// @notice Records the asset's current NFT user (its lessee) as the event's participant for the
    /// asset, with the asset's lessee share now. Anyone, while the event runs; the first check-in stands.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset (called by the event).
    function checkIn(uint32 programmeId, uint32 eventIndex, uint256 assetId) external;

    /// @notice Proves an asset's reduction for an ended event from the oracle's meters and records the
    /// outcome (anyone). Within the claim window the outcome settles the asset's slice of the
    /// reservation: the credit (possibly 0) stays owed to the owner and the checked-in lessee, the rest
    /// goes back to the unreserved funds. Later, the outcome is recorded as `Late` and nothing moves.
    /// @dev Meters: the baseline window via `meterWindow(baselineStart, baselineEnd)` and the event via
    /// `meterWindow(start, end)`; each end proof must prove the meter exactly at its boundary
    /// (`MeterNotAtBoundary`). An impossible reading pair around an event boundary makes the event's
    /// energy unproven: nothing is owed (`Unproven`). Reverts as the oracle does for a failing proof.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @param proofs The meters at the four boundaries.
    /// @return reduction What was proven.
    function proveReduction(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId,
        ReductionProofs calldata proofs
    ) external returns (Reduction memory reduction);

    /// @notice `proveReduction` for several assets of one event in one transaction (the event's storage is
    /// read and written once).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetIds The assets (each at most once).
    /// @param proofs Their proofs, in the same order.
    /// @return reductions What was proven, in the same order.
    function proveReductions(
        uint32 programmeId,
        uint32 eventIndex,
        uint256[] calldata assetIds,
        ReductionProofs[] calldata proofs
    ) external returns (Reduction[] memory reductions);

    /// @notice Pays the owner's part of a credit (the credit less the checked-in lessee's share) to the
    /// NFT's owner now (anyone may trigger it: an owner that cannot call, such as a revenue-split vault,
    /// distributes what arrives). For a burned asset the part goes back to the unreserved funds.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @return amount The amount paid (or returned).
    function claimOwnerCredit(uint32 programmeId, uint32 eventIndex, uint256 assetId) external returns (uint256 amount);

    /// @notice Pays the lessee's part of a credit (its share at check-in, rounded down) to the lessee who
    /// checked in (anyone may trigger it).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @return amount The amount paid.
    function claimLesseeCredit(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId
    ) external returns (uint256 amount);

    /// @notice Returns what no proof claimed to the unreserved funds, once the claim window has passed (anyone).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @return released The amount returned.
    function release(uint32 programmeId, uint32 eventIndex) external returns (uint256 released);

    // ---------------------------------------------------------------- the escrow's view

    /// @notice The available GPU-seconds that the programme's events curtail in a lease from its start up
    /// to a billing point: the escrow does not bill their reservation.
    /// @dev Counted events: those of programme `terms.programmeId` that call the asset and overlap the
    /// lease, in start order, while their number stays within `terms.maxEventsPerLease` and their whole
    /// durations within `terms.maxEventSecondsPerLease` (the first event beyond either cap, and every
    /// later one, does not count). For each counted event that started before the point: the growth of
    /// the available meter over the part of the event inside [lease start, point]
    /// (`DemandResponseMath.curtailedInLease`); its outcome must be recorded (`OutcomeNotRecorded`).
    /// Events announced later start after every reading that existed, so the answer for a given lease
    /// and point never changes. `terms.programme`, the discount and anything else are ignored.
    /// @param terms The lease's curtailment terms.
    /// @param assetId The leased asset.
    /// @param leaseStart The lease start.
    /// @param leaseEnd The lease end (truncated by an early end).
    /// @param point The billing point.
    /// @param startAvailableGpuSeconds The asset's available meter at the lease start (the escrow's).
    /// @param pointAvailableGpuSeconds The asset's available meter at the point (the escrow's).
    /// @return The curtailed GPU-seconds.
    function curtailedGpuSeconds(
        CurtailmentTerms calldata terms,
        uint256 assetId,
        uint64 leaseStart,
        uint64 leaseEnd,
        uint64 point,
        uint64 startAvailableGpuSeconds,
        uint64 pointAvailableGpuSeconds
    ) external view returns (uint256);

    // ---------------------------------------------------------------- views

    /// @notice Number of programmes created.
    /// @return The count.
    function programmeCount() external view returns (uint32);

    /// @notice A programme (all zero when unknown).
    /// @param programmeId The programme.
    /// @return The programme.
    function programmeOf(uint32 programmeId) external view returns (Programme memory);

    /// @notice An asset's membership of a programme (all zero when never enrolled).
    /// @param programmeId The programme.
    /// @param assetId The asset.
    /// @return The membership.
    function memberOf(uint32 programmeId, uint256 assetId) external view returns (Member memory);

    /// @notice An event as stored (all zero when unknown).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @return The event.
    function eventOf(uint32 programmeId, uint32 eventIndex) external view returns (CurtailmentEvent memory);

    /// @notice The baseline window of an event, [from, to].
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @return from The window start.
    /// @return to The window end.
    function baselineWindowOf(uint32 programmeId, uint32 eventIndex) external view returns (uint64 from, uint64 to);

    /// @notice Whether an event calls an asset (it was enrolled when the event was announced).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @return True when it does.
    function isCalled(uint32 programmeId, uint32 eventIndex, uint256 assetId) external view returns (bool);

    /// @notice An asset's recorded outcome for an event (status `None` before its proof).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @return The outcome.
    function outcomeOf(uint32 programmeId, uint32 eventIndex, uint256 assetId) external view returns (Outcome memory);

    /// @notice The lessee checked in for an asset during an event (zero account when none).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @param assetId The asset.
    /// @return The participant.
    function participantOf(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId
    ) external view returns (Participant memory);

    /// @notice The largest credit of one asset for an event: committed reduction × rate.
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @return Token base units.
    function maxCreditPerAsset(uint32 programmeId, uint32 eventIndex) external view returns (uint256);

    /// @notice What an event still holds in reserve for assets whose reduction is not proven yet
    /// (0 once cancelled or released).
    /// @param programmeId The programme.
    /// @param eventIndex The event.
    /// @return Token base units.
    function reservedOf(uint32 programmeId, uint32 eventIndex) external view returns (uint256);
}
