// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CurtailmentTerms, EndReason, Lease, LeaseBill, LeaseTerms } from "../types/EscrowTypes.sol";
import { MeterBoundary } from "../types/OracleTypes.sol";

/// @title ISettlementEscrow — stablecoin leases billed exactly from proven meters
/// @notice Holds lessees' deposits, bills leases from the UsageOracle's meter history, and keeps every
/// payout as a pull balance per account and token.
/// @dev A lease's bill is a pure function of the meters: `SettlementMath.leaseBill` of the meter at the
/// lease start and the meter at its end (each proven by `IUsageOracle.meterAt`, interpolated between
/// the readings around it). Whoever settles, however often, however late, paused or not, the lease is
/// charged that bill to the unit (capped by its deposits). Settlements before the end charge the bill
/// up to a reading inside the lease; the bill only grows with the meters, so every interim charge is
/// part of the final one.
///
/// Lifecycle: `openLease` (deposit, terms version bound) → `settle` (anyone, any time, from readings
/// whose dispute window has passed) → the lease ends at its end time, or early by `endByLessee`,
/// `terminateByProvider` or `closeUnderfunded` → `close` (anyone) bills it up to its end from the first
/// reading at or after the end and refunds the rest. A settled charge is final: it is credited to the
/// NFT's owner at that moment. The lessee's protection is the dispute window: a reading becomes
/// billable `disputeWindowSeconds` after the oracle accepted it; before that the lessee may `dispute`,
/// which bills up to the readings it names into a held amount the arbiter splits.
/// Per lease: deposited = charged + refunded + balance + disputed.
///
/// Curtailable terms (`setCurtailableLeaseTerms`, docs/energy.md): the lessee accepts the events of one
/// demand-response programme (a contract holding `PROGRAMME_ROLE`) within caps per lease, for a
/// reservation discount. The bill then charges the reservation only on the available GPU-seconds
/// outside counted events (`IDemandResponseProgramme.curtailedGpuSeconds`, read from the programme: a
/// pure function of the meters and the programme's recorded events), so it stays monotone and
/// independent of who settles when; billing past the start of a counted event waits for the event's
/// outcome to be recorded (`IDemandResponseProgramme.OutcomeNotRecorded`).
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
    /// @notice The lessee agreed to terms version `agreed`, but the asset's current version is `current`
    /// (the terms changed, or were removed, before the open executed).
    /// @param assetId The asset.
    /// @param agreed The version the lessee named.
    /// @param current The current version (0: none).
    error TermsVersionMismatch(uint256 assetId, uint24 agreed, uint24 current);
    /// @notice The asset is not Active or already has a live user (lease).
    /// @param assetId The asset.
    error AssetNotLeasable(uint256 assetId);
    /// @notice The asset id does not fit the oracle's 32-bit reading field, so it could never be metered.
    /// @param assetId The asset.
    error AssetNotMeterable(uint256 assetId);
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
    /// @notice The lease has already ended (early) or been closed.
    /// @param leaseId The lease.
    /// @param reason Why it ended (`None` for a lease closed at expiry is impossible: `Expired`).
    error LeaseAlreadyEnded(uint256 leaseId, EndReason reason);
    /// @notice The lease has been closed: its final settlement ran.
    /// @param leaseId The lease.
    error LeaseAlreadyClosed(uint256 leaseId);
    /// @notice The lease's end time has passed.
    /// @param leaseId The lease.
    /// @param endTime Its end time.
    error LeaseExpired(uint256 leaseId, uint64 endTime);
    /// @notice The lease's end time has not come yet.
    /// @param leaseId The lease.
    /// @param endTime Its end time.
    error LeaseNotExpired(uint256 leaseId, uint64 endTime);
    /// @notice `close` was given no reading at or after the lease end, and the grace period has not passed.
    /// @param leaseId The lease.
    /// @param closableAt When anyone may close it without that reading.
    error AwaitingFinalReading(uint256 leaseId, uint64 closableAt);
    /// @notice `close` was given a billing point before the lease end.
    /// @param leaseId The lease.
    /// @param pointTime The point's meter time.
    /// @param endTime The lease end.
    error NotFinalReading(uint256 leaseId, uint64 pointTime, uint64 endTime);
    /// @notice The meter at the lease start is not stored yet and no proof of it was given.
    /// @param leaseId The lease.
    error StartMeterRequired(uint256 leaseId);
    /// @notice A reading used is still inside its dispute window, or the billing point is after now (a
    /// reading stamped ahead within the oracle's skew).
    /// @param leaseId The lease.
    /// @param billableAt When it becomes billable.
    error ReadingNotYetBillable(uint256 leaseId, uint64 billableAt);
    /// @notice Nothing would change: the bill up to the point is already billed (or the asset was
    /// burned), and the start meter is already stored.
    /// @param leaseId The lease.
    /// @param bill The bill up to the point.
    /// @param billed What is already billed.
    error NothingToSettle(uint256 leaseId, uint256 bill, uint256 billed);
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
    /// @notice The lease's deposits cover full use from its start to its end, or to one hour from now.
    /// @param leaseId The lease.
    /// @param deposited Everything deposited into it.
    /// @param required Full use from the start to the end, or to one hour from now if earlier.
    error LeaseNotUnderfunded(uint256 leaseId, uint256 deposited, uint256 required);
    /// @notice A dispute would hold nothing: the bill up to the named point is already charged.
    /// @param leaseId The lease.
    /// @param bill The bill up to the point.
    /// @param billed What is already billed.
    error NothingToDispute(uint256 leaseId, uint256 bill, uint256 billed);
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
    /// @notice The arbiter's time has run out: only the default applies now.
    /// @param leaseId The lease.
    /// @param deadline When it ran out.
    error ArbiterTimeoutPassed(uint256 leaseId, uint64 deadline);
    /// @notice Curtailable terms name a programme contract that does not hold `PROGRAMME_ROLE`.
    /// @param programme The contract.
    error ProgrammeNotAllowed(address programme);
    /// @notice Curtailment terms out of bounds: discount above 10000 bps, a cap of 0 events or above
    /// `MAX_EVENTS_PER_LEASE`, or a cap of 0 seconds.
    /// @param reservationDiscountBps The discount.
    /// @param maxEventsPerLease The event cap.
    /// @param maxEventSecondsPerLease The time cap.
    error InvalidCurtailmentTerms(
        uint16 reservationDiscountBps,
        uint8 maxEventsPerLease,
        uint32 maxEventSecondsPerLease
    );
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
    /// @notice Emitted when a terms version is published as curtailable (right after its `LeaseTermsSet`).
    /// @param assetId The asset.
    /// @param version The terms version.
    /// @param terms The curtailment terms.
    event CurtailmentTermsSet(uint256 indexed assetId, uint24 indexed version, CurtailmentTerms terms);
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
    /// @notice Emitted when a lease is billed up to a new meter time.
    /// @param leaseId The lease.
    /// @param payee Who was credited `charged` (the NFT's owner at this moment).
    /// @param billedUntil The meter time the bill now reaches.
    /// @param bill The lease's whole bill up to `billedUntil`.
    /// @param charged The increase charged now: `bill.total` minus what was billed, capped at the balance.
    event LeaseSettled(
        uint256 indexed leaseId,
        address indexed payee,
        uint64 billedUntil,
        LeaseBill bill,
        uint256 charged
    );
    /// @notice Emitted when a lease ends before its end time (the NFT user right is cleared); `close`
    /// then bills it up to `endTime` and refunds the rest.
    /// @param leaseId The lease.
    /// @param reason Why.
    /// @param caller Who ended it.
    /// @param endTime The new end time (now).
    event LeaseEnded(uint256 indexed leaseId, EndReason indexed reason, address indexed caller, uint64 endTime);
    /// @notice Emitted when a lease's final settlement ran and its leftover was credited to the lessee.
    /// @param leaseId The lease.
    /// @param reason Why it ended.
    /// @param caller Who closed it.
    /// @param finalReading Whether it was billed up to its end (false: closed after the grace period
    /// without a reading at or after the end, or the asset was burned; the unproven tail is not billed).
    /// @param refund The leftover credited to the lessee.
    event LeaseClosed(
        uint256 indexed leaseId,
        EndReason indexed reason,
        address indexed caller,
        bool finalReading,
        uint256 refund
    );
    /// @notice Emitted when the lessee disputes the readings up to `billedUntil`.
    /// @param leaseId The lease.
    /// @param amount The bill increase held under the dispute.
    /// @param billedUntil The meter time the bill now reaches.
    /// @param deadline When the default (the charge stands) applies if the arbiter stays silent.
    event DisputeRaised(uint256 indexed leaseId, uint256 amount, uint64 billedUntil, uint64 deadline);
    /// @notice Emitted when a dispute is resolved.
    /// @param leaseId The lease.
    /// @param resolver The arbiter, or whoever applied the default after the timeout.
    /// @param toLessee Amount refunded to the lessee.
    /// @param toPayee Amount credited to the payee (the NFT's owner now).
    /// @param byTimeout True when the default applied.
    event DisputeResolved(
        uint256 indexed leaseId,
        address indexed resolver,
        uint256 toLessee,
        uint256 toPayee,
        bool byTimeout
    );
    /// @notice Emitted when an account withdraws a pull balance.
    /// @param account The account.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount.
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- admin

    /// @notice Adds or removes a stablecoin from the allowlist for new terms and leases. Token admin only.
    /// @param token The token.
    /// @param allowed The new flag.
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Stops new business: `openLease`, `openLeaseWithPermit`, `topUp`. Pauser only.
    /// Settlement, ends, close, disputes and withdrawals never stop.
    function pause() external;

    /// @notice Resumes new business. Pauser only.
    function unpause() external;

    /// @notice Role held by the demand-response programme contracts that curtailable terms may follow
    /// (granted and revoked by the admin; a revocation stops new curtailable terms naming the contract,
    /// never the versions already published).
    /// @return The role id.
    function PROGRAMME_ROLE() external view returns (bytes32);

    /// @notice The most demand-response events that may count in one lease (a curtailable lease's bill
    /// reads each counted event once).
    /// @return The maximum.
    function MAX_EVENTS_PER_LEASE() external view returns (uint8);

    // ---------------------------------------------------------------- terms

    /// @notice Publishes new terms for an asset as a new version. NFT owner or approved operator only.
    /// @param assetId The asset.
    /// @param terms Allowlisted token, prices, duration bounds, SLA target, early-end flag.
    function setLeaseTerms(uint256 assetId, LeaseTerms calldata terms) external;

    /// @notice Publishes new curtailable terms for an asset as a new version: the lessee accepts the
    /// events of a demand-response programme (within the caps) for a reservation discount, and is not
    /// billed the reservation of the time those events curtail. NFT owner or approved operator only.
    /// @dev The programme contract must hold `PROGRAMME_ROLE`. A lease on the version can be billed
    /// past the start of a counted event only once the asset's outcome for the event is recorded in
    /// the programme (anyone proves it after the event: `IDemandResponseProgramme.proveReduction`).
    /// @param assetId The asset.
    /// @param terms As for `setLeaseTerms`.
    /// @param curtailment The programme, the reservation discount and the caps per lease.
    function setCurtailableLeaseTerms(
        uint256 assetId,
        LeaseTerms calldata terms,
        CurtailmentTerms calldata curtailment
    ) external;

    /// @notice The curtailment terms of an asset's terms version (all zero when it is not curtailable).
    /// @param assetId The asset.
    /// @param version The version.
    /// @return The curtailment terms.
    function curtailmentTermsAt(uint256 assetId, uint24 version) external view returns (CurtailmentTerms memory);

    /// @notice Withdraws an asset's terms: no lease may open until new ones. Owner or operator only.
    /// @param assetId The asset.
    function removeLeaseTerms(uint256 assetId) external;

    /// @notice The asset's current terms (all zero when none).
    /// @param assetId The asset.
    /// @return The terms.
    function leaseTermsOf(uint256 assetId) external view returns (LeaseTerms memory);

    /// @notice The asset's current terms version (0 when none): what a lessee passes to `openLease`.
    /// @param assetId The asset.
    /// @return The version.
    function currentTermsVersion(uint256 assetId) external view returns (uint24);

    /// @notice A terms version of an asset (all zero when it never existed).
    /// @param assetId The asset.
    /// @param version The version.
    /// @return The terms.
    function leaseTermsAt(uint256 assetId, uint24 version) external view returns (LeaseTerms memory);

    // ---------------------------------------------------------------- lifecycle

    /// @notice Opens a lease with a deposit pulled by allowance; the lessee becomes the NFT user.
    /// @param assetId The asset.
    /// @param termsVersion The terms version the lessee agreed to: must be the current one.
    /// @param durationSeconds Lease duration, within the terms' bounds.
    /// @param deposit Deposit, at least `minimumDeposit(assetId)`.
    /// @return leaseId The new lease.
    function openLease(
        uint256 assetId,
        uint24 termsVersion,
        uint64 durationSeconds,
        uint256 deposit
    ) external returns (uint256 leaseId);

    /// @notice `openLease` with an EIP-2612 permit for the deposit (a failed permit is fine when the
    /// allowance already covers the deposit, e.g. after a front-run of the same signature).
    /// @param assetId The asset.
    /// @param termsVersion The terms version the lessee agreed to: must be the current one.
    /// @param durationSeconds Lease duration.
    /// @param deposit Deposit.
    /// @param deadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return leaseId The new lease.
    function openLeaseWithPermit(
        uint256 assetId,
        uint24 termsVersion,
        uint64 durationSeconds,
        uint256 deposit,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 leaseId);

    /// @notice Adds to a running lease's deposit (anyone may pay; leftovers go to the lessee).
    /// @param leaseId The lease.
    /// @param amount Amount.
    function topUp(uint256 leaseId, uint256 amount) external;

    /// @notice Charges a lease its bill up to a meter point, minus what is already billed (anyone).
    /// @dev The point is `point.later`'s time when that reading is inside the lease, else the lease end
    /// (interpolated from `point`). Every reading used must be past its dispute window. `start` proves
    /// the meter at the lease start the first time (an absent boundary afterwards). The charge,
    /// capped at the balance, is credited to the NFT's owner now.
    /// @param leaseId The lease.
    /// @param start The meter at the lease start (absent once stored).
    /// @param point The billing point.
    /// @return charged The amount charged.
    function settle(
        uint256 leaseId,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external returns (uint256 charged);

    /// @notice Bills an ended lease up to its end and refunds the rest to the lessee (anyone).
    /// @dev `end` must prove the meter at the end time (first reading at or after it, past its dispute
    /// window). With `end` absent, closes only `FINAL_READING_GRACE_SECONDS` after the end, or at once
    /// when the asset was burned; the time after the last billed meter is then not billed.
    /// @param leaseId The lease.
    /// @param start The meter at the lease start (absent once stored).
    /// @param end The meter at the lease end.
    function close(uint256 leaseId, MeterBoundary calldata start, MeterBoundary calldata end) external;

    /// @notice The lessee ends the lease now, as the terms allow; `close` bills it later up to now.
    /// @param leaseId The lease.
    function endByLessee(uint256 leaseId) external;

    /// @notice The NFT owner (or approved operator) ends the lease now; `close` bills and refunds it.
    /// @param leaseId The lease.
    function terminateByProvider(uint256 leaseId) external;

    /// @notice Anyone ends a lease whose deposits cannot cover full use from its start to one hour from
    /// now (or to its end, if earlier); `close` then bills and refunds it.
    /// @dev A pure function of time and deposits: a lease funded for its whole time (or topped up an
    /// hour ahead) is never closable this way, however late the meters are.
    /// @param leaseId The lease.
    function closeUnderfunded(uint256 leaseId) external;

    // ---------------------------------------------------------------- disputes

    /// @notice The lessee disputes the readings up to a point: the bill increase up to it (readings of
    /// any age, a point not after now) is taken from the balance and held for the arbiter.
    /// @param leaseId The lease.
    /// @param start The meter at the lease start (absent once stored).
    /// @param point The point, as in `settle`.
    /// @return amount The amount held.
    function dispute(
        uint256 leaseId,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external returns (uint256 amount);

    /// @notice The arbiter splits the disputed amount, before its deadline.
    /// @param leaseId The lease.
    /// @param toLessee Refunded to the lessee; the rest is credited to the NFT's owner.
    function resolveDispute(uint256 leaseId, uint256 toLessee) external;

    /// @notice Applies the default after the arbiter's deadline (anyone): the charge stands.
    /// @param leaseId The lease.
    function resolveDisputeByTimeout(uint256 leaseId) external;

    // ---------------------------------------------------------------- payouts

    /// @notice Pays the caller's whole balance in `token` to `to`.
    /// @param token The token.
    /// @param to The recipient.
    /// @return amount The amount paid (0 when there was nothing).
    function withdraw(address token, address to) external returns (uint256 amount);

    /// @notice An account's withdrawable balance in a token.
    /// @param account The account.
    /// @param token The token.
    /// @return The balance.
    function withdrawable(address account, address token) external view returns (uint256);

    // ---------------------------------------------------------------- views

    /// @notice How long after a lease's end `close` may run without a reading at or after the end.
    /// @return Seconds.
    function FINAL_READING_GRACE_SECONDS() external view returns (uint64);

    /// @notice How long after the oracle accepted a reading it becomes billable (the lessee's time to dispute).
    /// @return Seconds.
    function disputeWindowSeconds() external view returns (uint64);

    /// @notice How long the arbiter has per dispute before the default applies.
    /// @return Seconds.
    function arbiterTimeoutSeconds() external view returns (uint64);

    /// @notice A lease as stored.
    /// @param leaseId The lease.
    /// @return The lease.
    function leaseOf(uint256 leaseId) external view returns (Lease memory);

    /// @notice Per-lease accounting; `deposited` = charged + refunded + held.
    /// @param leaseId The lease.
    /// @return deposited Everything deposited.
    /// @return charged Everything credited to the payee.
    /// @return refunded Everything credited back to the lessee.
    /// @return held Balance + disputed.
    function accountingOf(
        uint256 leaseId
    ) external view returns (uint256 deposited, uint256 charged, uint256 refunded, uint256 held);

    /// @notice What `settle` (or `close`, with the end as point) would bill: the bill up to the point
    /// and the amount it would charge now. Checks the proofs but not the readings' age.
    /// @param leaseId The lease.
    /// @param start The meter at the lease start (absent once stored).
    /// @param point The point.
    /// @return bill The bill up to the point.
    /// @return chargeable The increase over what is billed, capped at the balance.
    function previewBill(
        uint256 leaseId,
        MeterBoundary calldata start,
        MeterBoundary calldata point
    ) external view returns (LeaseBill memory bill, uint256 chargeable);

    /// @notice Number of leases ever opened (ids run from 1).
    /// @return The count.
    function leaseCount() external view returns (uint256);

    /// @notice One hour of full use under the asset's current terms: the smallest deposit.
    /// @param assetId The asset.
    /// @return Token base units.
    function minimumDeposit(uint256 assetId) external view returns (uint256);

    /// @notice Whether a token is allowlisted.
    /// @param token The token.
    /// @return The flag.
    function isTokenAllowed(address token) external view returns (bool);

    /// @notice The asset's unfinished leases (opened, and not yet closed with every dispute resolved)
    /// and their common token: `MIXED_TOKENS` when they are in more than one, 0 when there are none.
    /// @dev A vault factory refuses an asset with unfinished leases in another token than the vault's,
    /// whose revenue the vault could not distribute.
    /// @param assetId The asset.
    /// @return count Unfinished leases.
    /// @return token Their token.
    function unfinishedLeasesOf(uint256 assetId) external view returns (uint256 count, address token);

    /// @notice The `unfinishedLeasesOf` token value meaning "more than one token".
    /// @return address(1).
    function MIXED_TOKENS() external view returns (address);
}
