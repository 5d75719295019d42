import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CreditCustody__factory } from "../../typechain-types";
import { DAY, termsFor } from "../escrow/helpers";
import { LoanStatus, USDC } from "./fixtures";
import { deploySystemWithLease, lesseeView, type System } from "./system";

/**
 * Lease terms of a pledged asset, through its custody account, on the real SettlementEscrow: frozen
 * before funding, changed by the borrower and the note's side together afterwards.
 */

/** LeaseTerms as the contract ABI-encodes it (field order of contracts/types/EscrowTypes.sol). */
const LEASE_TERMS_TYPE = "tuple(address,uint256,uint256,uint256,uint64,uint64,uint16,bool)";

function changeHash(terms: ReturnType<typeof termsFor>): string {
  const fields = [
    terms.token,
    terms.reservationPricePerGpuHour,
    terms.usagePricePerBusyGpuHour,
    terms.energyPricePerKWh,
    terms.minDurationSeconds,
    terms.maxDurationSeconds,
    terms.slaAvailabilityBps,
    terms.earlyEndAllowed,
  ];
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode([LEASE_TERMS_TYPE], [fields]));
}

function creditTerms(sys: System) {
  return {
    token: sys.token,
    principal: 1_000n * USDC,
    reserveTarget: 0n,
    interestRateBpsPerYear: 800n,
    periodSeconds: 7n * DAY,
    periodCount: 4n,
    amortizationPeriods: 4n,
    graceSeconds: DAY,
  };
}

async function pledged() {
  const sys = await deploySystemWithLease();
  await sys.facility.connect(sys.borrower).pledge(sys.assetId, creditTerms(sys));
  const custody = CreditCustody__factory.connect(await sys.facility.custodyOf(1n), sys.borrower);
  return { ...sys, custody, loanId: 1n };
}

async function funded() {
  const sys = await pledged();
  await sys.facility.connect(sys.lender).fund(sys.loanId);
  return sys;
}

describe("CreditCustody lease terms", () => {
  const cheaper = (token: string) => termsFor(token, { reservationPricePerGpuHour: 1n * USDC });

  describe("before funding", () => {
    it("keeps the terms frozen: what the lender sees is what it funds", async () => {
      const sys = await loadFixture(pledged);
      await expect(sys.custody.setLeaseTerms(sys.loanId, cheaper(sys.token)))
        .to.be.revertedWithCustomError(sys.custody, "LoanNotActive")
        .withArgs(sys.loanId, LoanStatus.Requested);
      await expect(sys.custody.removeLeaseTerms(sys.loanId))
        .to.be.revertedWithCustomError(sys.custody, "LoanNotActive")
        .withArgs(sys.loanId, LoanStatus.Requested);
      expect((await sys.escrow.leaseTermsOf(sys.assetId)).reservationPricePerGpuHour).to.equal(2n * USDC);
    });

    it("refuses another loan's id", async () => {
      const sys = await loadFixture(pledged);
      await expect(sys.custody.setLeaseTerms(2n, cheaper(sys.token)))
        .to.be.revertedWithCustomError(sys.custody, "NotCustodyOfLoan")
        .withArgs(2n);
    });
  });

  describe("while the loan is active", () => {
    it("refuses terms in another token", async () => {
      const sys = await loadFixture(funded);
      const other = ethers.Wallet.createRandom().address;
      await expect(sys.custody.setLeaseTerms(sys.loanId, termsFor(other)))
        .to.be.revertedWithCustomError(sys.custody, "LeaseTermsTokenMismatch")
        .withArgs(other, sys.token);
    });

    it("records the first side's consent and changes the terms when the other side agrees", async () => {
      const sys = await loadFixture(funded);
      const terms = cheaper(sys.token);
      const hash = changeHash(terms);
      await expect(sys.custody.setLeaseTerms(sys.loanId, terms))
        .to.emit(sys.custody, "LeaseTermsChangeConsented")
        .withArgs(sys.loanId, sys.borrower.address, hash)
        .and.not.to.emit(sys.escrow, "LeaseTermsSet");
      expect(await sys.custody.pendingConsent()).to.deep.equal([hash, sys.borrower.address, false]);
      await expect(sys.custody.setLeaseTerms(sys.loanId, terms))
        .to.be.revertedWithCustomError(sys.custody, "ConsentAlreadyGiven")
        .withArgs(sys.loanId, sys.borrower.address, hash);
      await expect(sys.custody.connect(sys.lender).setLeaseTerms(sys.loanId, terms))
        .to.emit(sys.custody, "LeaseTermsChanged")
        .withArgs(sys.loanId, hash)
        .and.to.emit(sys.escrow, "LeaseTermsSet");
      expect(await sys.custody.pendingConsent()).to.deep.equal([ethers.ZeroHash, ethers.ZeroAddress, false]);
      expect((await sys.escrow.leaseTermsOf(sys.assetId)).reservationPricePerGpuHour).to.equal(1n * USDC);
    });

    it("works in the other order, and an approved operator of the note may act for its holder", async () => {
      const sys = await loadFixture(funded);
      const terms = cheaper(sys.token);
      await sys.note.connect(sys.lender).setApprovalForAll(sys.buyer.address, true);
      await expect(sys.custody.connect(sys.buyer).setLeaseTerms(sys.loanId, terms))
        .to.emit(sys.custody, "LeaseTermsChangeConsented")
        .withArgs(sys.loanId, sys.lender.address, changeHash(terms));
      await expect(sys.custody.setLeaseTerms(sys.loanId, terms)).to.emit(sys.escrow, "LeaseTermsSet");
    });

    it("replaces a pending consent by a different proposal, without changing the terms", async () => {
      const sys = await loadFixture(funded);
      const first = cheaper(sys.token);
      const second = termsFor(sys.token, { usagePricePerBusyGpuHour: 3n * USDC });
      await sys.custody.setLeaseTerms(sys.loanId, first);
      await expect(sys.custody.connect(sys.lender).setLeaseTerms(sys.loanId, second))
        .to.emit(sys.custody, "LeaseTermsChangeConsented")
        .withArgs(sys.loanId, sys.lender.address, changeHash(second));
      expect((await sys.escrow.leaseTermsOf(sys.assetId)).reservationPricePerGpuHour).to.equal(2n * USDC);
      await expect(sys.custody.setLeaseTerms(sys.loanId, second)).to.emit(sys.escrow, "LeaseTermsSet");
    });

    it("does not hold a note's buyer to its seller's consent", async () => {
      const sys = await loadFixture(funded);
      const terms = cheaper(sys.token);
      await sys.custody.connect(sys.lender).setLeaseTerms(sys.loanId, terms);
      await sys.note.connect(sys.lender).transferFrom(sys.lender.address, sys.buyer.address, sys.loanId);
      await expect(sys.custody.setLeaseTerms(sys.loanId, terms))
        .to.emit(sys.custody, "LeaseTermsChangeConsented")
        .withArgs(sys.loanId, sys.borrower.address, changeHash(terms))
        .and.not.to.emit(sys.escrow, "LeaseTermsSet");
      await expect(sys.custody.connect(sys.lender).setLeaseTerms(sys.loanId, terms))
        .to.be.revertedWithCustomError(sys.custody, "NotLoanParty")
        .withArgs(sys.loanId, sys.lender.address);
      await expect(sys.custody.connect(sys.buyer).setLeaseTerms(sys.loanId, terms)).to.emit(
        sys.escrow,
        "LeaseTermsSet",
      );
    });

    it("removes the terms by the same rule, and the open lease keeps its own", async () => {
      const sys = await loadFixture(funded);
      const before = await lesseeView(sys);
      const remove = await sys.custody.REMOVE_LEASE_TERMS();
      expect(remove).to.equal(ethers.id("CreditCustody.removeLeaseTerms"));
      await expect(sys.custody.removeLeaseTerms(sys.loanId))
        .to.emit(sys.custody, "LeaseTermsChangeConsented")
        .withArgs(sys.loanId, sys.borrower.address, remove);
      await expect(sys.custody.connect(sys.lender).removeLeaseTerms(sys.loanId))
        .to.emit(sys.escrow, "LeaseTermsRemoved")
        .withArgs(sys.assetId, await sys.custody.getAddress());
      expect((await sys.escrow.leaseTermsOf(sys.assetId)).token).to.equal(ethers.ZeroAddress);
      expect(await lesseeView(sys)).to.deep.equal(before);
    });

    it("lets a borrower that holds its own note decide alone, and refuses strangers", async () => {
      const sys = await loadFixture(pledged);
      await sys.facility.connect(sys.borrower).fund(sys.loanId);
      await expect(sys.custody.connect(sys.other).setLeaseTerms(sys.loanId, cheaper(sys.token)))
        .to.be.revertedWithCustomError(sys.custody, "NotLoanParty")
        .withArgs(sys.loanId, sys.other.address);
      await expect(sys.custody.setLeaseTerms(sys.loanId, cheaper(sys.token))).to.emit(sys.escrow, "LeaseTermsSet");
    });
  });

  it("refuses changes once the loan is closed", async () => {
    const sys = await loadFixture(funded);
    await time.setNextBlockTimestamp(BigInt(await time.latest()) + DAY);
    await sys.facility.connect(sys.borrower).repay(sys.loanId, ethers.MaxUint256);
    await expect(sys.custody.setLeaseTerms(sys.loanId, cheaper(sys.token)))
      .to.be.revertedWithCustomError(sys.custody, "LoanNotActive")
      .withArgs(sys.loanId, LoanStatus.Repaid);
    await expect(sys.custody.removeLeaseTerms(sys.loanId))
      .to.be.revertedWithCustomError(sys.custody, "LoanNotActive")
      .withArgs(sys.loanId, LoanStatus.Repaid);
  });
});
