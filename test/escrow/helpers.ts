import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { Result, type BaseContract, type Signer } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  MockUSDC__factory,
  SettlementEscrow__factory,
  type MockUSDC,
  type SettlementEscrow,
} from "../../typechain-types";
import { GpuAssetNFT__factory, UsageOracle__factory, type UsageOracle } from "../../typechain-types";
import { oracleDomain } from "../../src/eip712";
import { ABSENT_BOUNDARY, leaseProofs, type LeaseProofs } from "../../src/meterHistory";
import { FIRST_VALUES, OracleRig, type Deltas, type Values } from "../helpers/oracleRig";

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

/** Escrow settings a fixture may change (defaults: `DISPUTE_WINDOW`, `ARBITER_TIMEOUT`). */
export interface CoreOptions {
  disputeWindowSeconds?: bigint;
  arbiterTimeoutSeconds?: bigint;
}

/** The oracle's allowed clock skew in `deployCore`: a batch may be stamped up to this far ahead. */
export const ORACLE_SKEW = 60n;
/** The oracle's energy margin over gpuCount × TDP in `deployCore`, basis points. */
export const ORACLE_ENERGY_MARGIN_BPS = 1_000n;

/** Deploys NFT, oracle and escrow; mints one 8-GPU asset to `provider`. */
export async function deployCore(options: CoreOptions = {}) {
  const [admin, provider, lessee, other, arbiter, pauser, operator, feeder] = await ethers.getSigners();
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  // A real 2-of-3 oracle: every reading in these tests is a signed batch submitted by the feeder.
  const oracleSigners = [0, 1, 2].map((i) => new ethers.Wallet(ethers.id(`escrow-test-signer-${i}`)));
  const oracle = await new UsageOracle__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    oracleSigners.map((w) => w.address),
    2,
    ORACLE_SKEW,
    ORACLE_ENERGY_MARGIN_BPS,
  );
  const escrow = await new SettlementEscrow__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    await oracle.getAddress(),
    options.disputeWindowSeconds ?? DISPUTE_WINDOW,
    options.arbiterTimeoutSeconds ?? ARBITER_TIMEOUT,
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
  return {
    admin,
    provider,
    lessee,
    other,
    arbiter,
    pauser,
    operator,
    feeder,
    nft,
    oracle,
    escrow,
    assetId,
    rig,
    meters,
    keeper,
  };
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

  /**
   * Posts a reading stamped `timestamp` with the latest counters plus `deltas` (a first reading
   * starts at `FIRST_VALUES`) in a transaction mined at exactly `acceptedAt` (default `timestamp`;
   * at most `ORACLE_SKEW` earlier). Returns the reading's cumulative values.
   */
  async postAt(timestamp: bigint, deltas: Deltas, acceptedAt = timestamp): Promise<Values> {
    const last = await this.rig.latest(this.assetId);
    const from: Values = last.timestamp === 0n ? FIRST_VALUES : last;
    const values: Values = {
      busyGpuSeconds: from.busyGpuSeconds + (deltas.busyGpuSeconds ?? 0n),
      availableGpuSeconds: from.availableGpuSeconds + (deltas.availableGpuSeconds ?? 0n),
      energyJ: from.energyJ + (deltas.energyJ ?? 0n),
    };
    const { batch, signatures } = await this.rig.sign(timestamp, new Map([[this.assetId, values]]));
    await time.setNextBlockTimestamp(acceptedAt);
    await this.rig.submit(batch, signatures);
    return values;
  }

  /**
   * As `postAt`, with fractions (bps) of the GPU capacity since the latest reading available and busy,
   * and `watts` drawn per busy GPU. A first reading carries `FIRST_VALUES`.
   */
  async useAt(timestamp: bigint, availableBps: bigint, busyBps: bigint, acceptedAt = timestamp, watts = 0n) {
    const last = await this.rig.latest(this.assetId);
    const capacity = last.timestamp === 0n ? 0n : GPUS * (timestamp - last.timestamp);
    const busy = (capacity * busyBps) / 10_000n;
    return this.postAt(
      timestamp,
      { availableGpuSeconds: (capacity * availableBps) / 10_000n, busyGpuSeconds: busy, energyJ: busy * watts },
      acceptedAt,
    );
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

/** A meter as `SettlementMath.leaseBill` takes it. */
export interface BillMeter {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** The prices and SLA target a bill depends on. */
export interface BillTerms {
  reservationPricePerGpuHour: bigint;
  usagePricePerBusyGpuHour: bigint;
  energyPricePerKWh: bigint;
  slaAvailabilityBps: bigint;
}

/** `LeaseBill`, field for field. */
export interface Bill {
  meteredSeconds: bigint;
  availabilityBps: bigint;
  reservationFee: bigint;
  usageFee: bigint;
  energyFee: bigint;
  slaCredit: bigint;
  total: bigint;
}

/**
 * A lease's bill, written from the NatSpec of `SettlementMath.leaseBill` and docs (not from the
 * Solidity): deltas clamped to what is physically possible over the metered time, fees rounded down,
 * availability over the lease's whole time rounded down and capped at 100 %, SLA credit rounded up.
 */
export function billOf(
  start: BillMeter,
  point: BillMeter,
  leaseSeconds: bigint,
  gpuCount: bigint,
  tdpWattsPerGpu: bigint,
  terms: BillTerms,
): Bill {
  const zero: Bill = {
    meteredSeconds: 0n,
    availabilityBps: 0n,
    reservationFee: 0n,
    usageFee: 0n,
    energyFee: 0n,
    slaCredit: 0n,
    total: 0n,
  };
  if (point.timestamp <= start.timestamp) return zero;
  const metered = point.timestamp - start.timestamp;
  const clamp = (from: bigint, to: bigint, max: bigint) => (to <= from ? 0n : to - from < max ? to - from : max);
  const available = clamp(start.availableGpuSeconds, point.availableGpuSeconds, gpuCount * metered);
  const busy = clamp(start.busyGpuSeconds, point.busyGpuSeconds, available);
  const energy = clamp(start.energyJ, point.energyJ, (gpuCount * tdpWattsPerGpu * metered * 15_000n) / 10_000n);
  const reservationFee = (available * terms.reservationPricePerGpuHour) / HOUR;
  const usageFee = (busy * terms.usagePricePerBusyGpuHour) / HOUR;
  const energyFee = (energy * terms.energyPricePerKWh) / 3_600_000n;
  const capacity = gpuCount * leaseSeconds;
  let availabilityBps = capacity === 0n ? 0n : (available * 10_000n) / capacity;
  if (availabilityBps > 10_000n) availabilityBps = 10_000n;
  const gross = reservationFee + usageFee;
  const target = terms.slaAvailabilityBps;
  // gross × (target − availability) ÷ target, rounded up.
  const slaCredit = availabilityBps < target ? (gross * (target - availabilityBps) + target - 1n) / target : 0n;
  return {
    meteredSeconds: metered,
    availabilityBps,
    reservationFee,
    usageFee,
    energyFee,
    slaCredit,
    total: gross - slaCredit + energyFee,
  };
}

/** A bill as `withArgs` compares a `LeaseBill` event argument (its fields in order). */
export function billArgs(b: Bill): bigint[] {
  return [b.meteredSeconds, b.availabilityBps, b.reservationFee, b.usageFee, b.energyFee, b.slaCredit, b.total];
}

/** An ethers `Result` (struct, tuple) as plain nested arrays, so snapshots compare with deep equality. */
export function plain(value: unknown): unknown {
  if (value instanceof Result) return [...value].map(plain);
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/**
 * Everything a refused call must leave as it was: every lease and its accounting, every listed
 * account's withdrawable and token balances, the escrow's token balance, each listed asset's NFT user,
 * terms version and unfinished leases, and the pause flag.
 */
export async function escrowState(
  escrow: SettlementEscrow,
  token: TestToken,
  accounts: string[],
  assetIds: bigint[] = [1n],
) {
  const t = await token.getAddress();
  const nft = GpuAssetNFT__factory.connect(await escrow.nft(), ethers.provider);
  const count = await escrow.leaseCount();
  const leases: unknown[] = [];
  for (let id = 1n; id <= count; id++)
    leases.push([plain(await escrow.leaseOf(id)), plain(await escrow.accountingOf(id))]);
  const parties: unknown[] = [];
  for (const a of accounts) parties.push([a, await escrow.withdrawable(a, t), await token.balanceOf(a)]);
  const assets: unknown[] = [];
  for (const id of assetIds) {
    assets.push([
      id,
      await nft.userOf(id),
      await escrow.currentTermsVersion(id),
      plain(await escrow.unfinishedLeasesOf(id)),
    ]);
  }
  return {
    count,
    leases,
    parties,
    assets,
    escrowBalance: await token.balanceOf(await escrow.getAddress()),
    paused: await escrow.paused(),
  };
}

/** An EIP-2612 permit by `owner` for `spender`, signed over the token's current nonce (or `nonce`). */
export async function signPermit(
  token: MockUSDC,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
  nonce?: bigint,
) {
  const { chainId } = await ethers.provider.getNetwork();
  const signature = await owner.signTypedData(
    { name: await token.name(), version: "1", chainId, verifyingContract: await token.getAddress() },
    {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    { owner: owner.address, spender, value, nonce: nonce ?? (await token.nonces(owner.address)), deadline },
  );
  const { v, r, s } = ethers.Signature.from(signature);
  return { deadline, v, r, s };
}

/** The next transaction runs at exactly `timestamp` (the boundary tests pin every second this way). */
export async function at(timestamp: bigint) {
  await time.setNextBlockTimestamp(timestamp);
}

export { MockUSDC__factory };
