// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC721Receiver } from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import { IGpuAssetNFT } from "../interfaces/IGpuAssetNFT.sol";

/// @title MockERC721Receiver
/// @notice Test-only ERC-721 receiver with a configurable answer, used to pin GpuAssetNFT's safe mint:
/// accept, answer a wrong selector, revert with a custom error, or call back into the NFT from the hook.
/// @dev Warning: test-only. Never deploy to any network.
contract MockERC721Receiver is IERC721Receiver {
    /// @notice What `onERC721Received` does.
    enum Behaviour {
        Accept,
        WrongSelector,
        RevertWithError,
        ForwardFromHook,
        MintFromHook
    }

    /// @notice The custom error raised in `RevertWithError` mode.
    /// @param tokenId The token the hook was called for.
    error ReceiverRefused(uint256 tokenId);

    /// @notice One hook call, as received.
    /// @param operator The operator argument.
    /// @param from The from argument.
    /// @param tokenId The token.
    /// @param data The data argument.
    /// @param ownerSeen `ownerOf(tokenId)` read inside the hook.
    /// @param gpuCountSeen `specOf(tokenId).gpuCount` read inside the hook.
    event HookCalled(
        address operator,
        address from,
        uint256 tokenId,
        bytes data,
        address ownerSeen,
        uint16 gpuCountSeen
    );

    IGpuAssetNFT public immutable nft;
    Behaviour public behaviour;
    /// @notice Where `ForwardFromHook` sends the token.
    address public forwardTo;

    /// @param nft_ The NFT whose hook calls this mock reads back.
    constructor(IGpuAssetNFT nft_) {
        nft = nft_;
    }

    /// @notice Sets the hook's behaviour.
    /// @param behaviour_ The behaviour.
    /// @param forwardTo_ The recipient for `ForwardFromHook`.
    function configure(Behaviour behaviour_, address forwardTo_) external {
        behaviour = behaviour_;
        forwardTo = forwardTo_;
    }

    /// @inheritdoc IERC721Receiver
    function onERC721Received(
        address operator,
        address from,
        uint256 tokenId,
        bytes calldata data
    ) external returns (bytes4) {
        Behaviour mode = behaviour;
        if (mode == Behaviour.RevertWithError) revert ReceiverRefused(tokenId);
        if (msg.sender == address(nft)) {
            emit HookCalled(operator, from, tokenId, data, nft.ownerOf(tokenId), nft.specOf(tokenId).gpuCount);
            if (mode == Behaviour.ForwardFromHook) nft.transferFrom(address(this), forwardTo, tokenId);
            if (mode == Behaviour.MintFromHook) nft.mint(address(this), nft.specOf(tokenId));
        }
        if (mode == Behaviour.WrongSelector) return bytes4(0xdeadbeef);
        return IERC721Receiver.onERC721Received.selector;
    }
}
