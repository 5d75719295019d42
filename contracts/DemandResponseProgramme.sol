// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { IERC721Errors } from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import { LowLevelCall } from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import { IDemandResponseProgramme } from "./interfaces/IDemandResponseProgramme.sol";
import { IUsageOracle } from "./interfaces/IUsageOracle.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import { CurtailmentTerms } from "./types/EscrowTypes.sol";
import { MeterAt, MeterBound, MeterBoundary, MeterSource } from "./types/OracleTypes.sol";
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
        --programme.activeMembers;
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
    ) external returns (Reduction memory r) {
        // No reentrancy guard: no token moves and every external call is a view (STATICCALL).
        // Checks
        CurtailmentEvent memory ev = _endedEventOf(programmeId, eventIndex);
        bool late = _isLate(ev);
        // Checks and effects per asset
        r = _prove(programmeId, eventIndex, ev, late, assetId, proofs);
        // Effects
        if (!late) _settleSlices(programmeId, eventIndex, ev, 1, r.credit);
    }

    /// @inheritdoc IDemandResponseProgramme
    function proveReductions(
        uint32 programmeId,
        uint32 eventIndex,
        uint256[] calldata assetIds,
        ReductionProofs[] calldata proofs
    ) external returns (Reduction[] memory reductions) {
        // No reentrancy guard: no token moves and every external call is a view (STATICCALL).
        // Checks
        uint256 count = assetIds.length;
        if (count == 0 || proofs.length != count) revert ProofCountMismatch(count, proofs.length);
        CurtailmentEvent memory ev = _endedEventOf(programmeId, eventIndex);
        bool late = _isLate(ev);
        // Checks and effects per asset (an asset given twice reverts `AlreadyProven`)
        reductions = new Reduction[](count);
        uint256 credits;
        for (uint256 k; k < count; ++k) {
            reductions[k] = _prove(programmeId, eventIndex, ev, late, assetIds[k], proofs[k]);
            credits += reductions[k].credit;
        }
        // Effects
        if (!late) _settleSlices(programmeId, eventIndex, ev, count, credits);
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
        released =
            DemandResponseMath.creditOf(ev.committedReductionJ, ev.ratePerKWh) * (ev.memberCount - ev.provenCount);
        ev.status = EventStatus.Released;
        // Part of what the event reserved from the available funds, within 96 bits.
        programme.available += uint96(released);
        emit EventReleased(programmeId, eventIndex, released);
    }

    // ---------------------------------------------------------------- payouts

    /// @inheritdoc IDemandResponseProgramme
    function claimOwnerCredit(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId
    ) external nonReentrant returns (uint256 amount) {
        // Checks
        Outcome storage outcome = _credited(programmeId, eventIndex, assetId);
        if (outcome.ownerPaid) revert AlreadyPaid(programmeId, eventIndex, assetId, false);
        (, amount) = _parts(programmeId, eventIndex, assetId, outcome.credit);
        // Effects
        outcome.ownerPaid = true;
        Programme storage programme = _programmes[programmeId];
        address owner;
        try nft.ownerOf(assetId) returns (address owner_) {
            owner = owner_;
        } catch (bytes memory reason) {
            // Only a burned asset (the NFT's ERC721NonexistentToken) has no owner to pay; anything else
            // (running out of gas included) bubbles up.
            if (reason.length < 4 || bytes4(reason) != IERC721Errors.ERC721NonexistentToken.selector) {
                LowLevelCall.bubbleRevert(reason);
            }
        }
        if (owner == address(0)) {
            // Part of what the event reserved from the available funds, within 96 bits.
            programme.available += uint96(amount);
            emit CreditReturned(programmeId, eventIndex, assetId, amount);
            return amount;
        }
        emit CreditPaid(programmeId, eventIndex, assetId, owner, amount, false);
        // Interactions
        if (amount != 0) IERC20(programme.token).safeTransfer(owner, amount);
    }

    /// @inheritdoc IDemandResponseProgramme
    function claimLesseeCredit(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId
    ) external nonReentrant returns (uint256 amount) {
        // Checks
        Outcome storage outcome = _credited(programmeId, eventIndex, assetId);
        if (outcome.lesseePaid) revert AlreadyPaid(programmeId, eventIndex, assetId, true);
        (amount, ) = _parts(programmeId, eventIndex, assetId, outcome.credit);
        if (amount == 0) revert NoLesseePart(programmeId, eventIndex, assetId);
        address lessee = _participants[programmeId][eventIndex][assetId].account;
        // Effects
        outcome.lesseePaid = true;
        emit CreditPaid(programmeId, eventIndex, assetId, lessee, amount, true);
        // Interactions
        IERC20(_programmes[programmeId].token).safeTransfer(lessee, amount);
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
        bool fits =
            params.baselineRule == BaselineRule.PreNotice
                ? !(window < MIN_BASELINE_SECONDS) &&
                    !(window > MAX_BASELINE_SECONDS) &&
                    window % DemandResponseMath.INTERVAL_SECONDS == 0
                : window == 0 && !(params.endTime - DemandResponseMath.DAY_SECONDS > notice);
        if (!fits) revert InvalidBaselineWindow(params.baselineRule, window);
    }

    /// @dev Proves the four boundary meters and computes the reduction; also returns the available
    /// meters at the event's start and end (what the escrow's bills need). Each window's start is
    /// proven with the Upper bound and its end with the Lower one, as `IUsageOracle.meterWindow` does
    /// (an unusable pair counts nothing unproven into the window).
    function _measure(
        CurtailmentEvent memory ev,
        uint256 assetId,
        ReductionProofs calldata proofs
    ) private view returns (Reduction memory r, uint64 availableAtStart, uint64 availableAtEnd) {
        uint64 startTime = ev.startTime;
        (uint64 baselineFrom, uint64 baselineTo) = _baselineWindow(ev);
        ReductionInput memory input;
        MeterAt memory eventFrom = _meterAt(assetId, startTime, proofs.eventStart, MeterBound.Upper);
        MeterAt memory eventTo = _meterAt(assetId, startTime + ev.durationSeconds, proofs.eventEnd, MeterBound.Lower);
        input.baselineFrom = _meterAt(assetId, baselineFrom, proofs.baselineStart, MeterBound.Upper).meter;
        input.baselineTo = _meterAt(assetId, baselineTo, proofs.baselineEnd, MeterBound.Lower).meter;
        input.eventFrom = eventFrom.meter;
        input.eventTo = eventTo.meter;
        input.eventProven = eventFrom.source != MeterSource.UnusablePair && eventTo.source != MeterSource.UnusablePair;
        (uint16 gpuCount, uint16 tdpWattsPerGpu, ) = nft.meteringLimits(assetId);
        input.maxPowerW = DemandResponseMath.maxPowerW(gpuCount, tdpWattsPerGpu);
        input.committedReductionJ = ev.committedReductionJ;
        input.ratePerKWh = ev.ratePerKWh;
        return (
            DemandResponseMath.reduction(input),
            eventFrom.meter.availableGpuSeconds,
            eventTo.meter.availableGpuSeconds
        );
    }

    /// @dev The asset's meter at `time` (`IUsageOracle.meterAt`); the boundary's proof is required.
    function _meterAt(
        uint256 assetId,
        uint64 time,
        MeterBoundary calldata boundary,
        MeterBound bound
    ) private view returns (MeterAt memory) {
        if (boundary.later.batchIndex == 0) revert MeterNotAtBoundary(time, 0);
        return oracle.meterAt(assetId, time, boundary.earlier, boundary.later, bound);
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

    /// @dev The event, unless unknown, cancelled, or not over yet (`EventNotOver`).
    function _endedEventOf(uint32 programmeId, uint32 eventIndex) private view returns (CurtailmentEvent memory ev) {
        ev = _liveEventOf(programmeId, eventIndex);
        uint64 endTime = uint64(ev.startTime) + ev.durationSeconds;
        if (block.timestamp < endTime) revert EventNotOver(programmeId, eventIndex, endTime);
    }

    /// @dev Whether proofs of the event come too late to be paid: its reservation was released, or the
    /// claim window has passed.
    function _isLate(CurtailmentEvent memory ev) private view returns (bool) {
        return
            ev.status == EventStatus.Released ||
            block.timestamp > uint256(ev.startTime) + ev.durationSeconds + CLAIM_WINDOW_SECONDS;
    }

    /// @dev Proves one asset's reduction for an ended event and records its outcome (see `proveReduction`).
    function _prove(
        uint32 programmeId,
        uint32 eventIndex,
        CurtailmentEvent memory ev,
        bool late,
        uint256 assetId,
        ReductionProofs calldata proofs
    ) private returns (Reduction memory r) {
        // Checks
        _requireCalled(programmeId, eventIndex, assetId);
        Outcome storage outcome = _outcomes[programmeId][eventIndex][assetId];
        if (outcome.status != OutcomeStatus.None) revert AlreadyProven(programmeId, eventIndex, assetId);
        uint64 availableAtStart;
        uint64 availableAtEnd;
        (r, availableAtStart, availableAtEnd) = _measure(ev, assetId, proofs);
        if (late) {
            r.status = OutcomeStatus.Late;
            r.credit = 0;
        }
        // Effects. Proven available meters come from 48-bit reading counters (or lie between two);
        // the credit is at most the reservation slice, within 96 bits.
        _outcomes[programmeId][eventIndex][assetId] = Outcome({
            status: r.status,
            availableAtStart: uint48(availableAtStart),
            availableAtEnd: uint48(availableAtEnd),
            credit: uint96(r.credit),
            ownerPaid: false,
            lesseePaid: false
        });
        if (late || r.status == OutcomeStatus.Credited) emit ReductionProven(programmeId, eventIndex, assetId, r);
        else emit NonCompliance(programmeId, eventIndex, assetId, r.status, r.baselineJ, r.meteredJ);
    }

    /// @dev Settles `count` assets' slices of the event's reservation: their credits (`credits` in all)
    /// stay owed, the rest goes back to the unreserved funds.
    function _settleSlices(
        uint32 programmeId,
        uint32 eventIndex,
        CurtailmentEvent memory ev,
        uint256 count,
        uint256 credits
    ) private {
        uint256 slices = DemandResponseMath.creditOf(ev.committedReductionJ, ev.ratePerKWh) * count;
        // Each asset is proven once and only called assets are: count <= memberCount - provenCount.
        _events[programmeId][eventIndex].provenCount = ev.provenCount + uint8(count);
        // credits <= slices (each reduction is capped at the committed one); the slices were reserved
        // from the available funds, within 96 bits.
        _programmes[programmeId].available += uint96(slices - credits);
    }

    /// @dev The outcome, unless it is not `Credited` (`NotCredited`).
    function _credited(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId
    ) private view returns (Outcome storage outcome) {
        outcome = _outcomes[programmeId][eventIndex][assetId];
        if (outcome.status != OutcomeStatus.Credited) revert NotCredited(programmeId, eventIndex, assetId);
    }

    /// @dev The lessee's and the owner's parts of an asset's credit (no lessee part without a check-in).
    function _parts(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId,
        uint256 credit
    ) private view returns (uint256 toLessee, uint256 toOwner) {
        Participant memory participant = _participants[programmeId][eventIndex][assetId];
        if (participant.account == address(0)) return (0, credit);
        return DemandResponseMath.split(credit, participant.shareBps);
    }

    /// @dev The member, unless the event does not call the asset (`NotCalled`).
    function _requireCalled(
        uint32 programmeId,
        uint32 eventIndex,
        uint256 assetId
    ) private view returns (Member memory member) {
        member = _members[programmeId][assetId];
        if (!_isCalled(member, eventIndex)) revert NotCalled(programmeId, eventIndex, assetId);
    }

    /// @dev Whether a membership covers an event index.
    function _isCalled(Member memory member, uint32 eventIndex) private pure returns (bool) {
        return
            member.firstEvent != 0 &&
            !(eventIndex < member.firstEvent) &&
            (member.endEvent == 0 || eventIndex < member.endEvent);
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
        if (eventIndex == 0 || eventIndex > _programmes[programmeId].eventCount)
            revert UnknownEvent(programmeId, eventIndex);
        ev = _events[programmeId][eventIndex];
        if (ev.status == EventStatus.Cancelled) revert CancelledEvent(programmeId, eventIndex);
    }
}
