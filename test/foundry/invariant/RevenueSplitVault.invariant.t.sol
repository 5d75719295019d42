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

/// @notice V1–V6 of test/foundry/README.md after every random action of the vault campaign (V5 once
/// per run, from its final state). Share amounts are deliberately uneven so that rounding happens.
/// The leases are metered by the real UsageOracle with batches the handler signs (one signer,
/// threshold 1) and proves with Merkle paths it builds itself, and billed by the real escrow.
/// forge-config: default.invariant.depth = 60
/// forge-config: deep.invariant.depth = 120
contract RevenueSplitVaultInvariantTest is TestBase {
    /// @dev The oracle's one signer (threshold 1).
    uint256 internal constant SIGNER_KEY = 0x5eed0f0ac1e;
    uint256 internal constant PRECISION = 1e30;

    GpuAssetNFT internal nft;
    UsageOracle internal oracle;
    SettlementEscrow internal escrow;
    MockUSDC internal usdc;
    MockUSDC internal otherToken;
    RevenueSplitVault internal vault;
    RevenueSplitVaultHandler internal handler;
    uint256 internal supply;

    function setUp() public {
        address operator = address(0x0BE1);
        address arbiter = address(0xA4B1);
        nft = new GpuAssetNFT(address(this));
        address[] memory signers = new address[](1);
        signers[0] = vm.addr(SIGNER_KEY);
        oracle = new UsageOracle(address(this), nft, signers, 1, 300, 1_000);
        escrow = new SettlementEscrow(address(this), nft, oracle, 1 days, 3 days);
        usdc = new MockUSDC();
        otherToken = new MockUSDC();
        nft.grantRole(nft.REGISTRAR_ROLE(), address(this));
        nft.grantRole(nft.LEASE_MANAGER_ROLE(), address(escrow));
        escrow.grantRole(escrow.TOKEN_ADMIN_ROLE(), address(this));
        escrow.grantRole(escrow.ARBITER_ROLE(), arbiter);
        escrow.setTokenAllowed(address(usdc), true);
        escrow.setTokenAllowed(address(otherToken), true);
        // Asset 1 goes into the vault, asset 2 stays loose (V6), assets 3 and 4 are only metered.
        uint256[] memory metered = new uint256[](4);
        for (uint256 i = 0; i < metered.length; i++) {
            metered[i] = nft.mint(
                operator,
                GpuSpec({
                    gpuModel: "NVIDIA H100 80GB HBM3",
                    datacenter: "eu-west-fra2",
                    serialsHash: keccak256(abi.encode("vault-campaign-asset", i)),
                    vramMiBPerGpu: 81_559,
                    gpuCount: 8,
                    tdpWattsPerGpu: 700
                })
            );
        }
        RevenueSplitVaultFactory factory = new RevenueSplitVaultFactory(nft, escrow);

        address[] memory holders = new address[](4);
        uint256[] memory amounts = new uint256[](3);
        address[] memory initial = new address[](3);
        for (uint256 i = 0; i < holders.length; i++) holders[i] = address(uint160(0x5A5E0 + i));
        (initial[0], initial[1], initial[2]) = (holders[0], holders[1], holders[2]);
        (amounts[0], amounts[1], amounts[2]) = (333e18 + 1, 1_000e18, 7); // holders[3] starts with none
        vm.startPrank(operator);
        nft.setApprovalForAll(address(factory), true);
        vault = RevenueSplitVault(factory.createVault(metered[0], address(usdc), address(this), initial, amounts));
        vm.stopPrank();
        supply = vault.totalSupply();
        vault.setLeaseTerms(
            LeaseTerms({
                token: address(usdc),
                reservationPricePerGpuHour: 2_000_003,
                usagePricePerBusyGpuHour: 1_000_001,
                energyPricePerKWh: 150_007,
                minDurationSeconds: 1 hours,
                maxDurationSeconds: 7 days,
                slaAvailabilityBps: 9_000,
                earlyEndAllowed: true
            })
        );
        handler = new RevenueSplitVaultHandler(
            RevenueSplitVaultHandler.Deployment({
                vault: vault,
                oracle: oracle,
                signerKey: SIGNER_KEY,
                otherToken: otherToken,
                looseAsset: metered[1],
                metered: metered,
                operator: operator,
                arbiter: arbiter,
                holders: holders
            })
        );
        // The handler is the loose asset's vault manager once that vault exists; the test contract
        // stays vault A's manager.
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](16);
        actions[0] = handler.report.selector;
        actions[1] = handler.openLease.selector;
        actions[2] = handler.settle.selector;
        actions[3] = handler.close.selector;
        actions[4] = handler.endEarly.selector;
        actions[5] = handler.dispute.selector;
        actions[6] = handler.resolve.selector;
        actions[7] = handler.donate.selector;
        actions[8] = handler.harvest.selector;
        actions[9] = handler.claim.selector;
        actions[10] = handler.transfer.selector;
        actions[11] = handler.capture.selector;
        actions[12] = handler.setLooseTerms.selector;
        actions[13] = handler.createLooseVault.selector;
        actions[14] = handler.harvestLoose.selector;
        actions[15] = handler.warp.selector;
        targetSelector(address(handler), actions);
    }

    /// @notice V1–V3 and the revenue ghost after every call.
    function invariant_vaultAccounting() public view {
        uint256 harvested = vault.totalHarvested();
        uint256 claimed = vault.totalClaimed();
        uint256 accrued;
        uint256 claimableSum;
        for (uint256 i = 0; i < handler.holderCount(); i++) {
            address h = handler.holders(i);
            accrued += vault.accruedScaled(h);
            claimableSum += vault.claimable(h);
            vm.assertEq(vault.balanceOf(h), handler.ghostShares(h), "ghost shares");
        }
        // V1, exact at the scaled level: every harvested unit is claimed, accrued to a holder, or carried.
        vm.assertEq(accrued + vault.undistributedScaled(), (harvested - claimed) * PRECISION, "V1 scaled identity");
        // V1 in base units: claimed + claimable + dust = harvested, dust being the sub-unit remainders.
        vm.assertLe(claimed + claimableSum, harvested, "V1 claimed + claimable <= harvested");
        vm.assertEq(claimed, handler.ghostClaimed(), "V1 claims paid = totalClaimed");
        // V2: the vault can pay everything it owes.
        uint256 balance = usdc.balanceOf(address(vault));
        vm.assertGe(balance, harvested - claimed, "V2 balance covers what is owed");
        // No revenue lost: harvested + waiting in the escrow + not yet harvested in the vault = every
        // charge the escrow credited to the vault + every donation.
        uint256 unharvested = balance - (harvested - claimed);
        vm.assertEq(
            harvested + escrow.withdrawable(address(vault), address(usdc)) + unharvested,
            handler.ghostCredited() + handler.ghostDonated(),
            "V1 every unit of revenue is accounted for"
        );
        vm.assertEq(unharvested, handler.pendingDonations(), "V1 only donations wait in the vault");
        // V3 (checked inside the handler), V6 attempts, and a fixed supply.
        vm.assertEq(handler.ruleBreaks(), 0, handler.lastRuleBreak());
        vm.assertEq(vault.totalSupply(), supply, "supply is fixed");
    }

    /// @notice V4 after every call: each holder has (claimed + accrued + its share of what waits in the
    /// escrow) exactly what it is owed from charges credited while it held shares, up to rounding dust.
    function invariant_perHolderOwed() public view {
        _checkOwed("V4");
    }

    /// @notice V6 after every call: no vault is ever credited in another token than its revenue token,
    /// and everything credited to the loose asset's vault is harvested, waiting in the escrow, or
    /// harvestable.
    function invariant_nothingStranded() public view {
        vm.assertEq(escrow.withdrawable(address(vault), address(otherToken)), 0, "V6 vault A credited another token");
        vm.assertEq(otherToken.balanceOf(address(vault)), 0, "V6 vault A holds another token");
        RevenueSplitVault b = handler.vaultB();
        if (address(b) == address(0)) return;
        address token = handler.vaultBToken();
        address other = token == address(usdc) ? address(otherToken) : address(usdc);
        vm.assertEq(escrow.withdrawable(address(b), other), 0, "V6 vault B credited another token");
        vm.assertEq(
            b.totalHarvested() + escrow.withdrawable(address(b), token),
            handler.ghostCreditedB(),
            "V6 everything credited to vault B is harvested or harvestable"
        );
    }

    /// @notice V5, once per run from its final state: every lease is closed and every dispute resolved,
    /// the rest is harvested, every holder claims everything, the remaining dust is a few base units,
    /// each holder got what it was owed, and one holder gathering all shares redeems the NFT. The loose
    /// asset's vault, if any, hands out everything it was credited.
    function afterInvariant() public {
        handler.finishEverything();
        handler.harvest(0);
        uint256 n = handler.holderCount();
        for (uint256 i = 0; i < n; i++) {
            address h = handler.holders(i);
            if (vault.claimable(h) != 0) handler.claim(i, true);
            vm.assertEq(vault.claimable(h), 0, "V5 claim pays everything claimable");
        }
        vm.assertEq(handler.ruleBreaks(), 0, handler.lastRuleBreak());
        vm.assertEq(escrow.withdrawable(address(vault), address(usdc)), 0, "V5 nothing left in the escrow");
        _checkOwed("V5/V4");
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

        RevenueSplitVault b = handler.vaultB();
        if (address(b) == address(0)) return;
        handler.harvestLoose();
        vm.assertEq(b.totalHarvested(), handler.ghostCreditedB(), "V6 vault B distributed all it was credited");
        address holder = handler.LOOSE_HOLDER();
        uint256 owed = b.claimable(holder);
        if (owed != 0) {
            vm.prank(holder);
            vm.assertEq(b.claim(holder), owed, "V6 vault B's holder claims everything");
        }
        vm.assertLe(b.totalHarvested() - b.totalClaimed(), 1, "V6 vault B keeps no more than dust");
    }

    /// @dev V4 for every holder, in scaled units × supply:
    /// (claimed × P + accrued) × S + escrowPending × P × shares ∈ owedNum × P ± tolerance × P × S,
    /// where owedNum = Σ credit × shares-at-that-moment. Rounding: every claim hands its sub-unit
    /// remainder to all holders through the carry (≤ one unit per claim to anyone, so up to `claims`
    /// units more), and the claimer gives up its own (up to `claimsBy` units less); flooring the index
    /// and the carry still undistributed cost each holder less than one unit more.
    function _checkOwed(string memory label) internal view {
        uint256 claims = handler.ghostClaims();
        for (uint256 i = 0; i < handler.holderCount(); i++) {
            address h = handler.holders(i);
            uint256 actual = handler.projectedTimesSupply(h);
            uint256 owed = handler.ghostOwedNum(h) * PRECISION;
            uint256 unit = PRECISION * supply;
            vm.assertLe(actual, owed + (claims + 1) * unit, string.concat(label, " a holder got more than it is owed"));
            vm.assertGe(
                actual + (claims + handler.ghostClaimsBy(h) + 1) * unit,
                owed,
                string.concat(label, " a holder got less than it is owed")
            );
        }
    }
}
