// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { TestBase } from "../utils/TestBase.sol";
import { SettlementEscrowHandler } from "../handlers/SettlementEscrowHandler.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { EndReason, Lease, LeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";
import { MockNoReturnToken } from "../../../contracts/mocks/MockNoReturnToken.sol";

/// @notice E1–E9 of test/foundry/README.md, checked after every random action of the escrow campaign
/// (E7 once per run, from the run's final state), paid in a 6-decimal USDC-like token. Meters come
/// from the real UsageOracle: the handler signs each batch (one signer, threshold 1), submits it, and
/// proves every reading it bills with Merkle proofs it builds itself.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 150
/// forge-config: deep.invariant.runs = 1000
/// forge-config: deep.invariant.depth = 200
contract SettlementEscrowInvariantTest is TestBase {
    uint64 internal constant DISPUTE_WINDOW = 1 days;
    uint64 internal constant ARBITER_TIMEOUT = 3 days;
    /// @dev The oracle's one signer (threshold 1).
    uint256 internal constant SIGNER_KEY = 0x5eed0f0ac1e;

    GpuAssetNFT internal nft;
    UsageOracle internal oracle;
    SettlementEscrow internal escrow;
    IERC20 internal token;
    SettlementEscrowHandler internal handler;

    /// @dev The token the campaign pays in; the awkward-token variant overrides it.
    function _deployToken() internal virtual returns (address) {
        return address(new MockUSDC());
    }

    function setUp() public {
        nft = new GpuAssetNFT(address(this));
        address[] memory signers = new address[](1);
        signers[0] = vm.addr(SIGNER_KEY);
        oracle = new UsageOracle(address(this), nft, signers, 1, 300, 1_000);
        escrow = new SettlementEscrow(address(this), nft, oracle, DISPUTE_WINDOW, ARBITER_TIMEOUT);
        token = IERC20(_deployToken());

        nft.grantRole(nft.REGISTRAR_ROLE(), address(this));
        nft.grantRole(nft.LEASE_MANAGER_ROLE(), address(escrow));
        escrow.grantRole(escrow.TOKEN_ADMIN_ROLE(), address(this));
        escrow.setTokenAllowed(address(token), true);

        address[] memory lessees = new address[](3);
        for (uint256 i = 0; i < lessees.length; i++) lessees[i] = address(uint160(0x1E55EE + i));
        address[] memory owners = new address[](2);
        owners[0] = address(0x0BE1);
        owners[1] = address(0x0BE2);
        uint256[] memory assets = new uint256[](3);
        assets[0] = _mint(owners[0], 8, 700, "a");
        assets[1] = _mint(owners[0], 4, 350, "b");
        assets[2] = _mint(owners[1], 1, 300, "c");

        handler = new SettlementEscrowHandler(escrow, nft, oracle, SIGNER_KEY, token, lessees, owners, assets, assets[2]);
        escrow.grantRole(escrow.ARBITER_ROLE(), address(handler));
        escrow.grantRole(escrow.PAUSER_ROLE(), address(handler));
        // Terms through the handler, so its ghost knows every version. Asset b bills energy and forbids
        // early ends; asset c has a 100 % SLA target.
        handler.setTerms(assets[0], _terms(2_000_000, 1_000_000, 0, 1 hours, 7 days, 9_500, true));
        handler.setTerms(assets[1], _terms(1_500_000, 0, 300_000, 2 hours, 3 days, 0, false));
        handler.setTerms(assets[2], _terms(0, 3_000_000, 0, 1 hours, 2 days, 10_000, true));

        bytes4[] memory selectors = new bytes4[](17);
        selectors[0] = handler.publishTerms.selector;
        selectors[1] = handler.openLease.selector;
        selectors[2] = handler.topUp.selector;
        selectors[3] = handler.report.selector;
        selectors[4] = handler.warp.selector;
        selectors[5] = handler.settle.selector;
        selectors[6] = handler.close.selector;
        selectors[7] = handler.endByLessee.selector;
        selectors[8] = handler.terminateByProvider.selector;
        selectors[9] = handler.closeUnderfunded.selector;
        selectors[10] = handler.dispute.selector;
        selectors[11] = handler.resolveDispute.selector;
        selectors[12] = handler.resolveDisputeByTimeout.selector;
        selectors[13] = handler.withdraw.selector;
        selectors[14] = handler.sellAsset.selector;
        selectors[15] = handler.burnAsset.selector;
        selectors[16] = handler.togglePause.selector;
        targetContract(address(handler));
        targetSelector(address(handler), selectors);
    }

    function _mint(address to, uint16 gpuCount, uint16 tdp, string memory serials) internal returns (uint256) {
        return
            nft.mint(
                to,
                GpuSpec({
                    gpuModel: "NVIDIA H100 80GB HBM3",
                    datacenter: "eu-west-fra2",
                    serialsHash: keccak256(bytes(serials)),
                    vramMiBPerGpu: 81_559,
                    gpuCount: gpuCount,
                    tdpWattsPerGpu: tdp
                })
            );
    }

    function _terms(
        uint256 reservation,
        uint256 usage,
        uint256 energy,
        uint64 minDuration,
        uint64 maxDuration,
        uint16 sla,
        bool earlyEnd
    ) internal view returns (LeaseTerms memory) {
        return
            LeaseTerms({
                token: address(token),
                reservationPricePerGpuHour: reservation,
                usagePricePerBusyGpuHour: usage,
                energyPricePerKWh: energy,
                minDurationSeconds: minDuration,
                maxDurationSeconds: maxDuration,
                slaAvailabilityBps: sla,
                earlyEndAllowed: earlyEnd
            });
    }

    // ---------------------------------------------------------------- the handler reaches every outcome

    /// @notice A fixed walk through the handler's actions in which the escrow accepts each kind of call
    /// at least once, with the ghost agreeing all the way: the campaign's predictions are exercised on
    /// accepting paths, not only on refusals.
    function test_handlerReach() public {
        handler.report(7, 10_000, 5_000, 2_000, 1); // first readings of all three assets, stamped now
        handler.openLease(0, 0, (uint256(2 days) << 40) | 2, 1); // lessee 0, asset a, 2 days, current terms
        handler.openLease(1, 1, (uint256(2 days) << 40) | 2, 1); // lessee 1, asset b
        handler.report(7, 9_000, 6_000, 3_000, (uint256(1 hours) << 16) | 1);
        handler.dispute(0, 0); // lease 2 (the newest: even seed): its lessee disputes up to the latest reading
        handler.warp(uint256(1 days) << 3);
        handler.report(7, 10_000, 10_000, 5_000, (uint256(2 hours) << 16) | 1);
        handler.settle(0, 0, 0); // lease 2: its bill up to the latest billable reading is under dispute
        handler.settle(1, 0, 0); // lease 1 (odd seed): settles up to its latest billable reading
        handler.topUp(1, 3, 1e6);
        handler.resolveDispute(0, (uint256(5) << 3) | 1); // lease 2: 5 units back to the lessee
        handler.endByLessee(1);
        handler.terminateByProvider(0);
        handler.warp(uint256(8 days) << 3);
        handler.report(7, 10_000, 0, 0, 1);
        handler.warp(uint256(1 days) << 3);
        handler.close(1, 0, 1);
        handler.close(0, 0, 1);
        handler.withdraw(0);
        vm.assertEq(handler.ruleBreaks(), 0, handler.lastRuleBreak());
        invariant_escrowMatchesItsGhost();
        string[9] memory names = [
            "openLease",
            "dispute",
            "settle",
            "topUp",
            "resolveDispute",
            "endByLessee",
            "terminateByProvider",
            "close",
            "withdraw"
        ];
        for (uint256 i = 0; i < names.length; i++) {
            vm.assertGt(handler.accepted(keccak256(bytes(names[i]))), 0, string.concat("accepted: ", names[i]));
        }
        vm.assertTrue(handler.sweep(), handler.lastRuleBreak());
    }

    // ---------------------------------------------------------------- invariants

    /// @notice E1–E6, E8 and E9 after every call. One invariant function, so one campaign per run
    /// checks them all (forge runs a separate campaign per invariant function); the message names the
    /// broken rule.
    function invariant_escrowMatchesItsGhost() public view {
        _checkE6Predictions();
        _checkE1Leases();
        _checkE2E3BalancesAndParties();
        _checkE4OneLiveUserPerAsset();
        _checkE5E9Bills();
        _checkE8UnfinishedLeases();
    }

    /// @notice E6: every call was accepted or refused exactly as the rules predict (pause, running,
    /// funding, terms version, billability, deadlines, grace), and every withdrawal paid its ghost.
    function _checkE6Predictions() internal view {
        vm.assertEq(handler.ruleBreaks(), 0, handler.lastRuleBreak());
    }

    /// @notice E1: each lease as stored equals its ghost, and deposited = charged + refunded + held.
    function _checkE1Leases() internal view {
        uint256 n = escrow.leaseCount();
        vm.assertEq(n, handler.leaseCount(), "E1 lease count");
        for (uint256 id = 1; id <= n; id++) {
            Lease memory l = escrow.leaseOf(id);
            SettlementEscrowHandler.GhostLease memory g = handler.ghostLease(id);
            vm.assertEq(l.lessee, g.lessee, "E1 lessee");
            vm.assertEq(l.assetId, g.assetId, "E1 asset");
            vm.assertEq(l.termsVersion, g.termsVersion, "E1 terms version");
            vm.assertEq(l.startTime, g.startTime, "E1 start");
            vm.assertEq(l.endTime, g.endTime, "E1 end");
            vm.assertEq(uint256(l.endReason), uint256(g.endReason), "E1 end reason");
            vm.assertEq(l.closed, g.closed, "E1 closed");
            vm.assertEq(l.startMetered, g.startMetered, "E1 start metered");
            if (g.startMetered) {
                vm.assertEq(l.startBusyGpuSeconds, g.start.busyGpuSeconds, "E1 start busy");
                vm.assertEq(l.startAvailableGpuSeconds, g.start.availableGpuSeconds, "E1 start available");
                vm.assertEq(l.startEnergyJ, g.start.energyJ, "E1 start energy");
            }
            vm.assertEq(l.deposited, g.deposited, "E1 deposited");
            vm.assertEq(l.balance, g.balance, "E1 balance");
            vm.assertEq(l.billed, g.billed, "E1 billed");
            vm.assertEq(l.disputed, g.disputed, "E1 disputed");
            vm.assertEq(l.disputeRefunded, g.disputeRefunded, "E1 dispute refunds");
            vm.assertEq(l.disputeDeadline, g.disputeDeadline, "E1 dispute deadline");
            (uint256 deposited, uint256 charged, uint256 refunded, uint256 held) = escrow.accountingOf(id);
            vm.assertEq(deposited, g.deposited, "E1 accountingOf deposited = paid in");
            vm.assertEq(charged + refunded + held, g.deposited, "E1 deposited = charged + refunded + held");
            vm.assertEq(held, g.balance + g.disputed, "E1 held = balance + disputed");
            vm.assertEq(charged, g.billed - g.disputed - g.disputeRefunded, "E1 charged");
            if (g.closed) vm.assertEq(l.balance, 0, "E1 a closed lease keeps no balance");
        }
    }

    /// @notice E2 and E3: the escrow's token balance is exactly everything held plus everything
    /// withdrawable, and each party's withdrawable balance is exactly its ghost (credits to the right
    /// account, per lessee and per payee).
    function _checkE2E3BalancesAndParties() internal view {
        uint256 held;
        uint256 n = escrow.leaseCount();
        for (uint256 id = 1; id <= n; id++) {
            Lease memory l = escrow.leaseOf(id);
            held += uint256(l.balance) + l.disputed;
        }
        uint256 owed;
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            address who = handler.actors(i);
            uint256 balance = escrow.withdrawable(who, address(token));
            vm.assertEq(balance, handler.ghostWithdrawable(who), "E3 a party's withdrawable = its ghost");
            owed += balance;
        }
        vm.assertEq(escrow.withdrawable(address(handler), address(token)), 0, "E3 the arbiter is never credited");
        vm.assertEq(token.balanceOf(address(escrow)), held + owed, "E2 balance = held + withdrawable");
    }

    /// @notice E4: at most one running lease per asset, and the NFT user is its lessee (or nobody).
    function _checkE4OneLiveUserPerAsset() internal view {
        uint256 n = escrow.leaseCount();
        for (uint256 a = 0; a < handler.assetCount(); a++) {
            uint256 assetId = handler.assets(a);
            if (handler.ghostBurned(assetId)) continue;
            address running;
            uint256 runningCount;
            for (uint256 id = 1; id <= n; id++) {
                Lease memory l = escrow.leaseOf(id);
                if (l.assetId == assetId && l.endReason == EndReason.None && block.timestamp < l.endTime) {
                    running = l.lessee;
                    runningCount++;
                }
            }
            vm.assertLe(runningCount, 1, "E4 overlapping leases");
            vm.assertEq(nft.userOf(assetId), running, "E4 NFT user = running lessee");
            vm.assertEq(nft.ownerOf(assetId), handler.ghostOwner(assetId), "E4 owner");
        }
    }

    /// @notice E5: no lease is billed more than its deposits or than full use of its time. E9 (cadence
    /// independence): a lease closed with a final reading was billed exactly its bill computed directly
    /// from the meters at its start and end (capped at its deposits), whoever settled, however often.
    function _checkE5E9Bills() internal view {
        uint256 n = escrow.leaseCount();
        for (uint256 id = 1; id <= n; id++) {
            SettlementEscrowHandler.GhostLease memory g = handler.ghostLease(id);
            uint256 billed = escrow.leaseOf(id).billed;
            vm.assertLe(billed, g.deposited, "E5 billed <= deposited");
            vm.assertLe(billed, handler.fullUse(id), "E5 billed <= full use of the lease's time");
            if (g.closed && g.finalReading) {
                (bool exists, uint256 bill) = handler.directBill(id);
                vm.assertTrue(exists, "E9 a final reading exists");
                vm.assertEq(billed, bill < g.deposited ? bill : g.deposited, "E9 total billed = direct bill from start and end meters");
            }
        }
    }

    /// @notice E8: each asset's unfinished leases (not closed, or closed with a dispute open) as the
    /// escrow counts them, all in the campaign's one token.
    function _checkE8UnfinishedLeases() internal view {
        uint256 n = escrow.leaseCount();
        for (uint256 a = 0; a < handler.assetCount(); a++) {
            uint256 assetId = handler.assets(a);
            uint256 unfinished;
            for (uint256 id = 1; id <= n; id++) {
                SettlementEscrowHandler.GhostLease memory g = handler.ghostLease(id);
                if (g.assetId == assetId && (!g.closed || g.disputed != 0)) unfinished++;
            }
            (uint256 count, address unfinishedToken) = escrow.unfinishedLeasesOf(assetId);
            vm.assertEq(count, unfinished, "E8 unfinished leases");
            vm.assertEq(unfinishedToken, unfinished == 0 ? address(0) : address(token), "E8 unfinished token");
        }
    }

    /// @notice E7, once per run from its final state, in whatever pause state the run left: with time
    /// passing, every lease can be closed, every dispute resolved, every party paid exactly its ghost,
    /// and the escrow ends empty.
    function afterInvariant() public {
        vm.assertTrue(handler.sweep(), string.concat("E7 exit blocked: ", handler.lastRuleBreak()));
        invariant_escrowMatchesItsGhost();
        uint256 n = escrow.leaseCount();
        for (uint256 id = 1; id <= n; id++) {
            Lease memory l = escrow.leaseOf(id);
            vm.assertTrue(l.closed, "E7 every lease closed");
            vm.assertEq(uint256(l.balance) + l.disputed, 0, "E7 no lease holds funds");
        }
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            vm.assertEq(escrow.withdrawable(handler.actors(i), address(token)), 0, "E7 everyone paid out");
        }
        vm.assertEq(token.balanceOf(address(escrow)), 0, "E7 the escrow ends empty");
    }
}

/// @notice The same campaign paid in a USDT-like token whose transfers return nothing.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 150
/// forge-config: deep.invariant.runs = 1000
/// forge-config: deep.invariant.depth = 200
contract SettlementEscrowNoReturnTokenInvariantTest is SettlementEscrowInvariantTest {
    function _deployToken() internal override returns (address) {
        return address(new MockNoReturnToken());
    }
}
