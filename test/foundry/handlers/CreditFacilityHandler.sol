// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { CheatBase } from "../utils/TestBase.sol";
import { CreditFacility } from "../../../contracts/credit/CreditFacility.sol";
import { LoanNote } from "../../../contracts/credit/LoanNote.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";
import { MockVaultEscrow } from "../../../contracts/mocks/MockVaultEscrow.sol";
import { CreditMath } from "../../../contracts/libraries/CreditMath.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { CreditTerms, Loan, LoanStatus } from "../../../contracts/types/CreditTypes.sol";

/// @notice Drives a CreditFacility with random loans: pledges with random terms by whoever owns an
/// asset, fundings, cancellations, revenue credited to custody accounts in random amounts, harvests,
/// repayments by anyone, foreclosures tried by note holders, claims, note sales, lease user rights set
/// and changed by the lease manager (this handler), pauses, and time. It checks C1, C3, C4 and C6 of
/// test/foundry/README.md on every call and keeps ghost totals for C2 and C5.
contract CreditFacilityHandler is CheatBase {
    CreditFacility public immutable facility;
    LoanNote public immutable note;
    GpuAssetNFT public immutable nft;
    MockVaultEscrow public immutable escrow;
    MockUSDC public immutable usdc;
    address public immutable pauser;

    address[] public actors;
    uint256[] public assets;

    /// @notice The user right the lease manager last set per asset: the facility must never change it.
    mapping(uint256 assetId => address) public ghostUser;
    mapping(uint256 assetId => uint64) public ghostExpires;
    /// @notice Per loan: Σ outstanding × rate × seconds since funding (the exact interest integral,
    /// kept independently of the facility), the principal outstanding and when it was last advanced.
    mapping(uint256 loanId => uint256) public ghostInterestScaled;
    mapping(uint256 loanId => uint256) internal _ghostOutstanding;
    mapping(uint256 loanId => uint256) internal _ghostSince;
    /// @notice Token totals into and out of the facility.
    uint256 public ghostHarvested;
    uint256 public ghostRepaid;
    uint256 public ghostClaimed;

    /// @notice Calls after which a rule was broken: must stay zero.
    uint256 public ruleBreaks;
    string public lastRuleBreak;
    /// @notice Counters, to see that the campaign reaches every state.
    uint256 public fundings;
    uint256 public foreclosures;
    uint256 public fullRepayments;

    constructor(
        CreditFacility facility_,
        GpuAssetNFT nft_,
        MockVaultEscrow escrow_,
        MockUSDC usdc_,
        address pauser_,
        address[] memory actors_,
        uint256[] memory assets_
    ) {
        facility = facility_;
        note = LoanNote(address(facility_.note()));
        nft = nft_;
        escrow = escrow_;
        usdc = usdc_;
        pauser = pauser_;
        actors = actors_;
        assets = assets_;
        usdc.approve(address(escrow), type(uint256).max);
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    /// @notice The exact interest integral of `loanId` up to now, floored: what the facility must have accrued.
    function ghostInterestNow(uint256 loanId) public view returns (uint256) {
        uint256 since = _ghostSince[loanId];
        uint256 scaled = ghostInterestScaled[loanId];
        if (since != 0 && block.timestamp > since) {
            scaled += _ghostOutstanding[loanId] * facility.loanOf(loanId).interestRateBpsPerYear * (block.timestamp - since);
        }
        return scaled / CreditMath.INTEREST_DENOMINATOR;
    }

    // ---------------------------------------------------------------- the actions

    function pledge(uint256 assetSeed, uint256 termsSeed) external {
        uint256 assetId = assets[assetSeed % assets.length];
        address owner = nft.ownerOf(assetId);
        if (!_isActor(owner)) return;
        bool paused = facility.paused();
        vm.startPrank(owner);
        nft.setApprovalForAll(address(facility), true);
        // A revert would leave the prank running (cheatcode state is not rolled back): catch it.
        try facility.pledge(assetId, _terms(termsSeed)) {
            if (paused) _break("pledge went through a pause");
        } catch {
            if (!paused) _break("a valid pledge was refused");
        }
        vm.stopPrank();
    }

    function fund(uint256 loanSeed, uint256 lenderSeed) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status != LoanStatus.Requested) return;
        address lender = actors[lenderSeed % actors.length];
        usdc.mint(lender, loan.principal);
        bool paused = facility.paused();
        vm.startPrank(lender);
        usdc.approve(address(facility), loan.principal);
        try facility.fund(loanId) {
            if (paused) _break("funding went through a pause");
            _ghostOutstanding[loanId] = loan.principal;
            _ghostSince[loanId] = block.timestamp;
            fundings++;
        } catch {
            if (!paused) _break("a valid funding was refused");
        }
        vm.stopPrank();
    }

    function cancel(uint256 loanSeed) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status != LoanStatus.Requested) return;
        vm.prank(loan.borrower);
        try facility.cancel(loanId) {
            if (nft.ownerOf(loan.assetId) != loan.borrower) _break("C3 a cancelled pledge's NFT went elsewhere");
        } catch (bytes memory reason) {
            _checkNotPaused(reason, "cancel");
            _break("cancel by the borrower refused");
        }
    }

    /// @notice Revenue credited to a custody that holds its asset (the only time the escrow pays it).
    function earn(uint256 loanSeed, uint256 amount) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        address custody = facility.custodyOf(loanId);
        if (loan.status == LoanStatus.None || nft.ownerOf(loan.assetId) != custody) return;
        amount = bound(amount, 1, 2e11);
        usdc.mint(address(this), amount);
        escrow.credit(custody, address(usdc), amount);
    }

    /// @notice C1: a harvest moves exactly what arrived into lender, reserve and borrower balances.
    function harvest(uint256 loanSeed) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status == LoanStatus.None) return;
        uint256 pending = escrow.withdrawable(facility.custodyOf(loanId), address(usdc));
        _advance(loanId);
        uint256 before = _owedOn(loanId);
        try facility.harvest(loanId) returns (uint256 amount) {
            if (amount != pending) _break("C1 harvested a different amount than the escrow held");
            if (_owedOn(loanId) - before != amount) _break("C1 a harvested unit went missing or was doubled");
            ghostHarvested += amount;
            _checkAccrual(loanId, loan);
            _afterPayment(loanId, loan);
        } catch (bytes memory reason) {
            _checkNotPaused(reason, "harvest");
            if (pending != 0) _break("harvest of pending revenue refused");
        }
    }

    function repay(uint256 loanSeed, uint256 payerSeed, uint256 amount) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status != LoanStatus.Active) return;
        address payer = actors[payerSeed % actors.length];
        amount = bound(amount, 1, uint256(loan.principal) * 2);
        _advance(loanId);
        usdc.mint(payer, amount);
        uint256 owedBefore = _owedOn(loanId);
        uint256 balanceBefore = usdc.balanceOf(payer);
        vm.startPrank(payer);
        usdc.approve(address(facility), amount);
        try facility.repay(loanId, amount) returns (uint256 paid) {
            if (balanceBefore - usdc.balanceOf(payer) != paid) _break("repay pulled a different amount");
            if (_owedOn(loanId) - owedBefore != paid) _break("C1 a repaid unit went missing");
            ghostRepaid += paid;
            _checkAccrual(loanId, loan);
        } catch (bytes memory reason) {
            _checkNotPaused(reason, "repay");
            _break("repay of an active loan refused");
        }
        vm.stopPrank();
        _afterPayment(loanId, loan);
    }

    /// @notice C3: a foreclosure succeeds only in default, and always does in default when nothing is
    /// pending in the escrow (which could cure it).
    function foreclose(uint256 loanSeed, uint256 toSeed) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status != LoanStatus.Active) return;
        address holder = note.ownerOf(loanId);
        address to = actors[toSeed % actors.length];
        bool inDefault = facility.isInDefault(loanId);
        bool nothingPending = escrow.withdrawable(facility.custodyOf(loanId), address(usdc)) == 0;
        _advance(loanId);
        uint256 pending = escrow.withdrawable(facility.custodyOf(loanId), address(usdc));
        vm.prank(holder);
        try facility.foreclose(loanId, to) {
            if (!inDefault) _break("C3 an NFT was taken from a loan not in default");
            if (nft.ownerOf(loan.assetId) != to) _break("C3 a foreclosed NFT did not reach its recipient");
            ghostHarvested += pending;
            _checkAccrual(loanId, loan);
            _ghostOutstanding[loanId] = 0;
            foreclosures++;
        } catch (bytes memory reason) {
            _checkNotPaused(reason, "foreclose");
            if (inDefault && nothingPending) _break("foreclosure refused in default");
        }
    }

    function claimAsLender(uint256 loanSeed, uint256 toSeed) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status == LoanStatus.None || loan.status == LoanStatus.Requested) return;
        if (loan.status == LoanStatus.Cancelled) return;
        uint256 owed = facility.lenderClaimable(loanId);
        address to = actors[toSeed % actors.length];
        uint256 before = usdc.balanceOf(to);
        vm.prank(note.ownerOf(loanId));
        try facility.claimAsLender(loanId, to) returns (uint256 paid) {
            if (paid != owed || usdc.balanceOf(to) - before != paid) _break("lender claim paid a wrong amount");
            ghostClaimed += paid;
        } catch (bytes memory reason) {
            _checkNotPaused(reason, "claimAsLender");
            if (owed != 0) _break("lender claim refused");
        }
    }

    function claimAsBorrower(uint256 loanSeed) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status == LoanStatus.None) return;
        uint256 owed = loan.borrowerClaimable;
        vm.prank(loan.borrower);
        try facility.claimAsBorrower(loanId, loan.borrower) returns (uint256 paid) {
            if (paid != owed) _break("borrower claim paid a wrong amount");
            ghostClaimed += paid;
        } catch (bytes memory reason) {
            _checkNotPaused(reason, "claimAsBorrower");
            if (owed != 0) _break("borrower claim refused");
        }
    }

    function sellNote(uint256 loanSeed, uint256 toSeed) external {
        (uint256 loanId, Loan memory loan) = _loan(loanSeed);
        if (loan.status == LoanStatus.None || loan.status == LoanStatus.Requested) return;
        if (loan.status == LoanStatus.Cancelled) return;
        address holder = note.ownerOf(loanId);
        vm.prank(holder);
        note.transferFrom(holder, actors[toSeed % actors.length], loanId);
    }

    /// @notice The lease manager (the escrow's role, held here) gives an asset a user for a while.
    function lease(uint256 assetSeed, uint256 userSeed, uint256 duration) external {
        uint256 assetId = assets[assetSeed % assets.length];
        address user = address(uint160(0x1E55EE + (userSeed % 3)));
        uint64 expires = uint64(block.timestamp + bound(duration, 1, 60 days));
        try nft.setUser(assetId, user, expires) {
            ghostUser[assetId] = user;
            ghostExpires[assetId] = expires;
        } catch {
            return; // a live right cannot be replaced; the rules of the NFT are its own campaign's business
        }
    }

    function togglePause() external {
        bool paused = facility.paused();
        vm.prank(pauser);
        if (paused) facility.unpause();
        else facility.pause();
    }

    function warp(uint256 secondsAhead) external {
        uint256 loans = facility.loanCount();
        for (uint256 id = 1; id <= loans; id++) _advance(id);
        vm.warp(block.timestamp + bound(secondsAhead, 1, 12 days));
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Every unit the facility owes on a loan: lender proceeds unclaimed, borrower's, reserve.
    function _owedOn(uint256 loanId) internal view returns (uint256) {
        Loan memory loan = facility.loanOf(loanId);
        return facility.lenderClaimable(loanId) + loan.borrowerClaimable + loan.reserveBalance;
    }

    /// @dev Advances the ghost interest integral of an active loan to now.
    function _advance(uint256 loanId) internal {
        uint256 since = _ghostSince[loanId];
        if (since == 0 || block.timestamp <= since) return;
        ghostInterestScaled[loanId] +=
            _ghostOutstanding[loanId] *
            facility.loanOf(loanId).interestRateBpsPerYear *
            (block.timestamp - since);
        _ghostSince[loanId] = block.timestamp;
    }

    /// @dev After a payment: the ghost principal follows; a loan repaid in full returned its NFT.
    function _afterPayment(uint256 loanId, Loan memory before) internal {
        Loan memory loan = facility.loanOf(loanId);
        if (loan.status == LoanStatus.Active || loan.status == LoanStatus.Repaid) {
            _ghostOutstanding[loanId] = loan.principal - loan.principalRepaid;
        }
        if (before.status == LoanStatus.Active && loan.status == LoanStatus.Repaid) {
            fullRepayments++;
            if (nft.ownerOf(loan.assetId) != loan.borrower) _break("C3 a repaid loan's NFT went elsewhere");
            if (loan.principalRepaid != loan.principal) _break("C3 NFT released before full repayment");
        }
        if (loan.status == LoanStatus.Foreclosed && before.status != LoanStatus.Foreclosed) {
            _break("C3 a payment foreclosed a loan");
        }
    }

    /// @dev C5: a call that accrued an active loan's interest accrued exactly the ghost integral.
    function _checkAccrual(uint256 loanId, Loan memory before) internal {
        if (before.status != LoanStatus.Active) return;
        if (facility.loanOf(loanId).interestAccrued != ghostInterestNow(loanId)) {
            _break("C5 interest accrued differs from the exact integral");
        }
    }

    function _checkNotPaused(bytes memory reason, string memory what) internal {
        if (reason.length >= 4 && bytes4(reason) == Pausable.EnforcedPause.selector) {
            _break(string.concat("C6 pause blocked ", what));
        }
    }

    function _loan(uint256 seed) internal view returns (uint256 loanId, Loan memory loan) {
        uint256 count = facility.loanCount();
        if (count == 0) return (0, loan);
        loanId = (seed % count) + 1;
        loan = facility.loanOf(loanId);
    }

    function _terms(uint256 seed) internal view returns (CreditTerms memory terms) {
        uint256 period = bound(_word(seed, 0), 1 hours, 10 days);
        uint256 count = bound(_word(seed, 1), 1, 6);
        terms = CreditTerms({
            token: address(usdc),
            principal: bound(_word(seed, 2), 1, 1e12),
            reserveTarget: _word(seed, 3) % 3 == 0 ? 0 : bound(_word(seed, 4), 1, 1e11),
            interestRateBpsPerYear: uint16(bound(_word(seed, 5), 0, 5_000)),
            periodSeconds: uint32(period),
            periodCount: uint16(count),
            amortizationPeriods: uint16(bound(_word(seed, 6), 1, count)),
            graceSeconds: uint32(bound(_word(seed, 7), 0, period - 1))
        });
    }

    function _word(uint256 seed, uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, i)));
    }

    function _isActor(address account) internal view returns (bool) {
        for (uint256 i = 0; i < actors.length; i++) if (actors[i] == account) return true;
        return false;
    }

    function _break(string memory what) internal {
        ruleBreaks++;
        lastRuleBreak = what;
    }
}
