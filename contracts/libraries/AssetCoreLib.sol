// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AssetStatus } from "../types/GpuAssetTypes.sol";

/// @notice Slot 0 of a GpuAssetNFT asset record, packed by hand into one word: the owner and what
/// `meteringLimits` returns.
/// @dev Bits 0-159 owner, 160-191 vramMiBPerGpu, 192-207 gpuCount, 208-223 tdpWattsPerGpu, 224-231 status,
/// 232-255 zero. A whole word rather than a struct: mint writes it with one plain SSTORE and every field
/// is read with a shift and a cast, without the masking code a packed storage struct compiles to (the
/// safe-mint check fits in mint's 150,000-gas target with this, not without; bench `nft.mint`).
type AssetCore is uint256;

/// @title AssetCoreLib — packing of an asset's owner, GPU numbers and status into one word
/// @notice Pure functions over `AssetCore`; `pack` followed by any getter returns what was packed.
library AssetCoreLib {
    uint256 private constant _OWNER_MASK = type(uint160).max;
    uint256 private constant _STATUS_SHIFT = 224;

    /// @notice Packs the five fields into one word.
    /// @param ownerAddress The asset's owner (zero: the asset does not exist).
    /// @param vramMiB Memory per GPU in MiB.
    /// @param gpus Number of GPUs.
    /// @param tdpWatts TDP per GPU in watts.
    /// @param assetStatus The asset's status.
    /// @return The packed word.
    function pack(
        address ownerAddress,
        uint32 vramMiB,
        uint16 gpus,
        uint16 tdpWatts,
        AssetStatus assetStatus
    ) internal pure returns (AssetCore) {
        return
            AssetCore.wrap(
                uint256(uint160(ownerAddress)) |
                    (uint256(vramMiB) << 160) |
                    (uint256(gpus) << 192) |
                    (uint256(tdpWatts) << 208) |
                    (uint256(assetStatus) << _STATUS_SHIFT)
            );
    }

    /// @notice The owner (zero when the asset does not exist).
    /// @param core The packed word.
    /// @return The owner.
    function owner(AssetCore core) internal pure returns (address) {
        return address(uint160(AssetCore.unwrap(core)));
    }

    /// @notice Memory per GPU in MiB.
    /// @param core The packed word.
    /// @return The VRAM per GPU.
    function vramMiBPerGpu(AssetCore core) internal pure returns (uint32) {
        return uint32(AssetCore.unwrap(core) >> 160);
    }

    /// @notice Number of GPUs.
    /// @param core The packed word.
    /// @return The GPU count.
    function gpuCount(AssetCore core) internal pure returns (uint16) {
        return uint16(AssetCore.unwrap(core) >> 192);
    }

    /// @notice TDP per GPU in watts.
    /// @param core The packed word.
    /// @return The TDP per GPU.
    function tdpWattsPerGpu(AssetCore core) internal pure returns (uint16) {
        return uint16(AssetCore.unwrap(core) >> 208);
    }

    /// @notice The status.
    /// @param core The packed word.
    /// @return The status.
    function status(AssetCore core) internal pure returns (AssetStatus) {
        return AssetStatus(uint8(AssetCore.unwrap(core) >> _STATUS_SHIFT));
    }

    /// @notice The same word with another owner.
    /// @param core The packed word.
    /// @param newOwner The owner to write.
    /// @return The new word.
    function withOwner(AssetCore core, address newOwner) internal pure returns (AssetCore) {
        return AssetCore.wrap((AssetCore.unwrap(core) & ~_OWNER_MASK) | uint256(uint160(newOwner)));
    }

    /// @notice The same word with another status.
    /// @param core The packed word.
    /// @param newStatus The status to write.
    /// @return The new word.
    function withStatus(AssetCore core, AssetStatus newStatus) internal pure returns (AssetCore) {
        return
            AssetCore.wrap(
                (AssetCore.unwrap(core) & ~(uint256(type(uint8).max) << _STATUS_SHIFT)) |
                    (uint256(newStatus) << _STATUS_SHIFT)
            );
    }
}
