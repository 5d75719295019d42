// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { Clones } from "@openzeppelin/contracts/proxy/Clones.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { ICreditFacility } from "../interfaces/ICreditFacility.sol";
import { ICreditCustody } from "../interfaces/ICreditCustody.sol";
import { ILoanNote } from "../interfaces/ILoanNote.sol";
import { IGpuAssetNFT } from "../interfaces/IGpuAssetNFT.sol";
import { ISettlementEscrow } from "../interfaces/ISettlementEscrow.sol";
import { CreditCustody } from "./CreditCustody.sol";
import { LoanNote } from "./LoanNote.sol";
import { CreditMath } from "../libraries/CreditMath.sol";
import { CreditTerms, Loan, LoanPosition, LoanStatus, WaterfallSplit } from "../types/CreditTypes.sol";

/// @title CreditFacility — credit lines against a GPU asset, repaid from its lease revenue
/// @notice See `ICreditFacility` and docs/credit.md. The lenders' notes are a LoanNote ERC-721 this
/// contract deploys (note id = loan id, minted to the lender at funding).
/// @dev A loan is read into memory, advanced (interest accrued, payments applied) by pure internal
/// functions and written back in one assignment; the schedule and interest arithmetic is CreditMath's.
contract CreditFacility is ICreditFacility, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @inheritdoc ICreditFacility
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc ICreditFacility
    uint32 public constant MIN_PERIOD_SECONDS = 1 hours;

    /// @inheritdoc ICreditFacility
    IGpuAssetNFT public immutable nft;
    /// @inheritdoc ICreditFacility
    ISettlementEscrow public immutable escrow;
    /// @inheritdoc ICreditFacility
    address public immutable custodyImplementation;
    /// @inheritdoc ICreditFacility
    ILoanNote public immutable note;

    mapping(uint256 loanId => Loan) private _loans;
    /// @dev Id of the next loan; starts at 1 (set in the constructor, so no pledge pays for a zero slot).
    uint256 private _nextLoanId;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes the pauser role; nothing else).
    /// @param nft_ The GPU asset NFT.
    /// @param escrow_ The settlement escrow.
    constructor(address admin, IGpuAssetNFT nft_, ISettlementEscrow escrow_) {
        if (admin == address(0) || address(nft_) == address(0) || address(escrow_) == address(0)) {
            revert ZeroAddress();
        }
        nft = nft_;
        escrow = escrow_;
        custodyImplementation = address(new CreditCustody(nft_, escrow_));
        note = new LoanNote();
        _nextLoanId = 1;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc ICreditFacility
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ICreditFacility
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- borrower

    /// @inheritdoc ICreditFacility
    function pledge(
        uint256 assetId,
        CreditTerms calldata terms
    ) external nonReentrant whenNotPaused returns (uint256 loanId) {
        // Checks
        _checkTerms(terms);
        if (nft.ownerOf(assetId) != msg.sender) revert NotAssetOwner(assetId, msg.sender);
        // New leases open under the current terms: they must pay in the loan's token (or there are none).
        address termsToken = escrow.leaseTermsOf(assetId).token;
        if (termsToken != address(0) && termsToken != terms.token) {
            revert LeaseTermsInOtherToken(assetId, termsToken, terms.token);
        }
        // Effects
        loanId = _nextLoanId;
        _nextLoanId = loanId + 1;
        Loan storage loan = _loans[loanId];
        loan.borrower = msg.sender;
        loan.assetId = assetId.toUint64();
        loan.status = LoanStatus.Requested;
        loan.interestRateBpsPerYear = terms.interestRateBpsPerYear;
        loan.token = terms.token;
        loan.periodSeconds = terms.periodSeconds;
        loan.graceSeconds = terms.graceSeconds;
        loan.periodCount = terms.periodCount;
        loan.amortizationPeriods = terms.amortizationPeriods;
        loan.principal = terms.principal.toUint96();
        loan.reserveTarget = terms.reserveTarget.toUint128();
        // Interactions: the loan's own custody account is created, then receives the NFT.
        address custody = Clones.cloneDeterministic(custodyImplementation, bytes32(loanId));
        emit AssetPledged(loanId, assetId, msg.sender, custody, terms);
        nft.transferFrom(msg.sender, custody, assetId);
    }

    /// @inheritdoc ICreditFacility
    function cancel(uint256 loanId) external nonReentrant {
        // Checks
        Loan storage loan = _loanOf(loanId);
        LoanStatus status = loan.status;
        if (status != LoanStatus.Requested) revert LoanNotRequested(loanId, status);
        address borrower = loan.borrower;
        if (msg.sender != borrower) revert NotBorrower(loanId, msg.sender);
        // Effects
        loan.status = LoanStatus.Cancelled;
        uint256 assetId = loan.assetId;
        emit PledgeCancelled(loanId, assetId, borrower);
        // Interactions
        ICreditCustody(custodyOf(loanId)).releaseAsset(assetId, borrower, false);
    }

    /// @inheritdoc ICreditFacility
    function claimAsBorrower(uint256 loanId, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert InvalidRecipient(to);
        Loan storage loan = _loanOf(loanId);
        if (msg.sender != loan.borrower) revert NotBorrower(loanId, msg.sender);
        amount = loan.borrowerClaimable;
        if (amount == 0) revert NothingToClaim(loanId, msg.sender);
        // Effects
        loan.borrowerClaimable = 0;
        emit BorrowerClaimed(loanId, msg.sender, to, amount);
        // Interactions
        IERC20(loan.token).safeTransfer(to, amount);
    }

    /// @inheritdoc ICreditFacility
    function collectToken(uint256 loanId, address token, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert InvalidRecipient(to);
        Loan storage loan = _loanOf(loanId);
        if (token == loan.token) revert LoanTokenNotCollectable(token);
        if (loan.status == LoanStatus.Foreclosed) _checkNoteHolder(loanId);
        else if (msg.sender != loan.borrower) revert NotBorrower(loanId, msg.sender);
        // Interactions (no state of the facility changes)
        amount = ICreditCustody(custodyOf(loanId)).withdrawRevenue(token, to);
        if (amount == 0) revert NothingToClaim(loanId, msg.sender);
        emit TokenCollected(loanId, token, to, amount);
    }

    // ---------------------------------------------------------------- lender

    /// @inheritdoc ICreditFacility
    function fund(uint256 loanId) external nonReentrant whenNotPaused {
        // Checks
        Loan storage loan = _loanOf(loanId);
        LoanStatus status = loan.status;
        if (status != LoanStatus.Requested) revert LoanNotRequested(loanId, status);
        address borrower = loan.borrower;
        uint256 principal = loan.principal;
        // Effects
        uint40 startTime = uint40(block.timestamp);
        loan.status = LoanStatus.Active;
        loan.startTime = startTime;
        loan.lastAccrualTime = startTime;
        emit LoanFunded(
            loanId,
            msg.sender,
            principal,
            startTime,
            uint64(CreditMath.dueDate(startTime, loan.periodSeconds, loan.periodCount))
        );
        // Interactions (a borrower funding its own loan moves nothing)
        note.mint(msg.sender, loanId);
        if (msg.sender != borrower) _transferExact(loan.token, msg.sender, borrower, principal);
    }

    /// @inheritdoc ICreditFacility
    function foreclose(uint256 loanId, address to) external nonReentrant {
        // Checks
        if (to == address(0)) revert InvalidRecipient(to);
        Loan memory loan = _loans[loanId];
        _requireActive(loanId, loan.status);
        address holder = _checkNoteHolder(loanId);
        // Interactions first, deliberately: revenue the escrow already holds for the loan counts before
        // the default is judged (it may cure it). The guard is held.
        uint256 amount = escrow.withdrawable(custodyOf(loanId), loan.token) == 0 ? 0 : _collect(loanId, loan.token);
        // Effects
        uint256 nowTs = block.timestamp;
        WaterfallSplit memory split = _settleActive(loanId, loan, amount, nowTs);
        if (amount != 0) emit RevenueHarvested(loanId, msg.sender, amount, split);
        if (_defaultedAmount(loan, nowTs) == 0) revert NotInDefault(loanId);
        // In default the reserve draw has emptied the reserve (it would otherwise cover the shortfall).
        uint256 principalWrittenOff = loan.principal - loan.principalRepaid;
        uint256 interestWrittenOff = loan.interestAccrued - loan.interestPaid;
        // Written field by field: the due-date checkpoints mean nothing once the loan is closed.
        Loan storage stored = _loans[loanId];
        stored.status = LoanStatus.Foreclosed;
        stored.interestAccrued = loan.interestAccrued;
        stored.lastAccrualTime = loan.lastAccrualTime;
        stored.interestRemainder = loan.interestRemainder;
        stored.principalRepaid = loan.principalRepaid;
        stored.interestPaid = loan.interestPaid;
        stored.reserveBalance = loan.reserveBalance;
        stored.borrowerClaimable = loan.borrowerClaimable;
        emit LoanForeclosed(loanId, loan.assetId, to, holder, principalWrittenOff, interestWrittenOff);
        // Interactions: the NFT changes owner; its user right (the lease) is not touched.
        ICreditCustody(custodyOf(loanId)).releaseAsset(loan.assetId, to, true);
    }

    /// @inheritdoc ICreditFacility
    function claimAsLender(uint256 loanId, address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert InvalidRecipient(to);
        Loan storage loan = _loanOf(loanId);
        _checkNoteHolder(loanId);
        uint256 claimed = loan.lenderClaimed;
        amount = _lenderProceeds(loan) - claimed;
        if (amount == 0) revert NothingToClaim(loanId, msg.sender);
        // Effects
        loan.lenderClaimed = (claimed + amount).toUint128();
        emit LenderClaimed(loanId, msg.sender, to, amount);
        // Interactions
        IERC20(loan.token).safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- anyone

    /// @inheritdoc ICreditFacility
    function harvest(uint256 loanId) external nonReentrant returns (uint256 amount) {
        // Checks
        Loan memory loan = _loans[loanId];
        if (loan.status == LoanStatus.None) revert UnknownLoan(loanId);
        // Interactions first, deliberately: what is split is what actually arrived, read after the
        // withdrawal, so a token that delivers less than the escrow reports cannot over-credit anyone.
        amount = _collect(loanId, loan.token);
        if (amount == 0) revert NothingToHarvest(loanId);
        // Effects
        if (loan.status == LoanStatus.Foreclosed) {
            _loans[loanId].lenderRecovered = (loan.lenderRecovered + amount).toUint128();
            emit RevenueRecovered(loanId, msg.sender, amount);
            return amount;
        }
        WaterfallSplit memory split;
        bool repaidNow;
        if (loan.status == LoanStatus.Active) {
            split = _settleActive(loanId, loan, amount, block.timestamp);
            repaidNow = loan.principalRepaid == loan.principal;
        } else {
            // Requested, repaid or cancelled: no debt, the revenue is the borrower's.
            split.toBorrower = amount;
            loan.borrowerClaimable = (loan.borrowerClaimable + amount).toUint128();
        }
        uint256 reserveReleased = repaidNow ? _markRepaid(loan) : 0;
        _loans[loanId] = loan;
        emit RevenueHarvested(loanId, msg.sender, amount, split);
        if (!repaidNow) return amount;
        emit LoanRepaid(loanId, loan.assetId, loan.borrower, reserveReleased);
        // Interactions
        _returnAsset(loanId, loan);
    }

    /// @inheritdoc ICreditFacility
    function repay(uint256 loanId, uint256 amount) external nonReentrant returns (uint256 paid) {
        // Checks
        if (amount == 0) revert ZeroAmount();
        Loan memory loan = _loans[loanId];
        _requireActive(loanId, loan.status);
        // Effects
        _accrue(loan, block.timestamp);
        (uint256 toInterest, uint256 toPrincipal, ) = CreditMath.applyPayment(
            amount,
            loan.interestAccrued - loan.interestPaid,
            loan.principal - loan.principalRepaid
        );
        // Cannot overflow: each part is at most what is owed, and the totals stay below 2^128.
        loan.interestPaid += uint128(toInterest);
        loan.principalRepaid += uint128(toPrincipal);
        paid = toInterest + toPrincipal;
        bool repaidNow = loan.principalRepaid == loan.principal;
        uint256 reserveReleased = repaidNow ? _markRepaid(loan) : 0;
        _loans[loanId] = loan;
        emit PaymentMade(loanId, msg.sender, toInterest, toPrincipal);
        if (repaidNow) emit LoanRepaid(loanId, loan.assetId, loan.borrower, reserveReleased);
        // Interactions
        _transferExact(loan.token, msg.sender, address(this), paid);
        if (repaidNow) _returnAsset(loanId, loan);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICreditFacility
    function loanOf(uint256 loanId) external view returns (Loan memory) {
        return _loanOf(loanId);
    }

    /// @inheritdoc ICreditFacility
    function positionOf(uint256 loanId) external view returns (LoanPosition memory) {
        return _position(_loanOf(loanId));
    }

    /// @inheritdoc ICreditFacility
    function isInDefault(uint256 loanId) external view returns (bool) {
        return _position(_loanOf(loanId)).inDefault;
    }

    /// @inheritdoc ICreditFacility
    function lenderClaimable(uint256 loanId) external view returns (uint256) {
        Loan storage loan = _loanOf(loanId);
        return _lenderProceeds(loan) - loan.lenderClaimed;
    }

    /// @inheritdoc ICreditFacility
    function borrowerClaimable(uint256 loanId) external view returns (uint256) {
        return _loanOf(loanId).borrowerClaimable;
    }

    /// @inheritdoc ICreditFacility
    function pendingRevenue(uint256 loanId) external view returns (uint256) {
        return escrow.withdrawable(custodyOf(loanId), _loanOf(loanId).token);
    }

    /// @inheritdoc ICreditFacility
    function custodyOf(uint256 loanId) public view returns (address) {
        return Clones.predictDeterministicAddress(custodyImplementation, bytes32(loanId));
    }

    /// @inheritdoc ICreditFacility
    function loanCount() external view returns (uint256) {
        return _nextLoanId - 1;
    }

    // ---------------------------------------------------------------- internals: loan arithmetic

    /// @dev A loan's position now, after the accrual and the reserve draw the next call would make.
    function _position(Loan memory loan) private view returns (LoanPosition memory position) {
        if (loan.status != LoanStatus.Active) return position;
        uint256 nowTs = block.timestamp;
        _accrue(loan, nowTs);
        uint256 passed = _dueDatesPassed(loan, nowTs);
        _drawReserve(loan, passed);
        uint256 count = loan.periodCount;
        position.principalOutstanding = loan.principal - loan.principalRepaid;
        position.interestOwed = loan.interestAccrued - loan.interestPaid;
        if (passed < count) {
            position.nextDueDate = uint64(CreditMath.dueDate(loan.startTime, loan.periodSeconds, passed + 1));
        }
        position.principalDueByNextDueDate = _principalOwedBy(loan, passed < count ? passed + 1 : count);
        position.overdue = _overdue(loan, passed, loan.interestAtLastDueDate);
        position.defaulted = _defaultedAmount(loan, nowTs);
        position.inDefault = position.defaulted != 0;
    }

    /// @dev Brings an active loan to `nowTs`: accrues simple interest on the outstanding principal and,
    /// when due dates were passed since the last accrual, records the cumulative interest at the latest
    /// one and at the one before (the principal was constant since the last accrual, so both are exact).
    function _accrue(Loan memory loan, uint256 nowTs) private pure {
        uint256 last = loan.lastAccrualTime;
        if (!(nowTs > last)) return;
        uint256 outstanding = loan.principal - loan.principalRepaid;
        uint256 rate = loan.interestRateBpsPerYear;
        uint256 remainder = loan.interestRemainder;
        uint256 accrued = loan.interestAccrued;
        uint256 passedBefore = _dueDatesPassed(loan, last);
        uint256 passedNow = _dueDatesPassed(loan, nowTs);
        if (passedNow > passedBefore) {
            if (passedNow - 1 > passedBefore) {
                loan.interestAtPreviousDueDate = (accrued +
                    _interestUntil(loan, passedNow - 1, outstanding, rate, remainder)).toUint128();
            } else {
                loan.interestAtPreviousDueDate = loan.interestAtLastDueDate;
            }
            loan.interestAtLastDueDate = (accrued + _interestUntil(loan, passedNow, outstanding, rate, remainder))
                .toUint128();
        }
        (uint256 interest, uint256 newRemainder) = CreditMath.accrue(outstanding, rate, nowTs - last, remainder);
        loan.interestAccrued = (accrued + interest).toUint128();
        // Cannot overflow: the remainder is below 10000 × 365 days < 2^39.
        loan.interestRemainder = uint48(newRemainder);
        loan.lastAccrualTime = nowTs.toUint40();
    }

    /// @dev Interest accrued from the last accrual until due date `index` (which lies after it).
    function _interestUntil(
        Loan memory loan,
        uint256 index,
        uint256 outstanding,
        uint256 rate,
        uint256 remainder
    ) private pure returns (uint256 interest) {
        uint256 elapsed = CreditMath.dueDate(loan.startTime, loan.periodSeconds, index) - loan.lastAccrualTime;
        (interest, ) = CreditMath.accrue(outstanding, rate, elapsed, remainder);
    }

    /// @dev Lets the reserve pay an active loan's overdue amounts (interest accrued first, then the
    /// principal due at the due dates passed). `passed` is the number of due dates passed now.
    function _drawReserve(
        Loan memory loan,
        uint256 passed
    ) private pure returns (uint256 toInterest, uint256 toPrincipal) {
        uint256 reserve = loan.reserveBalance;
        if (reserve == 0 || _overdue(loan, passed, loan.interestAtLastDueDate) == 0) return (0, 0);
        (toInterest, toPrincipal, ) = CreditMath.applyPayment(
            reserve,
            loan.interestAccrued - loan.interestPaid,
            _principalOwedBy(loan, passed)
        );
        // Cannot overflow or underflow: both parts come out of the reserve and are at most what is owed.
        loan.reserveBalance = uint128(reserve - toInterest - toPrincipal);
        loan.interestPaid += uint128(toInterest);
        loan.principalRepaid += uint128(toPrincipal);
    }

    /// @dev What is unpaid of the amounts due at due date `index`: the cumulative interest at that date
    /// (`interestAtIndex`) beyond the interest paid, plus the principal scheduled by then beyond the
    /// principal repaid.
    function _overdue(Loan memory loan, uint256 index, uint256 interestAtIndex) private pure returns (uint256) {
        uint256 paid = loan.interestPaid;
        uint256 interestUnpaid = interestAtIndex > paid ? interestAtIndex - paid : 0;
        return interestUnpaid + _principalOwedBy(loan, index);
    }

    /// @dev The amount by which an active loan, accrued to `nowTs`, is in default: what was due at the
    /// latest due date whose grace period has ended and is still unpaid after the reserve draw the next
    /// call would make. Zero means not in default. With grace shorter than a period that due date is the
    /// latest one passed or the one before it, whose interest checkpoints `_accrue` keeps.
    function _defaultedAmount(Loan memory loan, uint256 nowTs) private pure returns (uint256) {
        uint256 graceEnd = uint256(loan.startTime) + loan.graceSeconds;
        uint256 graced = CreditMath.dueDatesPassed(graceEnd, loan.periodSeconds, loan.periodCount, nowTs);
        if (graced == 0) return 0;
        uint256 passed = _dueDatesPassed(loan, nowTs);
        // Simulated on copies of the fields the draw changes, so the caller's loan stays as it was.
        (uint256 paid, uint256 repaid, uint256 reserve) = (
            loan.interestPaid,
            loan.principalRepaid,
            loan.reserveBalance
        );
        _drawReserve(loan, passed);
        uint256 amount = _overdue(
            loan,
            graced,
            graced == passed ? loan.interestAtLastDueDate : loan.interestAtPreviousDueDate
        );
        (loan.interestPaid, loan.principalRepaid, loan.reserveBalance) = (
            uint128(paid),
            uint128(repaid),
            uint128(reserve)
        );
        return amount;
    }

    /// @dev Splits `amount` of harvested revenue over an active loan accrued to `nowTs`, then lets the
    /// reserve pay what is still overdue. In default the whole debt is owed (acceleration); otherwise the
    /// installment falling due at the next due date and anything overdue.
    function _settleActive(
        uint256 loanId,
        Loan memory loan,
        uint256 amount,
        uint256 nowTs
    ) private returns (WaterfallSplit memory split) {
        _accrue(loan, nowTs);
        uint256 passed = _dueDatesPassed(loan, nowTs);
        uint256 count = loan.periodCount;
        bool accelerated = _defaultedAmount(loan, nowTs) != 0;
        uint256 principalOwed = _principalOwedBy(loan, accelerated || !(passed < count) ? count : passed + 1);
        uint256 reserveTarget = loan.reserveTarget;
        uint256 reserve = loan.reserveBalance;
        (split.toInterest, split.toPrincipal, split.toReserve, split.toBorrower) = CreditMath.waterfall(
            amount,
            loan.interestAccrued - loan.interestPaid,
            principalOwed,
            reserveTarget > reserve ? reserveTarget - reserve : 0
        );
        // Cannot overflow: interest and principal parts are at most what is owed, the reserve part at
        // most the room below its uint128 target.
        loan.interestPaid += uint128(split.toInterest);
        loan.principalRepaid += uint128(split.toPrincipal);
        loan.reserveBalance += uint128(split.toReserve);
        loan.borrowerClaimable = (loan.borrowerClaimable + split.toBorrower).toUint128();
        (uint256 drawnToInterest, uint256 drawnToPrincipal) = _drawReserve(loan, passed);
        if (drawnToInterest + drawnToPrincipal != 0) emit ReserveDrawn(loanId, drawnToInterest, drawnToPrincipal);
    }

    /// @dev Closes a loan whose principal is repaid (so its interest is too: every payment pays the
    /// interest accrued first): the reserve goes to the borrower. Returns the reserve released.
    function _markRepaid(Loan memory loan) private pure returns (uint256 reserveReleased) {
        reserveReleased = loan.reserveBalance;
        loan.status = LoanStatus.Repaid;
        loan.borrowerClaimable = (loan.borrowerClaimable + reserveReleased).toUint128();
        loan.reserveBalance = 0;
    }

    /// @dev The NFT of a loan just repaid goes back to the borrower (plain transfer: it came from there,
    /// and a recipient hook must not be able to block the repayment).
    function _returnAsset(uint256 loanId, Loan memory loan) private {
        ICreditCustody(custodyOf(loanId)).releaseAsset(loan.assetId, loan.borrower, false);
    }

    /// @dev Principal scheduled by due date `index` beyond what was repaid.
    function _principalOwedBy(Loan memory loan, uint256 index) private pure returns (uint256) {
        uint256 due = CreditMath.principalDueBy(loan.principal, loan.periodCount, loan.amortizationPeriods, index);
        uint256 repaid = loan.principalRepaid;
        return due > repaid ? due - repaid : 0;
    }

    function _dueDatesPassed(Loan memory loan, uint256 time) private pure returns (uint256) {
        return CreditMath.dueDatesPassed(loan.startTime, loan.periodSeconds, loan.periodCount, time);
    }

    function _lenderProceeds(Loan storage loan) private view returns (uint256) {
        return uint256(loan.interestPaid) + loan.principalRepaid + loan.lenderRecovered;
    }

    // ---------------------------------------------------------------- internals: checks and transfers

    function _checkTerms(CreditTerms calldata terms) private pure {
        if (terms.token == address(0)) revert ZeroToken();
        if (terms.principal == 0) revert ZeroPrincipal();
        if (terms.periodSeconds < MIN_PERIOD_SECONDS) revert PeriodTooShort(terms.periodSeconds);
        if (terms.periodCount == 0 || terms.amortizationPeriods == 0 || terms.amortizationPeriods > terms.periodCount) {
            revert InvalidSchedule(terms.periodCount, terms.amortizationPeriods);
        }
        if (!(terms.graceSeconds < terms.periodSeconds)) {
            revert GraceNotShorterThanPeriod(terms.graceSeconds, terms.periodSeconds);
        }
    }

    /// @dev Withdraws the custody's escrow balance of `token` to this contract; returns what arrived.
    function _collect(uint256 loanId, address token) private returns (uint256) {
        uint256 before = IERC20(token).balanceOf(address(this));
        ICreditCustody(custodyOf(loanId)).withdrawRevenue(token, address(this));
        return IERC20(token).balanceOf(address(this)) - before;
    }

    /// @dev Moves exactly `amount` of `token` from `from` to `to`; refuses a token that delivers less.
    function _transferExact(address token, address from, address to, uint256 amount) private {
        uint256 before = IERC20(token).balanceOf(to);
        IERC20(token).safeTransferFrom(from, to, amount);
        uint256 received = IERC20(token).balanceOf(to) - before;
        if (received != amount) revert TransferAmountMismatch(token, amount, received);
    }

    /// @dev Reverts unless the caller holds the loan's note or is approved by its holder; returns the holder.
    function _checkNoteHolder(uint256 loanId) private view returns (address holder) {
        bool authorized;
        (holder, authorized) = note.holderAndAuthorization(msg.sender, loanId);
        if (!authorized) revert NotNoteHolder(loanId, msg.sender);
    }

    function _requireActive(uint256 loanId, LoanStatus status) private pure {
        if (status == LoanStatus.None) revert UnknownLoan(loanId);
        if (status != LoanStatus.Active) revert LoanNotActive(loanId, status);
    }

    /// @dev The loan, or `UnknownLoan`.
    function _loanOf(uint256 loanId) private view returns (Loan storage loan) {
        loan = _loans[loanId];
        if (loan.status == LoanStatus.None) revert UnknownLoan(loanId);
    }
}
