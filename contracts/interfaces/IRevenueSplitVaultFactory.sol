// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IGpuAssetNFT } from "./IGpuAssetNFT.sol";
import { ISettlementEscrow } from "./ISettlementEscrow.sol";

/// @title IRevenueSplitVaultFactory — one revenue-split vault per GPU asset
/// @notice Creates each vault as an EIP-1167 clone (with the asset id, revenue token and manager as
/// immutable arguments), initializes it in the same transaction, moves the NFT from its owner into it
/// and mints the shares. No admin: the factory has no privileged function.
interface IRevenueSplitVaultFactory {
    /// @notice Raised when the revenue token is the zero address.
    error InvalidRevenueToken();

    /// @notice Raised when the manager is the zero address.
    error InvalidManager();

    /// @notice Raised when the asset's published escrow terms use another token than the one chosen
    /// for the vault (revenue in that token could not be distributed).
    /// @param assetId The asset.
    /// @param termsToken The token of the published terms.
    /// @param revenueToken The token chosen for the vault.
    error RevenueTokenNotTermsToken(uint256 assetId, address termsToken, address revenueToken);

    /// @notice Raised when the asset has unfinished escrow leases (not closed, or with a dispute
    /// open) in another token than the one chosen for the vault: their revenue, credited to the vault,
    /// could not be distributed.
    /// @param assetId The asset.
    /// @param leaseToken The unfinished leases' token (`ISettlementEscrow.MIXED_TOKENS` when several).
    /// @param revenueToken The token chosen for the vault.
    /// @param unfinishedLeases How many leases are unfinished.
    error UnfinishedLeasesInOtherToken(
        uint256 assetId,
        address leaseToken,
        address revenueToken,
        uint256 unfinishedLeases
    );

    /// @notice Emitted when a vault is created and holds the asset.
    /// @param assetId The asset.
    /// @param vault The new vault.
    /// @param creator The asset's previous owner.
    /// @param revenueToken The vault's revenue token.
    /// @param manager The vault's manager.
    /// @param totalShares The fixed share supply.
    event VaultCreated(
        uint256 indexed assetId,
        address indexed vault,
        address indexed creator,
        address revenueToken,
        address manager,
        uint256 totalShares
    );

    /// @notice Creates the vault of `assetId`, moves the NFT from the caller into it and mints the
    /// shares. The caller must own the NFT and have approved the factory for it (or for all); any live
    /// lease continues. Nothing the vault is credited can be stranded: the asset's published escrow
    /// terms, if any, and every unfinished lease of the asset must be in `revenueToken`.
    /// @param assetId The asset.
    /// @param revenueToken The token revenue is harvested and claimed in (fixed for the vault).
    /// @param manager Who may set the asset's lease terms (fixed for the vault).
    /// @param holders Initial share holders.
    /// @param amounts Shares of each holder; their sum is the fixed supply.
    /// @return vault The new vault.
    function createVault(
        uint256 assetId,
        address revenueToken,
        address manager,
        address[] calldata holders,
        uint256[] calldata amounts
    ) external returns (address vault);

    /// @notice The vault created last for `assetId` (zero if none). After a redemption the owner may
    /// create a new vault, which then replaces the old one here.
    /// @param assetId The asset.
    /// @return The vault.
    function vaultOf(uint256 assetId) external view returns (address);

    /// @notice The vault implementation every clone delegates to.
    /// @return The implementation.
    function implementation() external view returns (address);

    /// @notice The GPU asset NFT contract.
    /// @return The NFT.
    function nft() external view returns (IGpuAssetNFT);

    /// @notice The settlement escrow.
    /// @return The escrow.
    function escrow() external view returns (ISettlementEscrow);
}
