/**
 * Feeder benchmarks.
 * - `feeder.readingsPerSecond`: dcgm-exporter text for 1,000 assets (2 GPUs each) parsed, metered,
 *   turned into readings, EIP-712 signed and ABI-encoded, on one core, chain excluded.
 * - `feeder.postGasPerAsset.1000`: 1,000 assets posted end to end through the feeder's controller and
 *   payload path to the real UsageOracle on the in-process chain; gas from receipts, steady state.
 */
import { ethers } from "hardhat";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import type { BenchScenario } from "../lib";
import { GpuAssetNFT__factory, UsageOracle__factory } from "../../typechain-types";
import { Controller } from "../../feeder/controller";
import { FeederMetrics } from "../../feeder/metrics";
import { buildReading, emptyMeterState, ingestSamples, toStored } from "../../feeder/meters";
import { selectBatches } from "../../feeder/batching";
import { buildSignedBatch } from "../../feeder/payload";
import { makeBatchSigner } from "../../feeder/signer";
import { parseDcgm } from "../../feeder/sources/dcgm";
import { GpuSimulator, SimulatorSource, renderDcgm } from "../../feeder/sources/simulator";
import { MemoryStateStore, type PendingTx } from "../../feeder/state";
import type { ChainPort, Simulation, TxOutcome } from "../../feeder/ports";
import { readingFromMeter, silentLogger, type OracleReading } from "../../feeder/types";

const ASSETS = 1000;
const GPUS_PER_ASSET = 2;
const T0 = 1_750_000_000_000;

function uuid(i: number): string {
  return `GPU-${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
}

function assetMap() {
  const assets = Array.from({ length: ASSETS }, (_, a) => ({
    assetId: String(a + 1),
    gpus: Array.from({ length: GPUS_PER_ASSET }, (_, g) => uuid(a * GPUS_PER_ASSET + g)),
  }));
  const assetOfGpu = new Map<string, string>();
  for (const a of assets) for (const g of a.gpus) assetOfGpu.set(g, a.assetId);
  return { assets, assetOfGpu };
}

/** One timed round: read (parse) → meter → select → build readings → sign → encode. Returns readings/s. */
async function throughputRound(): Promise<number> {
  const { assets, assetOfGpu } = assetMap();
  const sim = new GpuSimulator({ seed: 7, gpus: [...assetOfGpu.keys()], tdpWatts: 700, energyCounter: true });
  const scrapes = [0, 15, 30].map((s) => ({ text: renderDcgm(sim.sample(T0 + s * 1000)), timeMs: T0 + s * 1000 }));
  const wallet = new Wallet("0x" + "11".repeat(32));
  const signer = makeBatchSigner(wallet, 31337n, "0x" + "22".repeat(20));
  const state = emptyMeterState();
  const ids = assets.map((a) => a.assetId);
  const limits = { gpuCount: GPUS_PER_ASSET, tdpWattsPerGpu: 700 };
  // Baseline scrape and the zero first readings are set-up, not measured.
  ingestSamples(state, parseDcgm(scrapes[0].text, scrapes[0].timeMs).samples, assetOfGpu, { staleAfterSeconds: 30 });
  for (const id of ids)
    state.assets[id].lastBuilt = toStored(
      buildReading(id, state.assets[id], limits, { energyMarginBps: 10_000, nowS: T0 / 1000 })!,
    );
  let readings = 0;
  const start = process.hrtime.bigint();
  for (const scrape of scrapes.slice(1)) {
    ingestSamples(state, parseDcgm(scrape.text, scrape.timeMs).samples, assetOfGpu, { staleAfterSeconds: 30 });
    const batches = selectBatches(
      state.assets,
      ids,
      { maxBatchSize: 500, maxBatches: 100, heartbeatSeconds: 3600 },
      scrape.timeMs,
    );
    for (const batch of batches) {
      const rs: OracleReading[] = [];
      for (const id of batch) {
        const r = buildReading(id, state.assets[id], limits, { energyMarginBps: 10_000, nowS: scrape.timeMs / 1000 })!;
        state.assets[id].lastBuilt = toStored(r);
        rs.push(r);
      }
      const signed = await buildSignedBatch(signer, 1n, rs);
      if (signed.calldata.length < 2 + rs.length * 320) throw new Error("calldata too short");
      readings += rs.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (readings !== 2 * ASSETS) throw new Error(`expected ${2 * ASSETS} readings, built ${readings}`);
  return readings / seconds;
}

/** ChainPort over the in-process Hardhat network (the bench harness's chain), recording gas. */
class HardhatPort implements ChainPort {
  gas: bigint[] = [];
  constructor(
    readonly signerAddress: string,
    readonly oracleAddress: string,
    private readonly oracle: import("../../typechain-types").UsageOracle,
    private readonly nft: import("../../typechain-types").GpuAssetNFT,
    private readonly sender: import("ethers").Signer,
  ) {}
  async chainId() {
    return 31337n;
  }
  async configVersion() {
    return this.oracle.configVersion();
  }
  async oracleParams() {
    return {
      maxReadings: Number(await this.oracle.MAX_READINGS()),
      energyMarginBps: Number(await this.oracle.energyMarginBps()),
    };
  }
  async latestReadings(ids: readonly string[]) {
    const out = new Map<string, OracleReading | undefined>();
    for (const id of ids) {
      const m = await this.oracle.latestReading(id);
      out.set(id, readingFromMeter(id, m));
    }
    return out;
  }
  async assetInfo(ids: readonly string[]) {
    const out = new Map();
    for (const id of ids) {
      const [gpuCount, tdp, status] = await this.nft.meteringLimits(id);
      out.set(id, { gpuCount: Number(gpuCount), tdpWattsPerGpu: Number(tdp), status: Number(status) });
    }
    return out;
  }
  async balanceWei() {
    return ethers.provider.getBalance(this.signerAddress);
  }
  async simulate(calldata: string): Promise<Simulation> {
    const gas = await ethers.provider.estimateGas({ from: this.signerAddress, to: this.oracleAddress, data: calldata });
    const cap = 2n ** 24n - 1_000_000n; // the feeder's default tx.gasLimitCap
    if (gas > cap) return { kind: "too-large", gas };
    const limit = (gas * 12n) / 10n;
    return { kind: "ok", gas: limit < cap ? limit : cap };
  }
  async send(
    calldata: string,
    gasLimit: bigint,
    readings: PendingTx["readings"],
    persist: (p: PendingTx) => void,
  ): Promise<TxOutcome> {
    persist({ nonce: 0, rawTxs: [], hashes: [], firstSentAtMs: 0, readings });
    const tx = await this.sender.sendTransaction({ to: this.oracleAddress, data: calldata, gasLimit });
    const r = (await tx.wait())!;
    if (r.status !== 1) throw new Error("post reverted");
    this.gas.push(r.gasUsed);
    return { kind: "mined", hash: r.hash, gasUsed: r.gasUsed, blockNumber: r.blockNumber };
  }
  async resume(): Promise<TxOutcome> {
    return { kind: "nonce-consumed" };
  }
}

export const scenarios: BenchScenario[] = [
  {
    key: "feeder.readingsPerSecond",
    unit: "readings/s",
    better: "higher",
    target: 10_000,
    note: "1,000 assets x 2 GPUs: dcgm-exporter text parsed, metered, readings capped, EIP-712 signed (one signature per 500) and ABI-encoded, one core; median of 5 rounds rounded down to a multiple of 5,000 so that the committed figure is conservative and stable across runs (throughput, unlike gas, varies with machine load)",
    run: async () => {
      await throughputRound(); // warm-up (JIT)
      const rounds: number[] = [];
      for (let i = 0; i < 5; i++) rounds.push(await throughputRound());
      rounds.sort((a, b) => a - b);
      return Math.floor(rounds[2] / 5000) * 5000;
    },
  },
  {
    key: "feeder.postGasPerAsset.1000",
    target: 9_500,
    note: "1,000 assets (2 GPUs each) posted by the feeder's controller and payload path (simulated telemetry, 60 s after the baseline posting) to the UsageOracle: total gasUsed of the batches (MAX_READINGS = 500 per tx) / 1,000; steady state (every asset already has a reading)",
    run: async () => {
      const [deployer] = await ethers.getSigners();
      const feederWallet = new Wallet("0x" + "11".repeat(32), ethers.provider);
      await deployer.sendTransaction({ to: feederWallet.address, value: 10n ** 20n });
      const nft = await new GpuAssetNFT__factory(deployer).deploy(deployer.address);
      await nft.grantRole(await nft.REGISTRAR_ROLE(), deployer.address);
      const oracle = await new UsageOracle__factory(deployer).deploy(
        deployer.address,
        await nft.getAddress(),
        [feederWallet.address],
        1,
        300,
        500,
      );
      for (let i = 0; i < ASSETS; i++) {
        await nft.mint(deployer.address, {
          gpuModel: "NVIDIA H100 80GB HBM3",
          datacenter: "eu-west-fra2",
          serialsHash: keccak256(toUtf8Bytes(`bench-${i}`)),
          vramMiBPerGpu: 81559,
          gpuCount: GPUS_PER_ASSET,
          tdpWattsPerGpu: 700,
        });
      }
      const { assets } = assetMap();
      const oracleAddress = await oracle.getAddress();
      const latest = await ethers.provider.getBlock("latest");
      const clock = { t: (latest!.timestamp - 120) * 1000 };
      const port = new HardhatPort(feederWallet.address, oracleAddress, oracle, nft, feederWallet);
      const source = new SimulatorSource(
        { seed: 3, gpus: assets.flatMap((a) => a.gpus), tdpWatts: 700, energyCounter: true },
        () => clock.t,
      );
      const controller = new Controller(
        [source],
        port,
        makeBatchSigner(feederWallet, 31337n, oracleAddress),
        new MemoryStateStore(),
        new FeederMetrics(clock.t),
        silentLogger,
        {
          assets,
          pollIntervalMs: 5000,
          postIntervalMs: 60_000,
          heartbeatSeconds: 3600,
          maxBatchSize: 500,
          maxBatchesPerCycle: 10,
          staleAfterSeconds: 120,
          chainId: 31337n,
          shutdownGraceMs: 1000,
          dryRun: false,
        },
        () => clock.t,
      );
      await controller.start();
      await controller.pollOnce();
      await controller.postOnce(); // baseline readings (first write of each asset's slot)
      clock.t += 60_000;
      await controller.pollOnce();
      port.gas = [];
      await controller.postOnce();
      const posted = Object.values(controller.state.meters.assets).filter(
        (a) => a.lastPosted && BigInt(a.lastPosted.availableGpuSeconds) > 0n,
      ).length;
      if (posted !== ASSETS) throw new Error(`expected ${ASSETS} assets posted, got ${posted}`);
      const total = port.gas.reduce((a, b) => a + b, 0n);
      return Math.ceil(Number(total) / ASSETS);
    },
  },
];
