// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { TestBase } from "../utils/TestBase.sol";
import { SignedReadings } from "../utils/SignedReadings.sol";
import { SettlementEscrowHandler } from "../handlers/SettlementEscrowHandler.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { EndReason, Lease, LeaseTerms } from "../../../contracts/types/EscrowTypes.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";
import { Meter, Reading } from "../../../contracts/types/OracleTypes.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";
import { MockNoReturnToken } from "../../../contracts/mocks/MockNoReturnToken.sol";

/// @notice E1–E7 of test/foundry/README.md, checked after every random action of the escrow campaign
/// (E7 once per run, from the run's final state), with a 6-decimal USDC-like token. Meters come from the
/// real UsageOracle: the handler signs each reading (one signer, threshold 1) and submits it.
/// forge-config: default.invariant.depth = 100
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
        // Asset a and c have a reading before any lease; asset b has none (a lease's baseline is then
        // its first reading). Both baselines go in one signed batch, sorted by asset id.
        Reading[] memory baselines = new Reading[](2);
        baselines[0] = SignedReadings.toReading(
            assets[0],
            Meter({ timestamp: uint64(block.timestamp), busyGpuSeconds: 0, availableGpuSeconds: 0, energyJ: 0 })
        );
        baselines[1] = SignedReadings.toReading(
            assets[2],
            Meter({ timestamp: uint64(block.timestamp), busyGpuSeconds: 5, availableGpuSeconds: 9, energyJ: 1 })
        );
        vm.assertEq(SignedReadings.submitSigned(oracle, SIGNER_KEY, baselines), 2, "both baselines accepted");

        _terms(owners[0], assets[0], 2_000_000, 1_000_000, 1 hours, 7 days, 9_500, true);
        _terms(owners[0], assets[1], 1_500_000, 0, 2 hours, 3 days, 0, false);
        _terms(owners[1], assets[2], 0, 3_000_000, 1 hours, 2 days, 10_000, true);

        handler = new SettlementEscrowHandler(escrow, nft, oracle, SIGNER_KEY, token, lessees, owners, assets);
        escrow.grantRole(escrow.ARBITER_ROLE(), address(handler));
        escrow.grantRole(escrow.PAUSER_ROLE(), address(handler));
        targetContract(address(handler));
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
        address owner,
        uint256 assetId,
        uint256 reservation,
        uint256 usage,
        uint64 minDuration,
        uint64 maxDuration,
        uint16 sla,
        bool earlyEnd
    ) internal {
        vm.prank(owner);
        escrow.setLeaseTerms(
            assetId,
            LeaseTerms({
                token: address(token),
                reservationPricePerGpuHour: reservation,
                usagePricePerBusyGpuHour: usage,
                minDurationSeconds: minDuration,
                maxDurationSeconds: maxDuration,
                slaAvailabilityBps: sla,
                earlyEndAllowed: earlyEnd
            })
        );
    }

    // ---------------------------------------------------------------- invariants

    /// @notice E1–E6 after every call. One invariant function, so one campaign per run checks them all
    /// (forge runs a separate campaign per invariant function); the message names the broken rule.
    function invariant_escrowAccounting() public view {
        _checkE1PerLeaseConservation();
        _checkE2E3SolvencyAndCredits();
        _checkE4OneLiveUserPerAsset();
        _checkE5NoUnprovenCharge();
        _checkE6NoLossFromOthers();
    }

    /// @notice E1: per lease, what was paid in (the ghost: opening deposit + top-ups) = charged +
    /// refunded + held (balance + pending + disputed). The escrow derives its own `deposited` from those
    /// parts, so the ghost is what makes this a real check; `accountingOf` must agree with it too.
    function _checkE1PerLeaseConservation() internal view {
        uint256 n = escrow.leaseCount();
        for (uint256 id = 1; id <= n; id++) {
            Lease memory l = escrow.leaseOf(id);
            uint256 paidIn = handler.ghostDeposited(id);
            vm.assertEq(
                uint256(l.charged) + l.refunded + l.balance + l.pending + l.disputed,
                paidIn,
                "E1 paid in = charged + refunded + held"
            );
            (uint256 deposited, uint256 charged, uint256 refunded, uint256 held) = escrow.accountingOf(id);
            vm.assertEq(deposited, paidIn, "E1 accountingOf deposited = paid in");
            vm.assertEq(charged + refunded + held, paidIn, "E1 accountingOf parts = paid in");
            if (l.endReason != EndReason.None) vm.assertEq(l.balance, 0, "E1 an ended lease keeps no balance");
        }
    }

    /// @notice E2 and E3: the escrow's balance is exactly everything held plus everything withdrawable,
    /// and credits went to the right people: owners were credited exactly the charges, each lessee
    /// exactly the refunds of its own leases (owners and lessees are distinct accounts here).
    function _checkE2E3SolvencyAndCredits() internal view {
        uint256 held;
        uint256 charged;
        uint256 n = escrow.leaseCount();
        for (uint256 id = 1; id <= n; id++) {
            Lease memory l = escrow.leaseOf(id);
            held += uint256(l.balance) + l.pending + l.disputed;
            charged += l.charged;
        }
        uint256 owed;
        uint256 ownersCredited;
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            address who = handler.actors(i);
            uint256 balance = escrow.withdrawable(who, address(token));
            owed += balance;
            uint256 credited = balance + handler.ghostWithdrawnBy(who);
            if (handler.isOwner(who)) {
                ownersCredited += credited;
                continue;
            }
            uint256 refunds;
            for (uint256 id = 1; id <= n; id++) {
                Lease memory l = escrow.leaseOf(id);
                if (l.lessee == who) refunds += l.refunded;
            }
            vm.assertEq(credited, refunds, "E3 a lessee is credited exactly its own refunds");
        }
        vm.assertEq(token.balanceOf(address(escrow)), held + owed, "E2 balance = held + withdrawable");
        vm.assertEq(ownersCredited, charged, "E3 owners are credited exactly the charges");
    }

    /// @notice E4: at most one running lease per asset, and the NFT user is its lessee (or nobody).
    function _checkE4OneLiveUserPerAsset() internal view {
        uint256 n = escrow.leaseCount();
        for (uint256 a = 0; a < handler.assetCount(); a++) {
            uint256 assetId = handler.assets(a);
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
        }
    }

    /// @notice E5: what a lease paid (charged + pending + disputed) never exceeds the price of the
    /// GPU-time the accepted readings prove since the lease opened.
    function _checkE5NoUnprovenCharge() internal view {
        uint256 n = escrow.leaseCount();
        for (uint256 id = 1; id <= n; id++) {
            Lease memory l = escrow.leaseOf(id);
            LeaseTerms memory terms = escrow.leaseTermsAt(l.assetId, l.termsVersion);
            (uint64 ts0, uint64 busy0, uint64 avail0, ) = handler.meterAtOpen(id);
            Meter memory latest = oracle.latestReading(l.assetId);
            uint256 bound_ =
                ts0 == 0
                    ? ((uint256(latest.availableGpuSeconds)) * terms.reservationPricePerGpuHour +
                        uint256(latest.busyGpuSeconds) * terms.usagePricePerBusyGpuHour) / 3600
                    : ((uint256(latest.availableGpuSeconds - avail0)) * terms.reservationPricePerGpuHour +
                        uint256(latest.busyGpuSeconds - busy0) * terms.usagePricePerBusyGpuHour) / 3600;
            vm.assertLe(uint256(l.charged) + l.pending + l.disputed, bound_, "E5 charge <= proven usage");
        }
    }

    /// @notice E6: nobody's withdrawable balance or lease end went down through someone else's call.
    function _checkE6NoLossFromOthers() internal view {
        vm.assertEq(handler.ruleBreaks(), 0, handler.lastRuleBreak());
    }

    /// @notice E7, once per run from its final state: with time passing, every lease can be closed,
    /// every dispute and pending charge resolved, every account paid out, and the escrow ends empty.
    /// Runs in whatever pause state the run left: exits never stop.
    function afterInvariant() public {
        uint256 n = escrow.leaseCount();
        uint256 latestEnd = block.timestamp;
        for (uint256 id = 1; id <= n; id++) {
            uint64 end = escrow.leaseOf(id).endTime;
            if (end > latestEnd) latestEnd = end;
        }
        vm.warp(latestEnd + escrow.FINAL_READING_GRACE_SECONDS());
        for (uint256 id = 1; id <= n; id++) {
            if (escrow.leaseOf(id).endReason == EndReason.None) {
                try escrow.close(id) {} catch (bytes memory reason) {
                    _failExit("close", id, reason);
                }
            }
        }
        vm.warp(block.timestamp + DISPUTE_WINDOW + ARBITER_TIMEOUT);
        for (uint256 id = 1; id <= n; id++) {
            Lease memory l = escrow.leaseOf(id);
            if (l.disputed != 0) {
                try escrow.resolveDisputeByTimeout(id) {} catch (bytes memory reason) {
                    _failExit("resolveDisputeByTimeout", id, reason);
                }
            }
            if (l.pending != 0) {
                try escrow.release(id) {} catch (bytes memory reason) {
                    _failExit("release", id, reason);
                }
            }
            l = escrow.leaseOf(id);
            vm.assertEq(uint256(l.balance) + l.pending + l.disputed, 0, "E7 a lease still holds funds");
        }
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            address who = handler.actors(i);
            uint256 owed = escrow.withdrawable(who, address(token));
            uint256 before = token.balanceOf(who);
            vm.prank(who);
            try escrow.withdraw(address(token), who) returns (uint256 paid) {
                vm.assertEq(paid, owed, "E7 withdraw pays the whole balance");
                vm.assertEq(token.balanceOf(who) - before, owed, "E7 tokens arrive");
            } catch (bytes memory reason) {
                _failExit("withdraw", i, reason);
            }
        }
        vm.assertEq(token.balanceOf(address(escrow)), 0, "E7 the escrow ends empty");
    }

    function _failExit(string memory action, uint256 id, bytes memory reason) internal pure {
        vm.assertTrue(
            false,
            string.concat("E7 exit blocked: ", action, " #", vm.toString(id), " ", vm.toString(reason))
        );
    }
}

/// @notice The same campaign paid in a USDT-like token whose transfers return nothing.
/// forge-config: default.invariant.depth = 100
/// forge-config: deep.invariant.depth = 200
contract SettlementEscrowNoReturnTokenInvariantTest is SettlementEscrowInvariantTest {
    function _deployToken() internal override returns (address) {
        return address(new MockNoReturnToken());
    }
}
