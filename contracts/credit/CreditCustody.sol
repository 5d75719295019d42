// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICreditCustody } from "../interfaces/ICreditCustody.sol";
import { ICreditFacility } from "../interfaces/ICreditFacility.sol";
import { IGpuAssetNFT } from "../interfaces/IGpuAssetNFT.sol";
import { ISettlementEscrow } from "../interfaces/ISettlementEscrow.sol";
import { LeaseTerms } from "../types/EscrowTypes.sol";
import { Loan, LoanStatus } from "../types/CreditTypes.sol";

/// @title CreditCustody
/// @notice Holds one pledged GPU asset for CreditFacility. See ICreditCustody.
/// @dev The facility deploys this implementation once and clones it per loan; a clone runs this code,
/// so the immutables below are the implementation's (set by the facility's constructor), while the
/// pending consent lives in each clone's own storage.
contract CreditCustody is ICreditCustody {
    /// @dev One side's pending consent to a lease-terms change of an active loan.
    struct Consent {
        // slot 0
        bytes32 changeHash;
        // slot 1
        /// The borrower, or the note's holder at the time of the consent (a later holder is not bound).
        address account;
        bool byNoteHolder;
    }

    /// @inheritdoc ICreditCustody
    bytes32 public constant REMOVE_LEASE_TERMS = keccak256("CreditCustody.removeLeaseTerms");

    /// @inheritdoc ICreditCustody
    address public immutable facility;
    /// @inheritdoc ICreditCustody
    IGpuAssetNFT public immutable nft;
    /// @inheritdoc ICreditCustody
    ISettlementEscrow public immutable escrow;

    Consent private _consent;

    /// @param nft_ The GPU asset NFT.
    /// @param escrow_ The settlement escrow.
    constructor(IGpuAssetNFT nft_, ISettlementEscrow escrow_) {
        facility = msg.sender;
        nft = nft_;
        escrow = escrow_;
    }

    modifier onlyFacility() {
        if (msg.sender != facility) revert CallerNotFacility(msg.sender);
        _;
    }

    /// @inheritdoc ICreditCustody
    function withdrawRevenue(address token, address to) external onlyFacility returns (uint256 amount) {
        return escrow.withdraw(token, to);
    }

    /// @inheritdoc ICreditCustody
    function releaseAsset(uint256 assetId, address to, bool safe) external onlyFacility {
        if (safe) nft.safeTransferFrom(address(this), to, assetId);
        else nft.transferFrom(address(this), to, assetId);
    }

    /// @inheritdoc ICreditCustody
    function setLeaseTerms(uint256 loanId, LeaseTerms calldata terms) external {
        // Checks
        Loan memory loan = _activeLoan(loanId);
        if (terms.token != loan.token) revert LeaseTermsTokenMismatch(terms.token, loan.token);
        // Effects
        if (!_agree(loanId, loan, keccak256(abi.encode(terms)))) return;
        // Interactions (the escrow validates the terms and emits)
        escrow.setLeaseTerms(loan.assetId, terms);
    }

    /// @inheritdoc ICreditCustody
    function removeLeaseTerms(uint256 loanId) external {
        // Checks
        Loan memory loan = _activeLoan(loanId);
        // Effects
        if (!_agree(loanId, loan, REMOVE_LEASE_TERMS)) return;
        // Interactions
        escrow.removeLeaseTerms(loan.assetId);
    }

    /// @inheritdoc ICreditCustody
    function pendingConsent() external view returns (bytes32 changeHash, address account, bool byNoteHolder) {
        Consent memory consent = _consent;
        return (consent.changeHash, consent.account, consent.byNoteHolder);
    }

    /// @dev The loan this account holds the asset for, while it is active; reverts otherwise.
    function _activeLoan(uint256 loanId) private view returns (Loan memory loan) {
        ICreditFacility facility_ = ICreditFacility(facility);
        if (facility_.custodyOf(loanId) != address(this)) revert NotCustodyOfLoan(loanId);
        loan = facility_.loanOf(loanId);
        if (loan.status != LoanStatus.Active) revert LoanNotActive(loanId, loan.status);
    }

    /// @dev Records the caller's side's consent to `changeHash` and returns whether the change is to be
    /// made now: at once when the borrower holds the note too, otherwise when the other side asked for
    /// the same change before.
    function _agree(uint256 loanId, Loan memory loan, bytes32 changeHash) private returns (bool) {
        address borrower = loan.borrower;
        (address holder, bool authorized) = ICreditFacility(facility).note().holderAndAuthorization(msg.sender, loanId);
        bool byNoteHolder = msg.sender != borrower;
        if (byNoteHolder && !authorized) revert NotLoanParty(loanId, msg.sender);
        Consent memory pending = _consent;
        bool stillValid =
            pending.changeHash == changeHash &&
                (pending.byNoteHolder ? pending.account == holder : pending.account == borrower);
        if (borrower == holder || (stillValid && pending.byNoteHolder != byNoteHolder)) {
            if (pending.changeHash != bytes32(0)) delete _consent;
            emit LeaseTermsChanged(loanId, changeHash);
            return true;
        }
        address account = byNoteHolder ? holder : borrower;
        if (stillValid) revert ConsentAlreadyGiven(loanId, account, changeHash);
        _consent = Consent({ changeHash: changeHash, account: account, byNoteHolder: byNoteHolder });
        emit LeaseTermsChangeConsented(loanId, account, changeHash);
        return false;
    }
}
