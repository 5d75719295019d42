// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ILoanNote } from "./ILoanNote.sol";
import { IGpuAssetNFT } from "./IGpuAssetNFT.sol";
import { ISettlementEscrow } from "./ISettlementEscrow.sol";
import { CreditTerms, Loan, LoanPosition, LoanStatus, WaterfallSplit } from "../types/CreditTypes.sol";

/// @title ICreditFacility — credit lines against a GPU asset, repaid from its lease revenue
/// @notice An asset owner pledges a GpuAssetNFT with the credit terms it asks for; the NFT moves into a
/// custody account of its own (ICreditCustody), which, as the NFT's owner, is the settlement escrow's
/// payee for the asset. A lender funds the loan by paying the principal to the borrower and receives the
/// loan's note: an ERC-721 token (ILoanNote, deployed with the facility) whose id is the loan's,
/// transferable like any NFT. The note's holder is the lender: it claims what the loan repays and may
/// foreclose.
///
/// Revenue: anyone may `harvest` a loan, which withdraws the custody's escrow balance and splits what
/// arrived: interest accrued → principal of the current installment (everything, in default) → the
/// reserve, up to its target → the borrower. The borrower (or anyone) may `repay` any amount at any time;
/// a payment goes to interest, then to principal, with no prepayment penalty. When the principal is
/// repaid in full the NFT goes back to the borrower at once and the reserve is released to it.
///
/// Default: an amount due at a due date (its interest, its principal installment) that is still unpaid
/// `graceSeconds` after that date, beyond what the reserve covers. In default the note's holder may
/// `foreclose`: the NFT goes to the holder, the remaining debt is extinguished (the loan is
/// non-recourse). Default is re-evaluated at every call, so paying what is overdue cures it.
///
/// The lessee: nothing here can end, shorten or change a lease. The custody account never calls the
/// escrow's lease lifecycle, never approves anyone on the NFT and never burns it; the NFT's user right
/// (ERC-4907, set only by the escrow) survives every transfer. Pledge, repayment, foreclosure and
/// release leave the lease, the lessee's user right and its deposit exactly as they were.
///
/// Lease terms: the custody account publishes them (it is the owner), only while the loan is active and
/// only when the borrower and the note's holder agree (ICreditCustody.setLeaseTerms). Before funding they
/// stay as they were at the pledge: what the lender sees is what it funds.
///
/// Money moves by pull: harvests and repayments credit the lender (`claimAsLender`) and the borrower
/// (`claimAsBorrower`); nothing is pushed except the principal at funding (to the borrower, from the
/// lender who calls `fund`). Pause stops new business only (`pledge`, `fund`); repayment, harvest,
/// release, foreclosure, cancellation and claims never stop.
/// @dev Arrows stay one-way: the facility reads the NFT and calls the escrow's `withdraw`,
/// `setLeaseTerms` and `removeLeaseTerms` (through the custody); nothing in the rest of the system reads
/// the facility. Warning: a loan's unclaimed lender proceeds travel with its note: whoever holds the note
/// when `claimAsLender` is called receives them. Sellers claim first.
interface ICreditFacility {
    // ---------------------------------------------------------------- errors

    /// @notice A zero address was given where a contract or account is required.
    error ZeroAddress();
    /// @notice A payout, the NFT or a note would go to the zero address.
    /// @param to The recipient given.
    error InvalidRecipient(address to);
    /// @notice A zero amount was given where a positive one is required.
    error ZeroAmount();
    /// @notice The credit terms name no token.
    error ZeroToken();
    /// @notice The principal is zero.
    error ZeroPrincipal();
    /// @notice The period is shorter than `MIN_PERIOD_SECONDS`.
    /// @param periodSeconds The period given.
    error PeriodTooShort(uint32 periodSeconds);
    /// @notice The period count is zero, or the amortization periods are zero or more than the periods.
    /// @param periodCount The periods given.
    /// @param amortizationPeriods The amortization periods given.
    error InvalidSchedule(uint16 periodCount, uint16 amortizationPeriods);
    /// @notice The grace period is not shorter than one period.
    /// @param graceSeconds The grace given.
    /// @param periodSeconds The period given.
    error GraceNotShorterThanPeriod(uint32 graceSeconds, uint32 periodSeconds);
    /// @notice The caller does not own the asset it tries to pledge.
    /// @param assetId The asset.
    /// @param caller The caller.
    error NotAssetOwner(uint256 assetId, address caller);
    /// @notice The asset's current lease terms are in another token than the loan's: leases opened under
    /// them would pay revenue the loan's waterfall does not see. Change or remove the terms first.
    /// @param assetId The asset.
    /// @param termsToken The token of the asset's current lease terms.
    /// @param loanToken The loan's token.
    error LeaseTermsInOtherToken(uint256 assetId, address termsToken, address loanToken);
    /// @notice No loan has this id.
    /// @param loanId The id.
    error UnknownLoan(uint256 loanId);
    /// @notice The loan is not awaiting funding.
    /// @param loanId The loan.
    /// @param status Its status.
    error LoanNotRequested(uint256 loanId, LoanStatus status);
    /// @notice The loan is not active (not funded yet, or closed).
    /// @param loanId The loan.
    /// @param status Its status.
    error LoanNotActive(uint256 loanId, LoanStatus status);
    /// @notice The caller is not the loan's borrower.
    /// @param loanId The loan.
    /// @param caller The caller.
    error NotBorrower(uint256 loanId, address caller);
    /// @notice The caller is neither the holder of the loan's note nor approved by it.
    /// @param loanId The loan.
    /// @param caller The caller.
    error NotNoteHolder(uint256 loanId, address caller);
    /// @notice The loan is not in default (nothing due past its grace period remains unpaid).
    /// @param loanId The loan.
    error NotInDefault(uint256 loanId);
    /// @notice The custody account's escrow balance is empty: there is nothing to harvest.
    /// @param loanId The loan.
    error NothingToHarvest(uint256 loanId);
    /// @notice The caller has nothing to claim on this loan.
    /// @param loanId The loan.
    /// @param account The caller.
    error NothingToClaim(uint256 loanId, address account);
    /// @notice `collectToken` was asked for the loan's own token (use `harvest`).
    /// @param token The token.
    error LoanTokenNotCollectable(address token);
    /// @notice A transfer delivered a different amount than was sent (fee-on-transfer or rebasing token).
    /// @param token The token.
    /// @param expected Amount sent.
    /// @param received Amount that arrived.
    error TransferAmountMismatch(address token, uint256 expected, uint256 received);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when an asset is pledged and its terms are posted.
    /// @param loanId The new loan (and, once funded, its note's token id).
    /// @param assetId The asset.
    /// @param borrower The borrower (the asset's owner until now).
    /// @param custody The loan's custody account, the asset's owner from now on.
    /// @param terms The credit terms asked for.
    event AssetPledged(
        uint256 indexed loanId,
        uint256 indexed assetId,
        address indexed borrower,
        address custody,
        CreditTerms terms
    );
    /// @notice Emitted when the borrower takes an unfunded pledge back.
    /// @param loanId The loan.
    /// @param assetId The asset, returned to the borrower.
    /// @param borrower The borrower.
    event PledgeCancelled(uint256 indexed loanId, uint256 indexed assetId, address indexed borrower);
    /// @notice Emitted when a lender funds a loan: the principal went to the borrower, the note to the lender.
    /// @param loanId The loan (the note's token id).
    /// @param lender The lender (first holder of the note).
    /// @param principal Principal paid to the borrower.
    /// @param startTime When interest starts.
    /// @param maturity The last due date.
    event LoanFunded(
        uint256 indexed loanId,
        address indexed lender,
        uint256 principal,
        uint64 startTime,
        uint64 maturity
    );
    /// @notice Emitted when revenue is harvested, with where every unit of it went.
    /// @param loanId The loan.
    /// @param caller Who harvested.
    /// @param amount Revenue that arrived from the escrow.
    /// @param split interest + principal + reserve + borrower: sums to `amount`.
    event RevenueHarvested(uint256 indexed loanId, address indexed caller, uint256 amount, WaterfallSplit split);
    /// @notice Emitted when revenue is harvested for a foreclosed loan: all of it is the note holder's.
    /// @param loanId The loan.
    /// @param caller Who harvested.
    /// @param amount Revenue that arrived from the escrow.
    event RevenueRecovered(uint256 indexed loanId, address indexed caller, uint256 amount);
    /// @notice Emitted when the reserve pays an overdue installment.
    /// @param loanId The loan.
    /// @param toInterest Part paying interest.
    /// @param toPrincipal Part paying principal.
    event ReserveDrawn(uint256 indexed loanId, uint256 toInterest, uint256 toPrincipal);
    /// @notice Emitted when someone repays part or all of a loan.
    /// @param loanId The loan.
    /// @param payer Who paid.
    /// @param toInterest Part paying interest.
    /// @param toPrincipal Part paying principal.
    event PaymentMade(uint256 indexed loanId, address indexed payer, uint256 toInterest, uint256 toPrincipal);
    /// @notice Emitted when a loan is repaid in full: the NFT went back to the borrower.
    /// @param loanId The loan.
    /// @param assetId The asset.
    /// @param borrower The borrower.
    /// @param reserveReleased The reserve, credited to the borrower.
    event LoanRepaid(
        uint256 indexed loanId,
        uint256 indexed assetId,
        address indexed borrower,
        uint256 reserveReleased
    );
    /// @notice Emitted when a defaulted loan is foreclosed: the NFT went to `to`, the rest of the debt is
    /// extinguished.
    /// @param loanId The loan.
    /// @param assetId The asset.
    /// @param to Recipient of the NFT.
    /// @param noteHolder The note's holder who foreclosed.
    /// @param principalWrittenOff Principal left unpaid.
    /// @param interestWrittenOff Interest accrued and left unpaid.
    event LoanForeclosed(
        uint256 indexed loanId,
        uint256 indexed assetId,
        address indexed to,
        address noteHolder,
        uint256 principalWrittenOff,
        uint256 interestWrittenOff
    );
    /// @notice Emitted when a note's holder claims the loan's proceeds.
    /// @param loanId The loan.
    /// @param account The note's holder (or its approved operator) who claimed.
    /// @param to Recipient.
    /// @param amount Amount paid.
    event LenderClaimed(uint256 indexed loanId, address indexed account, address indexed to, uint256 amount);
    /// @notice Emitted when the borrower claims its revenue and released reserve.
    /// @param loanId The loan.
    /// @param borrower The borrower.
    /// @param to Recipient.
    /// @param amount Amount paid.
    event BorrowerClaimed(uint256 indexed loanId, address indexed borrower, address indexed to, uint256 amount);
    /// @notice Emitted when revenue in another token than the loan's is collected.
    /// @param loanId The loan.
    /// @param token The token.
    /// @param to Recipient.
    /// @param amount Amount the escrow paid.
    event TokenCollected(uint256 indexed loanId, address indexed token, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- admin

    /// @notice Stops new business: `pledge` and `fund`. PAUSER_ROLE only.
    function pause() external;

    /// @notice Lifts the pause. PAUSER_ROLE only.
    function unpause() external;

    // ---------------------------------------------------------------- borrower

    /// @notice Pledges `assetId` and posts the credit terms asked for. The caller must own the NFT and
    /// have approved this contract for it; the asset's current lease terms, if any, must be in the loan's
    /// token. The NFT moves into the loan's new custody account. A live lease continues untouched.
    /// Stopped by pause.
    /// @dev Charges the escrow settles from now on are credited to the custody (the new owner);
    /// whatever the escrow already credited to the borrower stays the borrower's. Leases opened before
    /// the pledge in another token keep paying in it: `collectToken` hands that revenue to the borrower.
    /// @param assetId The asset.
    /// @param terms The credit terms (validated; immutable for this loan: to change them, cancel and pledge again).
    /// @return loanId The new loan.
    function pledge(uint256 assetId, CreditTerms calldata terms) external returns (uint256 loanId);

    /// @notice Takes an unfunded pledge back: the NFT returns to the borrower. Borrower only.
    /// Revenue that reached the custody meanwhile stays harvestable for the borrower.
    /// @param loanId The loan.
    function cancel(uint256 loanId) external;

    /// @notice Pays the borrower's claimable revenue and released reserve to `to`. Borrower only.
    /// @param loanId The loan.
    /// @param to Recipient.
    /// @return amount Amount paid.
    function claimAsBorrower(uint256 loanId, address to) external returns (uint256 amount);

    /// @notice Withdraws the custody's escrow balance of a token other than the loan's, to `to`. The
    /// pledge secures revenue in the loan's token only: other tokens belong to the borrower, or to the
    /// note's holder once the loan is foreclosed, and only they may call.
    /// @param loanId The loan.
    /// @param token The token (not the loan's).
    /// @param to Recipient.
    /// @return amount Amount the escrow paid.
    function collectToken(uint256 loanId, address token, address to) external returns (uint256 amount);

    // ---------------------------------------------------------------- lender

    /// @notice Funds a requested loan at its posted terms: pays the principal from the caller to the
    /// borrower (approve first) and mints the loan's note to the caller. Interest starts now. Stopped by
    /// pause.
    /// @dev Refuses a token that delivers the borrower less than the principal.
    /// @param loanId The loan.
    function fund(uint256 loanId) external;

    /// @notice Forecloses a loan in default: first harvests what the escrow holds for it (which may cure
    /// the default), then sends the NFT to `to` (safe transfer) and extinguishes the rest of the debt.
    /// The note's holder (or its approved operator) only. The asset's lease, lessee and deposit are untouched.
    /// @param loanId The loan.
    /// @param to Recipient of the NFT.
    function foreclose(uint256 loanId, address to) external;

    /// @notice Pays the loan's unclaimed proceeds (interest and principal repaid, and recoveries after a
    /// foreclosure) to `to`. The note's holder or its approved operator only.
    /// @param loanId The loan.
    /// @param to Recipient (a holder blocklisted by the token can name another address).
    /// @return amount Amount paid.
    function claimAsLender(uint256 loanId, address to) external returns (uint256 amount);

    // ---------------------------------------------------------------- anyone

    /// @notice Withdraws the custody's escrow balance of the loan's token and splits what arrived.
    /// Requested loan: all to the borrower. Active loan: interest accrued → principal due by the next due
    /// date (all principal when in default) → reserve up to its target → borrower; then the reserve pays
    /// whatever is still overdue. Repaid or cancelled loan: all to the borrower. Foreclosed loan: all to
    /// the note's holder. Anyone may call. Completing the repayment returns the NFT to the borrower.
    /// @param loanId The loan.
    /// @return amount Revenue that arrived.
    function harvest(uint256 loanId) external returns (uint256 amount);

    /// @notice Pays up to `amount` of an active loan's debt from the caller (approve first): interest
    /// accrued first, then principal; never more than the debt. Anyone may pay for the borrower. Paying
    /// the principal in full returns the NFT to the borrower and releases the reserve to it.
    /// @param loanId The loan.
    /// @param amount Most the caller will pay, in base units.
    /// @return paid What was pulled and applied.
    function repay(uint256 loanId, uint256 amount) external returns (uint256 paid);

    // ---------------------------------------------------------------- views

    /// @notice A loan as stored (interest accrued up to its last accrual). Reverts `UnknownLoan`.
    /// @param loanId The loan.
    /// @return The loan.
    function loanOf(uint256 loanId) external view returns (Loan memory);

    /// @notice A loan's position now: debt with interest accrued to this second, what falls due next,
    /// what is overdue and what is in default — after the reserve draw the next call would make.
    /// Reverts `UnknownLoan`; all zero but the outstanding principal for a loan that is not active.
    /// @param loanId The loan.
    /// @return The position.
    function positionOf(uint256 loanId) external view returns (LoanPosition memory);

    /// @notice Whether the loan is in default now (the note's holder may foreclose).
    /// @param loanId The loan.
    /// @return True when in default.
    function isInDefault(uint256 loanId) external view returns (bool);

    /// @notice What the note's holder can claim now.
    /// @param loanId The loan.
    /// @return Amount in base units.
    function lenderClaimable(uint256 loanId) external view returns (uint256);

    /// @notice What the borrower can claim now.
    /// @param loanId The loan.
    /// @return Amount in base units.
    function borrowerClaimable(uint256 loanId) external view returns (uint256);

    /// @notice What the escrow holds for the loan's custody in the loan's token: the next harvest's amount.
    /// @param loanId The loan.
    /// @return Amount in base units.
    function pendingRevenue(uint256 loanId) external view returns (uint256);

    /// @notice The custody account of a loan (deterministic; it exists from the pledge on).
    /// @param loanId The loan.
    /// @return The account.
    function custodyOf(uint256 loanId) external view returns (address);

    /// @notice How many loans have been created (ids run from 1 to this).
    /// @return The count.
    function loanCount() external view returns (uint256);

    /// @notice The ERC-721 of the lenders' notes (token id = loan id).
    /// @return The note contract.
    function note() external view returns (ILoanNote);

    /// @notice The implementation every custody account is a clone of.
    /// @return The implementation.
    function custodyImplementation() external view returns (address);

    /// @notice The GPU asset NFT.
    /// @return The NFT.
    function nft() external view returns (IGpuAssetNFT);

    /// @notice The settlement escrow.
    /// @return The escrow.
    function escrow() external view returns (ISettlementEscrow);

    /// @notice The shortest period a loan may have.
    /// @return Seconds.
    // solhint-disable-next-line func-name-mixedcase
    function MIN_PERIOD_SECONDS() external view returns (uint32);

    /// @notice Role that pauses and unpauses new business.
    /// @return keccak256("PAUSER_ROLE").
    // solhint-disable-next-line func-name-mixedcase
    function PAUSER_ROLE() external view returns (bytes32);
}
