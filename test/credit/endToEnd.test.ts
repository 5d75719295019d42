import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, EndReason, expectLeaseBalanced, expectSolvent } from "../escrow/helpers";
import { LoanStatus, USDC } from "./fixtures";
import { LoanModel } from "./model";
import { closeLease, deploySystemWithLease, earnDay, lesseeView, type System } from "./system";

/**
 * The facility against the real SettlementEscrow and UsageOracle: a leased GPU server is pledged,
 * its lease revenue (signed meters → settlement → release to the NFT's owner, the custody) repays
 * the loan; a second loan defaults and is foreclosed while the lessee keeps computing. After every
 * step the lessee's user right and lease are exactly what they were, and the escrow stays balanced.
 */

const WEEK = 7n * DAY;

function creditTermsFor(sys: System, principal: bigint) {
  return {
    token: sys.token,
    principal,
    reserveTarget: 300n * USDC,
    interestRateBpsPerYear: 1_000n,
    periodSeconds: WEEK,
    periodCount: 4n,
    amortizationPeriods: 4n,
    graceSeconds: 2n * DAY,
  };
}

function modelOf(terms: ReturnType<typeof creditTermsFor>, startTime: bigint) {
  return new LoanModel(
    {
      principal: terms.principal,
      reserveTarget: terms.reserveTarget,
      interestRateBpsPerYear: terms.interestRateBpsPerYear,
      periodSeconds: terms.periodSeconds,
      periodCount: terms.periodCount,
      amortizationPeriods: terms.amortizationPeriods,
      graceSeconds: terms.graceSeconds,
    },
    startTime,
  );
}

/** Harvests whatever the escrow credited to the loan's custody and checks it against the model. */
async function harvestAndCheck(sys: System, loanId: bigint, model: LoanModel) {
  const pending = await sys.facility.pendingRevenue(loanId);
  if (pending === 0n) return 0n;
  const t = BigInt(await time.latest()) + 1n;
  await time.setNextBlockTimestamp(t);
  const expected = model.harvest(pending, t);
  const tx = sys.facility.connect(sys.payer).harvest(loanId);
  await expect(tx)
    .to.emit(sys.facility, "RevenueHarvested")
    .withArgs(loanId, sys.payer.address, pending, [
      expected.split.toInterest,
      expected.split.toPrincipal,
      expected.split.toReserve,
      expected.split.toBorrower,
    ]);
  const loan = await sys.facility.loanOf(loanId);
  expect(loan.interestPaid).to.equal(model.interestPaid);
  expect(loan.principalRepaid).to.equal(model.principalRepaid);
  expect(loan.reserveBalance).to.equal(model.reserve);
  return pending;
}

describe("CreditFacility end to end (real escrow and oracle)", () => {
  it("an operator borrows against a leased server and repays it from the lease revenue", async () => {
    const sys = await loadFixture(deploySystemWithLease);
    const { facility, nft, escrow, usdc, borrower, lender, lessee, assetId } = sys;
    const leaseBefore = await lesseeView(sys);
    expect(leaseBefore.user).to.equal(lessee.address);

    const terms = creditTermsFor(sys, 5_000n * USDC);
    await facility.connect(borrower).pledge(assetId, terms);
    const custody = await facility.custodyOf(1n);
    expect(await nft.ownerOf(assetId)).to.equal(custody);
    expect(await lesseeView(sys)).to.deep.equal(leaseBefore);

    await expect(facility.connect(lender).fund(1n)).to.changeTokenBalance(usdc, borrower, 5_000n * USDC);
    const model = modelOf(terms, (await facility.loanOf(1n)).startTime);

    // Two weeks of metered use; the custody, as NFT owner, is credited each released charge.
    let harvested = 0n;
    for (let day = 0; day < 14; day++) {
      await earnDay(sys);
      harvested += await harvestAndCheck(sys, 1n, model);
      expect(await lesseeView(sys)).to.deep.equal(leaseBefore);
      expect(await facility.isInDefault(1n)).to.equal(false);
    }
    // ~480 USDC a day (8 GPUs × 24 h × (2 + 0.5 × 1) USDC), billable a day after each reading; the
    // first day starts a few seconds after the lease does.
    expect(harvested).to.be.closeTo(13n * 480n * USDC, USDC);
    expect(escrowCredits(await escrow.queryFilter(escrow.filters.LeaseSettled(1n)), custody)).to.equal(harvested);
    // The installments due so far were paid from revenue; the borrower got the rest.
    expect((await facility.loanOf(1n)).principalRepaid).to.equal(model.principalRepaid);
    expect(model.principalRepaid).to.be.greaterThanOrEqual(2n * 1_250n * USDC);
    expect(await facility.borrowerClaimable(1n)).to.equal(model.borrowerClaimable);

    // The borrower prepays the rest: the NFT comes back at once, the lease runs on.
    const t = BigInt(await time.latest()) + 1n;
    await time.setNextBlockTimestamp(t);
    const debt = model.debt(t);
    await expect(facility.connect(borrower).repay(1n, ethers.MaxUint256))
      .to.emit(facility, "LoanRepaid")
      .withArgs(1n, assetId, borrower.address, model.reserve);
    model.repay(debt, t);
    expect(await nft.ownerOf(assetId)).to.equal(borrower.address);
    expect(await lesseeView(sys)).to.deep.equal(leaseBefore);
    expect(await facility.lenderClaimable(1n)).to.equal(model.lenderProceeds());
    expect(model.lenderProceeds()).to.be.greaterThan(5_000n * USDC);

    // From now on charges are the borrower's again, straight from the escrow.
    const borrowerBefore = await escrow.withdrawable(borrower.address, sys.token);
    await earnDay(sys);
    await earnDay(sys);
    expect(await escrow.withdrawable(borrower.address, sys.token)).to.be.greaterThan(borrowerBefore);
    // Everyone is paid out; the facility keeps nothing it does not owe.
    await facility.connect(lender).claimAsLender(1n, lender.address);
    await facility.connect(borrower).claimAsBorrower(1n, borrower.address);
    expect(await usdc.balanceOf(await facility.getAddress())).to.equal(0n);
    await expectLeaseBalanced(escrow, sys.leaseId);
  });

  it("a second loan defaults and is foreclosed while its lessee keeps computing", async () => {
    const sys = await loadFixture(deploySystemWithLease);
    const { facility, nft, escrow, usdc, borrower, lender, lessee, assetId, leaseId } = sys;
    const leaseBefore = await lesseeView(sys);
    // 40,000 USDC in four weekly installments of 10,000: far more than the lease earns.
    const terms = creditTermsFor(sys, 40_000n * USDC);
    await facility.connect(borrower).pledge(assetId, terms);
    await facility.connect(lender).fund(1n);
    const start = (await facility.loanOf(1n)).startTime;
    const model = modelOf(terms, start);
    const graceEnd = start + WEEK + 2n * DAY;
    while (BigInt(await time.latest()) + DAY + 1n < graceEnd) {
      await earnDay(sys);
      await harvestAndCheck(sys, 1n, model);
      expect(await facility.isInDefault(1n)).to.equal(false);
    }
    await time.setNextBlockTimestamp(graceEnd - 1n);
    await expect(facility.connect(lender).foreclose(1n, lender.address)).to.be.revertedWithCustomError(
      facility,
      "NotInDefault",
    );
    await time.setNextBlockTimestamp(graceEnd);
    const pending = await facility.pendingRevenue(1n);
    model.harvest(pending, graceEnd);
    expect(model.defaulted(graceEnd)).to.be.greaterThan(0n);
    await expect(facility.connect(lender).foreclose(1n, lender.address))
      .to.emit(facility, "LoanForeclosed")
      .withArgs(
        1n,
        assetId,
        lender.address,
        lender.address,
        model.principalOutstanding(),
        model.interestOwed(graceEnd),
      );
    expect((await facility.loanOf(1n)).status).to.equal(LoanStatus.Foreclosed);
    expect(await nft.ownerOf(assetId)).to.equal(lender.address);
    // The lessee: same user right, same lease, still metered and billed.
    expect(await lesseeView(sys)).to.deep.equal(leaseBefore);
    const lenderInEscrow = await escrow.withdrawable(lender.address, sys.token);
    const t = await earnDay(sys);
    expect(await escrow.withdrawable(lender.address, sys.token)).to.be.greaterThan(lenderInEscrow);
    expect(await nft.userOf(assetId)).to.equal(lessee.address);
    expect(t).to.be.lessThan(leaseBefore.endTime);

    // The lease runs to its end and closes as any other; the lessee gets its leftover deposit.
    await closeLease(sys);
    const lease = await escrow.leaseOf(leaseId);
    expect(lease.endReason).to.equal(EndReason.Expired);
    expect(lease.closed).to.equal(true);
    const [, , refunded] = await escrow.accountingOf(leaseId);
    expect(await escrow.withdrawable(lessee.address, sys.token)).to.equal(refunded);
    expect(refunded).to.be.greaterThan(0n);
    await expectLeaseBalanced(escrow, leaseId);
    await expectSolvent(escrow, usdc, [lessee.address, lender.address, borrower.address, await facility.custodyOf(1n)]);
    // The lender was paid what revenue reached the loan before foreclosure.
    expect(await facility.lenderClaimable(1n)).to.equal(model.lenderProceeds());
  });
});

/** Sum of the charges the escrow's settlements credited to `payee`. */
function escrowCredits(events: { args: { payee: string; charged: bigint } }[], payee: string): bigint {
  return events.filter((e) => e.args.payee === payee).reduce((sum, e) => sum + e.args.charged, 0n);
}
