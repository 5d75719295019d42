// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC721 } from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import { IERC4906 } from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import { IERC4907 } from "./IERC4907.sol";
import { AssetStatus, GpuSpec } from "../types/GpuAssetTypes.sol";

/// @title IGpuAssetNFT — the GPU-lease NFT
/// @notice One ERC-721 token per GPU server, with an on-chain spec, a status and an ERC-4907 user
/// right that only the lease manager (the settlement escrow) sets or clears.
/// @dev Cross-contract surface (used by UsageOracle, SettlementEscrow, RevenueSplitVault) is fixed:
/// `mint`, `specOf`, `statusOf`, `meteringLimits`, `isLeasable`, `setUser`, `userOf`, `userExpires`.
/// The implementation's owner adds its errors, events and admin functions here.
interface IGpuAssetNFT is IERC721, IERC4906, IERC4907 {
    /// @notice Registers a GPU server: mints a new asset with `spec` to `to`. Registrar role only.
    /// @param to First owner of the asset.
    /// @param spec The server's specification.
    /// @return assetId The new token id (sequential, starting at 1).
    function mint(address to, GpuSpec calldata spec) external returns (uint256 assetId);

    /// @notice The specification of an asset. Reverts `ERC721NonexistentToken` for unknown ids.
    /// @param assetId The asset.
    /// @return The spec as given at mint.
    function specOf(uint256 assetId) external view returns (GpuSpec memory);

    /// @notice The status of an asset. Reverts `ERC721NonexistentToken` for unknown ids.
    /// @param assetId The asset.
    /// @return The current status.
    function statusOf(uint256 assetId) external view returns (AssetStatus);

    /// @notice What the usage oracle needs to bound a reading, in one storage read.
    /// Reverts `ERC721NonexistentToken` for unknown ids.
    /// @param assetId The asset.
    /// @return gpuCount Number of GPUs.
    /// @return tdpWattsPerGpu TDP per GPU in watts.
    /// @return status The current status.
    function meteringLimits(
        uint256 assetId
    ) external view returns (uint16 gpuCount, uint16 tdpWattsPerGpu, AssetStatus status);

    /// @notice Whether a new lease may start on the asset now: it exists, is Active and has no live user.
    /// @param assetId The asset.
    /// @return True when leasable.
    function isLeasable(uint256 assetId) external view returns (bool);
}
