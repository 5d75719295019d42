// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { CreditFacilityHandler } from "../handlers/CreditFacilityHandler.sol";
import { CreditFacility } from "../../../contracts/credit/CreditFacility.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { ISettlementEscrow } from "../../../contracts/interfaces/ISettlementEscrow.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";
import { MockVaultEscrow } from "../../../contracts/mocks/MockVaultEscrow.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";
import { Loan, LoanStatus } from "../../../contracts/types/CreditTypes.sol";

/// @notice C1–C7 of test/foundry/README.md after every random action of the credit campaign (C7 once
/// per run, from its final state). Revenue reaches the custody accounts through the escrow's fixed
/// `withdraw` surface, here the test stand-in MockVaultEscrow, so that any amount can arrive at any
/// time; the real escrow is exercised end to end in test/credit/endToEnd.test.ts.
/// forge-config: default.invariant.depth = 60
/// forge-config: deep.invariant.depth = 120
contract CreditFacilityInvariantTest is TestBase {
    GpuAssetNFT internal nft;
    MockVaultEscrow internal escrow;
    MockUSDC internal usdc;
    CreditFacility internal facility;
    CreditFacilityHandler internal handler;

    function setUp() public {
        nft = new GpuAssetNFT(address(this));
        escrow = new MockVaultEscrow(nft);
        usdc = new MockUSDC();
        // The stand-in matches the escrow's withdraw/withdrawable/setLeaseTerms selectors (see its NatSpec).
        facility = new CreditFacility(address(this), nft, ISettlementEscrow(address(escrow)));
        address pauser = address(0x9A05E);
        facility.grantRole(facility.PAUSER_ROLE(), pauser);
        nft.grantRole(nft.REGISTRAR_ROLE(), address(this));

        address[] memory actors = new address[](4);
        for (uint256 i = 0; i < actors.length; i++) actors[i] = address(uint160(0xAC7000 + i));
        uint256[] memory assets = new uint256[](3);
        for (uint256 i = 0; i < assets.length; i++) {
            assets[i] = nft.mint(
                actors[i],
                GpuSpec({
                    gpuModel: "NVIDIA H100 80GB HBM3",
                    datacenter: "eu-west-fra2",
                    serialsHash: keccak256(abi.encode("credit-campaign", i)),
                    vramMiBPerGpu: 81_559,
                    gpuCount: 8,
                    tdpWattsPerGpu: 700
                })
            );
        }
        handler = new CreditFacilityHandler(facility, nft, escrow, usdc, pauser, actors, assets);
        nft.grantRole(nft.LEASE_MANAGER_ROLE(), address(handler));
        targetContract(address(handler));
    }

    /// @notice C1, C3, C5 (checked by the handler on every call), C6 (pause), C2 (solvency), C3
    /// (custody) and C4 (the lessee's right) after every call.
    function invariant_credit() public view {
        vm.assertEq(handler.ruleBreaks(), 0, handler.lastRuleBreak());
        uint256 owed;
        uint256 loans = facility.loanCount();
        for (uint256 id = 1; id <= loans; id++) {
            Loan memory loan = facility.loanOf(id);
            owed += facility.lenderClaimable(id) + loan.borrowerClaimable + loan.reserveBalance;
            bool open = loan.status == LoanStatus.Requested || loan.status == LoanStatus.Active;
            address owner = nft.ownerOf(loan.assetId);
            if (open) vm.assertEq(owner, facility.custodyOf(id), "C3 an open loan's custody holds its NFT");
            else vm.assertTrue(owner != facility.custodyOf(id), "C3 a closed loan's custody holds nothing");
            if (loan.status == LoanStatus.Active) {
                vm.assertLe(loan.interestAccrued, handler.ghostInterestNow(id), "C5 never more than the integral");
                vm.assertLe(loan.principalRepaid, loan.principal, "principal repaid <= principal");
                vm.assertLe(loan.interestPaid, loan.interestAccrued, "interest paid <= interest accrued");
                vm.assertLe(loan.reserveBalance, loan.reserveTarget, "reserve <= its target");
            }
            if (loan.status != LoanStatus.Active) vm.assertEq(loan.reserveBalance, 0, "no reserve once closed");
        }
        uint256 balance = usdc.balanceOf(address(facility));
        vm.assertEq(balance, owed, "C2 the facility holds exactly what it owes");
        vm.assertEq(
            balance,
            handler.ghostHarvested() + handler.ghostRepaid() - handler.ghostClaimed(),
            "C2 harvested + repaid - claimed = balance"
        );
        for (uint256 i = 0; i < handler.assetCount(); i++) {
            uint256 assetId = handler.assets(i);
            uint64 expires = handler.ghostExpires(assetId);
            vm.assertEq(nft.userExpires(assetId), expires, "C4 the user right's expiry is the lease manager's");
            address user = block.timestamp < expires ? handler.ghostUser(assetId) : address(0);
            vm.assertEq(nft.userOf(assetId), user, "C4 the user is the lease manager's");
        }
    }

    /// @notice C7, once per run: every active loan is repaid by its borrower (paused or not), what is
    /// pending is harvested, everyone claims; the facility then holds nothing and every NFT is with an
    /// account, none in custody.
    function afterInvariant() public {
        uint256 loans = facility.loanCount();
        for (uint256 id = 1; id <= loans; id++) {
            Loan memory loan = facility.loanOf(id);
            if (loan.status == LoanStatus.Active) {
                uint256 debt = loan.principal * 10; // more than any debt the campaign can build up
                usdc.mint(loan.borrower, debt);
                vm.startPrank(loan.borrower);
                usdc.approve(address(facility), debt);
                facility.repay(id, debt);
                vm.stopPrank();
                vm.assertEq(uint256(facility.loanOf(id).status), uint256(LoanStatus.Repaid), "C7 repaid in full");
            }
            if (loan.status == LoanStatus.Requested) {
                vm.prank(loan.borrower);
                facility.cancel(id);
            }
            if (facility.pendingRevenue(id) != 0) facility.harvest(id);
        }
        for (uint256 id = 1; id <= loans; id++) {
            Loan memory loan = facility.loanOf(id);
            if (loan.borrowerClaimable != 0) {
                vm.prank(loan.borrower);
                facility.claimAsBorrower(id, loan.borrower);
            }
            if (facility.lenderClaimable(id) != 0) {
                address holder = facility.note().ownerOf(id);
                vm.prank(holder);
                facility.claimAsLender(id, holder);
            }
            vm.assertTrue(nft.ownerOf(loan.assetId) != facility.custodyOf(id), "C7 no NFT left in custody");
        }
        vm.assertEq(usdc.balanceOf(address(facility)), 0, "C7 everyone was paid everything");
    }
}
