import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseContract, Signer } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { MockUSDC__factory, SettlementEscrow__factory, type SettlementEscrow } from "../../typechain-types";
import { GpuAssetNFT__factory, UsageOracle__factory, type UsageOracle } from "../../typechain-types";
import { oracleDomain } from "../../src/eip712";
import { ABSENT_BOUNDARY, leaseProofs, type LeaseProofs } from "../../src/meterHistory";
import { OracleRig } from "../helpers/oracleRig";

export const USDC = 1_000_000n;
export const HOUR = 3600n;
export const DAY = 86_400n;
export const GPUS = 8n;
export const DISPUTE_WINDOW = DAY;
export const ARBITER_TIMEOUT = 3n * DAY;
/** Terms used by most tests: 2 USDC per available GPU-hour, 1 USDC per busy GPU-hour, SLA 99 %. */
export const RESERVATION_PRICE = 2n * USDC;
export const USAGE_PRICE = 1n * USDC;
export const SLA_BPS = 9900n;
export const MIN_DURATION = HOUR;
export const MAX_DURATION = 30n * DAY;
/** One hour of full use of the 8-GPU asset: the minimum deposit (no energy price). */
export const FULL_HOUR = GPUS * (RESERVATION_PRICE + USAGE_PRICE);

export enum EndReason {
  None,
  Expired,
  EndedByLessee,
  TerminatedByProvider,
  InsufficientFunds,
}

/** An ERC-20 the escrow can hold: every mock exposes these. */
export interface TestToken extends BaseContract {
  mint(to: string, amount: bigint): Promise<unknown>;
  balanceOf(account: string): Promise<bigint>;
  approve(spender: string, amount: bigint): Promise<unknown>;
  connect(signer: HardhatEthersSigner): TestToken;
}

export function termsFor(token: string, overrides: Partial<Record<string, unknown>> = {}) {
  return {
    token,
    reservationPricePerGpuHour: RESERVATION_PRICE,
    usagePricePerBusyGpuHour: USAGE_PRICE,
    energyPricePerKWh: 0n,
    minDurationSeconds: MIN_DURATION,
    maxDurationSeconds: MAX_DURATION,
    slaAvailabilityBps: SLA_BPS,
    earlyEndAllowed: true,
    ...overrides,
  };
}

/** TDP of the test asset's GPUs, watts. */
export const TDP_WATTS = 700n;

/** Deploys NFT, oracle and escrow; mints one 8-GPU asset to `provider`. */
export async function deployCore() {
  const [admin, provider, lessee, other, arbiter, pauser, operator, feeder] = await ethers.getSigners();
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  // A real 2-of-3 oracle: every reading in these tests is a signed batch submitted by the feeder.
  const oracleSigners = [0, 1, 2].map((i) => new ethers.Wallet(ethers.id(`escrow-test-signer-${i}`)));
  const oracle = await new UsageOracle__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    oracleSigners.map((w) => w.address),
    2,
    60,
    1_000,
  );
  const escrow = await new SettlementEscrow__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    await oracle.getAddress(),
    DISPUTE_WINDOW,
    ARBITER_TIMEOUT,
  );
  await nft.grantRole(await nft.REGISTRAR_ROLE(), admin.address);
  await nft.grantRole(await nft.LEASE_MANAGER_ROLE(), await escrow.getAddress());
  await escrow.grantRole(await escrow.TOKEN_ADMIN_ROLE(), admin.address);
  await escrow.grantRole(await escrow.ARBITER_ROLE(), arbiter.address);
  await escrow.grantRole(await escrow.PAUSER_ROLE(), pauser.address);
  await nft.mint(provider.address, {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: ethers.id("serials-1"),
    vramMiBPerGpu: 81_559,
    gpuCount: Number(GPUS),
    tdpWattsPerGpu: Number(TDP_WATTS),
  });
  const assetId = 1n;
  const { chainId } = await ethers.provider.getNetwork();
  const rig = new OracleRig(oracle, oracleSigners, oracleDomain(chainId, await oracle.getAddress()), feeder);
  const meters = new Meters(rig, assetId);
  const keeper = new Keeper(escrow, rig);
  return { admin, provider, lessee, other, arbiter, pauser, operator, feeder, nft, oracle, escrow, assetId, rig, meters, keeper };
}

/** One asset's meters, reported through the oracle rig (see `OracleRig`). */
export class Meters {
  constructor(
    readonly rig: OracleRig,
    readonly assetId: bigint,
  ) {}

  /** The asset's latest reading. */
  async latest() {
    const m = await this.rig.latest(this.assetId);
    return { timestamp: m.timestamp, busy: m.busyGpuSeconds, available: m.availableGpuSeconds, energy: m.energyJ };
  }

  /** Reports a reading at `timestamp` whose counters exceed the latest ones by the given deltas. */
  async report(timestamp: bigint, busyDelta: bigint, availableDelta: bigint, energyDelta = 0n) {
    await this.rig.postDeltas(this.assetId, timestamp, {
      busyGpuSeconds: busyDelta,
      availableGpuSeconds: availableDelta,
      energyJ: energyDelta,
    });
  }

  /** Reports at `timestamp` (default: the next block) with fractions (bps) of the elapsed capacity available and busy. */
  async reportUse(availableBps: bigint, busyBps: bigint, timestamp?: bigint, watts = 0n) {
    const at = timestamp ?? BigInt(await time.latest()) + 1n;
    await this.rig.postUse(this.assetId, at, GPUS, availableBps, busyBps, watts);
    return at;
  }
}

/**
 * Calls the escrow's proof-taking functions the way a keeper does: proofs built by
 * `src/meterHistory.ts` from the chain's logs (`leaseProofs`), with only readings past the dispute
 * window for settle and close.
 */
export class Keeper {
  constructor(
    readonly escrow: SettlementEscrow,
    readonly rig: OracleRig,
  ) {}

  /** The proofs `settle`/`close` can use at `at` (default: the next block's time); undefined when none. */
  async proofs(leaseId: bigint, at?: bigint, forDispute = false): Promise<LeaseProofs | undefined> {
    const lease = await this.escrow.leaseOf(leaseId);
    const now = at ?? BigInt(await time.latest()) + 1n;
    const billableBy = forDispute ? undefined : now - (await this.escrow.disputeWindowSeconds());
    return leaseProofs(await this.rig.history(), lease, billableBy);
  }

  /**
   * Settles as far as the chain allows at `at` (default: the next block's time; pass the time given to
   * `time.setNextBlockTimestamp`). Throws when nothing can be settled.
   */
  async settle(leaseId: bigint, from?: Signer, at?: bigint) {
    const p = await this.proofs(leaseId, at);
    if (!p) throw new Error(`lease ${leaseId}: nothing billable to settle`);
    return this.escrow.connect(from ?? this.escrow.runner!).settle(leaseId, p.start, p.point);
  }

  /** Closes with the final reading when one is billable at `at`, else without one. */
  async close(leaseId: bigint, from?: Signer, at?: bigint) {
    const p = await this.proofs(leaseId, at);
    const escrow = from ? this.escrow.connect(from) : this.escrow;
    if (p && p.final) return escrow.close(leaseId, p.start, p.point);
    return escrow.close(leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY);
  }

  /** The lessee disputes up to the latest reading (any age). */
  async dispute(leaseId: bigint, lessee: Signer) {
    const p = await this.proofs(leaseId, undefined, true);
    if (!p) throw new Error(`lease ${leaseId}: nothing to dispute`);
    return this.escrow.connect(lessee).dispute(leaseId, p.start, p.point);
  }
}

/** Every deposit made into a lease, summed from its LeaseOpened and LeaseToppedUp events (a ghost total). */
export async function depositsFromEvents(escrow: SettlementEscrow, leaseId: bigint): Promise<bigint> {
  const opened = await escrow.queryFilter(escrow.filters.LeaseOpened(leaseId));
  const toppedUp = await escrow.queryFilter(escrow.filters.LeaseToppedUp(leaseId));
  return [...opened.map((e) => e.args.deposit), ...toppedUp.map((e) => e.args.amount)].reduce((a, b) => a + b, 0n);
}

/**
 * deposited = charged + refunded + held for a lease, where deposited is the ghost total of the deposits
 * actually made (from events) and the other three are the escrow's stored accounting.
 */
export async function expectLeaseBalanced(escrow: SettlementEscrow, leaseId: bigint) {
  const l = await escrow.leaseOf(leaseId);
  const [deposited, charged, refunded, held] = await escrow.accountingOf(leaseId);
  expect(held, `lease ${leaseId} held`).to.equal(l.balance + l.disputed);
  expect(charged, `lease ${leaseId} charged`).to.equal(l.billed - l.disputed - l.disputeRefunded);
  const ghost = await depositsFromEvents(escrow, leaseId);
  expect(ghost, `lease ${leaseId}: deposits made = charged + refunded + held`).to.equal(charged + refunded + held);
  expect(deposited).to.equal(ghost);
}

/** The escrow's token balance covers everything it holds for leases and owes as withdrawable balances. */
export async function expectSolvent(escrow: SettlementEscrow, token: TestToken, accounts: string[]) {
  const tokenAddress = await token.getAddress();
  let owed = 0n;
  const count = await escrow.leaseCount();
  for (let id = 1n; id <= count; id++) {
    await expectLeaseBalanced(escrow, id);
    const l = await escrow.leaseOf(id);
    const terms = await escrow.leaseTermsAt(l.assetId, l.termsVersion);
    if (terms.token === tokenAddress) owed += l.balance + l.disputed;
  }
  for (const a of new Set(accounts)) owed += await escrow.withdrawable(a, tokenAddress);
  expect(await token.balanceOf(await escrow.getAddress()), "escrow solvency").to.equal(owed);
  return owed;
}

export { MockUSDC__factory };
