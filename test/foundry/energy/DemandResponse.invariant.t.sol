// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { EnergyFeed } from "./EnergyFeed.sol";
import { DemandResponseHandler } from "./DemandResponseHandler.sol";
import { DemandResponseProgramme } from "../../../contracts/DemandResponseProgramme.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";
import { CurtailmentTerms, Lease, LeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";

/// @notice DR1–DR6 of test/foundry/README.md, checked after every random action of the demand-response
/// campaign: a programme and its events, the escrow's curtailable and plain leases, meters from the
/// real UsageOracle (signed batches, Merkle proofs built in Solidity by `EnergyFeed`).
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 80
/// forge-config: deep.invariant.runs = 640
/// forge-config: deep.invariant.depth = 160
contract DemandResponseInvariantTest is TestBase {
    uint256 internal constant SIGNER_KEY = 0xd3e5a0c1e;
    address internal constant SPONSOR = address(0x5905);
    address internal constant PROVIDER = address(0x0BE1);

    GpuAssetNFT internal nft;
    UsageOracle internal oracle;
    SettlementEscrow internal escrow;
    DemandResponseProgramme internal programme;
    MockUSDC internal usdc;
    EnergyFeed internal feed;
    DemandResponseHandler internal handler;

    function setUp() public {
        nft = new GpuAssetNFT(address(this));
        address[] memory signers = new address[](1);
        signers[0] = vm.addr(SIGNER_KEY);
        oracle = new UsageOracle(address(this), nft, signers, 1, 300, 1_000);
        escrow = new SettlementEscrow(address(this), nft, oracle, 1 days, 3 days);
        programme = new DemandResponseProgramme(address(this), oracle);
        usdc = new MockUSDC();
        feed = new EnergyFeed(oracle, SIGNER_KEY, 3);

        nft.grantRole(nft.REGISTRAR_ROLE(), address(this));
        nft.grantRole(nft.LEASE_MANAGER_ROLE(), address(escrow));
        escrow.grantRole(escrow.TOKEN_ADMIN_ROLE(), address(this));
        escrow.grantRole(escrow.PROGRAMME_ROLE(), address(programme));
        escrow.setTokenAllowed(address(usdc), true);
        programme.grantRole(programme.SPONSOR_ROLE(), SPONSOR);

        LeaseTerms memory terms = LeaseTerms({
            token: address(usdc),
            reservationPricePerGpuHour: 2e6,
            usagePricePerBusyGpuHour: 1e6,
            energyPricePerKWh: 2e5,
            minDurationSeconds: 1 hours,
            maxDurationSeconds: 30 days,
            slaAvailabilityBps: 9_900,
            earlyEndAllowed: true
        });
        for (uint256 i = 1; i <= 3; ++i) {
            nft.mint(
                PROVIDER,
                GpuSpec({
                    gpuModel: "NVIDIA H100 80GB HBM3",
                    datacenter: "us-tx-dfw1",
                    serialsHash: keccak256(abi.encode("dr-serials", i)),
                    vramMiBPerGpu: 81_559,
                    gpuCount: 8,
                    tdpWattsPerGpu: 700
                })
            );
        }
        vm.startPrank(PROVIDER);
        escrow.setCurtailableLeaseTerms(
            1,
            terms,
            CurtailmentTerms({
                programme: address(programme),
                programmeId: 1,
                reservationDiscountBps: 1_000,
                maxEventsPerLease: 2,
                maxEventSecondsPerLease: 4 hours
            })
        );
        escrow.setCurtailableLeaseTerms(
            2,
            terms,
            CurtailmentTerms({
                programme: address(programme),
                programmeId: 1,
                reservationDiscountBps: 0,
                maxEventsPerLease: 1,
                maxEventSecondsPerLease: 1 hours
            })
        );
        escrow.setLeaseTerms(3, terms);
        vm.stopPrank();

        vm.startPrank(SPONSOR);
        programme.createProgramme(address(usdc));
        for (uint256 i = 1; i <= 3; ++i) programme.enroll(1, i);
        vm.stopPrank();
        vm.prank(PROVIDER);
        programme.setLesseeShare(1, 1, 3_000);

        handler = new DemandResponseHandler(nft, oracle, escrow, programme, usdc, feed, SPONSOR, PROVIDER);
        usdc.mint(SPONSOR, 500e6);
        vm.prank(SPONSOR);
        usdc.approve(address(programme), 500e6);
        vm.prank(SPONSOR);
        programme.deposit(1, 500e6);
        handler.noteDeposit(500e6);

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](17);
        selectors[0] = handler.post.selector;
        selectors[1] = handler.post.selector;
        selectors[2] = handler.post.selector;
        selectors[3] = handler.warp.selector;
        selectors[4] = handler.deposit.selector;
        selectors[5] = handler.withdrawFunds.selector;
        selectors[6] = handler.announce.selector;
        selectors[7] = handler.cancelLatest.selector;
        selectors[8] = handler.checkIn.selector;
        selectors[9] = handler.prove.selector;
        selectors[10] = handler.claimOwner.selector;
        selectors[11] = handler.claimLessee.selector;
        selectors[12] = handler.release.selector;
        selectors[13] = handler.openLease.selector;
        selectors[14] = handler.endByLessee.selector;
        selectors[15] = handler.settle.selector;
        selectors[16] = handler.announce.selector;
        targetSelector(address(handler), selectors);
    }

    /// @notice DR1 — the programme's funds are accounted for to the unit: its token balance is the
    /// sponsor's unreserved funds + what events still reserve + the credits owed and not yet paid.
    function invariant_DR1_programmeFundsAccounted() public view {
        uint256 owedUnpaid = handler.ghostCreditsOwed() - handler.ghostCreditsPaid();
        vm.assertEq(
            usdc.balanceOf(address(programme)),
            programme.programmeOf(1).available + handler.reservedTotal() + owedUnpaid,
            "DR1 balance = available + reserved + owed"
        );
    }

    /// @notice DR2 — a sponsor never pays out more than it deposited: credits owed (paid or not) never
    /// exceed deposits less withdrawals, and nothing is paid that is not owed.
    function invariant_DR2_sponsorNeverPaysMoreThanDeposited() public view {
        vm.assertLe(
            handler.ghostCreditsOwed(),
            handler.ghostDeposited() - handler.ghostWithdrawn(),
            "DR2 owed <= deposited - withdrawn"
        );
        vm.assertLe(handler.ghostCreditsPaid(), handler.ghostCreditsOwed(), "DR2 paid <= owed");
    }

    /// @notice DR3 — no asset is credited more than the event's committed reduction at its rate.
    function invariant_DR3_creditWithinCap() public view {
        vm.assertFalse(handler.ghostCreditOverCap(), "DR3 credit above committed reduction x rate");
    }

    /// @notice DR4 — curtailment only ever removes reservation: a plain lease is billed exactly its plain
    /// bill of the meters (an event changes nothing); a curtailable one has the plain usage and energy
    /// fees and availability, and a reservation fee (hence a total) no higher than the plain one.
    function invariant_DR4_curtailmentOnlyRemovesReservation() public view {
        vm.assertFalse(handler.ghostBillOutOfBounds(), "DR4 a bill differs from its plain bill beyond the reservation");
    }

    /// @notice DR5 — per lease, deposited = charged + refunded + held; the escrow's balance is what it
    /// holds for leases plus what it owes as withdrawable balances.
    function invariant_DR5_escrowConservedAndSolvent() public view {
        uint256 owed;
        uint256 count = escrow.leaseCount();
        for (uint256 id = 1; id <= count; ++id) {
            (uint256 deposited, uint256 charged, uint256 refunded, uint256 held) = escrow.accountingOf(id);
            vm.assertEq(deposited, charged + refunded + held, "DR5 deposited = charged + refunded + held");
            Lease memory l = escrow.leaseOf(id);
            owed += uint256(l.balance) + l.disputed;
        }
        address[4] memory accounts = handler.accounts();
        for (uint256 i; i < accounts.length; ++i) owed += escrow.withdrawable(accounts[i], address(usdc));
        vm.assertEq(usdc.balanceOf(address(escrow)), owed, "DR5 escrow balance = held + withdrawable");
    }

    /// @notice DR6 — an outcome records the oracle's own meters at the event's boundaries (what the
    /// escrow's curtailable bills subtract).
    function invariant_DR6_outcomesRecordTheOraclesMeters() public view {
        vm.assertFalse(handler.ghostOutcomeMetersWrong(), "DR6 outcome meters differ from the oracle's");
    }
}
