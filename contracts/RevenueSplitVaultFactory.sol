// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Clones } from "@openzeppelin/contracts/proxy/Clones.sol";
import { IRevenueSplitVaultFactory } from "./interfaces/IRevenueSplitVaultFactory.sol";
import { IRevenueSplitVault } from "./interfaces/IRevenueSplitVault.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import { ISettlementEscrow } from "./interfaces/ISettlementEscrow.sol";
import { RevenueSplitVault } from "./RevenueSplitVault.sol";

/// @title RevenueSplitVaultFactory
/// @notice Creates one RevenueSplitVault clone per GPU asset. See IRevenueSplitVaultFactory.
/// @dev No admin and no state but `vaultOf`: the implementation is deployed by the constructor, so
/// every clone trusts exactly this factory, NFT and escrow.
contract RevenueSplitVaultFactory is IRevenueSplitVaultFactory {
    /// @inheritdoc IRevenueSplitVaultFactory
    IGpuAssetNFT public immutable nft;
    /// @inheritdoc IRevenueSplitVaultFactory
    ISettlementEscrow public immutable escrow;
    /// @inheritdoc IRevenueSplitVaultFactory
    address public immutable implementation;

    /// @inheritdoc IRevenueSplitVaultFactory
    mapping(uint256 assetId => address vault) public vaultOf;

    /// @notice Deploys the factory and the vault implementation.
    /// @param nft_ The GPU asset NFT.
    /// @param escrow_ The settlement escrow.
    constructor(IGpuAssetNFT nft_, ISettlementEscrow escrow_) {
        nft = nft_;
        escrow = escrow_;
        implementation = address(new RevenueSplitVault(nft_, escrow_));
    }

    /// @inheritdoc IRevenueSplitVaultFactory
    function createVault(
        uint256 assetId,
        address revenueToken,
        address manager,
        address[] calldata holders,
        uint256[] calldata amounts
    ) external returns (address vault) {
        // Checks (ownership and approval are checked by the NFT's transferFrom below, with its errors)
        if (revenueToken == address(0)) revert InvalidRevenueToken();
        if (manager == address(0)) revert InvalidManager();
        address termsToken = escrow.leaseTermsOf(assetId).token;
        if (termsToken != address(0) && termsToken != revenueToken) {
            revert RevenueTokenNotTermsToken(assetId, termsToken, revenueToken);
        }
        (uint256 unfinished, address leaseToken) = escrow.unfinishedLeasesOf(assetId);
        if (unfinished != 0 && leaseToken != revenueToken) {
            revert UnfinishedLeasesInOtherToken(assetId, leaseToken, revenueToken, unfinished);
        }
        // Effects: the clone is created and initialized here, so nobody else can initialize it.
        vault = Clones.cloneWithImmutableArgs(implementation, abi.encode(assetId, revenueToken, manager));
        IRevenueSplitVault(vault).initialize(holders, amounts);
        vaultOf[assetId] = vault;
        emit VaultCreated(assetId, vault, msg.sender, revenueToken, manager, IRevenueSplitVault(vault).totalSupply());
        // Interactions: a plain transferFrom (the vault needs no ERC-721 receiver hook); the NFT
        // reverts unless the caller owns the asset and approved this factory.
        nft.transferFrom(msg.sender, vault, assetId);
    }
}
