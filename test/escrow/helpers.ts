import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseContract, TypedDataDomain, Wallet } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { MockUSDC__factory, SettlementEscrow__factory, type SettlementEscrow } from "../../typechain-types";
import { GpuAssetNFT__factory, UsageOracle__factory, type UsageOracle } from "../../typechain-types";
import { makeBatch, oracleDomain, signBatch } from "../../src/eip712";

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
/** One hour of full use of the 8-GPU asset: the minimum deposit. */
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
    minDurationSeconds: MIN_DURATION,
    maxDurationSeconds: MAX_DURATION,
    slaAvailabilityBps: SLA_BPS,
    earlyEndAllowed: true,
    ...overrides,
  };
}

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
    tdpWattsPerGpu: 700,
  });
  const assetId = 1n;
  const { chainId } = await ethers.provider.getNetwork();
  const meters = new Meters(
    oracle,
    assetId,
    feeder,
    oracleSigners.slice(0, 2),
    oracleDomain(chainId, await oracle.getAddress()),
  );
  return { admin, provider, lessee, other, arbiter, pauser, operator, feeder, nft, oracle, escrow, assetId, meters };
}

/**
 * Cumulative meters of one asset, reported through the oracle. The current meter is always read back
 * from the oracle (never cached here), so chain snapshots restored by `loadFixture` stay consistent.
 */
export class Meters {
  constructor(
    private readonly oracle: UsageOracle,
    readonly assetId: bigint,
    private readonly feeder: HardhatEthersSigner,
    private readonly signers: Wallet[],
    private readonly domain: TypedDataDomain,
  ) {}

  /** The oracle's latest meter of the asset. */
  async latest() {
    const m = await this.oracle.latestReading(this.assetId);
    return { timestamp: m.timestamp, busy: m.busyGpuSeconds, available: m.availableGpuSeconds };
  }

  /**
   * Reports a reading at `timestamp` whose counters exceed the latest ones by the given deltas. A
   * timestamp ahead of the chain moves the chain to one second before it (readings are never from the
   * future by more than that), so the next transaction runs at `timestamp`.
   */
  async report(timestamp: bigint, busyDelta: bigint, availableDelta: bigint) {
    if (timestamp - 1n > BigInt(await time.latest())) await time.setNextBlockTimestamp(timestamp - 1n);
    const m = await this.latest();
    // A first reading starts from arbitrary non-zero counters: they are cumulative since "some" origin.
    const busy = (m.timestamp === 0n ? 1_000n : m.busy) + busyDelta;
    const available = (m.timestamp === 0n ? 5_000n : m.available) + availableDelta;
    const batch = makeBatch(await this.oracle.configVersion(), [
      { assetId: this.assetId, timestamp, busyGpuSeconds: busy, availableGpuSeconds: available, energyJ: 0n },
    ]);
    const signatures = await Promise.all(this.signers.map((w) => signBatch(w, this.domain, batch)));
    await this.oracle.connect(this.feeder).submit(batch.configVersion, batch.readings, signatures);
  }

  /** Reports a reading at the next block's time with availability/busy fractions (bps) of the elapsed time. */
  async reportNow(availableBps: bigint, busyBps: bigint) {
    const now = BigInt(await time.latest()) + 1n;
    await time.setNextBlockTimestamp(now);
    const m = await this.latest();
    const capacity = m.timestamp === 0n ? 0n : GPUS * (now - m.timestamp);
    await this.report(now, (capacity * busyBps) / 10_000n, (capacity * availableBps) / 10_000n);
    return now;
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
  expect(held, `lease ${leaseId} held`).to.equal(l.balance + l.pending + l.disputed);
  expect(charged).to.equal(l.charged);
  expect(refunded).to.equal(l.refunded);
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
    if (terms.token === tokenAddress) owed += l.balance + l.pending + l.disputed;
  }
  for (const a of new Set(accounts)) owed += await escrow.withdrawable(a, tokenAddress);
  expect(await token.balanceOf(await escrow.getAddress()), "escrow solvency").to.equal(owed);
  return owed;
}

export { MockUSDC__factory };
