// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CheatBase } from "../utils/TestBase.sol";
import { EnergyFeed } from "./EnergyFeed.sol";
import { DemandResponseProgramme } from "../../../contracts/DemandResponseProgramme.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";
import { Meter, MeterAt, MeterBound, MeterBoundary } from "../../../contracts/types/OracleTypes.sol";
import { Lease, LeaseBill, LeaseTerms, StoredLeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import {
    BaselineRule,
    CurtailmentEvent,
    EventParams,
    EventStatus,
    Outcome,
    OutcomeStatus,
    Reduction,
    ReductionProofs
} from "../../../contracts/types/DemandResponseTypes.sol";
import { SettlementMath } from "../../../contracts/libraries/SettlementMath.sol";

/// @title DemandResponseHandler — random actions on a programme, its events and the escrow's leases
/// @notice Three 8-GPU assets enrolled in one programme; #1 and #2 on curtailable terms (different caps),
/// #3 on plain terms. The feed posts signed readings of all three (random, physically possible loads,
/// low inside events for assets that comply) and adds a reading at every event boundary it crosses.
/// The sponsor deposits, withdraws, announces and cancels; anyone checks in, proves, claims and
/// releases; lessees open leases funded for full use, and keepers settle and close them with proofs
/// built from the feed. Ghost totals: what the sponsor deposited and withdrew, credits owed and paid,
/// and per lease the plain bill (no curtailment) of the meters it was billed up to.
contract DemandResponseHandler is CheatBase {
    uint256 internal constant GPUS = 8;
    uint256 internal constant TDP = 700;
    uint32 internal constant PROGRAMME = 1;

    GpuAssetNFT public immutable nft;
    UsageOracle public immutable oracle;
    SettlementEscrow public immutable escrow;
    DemandResponseProgramme public immutable programme;
    MockUSDC public immutable usdc;
    EnergyFeed public immutable feed;
    address public immutable sponsor;
    address public immutable provider;
    address[3] public lessees;

    // ---------------------------------------------------------------- ghosts
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostCreditsOwed;
    uint256 public ghostCreditsPaid;
    /// @dev The largest credit owed for one asset in one event, against that event's per-asset cap.
    bool public ghostCreditOverCap;
    /// @dev A non-curtailable lease billed differently from its plain bill, or a curtailable one billed
    /// more than it, or less than its plain bill without the reservation.
    bool public ghostBillOutOfBounds;
    /// @dev An outcome whose recorded event meters are not the oracle's meters at the event boundaries.
    bool public ghostOutcomeMetersWrong;
    /// @dev How often each kind of action took effect (to read the campaign's reach in traces).
    uint256 public proofsCredited;
    uint256 public proofsNonCompliant;
    uint256 public billsCurtailed;
    uint256 public leaseCount;
    mapping(uint256 leaseId => bool) public leaseCurtailable;

    /// @dev Each asset's counters now; whether it complies during events.
    Meter[3] internal _now;
    bool[3] internal _complies;
    uint256 public calls;

    constructor(
        GpuAssetNFT nft_,
        UsageOracle oracle_,
        SettlementEscrow escrow_,
        DemandResponseProgramme programme_,
        MockUSDC usdc_,
        EnergyFeed feed_,
        address sponsor_,
        address provider_
    ) {
        nft = nft_;
        oracle = oracle_;
        escrow = escrow_;
        programme = programme_;
        usdc = usdc_;
        feed = feed_;
        sponsor = sponsor_;
        provider = provider_;
        for (uint256 i; i < 3; ++i) {
            lessees[i] = address(uint160(0x1E55EE + i));
            _now[i] = Meter({ timestamp: 0, busyGpuSeconds: 1_000, availableGpuSeconds: 5_000, energyJ: 1_000_000 });
            _complies[i] = i != 1;
        }
    }

    /// @notice Records the sponsor's first deposit (made in the test's set-up).
    function noteDeposit(uint256 amount) external {
        ghostDeposited += amount;
    }

    // ---------------------------------------------------------------- the feed

    /// @notice Time passes by up to 3 h and a batch is posted (at the first event boundary crossed, if
    /// any), every asset at a random physically possible load; compliant assets draw little in events.
    function post(uint256 seed, uint256 dtSeed) external {
        ++calls;
        uint64 last = feed.lastTimestamp();
        uint64 at = uint64(block.timestamp) > last ? uint64(block.timestamp) : last + 1;
        at += uint64(bound(dtSeed, 60, 3 hours));
        uint64 boundary = _nextBoundary(last);
        if (boundary != 0 && boundary < at) at = boundary;
        if (at > block.timestamp) vm.warp(at);
        uint256 dt = last == 0 ? 0 : at - last;
        bool inEvent = _inEvent(at);
        Meter[] memory values = new Meter[](3);
        for (uint256 i; i < 3; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            uint256 capacity = GPUS * dt;
            uint256 available = bound(s % 1e9, capacity / 2, capacity);
            uint256 busy = inEvent && _complies[i] ? 0 : bound((s >> 32) % 1e9, 0, available);
            uint256 maxEnergy = (capacity * TDP * 11_000) / 10_000;
            uint256 energy =
                inEvent && _complies[i] ? (capacity * 50) : bound((s >> 64) % 1e12, maxEnergy / 3, maxEnergy);
            _now[i].busyGpuSeconds += uint64(busy);
            _now[i].availableGpuSeconds += uint64(available);
            _now[i].energyJ += uint64(energy);
            values[i] = _now[i];
        }
        feed.post(at, values);
    }

    /// @notice Time passes without readings (dispute windows, claim windows).
    function warp(uint256 dtSeed) external {
        ++calls;
        uint256 dt = bound(dtSeed, 1 hours, 3 days);
        if (dtSeed % 17 == 0) dt = 31 days;
        vm.warp(block.timestamp + dt);
    }

    // ---------------------------------------------------------------- the sponsor

    /// @notice The sponsor deposits.
    function deposit(uint256 amountSeed) external {
        ++calls;
        uint256 amount = bound(amountSeed, 1, 200e6);
        usdc.mint(sponsor, amount);
        vm.prank(sponsor);
        usdc.approve(address(programme), amount);
        vm.prank(sponsor);
        programme.deposit(PROGRAMME, amount);
        ghostDeposited += amount;
    }

    /// @notice The sponsor withdraws part of its unreserved funds.
    function withdrawFunds(uint256 amountSeed) external {
        ++calls;
        uint256 available = programme.programmeOf(PROGRAMME).available;
        if (available == 0) return;
        uint256 amount = bound(amountSeed, 1, available);
        vm.prank(sponsor);
        programme.withdrawFunds(PROGRAMME, amount, sponsor);
        ghostWithdrawn += amount;
    }

    /// @notice The sponsor announces an event starting soon.
    function announce(uint256 seed) external {
        ++calls;
        uint64 now_ = uint64(block.timestamp);
        uint64 earliest = now_ + 10 minutes;
        uint64 lastReading = oracle.lastBatchTimestamp();
        if (lastReading + 1 > earliest) earliest = lastReading + 1;
        uint64 lastEnd = programme.programmeOf(PROGRAMME).lastEventEnd;
        if (lastEnd > earliest) earliest = lastEnd;
        uint64 start = earliest + uint64(bound(seed % 1e6, 0, 2 hours));
        if (start > now_ + 30 days) return;
        uint64 end = start + uint64(bound((seed >> 24) % 1e6, 15 minutes, 4 hours));
        bool priorDay = (seed >> 48) % 3 == 0 && end - 1 days <= now_;
        EventParams memory params = EventParams({
            noticeTime: now_,
            startTime: start,
            endTime: end,
            ratePerKWh: bound((seed >> 64) % 1e9, 1, 2e6),
            committedReductionJ: bound((seed >> 96) % 1e12, 1e5, 5e7),
            baselineRule: priorDay ? BaselineRule.PriorDay : BaselineRule.PreNotice,
            baselineWindowSeconds: priorDay ? 0 : uint64(900 * bound((seed >> 128) % 100, 1, 8))
        });
        vm.prank(sponsor);
        programme.announce(PROGRAMME, params);
    }

    /// @notice The sponsor cancels its latest event.
    function cancelLatest() external {
        ++calls;
        uint32 latest = programme.programmeOf(PROGRAMME).eventCount;
        vm.prank(sponsor);
        programme.cancel(PROGRAMME, latest);
    }

    // ---------------------------------------------------------------- anyone

    /// @notice Someone checks the asset's lessee in for an event.
    function checkIn(uint256 eventSeed, uint256 assetSeed) external {
        ++calls;
        (uint32 e, uint256 a) = _pick(eventSeed, assetSeed);
        if (e == 0) return;
        programme.checkIn(PROGRAMME, e, a);
    }

    /// @notice Someone proves an asset's reduction for an event, with proofs built from the feed.
    function prove(uint256 eventSeed, uint256 assetSeed) external {
        ++calls;
        (uint32 e, uint256 a) = _pick(eventSeed, assetSeed);
        if (e == 0) return;
        CurtailmentEvent memory ev = programme.eventOf(PROGRAMME, e);
        (uint64 from, uint64 to) = programme.baselineWindowOf(PROGRAMME, e);
        ReductionProofs memory proofs;
        bool ok;
        bool all = true;
        (proofs.baselineStart, ok, ) = feed.boundaryAt(a, from);
        all = all && ok;
        (proofs.baselineEnd, ok, ) = feed.boundaryAt(a, to);
        all = all && ok;
        (proofs.eventStart, ok, ) = feed.boundaryAt(a, ev.startTime);
        all = all && ok;
        (proofs.eventEnd, ok, ) = feed.boundaryAt(a, uint64(ev.startTime) + ev.durationSeconds);
        if (!(all && ok)) return;
        Reduction memory r = programme.proveReduction(PROGRAMME, e, a, proofs);
        if (r.status == OutcomeStatus.Credited) {
            ++proofsCredited;
            ghostCreditsOwed += r.credit;
            if (r.credit > programme.maxCreditPerAsset(PROGRAMME, e)) ghostCreditOverCap = true;
        } else if (r.status != OutcomeStatus.Late) {
            ++proofsNonCompliant;
        }
        Outcome memory o = programme.outcomeOf(PROGRAMME, e, a);
        MeterAt memory atStart = oracle.meterAt(
            a,
            ev.startTime,
            proofs.eventStart.earlier,
            proofs.eventStart.later,
            MeterBound.Upper
        );
        MeterAt memory atEnd = oracle.meterAt(
            a,
            uint64(ev.startTime) + ev.durationSeconds,
            proofs.eventEnd.earlier,
            proofs.eventEnd.later,
            MeterBound.Lower
        );
        if (
            o.availableAtStart != atStart.meter.availableGpuSeconds ||
            o.availableAtEnd != atEnd.meter.availableGpuSeconds
        ) {
            ghostOutcomeMetersWrong = true;
        }
    }

    /// @notice Someone pays the owner's part of a credit.
    function claimOwner(uint256 eventSeed, uint256 assetSeed) external {
        ++calls;
        (uint32 e, uint256 a) = _pick(eventSeed, assetSeed);
        if (e == 0) return;
        ghostCreditsPaid += programme.claimOwnerCredit(PROGRAMME, e, a);
    }

    /// @notice Someone pays the lessee's part of a credit.
    function claimLessee(uint256 eventSeed, uint256 assetSeed) external {
        ++calls;
        (uint32 e, uint256 a) = _pick(eventSeed, assetSeed);
        if (e == 0) return;
        ghostCreditsPaid += programme.claimLesseeCredit(PROGRAMME, e, a);
    }

    /// @notice Someone releases an event's unclaimed reservation.
    function release(uint256 eventSeed) external {
        ++calls;
        (uint32 e, ) = _pick(eventSeed, 0);
        if (e == 0) return;
        programme.release(PROGRAMME, e);
    }

    // ---------------------------------------------------------------- the escrow

    /// @notice A lessee opens a lease funded for full use of its whole time.
    function openLease(uint256 assetSeed, uint256 lesseeSeed, uint256 hoursSeed) external {
        ++calls;
        uint256 a = bound(assetSeed, 1, 3);
        address lessee = lessees[bound(lesseeSeed, 0, 2)];
        uint256 hours_ = bound(hoursSeed, 1, 48);
        uint256 deposit_ = escrow.minimumDeposit(a) * (hours_ + 1);
        usdc.mint(lessee, deposit_);
        vm.prank(lessee);
        usdc.approve(address(escrow), deposit_);
        uint24 version = escrow.currentTermsVersion(a);
        vm.prank(lessee);
        uint256 leaseId = escrow.openLease(a, version, uint64(hours_ * 1 hours), deposit_);
        leaseCount = leaseId;
        leaseCurtailable[leaseId] = a != 3;
    }

    /// @notice The lessee ends its lease early.
    function endByLessee(uint256 leaseSeed) external {
        ++calls;
        if (leaseCount == 0) return;
        uint256 leaseId = bound(leaseSeed, 1, leaseCount);
        vm.prank(escrow.leaseOf(leaseId).lessee);
        escrow.endByLessee(leaseId);
    }

    /// @notice A keeper settles (or, past the end, closes) a lease as far as billable readings allow.
    function settle(uint256 leaseSeed) external {
        ++calls;
        if (leaseCount == 0) return;
        uint256 leaseId = bound(leaseSeed, 1, leaseCount);
        Lease memory lease = escrow.leaseOf(leaseId);
        if (lease.closed) return;
        uint64 billableBy = uint64(block.timestamp) - escrow.disputeWindowSeconds();
        MeterBoundary memory start;
        if (!lease.startMetered) {
            bool ok;
            uint64 acceptedAt;
            (start, ok, acceptedAt) = feed.boundaryAt(lease.assetId, lease.startTime);
            if (!ok || acceptedAt > billableBy) return;
        }
        (MeterBoundary memory end, bool atEnd, uint64 endAccepted) = feed.boundaryAt(lease.assetId, lease.endTime);
        MeterBoundary memory point = end;
        if (atEnd && endAccepted <= billableBy && block.timestamp >= lease.endTime) {
            escrow.close(leaseId, start, end);
        } else {
            uint256 batch = feed.lastAtOrBefore(lease.endTime);
            while (batch != 0 && feed.acceptedAtOf(batch) > billableBy) --batch;
            if (batch == 0 || feed.timestampOf(batch) <= lease.startTime) return;
            point = feed.single(batch, lease.assetId);
            escrow.settle(leaseId, start, point);
        }
        _checkBill(leaseId, point);
    }

    // ---------------------------------------------------------------- checks

    /// @dev The lease's bill so far against its plain bill (no curtailment) up to the same point: a plain
    /// lease's bill is the plain bill; a curtailable one's usage and energy fees are the plain ones and
    /// only its reservation fee may be lower. The charge is the bill (leases are funded for full use).
    function _checkBill(uint256 leaseId, MeterBoundary memory point) internal {
        Lease memory lease = escrow.leaseOf(leaseId);
        LeaseBill memory plain = _plainBill(lease);
        MeterBoundary memory absent;
        (LeaseBill memory bill, ) = escrow.previewBill(leaseId, absent, point);
        bool within =
            lease.billed == bill.total &&
                bill.usageFee == plain.usageFee &&
                bill.energyFee == plain.energyFee &&
                bill.availabilityBps == plain.availabilityBps;
        if (leaseCurtailable[leaseId]) {
            if (bill.reservationFee < plain.reservationFee) ++billsCurtailed;
            within = within && bill.reservationFee <= plain.reservationFee && bill.total <= plain.total;
        } else {
            within = within && bill.reservationFee == plain.reservationFee && bill.total == plain.total;
        }
        if (!within) ghostBillOutOfBounds = true;
    }

    /// @dev SettlementMath's bill of the lease without curtailment, from its stored start meter to the
    /// meter at the time it was billed up to (the last LeaseSettled point, re-proven from the feed).
    function _plainBill(Lease memory lease) internal view returns (LeaseBill memory) {
        Meter memory start = Meter({
            timestamp: lease.startTime,
            busyGpuSeconds: lease.startBusyGpuSeconds,
            availableGpuSeconds: lease.startAvailableGpuSeconds,
            energyJ: lease.startEnergyJ
        });
        Meter memory point = _billedPoint(lease);
        StoredLeaseTerms memory terms = _storedTerms(lease);
        return
            SettlementMath.leaseBill(start, point, lease.endTime - lease.startTime, uint16(GPUS), uint16(TDP), terms);
    }

    /// @dev The meter the lease was billed up to: at its end if it is closed with a final reading, else
    /// at the latest billable reading inside it that the keeper used (the handler settles only to those).
    function _billedPoint(Lease memory lease) internal view returns (Meter memory) {
        uint64 billableBy = uint64(block.timestamp) - escrow.disputeWindowSeconds();
        if (lease.closed) {
            (MeterBoundary memory b, , ) = feed.boundaryAt(lease.assetId, lease.endTime);
            MeterAt memory m = oracle.meterAt(lease.assetId, lease.endTime, b.earlier, b.later, MeterBound.Lower);
            return m.meter;
        }
        uint256 batch = feed.lastAtOrBefore(lease.endTime);
        while (batch != 0 && feed.acceptedAtOf(batch) > billableBy) --batch;
        return feed.meterOf(batch, lease.assetId);
    }

    /// @dev The lease's terms version as `SettlementMath` takes it.
    function _storedTerms(Lease memory lease) internal view returns (StoredLeaseTerms memory t) {
        LeaseTerms memory given = escrow.leaseTermsAt(lease.assetId, lease.termsVersion);
        t.token = given.token;
        t.reservationPricePerGpuHour = uint96(given.reservationPricePerGpuHour);
        t.usagePricePerBusyGpuHour = uint96(given.usagePricePerBusyGpuHour);
        t.energyPricePerKWh = uint64(given.energyPricePerKWh);
        t.minDurationSeconds = uint32(given.minDurationSeconds);
        t.maxDurationSeconds = uint32(given.maxDurationSeconds);
        t.slaAvailabilityBps = given.slaAvailabilityBps;
        t.earlyEndAllowed = given.earlyEndAllowed;
    }

    // ---------------------------------------------------------------- helpers

    /// @dev An existing event index and an asset id, from seeds (0 when there is no event).
    function _pick(uint256 eventSeed, uint256 assetSeed) internal view returns (uint32 e, uint256 a) {
        uint32 count = programme.programmeOf(PROGRAMME).eventCount;
        if (count == 0) return (0, 0);
        e = uint32(bound(eventSeed, 1, count));
        a = bound(assetSeed, 1, 3);
    }

    /// @dev The first live event boundary after `after` (0 when none).
    function _nextBoundary(uint64 after_) internal view returns (uint64 next) {
        uint32 count = programme.programmeOf(PROGRAMME).eventCount;
        for (uint32 i = count; i >= 1 && i + 8 > count; --i) {
            CurtailmentEvent memory ev = programme.eventOf(PROGRAMME, i);
            if (ev.status == EventStatus.Cancelled) continue;
            uint64 s = ev.startTime;
            uint64 en = s + ev.durationSeconds;
            if (s > after_ && (next == 0 || s < next)) next = s;
            if (en > after_ && (next == 0 || en < next)) next = en;
        }
    }

    /// @dev Whether `t` falls inside a live event (end included: the reading there closes the event).
    function _inEvent(uint64 t) internal view returns (bool) {
        uint32 count = programme.programmeOf(PROGRAMME).eventCount;
        for (uint32 i = count; i >= 1 && i + 8 > count; --i) {
            CurtailmentEvent memory ev = programme.eventOf(PROGRAMME, i);
            if (ev.status == EventStatus.Cancelled) continue;
            if (t > ev.startTime && t <= uint64(ev.startTime) + ev.durationSeconds) return true;
        }
        return false;
    }

    /// @notice Outstanding reservations over every event.
    function reservedTotal() external view returns (uint256 total) {
        uint32 count = programme.programmeOf(PROGRAMME).eventCount;
        for (uint32 i = 1; i <= count; ++i) total += programme.reservedOf(PROGRAMME, i);
    }

    /// @notice Every ghost lease-holder and payee, for the escrow's solvency check.
    function accounts() external view returns (address[4] memory out) {
        out[0] = provider;
        for (uint256 i; i < 3; ++i) out[i + 1] = lessees[i];
    }
}
