// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { GpuAssetNFTHandler } from "../handlers/GpuAssetNFTHandler.sol";

/// @notice N1 and the NFT's own bookkeeping (its ownership storage is custom, not OpenZeppelin's):
/// owners, balances, serials index and user rights always match the ghost model.
/// forge-config: default.invariant.depth = 60
/// forge-config: deep.invariant.depth = 120
contract GpuAssetNFTInvariantTest is TestBase {
    GpuAssetNFT internal nft;
    GpuAssetNFTHandler internal handler;

    function setUp() public {
        nft = new GpuAssetNFT(address(this));
        address[] memory actors = new address[](4);
        for (uint256 i = 0; i < actors.length; i++) actors[i] = address(uint160(0xA000 + i));
        handler = new GpuAssetNFTHandler(nft, actors);
        nft.grantRole(nft.REGISTRAR_ROLE(), address(handler));
        nft.grantRole(nft.LEASE_MANAGER_ROLE(), address(handler));
        targetContract(address(handler));
    }

    /// @notice All of the below after every call, in one campaign.
    function invariant_nftBookkeeping() public view {
        _checkOwnersMatchGhost();
        _checkBalancesAddUp();
        _checkUserRightOnlyFromLeaseManager();
    }

    /// @notice Every live asset is owned by whom the ghost says; burned ones do not exist.
    function _checkOwnersMatchGhost() internal view {
        for (uint256 i = 0; i < handler.idCount(); i++) {
            uint256 assetId = handler.ids(i);
            if (handler.ghostBurned(assetId)) {
                vm.assertFalse(nft.isSerialsHashTaken(handler.ghostSerials(assetId)), "burned serials released");
                continue;
            }
            vm.assertEq(nft.ownerOf(assetId), handler.ghostOwner(assetId), "ownerOf");
            vm.assertTrue(nft.isSerialsHashTaken(handler.ghostSerials(assetId)), "live serials taken");
        }
    }

    /// @notice Balances add up to the live assets, per actor and in total.
    function _checkBalancesAddUp() internal view {
        uint256 sum;
        for (uint256 a = 0; a < handler.actorCount(); a++) {
            address actor = handler.actors(a);
            uint256 expected;
            for (uint256 i = 0; i < handler.idCount(); i++) {
                if (handler.ghostOwner(handler.ids(i)) == actor) expected++;
            }
            vm.assertEq(nft.balanceOf(actor), expected, "balanceOf");
            sum += expected;
        }
        vm.assertEq(sum, handler.liveCount(), "sum of balances = live assets");
    }

    /// @notice N1: the user is exactly what the lease manager last set, live strictly before expiry,
    /// whatever transfers happened; owners and operators never change it.
    function _checkUserRightOnlyFromLeaseManager() internal view {
        vm.assertEq(handler.unauthorizedUserChanges(), 0, "owner/operator changed a user right");
        for (uint256 i = 0; i < handler.idCount(); i++) {
            uint256 assetId = handler.ids(i);
            if (handler.ghostBurned(assetId)) continue;
            address expected =
                block.timestamp < handler.ghostExpires(assetId) ? handler.ghostUser(assetId) : address(0);
            vm.assertEq(nft.userOf(assetId), expected, "userOf");
        }
    }
}
