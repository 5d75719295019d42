// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CheatBase } from "../utils/TestBase.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";

/// @notice Drives GpuAssetNFT through random mints, transfers (direct and approved), burns, user-right
/// changes by the lease manager, user-right attempts by owners and operators, and time. Keeps a ghost
/// copy of who owns what and who uses what.
/// @dev This contract holds REGISTRAR_ROLE and LEASE_MANAGER_ROLE; actors act through `vm.prank`.
contract GpuAssetNFTHandler is CheatBase {
    GpuAssetNFT public immutable nft;
    address[] public actors;

    uint256[] public ids;
    mapping(uint256 assetId => address) public ghostOwner;
    mapping(uint256 assetId => address) public ghostUser;
    mapping(uint256 assetId => uint64) public ghostExpires;
    mapping(uint256 assetId => bool) public ghostBurned;
    mapping(uint256 assetId => bytes32) public ghostSerials;
    uint256 public liveCount;
    /// @notice Set when an owner or operator managed to change a user right: must stay zero.
    uint256 public unauthorizedUserChanges;
    uint256 private _serialNonce;

    mapping(bytes32 => uint256) public calls;

    constructor(GpuAssetNFT nft_, address[] memory actors_) {
        nft = nft_;
        actors = actors_;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _id(uint256 seed) internal view returns (uint256 assetId, bool ok) {
        if (ids.length == 0) return (0, false);
        assetId = ids[seed % ids.length];
        ok = !ghostBurned[assetId];
    }

    function mint(uint256 toSeed, uint16 gpuCount, uint16 tdp) external {
        calls["mint"]++;
        address to = _actor(toSeed);
        bytes32 serials = keccak256(abi.encode("serials", ++_serialNonce));
        uint256 assetId = nft.mint(
            to,
            GpuSpec({
                gpuModel: "NVIDIA H100 80GB HBM3",
                datacenter: "eu-west-fra2",
                serialsHash: serials,
                vramMiBPerGpu: 81_559,
                gpuCount: uint16(bound(gpuCount, 1, 64)),
                tdpWattsPerGpu: uint16(bound(tdp, 1, 1000))
            })
        );
        ids.push(assetId);
        ghostOwner[assetId] = to;
        ghostSerials[assetId] = serials;
        liveCount++;
    }

    function transfer(uint256 idSeed, uint256 toSeed) external {
        (uint256 assetId, bool ok) = _id(idSeed);
        if (!ok) return;
        calls["transfer"]++;
        address from = ghostOwner[assetId];
        address to = _actor(toSeed);
        vm.prank(from);
        nft.transferFrom(from, to, assetId);
        ghostOwner[assetId] = to;
    }

    function approvedTransfer(uint256 idSeed, uint256 operatorSeed, uint256 toSeed) external {
        (uint256 assetId, bool ok) = _id(idSeed);
        if (!ok) return;
        calls["approvedTransfer"]++;
        address from = ghostOwner[assetId];
        address operator = _actor(operatorSeed);
        address to = _actor(toSeed);
        vm.prank(from);
        nft.setApprovalForAll(operator, true);
        vm.prank(operator);
        nft.transferFrom(from, to, assetId);
        vm.prank(from);
        nft.setApprovalForAll(operator, false);
        ghostOwner[assetId] = to;
    }

    /// @notice The lease manager gives the asset a user until now + duration.
    function setUser(uint256 idSeed, uint256 userSeed, uint256 durationSeconds) external {
        (uint256 assetId, bool ok) = _id(idSeed);
        if (!ok) return;
        calls["setUser"]++;
        address user = _actor(userSeed);
        uint64 expires = uint64(block.timestamp + bound(durationSeconds, 1, 30 days));
        nft.setUser(assetId, user, expires);
        ghostUser[assetId] = user;
        ghostExpires[assetId] = expires;
    }

    function clearUser(uint256 idSeed) external {
        (uint256 assetId, bool ok) = _id(idSeed);
        if (!ok) return;
        calls["clearUser"]++;
        nft.setUser(assetId, address(0), 0);
        ghostUser[assetId] = address(0);
        ghostExpires[assetId] = 0;
    }

    /// @notice The owner, or an operator it approved, tries to evict or replace the user: must fail.
    function ownerOrOperatorSetsUser(uint256 idSeed, uint256 userSeed, bool viaOperator) external {
        (uint256 assetId, bool ok) = _id(idSeed);
        if (!ok) return;
        calls["ownerOrOperatorSetsUser"]++;
        address owner = ghostOwner[assetId];
        address caller = owner;
        if (viaOperator) {
            caller = _actor((userSeed % actors.length) + 1);
            vm.prank(owner);
            nft.setApprovalForAll(caller, true);
        }
        vm.prank(caller);
        try nft.setUser(assetId, _actor(userSeed), uint64(block.timestamp + 1 days)) {
            unauthorizedUserChanges++;
        } catch {}
        vm.prank(caller);
        try nft.setUser(assetId, address(0), 0) {
            unauthorizedUserChanges++;
        } catch {}
    }

    function burn(uint256 idSeed) external {
        (uint256 assetId, bool ok) = _id(idSeed);
        if (!ok) return;
        calls["burn"]++;
        address owner = ghostOwner[assetId];
        vm.prank(owner);
        nft.burn(assetId); // reverts (and changes nothing) while a user right is live
        ghostBurned[assetId] = true;
        ghostOwner[assetId] = address(0);
        ghostUser[assetId] = address(0);
        ghostExpires[assetId] = 0;
        liveCount--;
    }

    function warp(uint256 secondsAhead) external {
        calls["warp"]++;
        vm.warp(block.timestamp + bound(secondsAhead, 1, 10 days));
    }
}
