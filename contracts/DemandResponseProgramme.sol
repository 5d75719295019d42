// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { IDemandResponseProgramme } from "./interfaces/IDemandResponseProgramme.sol";
import { IUsageOracle } from "./interfaces/IUsageOracle.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import { CurtailmentTerms } from "./types/EscrowTypes.sol";
import { MeterAt, MeterBoundary, MeterSource } from "./types/OracleTypes.sol";
import {
    AvailableAt,
    BaselineRule,
    CurtailmentEvent,
    CurtailmentQuery,
    EventParams,
    EventStatus,
    Member,
    Outcome,
    OutcomeStatus,
    Participant,
    Programme,
    Reduction,
    ReductionInput,
    ReductionProofs
} from "./types/DemandResponseTypes.sol";
import { DemandResponseMath } from "./libraries/DemandResponseMath.sol";

/// @title DemandResponseProgramme — curtailment events paid per kWh reduced, proven from the oracle's meters
/// @notice See `IDemandResponseProgramme` and docs/energy.md. A thin state machine: the oracle proves
/// meters, `DemandResponseMath` turns them into baselines, reductions, credits and curtailed time.
contract DemandResponseProgramme is IDemandResponseProgramme, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @inheritdoc IDemandResponseProgramme
    bytes32 public constant SPONSOR_ROLE = keccak256("SPONSOR_ROLE");
    /// @inheritdoc IDemandResponseProgramme
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant MIN_NOTICE_SECONDS = 10 minutes;
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant MAX_NOTICE_LEAD_SECONDS = 30 days;
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant MAX_NOTICE_DELAY_SECONDS = 1 hours;
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant MIN_EVENT_SECONDS = 15 minutes;
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant MAX_EVENT_SECONDS = 24 hours;
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant MIN_BASELINE_SECONDS = 15 minutes;
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant MAX_BASELINE_SECONDS = 24 hours;
    /// @inheritdoc IDemandResponseProgramme
    uint64 public constant CLAIM_WINDOW_SECONDS = 30 days;
    /// @inheritdoc IDemandResponseProgramme
    uint256 public constant MAX_MEMBERS = type(uint8).max;

    /// @inheritdoc IDemandResponseProgramme
    IUsageOracle public immutable oracle;
    /// @inheritdoc IDemandResponseProgramme
    IGpuAssetNFT public immutable nft;

    uint32 private _programmeCount;
    mapping(uint32 programmeId => Programme) private _programmes;
    mapping(uint32 programmeId => mapping(uint256 assetId => Member)) private _members;
    mapping(uint32 programmeId => mapping(uint32 eventIndex => CurtailmentEvent)) private _events;
    mapping(uint32 programmeId => mapping(uint32 eventIndex => mapping(uint256 assetId => Outcome))) private _outcomes;
    mapping(uint32 programmeId => mapping(uint32 eventIndex => mapping(uint256 assetId => Participant)))
        private _participants;
    mapping(address account => mapping(address token => uint256)) private _claimable;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants the sponsor and pauser roles).
    /// @param oracle_ The usage oracle (its NFT is the programme's).
    constructor(address admin, IUsageOracle oracle_) {
        if (admin == address(0) || address(oracle_) == address(0)) revert ZeroAddress();
        oracle = oracle_;
        nft = oracle_.nft();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /// @notice Stops new business (create, deposit, enrol, announce). Pauser role only.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes new business. Pauser role only.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- programmes and funds

    /// @inheritdoc IDemandResponseProgramme
    function createProgramme(address token) external onlyRole(SPONSOR_ROLE) whenNotPaused returns (uint32 programmeId) {
        // Checks
        if (token == address(0)) revert ZeroAddress();
        // Effects
        programmeId = _programmeCount + 1;
        _programmeCount = programmeId;
        Programme storage programme = _programmes[programmeId];
        programme.sponsor = msg.sender;
        programme.token = token;
        emit ProgrammeCreated(programmeId, msg.sender, token);
    }

    /// @inheritdoc IDemandResponseProgramme
    function deposit(uint32 programmeId, uint256 amount) external nonReentrant whenNotPaused {
        // Checks
        Programme storage programme = _programmeOf(programmeId);
        if (amount == 0) revert ZeroAmount();
        // Effects (the cast keeps the programme's funds within 96 bits)
        programme.available = (programme.available + amount).toUint96();
        emit ProgrammeFunded(programmeId, msg.sender, amount);
        // Interactions
        address token = programme.token;
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert TransferAmountMismatch(token, amount, received);
    }

    /// @inheritdoc IDemandResponseProgramme
    function withdrawFunds(uint32 programmeId, uint256 amount, address to) external nonReentrant {
        // Checks
        Programme storage programme = _sponsoredBy(programmeId, msg.sender);
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 available = programme.available;
        if (amount > available) revert InsufficientFunds(programmeId, amount, available);
        // Effects
        programme.available = uint96(available - amount);
        emit FundsWithdrawn(programmeId, to, amount);
        // Interactions
        IERC20(programme.token).safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- roster

    /// @inheritdoc IDemandResponseProgramme
    function enroll(uint32 programmeId, uint256 assetId) external onlyRole(SPONSOR_ROLE) whenNotPaused {
        // Checks
        Programme storage programme = _sponsoredBy(programmeId, msg.sender);
        if (assetId > type(uint32).max) revert AssetNotMeterable(assetId);
        nft.ownerOf(assetId); // reverts ERC721NonexistentToken for an asset that does not exist
        Member storage member = _members[programmeId][assetId];
        if (member.firstEvent != 0) revert AlreadyEnrolled(programmeId, assetId);
        uint8 active = programme.activeMembers;
        if (active == MAX_MEMBERS) revert TooManyMembers(programmeId, MAX_MEMBERS);
        // Effects
        uint32 firstEvent = programme.eventCount + 1;
        member.firstEvent = firstEvent;
        programme.activeMembers = active + 1;
        emit AssetEnrolled(programmeId, assetId, firstEvent);
    }

    /// @inheritdoc IDemandResponseProgramme
    function removeMember(uint32 programmeId, uint256 assetId) external {
        // Checks
        Programme storage programme = _sponsoredBy(programmeId, msg.sender);
        Member storage member = _members[programmeId][assetId];
        if (member.firstEvent == 0 || member.endEvent != 0) revert NotEnrolled(programmeId, assetId);
        // Effects
        uint32 endEvent = programme.eventCount + 1;
        member.endEvent = endEvent;
        programme.activeMembers -= 1;
        emit AssetRemoved(programmeId, assetId, endEvent);
    }

    /// @inheritdoc IDemandResponseProgramme
    function setLesseeShare(uint32 programmeId, uint256 assetId, uint16 lesseeShareBps) external {
        // Checks
        _programmeOf(programmeId);
        address owner = nft.ownerOf(assetId);
        if (msg.sender != owner && !nft.isApprovedForAll(owner, msg.sender) && nft.getApproved(assetId) != msg.sender) {
            revert NotAssetOperator(assetId, msg.sender);
        }
        Member storage member = _members[programmeId][assetId];
        if (member.firstEvent == 0 || member.endEvent != 0) revert NotEnrolled(programmeId, assetId);
        if (lesseeShareBps > DemandResponseMath.BPS) revert InvalidLesseeShare(lesseeShareBps);
        if (member.lesseeShareBps == lesseeShareBps) revert LesseeShareUnchanged(programmeId, assetId, lesseeShareBps);
        // Effects
        member.lesseeShareBps = lesseeShareBps;
        emit LesseeShareSet(programmeId, assetId, lesseeShareBps);
    }

    // ---------------------------------------------------------------- events

    /// @inheritdoc IDemandResponseProgramme
    function announce(
        uint32 programmeId,
        EventParams calldata params
    ) external onlyRole(SPONSOR_ROLE) whenNotPaused returns (uint32 eventIndex) {
        // Checks
        Programme storage programme = _sponsoredBy(programmeId, msg.sender);
        Programme memory p = programme;
        if (p.activeMembers == 0) revert NoMembers(programmeId);
        _checkTimes(params, p.lastEventEnd);
        if (params.ratePerKWh == 0 || params.ratePerKWh > type(uint64).max) revert InvalidRate(params.ratePerKWh);
        if (params.committedReductionJ == 0 || params.committedReductionJ > type(uint40).max) {
            revert InvalidCommittedReduction(params.committedReductionJ);
        }
        uint256 reserved = DemandResponseMath.creditOf(params.committedReductionJ, params.ratePerKWh) * p.activeMembers;
        if (reserved > p.available) revert InsufficientFunds(programmeId, reserved, p.available);
        // Effects
        eventIndex = p.eventCount + 1;
        // Every width below was checked: durations and leads against the constants, the rate and the
        // committed reduction above.
        _events[programmeId][eventIndex] = CurtailmentEvent({
            startTime: uint40(params.startTime),
            noticeLeadSeconds: uint24(params.startTime - params.noticeTime),
            durationSeconds: uint24(params.endTime - params.startTime),
            baselineRule: params.baselineRule,
            baselineWindowSeconds: uint24(params.baselineWindowSeconds),
            memberCount: p.activeMembers,
            provenCount: 0,
            status: EventStatus.Announced,
            ratePerKWh: uint64(params.ratePerKWh),
            committedReductionJ: uint40(params.committedReductionJ)
        });
        programme.eventCount = eventIndex;
        programme.lastEventEnd = uint40(params.endTime);
        programme.available = uint96(p.available - reserved);
        emit EventAnnounced(programmeId, eventIndex, params, p.activeMembers, reserved);
    }

    /// @inheritdoc IDemandResponseProgramme
    function cancel(uint32 programmeId, uint32 eventIndex) external {
        // Checks
        Programme storage programme = _sponsoredBy(programmeId, msg.sender);
        CurtailmentEvent storage ev = _liveEventOf(programmeId, eventIndex);
        uint32 latest = programme.eventCount;
        if (eventIndex != latest) revert NotLatestEvent(programmeId, eventIndex, latest);
        uint64 startTime = ev.startTime;
        if (!(startTime > block.timestamp) || !(startTime > oracle.lastBatchTimestamp())) {
            revert EventStarted(programmeId, eventIndex, startTime);
        }
        // Effects: the window collapses to the previous event's end, so events stay in start order
        // and a new event may take the freed time.
        uint256 released = DemandResponseMath.creditOf(ev.committedReductionJ, ev.ratePerKWh) * ev.memberCount;
        uint40 previousEnd;
        if (eventIndex > 1) {
            CurtailmentEvent storage previous = _events[programmeId][eventIndex - 1];
            previousEnd = previous.startTime + previous.durationSeconds;
        }
        ev.status = EventStatus.Cancelled;
        ev.startTime = previousEnd;
        ev.durationSeconds = 0;
        programme.lastEventEnd = previousEnd;
        // The released amount was reserved from the available funds, within 96 bits.
        programme.available += uint96(released);
        emit EventCancelled(programmeId, eventIndex, released);
    }

    /// @inheritdoc IDemandResponseProgramme
    function checkIn(uint32 programmeId, uint32 eventIndex, uint256 assetId) external {
        // Checks
        CurtailmentEvent storage ev = _liveEventOf(programmeId, eventIndex);
        uint64 startTime = ev.startTime;
        uint64 endTime = startTime + ev.durationSeconds;
        if (block.timestamp < startTime || !(block.timestamp < endTime)) {
            revert NotDuringEvent(programmeId, eventIndex, startTime, endTime);
        }
        Member memory member = _requireCalled(programmeId, eventIndex, assetId);
        Participant storage participant = _participants[programmeId][eventIndex][assetId];
        address existing = participant.account;
        if (existing != address(0)) revert AlreadyCheckedIn(programmeId, eventIndex, assetId, existing);
        address user = nft.userOf(assetId);
        if (user == address(0)) revert NoLessee(assetId);
        // Effects
        participant.account = user;
        participant.shareBps = member.lesseeShareBps;
        emit CheckedIn(programmeId, eventIndex, assetId, user, member.lesseeShareBps);
    }

    /// @inheritdoc IDemandResponseProgramme
    function proveReduction(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId,
        ReductionProofs calldata proofs
    ) external nonReentrant returns (Reduction memory r) {
        // Checks
        CurtailmentEvent memory ev = _liveEventOf(programmeId, eventIndex);
        uint64 endTime = uint64(ev.startTime) + ev.durationSeconds;
        if (block.timestamp < endTime) revert EventNotOver(programmeId, eventIndex, endTime);
        _requireCalled(programmeId, eventIndex, assetId);
        Outcome storage outcome = _outcomes[programmeId][eventIndex][assetId];
        if (outcome.status != OutcomeStatus.None) revert AlreadyProven(programmeId, eventIndex, assetId);
        uint64 availableAtStart;
        uint64 availableAtEnd;
        (r, availableAtStart, availableAtEnd) = _measure(ev, assetId, proofs);
        bool late = ev.status == EventStatus.Released || block.timestamp > uint256(endTime) + CLAIM_WINDOW_SECONDS;
        if (late) {
            r.status = OutcomeStatus.Late;
            r.credit = 0;
        }
        // Effects. Proven available meters come from 48-bit reading counters (or lie between two);
        // the credit is at most the reservation slice, within 96 bits.
        outcome.status = r.status;
        outcome.availableAtStart = uint48(availableAtStart);
        outcome.availableAtEnd = uint48(availableAtEnd);
        outcome.credit = uint96(r.credit);
        if (late) emit ReductionProven(programmeId, eventIndex, assetId, r, address(0), 0, address(0), 0);
        else _settle(programmeId, eventIndex, assetId, ev, r);
    }

    /// @inheritdoc IDemandResponseProgramme
    function release(uint32 programmeId, uint32 eventIndex) external returns (uint256 released) {
        // Checks
        Programme storage programme = _programmeOf(programmeId);
        CurtailmentEvent storage ev = _liveEventOf(programmeId, eventIndex);
        if (ev.status == EventStatus.Released) revert AlreadyReleased(programmeId, eventIndex);
        uint64 closesAt = uint64(ev.startTime) + ev.durationSeconds + CLAIM_WINDOW_SECONDS;
        if (!(block.timestamp > closesAt)) revert ClaimWindowOpen(programmeId, eventIndex, closesAt);
        // Effects
        released = DemandResponseMath.creditOf(ev.committedReductionJ, ev.ratePerKWh) * (ev.memberCount - ev.provenCount);
        ev.status = EventStatus.Released;
        // Part of what the event reserved from the available funds, within 96 bits.
        programme.available += uint96(released);
        emit EventReleased(programmeId, eventIndex, released);
    }

    // ---------------------------------------------------------------- payouts

    /// @inheritdoc IDemandResponseProgramme
    function withdraw(address token, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        return _payOut(msg.sender, token, to);
    }

    /// @inheritdoc IDemandResponseProgramme
    function withdrawFor(address account, address token) external nonReentrant returns (uint256 amount) {
        if (account == address(0)) revert ZeroAddress();
        return _payOut(account, token, account);
    }

    /// @inheritdoc IDemandResponseProgramme
    function claimable(address account, address token) external view returns (uint256) {
        return _claimable[account][token];
    }

    // ---------------------------------------------------------------- the escrow's view

    /// @inheritdoc IDemandResponseProgramme
    function curtailedGpuSeconds(
        CurtailmentTerms calldata terms,
        uint256 assetId,
        uint64 leaseStart,
        uint64 leaseEnd,
        uint64 point,
        uint64 startAvailableGpuSeconds,
        uint64 pointAvailableGpuSeconds
    ) external view returns (uint256) {
        return
            _curtailed(
                CurtailmentQuery({
                    assetId: assetId,
                    programmeId: terms.programmeId,
                    leaseStart: leaseStart,
                    leaseEnd: leaseEnd,
                    point: point,
                    startAvailableGpuSeconds: startAvailableGpuSeconds,
                    pointAvailableGpuSeconds: pointAvailableGpuSeconds,
                    maxEvents: terms.maxEventsPerLease,
                    maxEventSeconds: terms.maxEventSecondsPerLease
                })
            );
    }

    /// @dev See `curtailedGpuSeconds`.
    function _curtailed(CurtailmentQuery memory q) private view returns (uint256 curtailed) {
        Member memory member = _members[q.programmeId][q.assetId];
        if (member.firstEvent == 0) return 0;
        uint32 endIndex = member.endEvent == 0 ? _programmes[q.programmeId].eventCount + 1 : member.endEvent;
        mapping(uint32 => CurtailmentEvent) storage events = _events[q.programmeId];
        // Binary search for the first called event that ends after the lease start (ends are sorted:
        // events never overlap and are announced in start order; a cancelled one is an empty window).
        uint32 lo = member.firstEvent;
        uint32 hi = endIndex;
        while (lo < hi) {
            uint32 mid = lo + (hi - lo) / 2;
            CurtailmentEvent storage probe = events[mid];
            if (uint64(probe.startTime) + probe.durationSeconds > q.leaseStart) hi = mid;
            else lo = mid + 1;
        }
        AvailableAt memory leaseStart = AvailableAt(q.leaseStart, q.startAvailableGpuSeconds);
        AvailableAt memory point = AvailableAt(q.point, q.pointAvailableGpuSeconds);
        uint256 counted;
        uint256 countedSeconds;
        for (uint32 i = lo; i < endIndex; ++i) {
            CurtailmentEvent memory ev = events[i];
            if (ev.status == EventStatus.Cancelled) continue;
            if (!(ev.startTime < q.leaseEnd)) break;
            countedSeconds += ev.durationSeconds;
            if (counted == q.maxEvents || countedSeconds > q.maxEventSeconds) break;
            ++counted;
            if (!(ev.startTime < q.point)) break;
            Outcome memory outcome = _outcomes[q.programmeId][i][q.assetId];
            if (outcome.status == OutcomeStatus.None) revert OutcomeNotRecorded(q.programmeId, i, q.assetId);
            curtailed += DemandResponseMath.curtailedInLease(
                AvailableAt(ev.startTime, outcome.availableAtStart),
                AvailableAt(uint64(ev.startTime) + ev.durationSeconds, outcome.availableAtEnd),
                leaseStart,
                point
            );
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDemandResponseProgramme
    function programmeCount() external view returns (uint32) {
        return _programmeCount;
    }

    /// @inheritdoc IDemandResponseProgramme
    function programmeOf(uint32 programmeId) external view returns (Programme memory) {
        return _programmes[programmeId];
    }

    /// @inheritdoc IDemandResponseProgramme
    function memberOf(uint32 programmeId, uint256 assetId) external view returns (Member memory) {
        return _members[programmeId][assetId];
    }

    /// @inheritdoc IDemandResponseProgramme
    function eventOf(uint32 programmeId, uint32 eventIndex) external view returns (CurtailmentEvent memory) {
        return _events[programmeId][eventIndex];
    }

    /// @inheritdoc IDemandResponseProgramme
    function baselineWindowOf(uint32 programmeId, uint32 eventIndex) external view returns (uint64 from, uint64 to) {
        CurtailmentEvent memory ev = _liveEventOf(programmeId, eventIndex);
        return _baselineWindow(ev);
    }

    /// @inheritdoc IDemandResponseProgramme
    function isCalled(uint32 programmeId, uint32 eventIndex, uint256 assetId) external view returns (bool) {
        return _isCalled(_members[programmeId][assetId], eventIndex);
    }

    /// @inheritdoc IDemandResponseProgramme
    function outcomeOf(uint32 programmeId, uint32 eventIndex, uint256 assetId) external view returns (Outcome memory) {
        return _outcomes[programmeId][eventIndex][assetId];
    }

    /// @inheritdoc IDemandResponseProgramme
    function participantOf(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId
    ) external view returns (Participant memory) {
        return _participants[programmeId][eventIndex][assetId];
    }

    /// @inheritdoc IDemandResponseProgramme
    function maxCreditPerAsset(uint32 programmeId, uint32 eventIndex) external view returns (uint256) {
        CurtailmentEvent storage ev = _events[programmeId][eventIndex];
        return DemandResponseMath.creditOf(ev.committedReductionJ, ev.ratePerKWh);
    }

    /// @inheritdoc IDemandResponseProgramme
    function reservedOf(uint32 programmeId, uint32 eventIndex) external view returns (uint256) {
        CurtailmentEvent storage ev = _events[programmeId][eventIndex];
        if (ev.status != EventStatus.Announced) return 0;
        return DemandResponseMath.creditOf(ev.committedReductionJ, ev.ratePerKWh) * (ev.memberCount - ev.provenCount);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Reverts unless the announcement's times fit the rules (see `EventParams`).
    function _checkTimes(EventParams calldata params, uint64 lastEventEnd) private view {
        uint64 now_ = uint64(block.timestamp);
        uint64 notice = params.noticeTime;
        if (notice > now_ || notice + MAX_NOTICE_DELAY_SECONDS < now_) {
            revert InvalidNoticeTime(notice, now_ - MAX_NOTICE_DELAY_SECONDS, now_);
        }
        // The earliest start: the minimum notice, after now, after every accepted reading, and not
        // before the programme's previous event ends.
        uint64 earliest = notice + MIN_NOTICE_SECONDS;
        uint64 lastReading = oracle.lastBatchTimestamp();
        if (now_ + 1 > earliest) earliest = now_ + 1;
        if (lastReading + 1 > earliest) earliest = lastReading + 1;
        if (lastEventEnd > earliest) earliest = lastEventEnd;
        uint64 start = params.startTime;
        uint64 latest = notice + MAX_NOTICE_LEAD_SECONDS;
        if (start < earliest || start > latest) revert InvalidStartTime(start, earliest, latest);
        uint64 duration = params.endTime > start ? params.endTime - start : 0;
        if (duration < MIN_EVENT_SECONDS || duration > MAX_EVENT_SECONDS) revert InvalidEventDuration(duration);
        uint64 window = params.baselineWindowSeconds;
        bool fits = params.baselineRule == BaselineRule.PreNotice
            ? window >= MIN_BASELINE_SECONDS && window <= MAX_BASELINE_SECONDS
            : window == 0 && params.endTime - DemandResponseMath.DAY_SECONDS <= notice;
        if (!fits) revert InvalidBaselineWindow(params.baselineRule, window);
    }

    /// @dev Proves the four boundary meters and computes the reduction; also returns the available
    /// meters at the event's start and end (what the escrow's bills need).
    function _measure(
        CurtailmentEvent memory ev,
        uint256 assetId,
        ReductionProofs calldata proofs
    ) private view returns (Reduction memory r, uint64 availableAtStart, uint64 availableAtEnd) {
        uint64 startTime = ev.startTime;
        (MeterAt memory eventFrom, MeterAt memory eventTo, uint16 gpuCount, uint16 tdpWattsPerGpu) = _window(
            assetId,
            startTime,
            startTime + ev.durationSeconds,
            proofs.eventStart,
            proofs.eventEnd
        );
        (MeterAt memory baselineFrom, MeterAt memory baselineTo) = _baselineMeters(ev, assetId, proofs);
        r = DemandResponseMath.reduction(
            ReductionInput({
                baselineFrom: baselineFrom.meter,
                baselineTo: baselineTo.meter,
                eventFrom: eventFrom.meter,
                eventTo: eventTo.meter,
                eventProven: eventFrom.source != MeterSource.UnusablePair && eventTo.source != MeterSource.UnusablePair,
                maxPowerW: DemandResponseMath.maxPowerW(gpuCount, tdpWattsPerGpu),
                committedReductionJ: ev.committedReductionJ,
                ratePerKWh: ev.ratePerKWh
            })
        );
        return (r, eventFrom.meter.availableGpuSeconds, eventTo.meter.availableGpuSeconds);
    }

    /// @dev The meters at a window's two boundaries, each proven exactly at its boundary.
    function _window(
        uint256 assetId,
        uint64 from,
        uint64 to,
        MeterBoundary calldata atFrom,
        MeterBoundary calldata atTo
    ) private view returns (MeterAt memory start, MeterAt memory end, uint16 gpuCount, uint16 tdpWattsPerGpu) {
        if (atFrom.later.batchIndex == 0) revert MeterNotAtBoundary(from, 0);
        (start, end, gpuCount, tdpWattsPerGpu) = oracle.meterWindow(assetId, from, to, atFrom, atTo);
        if (end.meter.timestamp != to) revert MeterNotAtBoundary(to, end.meter.timestamp);
    }

    /// @dev The meters at the event's baseline window boundaries.
    function _baselineMeters(
        CurtailmentEvent memory ev,
        uint256 assetId,
        ReductionProofs calldata proofs
    ) private view returns (MeterAt memory from, MeterAt memory to) {
        (uint64 fromTime, uint64 toTime) = _baselineWindow(ev);
        (from, to, , ) = _window(assetId, fromTime, toTime, proofs.baselineStart, proofs.baselineEnd);
    }

    /// @dev The baseline window of a stored event.
    function _baselineWindow(CurtailmentEvent memory ev) private pure returns (uint64 from, uint64 to) {
        uint64 start = ev.startTime;
        return
            DemandResponseMath.baselineWindow(
                ev.baselineRule,
                start - ev.noticeLeadSeconds,
                start,
                start + ev.durationSeconds,
                ev.baselineWindowSeconds
            );
    }

    /// @dev Settles an asset's slice of the event's reservation: the credit is paid from it (to the
    /// checked-in lessee's and the owner's balances), the rest goes back to the unreserved funds.
    function _settle(uint32 programmeId, uint32 eventIndex, uint256 assetId, CurtailmentEvent memory ev, Reduction memory r) private {
        uint256 slice = DemandResponseMath.creditOf(ev.committedReductionJ, ev.ratePerKWh);
        _events[programmeId][eventIndex].provenCount = ev.provenCount + 1;
        // credit <= slice (the reduction is capped at the committed one); the slice was reserved from
        // the available funds, within 96 bits.
        _programmes[programmeId].available += uint96(slice - r.credit);
        Participant memory participant;
        address owner;
        uint256 toParticipant;
        uint256 toOwner;
        if (r.status == OutcomeStatus.Credited) {
            participant = _participants[programmeId][eventIndex][assetId];
            owner = nft.ownerOf(assetId);
            (toParticipant, toOwner) = _payCredit(programmeId, participant, owner, r.credit);
        } else {
            emit NonCompliance(programmeId, eventIndex, assetId, r.status, r.baselineJ, r.meteredJ);
        }
        emit ReductionProven(programmeId, eventIndex, assetId, r, owner, toOwner, participant.account, toParticipant);
    }

    /// @dev Credits a proven reduction to the checked-in lessee (its share) and the NFT's owner (the rest).
    function _payCredit(
        uint32 programmeId,
        Participant memory participant,
        address owner,
        uint256 credit
    ) private returns (uint256 toParticipant, uint256 toOwner) {
        address token = _programmes[programmeId].token;
        toOwner = credit;
        if (participant.account != address(0)) {
            (toParticipant, toOwner) = DemandResponseMath.split(credit, participant.shareBps);
            if (toParticipant != 0) _claimable[participant.account][token] += toParticipant;
        }
        if (toOwner != 0) _claimable[owner][token] += toOwner;
    }

    /// @dev Pays `account`'s whole balance in `token` to `to`.
    function _payOut(address account, address token, address to) private returns (uint256 amount) {
        amount = _claimable[account][token];
        if (amount == 0) return 0;
        // Effects
        _claimable[account][token] = 0;
        emit Withdrawn(account, token, to, amount);
        // Interactions
        IERC20(token).safeTransfer(to, amount);
    }

    /// @dev The member, unless the event does not call the asset (`NotCalled`).
    function _requireCalled(uint32 programmeId, uint32 eventIndex, uint256 assetId) private view returns (Member memory member) {
        member = _members[programmeId][assetId];
        if (!_isCalled(member, eventIndex)) revert NotCalled(programmeId, eventIndex, assetId);
    }

    /// @dev Whether a membership covers an event index.
    function _isCalled(Member memory member, uint32 eventIndex) private pure returns (bool) {
        return member.firstEvent != 0 && eventIndex >= member.firstEvent && (member.endEvent == 0 || eventIndex < member.endEvent);
    }

    /// @dev The programme, or `UnknownProgramme`.
    function _programmeOf(uint32 programmeId) private view returns (Programme storage programme) {
        programme = _programmes[programmeId];
        if (programme.sponsor == address(0)) revert UnknownProgramme(programmeId);
    }

    /// @dev The programme, unless unknown or sponsored by someone else (`NotSponsor`).
    function _sponsoredBy(uint32 programmeId, address caller) private view returns (Programme storage programme) {
        programme = _programmeOf(programmeId);
        if (programme.sponsor != caller) revert NotSponsor(programmeId, caller);
    }

    /// @dev The event, unless unknown (`UnknownEvent`) or cancelled (`CancelledEvent`).
    function _liveEventOf(uint32 programmeId, uint32 eventIndex) private view returns (CurtailmentEvent storage ev) {
        _programmeOf(programmeId);
        if (eventIndex == 0 || eventIndex > _programmes[programmeId].eventCount) revert UnknownEvent(programmeId, eventIndex);
        ev = _events[programmeId][eventIndex];
        if (ev.status == EventStatus.Cancelled) revert CancelledEvent(programmeId, eventIndex);
    }
}
