/**
 * Fixtures of the UsageOracle suites: a real GpuAssetNFT with three assets and a real k-of-n oracle,
 * batches signed with EIP-712 by plain wallets (`src/eip712.ts`), and proofs rebuilt from the chain's
 * logs and calldata (`src/meterHistory.ts`). No JavaScript state outlives a call: everything is read
 * back from the chain, so `loadFixture` snapshots stay consistent.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionResponse, Wallet } from "ethers";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { GpuAssetNFT__factory, UsageOracle__factory, type UsageOracle } from "../../typechain-types";
import {
  makeBatch,
  oracleDomain,
  signBatch,
  submitArgs,
  type Meter,
  type Reading,
  type UsageBatch,
} from "../../src/eip712";
import { fetchMeterHistory, type MeterHistory, type ReadingProof } from "../../src/meterHistory";

/** AssetStatus as the NFT numbers it. */
export const Status = { Active: 0n, Maintenance: 1n, Retired: 2n } as const;
/** MeterBound as the oracle numbers it. */
export const Bound = { Lower: 0, Upper: 1 } as const;
/** MeterSource as the oracle numbers it. */
export const Source = { Interpolated: 0n, Exact: 1n, FirstReading: 2n, UnusablePair: 3n } as const;

export const SKEW_SECONDS = 300n;
export const MARGIN_BPS = 1_000n;
/** 8 x 700 W. */
export const BIG_ASSET = { id: 1n, gpuCount: 8n, tdpWatts: 700n };
/** 1 x 300 W. */
export const SMALL_ASSET = { id: 2n, gpuCount: 1n, tdpWatts: 300n };
/** 4 x 400 W, owned by the admin account so tests can burn it. */
export const BURNABLE_ASSET = { id: 3n, gpuCount: 4n, tdpWatts: 400n };
/** Never minted. */
export const UNKNOWN_ASSET_ID = 99n;

/** Skips estimateGas, so that a reverting transaction is mined at the pinned timestamp. */
export const GAS = { gasLimit: 10_000_000 };

/** Counters of a reading. */
export interface Values {
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** Values of the test assets' first readings: cumulative since some origin, hence not zero. */
export const BASE: Values = { busyGpuSeconds: 1_000n, availableGpuSeconds: 2_000n, energyJ: 1_000_000n };

function spec(tag: string, gpuCount: bigint, tdpWatts: bigint) {
  return {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: ethers.keccak256(ethers.toUtf8Bytes(`oracle-test-${tag}`)),
    vramMiBPerGpu: 81_559,
    gpuCount: Number(gpuCount),
    tdpWattsPerGpu: Number(tdpWatts),
  };
}

/** A reading of `assetId` linked to `previousBatch`, with the given counters (zero unless given). */
export function reading(assetId: bigint, previousBatch: bigint, values: Partial<Values> = {}): Reading {
  return { assetId, previousBatch, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n, ...values };
}

/** `values` plus the given increments. */
export function plus(values: Values, deltas: Partial<Values>): Values {
  return {
    busyGpuSeconds: values.busyGpuSeconds + (deltas.busyGpuSeconds ?? 0n),
    availableGpuSeconds: values.availableGpuSeconds + (deltas.availableGpuSeconds ?? 0n),
    energyJ: values.energyJ + (deltas.energyJ ?? 0n),
  };
}

/** The meter a reading stands for at `timestamp`. */
export function meterOf(timestamp: bigint, values: Values): Meter {
  return { timestamp, ...pick(values) };
}

function pick(v: Values): Values {
  return { busyGpuSeconds: v.busyGpuSeconds, availableGpuSeconds: v.availableGpuSeconds, energyJ: v.energyJ };
}

/** A contract `Meter` result as a plain object. */
export function asMeter(m: {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}): Meter {
  return {
    timestamp: m.timestamp,
    busyGpuSeconds: m.busyGpuSeconds,
    availableGpuSeconds: m.availableGpuSeconds,
    energyJ: m.energyJ,
  };
}

/** The state `submit` writes: what every refused batch must leave unchanged. */
export async function oracleState(oracle: UsageOracle) {
  const next = await oracle.nextBatchIndex();
  const commitments: string[] = [];
  for (let i = 0n; i <= next + 1n; i++) commitments.push(await oracle.batchCommitment(i));
  return { next, last: await oracle.lastBatchTimestamp(), commitments };
}

/** Asserts that `oracleState` is what it was. */
export async function expectUnchanged(oracle: UsageOracle, before: Awaited<ReturnType<typeof oracleState>>) {
  expect(await oracleState(oracle)).to.deep.equal(before);
}

/** A seeded pseudo-random generator (xorshift64*), so random histories are reproducible. */
export function rng(seed: bigint) {
  let s = seed & ((1n << 64n) - 1n) || 1n;
  const mask = (1n << 64n) - 1n;
  const next = () => {
    s ^= s >> 12n;
    s ^= (s << 25n) & mask;
    s ^= s >> 27n;
    return ((s * 0x2545f4914f6cdd1dn) & mask) >> 11n; // 53 bits
  };
  return {
    /** Uniform in [0, n). */
    below: (n: bigint) => (n <= 0n ? 0n : next() % n),
    /** Uniform in [lo, hi]. */
    between: (lo: bigint, hi: bigint) => lo + (hi <= lo ? 0n : next() % (hi - lo + 1n)),
    /** True with probability `p`. */
    chance: (p: number) => Number(next() % 1_000_000n) < p * 1_000_000,
  };
}

async function deploy(signerCount: number, threshold: number) {
  const [admin, registrar, oracleAdmin, pauser, transmitter, stranger] = await ethers.getSigners();
  // Signers only sign (never send transactions): plain wallets with fixed keys, which can also sign raw digests.
  const signers = Array.from({ length: signerCount }, (_, i) => new ethers.Wallet(ethers.id(`oracle-signer-${i}`)));
  const outsiders = Array.from({ length: 3 }, (_, i) => new ethers.Wallet(ethers.id(`oracle-outsider-${i}`)));

  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), registrar.address);
  for (const [tag, a] of [
    ["big", BIG_ASSET],
    ["small", SMALL_ASSET],
    ["burnable", BURNABLE_ASSET],
  ] as const) {
    await nft.connect(registrar).mint(admin.address, spec(tag, a.gpuCount, a.tdpWatts));
  }

  const oracle = await new UsageOracle__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    signers.map((s) => s.address),
    threshold,
    SKEW_SECONDS,
    MARGIN_BPS,
  );
  await oracle.grantRole(await oracle.ORACLE_ADMIN_ROLE(), oracleAdmin.address);
  await oracle.grantRole(await oracle.PAUSER_ROLE(), pauser.address);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = oracleDomain(chainId, await oracle.getAddress());

  /** The batch the oracle expects next (current version and index) at `timestamp`, sorted. */
  async function nextBatch(timestamp: bigint, readings: Reading[]): Promise<UsageBatch> {
    return makeBatch(await oracle.configVersion(), await oracle.nextBatchIndex(), timestamp, readings);
  }

  /** Signatures of `batch` by `by` (default: the first `threshold` signers). */
  async function sign(batch: UsageBatch, by: Wallet[] = signers.slice(0, threshold)): Promise<string[]> {
    return Promise.all(by.map((s) => signBatch(s, domain, batch)));
  }

  /** Signs and submits the next batch at `timestamp` from the transmitter (moving the chain to it when ahead). */
  async function post(
    timestamp: bigint,
    readings: Reading[],
  ): Promise<{ batch: UsageBatch; tx: ContractTransactionResponse }> {
    if (timestamp > BigInt(await time.latest())) await time.setNextBlockTimestamp(timestamp);
    const batch = await nextBatch(timestamp, readings);
    const tx = await oracle.connect(transmitter).submit(...submitArgs(batch, await sign(batch)));
    return { batch, tx };
  }

  /** The oracle's whole history, read back from the chain. */
  async function history(): Promise<MeterHistory> {
    return fetchMeterHistory(ethers.provider, await oracle.getAddress());
  }

  /** The proof of `assetId`'s reading in batch `batchIndex`, built from chain data. */
  async function proofOf(batchIndex: bigint, assetId: bigint): Promise<ReadingProof> {
    const h = await history();
    const r = h.readingsOf(assetId).find((x) => x.batch.batchIndex === batchIndex);
    if (!r) throw new Error(`no reading of asset ${assetId} in batch ${batchIndex}`);
    return h.proof(r);
  }

  return {
    nft,
    oracle,
    domain,
    chainId,
    admin,
    registrar,
    oracleAdmin,
    pauser,
    transmitter,
    stranger,
    signers,
    outsiders,
    threshold,
    nextBatch,
    sign,
    post,
    history,
    proofOf,
  };
}

/** 2-of-3 signers, skew 300 s, margin 10 %; assets 1 (8 x 700 W), 2 (1 x 300 W), 3 (4 x 400 W); no batch. */
export async function deployedFixture() {
  return deploy(3, 2);
}

/** 1-of-1. */
export async function oneOfOneFixture() {
  return deploy(1, 1);
}

/** 3-of-3. */
export async function threeOfThreeFixture() {
  return deploy(3, 3);
}

/**
 * The 2-of-3 oracle with two batches: batch 1 at `t1` holds the first readings of assets 1, 2 and 3
 * (values `BASE`); batch 2 at `t2 = t1 + 600` holds assets 1 and 3 with possible deltas (`step1`, `step3`).
 */
export async function twoBatchesFixture() {
  const base = await deployedFixture();
  const t1 = BigInt(await time.latest()) + 100n;
  const t2 = t1 + 600n;
  await base.post(t1, [
    reading(BIG_ASSET.id, 0n, BASE),
    reading(SMALL_ASSET.id, 0n, BASE),
    reading(BURNABLE_ASSET.id, 0n, BASE),
  ]);
  // 8 GPUs x 600 s = 4800 GPU-s of capacity: 4000 available, 3000 busy, 3000 x 700 J.
  const step1: Values = plus(BASE, { busyGpuSeconds: 3_000n, availableGpuSeconds: 4_000n, energyJ: 2_100_000n });
  // 4 GPUs x 600 s = 2400: all available, 1200 busy at 400 W.
  const step3: Values = plus(BASE, { busyGpuSeconds: 1_200n, availableGpuSeconds: 2_400n, energyJ: 480_000n });
  await base.post(t2, [reading(BIG_ASSET.id, 1n, step1), reading(BURNABLE_ASSET.id, 1n, step3)]);
  return { ...base, t1, t2, step1, step3 };
}

export type Deployed = Awaited<ReturnType<typeof deployedFixture>>;
export type { UsageOracle };
