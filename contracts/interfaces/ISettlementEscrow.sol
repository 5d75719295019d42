// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { LeaseTerms } from "../types/EscrowTypes.sol";

/// @title ISettlementEscrow — stablecoin leases settled from usage proofs
/// @notice Holds lessees' deposits, settles leases from UsageOracle meter deltas, and keeps every
/// payout as a pull balance per account and token.
/// @dev Cross-contract surface (used by RevenueSplitVault, deploy scripts, the demo) is fixed:
/// `setLeaseTerms`, `leaseTermsOf`, `withdraw`, `withdrawable`. The implementation's owner adds the
/// lease lifecycle, disputes, errors, events and admin functions here.
interface ISettlementEscrow {
    /// @notice Publishes or replaces the lease terms of an asset. Caller: the NFT's owner, or an
    /// operator the owner approved on the NFT. Open leases keep the terms they were opened with.
    /// @param assetId The asset.
    /// @param terms The new terms.
    function setLeaseTerms(uint256 assetId, LeaseTerms calldata terms) external;

    /// @notice The current published terms of an asset (all zero when none).
    /// @param assetId The asset.
    /// @return The terms.
    function leaseTermsOf(uint256 assetId) external view returns (LeaseTerms memory);

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
}
