import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  CreditFacility__factory,
  GpuAssetNFT__factory,
  LoanNote__factory,
  MockBlocklistToken__factory,
  MockFalseReturnToken__factory,
  MockFeeOnTransferToken__factory,
  MockNoReturnToken__factory,
  MockReentrantToken__factory,
  MockUSDC__factory,
  MockVaultEscrow__factory,
  type MockBlocklistToken,
  type MockReentrantToken,
} from "../../typechain-types";
import type { TestToken } from "../escrow/helpers";
import { DAY, LoanStatus, SPEC, USDC, creditTerms, owedByFacility } from "./fixtures";

/** Each kind of token a loan may be made in (contracts/mocks/). */
const TOKENS = {
  "USDC-like (permit, 6 decimals)": async () => new MockUSDC__factory((await ethers.getSigners())[0]).deploy(),
  "USDT-like (no return value)": async () => new MockNoReturnToken__factory((await ethers.getSigners())[0]).deploy(),
  "false-returning": async () => new MockFalseReturnToken__factory((await ethers.getSigners())[0]).deploy(),
  blocklisting: async () => new MockBlocklistToken__factory((await ethers.getSigners())[0]).deploy(),
  "re-entrant (transfer hook)": async () => new MockReentrantToken__factory((await ethers.getSigners())[0]).deploy(),
} as const;

async function deployWith(deployToken: () => Promise<unknown>) {
  const [admin, borrower, lender, other, payer] = await ethers.getSigners();
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), admin.address);
  await nft.mint(borrower.address, { ...SPEC, serialsHash: ethers.id("credit-token-asset") });
  const escrow = await new MockVaultEscrow__factory(admin).deploy(await nft.getAddress());
  const facility = await new CreditFacility__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    await escrow.getAddress(),
  );
  const note = LoanNote__factory.connect(await facility.note(), admin);
  const token = (await deployToken()) as unknown as TestToken;
  const facilityAddress = await facility.getAddress();
  await nft.connect(borrower).setApprovalForAll(facilityAddress, true);
  for (const account of [lender, borrower, payer]) {
    await token.mint(account.address, 100_000n * USDC);
    await token.connect(account).approve(facilityAddress, 100_000n * USDC);
  }
  await token.mint(other.address, 100_000n * USDC);
  await token.connect(other).approve(await escrow.getAddress(), 100_000n * USDC);
  const terms = creditTerms(await token.getAddress(), { principal: 1_000n * USDC, reserveTarget: 50n * USDC });
  return { admin, borrower, lender, other, payer, nft, escrow, facility, note, token, terms };
}

const deployFee = async () => new MockFeeOnTransferToken__factory((await ethers.getSigners())[0]).deploy(100);
const withFalseReturn = () => deployWith(TOKENS["false-returning"]);
const withFee = () => deployWith(deployFee);
const withBlocklist = () => deployWith(TOKENS.blocklisting);
const withReentrant = () => deployWith(TOKENS["re-entrant (transfer hook)"]);

describe("CreditFacility with awkward tokens", () => {
  for (const [name, deployToken] of Object.entries(TOKENS)) {
    describe(name, () => {
      const fixture = () => deployWith(deployToken);

      it("runs a whole loan: fund, harvest, repay, claim, with exact balances", async () => {
        const f = await loadFixture(fixture);
        const { facility, token, borrower, lender, other, payer } = f;
        await facility.connect(borrower).pledge(1n, f.terms);
        await expect(facility.connect(lender).fund(1n)).to.changeTokenBalances(
          token,
          [lender, borrower],
          [-1_000n * USDC, 1_000n * USDC],
        );
        const custody = await facility.custodyOf(1n);
        await f.escrow.connect(other).credit(custody, await token.getAddress(), 300n * USDC);
        await time.setNextBlockTimestamp(BigInt(await time.latest()) + DAY);
        await expect(facility.harvest(1n)).to.changeTokenBalance(token, facility, 300n * USDC);
        await expect(facility.connect(payer).repay(1n, 100n * USDC)).to.changeTokenBalances(
          token,
          [payer, facility],
          [-100n * USDC, 100n * USDC],
        );
        await facility.connect(borrower).repay(1n, 100_000n * USDC);
        expect((await facility.loanOf(1n)).status).to.equal(LoanStatus.Repaid);
        expect(await token.balanceOf(await facility.getAddress())).to.equal(await owedByFacility(facility, [1n]));
        const owedLender = await facility.lenderClaimable(1n);
        await expect(facility.connect(lender).claimAsLender(1n, lender.address)).to.changeTokenBalance(
          token,
          lender,
          owedLender,
        );
        const owedBorrower = await facility.borrowerClaimable(1n);
        await expect(facility.connect(borrower).claimAsBorrower(1n, borrower.address)).to.changeTokenBalance(
          token,
          borrower,
          owedBorrower,
        );
        expect(await token.balanceOf(await facility.getAddress())).to.equal(0n);
        expect(owedLender).to.be.greaterThan(1_000n * USDC);
      });
    });
  }

  describe("false-returning", () => {
    it("refuses a funding whose transfer returns false, and changes nothing", async () => {
      const f = await loadFixture(withFalseReturn);
      await f.facility.connect(f.borrower).pledge(1n, f.terms);
      await f.token.connect(f.lender).approve(await f.facility.getAddress(), 0n);
      await expect(f.facility.connect(f.lender).fund(1n))
        .to.be.revertedWithCustomError(f.facility, "SafeERC20FailedOperation")
        .withArgs(await f.token.getAddress());
      expect((await f.facility.loanOf(1n)).status).to.equal(LoanStatus.Requested);
    });
  });

  describe("fee-on-transfer", () => {
    it("refuses a funding or a repayment that delivers less than was sent", async () => {
      const f = await loadFixture(withFee);
      const token = await f.token.getAddress();
      await f.facility.connect(f.borrower).pledge(1n, f.terms);
      await expect(f.facility.connect(f.lender).fund(1n))
        .to.be.revertedWithCustomError(f.facility, "TransferAmountMismatch")
        .withArgs(token, 1_000n * USDC, 990n * USDC);
      // Self-funding moves nothing, so the loan can start; a repayment must still arrive in full.
      await f.facility.connect(f.borrower).fund(1n);
      await expect(f.facility.connect(f.payer).repay(1n, 100n * USDC))
        .to.be.revertedWithCustomError(f.facility, "TransferAmountMismatch")
        .withArgs(token, 100n * USDC, 99n * USDC);
    });

    it("splits what actually arrived at a harvest, never what the escrow reports", async () => {
      const f = await loadFixture(withFee);
      await f.facility.connect(f.borrower).pledge(1n, f.terms);
      const custody = await f.facility.custodyOf(1n);
      // The escrow stand-in receives 99 % of 100 and owes 100: top it up so it can pay.
      await f.escrow.connect(f.other).credit(custody, await f.token.getAddress(), 100n * USDC);
      await f.token.mint(await f.escrow.getAddress(), 1n * USDC);
      await expect(f.facility.harvest(1n))
        .to.emit(f.facility, "RevenueHarvested")
        .withArgs(1n, f.admin.address, 99n * USDC, [0n, 0n, 0n, 99n * USDC]);
      expect(await f.facility.borrowerClaimable(1n)).to.equal(99n * USDC);
    });
  });

  describe("blocklisting", () => {
    it("lets a blocklisted lender claim to another address, and a stranger repay for the borrower", async () => {
      const f = await loadFixture(withBlocklist);
      const token = f.token as unknown as MockBlocklistToken;
      await f.facility.connect(f.borrower).pledge(1n, f.terms);
      await f.facility.connect(f.lender).fund(1n);
      await f.facility.connect(f.payer).repay(1n, 10n * USDC);
      await token.setBlocklisted(f.lender.address, true);
      await expect(f.facility.connect(f.lender).claimAsLender(1n, f.lender.address))
        .to.be.revertedWithCustomError(token, "Blocklisted")
        .withArgs(f.lender.address);
      await expect(f.facility.connect(f.lender).claimAsLender(1n, f.other.address)).to.changeTokenBalance(
        token,
        f.other,
        10n * USDC,
      );
    });

    it("cannot fund a blocklisted borrower: only the borrower's own loan is blocked", async () => {
      const f = await loadFixture(withBlocklist);
      const token = f.token as unknown as MockBlocklistToken;
      await f.facility.connect(f.borrower).pledge(1n, f.terms);
      await token.setBlocklisted(f.borrower.address, true);
      await expect(f.facility.connect(f.lender).fund(1n))
        .to.be.revertedWithCustomError(token, "Blocklisted")
        .withArgs(f.borrower.address);
      await f.facility.connect(f.borrower).cancel(1n);
      expect(await f.nft.ownerOf(1n)).to.equal(f.borrower.address);
    });
  });

  describe("re-entrant", () => {
    it("refuses every re-entry during a harvest's or a claim's transfer", async () => {
      const f = await loadFixture(withReentrant);
      const token = f.token as unknown as MockReentrantToken;
      await f.facility.connect(f.borrower).pledge(1n, f.terms);
      await f.facility.connect(f.lender).fund(1n);
      const custody = await f.facility.custodyOf(1n);
      await f.escrow.connect(f.other).credit(custody, await token.getAddress(), 300n * USDC);
      const facility = await f.facility.getAddress();
      const guard = f.facility.interface.getError("ReentrancyGuardReentrantCall")!.selector;
      for (const data of [
        f.facility.interface.encodeFunctionData("harvest", [1n]),
        f.facility.interface.encodeFunctionData("claimAsLender", [1n, f.lender.address]),
        f.facility.interface.encodeFunctionData("foreclose", [1n, f.lender.address]),
      ]) {
        await f.escrow.connect(f.other).credit(custody, await token.getAddress(), 1n);
        await token.arm(facility, data);
        await f.facility.harvest(1n);
        expect(await token.lastReentrySucceeded()).to.equal(false);
        expect((await token.lastReentryReturnData()).slice(0, 10)).to.equal(guard);
      }
      await token.arm(facility, f.facility.interface.encodeFunctionData("repay", [1n, 1n]));
      await f.facility.connect(f.lender).claimAsLender(1n, f.lender.address);
      expect(await token.lastReentrySucceeded()).to.equal(false);
      expect(await token.balanceOf(facility)).to.equal(await owedByFacility(f.facility, [1n]));
    });
  });
});
