// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { EndReason, Lease, LeaseTerms, WindowCharge } from "../types/EscrowTypes.sol";

/// @title ISettlementEscrow — stablecoin leases settled from usage proofs
/// @notice Holds lessees' deposits, settles leases from UsageOracle meter deltas, and keeps every
/// payout as a pull balance per account and token.
/// @dev Cross-contract surface (used by RevenueSplitVault, deploy scripts, the demo) is fixed:
/// `setLeaseTerms`, `leaseTermsOf`, `withdraw`, `withdrawable`.
///
/// Lifecycle: `openLease` (deposit) → `settle` (anyone, at most once per dispute window) → one of
/// `close` (expiry, anyone), `endByLessee`, `terminateByProvider`, `closeUnderfunded` (anyone), each
/// with a final settlement. A settled charge is `pending` for `disputeWindowSeconds`; the lessee may
/// `dispute` part of it; undisputed pending charges are credited to the NFT's owner by `release`
/// (anyone) or by the next settlement. Per lease: deposited = charged + refunded + balance + pending + disputed.
interface ISettlementEscrow {
    // ---------------------------------------------------------------- errors

    /// @notice A zero address was given where a contract or account is required.
    error ZeroAddress();
    /// @notice A zero duration was given for the dispute window or the arbiter timeout.
    error ZeroDuration();
    /// @notice A zero amount was given where a positive one is required.
    error ZeroAmount();
    /// @notice The token is not on the allowlist.
    /// @param token The token.
    error TokenNotAllowed(address token);
    /// @notice The allowlist flag of the token already has this value.
    /// @param token The token.
    /// @param allowed The current flag.
    error TokenAllowlistUnchanged(address token, bool allowed);
    /// @notice The caller is neither the NFT's owner nor an operator the owner approved.
    /// @param assetId The asset.
    /// @param caller The caller.
    error NotAssetOperator(uint256 assetId, address caller);
    /// @notice Minimum duration zero or above the maximum.
    /// @param minDurationSeconds Given minimum.
    /// @param maxDurationSeconds Given maximum.
    error InvalidDurationBounds(uint64 minDurationSeconds, uint64 maxDurationSeconds);
    /// @notice SLA target above 10000 bps.
    /// @param slaAvailabilityBps Given target.
    error InvalidSlaTarget(uint16 slaAvailabilityBps);
    /// @notice The new terms equal the current ones.
    /// @param assetId The asset.
    error LeaseTermsUnchanged(uint256 assetId);
    /// @notice The asset has no published terms.
    /// @param assetId The asset.
    error NoLeaseTerms(uint256 assetId);
    /// @notice The asset is not Active or already has a live user (lease).
    /// @param assetId The asset.
    error AssetNotLeasable(uint256 assetId);
    /// @notice The requested duration is outside the terms' bounds.
    /// @param durationSeconds Requested duration.
    /// @param minDurationSeconds Minimum.
    /// @param maxDurationSeconds Maximum.
    error DurationOutOfBounds(uint64 durationSeconds, uint64 minDurationSeconds, uint64 maxDurationSeconds);
    /// @notice The deposit is below one hour of full use of the asset (`minimumDeposit`).
    /// @param deposit Given deposit.
    /// @param minimum Minimum deposit.
    error DepositTooLow(uint256 deposit, uint256 minimum);
    /// @notice The permit failed and the existing allowance does not cover the deposit.
    /// @param token The token.
    /// @param allowance The allowance after the failed permit.
    /// @param needed The deposit.
    error PermitFailed(address token, uint256 allowance, uint256 needed);
    /// @notice The escrow received a different amount than was sent (fee-on-transfer or rebasing token).
    /// @param token The token.
    /// @param expected Amount sent.
    /// @param received Amount that arrived.
    error TransferAmountMismatch(address token, uint256 expected, uint256 received);
    /// @notice No lease has this id.
    /// @param leaseId The id.
    error UnknownLease(uint256 leaseId);
    /// @notice The lease has already ended.
    /// @param leaseId The lease.
    /// @param reason Why it ended.
    error LeaseAlreadyEnded(uint256 leaseId, EndReason reason);
    /// @notice The lease's end time has passed; use `close`.
    /// @param leaseId The lease.
    /// @param endTime Its end time.
    error LeaseExpired(uint256 leaseId, uint64 endTime);
    /// @notice The lease's end time has not come yet.
    /// @param leaseId The lease.
    /// @param endTime Its end time.
    error LeaseNotExpired(uint256 leaseId, uint64 endTime);
    /// @notice No reading at or after the lease end exists yet and the grace period has not passed.
    /// @param leaseId The lease.
    /// @param closableAt When anyone may close it without that reading.
    error AwaitingFinalReading(uint256 leaseId, uint64 closableAt);
    /// @notice The caller is not the lessee.
    /// @param leaseId The lease.
    /// @param caller The caller.
    error NotLessee(uint256 leaseId, address caller);
    /// @notice The lease's terms do not let the lessee end early.
    /// @param leaseId The lease.
    error EarlyEndNotAllowed(uint256 leaseId);
    /// @notice The lessee may end early only once the minimum duration has passed.
    /// @param leaseId The lease.
    /// @param earliestEnd First timestamp at which the lessee may end it.
    error MinimumDurationNotReached(uint256 leaseId, uint64 earliestEnd);
    /// @notice The lease can still pay the next hour of full use.
    /// @param leaseId The lease.
    /// @param balance Its balance after the final settlement.
    /// @param required One hour of full use.
    error LeaseNotUnderfunded(uint256 leaseId, uint256 balance, uint256 required);
    /// @notice The oracle has no reading newer than the last one settled.
    /// @param leaseId The lease.
    /// @param latestTimestamp Timestamp of the oracle's latest reading.
    error NoNewReading(uint256 leaseId, uint64 latestTimestamp);
    /// @notice The previous settlement is still inside its dispute window.
    /// @param leaseId The lease.
    /// @param pendingUntil End of that window.
    error DisputeWindowOpen(uint256 leaseId, uint64 pendingUntil);
    /// @notice Nothing is pending, or the pending charge is still inside its dispute window.
    /// @param leaseId The lease.
    /// @param pending Pending amount.
    /// @param pendingUntil End of its dispute window.
    error NothingToRelease(uint256 leaseId, uint256 pending, uint64 pendingUntil);
    /// @notice Nothing is pending inside an open dispute window.
    /// @param leaseId The lease.
    /// @param pending Pending amount.
    /// @param pendingUntil End of its dispute window.
    error NothingToDispute(uint256 leaseId, uint256 pending, uint64 pendingUntil);
    /// @notice The disputed amount is zero or exceeds the pending charge.
    /// @param leaseId The lease.
    /// @param amount Given amount.
    /// @param pending Pending amount.
    error InvalidDisputeAmount(uint256 leaseId, uint256 amount, uint256 pending);
    /// @notice The lease already has an open dispute.
    /// @param leaseId The lease.
    /// @param disputed Amount held under it.
    error DisputeAlreadyOpen(uint256 leaseId, uint256 disputed);
    /// @notice The lease has no open dispute.
    /// @param leaseId The lease.
    error NoOpenDispute(uint256 leaseId);
    /// @notice The arbiter's time has not run out yet.
    /// @param leaseId The lease.
    /// @param deadline When the default applies.
    error ArbiterTimeoutNotReached(uint256 leaseId, uint64 deadline);
    /// @notice The lessee's share exceeds the disputed amount.
    /// @param leaseId The lease.
    /// @param toLessee Given share.
    /// @param disputed Disputed amount.
    error InvalidSplit(uint256 leaseId, uint256 toLessee, uint256 disputed);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when a token is added to or removed from the allowlist.
    /// @param token The token.
    /// @param allowed The new flag.
    event TokenAllowlistUpdated(address indexed token, bool allowed);
    /// @notice Emitted when an asset's terms are published or replaced.
    /// @param assetId The asset.
    /// @param version The new terms version (per asset, from 1).
    /// @param caller The owner or operator who set them.
    /// @param terms The terms.
    event LeaseTermsSet(uint256 indexed assetId, uint24 indexed version, address indexed caller, LeaseTerms terms);
    /// @notice Emitted when an asset's terms are withdrawn: no new lease may open until new terms.
    /// @param assetId The asset.
    /// @param caller The owner or operator.
    event LeaseTermsRemoved(uint256 indexed assetId, address indexed caller);
    /// @notice Emitted when a lease opens.
    /// @param leaseId The new lease.
    /// @param assetId The asset.
    /// @param lessee The lessee (NFT user until `endTime`).
    /// @param token The deposit token.
    /// @param termsVersion Terms version the lease keeps.
    /// @param startTime Start.
    /// @param endTime End.
    /// @param deposit Deposit received.
    event LeaseOpened(
        uint256 indexed leaseId,
        uint256 indexed assetId,
        address indexed lessee,
        address token,
        uint24 termsVersion,
        uint64 startTime,
        uint64 endTime,
        uint256 deposit
    );
    /// @notice Emitted when a lease's deposit is topped up.
    /// @param leaseId The lease.
    /// @param payer Who paid.
    /// @param amount Amount received.
    event LeaseToppedUp(uint256 indexed leaseId, address indexed payer, uint256 amount);
    /// @notice Emitted when a meter window is settled (the cursor moves to `toTimestamp`).
    /// @param leaseId The lease.
    /// @param fromTimestamp Timestamp of the previous settled reading (0: the first reading is adopted
    /// as the baseline and nothing is billed).
    /// @param toTimestamp Timestamp of the reading settled.
    /// @param priced The priced window.
    /// @param charged Amount moved from the balance to pending: `priced.netCharge`, capped at the balance.
    /// @param pendingUntil End of the dispute window of the pending charge.
    event LeaseSettled(
        uint256 indexed leaseId,
        uint64 fromTimestamp,
        uint64 toTimestamp,
        WindowCharge priced,
        uint256 charged,
        uint64 pendingUntil
    );
    /// @notice Emitted when a pending charge becomes the payee's withdrawable balance.
    /// @param leaseId The lease.
    /// @param payee The NFT's owner at release (the lessee, as a refund, if the NFT was burned).
    /// @param token The token.
    /// @param amount Amount credited.
    event ChargeReleased(uint256 indexed leaseId, address indexed payee, address indexed token, uint256 amount);
    /// @notice Emitted when a lease ends; the leftover balance becomes the lessee's withdrawable balance.
    /// @param leaseId The lease.
    /// @param reason Why it ended.
    /// @param caller Who ended it.
    /// @param refund Leftover credited to the lessee.
    event LeaseEnded(uint256 indexed leaseId, EndReason indexed reason, address indexed caller, uint256 refund);
    /// @notice Emitted when the lessee disputes part of a pending charge.
    /// @param leaseId The lease.
    /// @param amount Amount now held under the dispute.
    /// @param deadline When the default applies if the arbiter stays silent.
    event DisputeRaised(uint256 indexed leaseId, uint256 amount, uint64 deadline);
    /// @notice Emitted when a dispute is resolved by the arbiter or by the timeout default.
    /// @param leaseId The lease.
    /// @param resolver The arbiter, or whoever applied the default.
    /// @param toLessee Amount refunded to the lessee.
    /// @param toPayee Amount credited to the NFT's owner.
    /// @param byTimeout Whether the default applied.
    event DisputeResolved(
        uint256 indexed leaseId,
        address indexed resolver,
        uint256 toLessee,
        uint256 toPayee,
        bool byTimeout
    );
    /// @notice Emitted when an account withdraws its balance.
    /// @param account The account.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount Amount paid.
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- admin

    /// @notice Adds or removes a stablecoin from the allowlist. TOKEN_ADMIN_ROLE only. Removal stops
    /// new terms and new leases in it; open leases, refunds and withdrawals continue.
    /// @param token The token.
    /// @param allowed The new flag.
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Stops opening, top-ups and settlement of new charges. PAUSER_ROLE only.
    function pause() external;

    /// @notice Lifts the pause. PAUSER_ROLE only.
    function unpause() external;

    // ---------------------------------------------------------------- terms

    /// @notice Publishes or replaces the lease terms of an asset. Caller: the NFT's owner, or an
    /// operator the owner approved on the NFT. Open leases keep the terms they were opened with.
    /// @param assetId The asset.
    /// @param terms The new terms.
    function setLeaseTerms(uint256 assetId, LeaseTerms calldata terms) external;

    /// @notice Withdraws an asset's terms: no new lease opens until new terms are set. Open leases
    /// are unaffected. Caller: the NFT's owner or an approved operator.
    /// @param assetId The asset.
    function removeLeaseTerms(uint256 assetId) external;

    /// @notice The current published terms of an asset (all zero when none).
    /// @param assetId The asset.
    /// @return The terms.
    function leaseTermsOf(uint256 assetId) external view returns (LeaseTerms memory);

    /// @notice A terms version of an asset, as leases opened under it keep it (all zero when unknown).
    /// @param assetId The asset.
    /// @param version The version.
    /// @return The terms.
    function leaseTermsAt(uint256 assetId, uint24 version) external view returns (LeaseTerms memory);

    // ---------------------------------------------------------------- lifecycle

    /// @notice Opens a lease on `assetId` for `durationSeconds`, pulling `deposit` of the terms' token
    /// from the caller (approve first). The caller becomes the NFT user until the lease end.
    /// @dev The oracle's latest reading becomes the billing baseline. Refuses a token that delivers
    /// less than `deposit`.
    /// @param assetId The asset.
    /// @param durationSeconds Lease duration, within the terms' bounds.
    /// @param deposit Deposit, at least `minimumDeposit(assetId)`.
    /// @return leaseId The new lease.
    function openLease(uint256 assetId, uint64 durationSeconds, uint256 deposit) external returns (uint256 leaseId);

    /// @notice `openLease` with an EIP-2612 permit for the deposit in the same call.
    /// @dev A permit that fails (e.g. front-run and already used) does not revert the call when the
    /// allowance already covers the deposit.
    /// @param assetId The asset.
    /// @param durationSeconds Lease duration.
    /// @param deposit Deposit (the permit's value).
    /// @param deadline Permit deadline.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    /// @return leaseId The new lease.
    function openLeaseWithPermit(
        uint256 assetId,
        uint64 durationSeconds,
        uint256 deposit,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 leaseId);

    /// @notice Adds `amount` to an open, unexpired lease's balance, pulled from the caller. Anyone
    /// may pay; leftovers are refunded to the lessee.
    /// @param leaseId The lease.
    /// @param amount Amount.
    function topUp(uint256 leaseId, uint256 amount) external;

    /// @notice Settles the window from the last settled reading to the oracle's latest reading:
    /// releases a matured pending charge first, then prices the window and moves the charge (capped
    /// at the balance) to pending for the dispute window. Anyone may call.
    /// @dev Reverts `DisputeWindowOpen` while the previous charge is inside its dispute window, so a
    /// lease settles at most once per window and every charge gets the whole window.
    /// @param leaseId The lease.
    /// @return charged Amount moved to pending.
    function settle(uint256 leaseId) external returns (uint256 charged);

    /// @notice Credits a pending charge whose dispute window has passed to the NFT's current owner.
    /// Anyone may call.
    /// @param leaseId The lease.
    /// @return amount Amount credited.
    function release(uint256 leaseId) external returns (uint256 amount);

    /// @notice Ends a lease at or after its end time. Anyone may call once a reading at or after the
    /// end exists, or `FINAL_READING_GRACE_SECONDS` after the end without one.
    /// @param leaseId The lease.
    function close(uint256 leaseId) external;

    /// @notice Ends a lease early. Lessee only, when the terms allow it and the minimum duration has passed.
    /// @param leaseId The lease.
    function endByLessee(uint256 leaseId) external;

    /// @notice Ends a lease early and refunds the leftover. The NFT's owner or an approved operator.
    /// @param leaseId The lease.
    function terminateByProvider(uint256 leaseId) external;

    /// @notice Ends a lease whose balance, after a final settlement, cannot pay the next hour of
    /// full use (`minimumDeposit`). Anyone may call.
    /// @param leaseId The lease.
    function closeUnderfunded(uint256 leaseId) external;

    // ---------------------------------------------------------------- disputes

    /// @notice Disputes `amount` of the pending charge, inside its dispute window. Lessee only; one
    /// open dispute per lease. The amount is held until the arbiter splits it or the timeout passes.
    /// @param leaseId The lease.
    /// @param amount Amount disputed.
    function dispute(uint256 leaseId, uint256 amount) external;

    /// @notice Resolves an open dispute: `toLessee` is refunded, the rest credited to the NFT's owner.
    /// ARBITER_ROLE only.
    /// @param leaseId The lease.
    /// @param toLessee The lessee's share.
    function resolveDispute(uint256 leaseId, uint256 toLessee) external;

    /// @notice Applies the default to a dispute the arbiter left unresolved past its deadline: the
    /// charge stands (it was computed from quorum-signed meters) and is credited to the NFT's owner.
    /// Anyone may call.
    /// @param leaseId The lease.
    function resolveDisputeByTimeout(uint256 leaseId) external;

    // ---------------------------------------------------------------- payouts

    /// @notice Pays the caller's whole withdrawable balance of `token` to `to`.
    /// @param token The token.
    /// @param to Recipient.
    /// @return amount Amount paid, in token base units (zero is allowed and pays nothing).
    function withdraw(address token, address to) external returns (uint256 amount);

    /// @notice The withdrawable balance of `account` in `token`.
    /// @param account The account.
    /// @param token The token.
    /// @return Amount in token base units.
    function withdrawable(address account, address token) external view returns (uint256);

    // ---------------------------------------------------------------- views

    /// @notice A lease, with its per-lease accounting. Reverts `UnknownLease` for unknown ids.
    /// @param leaseId The lease.
    /// @return The lease.
    function leaseOf(uint256 leaseId) external view returns (Lease memory);

    /// @notice Per-lease accounting: deposited = charged + refunded + held. `held` (balance + pending +
    /// disputed) is what the escrow still holds for the lease. Reverts `UnknownLease` for unknown ids.
    /// @param leaseId The lease.
    /// @return deposited Opening deposit plus top-ups (the sum of the other three).
    /// @return charged Credited to the payee.
    /// @return refunded Credited back to the lessee.
    /// @return held Still held by the escrow for the lease.
    function accountingOf(
        uint256 leaseId
    ) external view returns (uint256 deposited, uint256 charged, uint256 refunded, uint256 held);

    /// @notice Number of leases ever opened; lease ids run from 1 to this.
    /// @return The count.
    function leaseCount() external view returns (uint256);

    /// @notice The deposit a new lease on `assetId` needs under the current terms: one hour of full
    /// use (gpuCount × (reservation + usage price)). Also the insufficient-funds threshold.
    /// @param assetId The asset.
    /// @return Token base units.
    function minimumDeposit(uint256 assetId) external view returns (uint256);

    /// @notice Whether `token` is on the allowlist.
    /// @param token The token.
    /// @return The flag.
    function isTokenAllowed(address token) external view returns (bool);
}
