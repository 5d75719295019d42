// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { CheatBase } from "../utils/TestBase.sol";
import { SignedReadings } from "../utils/SignedReadings.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { SettlementEscrow } from "../../../contracts/SettlementEscrow.sol";
import { RevenueSplitVault } from "../../../contracts/RevenueSplitVault.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { Meter } from "../../../contracts/types/OracleTypes.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";

/// @notice Drives a RevenueSplitVault that owns a leased GPU asset: real lease revenue through the
/// escrow (open, readings signed and submitted to the real UsageOracle, close, release), direct
/// donations, harvests, claims, share transfers and approved transfers among holders, and time. Keeps ghost totals of revenue sent and claims paid.
contract RevenueSplitVaultHandler is CheatBase {
    RevenueSplitVault public immutable vault;
    SettlementEscrow public immutable escrow;
    GpuAssetNFT public immutable nft;
    UsageOracle public immutable oracle;
    uint256 internal immutable _signerKey;
    MockUSDC public immutable usdc;
    uint256 public immutable assetId;
    address public immutable lessee = address(0x1E55EE);

    address[] public holders;

    /// @notice Every token unit that reached the vault or the escrow's balance for it as revenue.
    uint256 public ghostRevenue;
    mapping(address holder => uint256) public ghostClaimedBy;
    uint256 public ghostClaimed;
    /// @notice Calls after which someone's accrued revenue changed against the rules (V3): must stay zero.
    uint256 public ruleBreaks;
    string public lastRuleBreak;

    constructor(
        RevenueSplitVault vault_,
        SettlementEscrow escrow_,
        GpuAssetNFT nft_,
        UsageOracle oracle_,
        uint256 signerKey_,
        MockUSDC usdc_,
        uint256 assetId_,
        address[] memory holders_
    ) {
        vault = vault_;
        escrow = escrow_;
        nft = nft_;
        oracle = oracle_;
        _signerKey = signerKey_;
        usdc = usdc_;
        assetId = assetId_;
        holders = holders_;
    }

    function holderCount() external view returns (uint256) {
        return holders.length;
    }

    function _holder(uint256 seed) internal view returns (address) {
        return holders[seed % holders.length];
    }

    function _accrued() internal view returns (uint256[] memory a) {
        a = new uint256[](holders.length);
        for (uint256 i = 0; i < holders.length; i++) a[i] = vault.accruedScaled(holders[i]);
    }

    function _break(string memory what) internal {
        ruleBreaks++;
        lastRuleBreak = what;
    }

    // ---------------------------------------------------------------- revenue

    /// @notice A whole lease on the vault's asset: opened, metered, closed and its charge released to
    /// the vault (as NFT owner) in the escrow.
    function earnFromLease(uint256 hoursSeed, uint256 availableBps, uint256 busyBps) external {
        if (!nft.isLeasable(assetId)) return;
        uint64 duration = uint64(bound(hoursSeed, 1, 6) * 1 hours);
        uint256 deposit = escrow.minimumDeposit(assetId) * (duration / 1 hours + 1);
        Meter memory last = oracle.latestReading(assetId);
        if (last.timestamp < block.timestamp) {
            SignedReadings.submitOne(
                oracle,
                _signerKey,
                assetId,
                Meter(uint64(block.timestamp), last.busyGpuSeconds, last.availableGpuSeconds, last.energyJ)
            );
            last = oracle.latestReading(assetId);
        }
        usdc.mint(lessee, deposit);
        vm.startPrank(lessee);
        usdc.approve(address(escrow), deposit);
        uint256 leaseId = escrow.openLease(assetId, duration, deposit);
        vm.stopPrank();

        vm.warp(block.timestamp + duration);
        (uint16 gpuCount, , ) = nft.meteringLimits(assetId);
        uint256 availableDelta = (uint256(gpuCount) * duration * bound(availableBps, 0, 10_000)) / 10_000;
        uint256 busyDelta = (availableDelta * bound(busyBps, 0, 10_000)) / 10_000;
        SignedReadings.submitOne(
            oracle,
            _signerKey,
            assetId,
            Meter(
                uint64(block.timestamp),
                last.busyGpuSeconds + uint64(busyDelta),
                last.availableGpuSeconds + uint64(availableDelta),
                last.energyJ
            )
        );
        escrow.close(leaseId);
        vm.warp(block.timestamp + escrow.disputeWindowSeconds());
        if (escrow.leaseOf(leaseId).pending != 0) escrow.release(leaseId);
        ghostRevenue += escrow.leaseOf(leaseId).charged;
    }

    /// @notice Someone sends revenue tokens straight to the vault: the next harvest distributes them.
    function donate(uint256 amount) external {
        amount = bound(amount, 1, 1e12);
        usdc.mint(address(vault), amount);
        ghostRevenue += amount;
    }

    // ---------------------------------------------------------------- holders

    function harvest(uint256 callerSeed) external {
        vm.prank(_holder(callerSeed));
        vault.harvest();
    }

    /// @notice V3: a claim pays the caller what it accrued and touches nobody else's accrual.
    function claim(uint256 holderSeed, bool toSelf) external {
        address who = _holder(holderSeed);
        address to = toSelf ? who : address(0xC1A1);
        uint256[] memory before = _accrued();
        uint256 expected = vault.claimable(who);
        uint256 balanceBefore = usdc.balanceOf(to);
        vm.prank(who);
        uint256 paid = vault.claim(to);
        if (paid != expected || usdc.balanceOf(to) - balanceBefore != paid) _break("claim paid a wrong amount");
        uint256[] memory afterClaim = _accrued();
        for (uint256 i = 0; i < holders.length; i++) {
            if (holders[i] != who && afterClaim[i] != before[i]) _break("claim changed another holder's accrual");
        }
        ghostClaimed += paid;
        ghostClaimedBy[who] += paid;
    }

    /// @notice V3: with no revenue waiting in the escrow, a transfer changes nobody's accrual.
    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount, bool viaAllowance) external {
        address from = _holder(fromSeed);
        address to = _holder(toSeed);
        amount = bound(amount, 0, vault.balanceOf(from));
        bool quiet = escrow.withdrawable(address(vault), address(usdc)) == 0;
        uint256[] memory before = _accrued();
        if (viaAllowance) {
            vm.prank(from);
            vault.approve(address(this), amount);
            vault.transferFrom(from, to, amount);
        } else {
            vm.prank(from);
            vault.transfer(to, amount);
        }
        if (quiet) {
            uint256[] memory afterTransfer = _accrued();
            for (uint256 i = 0; i < holders.length; i++) {
                if (afterTransfer[i] != before[i]) _break("a share transfer moved accrued revenue");
            }
        }
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 7 days));
    }
}
