import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { CreditCustody__factory, CreditFacility__factory, MockUSDC__factory } from "../../typechain-types";
import {
  DAY,
  GRACE,
  INSTALLMENT,
  LoanStatus,
  PERIOD,
  PERIODS,
  PRINCIPAL,
  RESERVE,
  at,
  credit,
  creditTerms,
  deployFacility,
  fundedFixture,
  giveUser,
  modelTerms,
  owedByFacility,
  pledgedFixture,
  USDC,
} from "./fixtures";
import { INTEREST_DENOMINATOR, LoanModel } from "./model";

/** Simple interest on the full principal for `seconds` (the standard terms' 12 %). */
const interestOn = (principal: bigint, seconds: bigint) => (principal * 1200n * seconds) / INTEREST_DENOMINATOR;
const splitOf = (s: { toInterest: bigint; toPrincipal: bigint; toReserve: bigint; toBorrower: bigint }) => [
  s.toInterest,
  s.toPrincipal,
  s.toReserve,
  s.toBorrower,
];

describe("CreditFacility", () => {
  describe("constructor", () => {
    it("refuses a zero admin, NFT or escrow", async () => {
      const { admin, nft, escrow } = await loadFixture(deployFacility);
      const factory = new CreditFacility__factory(admin);
      const [n, e] = [await nft.getAddress(), await escrow.getAddress()];
      await expect(factory.deploy(ethers.ZeroAddress, n, e)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(admin.address, ethers.ZeroAddress, e)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(admin.address, n, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
    });

    it("wires the NFT, the escrow, its note and custody implementation, and gives the admin its role", async () => {
      const { admin, nft, escrow, facility, note } = await loadFixture(deployFacility);
      const facilityAddress = await facility.getAddress();
      expect(await facility.nft()).to.equal(await nft.getAddress());
      expect(await facility.escrow()).to.equal(await escrow.getAddress());
      expect(await note.facility()).to.equal(facilityAddress);
      expect(await note.name()).to.equal("Compute Credit Note");
      expect(await note.symbol()).to.equal("CCN");
      const implementation = CreditCustody__factory.connect(await facility.custodyImplementation(), admin);
      expect(await implementation.facility()).to.equal(facilityAddress);
      expect(await implementation.nft()).to.equal(await nft.getAddress());
      expect(await implementation.escrow()).to.equal(await escrow.getAddress());
      expect(await facility.hasRole(await facility.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await facility.loanCount()).to.equal(0n);
      expect(await facility.MIN_PERIOD_SECONDS()).to.equal(3600n);
    });
  });

  describe("pause / unpause", () => {
    it("is the pauser's only, and stops pledging and funding", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.connect(f.other).pause())
        .to.be.revertedWithCustomError(f.facility, "AccessControlUnauthorizedAccount")
        .withArgs(f.other.address, await f.facility.PAUSER_ROLE());
      await f.facility.connect(f.pauser).pause();
      await expect(f.facility.connect(f.borrower).pledge(2n, f.terms)).to.be.revertedWithCustomError(
        f.facility,
        "EnforcedPause",
      );
      await expect(f.facility.connect(f.lender).fund(f.loanId)).to.be.revertedWithCustomError(
        f.facility,
        "EnforcedPause",
      );
      await expect(f.facility.connect(f.other).unpause()).to.be.revertedWithCustomError(
        f.facility,
        "AccessControlUnauthorizedAccount",
      );
      await f.facility.connect(f.pauser).unpause();
      await f.facility.connect(f.lender).fund(f.loanId);
    });

    it("never stops repayment, harvest, foreclosure, cancellation or claims", async () => {
      const f = await loadFixture(fundedFixture);
      await f.facility.connect(f.borrower).pledge(2n, f.terms); // loan 2, requested
      await credit(f, f.custody, 2_000n * USDC);
      await f.facility.connect(f.pauser).pause();
      await f.facility.connect(f.other).harvest(f.loanId);
      await f.facility.connect(f.payer).repay(f.loanId, 10n * USDC);
      await f.facility.connect(f.lender).claimAsLender(f.loanId, f.lender.address);
      await f.facility.connect(f.borrower).cancel(2n);
      await at(f.startTime + PERIOD + GRACE + DAY * 40n);
      await f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address);
      expect((await f.facility.loanOf(f.loanId)).status).to.equal(LoanStatus.Foreclosed);
    });
  });

  describe("pledge", () => {
    it("moves the NFT into the loan's new custody account and records the terms", async () => {
      const f = await loadFixture(deployFacility);
      const custody = await f.facility.custodyOf(1n);
      await expect(f.facility.connect(f.borrower).pledge(f.assetId, f.terms))
        .to.emit(f.facility, "AssetPledged")
        .withArgs(1n, f.assetId, f.borrower.address, custody, Object.values(f.terms))
        .and.to.emit(f.nft, "Transfer")
        .withArgs(f.borrower.address, custody, f.assetId);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(custody);
      expect(await ethers.provider.getCode(custody)).to.not.equal("0x");
      expect(await CreditCustody__factory.connect(custody, f.admin).facility()).to.equal(await f.facility.getAddress());
      const loan = await f.facility.loanOf(1n);
      expect(loan.borrower).to.equal(f.borrower.address);
      expect(loan.assetId).to.equal(f.assetId);
      expect(loan.status).to.equal(LoanStatus.Requested);
      expect(loan.token).to.equal(f.terms.token);
      expect([loan.principal, loan.reserveTarget, loan.interestRateBpsPerYear]).to.deep.equal([
        PRINCIPAL,
        RESERVE,
        1200n,
      ]);
      expect([loan.periodSeconds, loan.periodCount, loan.amortizationPeriods, loan.graceSeconds]).to.deep.equal([
        PERIOD,
        PERIODS,
        PERIODS,
        GRACE,
      ]);
      expect(loan.startTime).to.equal(0n);
      expect(await f.facility.loanCount()).to.equal(1n);
    });

    it("gives every loan its own custody account", async () => {
      const f = await loadFixture(pledgedFixture);
      await f.facility.connect(f.borrower).pledge(2n, f.terms);
      const second = await f.facility.custodyOf(2n);
      expect(second).to.not.equal(f.custody);
      expect(await f.nft.ownerOf(2n)).to.equal(second);
      expect(await f.facility.loanCount()).to.equal(2n);
    });

    it("leaves a live user right exactly as it was", async () => {
      const f = await loadFixture(deployFacility);
      const expires = await giveUser(f.nft, f.leaseManager, f.assetId, f.other.address);
      await f.facility.connect(f.borrower).pledge(f.assetId, f.terms);
      expect(await f.nft.userOf(f.assetId)).to.equal(f.other.address);
      expect(await f.nft.userExpires(f.assetId)).to.equal(expires);
    });

    it("refuses a caller that does not own the asset", async () => {
      const f = await loadFixture(deployFacility);
      await expect(f.facility.connect(f.other).pledge(f.assetId, f.terms))
        .to.be.revertedWithCustomError(f.facility, "NotAssetOwner")
        .withArgs(f.assetId, f.other.address);
    });

    it("refuses an owner who has not approved the facility (the NFT's own error)", async () => {
      const f = await loadFixture(deployFacility);
      await f.nft.connect(f.borrower).setApprovalForAll(await f.facility.getAddress(), false);
      await expect(f.facility.connect(f.borrower).pledge(f.assetId, f.terms))
        .to.be.revertedWithCustomError(f.nft, "ERC721InsufficientApproval")
        .withArgs(await f.facility.getAddress(), f.assetId);
    });

    it("refuses an asset whose current lease terms are in another token, and accepts the loan's token", async () => {
      const f = await loadFixture(deployFacility);
      const other = ethers.Wallet.createRandom().address;
      const leaseTerms = (token: string) => ({
        token,
        reservationPricePerGpuHour: USDC,
        usagePricePerBusyGpuHour: 0n,
        energyPricePerKWh: 0n,
        minDurationSeconds: 3600n,
        maxDurationSeconds: 30n * DAY,
        slaAvailabilityBps: 0n,
        earlyEndAllowed: true,
      });
      await f.escrow.connect(f.borrower).setLeaseTerms(f.assetId, leaseTerms(other));
      await expect(f.facility.connect(f.borrower).pledge(f.assetId, f.terms))
        .to.be.revertedWithCustomError(f.facility, "LeaseTermsInOtherToken")
        .withArgs(f.assetId, other, f.terms.token);
      await f.escrow.connect(f.borrower).setLeaseTerms(f.assetId, leaseTerms(f.terms.token));
      await f.facility.connect(f.borrower).pledge(f.assetId, f.terms);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(await f.facility.custodyOf(1n));
    });

    it("refuses invalid terms, each with its error, and changes nothing", async () => {
      const f = await loadFixture(deployFacility);
      const pledge = (overrides: Record<string, unknown>) =>
        f.facility.connect(f.borrower).pledge(f.assetId, { ...f.terms, ...overrides });
      await expect(pledge({ token: ethers.ZeroAddress })).to.be.revertedWithCustomError(f.facility, "ZeroToken");
      await expect(pledge({ principal: 0n })).to.be.revertedWithCustomError(f.facility, "ZeroPrincipal");
      await expect(pledge({ periodSeconds: 3599n }))
        .to.be.revertedWithCustomError(f.facility, "PeriodTooShort")
        .withArgs(3599n);
      await expect(pledge({ periodCount: 0n, amortizationPeriods: 0n }))
        .to.be.revertedWithCustomError(f.facility, "InvalidSchedule")
        .withArgs(0n, 0n);
      await expect(pledge({ amortizationPeriods: 0n }))
        .to.be.revertedWithCustomError(f.facility, "InvalidSchedule")
        .withArgs(PERIODS, 0n);
      await expect(pledge({ amortizationPeriods: 13n }))
        .to.be.revertedWithCustomError(f.facility, "InvalidSchedule")
        .withArgs(PERIODS, 13n);
      await expect(pledge({ graceSeconds: PERIOD }))
        .to.be.revertedWithCustomError(f.facility, "GraceNotShorterThanPeriod")
        .withArgs(PERIOD, PERIOD);
      await expect(pledge({ principal: 2n ** 96n }))
        .to.be.revertedWithCustomError(f.facility, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
      await expect(pledge({ reserveTarget: 2n ** 128n }))
        .to.be.revertedWithCustomError(f.facility, "SafeCastOverflowedUintDowncast")
        .withArgs(128, 2n ** 128n);
      expect(await f.facility.loanCount()).to.equal(0n);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.borrower.address);
    });

    it("accepts the edges of the valid terms: a one-hour period, grace one second short of it, a bullet", async () => {
      const f = await loadFixture(deployFacility);
      await f.facility
        .connect(f.borrower)
        .pledge(f.assetId, { ...f.terms, periodSeconds: 3600n, graceSeconds: 3599n, amortizationPeriods: 1n });
      expect((await f.facility.loanOf(1n)).status).to.equal(LoanStatus.Requested);
    });
  });

  describe("cancel", () => {
    it("returns the NFT to the borrower and closes the request", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.connect(f.borrower).cancel(f.loanId))
        .to.emit(f.facility, "PledgeCancelled")
        .withArgs(f.loanId, f.assetId, f.borrower.address)
        .and.to.emit(f.nft, "Transfer")
        .withArgs(f.custody, f.borrower.address, f.assetId);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.borrower.address);
      expect((await f.facility.loanOf(f.loanId)).status).to.equal(LoanStatus.Cancelled);
    });

    it("refuses anyone but the borrower, an unknown loan, and a loan no longer requested", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.connect(f.other).cancel(f.loanId))
        .to.be.revertedWithCustomError(f.facility, "NotBorrower")
        .withArgs(f.loanId, f.other.address);
      await expect(f.facility.connect(f.borrower).cancel(9n))
        .to.be.revertedWithCustomError(f.facility, "UnknownLoan")
        .withArgs(9n);
      await f.facility.connect(f.lender).fund(f.loanId);
      await expect(f.facility.connect(f.borrower).cancel(f.loanId))
        .to.be.revertedWithCustomError(f.facility, "LoanNotRequested")
        .withArgs(f.loanId, LoanStatus.Active);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.custody);
    });

    it("leaves revenue that reached the custody harvestable for the borrower", async () => {
      const f = await loadFixture(pledgedFixture);
      await credit(f, f.custody, 7n * USDC);
      await f.facility.connect(f.borrower).cancel(f.loanId);
      await expect(f.facility.connect(f.other).harvest(f.loanId))
        .to.emit(f.facility, "RevenueHarvested")
        .withArgs(f.loanId, f.other.address, 7n * USDC, [0n, 0n, 0n, 7n * USDC]);
      expect(await f.facility.borrowerClaimable(f.loanId)).to.equal(7n * USDC);
    });
  });

  describe("fund", () => {
    it("pays the principal to the borrower, mints the note to the lender and starts the schedule", async () => {
      const f = await loadFixture(pledgedFixture);
      const start = BigInt(await time.latest()) + 10n;
      await at(start);
      const tx = f.facility.connect(f.lender).fund(f.loanId);
      await expect(tx)
        .to.emit(f.facility, "LoanFunded")
        .withArgs(f.loanId, f.lender.address, PRINCIPAL, start, start + PERIODS * PERIOD)
        .and.to.emit(f.note, "Transfer")
        .withArgs(ethers.ZeroAddress, f.lender.address, f.loanId);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.lender, f.borrower], [-PRINCIPAL, PRINCIPAL]);
      expect(await f.note.ownerOf(f.loanId)).to.equal(f.lender.address);
      const loan = await f.facility.loanOf(f.loanId);
      expect(loan.status).to.equal(LoanStatus.Active);
      expect([loan.startTime, loan.lastAccrualTime]).to.deep.equal([start, start]);
      const position = await f.facility.positionOf(f.loanId);
      expect(position.principalOutstanding).to.equal(PRINCIPAL);
      expect(position.nextDueDate).to.equal(start + PERIOD);
      expect(position.principalDueByNextDueDate).to.equal(INSTALLMENT);
    });

    it("refuses an unknown loan, a second funding, a cancelled loan and a lender without allowance", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.connect(f.lender).fund(5n))
        .to.be.revertedWithCustomError(f.facility, "UnknownLoan")
        .withArgs(5n);
      await f.usdc.connect(f.lender).approve(await f.facility.getAddress(), PRINCIPAL - 1n);
      await expect(f.facility.connect(f.lender).fund(f.loanId))
        .to.be.revertedWithCustomError(f.usdc, "ERC20InsufficientAllowance")
        .withArgs(await f.facility.getAddress(), PRINCIPAL - 1n, PRINCIPAL);
      expect((await f.facility.loanOf(f.loanId)).status).to.equal(LoanStatus.Requested);
      await f.usdc.connect(f.lender).approve(await f.facility.getAddress(), ethers.MaxUint256);
      await f.facility.connect(f.lender).fund(f.loanId);
      await expect(f.facility.connect(f.buyer).fund(f.loanId))
        .to.be.revertedWithCustomError(f.facility, "LoanNotRequested")
        .withArgs(f.loanId, LoanStatus.Active);
      await f.facility.connect(f.borrower).pledge(2n, f.terms);
      await f.facility.connect(f.borrower).cancel(2n);
      await expect(f.facility.connect(f.lender).fund(2n))
        .to.be.revertedWithCustomError(f.facility, "LoanNotRequested")
        .withArgs(2n, LoanStatus.Cancelled);
    });

    it("lets a borrower fund its own loan: nothing moves, the borrower holds the note", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.connect(f.borrower).fund(f.loanId)).to.changeTokenBalance(f.usdc, f.borrower, 0n);
      expect(await f.note.ownerOf(f.loanId)).to.equal(f.borrower.address);
    });
  });

  describe("harvest", () => {
    it("refuses an unknown loan and an empty escrow balance", async () => {
      const f = await loadFixture(fundedFixture);
      await expect(f.facility.harvest(4n)).to.be.revertedWithCustomError(f.facility, "UnknownLoan").withArgs(4n);
      await expect(f.facility.harvest(f.loanId))
        .to.be.revertedWithCustomError(f.facility, "NothingToHarvest")
        .withArgs(f.loanId);
    });

    it("gives a requested loan's revenue to the borrower", async () => {
      const f = await loadFixture(pledgedFixture);
      await credit(f, f.custody, 3n * USDC);
      expect(await f.facility.pendingRevenue(f.loanId)).to.equal(3n * USDC);
      await expect(f.facility.connect(f.other).harvest(f.loanId))
        .to.emit(f.facility, "RevenueHarvested")
        .withArgs(f.loanId, f.other.address, 3n * USDC, [0n, 0n, 0n, 3n * USDC]);
      expect(await f.facility.pendingRevenue(f.loanId)).to.equal(0n);
    });

    describe("when the loan is current", () => {
      it("pays the interest accrued, then the coming installment, then fills the reserve", async () => {
        const f = await loadFixture(fundedFixture);
        await credit(f, f.custody, 1_000n * USDC);
        const t = f.startTime + 10n * DAY;
        await at(t);
        const interest = interestOn(PRINCIPAL, 10n * DAY);
        expect(interest).to.equal(32_876_712n);
        const rest = 1_000n * USDC - interest - INSTALLMENT;
        const tx = f.facility.connect(f.other).harvest(f.loanId);
        await expect(tx)
          .to.emit(f.facility, "RevenueHarvested")
          .withArgs(f.loanId, f.other.address, 1_000n * USDC, [interest, INSTALLMENT, rest, 0n]);
        await expect(tx).to.changeTokenBalances(f.usdc, [f.escrow, f.facility], [-1_000n * USDC, 1_000n * USDC]);
        const loan = await f.facility.loanOf(f.loanId);
        expect([loan.interestPaid, loan.principalRepaid, loan.reserveBalance]).to.deep.equal([
          interest,
          INSTALLMENT,
          rest,
        ]);
        expect(await f.facility.lenderClaimable(f.loanId)).to.equal(interest + INSTALLMENT);
        // The installment is covered: the next harvest fills the reserve, then pays the borrower.
        await credit(f, f.custody, 1_000n * USDC);
        await at(t + DAY);
        const dayInterest = interestOn(PRINCIPAL - INSTALLMENT, DAY) + 0n;
        const next = await f.facility.connect(f.other).harvest(f.loanId);
        const receipt = await next.wait();
        const event = f.facility.interface.parseLog(
          receipt!.logs.find((l) => l.address === (f.facility.target as string))!,
        )!;
        const split = event.args.split;
        expect(split.toPrincipal).to.equal(0n);
        expect(split.toReserve).to.equal(RESERVE - rest);
        expect(split.toInterest + split.toReserve + split.toBorrower).to.equal(1_000n * USDC);
        expect(split.toInterest - dayInterest <= 1n).to.equal(true); // the carried remainder may add one unit
        expect((await f.facility.loanOf(f.loanId)).reserveBalance).to.equal(RESERVE);
        expect(await f.facility.borrowerClaimable(f.loanId)).to.equal(split.toBorrower);
      });

      it("gives everything to interest when revenue is smaller than the interest accrued", async () => {
        const f = await loadFixture(fundedFixture);
        await credit(f, f.custody, 5n * USDC);
        await at(f.startTime + 10n * DAY);
        await expect(f.facility.harvest(f.loanId))
          .to.emit(f.facility, "RevenueHarvested")
          .withArgs(f.loanId, anyValue, 5n * USDC, [5n * USDC, 0n, 0n, 0n]);
      });

      it("matches the reference model harvest after harvest, and conserves every unit", async () => {
        const f = await loadFixture(fundedFixture);
        const model = f.model();
        let t = f.startTime;
        const amounts = [400n, 50n, 1_500n, 10n, 900n, 2_000n, 0n, 700n].map((a) => a * USDC + 123_457n);
        for (const [i, amount] of amounts.entries()) {
          t += 13n * DAY + BigInt(i) * 3_607n;
          await credit(f, f.custody, amount);
          await at(t);
          const expected = model.harvest(amount, t);
          await expect(f.facility.harvest(f.loanId))
            .to.emit(f.facility, "RevenueHarvested")
            .withArgs(f.loanId, anyValue, amount, splitOf(expected.split));
          const loan = await f.facility.loanOf(f.loanId);
          expect(loan.interestPaid, `harvest ${i} interest`).to.equal(model.interestPaid);
          expect(loan.principalRepaid, `harvest ${i} principal`).to.equal(model.principalRepaid);
          expect(loan.reserveBalance, `harvest ${i} reserve`).to.equal(model.reserve);
          expect(loan.borrowerClaimable, `harvest ${i} borrower`).to.equal(model.borrowerClaimable);
          expect(await f.usdc.balanceOf(await f.facility.getAddress())).to.equal(
            await owedByFacility(f.facility, [1n]),
          );
        }
      });
    });

    describe("when an installment is overdue", () => {
      it("lets the reserve pay what revenue does not cover, so the loan stays out of default", async () => {
        const f = await loadFixture(deployFacility);
        const terms = { ...f.terms, reserveTarget: 2_000n * USDC };
        await f.facility.connect(f.borrower).pledge(f.assetId, terms);
        await f.facility.connect(f.lender).fund(1n);
        const custody = await f.facility.custodyOf(1n);
        const start = (await f.facility.loanOf(1n)).startTime;
        const model = new LoanModel(modelTerms(terms), start);
        // Revenue early in the first period fills the reserve beyond the first installment.
        await credit(f, custody, 4_000n * USDC);
        await at(start + DAY);
        model.harvest(4_000n * USDC, start + DAY);
        await f.facility.harvest(1n);
        expect((await f.facility.loanOf(1n)).reserveBalance).to.equal(2_000n * USDC);
        // Nothing more is paid: at the end of the second due date's grace, one unit of revenue arrives.
        const graceEnd = start + 2n * PERIOD + GRACE;
        await credit(f, custody, 1n);
        await at(graceEnd);
        const expected = model.harvest(1n, graceEnd);
        expect(expected.drawn[0] + expected.drawn[1]).to.be.greaterThan(0n);
        await expect(f.facility.harvest(1n))
          .to.emit(f.facility, "ReserveDrawn")
          .withArgs(1n, expected.drawn[0], expected.drawn[1]);
        expect(await f.facility.isInDefault(1n)).to.equal(false);
        expect((await f.facility.loanOf(1n)).reserveBalance).to.equal(model.reserve);
        expect((await f.facility.positionOf(1n)).overdue).to.equal(0n);
        await expect(f.facility.connect(f.lender).foreclose(1n, f.lender.address))
          .to.be.revertedWithCustomError(f.facility, "NotInDefault")
          .withArgs(1n);
      });

      it("counts the reserve toward what is overdue before declaring a default", async () => {
        const f = await loadFixture(fundedFixture);
        await credit(f, f.custody, 2_000n * USDC);
        await at(f.startTime + DAY);
        await f.facility.harvest(f.loanId);
        // At the second due date's grace end the reserve (500) cannot cover the overdue amount (~1,011).
        const graceEnd = f.startTime + 2n * PERIOD + GRACE;
        await at(graceEnd);
        await mine();
        const position = await f.facility.positionOf(f.loanId);
        const model = f.model();
        model.harvest(2_000n * USDC, f.startTime + DAY);
        expect(position.defaulted).to.equal(model.defaulted(graceEnd));
        expect(position.defaulted).to.be.greaterThan(0n);
        expect(position.overdue).to.equal(position.defaulted);
      });

      it("sends all revenue to the lender, up to the whole debt, while in default", async () => {
        const f = await loadFixture(fundedFixture);
        const t = f.startTime + PERIOD + GRACE;
        await credit(f, f.custody, 3_000n * USDC);
        await at(t);
        const interest = interestOn(PRINCIPAL, PERIOD + GRACE);
        await expect(f.facility.harvest(f.loanId))
          .to.emit(f.facility, "RevenueHarvested")
          .withArgs(f.loanId, anyValue, 3_000n * USDC, [interest, 3_000n * USDC - interest, 0n, 0n]);
        expect(await f.facility.isInDefault(f.loanId)).to.equal(false);
      });
    });

    it("returns the NFT and releases the reserve when revenue repays the loan in full", async () => {
      const f = await loadFixture(fundedFixture);
      const expires = await giveUser(f.nft, f.leaseManager, f.assetId, f.other.address);
      await credit(f, f.custody, 2_000n * USDC);
      await at(f.startTime + DAY);
      await f.facility.harvest(f.loanId); // the reserve is full
      const t = f.startTime + 2n * DAY;
      const model = f.model();
      model.harvest(2_000n * USDC, f.startTime + DAY);
      await credit(f, f.custody, 20_000n * USDC);
      await at(t);
      const debt = model.debt(t);
      // Current, not in default: only the coming installment is owed, so the loan is not repaid by this.
      await f.facility.harvest(f.loanId);
      expect((await f.facility.loanOf(f.loanId)).status).to.equal(LoanStatus.Active);
      // The borrower repays the rest from its claimable revenue.
      const loanBefore = await f.facility.loanOf(f.loanId);
      await f.facility.connect(f.borrower).claimAsBorrower(f.loanId, f.borrower.address);
      const remaining = loanBefore.principal - loanBefore.principalRepaid;
      expect(debt).to.be.greaterThan(remaining);
      await expect(f.facility.connect(f.borrower).repay(f.loanId, ethers.MaxUint256))
        .to.emit(f.facility, "LoanRepaid")
        .withArgs(f.loanId, f.assetId, f.borrower.address, RESERVE);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.borrower.address);
      expect(await f.nft.userOf(f.assetId)).to.equal(f.other.address);
      expect(await f.nft.userExpires(f.assetId)).to.equal(expires);
      expect(await f.facility.borrowerClaimable(f.loanId)).to.equal(RESERVE);
    });

    it("completes the repayment of a loan whose last installment revenue covers, and pays the borrower the rest", async () => {
      const f = await loadFixture(deployFacility);
      // One period, bullet: at maturity everything is owed, so one harvest can repay it in full.
      await f.facility.connect(f.borrower).pledge(f.assetId, { ...f.terms, periodCount: 1n, amortizationPeriods: 1n });
      await f.facility.connect(f.lender).fund(1n);
      const loan = await f.facility.loanOf(1n);
      const custody = await f.facility.custodyOf(1n);
      const maturity = loan.startTime + PERIOD;
      await credit(f, custody, 11_000n * USDC);
      await at(maturity);
      const interest = interestOn(PRINCIPAL, PERIOD);
      await expect(f.facility.harvest(1n))
        .to.emit(f.facility, "RevenueHarvested")
        .withArgs(1n, anyValue, 11_000n * USDC, [interest, PRINCIPAL, RESERVE, 1_000n * USDC - interest - RESERVE])
        .and.to.emit(f.facility, "LoanRepaid")
        .withArgs(1n, f.assetId, f.borrower.address, RESERVE)
        .and.to.emit(f.nft, "Transfer")
        .withArgs(custody, f.borrower.address, f.assetId);
      expect((await f.facility.loanOf(1n)).status).to.equal(LoanStatus.Repaid);
      expect(await f.facility.borrowerClaimable(1n)).to.equal(1_000n * USDC - interest);
      // Later revenue (released before the NFT left) is still the borrower's.
      await credit(f, custody, USDC);
      await expect(f.facility.harvest(1n))
        .to.emit(f.facility, "RevenueHarvested")
        .withArgs(1n, anyValue, USDC, [0n, 0n, 0n, USDC]);
    });
  });

  describe("repay", () => {
    it("refuses a zero amount, an unknown loan and a loan that is not active", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.repay(f.loanId, 0n)).to.be.revertedWithCustomError(f.facility, "ZeroAmount");
      await expect(f.facility.repay(8n, 1n)).to.be.revertedWithCustomError(f.facility, "UnknownLoan").withArgs(8n);
      await expect(f.facility.repay(f.loanId, 1n))
        .to.be.revertedWithCustomError(f.facility, "LoanNotActive")
        .withArgs(f.loanId, LoanStatus.Requested);
    });

    it("pays interest first, then principal, from any payer", async () => {
      const f = await loadFixture(fundedFixture);
      const t = f.startTime + 15n * DAY;
      await at(t);
      const interest = interestOn(PRINCIPAL, 15n * DAY);
      const tx = f.facility.connect(f.payer).repay(f.loanId, 100n * USDC);
      await expect(tx)
        .to.emit(f.facility, "PaymentMade")
        .withArgs(f.loanId, f.payer.address, interest, 100n * USDC - interest);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.payer, f.facility], [-100n * USDC, 100n * USDC]);
      const position = await f.facility.positionOf(f.loanId);
      expect(position.principalOutstanding).to.equal(PRINCIPAL - (100n * USDC - interest));
      expect(position.interestOwed).to.equal(0n);
      expect(await f.facility.lenderClaimable(f.loanId)).to.equal(100n * USDC);
    });

    it("pulls no more than the debt, and full repayment returns the NFT at once", async () => {
      const f = await loadFixture(fundedFixture);
      const expires = await giveUser(f.nft, f.leaseManager, f.assetId, f.other.address);
      const t = f.startTime + 45n * DAY;
      await at(t);
      const debt = PRINCIPAL + interestOn(PRINCIPAL, 45n * DAY);
      const tx = f.facility.connect(f.borrower).repay(f.loanId, 50_000n * USDC);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.borrower, f.facility], [-debt, debt]);
      await expect(tx)
        .to.emit(f.facility, "LoanRepaid")
        .withArgs(f.loanId, f.assetId, f.borrower.address, 0n)
        .and.to.emit(f.nft, "Transfer")
        .withArgs(f.custody, f.borrower.address, f.assetId);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.borrower.address);
      expect(await f.nft.userOf(f.assetId)).to.equal(f.other.address);
      expect(await f.nft.userExpires(f.assetId)).to.equal(expires);
      expect((await f.facility.loanOf(f.loanId)).status).to.equal(LoanStatus.Repaid);
      expect(await f.facility.lenderClaimable(f.loanId)).to.equal(debt);
      await expect(f.facility.repay(f.loanId, 1n))
        .to.be.revertedWithCustomError(f.facility, "LoanNotActive")
        .withArgs(f.loanId, LoanStatus.Repaid);
    });

    it("accrues exactly the same interest however often the loan is touched", async () => {
      const f = await loadFixture(fundedFixture);
      const model = f.model();
      let t = f.startTime;
      for (let i = 0; i < 10; i++) {
        t += 3n * DAY + 17n;
        await at(t);
        const [toInterest, toPrincipal] = model.repay(1n, t);
        await expect(f.facility.connect(f.payer).repay(f.loanId, 1n))
          .to.emit(f.facility, "PaymentMade")
          .withArgs(f.loanId, anyValue, toInterest, toPrincipal);
      }
      t += 100n * DAY;
      await at(t);
      const [interest] = model.repay(ethers.MaxUint256, t);
      await expect(f.facility.connect(f.payer).repay(f.loanId, ethers.MaxUint256))
        .to.emit(f.facility, "PaymentMade")
        .withArgs(f.loanId, anyValue, interest, anyValue);
      expect((await f.facility.loanOf(f.loanId)).interestPaid).to.equal(model.interestPaid);
    });
  });

  describe("default and foreclose", () => {
    it("is not in default until the second the first grace period ends", async () => {
      const f = await loadFixture(fundedFixture);
      const graceEnd = f.startTime + PERIOD + GRACE;
      await at(graceEnd - 1n);
      await expect(f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "NotInDefault")
        .withArgs(f.loanId);
      await at(graceEnd);
      await mine();
      expect(await f.facility.isInDefault(f.loanId)).to.equal(true);
      const position = await f.facility.positionOf(f.loanId);
      const due = interestOn(PRINCIPAL, PERIOD) + INSTALLMENT;
      expect(position.overdue).to.equal(due);
      expect(position.defaulted).to.equal(due);
      expect(position.inDefault).to.equal(true);
    });

    it("forecloses: the NFT goes to the chosen recipient, the lessee keeps its right, the debt is written off", async () => {
      const f = await loadFixture(fundedFixture);
      const expires = await giveUser(f.nft, f.leaseManager, f.assetId, f.other.address);
      const t = f.startTime + PERIOD + GRACE;
      await at(t);
      const interest = interestOn(PRINCIPAL, PERIOD + GRACE);
      await expect(f.facility.connect(f.lender).foreclose(f.loanId, f.buyer.address))
        .to.emit(f.facility, "LoanForeclosed")
        .withArgs(f.loanId, f.assetId, f.buyer.address, f.lender.address, PRINCIPAL, interest)
        .and.to.emit(f.nft, "Transfer")
        .withArgs(f.custody, f.buyer.address, f.assetId);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.buyer.address);
      expect(await f.nft.userOf(f.assetId)).to.equal(f.other.address);
      expect(await f.nft.userExpires(f.assetId)).to.equal(expires);
      expect((await f.facility.loanOf(f.loanId)).status).to.equal(LoanStatus.Foreclosed);
      expect(await f.facility.isInDefault(f.loanId)).to.equal(false);
      await expect(f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "LoanNotActive")
        .withArgs(f.loanId, LoanStatus.Foreclosed);
    });

    it("is the note holder's or its approved operator's only, and needs a recipient", async () => {
      const f = await loadFixture(fundedFixture);
      await at(f.startTime + PERIOD + GRACE);
      await expect(f.facility.connect(f.borrower).foreclose(f.loanId, f.borrower.address))
        .to.be.revertedWithCustomError(f.facility, "NotNoteHolder")
        .withArgs(f.loanId, f.borrower.address);
      await expect(f.facility.connect(f.lender).foreclose(f.loanId, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(f.facility, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
      await f.note.connect(f.lender).approve(f.buyer.address, f.loanId);
      await f.facility.connect(f.buyer).foreclose(f.loanId, f.buyer.address);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.buyer.address);
    });

    it("refuses an unknown loan and one that is not active", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.foreclose(3n, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "UnknownLoan")
        .withArgs(3n);
      await expect(f.facility.foreclose(f.loanId, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "LoanNotActive")
        .withArgs(f.loanId, LoanStatus.Requested);
    });

    it("harvests first, so revenue the escrow holds can cure the default and block the foreclosure", async () => {
      const f = await loadFixture(fundedFixture);
      await credit(f, f.custody, 1_000n * USDC);
      await at(f.startTime + PERIOD + GRACE);
      await expect(f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "NotInDefault")
        .withArgs(f.loanId);
      // Nothing changed: the revenue is still in the escrow and the NFT in custody.
      expect(await f.facility.pendingRevenue(f.loanId)).to.equal(1_000n * USDC);
      expect(await f.nft.ownerOf(f.assetId)).to.equal(f.custody);
    });

    it("counts revenue harvested inside the foreclosure toward the debt when it does not cure", async () => {
      const f = await loadFixture(fundedFixture);
      await credit(f, f.custody, 10n * USDC);
      const t = f.startTime + PERIOD + GRACE;
      await at(t);
      const interest = interestOn(PRINCIPAL, PERIOD + GRACE);
      await expect(f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address))
        .to.emit(f.facility, "RevenueHarvested")
        .withArgs(f.loanId, f.lender.address, 10n * USDC, [10n * USDC, 0n, 0n, 0n])
        .and.to.emit(f.facility, "LoanForeclosed")
        .withArgs(f.loanId, f.assetId, f.lender.address, f.lender.address, PRINCIPAL, interest - 10n * USDC);
      expect(await f.facility.lenderClaimable(f.loanId)).to.equal(10n * USDC);
    });

    it("is cured by paying what is overdue (interest accrued first), and not by one unit less", async () => {
      const f = await loadFixture(fundedFixture);
      const t = f.startTime + PERIOD + GRACE + DAY;
      await at(t);
      await mine();
      expect((await f.facility.positionOf(f.loanId)).overdue).to.equal(interestOn(PRINCIPAL, PERIOD) + INSTALLMENT);
      // A payment goes to all interest accrued first, so the cure is that interest plus the installment.
      const cure = interestOn(PRINCIPAL, PERIOD + GRACE + DAY + 10n) + INSTALLMENT;
      const before = await takeSnapshot();
      await at(t + 10n);
      await f.facility.connect(f.borrower).repay(f.loanId, cure - 1n);
      expect(await f.facility.isInDefault(f.loanId)).to.equal(true);
      await before.restore();
      await at(t + 10n);
      await f.facility.connect(f.borrower).repay(f.loanId, cure);
      expect(await f.facility.isInDefault(f.loanId)).to.equal(false);
      await expect(f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address)).to.be.revertedWithCustomError(
        f.facility,
        "NotInDefault",
      );
    });

    it("defaults a bullet loan not repaid at maturity plus grace", async () => {
      const f = await loadFixture(deployFacility);
      await f.facility.connect(f.borrower).pledge(f.assetId, { ...f.terms, periodCount: 3n, amortizationPeriods: 1n });
      await f.facility.connect(f.lender).fund(1n);
      const start = (await f.facility.loanOf(1n)).startTime;
      // Interest paid on time at every due date; the principal is not repaid at maturity.
      for (let k = 1n; k <= 3n; k++) {
        await at(start + k * PERIOD);
        const due = interestOn(PRINCIPAL, k * PERIOD) - interestOn(PRINCIPAL, (k - 1n) * PERIOD);
        await f.facility.connect(f.borrower).repay(1n, due);
      }
      await at(start + 3n * PERIOD + GRACE - 1n);
      await expect(f.facility.connect(f.lender).foreclose(1n, f.lender.address)).to.be.revertedWithCustomError(
        f.facility,
        "NotInDefault",
      );
      await at(start + 3n * PERIOD + GRACE);
      await expect(f.facility.connect(f.lender).foreclose(1n, f.lender.address))
        .to.emit(f.facility, "LoanForeclosed")
        .withArgs(
          1n,
          f.assetId,
          f.lender.address,
          f.lender.address,
          PRINCIPAL,
          interestOn(PRINCIPAL, 3n * PERIOD + GRACE) - interestOn(PRINCIPAL, 3n * PERIOD),
        );
    });

    it("after foreclosure, revenue still reaching the custody is the note holder's recovery", async () => {
      const f = await loadFixture(fundedFixture);
      await at(f.startTime + PERIOD + GRACE);
      await f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address);
      await credit(f, f.custody, 4n * USDC);
      await expect(f.facility.connect(f.other).harvest(f.loanId))
        .to.emit(f.facility, "RevenueRecovered")
        .withArgs(f.loanId, f.other.address, 4n * USDC);
      expect(await f.facility.lenderClaimable(f.loanId)).to.equal(4n * USDC);
      expect((await f.facility.loanOf(f.loanId)).lenderRecovered).to.equal(4n * USDC);
    });
  });

  describe("claimAsLender", () => {
    it("pays the note holder's proceeds to the address it names, once", async () => {
      const f = await loadFixture(fundedFixture);
      await f.facility.connect(f.payer).repay(f.loanId, 40n * USDC);
      const tx = f.facility.connect(f.lender).claimAsLender(f.loanId, f.buyer.address);
      await expect(tx)
        .to.emit(f.facility, "LenderClaimed")
        .withArgs(f.loanId, f.lender.address, f.buyer.address, 40n * USDC);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.facility, f.buyer], [-40n * USDC, 40n * USDC]);
      expect(await f.facility.lenderClaimable(f.loanId)).to.equal(0n);
      expect((await f.facility.loanOf(f.loanId)).lenderClaimed).to.equal(40n * USDC);
      await expect(f.facility.connect(f.lender).claimAsLender(f.loanId, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "NothingToClaim")
        .withArgs(f.loanId, f.lender.address);
    });

    it("follows the note: a buyer claims what its seller left unclaimed", async () => {
      const f = await loadFixture(fundedFixture);
      await f.facility.connect(f.payer).repay(f.loanId, 40n * USDC);
      await f.note.connect(f.lender).transferFrom(f.lender.address, f.buyer.address, f.loanId);
      await expect(f.facility.connect(f.lender).claimAsLender(f.loanId, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "NotNoteHolder")
        .withArgs(f.loanId, f.lender.address);
      await expect(f.facility.connect(f.buyer).claimAsLender(f.loanId, f.buyer.address)).to.changeTokenBalance(
        f.usdc,
        f.buyer,
        40n * USDC,
      );
    });

    it("refuses a zero recipient and a loan without a note", async () => {
      const f = await loadFixture(pledgedFixture);
      await expect(f.facility.connect(f.lender).claimAsLender(f.loanId, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(f.facility, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
      await expect(f.facility.connect(f.lender).claimAsLender(f.loanId, f.lender.address))
        .to.be.revertedWithCustomError(f.note, "ERC721NonexistentToken")
        .withArgs(f.loanId);
    });
  });

  describe("claimAsBorrower", () => {
    it("pays the borrower's revenue to the address it names, once, and is the borrower's only", async () => {
      const f = await loadFixture(pledgedFixture);
      await credit(f, f.custody, 9n * USDC);
      await f.facility.harvest(f.loanId);
      await expect(f.facility.connect(f.other).claimAsBorrower(f.loanId, f.other.address))
        .to.be.revertedWithCustomError(f.facility, "NotBorrower")
        .withArgs(f.loanId, f.other.address);
      await expect(f.facility.connect(f.borrower).claimAsBorrower(f.loanId, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(f.facility, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
      const tx = f.facility.connect(f.borrower).claimAsBorrower(f.loanId, f.buyer.address);
      await expect(tx)
        .to.emit(f.facility, "BorrowerClaimed")
        .withArgs(f.loanId, f.borrower.address, f.buyer.address, 9n * USDC);
      await expect(tx).to.changeTokenBalance(f.usdc, f.buyer, 9n * USDC);
      await expect(f.facility.connect(f.borrower).claimAsBorrower(f.loanId, f.borrower.address))
        .to.be.revertedWithCustomError(f.facility, "NothingToClaim")
        .withArgs(f.loanId, f.borrower.address);
    });
  });

  describe("collectToken", () => {
    async function withOtherToken() {
      const f = await fundedFixture();
      const eur = await new MockUSDC__factory(f.admin).deploy();
      await eur.mint(f.other.address, 100n * USDC);
      await eur.connect(f.other).approve(await f.escrow.getAddress(), ethers.MaxUint256);
      await f.escrow.connect(f.other).credit(f.custody, await eur.getAddress(), 6n * USDC);
      return { ...f, eur };
    }

    it("pays revenue in another token to the borrower's chosen address", async () => {
      const f = await loadFixture(withOtherToken);
      const eur = await f.eur.getAddress();
      const tx = f.facility.connect(f.borrower).collectToken(f.loanId, eur, f.buyer.address);
      await expect(tx)
        .to.emit(f.facility, "TokenCollected")
        .withArgs(f.loanId, eur, f.buyer.address, 6n * USDC);
      await expect(tx).to.changeTokenBalance(f.eur, f.buyer, 6n * USDC);
      await expect(f.facility.connect(f.borrower).collectToken(f.loanId, eur, f.buyer.address))
        .to.be.revertedWithCustomError(f.facility, "NothingToClaim")
        .withArgs(f.loanId, f.borrower.address);
    });

    it("refuses the loan's own token, a zero recipient, and anyone but the borrower", async () => {
      const f = await loadFixture(withOtherToken);
      const eur = await f.eur.getAddress();
      await expect(f.facility.connect(f.borrower).collectToken(f.loanId, f.terms.token, f.borrower.address))
        .to.be.revertedWithCustomError(f.facility, "LoanTokenNotCollectable")
        .withArgs(f.terms.token);
      await expect(f.facility.connect(f.borrower).collectToken(f.loanId, eur, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(f.facility, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
      await expect(f.facility.connect(f.lender).collectToken(f.loanId, eur, f.lender.address))
        .to.be.revertedWithCustomError(f.facility, "NotBorrower")
        .withArgs(f.loanId, f.lender.address);
    });

    it("belongs to the note holder once the loan is foreclosed", async () => {
      const f = await loadFixture(withOtherToken);
      const eur = await f.eur.getAddress();
      await at(f.startTime + PERIOD + GRACE);
      await f.facility.connect(f.lender).foreclose(f.loanId, f.lender.address);
      await expect(f.facility.connect(f.borrower).collectToken(f.loanId, eur, f.borrower.address))
        .to.be.revertedWithCustomError(f.facility, "NotNoteHolder")
        .withArgs(f.loanId, f.borrower.address);
      await expect(f.facility.connect(f.lender).collectToken(f.loanId, eur, f.lender.address)).to.changeTokenBalance(
        f.eur,
        f.lender,
        6n * USDC,
      );
    });
  });

  describe("views", () => {
    it("report nothing owed for a loan that is not active, and refuse unknown loans", async () => {
      const f = await loadFixture(pledgedFixture);
      const position = await f.facility.positionOf(f.loanId);
      expect(position.principalOutstanding).to.equal(0n);
      expect(position.inDefault).to.equal(false);
      expect(await f.facility.isInDefault(f.loanId)).to.equal(false);
      expect(await f.facility.lenderClaimable(f.loanId)).to.equal(0n);
      for (const view of [
        () => f.facility.loanOf(7n),
        () => f.facility.positionOf(7n),
        () => f.facility.isInDefault(7n),
        () => f.facility.lenderClaimable(7n),
        () => f.facility.borrowerClaimable(7n),
        () => f.facility.pendingRevenue(7n),
      ]) {
        await expect(view()).to.be.revertedWithCustomError(f.facility, "UnknownLoan").withArgs(7n);
      }
    });

    it("show the schedule advancing: next due date, installment and what is overdue", async () => {
      const f = await loadFixture(fundedFixture);
      await at(f.startTime + PERIOD + DAY);
      await mine();
      const position = await f.facility.positionOf(f.loanId);
      expect(position.nextDueDate).to.equal(f.startTime + 2n * PERIOD);
      expect(position.principalDueByNextDueDate).to.equal(1_666_666_666n); // ⌊2/12 × 10,000 USDC⌋
      expect(position.overdue).to.equal(interestOn(PRINCIPAL, PERIOD) + INSTALLMENT);
      expect(position.defaulted).to.equal(0n);
      expect(position.interestOwed).to.equal(interestOn(PRINCIPAL, PERIOD + DAY));
      // After the maturity there is no next due date and everything is due.
      await at(f.startTime + PERIODS * PERIOD + 1n);
      await mine();
      const late = await f.facility.positionOf(f.loanId);
      expect(late.nextDueDate).to.equal(0n);
      expect(late.principalDueByNextDueDate).to.equal(PRINCIPAL);
    });
  });

  describe("custody", () => {
    it("accepts withdrawals and NFT releases from the facility only", async () => {
      const f = await loadFixture(pledgedFixture);
      const custody = CreditCustody__factory.connect(f.custody, f.borrower);
      await expect(custody.withdrawRevenue(f.terms.token, f.borrower.address))
        .to.be.revertedWithCustomError(custody, "CallerNotFacility")
        .withArgs(f.borrower.address);
      await expect(custody.releaseAsset(f.assetId, f.borrower.address, false))
        .to.be.revertedWithCustomError(custody, "CallerNotFacility")
        .withArgs(f.borrower.address);
    });
  });

  describe("LoanNote", () => {
    it("mints for the facility only, and reports holder and operator rights", async () => {
      const f = await loadFixture(fundedFixture);
      await expect(f.note.connect(f.lender).mint(f.lender.address, 2n))
        .to.be.revertedWithCustomError(f.note, "CallerNotFacility")
        .withArgs(f.lender.address);
      expect(await f.note.holderAndAuthorization(f.lender.address, f.loanId)).to.deep.equal([f.lender.address, true]);
      expect(await f.note.holderAndAuthorization(f.buyer.address, f.loanId)).to.deep.equal([f.lender.address, false]);
      await f.note.connect(f.lender).setApprovalForAll(f.buyer.address, true);
      expect(await f.note.holderAndAuthorization(f.buyer.address, f.loanId)).to.deep.equal([f.lender.address, true]);
      await expect(f.note.holderAndAuthorization(f.lender.address, 9n))
        .to.be.revertedWithCustomError(f.note, "ERC721NonexistentToken")
        .withArgs(9n);
    });
  });
});
