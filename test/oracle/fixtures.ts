import { ethers } from "hardhat";
import type { Wallet } from "ethers";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { GpuAssetNFT__factory, UsageOracle__factory, type UsageOracle } from "../../typechain-types";
import { makeBatch, oracleDomain, signBatch, type Reading, type UsageBatch } from "../../src/eip712";

/** AssetStatus as the NFT numbers it. */
export const Status = { Active: 0n, Maintenance: 1n, Retired: 2n } as const;
/** MeterField as the oracle numbers it. */
export const Field = { BusyGpuSeconds: 0n, AvailableGpuSeconds: 1n, EnergyJ: 2n } as const;

export const SKEW_SECONDS = 300n;
export const MARGIN_BPS = 1_000n;
export const BIG_ASSET = { id: 1n, gpuCount: 8n, tdpWatts: 700n };
export const SMALL_ASSET = { id: 2n, gpuCount: 1n, tdpWatts: 300n };
export const RETIRED_ASSET_ID = 3n;
export const UNKNOWN_ASSET_ID = 99n;

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

/** A reading of `assetId` with the given values (zero counters unless overridden). */
export function reading(assetId: bigint, timestamp: bigint, values: Partial<Reading> = {}): Reading {
  return { assetId, timestamp, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n, ...values };
}

async function deploy(signerCount: number, threshold: number) {
  const accounts = await ethers.getSigners();
  const [admin, registrar, oracleAdmin, pauser, transmitter, stranger] = accounts;
  // Signers only sign (they never send transactions): plain wallets with fixed keys, so tests can
  // also sign raw digests.
  const signers = Array.from({ length: signerCount }, (_, i) => new ethers.Wallet(ethers.id(`oracle-signer-${i}`)));
  const outsiders = Array.from({ length: 3 }, (_, i) => new ethers.Wallet(ethers.id(`oracle-outsider-${i}`)));

  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), registrar.address);
  await nft.connect(registrar).mint(admin.address, spec("big", BIG_ASSET.gpuCount, BIG_ASSET.tdpWatts));
  await nft.connect(registrar).mint(admin.address, spec("small", SMALL_ASSET.gpuCount, SMALL_ASSET.tdpWatts));
  await nft.connect(registrar).mint(admin.address, spec("retired", 4n, 400n));
  await nft.connect(registrar).setStatus(RETIRED_ASSET_ID, Status.Retired);

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

  /** Signs `readings` (sorted) under `version` (default: current) by `by` (default: the first k signers). */
  async function signed(
    readings: Reading[],
    by: Wallet[] = signers.slice(0, threshold),
    version?: bigint,
  ): Promise<{ batch: UsageBatch; signatures: string[] }> {
    const batch = makeBatch(version ?? (await oracle.configVersion()), readings);
    const signatures = await Promise.all(by.map((s) => signBatch(s, domain, batch)));
    return { batch, signatures };
  }

  /** Signs and submits (from the transmitter account). */
  async function submit(readings: Reading[], by?: Wallet[]) {
    const { batch, signatures } = await signed(readings, by);
    return oracle.connect(transmitter).submit(batch.configVersion, batch.readings, signatures);
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
    signed,
    submit,
  };
}

/** 2-of-3 signers, skew 300 s, margin 10 %; assets 1 (8 x 700 W), 2 (1 x 300 W), 3 (Retired); nothing reported. */
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

/** The 2-of-3 oracle with baselines of assets 1 and 2 at `t0` (counters 1000, 2000, 1e6 J). */
export async function baselinedFixture() {
  const base = await deployedFixture();
  const t0 = BigInt(await time.latest()) - 3_600n;
  const values = { busyGpuSeconds: 1_000n, availableGpuSeconds: 2_000n, energyJ: 1_000_000n };
  await base.submit([reading(BIG_ASSET.id, t0, values), reading(SMALL_ASSET.id, t0, values)]);
  return { ...base, t0, values };
}

export type Deployed = Awaited<ReturnType<typeof deployedFixture>>;
export type { UsageOracle };
