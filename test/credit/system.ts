import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { CreditFacility__factory, LoanNote__factory, MockUSDC__factory } from "../../typechain-types";
import { DAY, GPUS, deployCore, termsFor } from "../escrow/helpers";
import { USDC } from "./fixtures";

/**
 * The facility over the real system: GpuAssetNFT, a 2-of-3 UsageOracle fed signed batches, and the
 * SettlementEscrow paying lease charges to the NFT's owner. Asset 1 belongs to the provider (the
 * borrower here), has published terms (2 USDC per available GPU-hour, 1 USDC per busy GPU-hour, no SLA
 * target) and a 30-day lease to `lessee` with a 20,000 USDC deposit (lease 1), opened before any pledge.
 *
 * Every escrow and oracle call of the credit tests goes through this file: readings are real signed
 * batches (`OracleRig`) and settlements carry Merkle proofs built from the chain's logs by
 * `src/meterHistory.ts` (the escrow suite's `Keeper`).
 */
export async function deploySystemWithLease() {
  const core = await deployCore();
  const [lender, buyer, payer] = (await ethers.getSigners()).slice(8, 11);
  const { admin, provider: borrower, lessee, nft, escrow, meters, assetId } = core;
  const usdc = await new MockUSDC__factory(admin).deploy();
  const token = await usdc.getAddress();
  await escrow.setTokenAllowed(token, true);
  const facility = await new CreditFacility__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    await escrow.getAddress(),
  );
  const note = LoanNote__factory.connect(await facility.note(), admin);
  // No SLA target: the escrow measures availability against the whole lease, so under a target interim
  // settlements pay only a small part of the revenue earned so far (see docs/credit.md).
  await escrow.connect(borrower).setLeaseTerms(assetId, termsFor(token, { slaAvailabilityBps: 0 }));
  const t0 = BigInt(await time.latest()) + 10n;
  await meters.report(t0, 0n, 0n);
  const deposit = 20_000n * USDC;
  await usdc.mint(lessee.address, deposit);
  await usdc.connect(lessee).approve(await escrow.getAddress(), deposit);
  await escrow.connect(lessee).openLease(assetId, await escrow.currentTermsVersion(assetId), 30n * DAY, deposit);
  const leaseId = 1n;
  const facilityAddress = await facility.getAddress();
  await nft.connect(borrower).setApprovalForAll(facilityAddress, true);
  for (const account of [lender, borrower, payer]) {
    await usdc.mint(account.address, 1_000_000n * USDC);
    await usdc.connect(account).approve(facilityAddress, ethers.MaxUint256);
  }
  return { ...core, borrower, lender, buyer, payer, usdc, token, facility, note, leaseId, deposit };
}

export type System = Awaited<ReturnType<typeof deploySystemWithLease>>;

/**
 * One day of metered use of the asset: a reading `DAY` after the previous one (all GPUs available,
 * `busyBps` of them busy), then a settlement of the lease up to the latest reading whose dispute
 * window has passed (the previous day's), which credits the charge to whoever owns the NFT now.
 * Returns the settlement time.
 */
export async function earnDay(sys: System, busyBps = 5_000n): Promise<bigint> {
  const last = await sys.meters.latest();
  const t = last.timestamp + DAY;
  const capacity = GPUS * DAY;
  await sys.meters.report(t, (capacity * busyBps) / 10_000n, capacity);
  const settleAt = t + 1n;
  const proofs = await sys.keeper.proofs(sys.leaseId, settleAt);
  await time.setNextBlockTimestamp(settleAt);
  if (proofs) await sys.escrow.settle(sys.leaseId, proofs.start, proofs.point);
  return settleAt;
}

/** Closes the lease after its end, from a reading at the end once its dispute window has passed. */
export async function closeLease(sys: System) {
  const lease = await sys.escrow.leaseOf(sys.leaseId);
  const last = await sys.meters.latest();
  if (last.timestamp < lease.endTime) await sys.meters.report(lease.endTime, 0n, 0n);
  const at = BigInt(lease.endTime) + DAY + 1n;
  await time.setNextBlockTimestamp(at);
  await sys.keeper.close(sys.leaseId, undefined, at);
}

/** Everything the lessee sees of its lease: the user right and the lease record. */
export async function lesseeView(sys: System) {
  const lease = await sys.escrow.leaseOf(sys.leaseId);
  return {
    user: await sys.nft.userOf(sys.assetId),
    expires: await sys.nft.userExpires(sys.assetId),
    lessee: lease.lessee,
    startTime: lease.startTime,
    endTime: lease.endTime,
    endReason: lease.endReason,
    termsVersion: lease.termsVersion,
  };
}
