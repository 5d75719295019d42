// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Where a loan stands. `None` means no loan has this id.
/// @dev Requested → Active → Repaid | Foreclosed, or Requested → Cancelled. Repaid, Foreclosed and
/// Cancelled are terminal: the pledged NFT has left the facility's custody.
enum LoanStatus {
    None,
    /// The NFT is pledged and the terms are posted; no lender has funded yet. The borrower may cancel.
    Requested,
    /// Funded: interest accrues and the schedule runs.
    Active,
    /// Repaid in full; the NFT went back to the borrower.
    Repaid,
    /// The lender foreclosed after a default; the NFT went to the lender.
    Foreclosed,
    /// The borrower took the NFT back before anyone funded.
    Cancelled
}

/// @notice The credit terms a borrower posts when pledging an asset, as given on entry.
/// @dev Schedule: the loan is funded at `S`; due dates are `S + j × periodSeconds` for
/// j = 1 … periodCount (the last one is the maturity). At each due date, all interest accrued until
/// then is due, and the principal is repaid in equal installments over the last `amortizationPeriods`
/// periods (1: a bullet at maturity; `periodCount`: straight-line from the first period). Interest is
/// simple (never on unpaid interest), accrued per second on the outstanding principal at
/// `interestRateBpsPerYear` over a 365-day year. An amount due may be paid until `graceSeconds` after its
/// due date; later, the loan is in default.
struct CreditTerms {
    /// The stablecoin the loan is funded, repaid and harvested in (the asset's lease token).
    address token;
    /// Principal the lender pays the borrower at funding, in token base units (non-zero, < 2^96).
    uint256 principal;
    /// Harvested revenue kept back, after the current installment is covered, until the reserve holds
    /// this much (token base units; 0: no reserve). Drawn when an installment is overdue, paid to the
    /// lender on foreclosure, returned to the borrower on full repayment.
    uint256 reserveTarget;
    /// Simple interest rate in basis points per 365-day year (10000 = 100 % a year).
    uint16 interestRateBpsPerYear;
    /// Length of one payment period in seconds (at least one hour).
    uint32 periodSeconds;
    /// Number of periods: the term is `periodSeconds × periodCount` (at least 1).
    uint16 periodCount;
    /// Number of final periods over which the principal is amortized (1 … periodCount).
    uint16 amortizationPeriods;
    /// How long after a due date its amount may still be paid before the loan is in default
    /// (shorter than one period).
    uint32 graceSeconds;
}

/// @notice One loan, as stored. Amounts are base units of the loan's token.
/// @dev `interestAccrued` and `interestRemainder` together hold the exact interest integral:
/// interest accrued = ⌊(Σ outstanding × rate × seconds) / (10000 × 365 days)⌋, with the division's
/// remainder carried (so the result does not depend on how often the loan is touched). The two
/// due-date checkpoints are the cumulative interest accrued at the latest due date passed and at the
/// one before it: with grace shorter than a period, the default rule never needs an older one.
/// What the lender is owed is derived, not stored:
/// interestPaid + principalRepaid + lenderRecovered − lenderClaimed.
/// Pledging writes slots 0-2; funding writes slot 3.
struct Loan {
    // slot 0
    address borrower;
    uint64 assetId;
    LoanStatus status;
    uint16 interestRateBpsPerYear;
    // slot 1
    address token;
    uint32 periodSeconds;
    uint32 graceSeconds;
    uint16 periodCount;
    uint16 amortizationPeriods;
    // slot 2
    uint128 principal;
    uint128 reserveTarget;
    // slot 3
    /// Cumulative interest accrued from funding until `lastAccrualTime`.
    uint128 interestAccrued;
    /// Funding time (0 before funding). uint40 seconds last until the year 36812.
    uint40 startTime;
    /// When interest was last accrued.
    uint40 lastAccrualTime;
    /// Remainder of the interest division, < 10000 × 365 days (< 2^39).
    uint48 interestRemainder;
    // slot 4
    uint128 principalRepaid;
    uint128 interestPaid;
    // slot 5
    /// Cumulative interest accrued at the latest due date passed (0 before the first).
    uint128 interestAtLastDueDate;
    /// Cumulative interest accrued at the due date before that one (0 when there is none).
    uint128 interestAtPreviousDueDate;
    // slot 6
    /// Revenue held back as the reserve.
    uint128 reserveBalance;
    /// Revenue and released reserve the borrower may claim.
    uint128 borrowerClaimable;
    // slot 7
    /// What the note holders have claimed so far.
    uint128 lenderClaimed;
    /// Revenue harvested after a foreclosure (the debt is extinguished by then): the note holder's.
    uint128 lenderRecovered;
}

/// @notice Where one harvest's revenue went: the four parts add up to the amount harvested.
struct WaterfallSplit {
    /// Paid to the lender as interest.
    uint256 toInterest;
    /// Paid to the lender as principal.
    uint256 toPrincipal;
    /// Kept in the reserve.
    uint256 toReserve;
    /// Credited to the borrower.
    uint256 toBorrower;
}

/// @notice A loan's position now, as computed by the facility's views (interest accrued to now).
struct LoanPosition {
    /// Principal not yet repaid.
    uint256 principalOutstanding;
    /// Interest accrued and not yet paid.
    uint256 interestOwed;
    /// Next due date (0 when the maturity has passed or the loan is not active).
    uint64 nextDueDate;
    /// Principal due by the next due date (at maturity and after: all of it), beyond what was repaid.
    uint256 principalDueByNextDueDate;
    /// Amounts due at due dates already passed and not yet paid (interest, then principal).
    uint256 overdue;
    /// Part of `overdue` whose grace period has ended and that the reserve does not cover: non-zero
    /// exactly when the loan is in default.
    uint256 defaulted;
    /// Whether the loan is in default (the lender may foreclose).
    bool inDefault;
}
