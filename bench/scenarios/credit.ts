import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { gasOf, type BenchScenario } from "../lib";
import { DAY } from "../../test/escrow/helpers";
import { USDC } from "../../test/credit/fixtures";
import { deploySystemWithLease, earnDay, type System } from "../../test/credit/system";

/**
 * CreditFacility over the real system (NFT, 2-of-3 UsageOracle, SettlementEscrow): asset 1 is leased
 * (live user right, 30-day lease) and earns ~480 USDC a day through signed meters and settlement;
 * released charges go to the NFT's owner, the loan's custody account, once pledged.
 */

const WEEK = 7n * DAY;

/** 2,000 USDC at 10 %/yr, four weekly straight-line installments of 500, two days' grace, 1,000 reserve. */
function terms(sys: System, overrides: Partial<Record<string, bigint>> = {}) {
  return {
    token: sys.token,
    principal: 2_000n * USDC,
    reserveTarget: 1_000n * USDC,
    interestRateBpsPerYear: 1_000n,
    periodSeconds: WEEK,
    periodCount: 4n,
    amortizationPeriods: 4n,
    graceSeconds: 2n * DAY,
    ...overrides,
  };
}

/** The leased asset pledged and funded; one day's charge settled to the custody and harvested. */
async function fundedAndHarvestedOnce(overrides: Partial<Record<string, bigint>> = {}) {
  const sys = await deploySystemWithLease();
  await sys.facility.connect(sys.borrower).pledge(sys.assetId, terms(sys, overrides));
  await sys.facility.connect(sys.lender).fund(1n);
  await earnDay(sys);
  await earnDay(sys);
  await sys.facility.harvest(1n);
  return sys;
}

export const scenarios: BenchScenario[] = [
  {
    key: "credit.pledge",
    target: 250_000,
    note: "facility.pledge of a leased asset (live user right): terms validated and stored, the loan's EIP-1167 custody created (CREATE2), NFT moved into it",
    run: async () => {
      const sys = await deploySystemWithLease();
      return gasOf(sys.facility.connect(sys.borrower).pledge(sys.assetId, terms(sys)));
    },
  },
  {
    key: "credit.fund",
    target: 250_000,
    note: "facility.fund: 2,000 USDC from the lender to the borrower (balance-checked), schedule started, the loan's note minted to the lender",
    run: async () => {
      const sys = await deploySystemWithLease();
      await sys.facility.connect(sys.borrower).pledge(sys.assetId, terms(sys));
      return gasOf(sys.facility.connect(sys.lender).fund(1n));
    },
  },
  {
    key: "credit.pledgeAndFund",
    target: 250_000,
    note: "credit.pledge + credit.fund: the two transactions that open a credit line, summed",
    run: async () => {
      const sys = await deploySystemWithLease();
      const pledge = await gasOf(sys.facility.connect(sys.borrower).pledge(sys.assetId, terms(sys)));
      return pledge + (await gasOf(sys.facility.connect(sys.lender).fund(1n)));
    },
  },
  {
    key: "credit.harvest",
    target: 130_000,
    note: "facility.harvest, a later harvest: withdraws one released day's charge (~480 USDC) from the real escrow through the custody; waterfall interest → principal of the current installment → reserve",
    run: async () => {
      const sys = await fundedAndHarvestedOnce();
      await earnDay(sys);
      return gasOf(sys.facility.connect(sys.payer).harvest(1n));
    },
  },
  {
    key: "credit.harvest.toBorrower",
    target: 130_000,
    note: "facility.harvest once the installment is covered and the reserve is full: interest → borrower (every slot already non-zero)",
    run: async () => {
      const sys = await fundedAndHarvestedOnce({ principal: 400n * USDC, reserveTarget: 100n * USDC });
      await earnDay(sys);
      return gasOf(sys.facility.connect(sys.payer).harvest(1n));
    },
  },
  {
    key: "credit.repay",
    target: 90_000,
    note: "facility.repay of 100 USDC by the borrower (approved), a later payment: interest accrued, then principal; pulled balance-checked",
    run: async () => {
      const sys = await fundedAndHarvestedOnce();
      await time.setNextBlockTimestamp(BigInt(await time.latest()) + DAY);
      return gasOf(sys.facility.connect(sys.borrower).repay(1n, 100n * USDC));
    },
  },
  {
    key: "credit.repayInFull",
    target: 90_000,
    note: "facility.repay that pays the loan off: as credit.repay, plus the reserve released to the borrower and the NFT transferred back to it",
    run: async () => {
      const sys = await fundedAndHarvestedOnce();
      await time.setNextBlockTimestamp(BigInt(await time.latest()) + DAY);
      return gasOf(sys.facility.connect(sys.borrower).repay(1n, ethers.MaxUint256));
    },
  },
  {
    key: "credit.foreclose",
    target: 120_000,
    note: "facility.foreclose of a loan in default (first installment unpaid past grace, nothing pending in the escrow): custody's escrow balance checked, default judged, NFT safe-transferred to the lender; the lease untouched",
    run: async () => {
      const sys = await deploySystemWithLease();
      await sys.facility.connect(sys.borrower).pledge(sys.assetId, terms(sys, { reserveTarget: 0n }));
      await sys.facility.connect(sys.lender).fund(1n);
      const start = (await sys.facility.loanOf(1n)).startTime;
      await time.setNextBlockTimestamp(start + WEEK + 2n * DAY);
      return gasOf(sys.facility.connect(sys.lender).foreclose(1n, sys.lender.address));
    },
  },
];
