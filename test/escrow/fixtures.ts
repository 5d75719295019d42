/**
 * Fixtures of the escrow's v2 specification suites: one named function per system state, each built
 * on the previous one and loaded with `loadFixture`. Every reading is a real 2-of-3 signed batch
 * posted through the oracle rig at a pinned block time, so every figure below is exact.
 *
 * Timeline of lease 1 (the asset: 8 GPUs, 700 W TDP; terms v1: 2 USDC per available GPU-hour,
 * 1 USDC per busy GPU-hour, no energy price, no SLA target, early end allowed, 1 h to 30 days):
 *
 *   S − 10     batch 1 accepted: the asset's first reading, stamped S (exact start meter)
 *   S          lease 1 opens for 3 days with 2,000 USDC (full use of 3 days is 1,728 USDC)
 *   S + 6 h    batch 2: all 8 GPUs available, half busy since S → bill 96 + 24 = 120 USDC
 *   S + 30 h   batch 2 is billable (dispute window 1 day): `settle` charges 120 USDC
 *   E = S + 3 d   the lease ends
 *   E + 10 min batch 3: all available, none busy since S + 6 h → bill at E 1,152 + 24 = 1,176 USDC
 *   E + 10 min + 1 d   batch 3 is billable: `close` charges 1,056 USDC and refunds 824 USDC
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { ABSENT_BOUNDARY, type MeterBoundary } from "../../src/meterHistory";
import { FIRST_VALUES } from "../helpers/oracleRig";
import {
  DAY,
  DISPUTE_WINDOW,
  GPUS,
  HOUR,
  MockUSDC__factory,
  TDP_WATTS,
  USDC,
  billOf,
  deployCore,
  termsFor,
  type BillMeter,
} from "./helpers";

export const DURATION = 3n * DAY;
export const DEPOSIT = 2_000n * USDC;
/** The bill up to batch 2 (S + 6 h). */
export const FIRST_BILL = 120n * USDC;
/** The bill up to the lease end. */
export const FINAL_BILL = 1_176n * USDC;
/** Terms v1 of the suites: the shared test terms without an SLA target, so interim bills are round. */
export const TERMS_OVERRIDES = { slaAvailabilityBps: 0 } as const;

/** USDC allowlisted, terms v1 published, lessee and `other` funded (100,000 USDC) and approved. */
export async function termsFixture() {
  return withTerms(await deployCore());
}

/** As `termsFixture`, on an escrow whose readings are billable 60 s after acceptance (the oracle's skew). */
export async function shortWindowTermsFixture() {
  return withTerms(await deployCore({ disputeWindowSeconds: SHORT_WINDOW }));
}

/** The dispute window of `shortWindowTermsFixture`: a reading stamped t may be accepted at t − 60 and billed at t. */
export const SHORT_WINDOW = 60n;

export async function withTerms(core: Awaited<ReturnType<typeof deployCore>>) {
  const { admin, escrow, provider, lessee, other, assetId } = core;
  const usdc = await new MockUSDC__factory(admin).deploy();
  const token = await usdc.getAddress();
  await escrow.setTokenAllowed(token, true);
  await escrow.connect(provider).setLeaseTerms(assetId, termsFor(token, TERMS_OVERRIDES));
  for (const a of [lessee, other]) {
    await usdc.mint(a.address, 100_000n * USDC);
    await usdc.connect(a).approve(await escrow.getAddress(), ethers.MaxUint256);
  }
  const signers = await ethers.getSigners();
  const buyer = signers[8];
  const accounts = [lessee.address, provider.address, other.address, buyer.address];
  const terms = await escrow.leaseTermsAt(assetId, 1);
  return { ...core, usdc, token, buyer, accounts, terms };
}

export type TermsFixture = Awaited<ReturnType<typeof withTerms>>;

/**
 * Posts the asset's first reading, stamped `start` and accepted 10 s before it, then opens a lease at
 * exactly `start` under the current terms. Returns the lease id.
 */
export async function openAt(f: TermsFixture, start: bigint, duration: bigint, deposit: bigint, from = f.lessee) {
  await f.meters.postAt(start, {}, start - 10n);
  await time.setNextBlockTimestamp(start);
  await f.escrow.connect(from).openLease(f.assetId, await f.escrow.currentTermsVersion(f.assetId), duration, deposit);
  return f.escrow.leaseCount();
}

/** Lease 1 open for 3 days with 2,000 USDC; batch 1 (the asset's first reading) is stamped exactly at its start. */
export async function openFixture() {
  const f = await termsFixture();
  const start = BigInt(await time.latest()) + 100n;
  const leaseId = await openAt(f, start, DURATION, DEPOSIT);
  return { ...f, leaseId, start, end: start + DURATION };
}

/** As open, with batch 2 at S + 6 h (all GPUs available, half busy): 120 USDC billable from S + 30 h. */
export async function meteredFixture() {
  const f = await openFixture();
  const r2 = f.start + 6n * HOUR;
  await f.meters.useAt(r2, 10_000n, 5_000n);
  return { ...f, r2, billableAt: r2 + DISPUTE_WINDOW };
}

/** As metered, with lease 1 settled by `other` at exactly S + 30 h: 120 USDC credited to the provider. */
export async function settledFixture() {
  const f = await meteredFixture();
  await time.setNextBlockTimestamp(f.billableAt);
  await f.keeper.settle(f.leaseId, f.other, f.billableAt);
  return f;
}

/** As settled, with batch 3 at E + 10 min (all available, none busy since batch 2): the end is provable. */
export async function pastEndFixture() {
  const f = await settledFixture();
  const r3 = f.end + 600n;
  await f.meters.useAt(r3, 10_000n, 0n);
  return { ...f, r3, closableAt: r3 + DISPUTE_WINDOW };
}

/** As metered, with the lessee disputing the 120 USDC up to batch 2 at S + 6 h + 1 min. */
export async function disputedFixture() {
  const f = await meteredFixture();
  const disputedAt = f.r2 + 60n;
  await time.setNextBlockTimestamp(disputedAt);
  await f.keeper.dispute(f.leaseId, f.lessee);
  return { ...f, disputedAt, deadline: disputedAt + (await f.escrow.arbiterTimeoutSeconds()) };
}

// ------------------------------------------------------------------ proofs and expected figures

/** The proof boundary of the asset's meter at `time` (first reading at or after it, and its link). */
export async function boundaryAt(f: TermsFixture, t: bigint, assetId = f.assetId): Promise<MeterBoundary> {
  const b = (await f.rig.history()).boundaryAt(assetId, t);
  if (!b) throw new Error(`no reading of asset ${assetId} at or after ${t}`);
  return b.boundary;
}

/** A boundary holding only the reading stamped exactly `t` (a billing point inside a lease). */
export async function readingAt(f: TermsFixture, t: bigint, assetId = f.assetId): Promise<MeterBoundary> {
  const h = await f.rig.history();
  const r = h.readingsOf(assetId).find((x) => x.meter.timestamp === t);
  if (!r) throw new Error(`no reading of asset ${assetId} stamped ${t}`);
  return h.single(r);
}

export { ABSENT_BOUNDARY };

/** The first reading's values as a meter stamped `t`. */
export function firstMeter(t: bigint): BillMeter {
  return { timestamp: t, ...FIRST_VALUES };
}

/** The bill of an 8-GPU lease of `leaseSeconds` under `terms` between two meters (the reference model). */
export function bill8(start: BillMeter, point: BillMeter, leaseSeconds: bigint, terms: TermsFixture["terms"]) {
  return billOf(start, point, leaseSeconds, GPUS, TDP_WATTS, terms);
}
