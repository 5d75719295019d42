// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { RevenueSplitVaultHandler } from "../handlers/RevenueSplitVaultHandler.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { RevenueSplitVault } from "../../../contracts/RevenueSplitVault.sol";
import { RevenueSplitVaultFactory } from "../../../contracts/RevenueSplitVaultFactory.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { LeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";

/// @notice V1–V5 of test/foundry/README.md after every random action of the vault campaign (V5 once
/// per run, from its final state). Share amounts are deliberately uneven so that rounding happens. The
/// leases are metered by the real UsageOracle, with readings the handler signs (one signer, threshold 1).
/// forge-config: default.invariant.depth = 60
/// forge-config: deep.invariant.depth = 120
contract RevenueSplitVaultInvariantTest is TestBase {
    /// @dev The oracle's one signer (threshold 1).
    uint256 internal constant SIGNER_KEY = 0x5eed0f0ac1e;

    GpuAssetNFT internal nft;
    UsageOracle internal oracle;
    SettlementEscrow internal escrow;
    MockUSDC internal usdc;
    RevenueSplitVault internal vault;
    RevenueSplitVaultHandler internal handler;
    uint256 internal supply;

    function setUp() public {
        address operator = address(0x0BE1);
        nft = new GpuAssetNFT(address(this));
        address[] memory signers = new address[](1);
        signers[0] = vm.addr(SIGNER_KEY);
        oracle = new UsageOracle(address(this), nft, signers, 1, 300, 1_000);
        escrow = new SettlementEscrow(address(this), nft, oracle, 1 days, 3 days);
        usdc = new MockUSDC();
        nft.grantRole(nft.REGISTRAR_ROLE(), address(this));
        nft.grantRole(nft.LEASE_MANAGER_ROLE(), address(escrow));
        escrow.grantRole(escrow.TOKEN_ADMIN_ROLE(), address(this));
        escrow.setTokenAllowed(address(usdc), true);
        uint256 assetId = nft.mint(
            operator,
            GpuSpec({
                gpuModel: "NVIDIA H100 80GB HBM3",
                datacenter: "eu-west-fra2",
                serialsHash: keccak256("vault-asset"),
                vramMiBPerGpu: 81_559,
                gpuCount: 8,
                tdpWattsPerGpu: 700
            })
        );
        RevenueSplitVaultFactory factory = new RevenueSplitVaultFactory(nft, escrow);

        address[] memory holders = new address[](4);
        uint256[] memory amounts = new uint256[](3);
        address[] memory initial = new address[](3);
        for (uint256 i = 0; i < holders.length; i++) holders[i] = address(uint160(0x5A5E0 + i));
        (initial[0], initial[1], initial[2]) = (holders[0], holders[1], holders[2]);
        (amounts[0], amounts[1], amounts[2]) = (333e18 + 1, 1_000e18, 7); // holders[3] starts with none
        vm.startPrank(operator);
        nft.approve(address(factory), assetId);
        vault = RevenueSplitVault(factory.createVault(assetId, address(usdc), address(this), initial, amounts));
        vm.stopPrank();
        supply = vault.totalSupply();
        vault.setLeaseTerms(
            LeaseTerms({
                token: address(usdc),
                reservationPricePerGpuHour: 2_000_003,
                usagePricePerBusyGpuHour: 1_000_001,
                minDurationSeconds: 1 hours,
                maxDurationSeconds: 7 days,
                slaAvailabilityBps: 9_000,
                earlyEndAllowed: true
            })
        );
        handler = new RevenueSplitVaultHandler(vault, escrow, nft, oracle, SIGNER_KEY, usdc, assetId, holders);
        targetContract(address(handler));
    }

    /// @notice V1–V4 and the revenue ghost after every call.
    function invariant_vaultAccounting() public view {
        uint256 harvested = vault.totalHarvested();
        uint256 claimed = vault.totalClaimed();
        uint256 precision = vault.PRECISION();
        uint256 accrued;
        uint256 claimableSum;
        for (uint256 i = 0; i < handler.holderCount(); i++) {
            address h = handler.holders(i);
            accrued += vault.accruedScaled(h);
            claimableSum += vault.claimable(h);
        }
        // V1, exact at the scaled level: every harvested unit is claimed, accrued to a holder, or carried.
        vm.assertEq(accrued + vault.undistributedScaled(), (harvested - claimed) * precision, "V1 scaled identity");
        // V1 in base units: claimed + claimable + dust = harvested, dust being the sub-unit remainders.
        vm.assertLe(claimed + claimableSum, harvested, "V1 claimed + claimable <= harvested");
        vm.assertEq(claimed, handler.ghostClaimed(), "V1 claims paid = totalClaimed");
        // V2: the vault can pay everything it owes.
        uint256 balance = usdc.balanceOf(address(vault));
        vm.assertGe(balance, harvested - claimed, "V2 balance covers what is owed");
        // No revenue lost: harvested + waiting in the escrow + not yet harvested in the vault = sent.
        uint256 unharvested = balance - (harvested - claimed);
        vm.assertEq(
            harvested + escrow.withdrawable(address(vault), address(usdc)) + unharvested,
            handler.ghostRevenue(),
            "every unit of revenue is accounted for"
        );
        // V3 (checked inside the handler) and a fixed supply.
        vm.assertEq(handler.ruleBreaks(), 0, handler.lastRuleBreak());
        vm.assertEq(vault.totalSupply(), supply, "supply is fixed");
    }

    /// @notice V5, once per run from its final state: harvest what is left, every holder claims
    /// everything, the remaining dust is a few base units, and one holder gathering all shares redeems
    /// the NFT.
    function afterInvariant() public {
        if (escrow.withdrawable(address(vault), address(usdc)) != 0 || _unharvested() != 0) vault.harvest();
        uint256 n = handler.holderCount();
        for (uint256 i = 0; i < n; i++) {
            address h = handler.holders(i);
            uint256 owed = vault.claimable(h);
            if (owed == 0) continue;
            vm.prank(h);
            try vault.claim(h) returns (uint256 paid) {
                vm.assertEq(paid, owed, "V5 claim pays everything claimable");
            } catch (bytes memory reason) {
                vm.assertTrue(false, string.concat("V5 claim blocked: ", vm.toString(reason)));
            }
        }
        uint256 dust = vault.totalHarvested() - vault.totalClaimed();
        // Each holder leaves less than one unit behind, plus less than one unit of carry per claim
        // since the last harvest.
        vm.assertLe(dust, 2 * n + 1, "V5 dust is bounded");
        address last = handler.holders(0);
        for (uint256 i = 1; i < n; i++) {
            address h = handler.holders(i);
            uint256 shares = vault.balanceOf(h);
            if (shares == 0) continue;
            vm.prank(h);
            vault.transfer(last, shares);
        }
        vm.prank(last);
        vault.redeem(last);
        vm.assertEq(nft.ownerOf(vault.assetId()), last, "V5 the holder of all shares redeems the NFT");
    }

    function _unharvested() internal view returns (uint256) {
        return usdc.balanceOf(address(vault)) - (vault.totalHarvested() - vault.totalClaimed());
    }
}
