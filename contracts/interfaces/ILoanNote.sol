// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC721Metadata } from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";

/// @title ILoanNote — the lender's position in a CreditFacility loan, as a transferable ERC-721
/// @notice One note per funded loan, with the loan's id as its token id, minted to the lender when it
/// funds. Whoever holds the note is the loan's lender: it claims what the loan repays and may
/// foreclose a loan in default (an operator it approved may do both for it). Selling the note sells
/// the loan, including proceeds not yet claimed.
/// @dev Deployed by CreditFacility's constructor; only the facility mints. Notes are never burned: a
/// closed loan's note still claims what is left of its proceeds.
interface ILoanNote is IERC721Metadata {
    /// @notice Raised when anyone but the facility mints.
    /// @param caller The caller.
    error CallerNotFacility(address caller);

    /// @notice Mints the note of `loanId` to `lender`. Facility only, once per loan.
    /// @param lender The lender.
    /// @param loanId The loan (the token id).
    function mint(address lender, uint256 loanId) external;

    /// @notice The note's holder and whether `account` may act for it (the holder itself, or an
    /// operator the holder approved for this note or for all its notes). Reverts
    /// `ERC721NonexistentToken` when the loan has no note (not funded).
    /// @param account The account.
    /// @param loanId The loan.
    /// @return holder The holder.
    /// @return authorized Whether `account` may act for the holder.
    function holderAndAuthorization(
        address account,
        uint256 loanId
    ) external view returns (address holder, bool authorized);

    /// @notice The credit facility whose loans these notes are.
    /// @return The facility.
    function facility() external view returns (address);
}
