// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { CheatBase } from "../utils/TestBase.sol";
import { SignedReadings } from "../utils/SignedReadings.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { EndReason, Lease, LeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import { Meter } from "../../../contracts/types/OracleTypes.sol";

/// @notice Any token the campaign pays in: the mocks all mint freely.
interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @notice Drives SettlementEscrow through random lease lifecycles by several lessees and asset owners,
/// with physically possible meter readings, disputes, arbiter decisions, NFT sales, pauses and time.
/// Keeps ghost totals the invariants compare with the escrow's own bookkeeping.
/// Readings reach the escrow through the real UsageOracle, signed by the oracle's one signer.
/// @dev This contract is the arbiter and the pauser; actors act through `vm.prank`.
contract SettlementEscrowHandler is CheatBase {
    using SafeERC20 for IERC20;

    SettlementEscrow public immutable escrow;
    GpuAssetNFT public immutable nft;
    UsageOracle public immutable oracle;
    uint256 internal immutable _signerKey;
    IERC20 public immutable token;

    address[] public actors; // every account that can ever hold a withdrawable balance
    address[] public lessees;
    address[] public owners;
    uint256[] public assets;

    // ---- ghosts ----
    mapping(uint256 leaseId => uint256) public ghostDeposited;
    mapping(uint256 leaseId => Meter) public meterAtOpen;
    uint256 public ghostWithdrawn;
    mapping(address account => uint256) public ghostWithdrawnBy;
    /// @notice Calls after which someone's withdrawable balance or lease end went down against the rules (E6).
    uint256 public ruleBreaks;
    string public lastRuleBreak;

    mapping(bytes32 => uint256) public calls;

    constructor(
        SettlementEscrow escrow_,
        GpuAssetNFT nft_,
        UsageOracle oracle_,
        uint256 signerKey_,
        IERC20 token_,
        address[] memory lessees_,
        address[] memory owners_,
        uint256[] memory assets_
    ) {
        escrow = escrow_;
        nft = nft_;
        oracle = oracle_;
        _signerKey = signerKey_;
        token = token_;
        lessees = lessees_;
        owners = owners_;
        assets = assets_;
        for (uint256 i = 0; i < lessees_.length; i++) actors.push(lessees_[i]);
        for (uint256 i = 0; i < owners_.length; i++) actors.push(owners_[i]);
    }

    function isOwner(address who) external view returns (bool) {
        for (uint256 i = 0; i < owners.length; i++) if (owners[i] == who) return true;
        return false;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    // ---------------------------------------------------------------- E6 bookkeeping

    struct Snapshot {
        uint256[] withdrawable;
        uint64[] endTimes;
    }

    function _snapshot() internal view returns (Snapshot memory s) {
        s.withdrawable = new uint256[](actors.length);
        for (uint256 i = 0; i < actors.length; i++) s.withdrawable[i] = escrow.withdrawable(actors[i], address(token));
        uint256 n = escrow.leaseCount();
        s.endTimes = new uint64[](n + 1);
        for (uint256 id = 1; id <= n; id++) s.endTimes[id] = escrow.leaseOf(id).endTime;
    }

    /// @dev E6: only `withdrawer`'s own withdrawable may go down; a lease end moves earlier only when
    /// the lease was ended early by a rule (lessee, provider, insufficient funds).
    modifier checkedAgainstRules(string memory action, address withdrawer) {
        Snapshot memory before = _snapshot();
        _;
        for (uint256 i = 0; i < actors.length; i++) {
            uint256 nowBalance = escrow.withdrawable(actors[i], address(token));
            if (nowBalance < before.withdrawable[i] && actors[i] != withdrawer) _break(action, "withdrawable fell");
        }
        for (uint256 id = 1; id < before.endTimes.length; id++) {
            Lease memory lease = escrow.leaseOf(id);
            if (lease.endTime < before.endTimes[id]) {
                bool early =
                    lease.endReason == EndReason.EndedByLessee ||
                        lease.endReason == EndReason.TerminatedByProvider ||
                        lease.endReason == EndReason.InsufficientFunds;
                if (!early) _break(action, "lease end moved earlier");
            }
        }
    }

    function _break(string memory action, string memory what) internal {
        ruleBreaks++;
        lastRuleBreak = string.concat(action, ": ", what);
    }

    // ---------------------------------------------------------------- helpers

    function _lessee(uint256 seed) internal view returns (address) {
        return lessees[seed % lessees.length];
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _asset(uint256 seed) internal view returns (uint256) {
        return assets[seed % assets.length];
    }

    function _lease(uint256 seed) internal view returns (uint256 leaseId, bool ok) {
        uint256 n = escrow.leaseCount();
        if (n == 0) return (0, false);
        return (1 + (seed % n), true);
    }

    function _fund(address who, uint256 amount) internal {
        IMintable(address(token)).mint(who, amount);
        vm.prank(who);
        token.forceApprove(address(escrow), amount);
    }

    // ---------------------------------------------------------------- actions

    function openLease(uint256 lesseeSeed, uint256 assetSeed, uint256 durationSeconds, uint256 depositSeed) external {
        address lessee = _lessee(lesseeSeed);
        uint256 assetId = _asset(assetSeed);
        LeaseTerms memory terms = escrow.leaseTermsOf(assetId);
        if (terms.token == address(0)) return;
        uint64 duration = uint64(bound(durationSeconds, terms.minDurationSeconds, terms.maxDurationSeconds));
        uint256 minimum = escrow.minimumDeposit(assetId);
        uint256 deposit = bound(depositSeed, minimum, minimum * 40);
        _fund(lessee, deposit);
        calls["openLease"]++;
        _open(lessee, assetId, duration, deposit);
    }

    function _open(
        address lessee,
        uint256 assetId,
        uint64 duration,
        uint256 deposit
    ) internal checkedAgainstRules("openLease", address(0)) {
        Meter memory baseline = oracle.latestReading(assetId);
        vm.prank(lessee);
        uint256 leaseId = escrow.openLease(assetId, duration, deposit);
        ghostDeposited[leaseId] = deposit;
        meterAtOpen[leaseId] = baseline;
    }

    function topUp(uint256 leaseSeed, uint256 payerSeed, uint256 amount) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        address payer = _actor(payerSeed);
        amount = bound(amount, 1, 1e12);
        _fund(payer, amount);
        calls["topUp"]++;
        _topUp(leaseId, payer, amount);
    }

    function _topUp(uint256 leaseId, address payer, uint256 amount) internal checkedAgainstRules("topUp", address(0)) {
        vm.prank(payer);
        escrow.topUp(leaseId, amount);
        ghostDeposited[leaseId] += amount;
    }

    /// @notice Submits the next reading of an asset at the current time, signed by the oracle's signer:
    /// every delta physically possible.
    function report(uint256 assetSeed, uint256 availableBps, uint256 busyBps) external {
        uint256 assetId = _asset(assetSeed);
        Meter memory last = oracle.latestReading(assetId);
        if (block.timestamp <= last.timestamp) return;
        (uint16 gpuCount, uint16 tdp, ) = nft.meteringLimits(assetId);
        uint256 capacity = uint256(gpuCount) * (block.timestamp - last.timestamp);
        uint256 availableDelta = (capacity * bound(availableBps, 0, 10_000)) / 10_000;
        uint256 busyDelta = (availableDelta * bound(busyBps, 0, 10_000)) / 10_000;
        calls["report"]++;
        SignedReadings.submitOne(
            oracle,
            _signerKey,
            assetId,
            Meter({
                timestamp: uint64(block.timestamp),
                busyGpuSeconds: last.busyGpuSeconds + uint64(busyDelta),
                availableGpuSeconds: last.availableGpuSeconds + uint64(availableDelta),
                energyJ: last.energyJ + uint64(busyDelta * tdp)
            })
        );
    }

    function warp(uint256 secondsAhead) external {
        calls["warp"]++;
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 days));
    }

    function settle(uint256 leaseSeed, uint256 callerSeed) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        calls["settle"]++;
        _call("settle", _actor(callerSeed), abi.encodeCall(escrow.settle, (leaseId)));
    }

    function release(uint256 leaseSeed, uint256 callerSeed) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        calls["release"]++;
        _call("release", _actor(callerSeed), abi.encodeCall(escrow.release, (leaseId)));
    }

    function close(uint256 leaseSeed, uint256 callerSeed) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        calls["close"]++;
        _call("close", _actor(callerSeed), abi.encodeCall(escrow.close, (leaseId)));
    }

    function endByLessee(uint256 leaseSeed) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        calls["endByLessee"]++;
        _call("endByLessee", escrow.leaseOf(leaseId).lessee, abi.encodeCall(escrow.endByLessee, (leaseId)));
    }

    function terminateByProvider(uint256 leaseSeed) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        calls["terminateByProvider"]++;
        address owner = nft.ownerOf(escrow.leaseOf(leaseId).assetId);
        _call("terminateByProvider", owner, abi.encodeCall(escrow.terminateByProvider, (leaseId)));
    }

    function closeUnderfunded(uint256 leaseSeed, uint256 callerSeed) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        calls["closeUnderfunded"]++;
        _call("closeUnderfunded", _actor(callerSeed), abi.encodeCall(escrow.closeUnderfunded, (leaseId)));
    }

    function dispute(uint256 leaseSeed, uint256 amount) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        Lease memory lease = escrow.leaseOf(leaseId);
        if (lease.pending == 0) return;
        calls["dispute"]++;
        _call("dispute", lease.lessee, abi.encodeCall(escrow.dispute, (leaseId, bound(amount, 1, lease.pending))));
    }

    /// @notice The arbiter (this contract) splits an open dispute.
    function resolveDispute(uint256 leaseSeed, uint256 toLessee) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        uint256 disputed = escrow.leaseOf(leaseId).disputed;
        if (disputed == 0) return;
        calls["resolveDispute"]++;
        _call(
            "resolveDispute",
            address(this),
            abi.encodeCall(escrow.resolveDispute, (leaseId, bound(toLessee, 0, disputed)))
        );
    }

    function resolveDisputeByTimeout(uint256 leaseSeed, uint256 callerSeed) external {
        (uint256 leaseId, bool ok) = _lease(leaseSeed);
        if (!ok) return;
        calls["resolveDisputeByTimeout"]++;
        _call("resolveDisputeByTimeout", _actor(callerSeed), abi.encodeCall(escrow.resolveDisputeByTimeout, (leaseId)));
    }

    function withdraw(uint256 actorSeed) external {
        address who = _actor(actorSeed);
        calls["withdraw"]++;
        _withdraw(who);
    }

    function _withdraw(address who) internal checkedAgainstRules("withdraw", who) {
        uint256 before = token.balanceOf(who);
        vm.prank(who);
        uint256 amount = escrow.withdraw(address(token), who);
        ghostWithdrawn += amount;
        ghostWithdrawnBy[who] += amount;
        if (token.balanceOf(who) - before != amount) _break("withdraw", "paid amount differs from return value");
    }

    /// @notice The asset owner sells the NFT to another owner while leases run: payee changes, leases stay.
    function sellAsset(uint256 assetSeed, uint256 buyerSeed) external {
        uint256 assetId = _asset(assetSeed);
        address seller = nft.ownerOf(assetId);
        address buyer = owners[buyerSeed % owners.length];
        if (buyer == seller) return;
        calls["sellAsset"]++;
        _call("sellAsset", seller, abi.encodeCall(nft.transferFrom, (seller, buyer, assetId)));
    }

    /// @notice Pauses (one call in four) or unpauses: a paused escrow must still let everyone exit.
    function togglePause(uint256 seed) external {
        if (!escrow.paused() && seed % 4 != 0) return;
        calls["togglePause"]++;
        if (escrow.paused()) escrow.unpause();
        else escrow.pause();
    }

    /// @dev Calls `target` as `caller` (the escrow, unless the action is an NFT sale). A refusal is
    /// re-raised, so forge's per-selector table counts it as a revert and the run's state is unchanged.
    function _call(
        string memory action,
        address caller,
        bytes memory data
    ) internal checkedAgainstRules(action, address(0)) {
        address target = keccak256(bytes(action)) == keccak256("sellAsset") ? address(nft) : address(escrow);
        vm.prank(caller);
        (bool success, bytes memory reason) = target.call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }
}
