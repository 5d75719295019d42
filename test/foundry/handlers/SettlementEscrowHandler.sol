// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { OracleHistory } from "../utils/OracleHistory.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { SettlementMath } from "../../../contracts/libraries/SettlementMath.sol";
import { EndReason, LeaseTerms, StoredLeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import { Meter, MeterBoundary } from "../../../contracts/types/OracleTypes.sol";

/// @notice Any token the campaign pays in: the mocks all mint freely.
interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @notice Drives SettlementEscrow v2 through random lease lifecycles — opens (with the current or a
/// stale terms version), new terms, top-ups, signed batches posted to the real UsageOracle (some with
/// physically impossible readings, some stamped ahead within the skew), settlements at random points
/// with Merkle proofs built here, closes with and without a final reading, early ends of all three
/// kinds, disputes and their resolution, withdrawals, NFT sales, a burn, pauses and time.
///
/// It keeps a complete ghost of the escrow: every lease's deposits, bill, balance and dispute, and
/// every party's withdrawable balance, all computed here from the meters (`OracleHistory`) and the
/// pure `SettlementMath` — never read back from the escrow. Before each call it predicts whether the
/// escrow must accept or refuse it (pause, running, funding, billability, arbiter deadline, grace);
/// a call whose outcome differs from the prediction is a rule break, and after an accepted call the
/// ghost moves by the amounts it computed, so crediting the wrong party, charging a wrong amount or a
/// missing pause check breaks an invariant.
/// @dev This contract is the arbiter and the pauser; actors act through `vm.prank`.
contract SettlementEscrowHandler is OracleHistory {
    using SafeERC20 for IERC20;

    /// @dev A lease as the ghost sees it.
    struct GhostLease {
        address lessee;
        uint256 assetId;
        uint24 termsVersion;
        uint64 startTime;
        uint64 endTime;
        EndReason endReason;
        bool closed;
        bool finalReading;
        bool startMetered;
        Meter start;
        uint256 deposited;
        uint256 balance;
        uint256 billed;
        uint256 disputed;
        uint256 disputeRefunded;
        uint64 disputeDeadline;
    }

    /// @dev A billing the ghost expects: the bill up to a point and what it would charge.
    struct Expected {
        bool newStart;
        Meter start;
        uint64 pointTime;
        uint64 latestAcceptedAt;
        uint256 bill;
        uint256 chargeable;
    }

    SettlementEscrow public immutable escrow;
    IERC20 public immutable token;
    uint64 public immutable disputeWindow;
    uint64 public immutable arbiterTimeout;
    uint64 public immutable grace;
    uint64 public immutable skew;

    address[] public lessees;
    address[] public owners;
    address public immutable stranger = address(0x57A4);
    /// @notice Every account that can ever hold a withdrawable balance.
    address[] public actors;
    uint256[] public assets;
    /// @notice The one asset the campaign may burn (once its lease is over).
    uint256 public immutable burnableAsset;

    // ---- the ghost ----
    GhostLease[] internal _leases;
    mapping(uint256 assetId => mapping(uint24 version => LeaseTerms)) internal _terms;
    mapping(uint256 assetId => uint24) public ghostCurrentTerms;
    mapping(uint256 assetId => uint24) public ghostLatestTerms;
    mapping(uint256 assetId => address) public ghostOwner;
    mapping(uint256 assetId => bool) public ghostBurned;
    mapping(address account => uint256) public ghostWithdrawable;
    mapping(address account => uint256) public ghostPaidOut;
    bool public ghostPaused;

    /// @notice Calls whose outcome differed from the ghost's prediction: must stay zero.
    uint256 public ruleBreaks;
    string public lastRuleBreak;
    mapping(bytes32 action => uint256) public calls;
    /// @notice Calls the escrow accepted, per action (the campaign's reach: see `test_handlerReach`).
    mapping(bytes32 action => uint256) public accepted;

    constructor(
        SettlementEscrow escrow_,
        GpuAssetNFT nft_,
        UsageOracle oracle_,
        uint256 signerKey_,
        IERC20 token_,
        address[] memory lessees_,
        address[] memory owners_,
        uint256[] memory assets_,
        uint256 burnableAsset_
    ) OracleHistory(oracle_, nft_, signerKey_) {
        escrow = escrow_;
        token = token_;
        disputeWindow = escrow_.disputeWindowSeconds();
        arbiterTimeout = escrow_.arbiterTimeoutSeconds();
        grace = escrow_.FINAL_READING_GRACE_SECONDS();
        skew = oracle_.maxFutureSkewSeconds();
        lessees = lessees_;
        owners = owners_;
        assets = assets_;
        burnableAsset = burnableAsset_;
        for (uint256 i = 0; i < lessees_.length; i++) actors.push(lessees_[i]);
        for (uint256 i = 0; i < owners_.length; i++) actors.push(owners_[i]);
        actors.push(stranger);
        for (uint256 i = 0; i < assets_.length; i++) {
            ghostOwner[assets_[i]] = nft_.ownerOf(assets_[i]);
            _rememberSpec(assets_[i]);
        }
    }

    // ---------------------------------------------------------------- views for the invariants

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function leaseCount() external view returns (uint256) {
        return _leases.length;
    }

    function ghostLease(uint256 leaseId) external view returns (GhostLease memory) {
        return _leases[leaseId - 1];
    }

    function termsOf(uint256 assetId, uint24 version) public view returns (LeaseTerms memory) {
        return _terms[assetId][version];
    }

    /// @notice The lease's bill up to its end computed directly from the meters at its start and end
    /// (no settlement history); `exists` is false while the end is not provable.
    function directBill(uint256 leaseId) external view returns (bool exists, uint256 bill) {
        GhostLease memory l = _leases[leaseId - 1];
        GhostMeter memory s = _meterAt(l.assetId, _firstAtOrAfter(l.assetId, l.startTime), l.startTime, true);
        GhostMeter memory e = _meterAt(l.assetId, _firstAtOrAfter(l.assetId, l.endTime), l.endTime, false);
        if (!s.exists || !e.exists) return (false, 0);
        (uint16 gpuCount, uint16 tdp) = _limits(l.assetId);
        bill = SettlementMath.leaseBill(s.meter, e.meter, l.endTime - l.startTime, gpuCount, tdp, _stored(l)).total;
        return (true, bill);
    }

    /// @notice Full use of the lease over its time: no bill may exceed it.
    function fullUse(uint256 leaseId) external view returns (uint256) {
        GhostLease memory l = _leases[leaseId - 1];
        (uint16 gpuCount, uint16 tdp) = _limits(l.assetId);
        return SettlementMath.fullUseCost(gpuCount, tdp, _stored(l), l.endTime - l.startTime);
    }

    // ---------------------------------------------------------------- setup (called by the test)

    /// @notice Publishes terms for an asset as its owner (setup and the `publishTerms` action).
    function setTerms(uint256 assetId, LeaseTerms memory terms) public {
        vm.prank(ghostOwner[assetId]);
        escrow.setLeaseTerms(assetId, terms);
        uint24 version = ghostLatestTerms[assetId] + 1;
        _terms[assetId][version] = terms;
        ghostLatestTerms[assetId] = version;
        ghostCurrentTerms[assetId] = version;
    }

    // ---------------------------------------------------------------- actions: terms and leases

    /// @notice The owner publishes changed prices (a new version), or now and then withdraws the terms.
    function publishTerms(uint256 assetSeed, uint256 priceSeed) external {
        uint256 assetId = _asset(assetSeed);
        if (ghostBurned[assetId]) return;
        calls["publishTerms"]++;
        if (priceSeed % 16 == 0 && ghostCurrentTerms[assetId] != 0) {
            vm.prank(ghostOwner[assetId]);
            escrow.removeLeaseTerms(assetId);
            ghostCurrentTerms[assetId] = 0;
            return;
        }
        LeaseTerms memory t = _terms[assetId][ghostLatestTerms[assetId]];
        t.reservationPricePerGpuHour = bound(priceSeed, 0, 5_000_000);
        t.usagePricePerBusyGpuHour = bound(priceSeed >> 32, 0, 5_000_000);
        t.energyPricePerKWh = bound(priceSeed >> 64, 0, 1_000_000);
        t.slaAvailabilityBps = uint16(bound(priceSeed >> 96, 0, 10_000));
        t.earlyEndAllowed = (priceSeed >> 128) % 2 == 0;
        // A change of price only; a repeat of the current terms would be refused as a no-op.
        if (ghostCurrentTerms[assetId] != 0) {
            LeaseTerms memory c = _terms[assetId][ghostCurrentTerms[assetId]];
            if (keccak256(abi.encode(c)) == keccak256(abi.encode(t))) return;
        }
        setTerms(assetId, t);
    }

    /// @dev An open the handler is about to try.
    struct OpenPlan {
        address lessee;
        uint256 assetId;
        uint24 current;
        uint24 version;
        uint64 duration;
        uint256 deposit;
        uint256 minimum;
    }

    /// @notice A lessee opens a lease, usually under the current terms version, sometimes under a stale
    /// or unknown one (issue 14's front-run: that open must be refused).
    function openLease(uint256 lesseeSeed, uint256 assetSeed, uint256 durationSeed, uint256 depositSeed) external {
        OpenPlan memory p = _planOpen(lesseeSeed, assetSeed, durationSeed, depositSeed);
        if (ghostBurned[p.assetId]) return;
        IMintable(address(token)).mint(p.lessee, p.deposit);
        vm.prank(p.lessee);
        token.forceApprove(address(escrow), p.deposit);
        bool expected = !ghostPaused &&
            p.current != 0 &&
            p.version == p.current &&
            !_hasRunningLease(p.assetId) &&
            p.deposit >= p.minimum;
        calls["openLease"]++;
        vm.prank(p.lessee);
        (bool ok, bytes memory ret) = address(escrow).call(
            abi.encodeCall(escrow.openLease, (p.assetId, p.version, p.duration, p.deposit))
        );
        if (!_outcome("openLease", ok, expected)) return;
        if (!ok) {
            vm.prank(p.lessee);
            token.forceApprove(address(escrow), 0);
            return;
        }
        GhostLease storage l = _leases.push();
        l.lessee = p.lessee;
        l.assetId = p.assetId;
        l.termsVersion = p.current;
        l.startTime = uint64(block.timestamp);
        l.endTime = uint64(block.timestamp) + p.duration;
        l.deposited = p.deposit;
        l.balance = p.deposit;
        if (abi.decode(ret, (uint256)) != _leases.length) _break("openLease", "lease id");
    }

    function _planOpen(
        uint256 lesseeSeed,
        uint256 assetSeed,
        uint256 durationSeed,
        uint256 depositSeed
    ) internal view returns (OpenPlan memory p) {
        p.lessee = lessees[lesseeSeed % lessees.length];
        p.assetId = _asset(assetSeed);
        p.current = ghostCurrentTerms[p.assetId];
        p.version = durationSeed % 8 == 0 ? uint24(bound(durationSeed >> 8, 0, ghostLatestTerms[p.assetId] + 1)) : p.current;
        LeaseTerms memory t = _terms[p.assetId][p.current == 0 ? ghostLatestTerms[p.assetId] : p.current];
        // Half the leases last at most half a day beyond their minimum, so that many end within a run.
        uint256 longest = durationSeed % 2 == 0 ? t.maxDurationSeconds : t.minDurationSeconds + 12 hours;
        if (longest > t.maxDurationSeconds) longest = t.maxDurationSeconds;
        p.duration = uint64(bound(durationSeed >> 40, t.minDurationSeconds, longest));
        (uint16 gpuCount, uint16 tdp) = _limits(p.assetId);
        StoredLeaseTerms memory s = _storedOf(t);
        p.minimum = SettlementMath.fullUseCost(gpuCount, tdp, s, 1 hours);
        uint256 whole = SettlementMath.fullUseCost(gpuCount, tdp, s, p.duration);
        // A quarter of the leases are funded for exactly their whole time; the rest anywhere from the
        // minimum to one and a half times that.
        p.deposit = depositSeed % 4 == 0 ? whole : bound(depositSeed, p.minimum, (whole * 3) / 2 + p.minimum);
        if (p.deposit == 0) p.deposit = 1;
    }

    /// @notice Anyone tops up a lease.
    function topUp(uint256 leaseSeed, uint256 payerSeed, uint256 amount) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (!any) return;
        GhostLease storage l = _leases[leaseId - 1];
        address payer = actors[payerSeed % actors.length];
        amount = bound(amount, 1, 1e12);
        IMintable(address(token)).mint(payer, amount);
        vm.prank(payer);
        token.forceApprove(address(escrow), amount);
        bool expected = !ghostPaused && _running(l);
        calls["topUp"]++;
        vm.prank(payer);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.topUp, (leaseId, amount)));
        if (!_outcome("topUp", ok, expected)) return;
        if (!ok) {
            vm.prank(payer);
            token.forceApprove(address(escrow), 0);
            return;
        }
        l.deposited += amount;
        l.balance += amount;
    }

    // ---------------------------------------------------------------- actions: meters and time

    /// @notice A feeder round: up to six hours pass, then one signed batch for one to three assets,
    /// stamped now (one in four up to the oracle's skew ahead); deltas physically possible, except one
    /// reading in ten that jumps past the GPUs' capacity.
    function report(uint256 assetMask, uint256 availableBps, uint256 busyBps, uint256 energyBps, uint256 aheadSeed) external {
        vm.warp(block.timestamp + bound(aheadSeed >> 16, 0, 6 hours));
        uint64 timestamp = uint64(block.timestamp) + (aheadSeed % 4 == 0 ? uint64(bound(aheadSeed >> 2, 1, skew)) : 0);
        if (timestamp <= lastBatchTimestamp) timestamp = lastBatchTimestamp + 1;
        if (timestamp > block.timestamp + skew) return;
        uint256 count;
        uint256 mask = bound(assetMask, 1, (1 << assets.length) - 1);
        for (uint256 i = 0; i < assets.length; i++) if (mask & (1 << i) != 0 && !ghostBurned[assets[i]]) count++;
        if (count == 0) return;
        uint256[] memory ids = new uint256[](count);
        Meter[] memory values = new Meter[](count);
        uint256 n;
        for (uint256 i = 0; i < assets.length; i++) {
            if (mask & (1 << i) == 0 || ghostBurned[assets[i]]) continue;
            ids[n] = assets[i];
            values[n] = _nextValues(assets[i], timestamp, _spread(availableBps, i), _spread(busyBps, i), _spread(energyBps, i));
            n++;
        }
        calls["report"]++;
        _post(timestamp, ids, values);
    }

    /// @dev A seed of its own for asset `i` of a batch (the first asset takes the fuzzer's value as it is).
    function _spread(uint256 seed, uint256 i) internal pure returns (uint256) {
        return i == 0 ? seed : uint256(keccak256(abi.encode(seed, i)));
    }

    function _nextValues(
        uint256 assetId,
        uint64 timestamp,
        uint256 availableBps,
        uint256 busyBps,
        uint256 energyBps
    ) internal view returns (Meter memory m) {
        Meter memory last = _latest(assetId);
        if (last.timestamp == 0) {
            // An asset's first reading: counters cumulative since some earlier origin.
            return Meter({ timestamp: timestamp, busyGpuSeconds: 1_000, availableGpuSeconds: 5_000, energyJ: 1_000_000 });
        }
        (uint16 gpuCount, uint16 tdp) = _limits(assetId);
        uint256 dt = timestamp - last.timestamp;
        uint256 available = (uint256(gpuCount) * dt * bound(availableBps, 0, 10_000)) / 10_000;
        uint256 busy = (available * bound(busyBps, 0, 10_000)) / 10_000;
        uint256 maxEnergy = (uint256(gpuCount) * dt * tdp * (10_000 + oracle.energyMarginBps())) / 10_000;
        uint256 energy = (maxEnergy * bound(energyBps, 0, 10_000)) / 10_000;
        // One reading in ten is physically impossible (more available time than the GPUs have).
        if (availableBps % 10 == 7) available += uint256(gpuCount) * dt + 1;
        m.timestamp = timestamp;
        m.busyGpuSeconds = last.busyGpuSeconds + uint64(busy);
        m.availableGpuSeconds = last.availableGpuSeconds + uint64(available);
        m.energyJ = last.energyJ + uint64(energy);
    }

    /// @notice Time passes: usually up to a day, one call in eight up to nine days (past the grace period).
    function warp(uint256 secondsSeed) external {
        calls["warp"]++;
        uint256 max = secondsSeed % 8 == 0 ? 9 days : 1 days;
        vm.warp(block.timestamp + bound(secondsSeed >> 3, 1, max));
    }

    // ---------------------------------------------------------------- actions: billing

    /// @notice Anyone settles a lease up to a randomly chosen reading (or its end), with proofs built here.
    function settle(uint256 leaseSeed, uint256 callerSeed, uint256 pointSeed) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (!any) return;
        GhostLease memory l = _leases[leaseId - 1];
        (bool provable, uint256 k) = _pickPoint(l, pointSeed, true);
        if (!provable) return;
        (MeterBoundary memory start, MeterBoundary memory point) = _proofsFor(l, k);
        Expected memory e = _expect(l, k);
        // Billable: every reading past its dispute window, and the point not after now.
        bool billable = block.timestamp >= uint256(e.latestAcceptedAt) + disputeWindow && block.timestamp >= e.pointTime;
        bool expected = !l.closed && !ghostBurned[l.assetId] && (e.chargeable != 0 || e.newStart) && billable;
        calls["settle"]++;
        vm.prank(actors[callerSeed % actors.length]);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.settle, (leaseId, start, point)));
        if (!_outcome("settle", ok, expected) || !ok) return;
        _applyCharge(leaseId, e);
    }

    /// @notice Anyone closes a lease: with the final reading when there is one (three times in four),
    /// else without.
    function close(uint256 leaseSeed, uint256 callerSeed, uint256 withReadingSeed) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (any) _close(leaseId, callerSeed, withReadingSeed);
    }

    function _close(uint256 leaseId, uint256 callerSeed, uint256 withReadingSeed) internal {
        GhostLease memory l = _leases[leaseId - 1];
        uint256 k = _firstAtOrAfter(l.assetId, l.endTime);
        bool useReading = k < _history[l.assetId].length && withReadingSeed % 4 != 0;
        MeterBoundary memory start;
        MeterBoundary memory end;
        Expected memory e;
        bool burned = ghostBurned[l.assetId];
        bool expected = !l.closed && block.timestamp >= l.endTime;
        if (useReading) {
            (start, end) = _proofsFor(l, k);
            e = _expect(l, k);
            if (!burned) expected = expected && block.timestamp >= uint256(e.latestAcceptedAt) + disputeWindow;
        } else {
            expected = expected && (burned || block.timestamp >= uint256(l.endTime) + grace);
        }
        calls["close"]++;
        vm.prank(actors[callerSeed % actors.length]);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.close, (leaseId, start, end)));
        if (!_outcome("close", ok, expected) || !ok) return;
        if (useReading && !burned) _applyCharge(leaseId, e);
        _applyClose(leaseId, useReading && !burned);
    }

    // ---------------------------------------------------------------- actions: early ends

    function endByLessee(uint256 leaseSeed) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (!any) return;
        GhostLease storage l = _leases[leaseId - 1];
        LeaseTerms memory t = _terms[l.assetId][l.termsVersion];
        bool expected = _running(l) && t.earlyEndAllowed && block.timestamp >= uint256(l.startTime) + t.minDurationSeconds;
        calls["endByLessee"]++;
        vm.prank(l.lessee);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.endByLessee, (leaseId)));
        if (_outcome("endByLessee", ok, expected) && ok) _applyEnd(l, EndReason.EndedByLessee);
    }

    function terminateByProvider(uint256 leaseSeed) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (!any) return;
        GhostLease storage l = _leases[leaseId - 1];
        bool expected = _running(l);
        calls["terminateByProvider"]++;
        vm.prank(ghostOwner[l.assetId]);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.terminateByProvider, (leaseId)));
        if (_outcome("terminateByProvider", ok, expected) && ok) _applyEnd(l, EndReason.TerminatedByProvider);
    }

    /// @notice Anyone tries to evict a lessee: allowed exactly when its deposits fall short of full use
    /// from its start to min(end, now + 1 h) (issue 14: a lease funded for its time never is).
    function closeUnderfunded(uint256 leaseSeed, uint256 callerSeed) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (!any) return;
        GhostLease storage l = _leases[leaseId - 1];
        uint256 horizon = block.timestamp + 1 hours;
        uint256 to = l.endTime < horizon ? l.endTime : horizon;
        (uint16 gpuCount, uint16 tdp) = _limits(l.assetId);
        uint256 required = SettlementMath.fullUseCost(gpuCount, tdp, _stored(l), to - l.startTime);
        bool expected = _running(l) && l.deposited < required;
        calls["closeUnderfunded"]++;
        vm.prank(actors[callerSeed % actors.length]);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.closeUnderfunded, (leaseId)));
        if (_outcome("closeUnderfunded", ok, expected) && ok) _applyEnd(l, EndReason.InsufficientFunds);
    }

    // ---------------------------------------------------------------- actions: disputes

    /// @notice The lessee disputes the bill up to a randomly chosen reading (readings of any age).
    function dispute(uint256 leaseSeed, uint256 pointSeed) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (!any) return;
        GhostLease memory l = _leases[leaseId - 1];
        (bool provable, uint256 k) = _pickPoint(l, pointSeed, false);
        if (!provable) return;
        (MeterBoundary memory start, MeterBoundary memory point) = _proofsFor(l, k);
        Expected memory e = _expect(l, k);
        // Readings of any age, but never a point after now (a reading stamped ahead within the skew).
        bool expected = !l.closed &&
            l.disputed == 0 &&
            !ghostBurned[l.assetId] &&
            e.chargeable != 0 &&
            block.timestamp >= e.pointTime;
        calls["dispute"]++;
        vm.prank(l.lessee);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.dispute, (leaseId, start, point)));
        if (!_outcome("dispute", ok, expected) || !ok) return;
        GhostLease storage g = _leases[leaseId - 1];
        _recordBilling(g, e);
        g.disputed = e.chargeable;
        g.disputeDeadline = uint64(block.timestamp) + arbiterTimeout;
    }

    /// @notice The arbiter (this contract) splits an open dispute; one call in eight offers an invalid split.
    function resolveDispute(uint256 leaseSeed, uint256 toLessee) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (!any) return;
        GhostLease storage l = _leases[leaseId - 1];
        toLessee = toLessee % 8 == 0 ? l.disputed + 1 : bound(toLessee >> 3, 0, l.disputed);
        bool expected = l.disputed != 0 && block.timestamp < l.disputeDeadline && toLessee <= l.disputed;
        calls["resolveDispute"]++;
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.resolveDispute, (leaseId, toLessee)));
        if (_outcome("resolveDispute", ok, expected) && ok) _applyResolve(l, toLessee);
    }

    function resolveDisputeByTimeout(uint256 leaseSeed, uint256 callerSeed) external {
        (uint256 leaseId, bool any) = _lease(leaseSeed);
        if (any) _resolveByTimeout(leaseId, callerSeed);
    }

    function _resolveByTimeout(uint256 leaseId, uint256 callerSeed) internal {
        GhostLease storage l = _leases[leaseId - 1];
        bool expected = l.disputed != 0 && block.timestamp >= l.disputeDeadline;
        calls["resolveDisputeByTimeout"]++;
        vm.prank(actors[callerSeed % actors.length]);
        (bool ok, ) = address(escrow).call(abi.encodeCall(escrow.resolveDisputeByTimeout, (leaseId)));
        if (_outcome("resolveDisputeByTimeout", ok, expected) && ok) _applyResolve(l, 0);
    }

    // ---------------------------------------------------------------- actions: payouts, NFT, pause

    /// @notice An account withdraws: always allowed, pays exactly what the ghost says is its own.
    function withdraw(uint256 actorSeed) public {
        address who = actors[actorSeed % actors.length];
        uint256 owed = ghostWithdrawable[who];
        uint256 before = token.balanceOf(who);
        calls["withdraw"]++;
        vm.prank(who);
        (bool ok, bytes memory ret) = address(escrow).call(abi.encodeCall(escrow.withdraw, (address(token), who)));
        if (!_outcome("withdraw", ok, true) || !ok) return;
        if (abi.decode(ret, (uint256)) != owed) _break("withdraw", "returned amount");
        if (token.balanceOf(who) - before != owed) _break("withdraw", "tokens received");
        ghostWithdrawable[who] = 0;
        ghostPaidOut[who] += owed;
    }

    /// @notice The owner sells the NFT to the other owner while leases run: the payee changes, leases stay.
    function sellAsset(uint256 assetSeed) external {
        uint256 assetId = _asset(assetSeed);
        if (ghostBurned[assetId]) return;
        address seller = ghostOwner[assetId];
        address buyer = seller == owners[0] ? owners[1] : owners[0];
        calls["sellAsset"]++;
        vm.prank(seller);
        nft.transferFrom(seller, buyer, assetId);
        ghostOwner[assetId] = buyer;
    }

    /// @notice The owner burns the burnable asset (one call in eight) once no lease holds its user right.
    function burnAsset(uint256 seed) external {
        uint256 assetId = burnableAsset;
        if (ghostBurned[assetId] || seed % 8 != 0) return;
        bool expected = !_hasRunningLease(assetId);
        calls["burnAsset"]++;
        vm.prank(ghostOwner[assetId]);
        (bool ok, ) = address(nft).call(abi.encodeCall(nft.burn, (assetId)));
        if (_outcome("burnAsset", ok, expected) && ok) ghostBurned[assetId] = true;
    }

    /// @notice Pauses (one call in four) or unpauses: a paused escrow must still let everyone exit.
    function togglePause(uint256 seed) external {
        if (!ghostPaused && seed % 4 != 0) return;
        calls["togglePause"]++;
        if (ghostPaused) escrow.unpause();
        else escrow.pause();
        ghostPaused = !ghostPaused;
    }

    // ---------------------------------------------------------------- the final sweep (E7)

    /// @notice Closes every lease, resolves every dispute and pays every account out, as anyone could
    /// from any state once enough time has passed. Returns false (with a rule break) if anything refused.
    function sweep() external returns (bool) {
        uint256 latest = block.timestamp;
        for (uint256 i = 0; i < _leases.length; i++) {
            uint256 t = uint256(_leases[i].endTime) + grace;
            if (_leases[i].disputeDeadline > t) t = _leases[i].disputeDeadline;
            if (t > latest) latest = t;
        }
        vm.warp(latest);
        for (uint256 id = 1; id <= _leases.length; id++) {
            GhostLease memory l = _leases[id - 1];
            if (!l.closed) {
                // With the final reading if one is billable by now, else without (the grace has passed).
                uint256 k = _firstAtOrAfter(l.assetId, l.endTime);
                uint256 seed = 1;
                if (k < _history[l.assetId].length) {
                    Expected memory e = _expect(l, k);
                    if (block.timestamp < uint256(e.latestAcceptedAt) + disputeWindow) seed = 0;
                }
                _close(id, 0, seed);
                if (!_leases[id - 1].closed) _break("sweep", "a lease could not be closed");
            }
            if (_leases[id - 1].disputed != 0) {
                _resolveByTimeout(id, 0);
                if (_leases[id - 1].disputed != 0) _break("sweep", "a dispute could not be resolved");
            }
        }
        for (uint256 i = 0; i < actors.length; i++) withdraw(i);
        return ruleBreaks == 0;
    }

    // ---------------------------------------------------------------- ghost bookkeeping

    /// @dev The proof inputs of a billing point at reading `k` of the lease's asset: the start meter
    /// (when not stored) and the point (the reading alone inside the lease, else the end boundary).
    function _proofsFor(GhostLease memory l, uint256 k) internal view returns (MeterBoundary memory start, MeterBoundary memory point) {
        if (!l.startMetered) start = _boundary(l.assetId, _firstAtOrAfter(l.assetId, l.startTime), l.startTime);
        point = _history[l.assetId][k].timestamp <= l.endTime ? _single(l.assetId, k) : _boundary(l.assetId, k, l.endTime);
    }

    /// @dev A billing point: one of the asset's readings from the last one before the lease start to
    /// the first one at or after its end. False when nothing would prove the start meter.
    function _pickPoint(GhostLease memory l, uint256 seed, bool billable) internal view returns (bool, uint256) {
        uint256 length = _history[l.assetId].length;
        uint256 first = _firstAtOrAfter(l.assetId, l.startTime);
        if (first >= length) return (false, 0);
        uint256 last = _firstAtOrAfter(l.assetId, l.endTime);
        if (last >= length) last = length - 1;
        // Half the time the latest reading a keeper (or lessee) could use now: not ahead of now and, for
        // a settlement, past its dispute window. Otherwise any.
        if (seed % 2 == 0) {
            for (uint256 k = last + 1; k > first; k--) {
                Recorded memory r = _history[l.assetId][k - 1];
                if (r.timestamp > block.timestamp) continue;
                if (billable && uint256(r.acceptedAt) + disputeWindow > block.timestamp) continue;
                return (true, k - 1);
            }
        }
        uint256 lo = first == 0 ? 0 : first - 1;
        return (true, bound(seed >> 1, lo, last));
    }

    /// @dev What the escrow should bill for a point at reading `k`, from the ghost's own meters.
    function _expect(GhostLease memory l, uint256 k) internal view returns (Expected memory e) {
        Recorded memory r = _history[l.assetId][k];
        e.pointTime = r.timestamp <= l.endTime ? r.timestamp : l.endTime;
        GhostMeter memory point = r.timestamp <= l.endTime
            ? GhostMeter({ exists: true, meter: _meterOf(r), acceptedAt: r.acceptedAt })
            : _meterAt(l.assetId, k, l.endTime, false);
        e.latestAcceptedAt = point.acceptedAt;
        if (l.startMetered) {
            e.start = l.start;
        } else {
            GhostMeter memory s = _meterAt(l.assetId, _firstAtOrAfter(l.assetId, l.startTime), l.startTime, true);
            e.start = s.meter;
            e.newStart = true;
            if (s.acceptedAt > e.latestAcceptedAt) e.latestAcceptedAt = s.acceptedAt;
        }
        if (ghostBurned[l.assetId]) return e;
        (uint16 gpuCount, uint16 tdp) = _limits(l.assetId);
        e.bill = SettlementMath.leaseBill(e.start, point.meter, l.endTime - l.startTime, gpuCount, tdp, _stored(l)).total;
        if (e.bill > l.billed) {
            uint256 increase = e.bill - l.billed;
            e.chargeable = increase < l.balance ? increase : l.balance;
        }
    }

    function _recordBilling(GhostLease storage l, Expected memory e) internal {
        if (e.newStart) {
            l.startMetered = true;
            l.start = e.start;
        }
        l.billed += e.chargeable;
        l.balance -= e.chargeable;
    }

    function _applyCharge(uint256 leaseId, Expected memory e) internal {
        GhostLease storage l = _leases[leaseId - 1];
        _recordBilling(l, e);
        ghostWithdrawable[ghostOwner[l.assetId]] += e.chargeable;
    }

    function _applyClose(uint256 leaseId, bool finalReading) internal {
        GhostLease storage l = _leases[leaseId - 1];
        if (l.endReason == EndReason.None) l.endReason = EndReason.Expired;
        l.closed = true;
        l.finalReading = finalReading;
        ghostWithdrawable[l.lessee] += l.balance;
        l.balance = 0;
    }

    function _applyEnd(GhostLease storage l, EndReason reason) internal {
        l.endTime = uint64(block.timestamp);
        l.endReason = reason;
    }

    function _applyResolve(GhostLease storage l, uint256 toLessee) internal {
        uint256 toPayee = l.disputed - toLessee;
        l.disputed = 0;
        l.disputeDeadline = 0;
        l.disputeRefunded += toLessee;
        ghostWithdrawable[l.lessee] += toLessee;
        if (ghostBurned[l.assetId]) {
            // Nobody else can be paid: the payee's share goes back to the lessee.
            l.disputeRefunded += toPayee;
            ghostWithdrawable[l.lessee] += toPayee;
        } else {
            ghostWithdrawable[ghostOwner[l.assetId]] += toPayee;
        }
    }

    /// @dev Records a rule break when the escrow's answer differs from the prediction; returns whether they agree.
    function _outcome(string memory action, bool ok, bool expected) internal returns (bool) {
        if (ok) accepted[keccak256(bytes(action))]++;
        if (ok == expected) return true;
        _break(action, ok ? "accepted a call it must refuse" : "refused a call it must accept");
        return false;
    }

    function _break(string memory action, string memory what) internal {
        ruleBreaks++;
        lastRuleBreak = string.concat(action, ": ", what);
    }

    // ---------------------------------------------------------------- small helpers

    function _running(GhostLease memory l) internal view returns (bool) {
        return l.endReason == EndReason.None && !l.closed && block.timestamp < l.endTime;
    }

    function _hasRunningLease(uint256 assetId) internal view returns (bool) {
        for (uint256 i = 0; i < _leases.length; i++) if (_leases[i].assetId == assetId && _running(_leases[i])) return true;
        return false;
    }

    function _asset(uint256 seed) internal view returns (uint256) {
        return assets[seed % assets.length];
    }

    /// @dev A lease id from a seed: half the time the newest lease, else any (false before the first).
    function _lease(uint256 seed) internal view returns (uint256, bool) {
        if (_leases.length == 0) return (0, false);
        if (seed % 2 == 0) return (_leases.length, true);
        return (1 + ((seed >> 1) % _leases.length), true);
    }

    function _stored(GhostLease memory l) internal view returns (StoredLeaseTerms memory) {
        return _storedOf(_terms[l.assetId][l.termsVersion]);
    }

    function _storedOf(LeaseTerms memory t) internal pure returns (StoredLeaseTerms memory) {
        return
            StoredLeaseTerms({
                token: t.token,
                slaAvailabilityBps: t.slaAvailabilityBps,
                earlyEndAllowed: t.earlyEndAllowed,
                energyPricePerKWh: uint72(t.energyPricePerKWh),
                reservationPricePerGpuHour: uint96(t.reservationPricePerGpuHour),
                usagePricePerBusyGpuHour: uint96(t.usagePricePerBusyGpuHour),
                minDurationSeconds: uint32(t.minDurationSeconds),
                maxDurationSeconds: uint32(t.maxDurationSeconds)
            });
    }
}
