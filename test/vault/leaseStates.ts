/**
 * Leases of asset 1 brought into each state that matters to the vault factory, through the real
 * escrow and oracle of `realEscrowDeployedFixture` (signed batches, keeper proofs from chain logs), by
 * the asset's owner before any vault exists. Each state also knows how to finish its lease (close it
 * and resolve its dispute), after which the escrow counts it as finished.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { DISPUTE_WINDOW, HOUR } from "../escrow/helpers";
import { DAY, ONE_USDC, leaseTerms, realEscrowDeployedFixture } from "./fixtures";

export type Base = Awaited<ReturnType<typeof realEscrowDeployedFixture>>;

/** Where a lease stands. The first four are unfinished (`ISettlementEscrow.unfinishedLeasesOf`). */
export type LeaseState =
  | "running"
  | "ended early, not closed"
  | "expired, not closed"
  | "closed with a dispute open"
  | "closed, dispute resolved"
  | "closed";

export const UNFINISHED_STATES: LeaseState[] = [
  "running",
  "ended early, not closed",
  "expired, not closed",
  "closed with a dispute open",
];
export const FINISHED_STATES: LeaseState[] = ["closed, dispute resolved", "closed"];
export const ALL_STATES: LeaseState[] = [...UNFINISHED_STATES, ...FINISHED_STATES];

/** The lessee's deposit: a little over one day of full use (576 USDC). */
export const DEPOSIT = 600n * ONE_USDC;

/** A lease brought into a state, and how to finish it from there. */
export interface StatedLease {
  leaseId: bigint;
  token: string;
  /** Closes the lease (with a final reading) and resolves its dispute, as far as needed. */
  finish: () => Promise<void>;
}

/** Posts a full-use reading at `timestamp` (a future time: the oracle accepts it at that second). */
async function fullUse(base: Base, timestamp: bigint) {
  await base.meters.reportUse(10_000n, 10_000n, timestamp);
}

/** Closes an ended lease with a final reading: one is posted a minute after the end when none exists. */
async function closeFinal(base: Base, leaseId: bigint) {
  const lease = await base.escrow.leaseOf(leaseId);
  const latest = await base.meters.latest();
  let readingAt = latest.timestamp;
  if (readingAt < lease.endTime) {
    readingAt = BigInt(await time.latest()) > lease.endTime ? BigInt(await time.latest()) + 60n : lease.endTime + 60n;
    await fullUse(base, readingAt);
  }
  const now = BigInt(await time.latest()) + 1n;
  const at = readingAt + DISPUTE_WINDOW > now ? readingAt + DISPUTE_WINDOW : now;
  await time.setNextBlockTimestamp(at);
  await base.keeper.close(leaseId, undefined, at);
}

/** Resolves the lease's open dispute: the arbiter refunds the lessee a tenth, the rest is charged. */
async function resolve(base: Base, leaseId: bigint) {
  const { disputed } = await base.escrow.leaseOf(leaseId);
  await base.escrow.connect(base.arbiter).resolveDispute(leaseId, disputed / 10n);
}

/**
 * Opens a 1-day lease of asset 1 in `token` (publishing terms in it first when they differ) and
 * brings it into `state`. Readings: full use from a minute before the start.
 */
export async function leaseInState(base: Base, token: string, state: LeaseState): Promise<StatedLease> {
  const { escrow, originator, lessee, assetId } = base;
  const current = await escrow.leaseTermsOf(assetId);
  if (current.token !== token) await escrow.connect(originator).setLeaseTerms(assetId, leaseTerms(token));
  const version = await escrow.currentTermsVersion(assetId);
  const erc20 = token === (await base.usdc.getAddress()) ? base.usdc : base.otherToken;
  await erc20.mint(lessee.address, DEPOSIT);
  await erc20.connect(lessee).approve(await escrow.getAddress(), DEPOSIT);
  const start = BigInt(await time.latest()) + 120n;
  await fullUse(base, start - 60n);
  await time.setNextBlockTimestamp(start);
  await escrow.connect(lessee).openLease(assetId, version, DAY, DEPOSIT);
  const leaseId = await escrow.leaseCount();
  const stated = (finish: () => Promise<void>): StatedLease => ({ leaseId, token, finish });

  if (state === "running") {
    await fullUse(base, start + HOUR);
    return stated(() => closeFinal(base, leaseId));
  }
  if (state === "ended early, not closed") {
    await time.setNextBlockTimestamp(start + 2n * HOUR);
    await escrow.connect(lessee).endByLessee(leaseId);
    return stated(() => closeFinal(base, leaseId));
  }
  if (state === "expired, not closed") {
    await fullUse(base, start + HOUR);
    await time.increaseTo(start + DAY + 1n);
    return stated(() => closeFinal(base, leaseId));
  }
  // The reading a minute after the end. In the dispute states the lessee disputes the whole bill up to
  // it while it is fresh; the lease is closed once it is billable.
  await fullUse(base, start + DAY + 60n);
  if (state === "closed") {
    await closeFinal(base, leaseId);
    return stated(async () => {});
  }
  await base.keeper.dispute(leaseId, lessee);
  await closeFinal(base, leaseId);
  if (state === "closed with a dispute open") return stated(() => resolve(base, leaseId));
  await resolve(base, leaseId);
  return stated(async () => {});
}
