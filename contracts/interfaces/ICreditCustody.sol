// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IGpuAssetNFT } from "./IGpuAssetNFT.sol";
import { ISettlementEscrow } from "./ISettlementEscrow.sol";
import { LeaseTerms } from "../types/EscrowTypes.sol";
import { LoanStatus } from "../types/CreditTypes.sol";

/// @title ICreditCustody — the account that holds one pledged GPU asset for the credit facility
/// @notice While an asset is pledged, its NFT sits in the loan's own custody account, so the account is
/// the asset's owner and hence the settlement escrow's payee for it: every lease charge settled during
/// the pledge lands in the account's escrow balance, apart from every other asset's. The account does
/// exactly what follows. For the facility only: withdraw its escrow balance (to the facility) and hand
/// the NFT on. For the loan's parties, while the loan is active: publish or withdraw the asset's lease
/// terms, when the borrower and the note's holder (or an operator the holder approved) have both asked
/// for the same change, in either order. Before funding the terms are frozen: they are what the lender
/// sees when it funds (to change them, the borrower cancels and pledges again).
/// @dev Deployed by CreditFacility as one EIP-1167 clone per loan (CREATE2, salt = loan id). It has no
/// function that ends, shortens or otherwise touches a lease (`terminateByProvider` is never called),
/// never approves anyone on the NFT and never burns it: a pledged asset's lessee keeps its user right,
/// its lease and its deposit whatever happens to the loan.
/// Warning: lease terms are a joint decision because a lease survives foreclosure: the borrower alone
/// could lock the asset into a long, cheap lease (hurting the lender), the lender alone could price it
/// out of the market (hurting the borrower).
interface ICreditCustody {
    /// @notice Raised when anyone but the facility calls a facility-only function.
    /// @param caller The caller.
    error CallerNotFacility(address caller);
    /// @notice Raised when the loan id given is not this account's loan.
    /// @param loanId The id given.
    error NotCustodyOfLoan(uint256 loanId);
    /// @notice Raised when the loan is not active: not funded yet (the terms are frozen until then) or
    /// closed (its NFT has left this account).
    /// @param loanId The loan.
    /// @param status Its status.
    error LoanNotActive(uint256 loanId, LoanStatus status);
    /// @notice Raised when the caller is neither the loan's borrower nor its note's holder or approved operator.
    /// @param loanId The loan.
    /// @param caller The caller.
    error NotLoanParty(uint256 loanId, address caller);
    /// @notice Raised when the caller's side has already asked for exactly this change.
    /// @param loanId The loan.
    /// @param account The side's account (the borrower, or the note's holder).
    /// @param changeHash The change.
    error ConsentAlreadyGiven(uint256 loanId, address account, bytes32 changeHash);
    /// @notice Raised when the lease terms name another token than the loan's.
    /// @param termsToken The token in the terms.
    /// @param loanToken The loan's token.
    error LeaseTermsTokenMismatch(address termsToken, address loanToken);

    /// @notice Emitted when one side of a funded loan asks for a lease-terms change that waits for the other.
    /// @param loanId The loan.
    /// @param account The side's account (the borrower, or the note's holder).
    /// @param changeHash keccak256 of the ABI-encoded lease terms, or `REMOVE_LEASE_TERMS`.
    event LeaseTermsChangeConsented(uint256 indexed loanId, address indexed account, bytes32 indexed changeHash);
    /// @notice Emitted when a lease-terms change is made in the escrow (which emits its own event too).
    /// @param loanId The loan.
    /// @param changeHash keccak256 of the ABI-encoded lease terms, or `REMOVE_LEASE_TERMS`.
    event LeaseTermsChanged(uint256 indexed loanId, bytes32 indexed changeHash);

    /// @notice Withdraws the account's whole escrow balance of `token` to `to`. Facility only.
    /// @param token The token.
    /// @param to Recipient.
    /// @return amount What the escrow paid, as it reports it.
    function withdrawRevenue(address token, address to) external returns (uint256 amount);

    /// @notice Transfers the NFT `assetId` from this account to `to`. Facility only.
    /// @param assetId The asset.
    /// @param to Recipient.
    /// @param safe Whether to use `safeTransferFrom` (a recipient the caller chose) or `transferFrom`
    /// (back to the borrower, who pledged it from that address).
    function releaseAsset(uint256 assetId, address to, bool safe) external;

    /// @notice Publishes or replaces the pledged asset's lease terms in the escrow, for active loan
    /// `loanId` (this account's). The terms' token must be the loan's. The change is made when the
    /// borrower and the note's side have both called with the same terms; the first call records a
    /// consent (a consent by a note holder who has since sold the note no longer counts). A borrower
    /// holding its own note decides alone. Leases already open keep their terms.
    /// @param loanId The loan this account holds the asset for.
    /// @param terms The lease terms (the escrow validates them).
    function setLeaseTerms(uint256 loanId, LeaseTerms calldata terms) external;

    /// @notice Withdraws the pledged asset's lease terms in the escrow (no new lease until new terms), with
    /// the same consent rule as `setLeaseTerms`.
    /// @param loanId The loan this account holds the asset for.
    function removeLeaseTerms(uint256 loanId) external;

    /// @notice The pending consent of an active loan's lease-terms change, if any.
    /// @return changeHash The change asked for (zero: none).
    /// @return account Who asked (the borrower, or the note's holder at the time).
    /// @return byNoteHolder Whether it came from the note's side.
    function pendingConsent() external view returns (bytes32 changeHash, address account, bool byNoteHolder);

    /// @notice The credit facility.
    /// @return The facility.
    function facility() external view returns (address);

    /// @notice The GPU asset NFT.
    /// @return The NFT.
    function nft() external view returns (IGpuAssetNFT);

    /// @notice The settlement escrow.
    /// @return The escrow.
    function escrow() external view returns (ISettlementEscrow);

    /// @notice The change hash that stands for "remove the lease terms" in consents.
    /// @return keccak256("CreditCustody.removeLeaseTerms").
    // solhint-disable-next-line func-name-mixedcase
    function REMOVE_LEASE_TERMS() external view returns (bytes32);
}
