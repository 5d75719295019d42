// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC721 } from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import { ERC721Utils } from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import { IERC721 } from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import { IERC165 } from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { ShortString, ShortStrings } from "@openzeppelin/contracts/utils/ShortStrings.sol";
import { IERC4907 } from "./interfaces/IERC4907.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import { AssetStatus, GpuSpec } from "./types/GpuAssetTypes.sol";
import { GpuAssetMetadata } from "./libraries/GpuAssetMetadata.sol";
import { AssetCore, AssetCoreLib } from "./libraries/AssetCoreLib.sol";

/// @title GpuAssetNFT — the GPU-lease NFT
/// @notice ERC-721 of GPU servers with an on-chain spec, a status, an ERC-4907 user right that only the
/// lease manager sets and that survives transfers, ERC-4906 metadata events and on-chain JSON metadata with an SVG image.
/// @dev Storage is laid out for the two hot paths. Ownership lives in the asset record next to the
/// numbers the oracle reads, so `ownerOf`, `meteringLimits` and the existence check are one slot, and a
/// mint writes five new slots (record, serials hash, datacenter, serials index, recipient balance).
/// OpenZeppelin's `_ownerOf`, `_update` and `balanceOf` are overridden to use that record; approvals,
/// safe transfers and authorization checks are OpenZeppelin's unchanged.
contract GpuAssetNFT is IGpuAssetNFT, ERC721, AccessControl, Pausable {
    using ShortStrings for ShortString;
    using AssetCoreLib for AssetCore;

    /// @dev Everything stored per asset. The GPU model is stored in `_gpuModelBySerials` instead: the
    /// serials index needs a non-zero value per taken hash anyway, and a model is never empty.
    struct AssetRecord {
        // slot 0: ownership and what `meteringLimits` returns (29 of 32 bytes, packed by AssetCoreLib)
        AssetCore core;
        // slot 1: ERC-4907 user right (20 + 8 = 28 bytes)
        address user;
        uint64 userExpires;
        // slot 2
        bytes32 serialsHash;
        // slot 3: at most 31 bytes, OpenZeppelin ShortString encoding
        ShortString datacenter;
    }

    /// @inheritdoc IGpuAssetNFT
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @inheritdoc IGpuAssetNFT
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IGpuAssetNFT
    bytes32 public constant LEASE_MANAGER_ROLE = keccak256("LEASE_MANAGER_ROLE");

    /// @dev ERC-4906 interface id, as the standard defines it (it declares no functions of its own).
    bytes4 private constant _ERC4906_INTERFACE_ID = 0x49064906;

    /// @dev The id the next mint gets. Declared first so that it shares a slot with Pausable's `_paused`
    /// (a mint reads both at once), and set to 1 in the constructor so that no mint pays for a zero slot.
    uint64 private _nextAssetId;

    mapping(uint256 assetId => AssetRecord) private _assets;

    /// @dev Number of assets held per account (OpenZeppelin's private balances are not used).
    mapping(address holder => uint256) private _holdings;

    /// @dev Serials index: non-zero (the asset's GPU model) exactly when an existing asset has the hash.
    mapping(bytes32 serialsHash => ShortString gpuModel) private _gpuModelBySerials;

    /// @param admin Receives DEFAULT_ADMIN_ROLE only; it grants REGISTRAR_ROLE, PAUSER_ROLE and
    /// LEASE_MANAGER_ROLE.
    constructor(address admin) ERC721("GPU Asset", "GPUA") {
        if (admin == address(0)) revert ZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _nextAssetId = 1;
    }

    // ─── Registration and lifecycle ─────────────────────────────────────────────────────────────

    /// @inheritdoc IGpuAssetNFT
    function mint(
        address to,
        GpuSpec calldata spec
    ) external onlyRole(REGISTRAR_ROLE) whenNotPaused returns (uint256 assetId) {
        // Checks
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        (ShortString gpuModel, ShortString datacenter) = _validateSpec(spec);
        if (_isTaken(spec.serialsHash)) revert SerialsHashTaken(spec.serialsHash);

        // Effects
        assetId = _nextAssetId;
        ++_nextAssetId;
        AssetRecord storage record = _assets[assetId];
        // One whole-word write of a fresh slot (no read first).
        record.core = AssetCoreLib.pack(to, spec.vramMiBPerGpu, spec.gpuCount, spec.tdpWattsPerGpu, AssetStatus.Active);
        record.serialsHash = spec.serialsHash;
        record.datacenter = datacenter;
        _gpuModelBySerials[spec.serialsHash] = gpuModel;
        unchecked {
            ++_holdings[to];
        }
        // The mint's one event (a second one would cost 1,500 gas per mint; the spec is in `specOf`).
        emit Transfer(address(0), to, assetId);

        // Interactions
        // The safe-mint acceptance check, last: every write above is done, so a receiver that calls back
        // (transfers, approves, opens a lease, reads the spec) sees a finished asset, and nothing of this
        // call runs after it. A re-entered `mint` needs the registrar role like any other.
        ERC721Utils.checkOnERC721Received(msg.sender, address(0), to, assetId, "");
    }

    /// @inheritdoc IGpuAssetNFT
    function updateSpec(uint256 assetId, GpuSpec calldata spec) external onlyRole(REGISTRAR_ROLE) {
        // Checks
        AssetRecord storage record = _existing(assetId);
        if (record.core.status() == AssetStatus.Retired) revert AssetAlreadyRetired(assetId);
        _requireNoLiveUser(assetId, record);
        (ShortString gpuModel, ShortString datacenter) = _validateSpec(spec);
        bytes32 previousSerialsHash = record.serialsHash;
        bool sameSerials = spec.serialsHash == previousSerialsHash;
        if (!sameSerials && _isTaken(spec.serialsHash)) revert SerialsHashTaken(spec.serialsHash);
        if (
            sameSerials &&
            ShortString.unwrap(_gpuModelBySerials[previousSerialsHash]) == ShortString.unwrap(gpuModel) &&
            ShortString.unwrap(record.datacenter) == ShortString.unwrap(datacenter) &&
            record.core.vramMiBPerGpu() == spec.vramMiBPerGpu &&
            record.core.gpuCount() == spec.gpuCount &&
            record.core.tdpWattsPerGpu() == spec.tdpWattsPerGpu
        ) revert SpecUnchanged(assetId);

        // Effects
        if (!sameSerials) {
            _gpuModelBySerials[previousSerialsHash] = ShortString.wrap(0);
            record.serialsHash = spec.serialsHash;
        }
        _gpuModelBySerials[spec.serialsHash] = gpuModel;
        AssetCore core = record.core;
        record.core = AssetCoreLib.pack(
            core.owner(),
            spec.vramMiBPerGpu,
            spec.gpuCount,
            spec.tdpWattsPerGpu,
            core.status()
        );
        record.datacenter = datacenter;
        emit SpecUpdated(assetId, previousSerialsHash, spec.serialsHash);
        emit MetadataUpdate(assetId);
    }

    /// @inheritdoc IGpuAssetNFT
    function setStatus(uint256 assetId, AssetStatus status) external onlyRole(REGISTRAR_ROLE) {
        // Checks
        AssetRecord storage record = _existing(assetId);
        AssetStatus previousStatus = record.core.status();
        if (previousStatus == AssetStatus.Retired) revert AssetAlreadyRetired(assetId);
        if (status == previousStatus) revert StatusUnchanged(assetId, status);
        if (status == AssetStatus.Retired) _requireNoLiveUser(assetId, record);

        // Effects
        record.core = record.core.withStatus(status);
        emit StatusChanged(assetId, previousStatus, status);
        emit MetadataUpdate(assetId);
    }

    /// @inheritdoc IGpuAssetNFT
    function burn(uint256 assetId) external {
        // Checks
        AssetRecord storage record = _existing(assetId);
        _checkAuthorized(record.core.owner(), msg.sender, assetId);
        _requireNoLiveUser(assetId, record);

        // Effects
        bytes32 serialsHash = record.serialsHash;
        address expiredUser = record.user;
        _update(address(0), assetId, address(0)); // clears the approval and the owner, emits Transfer
        delete _assets[assetId];
        _gpuModelBySerials[serialsHash] = ShortString.wrap(0);
        // An expired user right is still stored until cleared: announce that it is gone.
        if (expiredUser != address(0)) emit UpdateUser(assetId, address(0), 0);
        emit AssetBurned(assetId, serialsHash);
    }

    /// @inheritdoc IGpuAssetNFT
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IGpuAssetNFT
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ─── ERC-4907 ────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IERC4907
    /// @dev Lease manager only (owner, approved operators and everyone else revert
    /// `AccessControlUnauthorizedAccount`). The user right is live while `block.timestamp < expires`.
    /// A non-zero `user` needs `expires > block.timestamp`; when the asset has no live user right (a new
    /// lease) it must also be Active, while a live right may be extended, shortened or handed over in any
    /// non-retired status. `setUser(id, address(0), 0)` clears. Storing what is stored reverts
    /// `UserUnchanged`. Not paused by `pause()`: ending and extending leases never stops.
    function setUser(uint256 tokenId, address user, uint64 expires) external onlyRole(LEASE_MANAGER_ROLE) {
        // Checks
        AssetRecord storage record = _existing(tokenId);
        if (user == address(0)) {
            if (expires != 0) revert ExpiryWithoutUser(expires);
        } else {
            if (!_isLive(expires)) revert UserExpiryNotInFuture(expires, block.timestamp);
            if (!_isUserLive(record) && record.core.status() != AssetStatus.Active) {
                revert AssetNotActive(tokenId, record.core.status());
            }
        }
        if (record.user == user && record.userExpires == expires) revert UserUnchanged(tokenId, user, expires);

        // Effects
        record.user = user;
        record.userExpires = expires;
        emit UpdateUser(tokenId, user, expires);
    }

    /// @inheritdoc IERC4907
    /// @dev Returns the stored user while `block.timestamp < userExpires(tokenId)`, and the zero address
    /// from `block.timestamp == userExpires(tokenId)` on (expiry is exclusive). Transfers keep the user.
    /// Reverts `ERC721NonexistentToken` for unknown ids.
    function userOf(uint256 tokenId) external view returns (address) {
        AssetRecord storage record = _existing(tokenId);
        return _isUserLive(record) ? record.user : address(0);
    }

    /// @inheritdoc IERC4907
    /// @dev The stored expiry, also after it has passed (use `userOf` for liveness); zero when no user was
    /// ever set or it was cleared. Reverts `ERC721NonexistentToken` for unknown ids.
    function userExpires(uint256 tokenId) external view returns (uint256) {
        return _existing(tokenId).userExpires;
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IGpuAssetNFT
    function specOf(uint256 assetId) public view returns (GpuSpec memory) {
        AssetRecord storage record = _existing(assetId);
        return
            GpuSpec({
                gpuModel: _gpuModelBySerials[record.serialsHash].toString(),
                datacenter: record.datacenter.toString(),
                serialsHash: record.serialsHash,
                vramMiBPerGpu: record.core.vramMiBPerGpu(),
                gpuCount: record.core.gpuCount(),
                tdpWattsPerGpu: record.core.tdpWattsPerGpu()
            });
    }

    /// @inheritdoc IGpuAssetNFT
    function statusOf(uint256 assetId) external view returns (AssetStatus) {
        return _existing(assetId).core.status();
    }

    /// @inheritdoc IGpuAssetNFT
    function meteringLimits(
        uint256 assetId
    ) external view returns (uint16 gpuCount, uint16 tdpWattsPerGpu, AssetStatus status) {
        // One SLOAD: owner, counts and status share slot 0, copied to memory once.
        AssetCore core = _assets[assetId].core;
        if (core.owner() == address(0)) revert ERC721NonexistentToken(assetId);
        return (core.gpuCount(), core.tdpWattsPerGpu(), core.status());
    }

    /// @inheritdoc IGpuAssetNFT
    function isLeasable(uint256 assetId) external view returns (bool) {
        AssetRecord storage record = _assets[assetId];
        return record.core.owner() != address(0) && record.core.status() == AssetStatus.Active && !_isUserLive(record);
    }

    /// @inheritdoc IGpuAssetNFT
    function isSerialsHashTaken(bytes32 serialsHash) external view returns (bool) {
        return _isTaken(serialsHash);
    }

    /// @inheritdoc IGpuAssetNFT
    function lastAssetId() external view returns (uint256) {
        return _nextAssetId - 1;
    }

    /// @notice On-chain JSON metadata: `data:application/json;base64,...` with the spec, the status and the
    /// server's card as an SVG `image`, all rendered by this view (nothing of it is stored at mint).
    /// @param tokenId The asset. Reverts `ERC721NonexistentToken` for unknown ids.
    /// @return The data URI.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        return GpuAssetMetadata.tokenURI(tokenId, specOf(tokenId), _assets[tokenId].core.status());
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-4907, ERC-4906, AccessControl and IGpuAssetNFT.
    /// @param interfaceId The id asked about.
    /// @return True when supported.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl, IERC165) returns (bool) {
        return
            interfaceId == type(IERC4907).interfaceId ||
            interfaceId == _ERC4906_INTERFACE_ID ||
            interfaceId == type(IGpuAssetNFT).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    /// @notice Number of assets `owner` holds. Reverts `ERC721InvalidOwner` for the zero address.
    /// @param owner The account.
    /// @return The count.
    function balanceOf(address owner) public view override(ERC721, IERC721) returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _holdings[owner];
    }

    // ─── ERC-721 storage overrides ─────────────────────────────────────────────────────────────

    /// @dev The owner lives in the asset record (slot 0).
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        return _assets[tokenId].core.owner();
    }

    /// @dev OpenZeppelin's `_update` on this contract's storage: optional authorization, approval cleared
    /// on transfer and burn, holdings moved, owner written, `Transfer` emitted. The user right and the
    /// rest of the record are deliberately untouched: a lease survives a sale.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        AssetRecord storage record = _assets[tokenId];
        from = record.core.owner();
        if (auth != address(0)) _checkAuthorized(from, auth, tokenId);
        if (from != address(0)) {
            _approve(address(0), tokenId, address(0), false);
            unchecked {
                --_holdings[from];
            }
        }
        if (to != address(0)) {
            unchecked {
                ++_holdings[to];
            }
        }
        record.core = record.core.withOwner(to);
        emit Transfer(from, to, tokenId);
    }

    /// @dev Kept consistent with `balanceOf` for completeness; nothing in this contract calls it.
    function _increaseBalance(address account, uint128 value) internal override {
        unchecked {
            _holdings[account] += value;
        }
    }

    // ─── Internal helpers ───────────────────────────────────────────────────────────────────────

    /// @dev The record of an existing asset; reverts `ERC721NonexistentToken` otherwise.
    function _existing(uint256 assetId) private view returns (AssetRecord storage record) {
        record = _assets[assetId];
        if (record.core.owner() == address(0)) revert ERC721NonexistentToken(assetId);
    }

    /// @dev The user-right boundary, in one place: live while `block.timestamp < expires` (exclusive).
    function _isLive(uint64 expires) private view returns (bool) {
        return block.timestamp < expires;
    }

    /// @dev A cleared right has expiry 0, so it is never live.
    function _isUserLive(AssetRecord storage record) private view returns (bool) {
        return _isLive(record.userExpires);
    }

    function _requireNoLiveUser(uint256 assetId, AssetRecord storage record) private view {
        if (_isUserLive(record)) revert UserRightLive(assetId, record.user, record.userExpires);
    }

    function _isTaken(bytes32 serialsHash) private view returns (bool) {
        return ShortString.unwrap(_gpuModelBySerials[serialsHash]) != bytes32(0);
    }

    /// @dev Validates every field and returns the two strings in their stored form.
    function _validateSpec(GpuSpec calldata spec) private pure returns (ShortString gpuModel, ShortString datacenter) {
        uint256 modelLength = bytes(spec.gpuModel).length;
        if (modelLength == 0) revert EmptyGpuModel();
        if (modelLength > 31) revert GpuModelTooLong(spec.gpuModel);
        if (bytes(spec.datacenter).length > 31) revert DatacenterTooLong(spec.datacenter);
        if (spec.gpuCount == 0) revert InvalidGpuCount(spec.gpuCount);
        if (spec.tdpWattsPerGpu == 0) revert InvalidTdpWatts(spec.tdpWattsPerGpu);
        if (spec.vramMiBPerGpu == 0) revert InvalidVram(spec.vramMiBPerGpu);
        if (spec.serialsHash == bytes32(0)) revert ZeroSerialsHash();
        gpuModel = _toShortString(spec.gpuModel);
        datacenter = _toShortString(spec.datacenter);
    }

    /// @dev OpenZeppelin's `ShortString` encoding (the bytes left-aligned, the length in the last byte) read
    /// straight from calldata, without the memory copy of `ShortStrings.toShortString`. The caller has
    /// checked that `value` is at most 31 bytes long.
    function _toShortString(string calldata value) private pure returns (ShortString) {
        return ShortString.wrap(bytes32(bytes(value)) | bytes32(bytes(value).length));
    }
}
