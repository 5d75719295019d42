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
import { IDemandResponseProgramme } from "./interfaces/IDemandResponseProgramme.sol";
import { CurtailmentTerms, EndReason, Lease, LeaseBill, LeaseTerms, StoredLeaseTerms } from "./types/EscrowTypes.sol";
import { Meter, MeterAt, MeterBoundary } from "./types/OracleTypes.sol";
import { AssetStatus } from "./types/GpuAssetTypes.sol";
import { SettlementMath } from "./libraries/SettlementMath.sol";

/// @title SettlementEscrow — stablecoin leases billed exactly from proven meters
/// @notice See `ISettlementEscrow` and docs/escrow.md. The escrow must hold the NFT's lease-manager role.
/// A thin state machine: the oracle proves meters (`IUsageOracle.meterAt`), `SettlementMath` prices them,
/// and for curtailable terms the demand-response programme says which available time its events curtailed.
contract SettlementEscrow is ISettlementEscrow, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Manages the stablecoin allowlist.
    bytes32 public constant TOKEN_ADMIN_ROLE = keccak256("TOKEN_ADMIN_ROLE");
    /// @notice Resolves disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice Pauses and unpauses new business.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc ISettlementEscrow
    bytes32 public constant PROGRAMME_ROLE = keccak256("PROGRAMME_ROLE");
    /// @inheritdoc ISettlementEscrow
    uint64 public constant FINAL_READING_GRACE_SECONDS = 7 days;
    /// @inheritdoc ISettlementEscrow
    address public constant MIXED_TOKENS = address(1);
    /// @inheritdoc ISettlementEscrow
    uint8 public constant MAX_EVENTS_PER_LEASE = 8;

    /// @notice The GPU-lease NFT.
    IGpuAssetNFT public immutable nft;
    /// @notice The usage oracle.
    IUsageOracle public immutable oracle;
    /// @inheritdoc ISettlementEscrow
    uint64 public immutable disputeWindowSeconds;
    /// @inheritdoc ISettlementEscrow
    uint64 public immutable arbiterTimeoutSeconds;

    /// @dev Per asset: which terms version is current (0: none), the highest used, and the unfinished
    /// leases with their common token (`MIXED_TOKENS` when several).
    struct AssetLeasing {
        // slot 0
        uint24 currentTerms;
        uint24 latestTerms;
        uint32 unfinishedLeases;
        address unfinishedToken;
    }

    /// @dev What a billing computation found (kept in memory to stay clear of the stack limit).
    struct Billing {
        bool burned;
        bool newStart;
        uint64 pointTime;
        uint64 latestAcceptedAt;
        Meter start;
        LeaseBill bill;
        uint256 chargeable;
    }

    mapping(address token => bool) private _tokenAllowed;
    mapping(uint256 assetId => AssetLeasing) private _assets;
    mapping(uint256 assetId => mapping(uint24 version => StoredLeaseTerms)) private _terms;
    mapping(uint256 assetId => mapping(uint24 version => CurtailmentTerms)) private _curtailment;
    mapping(uint256 leaseId => Lease) private _leases;
    mapping(address account => mapping(address token => uint256)) private _withdrawable;
    /// @dev Id of the next lease; starts at 1 (set in the constructor, so no open pays for a zero slot).
    uint256 private _nextLeaseId;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes every role).
    /// @param nft_ The GPU-lease NFT.
    /// @param oracle_ The usage oracle.
    /// @param disputeWindowSeconds_ Time after a reading's acceptance before it is billable, non-zero.
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
        _publishTerms(assetId, terms, false, CurtailmentTerms(address(0), 0, 0, 0, 0));
    }

    /// @inheritdoc ISettlementEscrow
    function setCurtailableLeaseTerms(
        uint256 assetId,
        LeaseTerms calldata terms,
        CurtailmentTerms calldata curtailment
    ) external {
        _publishTerms(assetId, terms, true, curtailment);
    }

    /// @inheritdoc ISettlementEscrow
    function removeLeaseTerms(uint256 assetId) external {
        // Checks
        _checkAssetOperator(assetId);
        if (_assets[assetId].currentTerms == 0) revert NoLeaseTerms(assetId);
        // Effects
        _assets[assetId].currentTerms = 0;
        emit LeaseTermsRemoved(assetId, msg.sender);
    }

    /// @inheritdoc ISettlementEscrow
    function leaseTermsOf(uint256 assetId) external view returns (LeaseTerms memory) {
        return _unpackTerms(_terms[assetId][_assets[assetId].currentTerms]);
    }

    /// @inheritdoc ISettlementEscrow
    function currentTermsVersion(uint256 assetId) external view returns (uint24) {
        return _assets[assetId].currentTerms;
    }

    /// @inheritdoc ISettlementEscrow
    function leaseTermsAt(uint256 assetId, uint24 version) external view returns (LeaseTerms memory) {
        return _unpackTerms(_terms[assetId][version]);
    }

    /// @inheritdoc ISettlementEscrow
    function curtailmentTermsAt(uint256 assetId, uint24 version) external view returns (CurtailmentTerms memory) {
        return _curtailment[assetId][version];
    }

    // ---------------------------------------------------------------- lifecycle

    /// @inheritdoc ISettlementEscrow
    function openLease(
        uint256 assetId,
        uint24 termsVersion,
        uint64 durationSeconds,
        uint256 deposit
    ) external nonReentrant whenNotPaused returns (uint256 leaseId) {
        return _open(assetId, termsVersion, durationSeconds, deposit);
    }

    /// @inheritdoc ISettlementEscrow
    function openLeaseWithPermit(
        uint256 assetId,
        uint24 termsVersion,
        uint64 durationSeconds,
        uint256 deposit,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant whenNotPaused returns (uint256 leaseId) {
        // Checks first for the terms the lessee agreed to, so a permit is never spent on other terms.
        uint24 current = _assets[assetId].currentTerms;
        if (termsVersion != current) revert TermsVersionMismatch(assetId, termsVersion, current);
        // Interactions (before `_open`, deliberately): the permit only sets an allowance; `_open` then
        // runs every check and pulls the deposit. A failed permit (e.g. front-run with the same
        // signature) is fine as long as the allowance covers the deposit.
        address token = _terms[assetId][current].token;
        if (!_tokenAllowed[token]) revert TokenNotAllowed(token);
        (bool permitted, ) = token.call(
            abi.encodeCall(IERC20Permit.permit, (msg.sender, address(this), deposit, deadline, v, r, s))
        );
        if (!permitted) {
            uint256 allowance = IERC20(token).allowance(msg.sender, address(this));
            if (allowance < deposit) revert PermitFailed(token, allowance, deposit);
        }
        return _open(assetId, termsVersion, durationSeconds, deposit);
    }

    /// @inheritdoc ISettlementEscrow
    function topUp(uint256 leaseId, uint256 amount) external nonReentrant whenNotPaused {
        // Checks
        Lease storage lease = _runningLeaseOf(leaseId);
        if (amount == 0) revert ZeroAmount();
        // Keeps `deposited`, and with it every accounting field, within uint96.
        uint96 deposited = (lease.deposited + amount).toUint96();
        // Effects
        lease.deposited = deposited;
        lease.balance += uint96(amount);
        emit LeaseToppedUp(leaseId, msg.sender, amount);
        // Interactions
        _pullExact(_terms[lease.assetId][lease.termsVersion].token, msg.sender, amount);
    }

    /// @inheritdoc ISettlementEscrow
    function settle(
        uint256 leaseId,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external returns (uint256 charged) {
        // No reentrancy guard: no token moves and every external call is a view (STATICCALL).
        // Checks
        Lease storage lease = _unclosedLeaseOf(leaseId);
        StoredLeaseTerms memory terms = _terms[lease.assetId][lease.termsVersion];
        Billing memory billing = _billing(leaseId, lease, terms, start, point);
        if (billing.chargeable == 0 && !billing.newStart) {
            revert NothingToSettle(leaseId, billing.bill.total, lease.billed);
        }
        _requireBillable(leaseId, billing);
        // Effects
        charged = _charge(leaseId, lease, terms.token, billing);
    }

    /// @inheritdoc ISettlementEscrow
    function close(uint256 leaseId, MeterBoundary calldata start, MeterBoundary calldata end) external {
        // No reentrancy guard: no token moves and every external call is a view (STATICCALL).
        // Checks
        Lease storage lease = _unclosedLeaseOf(leaseId);
        uint40 endTime = lease.endTime;
        if (block.timestamp < endTime) revert LeaseNotExpired(leaseId, endTime);
        StoredLeaseTerms memory terms = _terms[lease.assetId][lease.termsVersion];
        bool finalReading = end.later.batchIndex != 0;
        if (finalReading) {
            Billing memory billing = _billing(leaseId, lease, terms, start, end);
            finalReading = !billing.burned;
            if (finalReading) {
                if (billing.pointTime != endTime) revert NotFinalReading(leaseId, billing.pointTime, endTime);
                _requireBillable(leaseId, billing);
                // Effects
                _charge(leaseId, lease, terms.token, billing);
            }
        } else {
            uint64 closableAt = uint64(endTime) + FINAL_READING_GRACE_SECONDS;
            (bool exists, , ) = _limitsIfExists(lease.assetId);
            if (exists && block.timestamp < closableAt) revert AwaitingFinalReading(leaseId, closableAt);
        }
        // Effects
        _close(leaseId, lease, terms.token, finalReading);
    }

    /// @inheritdoc ISettlementEscrow
    function endByLessee(uint256 leaseId) external nonReentrant {
        // Checks
        Lease storage lease = _runningLeaseOf(leaseId);
        if (msg.sender != lease.lessee) revert NotLessee(leaseId, msg.sender);
        StoredLeaseTerms memory terms = _terms[lease.assetId][lease.termsVersion];
        if (!terms.earlyEndAllowed) revert EarlyEndNotAllowed(leaseId);
        uint64 earliestEnd = uint64(lease.startTime) + terms.minDurationSeconds;
        if (block.timestamp < earliestEnd) revert MinimumDurationNotReached(leaseId, earliestEnd);
        _endEarly(leaseId, lease, EndReason.EndedByLessee);
    }

    /// @inheritdoc ISettlementEscrow
    function terminateByProvider(uint256 leaseId) external nonReentrant {
        // Checks
        Lease storage lease = _runningLeaseOf(leaseId);
        _checkAssetOperator(lease.assetId);
        _endEarly(leaseId, lease, EndReason.TerminatedByProvider);
    }

    /// @inheritdoc ISettlementEscrow
    function closeUnderfunded(uint256 leaseId) external nonReentrant {
        // Checks
        Lease storage lease = _runningLeaseOf(leaseId);
        uint256 required = _fundingRequired(lease);
        uint256 deposited = lease.deposited;
        if (!(deposited < required)) revert LeaseNotUnderfunded(leaseId, deposited, required);
        _endEarly(leaseId, lease, EndReason.InsufficientFunds);
    }

    // ---------------------------------------------------------------- disputes

    /// @inheritdoc ISettlementEscrow
    function dispute(
        uint256 leaseId,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external returns (uint256 amount) {
        // No reentrancy guard: no token moves and every external call is a view (STATICCALL).
        // Checks
        Lease storage lease = _unclosedLeaseOf(leaseId);
        if (msg.sender != lease.lessee) revert NotLessee(leaseId, msg.sender);
        uint256 disputed = lease.disputed;
        if (disputed != 0) revert DisputeAlreadyOpen(leaseId, disputed);
        Billing memory billing = _billing(leaseId, lease, _terms[lease.assetId][lease.termsVersion], start, point);
        amount = billing.chargeable;
        if (amount == 0) revert NothingToDispute(leaseId, billing.bill.total, lease.billed);
        _requireNotAhead(leaseId, billing);
        // Effects: billed like a settlement, but held instead of credited.
        uint64 deadline = uint64(block.timestamp) + arbiterTimeoutSeconds;
        _recordBilling(lease, billing);
        lease.disputed = uint96(amount);
        lease.disputeDeadline = uint256(deadline).toUint40();
        emit DisputeRaised(leaseId, amount, billing.pointTime, deadline);
    }

    /// @inheritdoc ISettlementEscrow
    function resolveDispute(uint256 leaseId, uint256 toLessee) external onlyRole(ARBITER_ROLE) nonReentrant {
        // Checks
        Lease storage lease = _leaseOf(leaseId);
        uint256 disputed = lease.disputed;
        if (disputed == 0) revert NoOpenDispute(leaseId);
        uint40 deadline = lease.disputeDeadline;
        if (!(block.timestamp < deadline)) revert ArbiterTimeoutPassed(leaseId, deadline);
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
        uint40 deadline = lease.disputeDeadline;
        if (block.timestamp < deadline) revert ArbiterTimeoutNotReached(leaseId, deadline);
        // Effects
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
    function previewBill(
        uint256 leaseId,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external view returns (LeaseBill memory bill, uint256 chargeable) {
        Lease storage lease = _leaseOf(leaseId);
        Billing memory billing = _billing(leaseId, lease, _terms[lease.assetId][lease.termsVersion], start, point);
        return (billing.bill, billing.chargeable);
    }

    /// @inheritdoc ISettlementEscrow
    function leaseCount() external view returns (uint256) {
        return _nextLeaseId - 1;
    }

    /// @inheritdoc ISettlementEscrow
    function minimumDeposit(uint256 assetId) public view returns (uint256) {
        StoredLeaseTerms memory terms = _terms[assetId][_assets[assetId].currentTerms];
        (uint16 gpuCount, uint16 tdpWattsPerGpu, ) = nft.meteringLimits(assetId);
        return SettlementMath.fullUseCost(gpuCount, tdpWattsPerGpu, terms, 1 hours);
    }

    /// @inheritdoc ISettlementEscrow
    function isTokenAllowed(address token) external view returns (bool) {
        return _tokenAllowed[token];
    }

    /// @inheritdoc ISettlementEscrow
    function unfinishedLeasesOf(uint256 assetId) external view returns (uint256 count, address token) {
        AssetLeasing memory asset = _assets[assetId];
        return (asset.unfinishedLeases, asset.unfinishedToken);
    }

    // ---------------------------------------------------------------- internals: terms

    /// @dev Publishes a new terms version (curtailable or not). Owner or approved operator only.
    function _publishTerms(
        uint256 assetId,
        LeaseTerms calldata terms,
        bool curtailable,
        CurtailmentTerms memory curtailment
    ) private {
        // Checks
        _checkAssetOperator(assetId);
        if (!_tokenAllowed[terms.token]) revert TokenNotAllowed(terms.token);
        if (terms.minDurationSeconds == 0 || terms.minDurationSeconds > terms.maxDurationSeconds) {
            revert InvalidDurationBounds(terms.minDurationSeconds, terms.maxDurationSeconds);
        }
        if (terms.slaAvailabilityBps > SettlementMath.BPS) revert InvalidSlaTarget(terms.slaAvailabilityBps);
        StoredLeaseTerms memory stored = StoredLeaseTerms({
            token: terms.token,
            slaAvailabilityBps: terms.slaAvailabilityBps,
            earlyEndAllowed: terms.earlyEndAllowed,
            energyPricePerKWh: terms.energyPricePerKWh.toUint64(),
            curtailable: curtailable,
            reservationPricePerGpuHour: terms.reservationPricePerGpuHour.toUint96(),
            usagePricePerBusyGpuHour: terms.usagePricePerBusyGpuHour.toUint96(),
            minDurationSeconds: uint256(terms.minDurationSeconds).toUint32(),
            maxDurationSeconds: uint256(terms.maxDurationSeconds).toUint32()
        });
        if (curtailable) _checkCurtailment(curtailment);
        AssetLeasing memory asset = _assets[assetId];
        uint24 current = asset.currentTerms;
        if (
            current != 0 &&
            keccak256(abi.encode(_terms[assetId][current], _curtailment[assetId][current])) ==
                keccak256(abi.encode(stored, curtailment))
        ) {
            revert LeaseTermsUnchanged(assetId);
        }
        // Effects
        uint24 version = asset.latestTerms + 1;
        _terms[assetId][version] = stored;
        if (curtailable) _curtailment[assetId][version] = curtailment;
        asset.currentTerms = version;
        asset.latestTerms = version;
        _assets[assetId] = asset;
        emit LeaseTermsSet(assetId, version, msg.sender, terms);
        if (curtailable) emit CurtailmentTermsSet(assetId, version, curtailment);
    }

    /// @dev Reverts unless curtailment terms name a programme contract holding `PROGRAMME_ROLE` and
    /// their discount and caps are within bounds.
    function _checkCurtailment(CurtailmentTerms memory curtailment) private view {
        if (!hasRole(PROGRAMME_ROLE, curtailment.programme)) revert ProgrammeNotAllowed(curtailment.programme);
        if (
            curtailment.reservationDiscountBps > SettlementMath.BPS ||
            curtailment.maxEventsPerLease == 0 ||
            curtailment.maxEventsPerLease > MAX_EVENTS_PER_LEASE ||
            curtailment.maxEventSecondsPerLease == 0
        ) {
            revert InvalidCurtailmentTerms(
                curtailment.reservationDiscountBps,
                curtailment.maxEventsPerLease,
                curtailment.maxEventSecondsPerLease
            );
        }
    }

    // ---------------------------------------------------------------- internals: opening

    /// @dev Opens a lease; the caller runs the reentrancy and pause guards.
    function _open(
        uint256 assetId,
        uint24 termsVersion,
        uint64 durationSeconds,
        uint256 deposit
    ) private returns (uint256 leaseId) {
        // Checks
        address token = _checkOpen(assetId, termsVersion, durationSeconds, deposit);
        // Effects
        leaseId = _nextLeaseId;
        _nextLeaseId = leaseId + 1;
        uint64 startTime = uint64(block.timestamp);
        uint64 endTime = startTime + durationSeconds;
        uint96 deposit96 = deposit.toUint96();
        Lease storage lease = _leases[leaseId];
        lease.lessee = msg.sender;
        lease.startTime = uint40(startTime);
        lease.endTime = uint256(endTime).toUint40();
        lease.assetId = uint32(assetId); // checked to fit in `_checkOpen`
        lease.termsVersion = termsVersion;
        lease.balance = deposit96;
        lease.deposited = deposit96;
        _countUnfinished(assetId, token);
        emit LeaseOpened(leaseId, assetId, msg.sender, token, termsVersion, startTime, endTime, deposit);
        // Interactions
        _pullExact(token, msg.sender, deposit);
        nft.setUser(assetId, msg.sender, endTime);
    }

    /// @dev The checks of `_open`: the agreed terms are current, allowed token, duration bounds,
    /// meterable and leasable asset, deposit of at least one hour of full use. Returns the token.
    function _checkOpen(
        uint256 assetId,
        uint24 termsVersion,
        uint64 durationSeconds,
        uint256 deposit
    ) private view returns (address token) {
        uint24 current = _assets[assetId].currentTerms;
        if (current == 0) revert NoLeaseTerms(assetId);
        if (termsVersion != current) revert TermsVersionMismatch(assetId, termsVersion, current);
        StoredLeaseTerms memory terms = _terms[assetId][current];
        token = terms.token;
        if (!_tokenAllowed[token]) revert TokenNotAllowed(token);
        if (durationSeconds < terms.minDurationSeconds || durationSeconds > terms.maxDurationSeconds) {
            revert DurationOutOfBounds(durationSeconds, terms.minDurationSeconds, terms.maxDurationSeconds);
        }
        if (assetId > type(uint32).max) revert AssetNotMeterable(assetId);
        if (!nft.isLeasable(assetId)) revert AssetNotLeasable(assetId);
        (uint16 gpuCount, uint16 tdpWattsPerGpu, ) = nft.meteringLimits(assetId);
        uint256 minimum = SettlementMath.fullUseCost(gpuCount, tdpWattsPerGpu, terms, 1 hours);
        if (deposit < minimum || deposit == 0) revert DepositTooLow(deposit, minimum);
    }

    /// @dev Counts a new unfinished lease of the asset in `token`.
    function _countUnfinished(uint256 assetId, address token) private {
        AssetLeasing storage asset = _assets[assetId];
        uint32 count = asset.unfinishedLeases;
        if (count == 0) asset.unfinishedToken = token;
        else if (asset.unfinishedToken != token) asset.unfinishedToken = MIXED_TOKENS;
        asset.unfinishedLeases = count + 1;
    }

    // ---------------------------------------------------------------- internals: billing

    /// @dev Proves the meters at the lease start and at the billing point (`IUsageOracle.meterWindow`)
    /// and prices the bill up to the point. A burned asset has no spec and no payee: nothing more is
    /// billed (`burned`); any other failure of the oracle bubbles up.
    function _billing(
        uint256 leaseId,
        Lease storage lease,
        StoredLeaseTerms memory terms,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) private view returns (Billing memory billing) {
        if (!lease.startMetered && start.later.batchIndex == 0) revert StartMeterRequired(leaseId);
        // Once the start meter is stored, callers pass an absent `start` (it would only cost gas).
        try oracle.meterWindow(lease.assetId, lease.startTime, lease.endTime, start, point) returns (
            MeterAt memory atStart,
            MeterAt memory atPoint,
            uint16 gpuCount,
            uint16 tdpWattsPerGpu
        ) {
            _price(lease, terms, billing, atStart, atPoint, gpuCount, tdpWattsPerGpu);
        } catch (bytes memory reason) {
            // A burned asset has no spec and no payee: nothing more is billed.
            _requireBurned(reason);
            billing.burned = true;
            return billing;
        }
        uint256 billed = lease.billed;
        if (billing.bill.total > billed) {
            uint256 increase = billing.bill.total - billed;
            uint256 balance = lease.balance;
            billing.chargeable = increase < balance ? increase : balance;
        }
    }

    /// @dev Fills a billing from the meters `meterWindow` proved: the start meter (stored, or the proven
    /// one: `newStart`), the point, the latest acceptance time and the bill up to the point.
    function _price(
        Lease storage lease,
        StoredLeaseTerms memory terms,
        Billing memory billing,
        MeterAt memory atStart,
        MeterAt memory atPoint,
        uint16 gpuCount,
        uint16 tdpWattsPerGpu
    ) private view {
        uint40 startTime = lease.startTime;
        billing.latestAcceptedAt = atPoint.acceptedAt;
        if (lease.startMetered) {
            billing.start = Meter({
                timestamp: startTime,
                busyGpuSeconds: lease.startBusyGpuSeconds,
                availableGpuSeconds: lease.startAvailableGpuSeconds,
                energyJ: lease.startEnergyJ
            });
        } else {
            billing.start = atStart.meter;
            billing.newStart = true;
            if (atStart.acceptedAt > billing.latestAcceptedAt) billing.latestAcceptedAt = atStart.acceptedAt;
        }
        billing.pointTime = atPoint.meter.timestamp;
        uint256 curtailed;
        uint16 discount;
        if (terms.curtailable) (curtailed, discount) = _curtailed(lease, billing.start, atPoint.meter);
        billing.bill = SettlementMath.leaseBill(
            billing.start,
            atPoint.meter,
            lease.endTime - startTime,
            gpuCount,
            tdpWattsPerGpu,
            terms,
            curtailed,
            discount
        );
    }

    /// @dev A curtailable lease's curtailed available GPU-seconds up to the point (read from the
    /// programme its terms version follows) and its reservation discount.
    function _curtailed(
        Lease storage lease,
        Meter memory start,
        Meter memory point
    ) private view returns (uint256 curtailed, uint16 discount) {
        CurtailmentTerms memory c = _curtailment[lease.assetId][lease.termsVersion];
        curtailed = IDemandResponseProgramme(c.programme).curtailedGpuSeconds(
            c,
            lease.assetId,
            lease.startTime,
            lease.endTime,
            point.timestamp,
            start.availableGpuSeconds,
            point.availableGpuSeconds
        );
        discount = c.reservationDiscountBps;
    }

    /// @dev Reverts unless every reading a billing used is past its dispute window and the billing point
    /// is not after now (see `_requireNotAhead`).
    function _requireBillable(uint256 leaseId, Billing memory billing) private view {
        uint64 billableAt = billing.latestAcceptedAt + disputeWindowSeconds;
        if (billableAt < billing.pointTime) billableAt = billing.pointTime;
        if (block.timestamp < billableAt) revert ReadingNotYetBillable(leaseId, billableAt);
    }

    /// @dev Reverts while the billing point is after now: a reading may be stamped up to the oracle's
    /// skew ahead, and billing it before its time could bill time after an early end that comes first.
    function _requireNotAhead(uint256 leaseId, Billing memory billing) private view {
        if (block.timestamp < billing.pointTime) revert ReadingNotYetBillable(leaseId, billing.pointTime);
    }

    /// @dev Stores what a billing proved (the start meter, the new bill) and takes its charge from the
    /// balance. Returns the charge.
    function _recordBilling(Lease storage lease, Billing memory billing) private returns (uint96 charge) {
        if (billing.newStart) {
            lease.startMetered = true;
            // Proven meters come from packed readings (48-bit counters) or lie between two of them.
            lease.startBusyGpuSeconds = uint48(billing.start.busyGpuSeconds);
            lease.startAvailableGpuSeconds = uint48(billing.start.availableGpuSeconds);
            lease.startEnergyJ = billing.start.energyJ;
        }
        // Cannot overflow: chargeable <= balance, and billed + balance <= deposited, within uint96.
        charge = uint96(billing.chargeable);
        lease.balance -= charge;
        lease.billed += charge;
    }

    /// @dev Records a billing and credits its charge to the NFT's current owner.
    function _charge(
        uint256 leaseId,
        Lease storage lease,
        address token,
        Billing memory billing
    ) private returns (uint256 charged) {
        charged = _recordBilling(lease, billing);
        address payee = nft.ownerOf(lease.assetId);
        if (charged != 0) _withdrawable[payee][token] += charged;
        emit LeaseSettled(leaseId, payee, billing.pointTime, billing.bill, charged);
    }

    /// @dev Full use of the lease from its start to its end or one hour from now, whichever is first.
    /// Deposits are only ever taken by the lease's bill, which never exceeds full use, so a lease whose
    /// deposits cover this always has the balance to pay for what it has used and the next hour.
    function _fundingRequired(Lease storage lease) private view returns (uint256) {
        (bool exists, uint16 gpuCount, uint16 tdpWattsPerGpu) = _limitsIfExists(lease.assetId);
        if (!exists) return 0;
        uint256 horizon = block.timestamp + 1 hours;
        uint256 to = lease.endTime < horizon ? lease.endTime : horizon;
        StoredLeaseTerms memory terms = _terms[lease.assetId][lease.termsVersion];
        return SettlementMath.fullUseCost(gpuCount, tdpWattsPerGpu, terms, to - lease.startTime);
    }

    // ---------------------------------------------------------------- internals: ending

    /// @dev Ends a running lease now: truncates its end time and clears the NFT user. `close` bills it.
    function _endEarly(uint256 leaseId, Lease storage lease, EndReason reason) private {
        // Effects
        uint64 now_ = uint64(block.timestamp);
        // Before the end time, which fits 40 bits.
        lease.endTime = uint40(now_);
        lease.endReason = reason;
        emit LeaseEnded(leaseId, reason, msg.sender, now_);
        // Interactions: the lease held the NFT user right until its end time, which had not come.
        nft.setUser(lease.assetId, address(0), 0);
    }

    /// @dev Marks the lease closed and credits its leftover balance to the lessee.
    function _close(uint256 leaseId, Lease storage lease, address token, bool finalReading) private {
        EndReason reason = lease.endReason;
        if (reason == EndReason.None) {
            reason = EndReason.Expired;
            lease.endReason = reason;
        }
        lease.closed = true;
        uint96 refund = lease.balance;
        if (refund != 0) {
            lease.balance = 0;
            _withdrawable[lease.lessee][token] += refund;
        }
        if (lease.disputed == 0) _finishUnfinished(lease.assetId);
        emit LeaseClosed(leaseId, reason, msg.sender, finalReading, refund);
    }

    /// @dev Splits the disputed amount between the lessee and the NFT's current owner.
    function _resolve(uint256 leaseId, Lease storage lease, uint256 toLessee, uint256 toPayee, bool byTimeout) private {
        address token = _terms[lease.assetId][lease.termsVersion].token;
        lease.disputed = 0;
        lease.disputeDeadline = 0;
        // Both shares are parts of `disputed`, a uint96.
        if (toLessee != 0) {
            lease.disputeRefunded += uint96(toLessee);
            _withdrawable[lease.lessee][token] += toLessee;
        }
        if (toPayee != 0) _payToProvider(lease, token, uint96(toPayee));
        if (lease.closed) _finishUnfinished(lease.assetId);
        emit DisputeResolved(leaseId, msg.sender, toLessee, toPayee, byTimeout);
    }

    /// @dev One unfinished lease of the asset finished.
    function _finishUnfinished(uint256 assetId) private {
        AssetLeasing storage asset = _assets[assetId];
        uint32 count = asset.unfinishedLeases - 1;
        asset.unfinishedLeases = count;
        if (count == 0) asset.unfinishedToken = address(0);
    }

    /// @dev Credits `amount` to the NFT's current owner as charged. When the asset has been burned
    /// nobody else can be paid: the amount goes back to the lessee and counts as refunded.
    function _payToProvider(Lease storage lease, address token, uint96 amount) private {
        address payee;
        try nft.ownerOf(lease.assetId) returns (address owner) {
            payee = owner;
        } catch (bytes memory reason) {
            _requireBurned(reason);
            payee = lease.lessee;
            lease.disputeRefunded += amount;
        }
        _withdrawable[payee][token] += amount;
    }

    // ---------------------------------------------------------------- internals: small helpers

    /// @dev The asset's GPU count and TDP, or `exists = false` when the NFT has been burned. Only the
    /// NFT's `ERC721NonexistentToken` counts as burned; any other failure (including running out of gas
    /// in the call) bubbles up, so a caller cannot skip a charge by starving the call of gas.
    function _limitsIfExists(uint256 assetId) private view returns (bool exists, uint16 gpuCount, uint16 tdp) {
        try nft.meteringLimits(assetId) returns (uint16 count, uint16 tdpWatts, AssetStatus) {
            return (true, count, tdpWatts);
        } catch (bytes memory reason) {
            _requireBurned(reason);
            return (false, 0, 0);
        }
    }

    /// @dev Bubbles `reason` up unless it is the NFT's `ERC721NonexistentToken`.
    function _requireBurned(bytes memory reason) private pure {
        if (reason.length < 4 || bytes4(reason) != IERC721Errors.ERC721NonexistentToken.selector) {
            LowLevelCall.bubbleRevert(reason);
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
        deposited = lease.deposited;
        uint256 disputeRefunded = lease.disputeRefunded;
        uint256 billed = lease.billed;
        charged = billed - lease.disputed - disputeRefunded;
        held = uint256(lease.balance) + lease.disputed;
        refunded = deposited - billed - lease.balance + disputeRefunded;
    }

    /// @dev The lease, or `UnknownLease`.
    function _leaseOf(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _leases[leaseId];
        if (lease.lessee == address(0)) revert UnknownLease(leaseId);
    }

    /// @dev The lease, unless unknown or closed (`LeaseAlreadyClosed`).
    function _unclosedLeaseOf(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _leaseOf(leaseId);
        if (lease.closed) revert LeaseAlreadyClosed(leaseId);
    }

    /// @dev The lease, unless unknown, ended early or closed (`LeaseAlreadyEnded`), or past its end time
    /// (`LeaseExpired`).
    function _runningLeaseOf(uint256 leaseId) private view returns (Lease storage lease) {
        lease = _leaseOf(leaseId);
        EndReason reason = lease.endReason;
        if (reason != EndReason.None) revert LeaseAlreadyEnded(leaseId, reason);
        uint40 endTime = lease.endTime;
        if (!(block.timestamp < endTime)) revert LeaseExpired(leaseId, endTime);
    }

    function _unpackTerms(StoredLeaseTerms storage stored) private view returns (LeaseTerms memory) {
        return
            LeaseTerms({
                token: stored.token,
                reservationPricePerGpuHour: stored.reservationPricePerGpuHour,
                usagePricePerBusyGpuHour: stored.usagePricePerBusyGpuHour,
                energyPricePerKWh: stored.energyPricePerKWh,
                minDurationSeconds: stored.minDurationSeconds,
                maxDurationSeconds: stored.maxDurationSeconds,
                slaAvailabilityBps: stored.slaAvailabilityBps,
                earlyEndAllowed: stored.earlyEndAllowed
            });
    }
}
