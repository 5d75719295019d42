// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IERC721Errors } from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import { IERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { LowLevelCall } from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { ISettlementEscrow } from "./interfaces/ISettlementEscrow.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import { IUsageOracle } from "./interfaces/IUsageOracle.sol";
import { EndReason, Lease, LeaseTerms, StoredLeaseTerms, WindowCharge } from "./types/EscrowTypes.sol";
import { Meter } from "./types/OracleTypes.sol";
import { AssetStatus } from "./types/GpuAssetTypes.sol";
import { SettlementMath } from "./libraries/SettlementMath.sol";

/// @title SettlementEscrow — stablecoin leases settled from usage proofs
/// @notice See `ISettlementEscrow` and docs/escrow.md. The escrow must hold the NFT's lease-manager role.
contract SettlementEscrow is ISettlementEscrow, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Manages the stablecoin allowlist.
    bytes32 public constant TOKEN_ADMIN_ROLE = keccak256("TOKEN_ADMIN_ROLE");
    /// @notice Resolves disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice Pauses and unpauses new business.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice How long after a lease's end anyone may close it without a reading at or after the end.
    uint64 public constant FINAL_READING_GRACE_SECONDS = 1 hours;

    /// @notice The GPU-lease NFT.
    IGpuAssetNFT public immutable nft;
    /// @notice The usage oracle.
    IUsageOracle public immutable oracle;
    /// @notice How long a settled charge stays disputable before it can be released to the payee.
    uint64 public immutable disputeWindowSeconds;
    /// @notice How long the arbiter has to resolve a dispute before the default applies.
    uint64 public immutable arbiterTimeoutSeconds;

    /// @dev Which terms version of an asset is current (0: none) and the highest version used.
    struct TermsIndex {
        // slot 0
        uint24 current;
        uint24 latest;
    }

    mapping(address token => bool) private _tokenAllowed;
    mapping(uint256 assetId => TermsIndex) private _termsIndex;
    mapping(uint256 assetId => mapping(uint24 version => StoredLeaseTerms)) private _terms;
    mapping(uint256 leaseId => Lease) private _leases;
    mapping(address account => mapping(address token => uint256)) private _withdrawable;
    /// @dev Id of the next lease; starts at 1 (set in the constructor, so no open pays for a zero slot).
    uint256 private _nextLeaseId;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes every role).
    /// @param nft_ The GPU-lease NFT.
    /// @param oracle_ The usage oracle.
    /// @param disputeWindowSeconds_ Dispute window after each settlement, non-zero.
    /// @param arbiterTimeoutSeconds_ Time the arbiter has per dispute, non-zero.
    constructor(
        address admin,
        IGpuAssetNFT nft_,
        IUsageOracle oracle_,
        uint64 disputeWindowSeconds_,
        uint64 arbiterTimeoutSeconds_
    ) {
        if (admin == address(0) || address(nft_) == address(0) || address(oracle_) == address(0)) {
            revert ZeroAddress();
        }
        if (disputeWindowSeconds_ == 0 || arbiterTimeoutSeconds_ == 0) revert ZeroDuration();
        nft = nft_;
        oracle = oracle_;
        disputeWindowSeconds = disputeWindowSeconds_;
        arbiterTimeoutSeconds = arbiterTimeoutSeconds_;
        _nextLeaseId = 1;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc ISettlementEscrow
    function setTokenAllowed(address token, bool allowed) external onlyRole(TOKEN_ADMIN_ROLE) {
        // Checks
        if (token == address(0)) revert ZeroAddress();
        if (_tokenAllowed[token] == allowed) revert TokenAllowlistUnchanged(token, allowed);
        // Effects
        _tokenAllowed[token] = allowed;
        emit TokenAllowlistUpdated(token, allowed);
    }

    /// @inheritdoc ISettlementEscrow
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ISettlementEscrow
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- terms

    /// @inheritdoc ISettlementEscrow
    function setLeaseTerms(uint256 assetId, LeaseTerms calldata terms) external {
        // Checks
        _checkAssetOperator(assetId);
        if (!_tokenAllowed[terms.token]) revert TokenNotAllowed(terms.token);
        if (terms.minDurationSeconds == 0 || terms.minDurationSeconds > terms.maxDurationSeconds) {
            revert InvalidDurationBounds(terms.minDurationSeconds, terms.maxDurationSeconds);
        }
        if (terms.slaAvailabilityBps > SettlementMath.BPS) revert InvalidSlaTarget(terms.slaAvailabilityBps);
        StoredLeaseTerms memory stored = StoredLeaseTerms({
            token: terms.token,
            minDurationSeconds: terms.minDurationSeconds,
            slaAvailabilityBps: terms.slaAvailabilityBps,
            earlyEndAllowed: terms.earlyEndAllowed,
            reservationPricePerGpuHour: terms.reservationPricePerGpuHour.toUint96(),
            usagePricePerBusyGpuHour: terms.usagePricePerBusyGpuHour.toUint96(),
            maxDurationSeconds: terms.maxDurationSeconds
        });
        TermsIndex memory index = _termsIndex[assetId];
        if (index.current != 0 && _sameTerms(_terms[assetId][index.current], stored)) {
            revert LeaseTermsUnchanged(assetId);
        }
        // Effects
        uint24 version = index.latest + 1;
        _terms[assetId][version] = stored;
        _termsIndex[assetId] = TermsIndex({ current: version, latest: version });
        emit LeaseTermsSet(assetId, version, msg.sender, terms);
    }

    /// @inheritdoc ISettlementEscrow
    function removeLeaseTerms(uint256 assetId) external {
        // Checks
        _checkAssetOperator(assetId);
        if (_termsIndex[assetId].current == 0) revert NoLeaseTerms(assetId);
        // Effects
        _termsIndex[assetId].current = 0;
        emit LeaseTermsRemoved(assetId, msg.sender);
    }

    /// @inheritdoc ISettlementEscrow
    function leaseTermsOf(uint256 assetId) external view returns (LeaseTerms memory) {
        return _unpackTerms(_terms[assetId][_termsIndex[assetId].current]);
    }

    /// @inheritdoc ISettlementEscrow
    function leaseTermsAt(uint256 assetId, uint24 version) external view returns (LeaseTerms memory) {
        return _unpackTerms(_terms[assetId][version]);
    }

    // ---------------------------------------------------------------- lifecycle

    /// @inheritdoc ISettlementEscrow
    function openLease(
        uint256 assetId,
        uint64 durationSeconds,
        uint256 deposit
    ) external nonReentrant whenNotPaused returns (uint256 leaseId) {
        return _open(assetId, durationSeconds, deposit);
    }

    /// @inheritdoc ISettlementEscrow
    function openLeaseWithPermit(
        uint256 assetId,
        uint64 durationSeconds,
        uint256 deposit,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant whenNotPaused returns (uint256 leaseId) {
        // Interactions (first, deliberately): the permit only sets an allowance; `_open` then runs its
        // checks and pulls the deposit. A failed permit (e.g. front-run with the same signature) is
        // fine as long as the allowance covers the deposit.
        address token = _terms[assetId][_termsIndex[assetId].current].token;
        if (!_tokenAllowed[token]) revert TokenNotAllowed(token);
        (bool permitted, ) = token.call(
            abi.encodeCall(IERC20Permit.permit, (msg.sender, address(this), deposit, deadline, v, r, s))
        );
        if (!permitted) {
            uint256 allowance = IERC20(token).allowance(msg.sender, address(this));
            if (allowance < deposit) revert PermitFailed(token, allowance, deposit);
        }
        return _open(assetId, durationSeconds, deposit);
    }

    /// @inheritdoc ISettlementEscrow
    function topUp(uint256 leaseId, uint256 amount) external nonReentrant whenNotPaused {
        // Checks
        Lease storage lease = _openLeaseOf(leaseId);
        if (amount == 0) revert ZeroAmount();
        uint64 endTime = lease.endTime;
        if (!(block.timestamp < endTime)) revert LeaseExpired(leaseId, endTime);
        // Keeps every accounting field, and their sum `deposited`, within uint96.
        (uint256 deposited, , , ) = _accounting(lease);
        (deposited + amount).toUint96();
        // Effects
        lease.balance += uint96(amount);
        emit LeaseToppedUp(leaseId, msg.sender, amount);
        // Interactions
        _pullExact(_terms[lease.assetId][lease.termsVersion].token, msg.sender, amount);
    }

    /// @inheritdoc ISettlementEscrow
    function settle(uint256 leaseId) external nonReentrant whenNotPaused returns (uint256 charged) {
        // Checks
        Lease storage lease = _openLeaseOf(leaseId);
        uint256 assetId = lease.assetId;
        StoredLeaseTerms memory terms = _terms[assetId][lease.termsVersion];
        if (lease.pending != 0) {
            uint64 pendingUntil = lease.pendingUntil;
            if (block.timestamp < pendingUntil) revert DisputeWindowOpen(leaseId, pendingUntil);
            // Effects
            _release(leaseId, lease, terms.token);
        }
        Meter memory latest = oracle.latestReading(assetId);
        if (!(latest.timestamp > lease.cursorTimestamp)) revert NoNewReading(leaseId, latest.timestamp);
        // Effects
        charged = _settleWindow(leaseId, lease, terms, latest);
    }

    /// @inheritdoc ISettlementEscrow
    function release(uint256 leaseId) external nonReentrant returns (uint256 amount) {
        // Checks
        Lease storage lease = _leaseOf(leaseId);
        amount = lease.pending;
        uint64 pendingUntil = lease.pendingUntil;
        if (amount == 0 || block.timestamp < pendingUntil) revert NothingToRelease(leaseId, amount, pendingUntil);
        // Effects
        _release(leaseId, lease, _terms[lease.assetId][lease.termsVersion].token);
    }

    /// @inheritdoc ISettlementEscrow
    function close(uint256 leaseId) external nonReentrant {
        // Checks
        Lease storage lease = _openLeaseOf(leaseId);
        uint64 endTime = lease.endTime;
        if (block.timestamp < endTime) revert LeaseNotExpired(leaseId, endTime);
        Meter memory latest = oracle.latestReading(lease.assetId);
        uint64 closableAt = endTime + FINAL_READING_GRACE_SECONDS;
        if (latest.timestamp < endTime && block.timestamp < closableAt)
            revert AwaitingFinalReading(leaseId, closableAt);
        // Effects (the NFT user right has expired on its own: nothing to clear)
        StoredLeaseTerms memory terms = _terms[lease.assetId][lease.termsVersion];
        _finalSettle(leaseId, lease, terms, latest);
        _finish(leaseId, lease, terms.token, EndReason.Expired);
    }

    /// @inheritdoc ISettlementEscrow
    function endByLessee(uint256 leaseId) external nonReentrant {
        // Checks
        Lease storage lease = _openLeaseOf(leaseId);
        if (msg.sender != lease.lessee) revert NotLessee(leaseId, msg.sender);
        StoredLeaseTerms memory terms = _terms[lease.assetId][lease.termsVersion];
        if (!terms.earlyEndAllowed) revert EarlyEndNotAllowed(leaseId);
        uint64 earliestEnd = lease.startTime + terms.minDurationSeconds;
        if (block.timestamp < earliestEnd) revert MinimumDurationNotReached(leaseId, earliestEnd);
        _endEarly(leaseId, lease, terms, EndReason.EndedByLessee);
    }

    /// @inheritdoc ISettlementEscrow
    function terminateByProvider(uint256 leaseId) external nonReentrant {
        // Checks
        Lease storage lease = _openLeaseOf(leaseId);
        _checkAssetOperator(lease.assetId);
        _endEarly(leaseId, lease, _terms[lease.assetId][lease.termsVersion], EndReason.TerminatedByProvider);
    }

    /// @inheritdoc ISettlementEscrow
    function closeUnderfunded(uint256 leaseId) external nonReentrant {
        // Checks (after the final settlement, which `_endEarly` runs before it evaluates `required`)
        Lease storage lease = _openLeaseOf(leaseId);
        _endEarly(leaseId, lease, _terms[lease.assetId][lease.termsVersion], EndReason.InsufficientFunds);
    }

    // ---------------------------------------------------------------- disputes

    /// @inheritdoc ISettlementEscrow
    function dispute(uint256 leaseId, uint256 amount) external {
        // Checks
        Lease storage lease = _leaseOf(leaseId);
        if (msg.sender != lease.lessee) revert NotLessee(leaseId, msg.sender);
        uint256 disputed = lease.disputed;
        if (disputed != 0) revert DisputeAlreadyOpen(leaseId, disputed);
        uint256 pending = lease.pending;
        uint64 pendingUntil = lease.pendingUntil;
        if (pending == 0 || !(block.timestamp < pendingUntil)) revert NothingToDispute(leaseId, pending, pendingUntil);
        if (amount == 0 || amount > pending) revert InvalidDisputeAmount(leaseId, amount, pending);
        // Effects
        uint64 deadline = uint64(block.timestamp) + arbiterTimeoutSeconds;
        lease.pending = uint96(pending - amount);
        lease.disputed = uint96(amount);
        lease.disputeDeadline = deadline;
        emit DisputeRaised(leaseId, amount, deadline);
    }

    /// @inheritdoc ISettlementEscrow
    function resolveDispute(uint256 leaseId, uint256 toLessee) external onlyRole(ARBITER_ROLE) nonReentrant {
        // Checks
        Lease storage lease = _leaseOf(leaseId);
        uint256 disputed = lease.disputed;
        if (disputed == 0) revert NoOpenDispute(leaseId);
        if (toLessee > disputed) revert InvalidSplit(leaseId, toLessee, disputed);
        // Effects
        _resolve(leaseId, lease, toLessee, disputed - toLessee, false);
    }

    /// @inheritdoc ISettlementEscrow
    function resolveDisputeByTimeout(uint256 leaseId) external nonReentrant {
        // Checks
        Lease storage lease = _leaseOf(leaseId);
        uint256 disputed = lease.disputed;
        if (disputed == 0) revert NoOpenDispute(leaseId);
        uint64 deadline = lease.disputeDeadline;
        if (block.timestamp < deadline) revert ArbiterTimeoutNotReached(leaseId, deadline);
        // Effects: the default — the charge stands.
        _resolve(leaseId, lease, 0, disputed, true);
    }

    // ---------------------------------------------------------------- payouts

    /// @inheritdoc ISettlementEscrow
    function withdraw(address token, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert ZeroAddress();
        amount = _withdrawable[msg.sender][token];
        if (amount == 0) return 0;
        // Effects
        _withdrawable[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, to, amount);
        // Interactions
        IERC20(token).safeTransfer(to, amount);
    }

    /// @inheritdoc ISettlementEscrow
    function withdrawable(address account, address token) external view returns (uint256) {
        return _withdrawable[account][token];
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlementEscrow
    function leaseOf(uint256 leaseId) external view returns (Lease memory) {
        return _leaseOf(leaseId);
    }

    /// @inheritdoc ISettlementEscrow
    function accountingOf(
        uint256 leaseId
    ) external view returns (uint256 deposited, uint256 charged, uint256 refunded, uint256 held) {
        return _accounting(_leaseOf(leaseId));
    }

    /// @inheritdoc ISettlementEscrow
    function leaseCount() external view returns (uint256) {
        return _nextLeaseId - 1;
    }

    /// @inheritdoc ISettlementEscrow
    function minimumDeposit(uint256 assetId) public view returns (uint256) {
        StoredLeaseTerms storage terms = _terms[assetId][_termsIndex[assetId].current];
        (uint16 gpuCount, , ) = nft.meteringLimits(assetId);
        return SettlementMath.fullHourCost(gpuCount, terms.reservationPricePerGpuHour, terms.usagePricePerBusyGpuHour);
    }

    /// @inheritdoc ISettlementEscrow
    function isTokenAllowed(address token) external view returns (bool) {
        return _tokenAllowed[token];
    }

    // ---------------------------------------------------------------- internals

    /// @dev Opens a lease; the caller runs the reentrancy and pause guards.
    function _open(uint256 assetId, uint64 durationSeconds, uint256 deposit) private returns (uint256 leaseId) {
        // Checks
        (uint24 version, address token) = _checkOpen(assetId, durationSeconds, deposit);
        Meter memory baseline = oracle.latestReading(assetId);
        // Effects
        uint64 endTime;
        (leaseId, endTime) = _recordLease(assetId, version, token, durationSeconds, deposit, baseline);
        // Interactions
        _pullExact(token, msg.sender, deposit);
        nft.setUser(assetId, msg.sender, endTime);
    }

    /// @dev The checks of `_open`: current terms, allowed token, duration bounds, leasable asset, deposit.
    function _checkOpen(
        uint256 assetId,
        uint64 durationSeconds,
        uint256 deposit
    ) private view returns (uint24 version, address token) {
        version = _termsIndex[assetId].current;
        if (version == 0) revert NoLeaseTerms(assetId);
        StoredLeaseTerms memory terms = _terms[assetId][version];
        token = terms.token;
        if (!_tokenAllowed[token]) revert TokenNotAllowed(token);
        if (durationSeconds < terms.minDurationSeconds || durationSeconds > terms.maxDurationSeconds) {
            revert DurationOutOfBounds(durationSeconds, terms.minDurationSeconds, terms.maxDurationSeconds);
        }
        if (!nft.isLeasable(assetId)) revert AssetNotLeasable(assetId);
        (uint16 gpuCount, , ) = nft.meteringLimits(assetId);
        uint256 minimum = SettlementMath.fullHourCost(
            gpuCount,
            terms.reservationPricePerGpuHour,
            terms.usagePricePerBusyGpuHour
        );
        if (deposit < minimum || deposit == 0) revert DepositTooLow(deposit, minimum);
    }

    /// @dev The effects of `_open`: writes lease slots 0-2 (slots 3 and 4 start at zero).
    function _recordLease(
        uint256 assetId,
        uint24 version,
        address token,
        uint64 durationSeconds,
        uint256 deposit,
        Meter memory baseline
    ) private returns (uint256 leaseId, uint64 endTime) {
        leaseId = _nextLeaseId;
        _nextLeaseId = leaseId + 1;
        uint64 startTime = uint64(block.timestamp);
        endTime = startTime + durationSeconds;
        uint96 deposit96 = deposit.toUint96();
        Lease storage lease = _leases[leaseId];
        lease.lessee = msg.sender;
        lease.startTime = startTime;
        lease.termsVersion = version;
        lease.endTime = endTime;
        lease.cursorTimestamp = baseline.timestamp;
        lease.cursorBusyGpuSeconds = baseline.busyGpuSeconds;
        lease.cursorAvailableGpuSeconds = baseline.availableGpuSeconds;
        lease.assetId = assetId.toUint64();
        lease.balance = deposit96;
        emit LeaseOpened(leaseId, assetId, msg.sender, token, version, startTime, endTime, deposit);
    }

    /// @dev Ends an open lease before its end time: truncates it to now, settles it finally, clears
    /// the NFT user and refunds the leftover.
    function _endEarly(uint256 leaseId, Lease storage lease, StoredLeaseTerms memory terms, EndReason reason) private {
        // Checks
        uint64 endTime = lease.endTime;
        if (!(block.timestamp < endTime)) revert LeaseExpired(leaseId, endTime);
        uint256 assetId = lease.assetId;
        Meter memory latest = oracle.latestReading(assetId);
        // Effects: nothing after now is billed, even a reading stamped slightly in the future.
        lease.endTime = uint64(block.timestamp);
        _finalSettle(leaseId, lease, terms, latest);
        if (reason == EndReason.InsufficientFunds) {
            (uint16 gpuCount, , ) = nft.meteringLimits(assetId);
            uint256 required = SettlementMath.fullHourCost(
                gpuCount,
                terms.reservationPricePerGpuHour,
                terms.usagePricePerBusyGpuHour
            );
            uint256 balance = lease.balance;
            if (!(balance < required)) revert LeaseNotUnderfunded(leaseId, balance, required);
        }
        _finish(leaseId, lease, terms.token, reason);
        // Interactions: the lease held the NFT user right until its end time, which has not come.
        nft.setUser(assetId, address(0), 0);
    }

    /// @dev The final settlement of an ending lease: releases a matured pending charge, then settles the
    /// newest reading if there is one. Skipped while paused (no new charges during a pause). A charge
    /// still inside its dispute window is merged with the new one under a fresh window.
    function _finalSettle(
        uint256 leaseId,
        Lease storage lease,
        StoredLeaseTerms memory terms,
        Meter memory latest
    ) private {
        if (paused()) return;
        if (lease.pending != 0 && !(block.timestamp < lease.pendingUntil)) _release(leaseId, lease, terms.token);
        if (latest.timestamp > lease.cursorTimestamp) _settleWindow(leaseId, lease, terms, latest);
    }

    /// @dev Prices the window from the lease's cursor to `latest`, moves the charge (capped at the
    /// balance) to pending and advances the cursor. A never-reported baseline (cursor timestamp 0)
    /// adopts `latest` as the baseline and bills nothing.
    function _settleWindow(
        uint256 leaseId,
        Lease storage lease,
        StoredLeaseTerms memory terms,
        Meter memory latest
    ) private returns (uint256 charged) {
        Meter memory cursor = Meter({
            timestamp: lease.cursorTimestamp,
            busyGpuSeconds: lease.cursorBusyGpuSeconds,
            availableGpuSeconds: lease.cursorAvailableGpuSeconds,
            energyJ: 0
        });
        WindowCharge memory priced;
        if (cursor.timestamp != 0) {
            (bool exists, uint16 gpuCount) = _gpuCountIfExists(lease.assetId);
            // A burned asset has no payee (see `_payToProvider`): its last window is not billed, so
            // the lease can still be closed and the lessee refunded.
            if (exists) {
                priced = SettlementMath.priceWindow(cursor, latest, lease.startTime, lease.endTime, gpuCount, terms);
                uint256 balance = lease.balance;
                charged = priced.netCharge < balance ? priced.netCharge : balance;
            }
        }
        lease.cursorTimestamp = latest.timestamp;
        lease.cursorBusyGpuSeconds = latest.busyGpuSeconds;
        lease.cursorAvailableGpuSeconds = latest.availableGpuSeconds;
        uint64 pendingUntil = lease.pendingUntil;
        if (charged != 0) {
            pendingUntil = uint64(block.timestamp) + disputeWindowSeconds;
            // Cannot overflow: charged ≤ balance, and balance + pending ≤ deposited, which fits in uint96.
            lease.balance -= uint96(charged);
            lease.pending += uint96(charged);
            lease.pendingUntil = pendingUntil;
        }
        emit LeaseSettled(leaseId, cursor.timestamp, latest.timestamp, priced, charged, pendingUntil);
    }

    /// @dev Credits the lease's pending charge to the NFT's current owner.
    function _release(uint256 leaseId, Lease storage lease, address token) private {
        uint96 amount = lease.pending;
        lease.pending = 0;
        address payee = _payToProvider(lease, token, amount);
        emit ChargeReleased(leaseId, payee, token, amount);
    }

    /// @dev Marks the lease ended and credits its leftover balance to the lessee.
    function _finish(uint256 leaseId, Lease storage lease, address token, EndReason reason) private {
        uint96 refund = lease.balance;
        lease.endReason = reason;
        if (refund != 0) {
            lease.balance = 0;
            lease.refunded += refund;
            _withdrawable[lease.lessee][token] += refund;
        }
        emit LeaseEnded(leaseId, reason, msg.sender, refund);
    }

    /// @dev Splits the disputed amount between the lessee and the NFT's current owner.
    function _resolve(uint256 leaseId, Lease storage lease, uint256 toLessee, uint256 toPayee, bool byTimeout) private {
        address token = _terms[lease.assetId][lease.termsVersion].token;
        lease.disputed = 0;
        lease.disputeDeadline = 0;
        // Both shares are parts of `disputed`, a uint96.
        if (toLessee != 0) {
            lease.refunded += uint96(toLessee);
            _withdrawable[lease.lessee][token] += toLessee;
        }
        if (toPayee != 0) _payToProvider(lease, token, uint96(toPayee));
        emit DisputeResolved(leaseId, msg.sender, toLessee, toPayee, byTimeout);
    }

    /// @dev Credits `amount` to the NFT's current owner as charged. When the asset has been burned
    /// nobody else can be paid: the amount goes back to the lessee and counts as refunded.
    function _payToProvider(Lease storage lease, address token, uint96 amount) private returns (address payee) {
        try nft.ownerOf(lease.assetId) returns (address owner) {
            payee = owner;
            lease.charged += amount;
        } catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != IERC721Errors.ERC721NonexistentToken.selector) {
                // Anything but "burned" is unexpected: bubble it up rather than misdirect funds.
                LowLevelCall.bubbleRevert(reason);
            }
            payee = lease.lessee;
            lease.refunded += amount;
        }
        _withdrawable[payee][token] += amount;
    }

    /// @dev The asset's GPU count, or `exists = false` when the NFT has been burned. Only the NFT's
    /// `ERC721NonexistentToken` counts as burned; any other failure (including running out of gas in
    /// the call) bubbles up, so a caller cannot skip a charge by starving the call of gas.
    function _gpuCountIfExists(uint256 assetId) private view returns (bool exists, uint16 gpuCount) {
        try nft.meteringLimits(assetId) returns (uint16 count, uint16, AssetStatus) {
            return (true, count);
        } catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != IERC721Errors.ERC721NonexistentToken.selector) {
                LowLevelCall.bubbleRevert(reason);
            }
            return (false, 0);
        }
    }

    /// @dev Pulls exactly `amount` of `token` from `from`; refuses a token that delivers less.
    function _pullExact(address token, address from, uint256 amount) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(from, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert TransferAmountMismatch(token, amount, received);
    }

    /// @dev Reverts unless the caller is the asset's owner or an operator the owner approved.
    function _checkAssetOperator(uint256 assetId) private view {
        address owner = nft.ownerOf(assetId);
        if (msg.sender != owner && !nft.isApprovedForAll(owner, msg.sender) && nft.getApproved(assetId) != msg.sender)
            revert NotAssetOperator(assetId, msg.sender);
    }

    /// @dev Per-lease accounting; `deposited` is the sum of where every deposited unit is now.
    function _accounting(
        Lease storage lease
    ) private view returns (uint256 deposited, uint256 charged, uint256 refunded, uint256 held) {
        charged = lease.charged;
        refunded = lease.refunded;
        held = uint256(lease.balance) + lease.pending + lease.disputed;
        deposited = charged + refunded + held;
    }

    /// @dev The lease, or `UnknownLease`.
    function _leaseOf(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _leases[leaseId];
        if (lease.lessee == address(0)) revert UnknownLease(leaseId);
    }

    /// @dev The lease, or `UnknownLease` / `LeaseAlreadyEnded`.
    function _openLeaseOf(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _leaseOf(leaseId);
        EndReason reason = lease.endReason;
        if (reason != EndReason.None) revert LeaseAlreadyEnded(leaseId, reason);
    }

    function _sameTerms(StoredLeaseTerms memory a, StoredLeaseTerms memory b) private pure returns (bool) {
        return keccak256(abi.encode(a)) == keccak256(abi.encode(b));
    }

    function _unpackTerms(StoredLeaseTerms storage stored) private view returns (LeaseTerms memory) {
        return
            LeaseTerms({
                token: stored.token,
                reservationPricePerGpuHour: stored.reservationPricePerGpuHour,
                usagePricePerBusyGpuHour: stored.usagePricePerBusyGpuHour,
                minDurationSeconds: stored.minDurationSeconds,
                maxDurationSeconds: stored.maxDurationSeconds,
                slaAvailabilityBps: stored.slaAvailabilityBps,
                earlyEndAllowed: stored.earlyEndAllowed
            });
    }
}
