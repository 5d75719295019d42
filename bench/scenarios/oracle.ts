import { ethers } from "hardhat";
import { gasOf, type BenchScenario } from "../lib";
import { GpuAssetNFT__factory, UsageOracle__factory } from "../../typechain-types";
import { makeBatch, oracleDomain, signBatch, submitArgs, type Reading } from "../../src/eip712";

const GPU_COUNT = 8n;
const TDP_WATTS = 700n;
const INTERVAL_SECONDS = 300n;

/**
 * `assets` readings of 8 x H100 servers with realistic cumulative counters (about a month of history:
 * ~80 % busy, ~90 % of TDP), `intervals` posting intervals after the baseline, each linked to the
 * previous batch.
 */
export function monthOldReadings(assets: number, intervals: bigint, previousBatch: bigint): Reading[] {
  return Array.from({ length: assets }, (_, i) => ({
    assetId: BigInt(i + 1),
    previousBatch,
    busyGpuSeconds: 16_588_800n + BigInt(i) * 7n + intervals * ((GPU_COUNT * INTERVAL_SECONDS * 8n) / 10n),
    availableGpuSeconds: 20_736_000n + BigInt(i) * 11n + intervals * GPU_COUNT * INTERVAL_SECONDS,
    energyJ: 13_063_680_000n + BigInt(i) * 1_013n + intervals * ((GPU_COUNT * TDP_WATTS * INTERVAL_SECONDS * 9n) / 10n),
  }));
}

/**
 * Gas per reading of a steady-state `submit`: `assets` readings (each linked to the asset's previous
 * batch), signed by `signerCount` of `signerCount` signers; the whole transaction's gas (base cost and
 * calldata included) divided by the readings it publishes.
 */
async function submitPerAsset(assets: number, signerCount: number): Promise<number> {
  const [admin, ...rest] = await ethers.getSigners();
  const signers = rest.slice(0, signerCount);
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  const oracle = await new UsageOracle__factory(admin).deploy(
    admin.address,
    await nft.getAddress(),
    signers.map((s) => s.address),
    signerCount,
    300,
    1_000,
  );
  const { chainId } = await ethers.provider.getNetwork();
  const domain = oracleDomain(chainId, await oracle.getAddress());
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const submit = async (batchIndex: bigint, timestamp: bigint, readings: Reading[]) => {
    const batch = makeBatch(await oracle.configVersion(), batchIndex, timestamp, readings);
    const signatures = await Promise.all(signers.map((s) => signBatch(s, domain, batch)));
    return gasOf(oracle.submit(...submitArgs(batch, signatures)));
  };
  await submit(1n, now - INTERVAL_SECONDS, monthOldReadings(assets, 0n, 0n));
  const gas = await submit(2n, now, monthOldReadings(assets, 1n, 1n));
  return Math.round(gas / assets);
}

const point = (assets: number, signerCount: number, target: number): BenchScenario => ({
  key: `oracle.submit.perAsset.${assets}x${signerCount}`,
  target,
  note:
    `UsageOracle.submit of ${assets} steady-state reading(s) (28 bytes each, month-old counters, linked to the ` +
    `previous batch), ${signerCount}-of-${signerCount} signatures, root rebuilt on chain: transaction gas / ${assets}`,
  run: () => submitPerAsset(assets, signerCount),
});

export const scenarios: BenchScenario[] = [
  point(1, 1, 68_000), // one reading alone: no more than a Chainlink feed update (~68k, public figure)
  point(10, 1, 8_000),
  point(100, 1, 1_500),
  point(100, 3, 1_600),
  point(500, 1, 1_000),
];
