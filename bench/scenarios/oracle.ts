import { ethers } from "hardhat";
import { gasOf, type BenchScenario } from "../lib";
import { GpuAssetNFT__factory, UsageOracle__factory } from "../../typechain-types";
import { makeBatch, oracleDomain, signBatch, type Reading } from "../../src/eip712";

const GPU_COUNT = 8n;
const TDP_WATTS = 700n;
const INTERVAL_SECONDS = 300n;

/**
 * Gas per asset of a steady-state `submit`: `assets` 8 x H100 assets that already have a baseline
 * report a realistic next reading (5 minutes later, ~80 % busy, ~90 % of TDP, cumulative counters
 * of about a month), signed by `signerCount` of `signerCount` signers. Transaction gas / assets.
 */
async function submitPerAsset(assets: number, signerCount: number): Promise<number> {
  const [admin, registrar, ...rest] = await ethers.getSigners();
  const signers = rest.slice(0, signerCount);
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), registrar.address);
  for (let i = 1; i <= assets; i++) {
    await nft.connect(registrar).mint(admin.address, {
      gpuModel: "NVIDIA H100 80GB HBM3",
      datacenter: "eu-west-fra2",
      serialsHash: ethers.keccak256(ethers.toUtf8Bytes(`bench-serials-${i}`)),
      vramMiBPerGpu: 81_559,
      gpuCount: Number(GPU_COUNT),
      tdpWattsPerGpu: Number(TDP_WATTS),
    });
  }
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
  // About 30 days of history at the baseline; then one interval more.
  const readingsAt = (timestamp: bigint, intervals: bigint): Reading[] =>
    Array.from({ length: assets }, (_, i) => ({
      assetId: BigInt(i + 1),
      timestamp,
      busyGpuSeconds: 16_588_800n + intervals * ((GPU_COUNT * INTERVAL_SECONDS * 8n) / 10n),
      availableGpuSeconds: 20_736_000n + intervals * GPU_COUNT * INTERVAL_SECONDS,
      energyJ: 13_063_680_000n + intervals * ((GPU_COUNT * TDP_WATTS * INTERVAL_SECONDS * 9n) / 10n),
    }));
  const submit = async (readings: Reading[]) => {
    const batch = makeBatch(await oracle.configVersion(), readings);
    const signatures = await Promise.all(signers.map((s) => signBatch(s, domain, batch)));
    return gasOf(oracle.submit(batch.configVersion, batch.readings, signatures));
  };
  await submit(readingsAt(now - INTERVAL_SECONDS, 0n));
  const gas = await submit(readingsAt(now, 1n));
  return Math.round(gas / assets);
}

const point = (assets: number, signerCount: number, target: number): BenchScenario => ({
  key: `oracle.submit.perAsset.${assets}x${signerCount}`,
  target,
  note:
    `UsageOracle.submit of ${assets} steady-state reading(s) (every asset has a baseline), ` +
    `${signerCount}-of-${signerCount} signatures: transaction gas / ${assets}`,
  run: () => submitPerAsset(assets, signerCount),
});

export const scenarios: BenchScenario[] = [
  point(1, 1, 9_000),
  point(10, 1, 9_000),
  point(100, 1, 9_000),
  point(100, 3, 9_500),
  point(500, 1, 9_000),
];
