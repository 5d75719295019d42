import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  CreditFacility__factory,
  GpuAssetNFT__factory,
  LoanNote__factory,
  MockUSDC__factory,
  MockVaultEscrow__factory,
  type CreditFacility,
  type GpuAssetNFT,
  type MockVaultEscrow,
} from "../../typechain-types";
import { LoanModel, type ModelTerms } from "./model";

export const USDC = 1_000_000n;
export const HOUR = 3600n;
export const DAY = 86_400n;

export enum LoanStatus {
  None,
  Requested,
  Active,
  Repaid,
  Foreclosed,
  Cancelled,
}

/** The terms most tests use: 10,000 USDC at 12 %/yr, 12 monthly (30-day) straight-line installments,
 * 5 days of grace, a 500 USDC reserve. */
export const PRINCIPAL = 10_000n * USDC;
export const RATE_BPS = 1200n;
export const PERIOD = 30n * DAY;
export const PERIODS = 12n;
export const GRACE = 5n * DAY;
export const RESERVE = 500n * USDC;
/** The first straight-line installment: ⌊10,000 USDC / 12⌋. */
export const INSTALLMENT = 833_333_333n;

export function creditTerms(token: string, overrides: Partial<Record<string, unknown>> = {}) {
  return {
    token,
    principal: PRINCIPAL,
    reserveTarget: RESERVE,
    interestRateBpsPerYear: RATE_BPS,
    periodSeconds: PERIOD,
    periodCount: PERIODS,
    amortizationPeriods: PERIODS,
    graceSeconds: GRACE,
    ...overrides,
  };
}

export function modelTerms(terms: ReturnType<typeof creditTerms>): ModelTerms {
  return {
    principal: BigInt(terms.principal as bigint),
    reserveTarget: BigInt(terms.reserveTarget as bigint),
    interestRateBpsPerYear: BigInt(terms.interestRateBpsPerYear as bigint),
    periodSeconds: BigInt(terms.periodSeconds as bigint),
    periodCount: BigInt(terms.periodCount as bigint),
    amortizationPeriods: BigInt(terms.amortizationPeriods as bigint),
    graceSeconds: BigInt(terms.graceSeconds as bigint),
  };
}

export const SPEC = {
  gpuModel: "NVIDIA H100 80GB HBM3",
  datacenter: "eu-west-fra2",
  vramMiBPerGpu: 81_559,
  gpuCount: 8,
  tdpWattsPerGpu: 700,
};

/**
 * The facility over the real GpuAssetNFT and the test escrow stand-in `MockVaultEscrow` (the escrow's
 * fixed `withdraw`/`withdrawable`/`setLeaseTerms` surface over real token balances), so that revenue of
 * exact amounts can be credited to a custody account without leases and readings. Everything that
 * involves a lease runs against the real SettlementEscrow in endToEnd.test.ts and custody.test.ts.
 * `leaseManager` holds the NFT's lease-manager role so tests can give an asset a live user right and
 * check that the facility never touches it. Assets 1 and 2 belong to the borrower.
 */
export async function deployFacility() {
  const [admin, borrower, lender, other, pauser, leaseManager, buyer, payer] = await ethers.getSigners();
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), admin.address);
  await nft.grantRole(await nft.LEASE_MANAGER_ROLE(), leaseManager.address);
  for (const serial of ["credit-1", "credit-2"]) {
    await nft.mint(borrower.address, { ...SPEC, serialsHash: ethers.id(serial) });
  }
  const usdc = await new MockUSDC__factory(admin).deploy();
  const escrow = await new MockVaultEscrow__factory(admin).deploy(await nft.getAddress());
  const facility = await new CreditFacility__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    await escrow.getAddress(),
  );
  await facility.grantRole(await facility.PAUSER_ROLE(), pauser.address);
  const note = LoanNote__factory.connect(await facility.note(), admin);
  const facilityAddress = await facility.getAddress();
  await nft.connect(borrower).setApprovalForAll(facilityAddress, true);
  for (const account of [lender, payer, borrower, buyer]) {
    await usdc.mint(account.address, 1_000_000n * USDC);
    await usdc.connect(account).approve(facilityAddress, ethers.MaxUint256);
  }
  await usdc.mint(other.address, 1_000_000n * USDC);
  await usdc.connect(other).approve(await escrow.getAddress(), ethers.MaxUint256);
  const terms = creditTerms(await usdc.getAddress());
  return {
    admin,
    borrower,
    lender,
    other,
    pauser,
    leaseManager,
    buyer,
    payer,
    nft,
    usdc,
    escrow,
    facility,
    note,
    terms,
    assetId: 1n,
  };
}

/** Loan 1 pledged (asset 1) with the standard terms, not funded. */
export async function pledgedFixture() {
  const f = await deployFacility();
  await f.facility.connect(f.borrower).pledge(f.assetId, f.terms);
  return { ...f, loanId: 1n, custody: await f.facility.custodyOf(1n) };
}

/** Loan 1 funded by the lender at `startTime` (the fixture's own chain time + 100). */
export async function fundedFixture() {
  const f = await pledgedFixture();
  const startTime = BigInt(await time.latest()) + 100n;
  await time.setNextBlockTimestamp(startTime);
  await f.facility.connect(f.lender).fund(f.loanId);
  return { ...f, startTime, model: () => new LoanModel(modelTerms(f.terms), startTime) };
}

/** Credits `amount` of `token` (default: the USDC) to `account` in the escrow stand-in, paid by `other`. */
export async function credit(
  f: { escrow: MockVaultEscrow; usdc: { getAddress(): Promise<string> }; other: HardhatEthersSigner },
  account: string,
  amount: bigint,
) {
  await f.escrow.connect(f.other).credit(account, await f.usdc.getAddress(), amount);
}

/** Sets the next block's timestamp. */
export async function at(timestamp: bigint) {
  await time.setNextBlockTimestamp(timestamp);
}

/** Gives asset `assetId` a live user right until `expires`, as the escrow would for a lease. */
export async function giveUser(nft: GpuAssetNFT, leaseManager: HardhatEthersSigner, assetId: bigint, user: string) {
  const expires = BigInt(await time.latest()) + 400n * DAY;
  await nft.connect(leaseManager).setUser(assetId, user, expires);
  return expires;
}

/** The loan's accounting must balance: the facility holds what it owes (a ghost check). */
export async function owedByFacility(facility: CreditFacility, loanIds: bigint[]) {
  let owed = 0n;
  for (const id of loanIds) {
    const loan = await facility.loanOf(id);
    owed += (await facility.lenderClaimable(id)) + loan.borrowerClaimable + loan.reserveBalance;
  }
  return owed;
}

export type Fixture = Awaited<ReturnType<typeof deployFacility>>;
export type { CreditFacility };
