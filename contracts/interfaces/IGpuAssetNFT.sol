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
///
/// User-right boundary (ERC-4907): a user right set with `expires = E` is live while
/// `block.timestamp < E` and over from `block.timestamp == E` on (expiry is exclusive). The escrow sets
/// `E` to the lease end, so the lessee holds the right for exactly `[start, E)`.
///
/// Roles: `DEFAULT_ADMIN_ROLE` (constructor argument) grants the others. `REGISTRAR_ROLE` mints, updates
/// specs and sets the status. `PAUSER_ROLE` pauses minting. `LEASE_MANAGER_ROLE` (the escrow only) sets
/// and clears user rights. Owners and approved operators transfer and burn, but never touch the user.
interface IGpuAssetNFT is IERC721, IERC4906, IERC4907 {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────────

    /// @notice The constructor was given the zero address as admin.
    error ZeroAdmin();

    /// @notice The spec's GPU model is the empty string.
    error EmptyGpuModel();

    /// @notice The spec's GPU model is longer than 31 bytes.
    /// @param gpuModel The model given.
    error GpuModelTooLong(string gpuModel);

    /// @notice The spec's datacenter code is longer than 31 bytes.
    /// @param datacenter The code given.
    error DatacenterTooLong(string datacenter);

    /// @notice The spec's GPU count is zero.
    /// @param gpuCount The count given.
    error InvalidGpuCount(uint16 gpuCount);

    /// @notice The spec's TDP per GPU is zero.
    /// @param tdpWattsPerGpu The TDP given.
    error InvalidTdpWatts(uint16 tdpWattsPerGpu);

    /// @notice The spec's VRAM per GPU is zero.
    /// @param vramMiBPerGpu The VRAM given.
    error InvalidVram(uint32 vramMiBPerGpu);

    /// @notice The spec's serials hash is zero.
    error ZeroSerialsHash();

    /// @notice Another existing asset was registered with the same hardware serials.
    /// @param serialsHash The hash given.
    error SerialsHashTaken(bytes32 serialsHash);

    /// @notice A new user right may only start on an Active asset.
    /// @param assetId The asset.
    /// @param status Its status.
    error AssetNotActive(uint256 assetId, AssetStatus status);

    /// @notice The asset is retired, which is terminal.
    /// @param assetId The asset.
    error AssetAlreadyRetired(uint256 assetId);

    /// @notice The operation needs the asset to have no live user right.
    /// @param assetId The asset.
    /// @param user The live user.
    /// @param expires When the user right ends.
    error UserRightLive(uint256 assetId, address user, uint64 expires);

    /// @notice A non-zero user was given an expiry that is not in the future.
    /// @param expires The expiry given.
    /// @param nowSeconds The current block timestamp.
    error UserExpiryNotInFuture(uint64 expires, uint256 nowSeconds);

    /// @notice Clearing the user (`user == address(0)`) takes `expires == 0`.
    /// @param expires The expiry given.
    error ExpiryWithoutUser(uint64 expires);

    /// @notice `setUser` would store exactly what is stored already.
    /// @param assetId The asset.
    /// @param user The user given.
    /// @param expires The expiry given.
    error UserUnchanged(uint256 assetId, address user, uint64 expires);

    /// @notice `setStatus` would set the status the asset already has.
    /// @param assetId The asset.
    /// @param status The status given.
    error StatusUnchanged(uint256 assetId, AssetStatus status);

    /// @notice `updateSpec` was given the spec the asset already has.
    /// @param assetId The asset.
    error SpecUnchanged(uint256 assetId);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────────

    /// @notice An asset's status changed (ERC-4906 `MetadataUpdate` is emitted as well).
    /// @param assetId The asset.
    /// @param previousStatus The status before.
    /// @param newStatus The status now.
    event StatusChanged(uint256 indexed assetId, AssetStatus previousStatus, AssetStatus newStatus);

    /// @notice An asset's spec was replaced by the registrar (ERC-4906 `MetadataUpdate` is emitted as well).
    /// @param assetId The asset.
    /// @param previousSerialsHash The serials hash before (released when it differs from the new one).
    /// @param newSerialsHash The serials hash now.
    event SpecUpdated(uint256 indexed assetId, bytes32 indexed previousSerialsHash, bytes32 indexed newSerialsHash);

    /// @notice An asset was burned and its serials hash released (the ERC-721 `Transfer` to zero is emitted too).
    /// @param assetId The asset.
    /// @param serialsHash The hash released: the same machine may be registered again.
    event AssetBurned(uint256 indexed assetId, bytes32 indexed serialsHash);

    // ─── Roles ───────────────────────────────────────────────────────────────────────────────────

    /// @notice Role that mints assets, replaces specs and sets statuses (the operator's attestation key).
    /// @return The role id, `keccak256("REGISTRAR_ROLE")`.
    // solhint-disable-next-line func-name-mixedcase
    function REGISTRAR_ROLE() external view returns (bytes32);

    /// @notice Role that pauses and unpauses minting.
    /// @return The role id, `keccak256("PAUSER_ROLE")`.
    // solhint-disable-next-line func-name-mixedcase
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice Role that sets and clears ERC-4907 user rights: the settlement escrow and nothing else.
    /// @return The role id, `keccak256("LEASE_MANAGER_ROLE")`.
    // solhint-disable-next-line func-name-mixedcase
    function LEASE_MANAGER_ROLE() external view returns (bytes32);

    // ─── Registration and lifecycle ─────────────────────────────────────────────────────────────

    /// @notice Registers a GPU server: mints a new asset with `spec` to `to`. Registrar role only.
    /// @dev Reverts `EnforcedPause` while paused; `ERC721InvalidReceiver(address(0))` for `to == 0`; the
    /// spec errors above for bad fields; `SerialsHashTaken` when an existing asset has the same serials hash.
    /// A safe mint: when `to` has code, `onERC721Received(msg.sender, address(0), assetId, "")` is called and
    /// must return its selector, otherwise the mint reverts `ERC721InvalidReceiver(to)` (a receiver's own
    /// revert bubbles up) and nothing is minted, so a mistyped contract address cannot strand the asset. The
    /// hook runs last, after every write and the `Transfer` event: a receiver calling back sees the finished
    /// asset; a re-entered `mint` needs the registrar role and meets the first asset's serials as taken.
    /// A vault receives its asset through the factory's `transferFrom`, never by a mint to it.
    /// @param to First owner of the asset.
    /// @param spec The server's specification.
    /// @return assetId The new token id (sequential, starting at 1).
    function mint(address to, GpuSpec calldata spec) external returns (uint256 assetId);

    /// @notice Replaces the spec of an asset (hardware swap, relocation, registration error). Registrar role
    /// only; the asset must not be retired and must have no live user right (a running lease was priced on
    /// the spec and is metered against it). A changed serials hash must be unused; the old one is released.
    /// @param assetId The asset.
    /// @param spec The new specification, validated as at mint.
    function updateSpec(uint256 assetId, GpuSpec calldata spec) external;

    /// @notice Sets the status of an asset. Registrar role only.
    /// @dev Allowed: Active <-> Maintenance (also with a live user: the lease continues, is still metered,
    /// and the escrow's SLA credit covers downtime); Active/Maintenance -> Retired only with no live user.
    /// Retired is terminal (`AssetAlreadyRetired`). Setting the current status reverts `StatusUnchanged`.
    /// @param assetId The asset.
    /// @param status The new status.
    function setStatus(uint256 assetId, AssetStatus status) external;

    /// @notice Burns an asset and releases its serials hash. Owner or approved operator only; reverts
    /// `UserRightLive` while a user right is live. Works while paused.
    /// @param assetId The asset.
    function burn(uint256 assetId) external;

    /// @notice Stops minting. Transfers, user rights, their expiry, status changes and burns keep working.
    /// Pauser role only.
    function pause() external;

    /// @notice Resumes minting. Pauser role only.
    function unpause() external;

    // ─── Views ───────────────────────────────────────────────────────────────────────────────────

    /// @notice The specification of an asset. Reverts `ERC721NonexistentToken` for unknown ids.
    /// @param assetId The asset.
    /// @return The spec as given at mint (or at the last `updateSpec`).
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

    /// @notice Whether an existing asset was registered with these hardware serials.
    /// @param serialsHash The hash (canonical form in docs/nft.md).
    /// @return True when taken (a mint with it would revert `SerialsHashTaken`).
    function isSerialsHashTaken(bytes32 serialsHash) external view returns (bool);

    /// @notice The id the most recent mint returned (0 before the first). Ids are never reused.
    /// @return The last asset id.
    function lastAssetId() external view returns (uint256);
}
