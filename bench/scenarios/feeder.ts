/**
 * Feeder benchmarks, through the feeder's own controller and round engine (`feeder/cosign/node.ts`,
 * posting alone: threshold 1).
 * - `feeder.readingsPerSecond`: dcgm-exporter text for 1,000 assets (2 GPUs each) parsed, metered,
 *   turned into linked readings, packed, hashed into the Merkle root, signed (EIP-712) and encoded as
 *   `submit` calldata, on one core; the chain is an in-memory oracle (test/feeder/support), so the
 *   figure is the feeder's own work.
 * - `feeder.postGasPerAsset.1000`: the same 1,000 assets posted end to end to the real UsageOracle on
 *   the in-process chain (served over loopback JSON-RPC to the feeder's `EthersChain`); gas from
 *   receipts, steady state (every asset already has a reading), divided by the readings posted.
 */
import hre, { ethers } from "hardhat";
import { Wallet, getAddress } from "ethers";
import type { BenchScenario } from "../lib";
import { GpuAssetNFT__factory, UsageOracle__factory } from "../../typechain-types";
import { Controller } from "../../feeder/controller";
import { DEFAULT_TOLERANCE } from "../../feeder/cosign/anchors";
import { CoSigner, type CoSignOptions } from "../../feeder/cosign/node";
import { FeederMetrics } from "../../feeder/metrics";
import { parseDcgm } from "../../feeder/sources/dcgm";
import { GpuSimulator, renderDcgm } from "../../feeder/sources/simulator";
import type { TelemetrySource } from "../../feeder/sources/source";
import { MemoryStateStore } from "../../feeder/state";
import type { ChainPort } from "../../feeder/ports";
import { silentLogger, type GpuSample } from "../../feeder/types";
import { oracleDomain } from "../../src/eip712";
import { MemoryOracleV2 } from "../../test/feeder/support/memoryOracle";
import { startFeederNetwork, stopFeederNetwork } from "../../scripts/demo/feederNetwork";
import { serveProvider } from "../../scripts/demo/rpcBridge";

const ASSETS = 1000;
const GPUS_PER_ASSET = 2;
const TDP = 700;
const POLL_S = 15;
const POST_S = 60;

function uuid(i: number): string {
  return `GPU-${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
}

const ASSET_MAP = Array.from({ length: ASSETS }, (_, a) => ({
  assetId: String(a + 1),
  gpus: Array.from({ length: GPUS_PER_ASSET }, (_, g) => uuid(a * GPUS_PER_ASSET + g)),
}));

/** dcgm-exporter text of every GPU at the clock's time, parsed back: the feeder's DCGM path. */
class DcgmTextSource implements TelemetrySource {
  readonly name = "dcgm:bench";
  private readonly sim = new GpuSimulator({
    seed: 7,
    gpus: ASSET_MAP.flatMap((a) => a.gpus),
    tdpWatts: TDP,
    energyCounter: true,
  });
  constructor(private readonly nowMs: () => number) {}
  async read(): Promise<GpuSample[]> {
    const t = this.nowMs();
    return parseDcgm(renderDcgm(this.sim.sample(t)), t).samples;
  }
  async close() {}
}

function soloOptions(chainId: bigint, oracle: string): CoSignOptions {
  return {
    chainId,
    domain: oracleDomain(chainId, oracle),
    assets: ASSET_MAP,
    peers: [],
    postIntervalSeconds: POST_S,
    takeoverSeconds: 30,
    proposalLagSeconds: POLL_S + 1,
    maxTimeSkewSeconds: 10,
    maxMessageAgeSeconds: 60,
    heartbeatSeconds: 3_600,
    maxBatchSize: 500,
    requestTimeoutMs: 10_000,
    maxAttempts: 3,
    tolerance: DEFAULT_TOLERANCE,
  };
}

/** A solo feeder (controller + round engine) over `chain`, its telemetry at `clock.t`. */
async function soloFeeder(chain: ChainPort, key: Wallet, chainId: bigint, clock: { t: number }) {
  const now = () => clock.t;
  const metrics = new FeederMetrics(now());
  const controller = new Controller(
    [new DcgmTextSource(now)],
    chain,
    new MemoryStateStore(),
    metrics,
    silentLogger,
    {
      assets: ASSET_MAP,
      pollIntervalMs: POLL_S * 1000,
      postIntervalMs: 1000,
      staleAfterSeconds: 2 * POLL_S + 5,
      chainId,
      shutdownGraceMs: 1000,
      dryRun: false,
      peerCount: 0,
    },
    now,
  );
  const cosigner = new CoSigner(
    chain,
    key.signingKey,
    () => controller.state,
    () => controller.saveState(),
    (a) => controller.limitsOf(a),
    metrics,
    silentLogger,
    soloOptions(chainId, chain.oracleAddress),
    now,
  );
  controller.useCoSigner(cosigner);
  await controller.start();
  return controller;
}

/** One measured round: poll (parse + meter) and post (readings, root, digest, signature, calldata). */
async function throughputRound(): Promise<number> {
  const key = new Wallet("0x" + "11".repeat(32));
  const clock = { t: 1_750_000_000_000 };
  const infos = new Map(
    ASSET_MAP.map((a) => [a.assetId, { gpuCount: GPUS_PER_ASSET, tdpWattsPerGpu: TDP, status: 0 }]),
  );
  const domain = {
    name: "ComputeRWA UsageOracle",
    version: "1",
    chainId: 31337n,
    verifyingContract: getAddress("0x" + "0b".repeat(20)),
  };
  const oracle = new MemoryOracleV2([key.address], 1, infos, domain, () => clock.t);
  const controller = await soloFeeder(oracle.port(key.address), key, 31337n, clock);
  // A round posts at most the oracle's MAX_READINGS (500), the longest-waiting assets first, so
  // 1,000 assets take two post intervals. The two baseline rounds are set-up, not measured.
  const interval = async () => {
    for (let i = 0; i < POST_S / POLL_S; i++) {
      clock.t += POLL_S * 1000;
      await controller.pollOnce();
    }
    await controller.postCycle();
  };
  await interval();
  await interval();
  const before = oracle.batches.reduce((n, b) => n + b.readings.length, 0);
  const start = process.hrtime.bigint();
  await interval();
  await interval();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const readings = oracle.batches.reduce((n, b) => n + b.readings.length, 0) - before;
  await controller.stop();
  if (readings < ASSETS) throw new Error(`only ${readings} readings posted in the measured round`);
  return readings / seconds;
}

export const scenarios: BenchScenario[] = [
  {
    key: "feeder.readingsPerSecond",
    unit: "readings/s",
    better: "higher",
    target: 10_000,
    note: "1,000 assets x 2 GPUs: dcgm-exporter text parsed, metered, linked readings built, packed, Merkle root, EIP-712 signed and encoded as submit calldata by the feeder's controller and round engine (in-memory chain), one core; median of 5 rounds (each two post intervals: 500 readings a round) rounded down to a multiple of 100 (throughput, unlike gas, varies with machine load)",
    run: async () => {
      const rounds: number[] = [];
      for (let i = 0; i < 5; i++) rounds.push(await throughputRound());
      rounds.sort((a, b) => a - b);
      if (process.env.BENCH_DEBUG) console.log("rounds", rounds.map(Math.round));
      return Math.floor(rounds[2] / 100) * 100;
    },
  },
  {
    key: "feeder.postGasPerAsset.1000",
    target: 1_000,
    note: "1,000 assets (2 GPUs each) posted by the feeder's controller and round engine (alone, threshold 1) through its JSON-RPC chain adapter to the real UsageOracle: total gasUsed of the steady-state batches (500 readings a transaction) / readings posted",
    run: async () => {
      const [admin] = await ethers.getSigners();
      const key = Wallet.fromPhrase("test test test test test test test test test test test junk", ethers.provider);
      const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
      const oracle = await new UsageOracle__factory(admin).deploy(
        admin.address,
        await nft.getAddress(),
        [key.address],
        1,
        300,
        1_000,
      );
      await nft.grantRole(await nft.REGISTRAR_ROLE(), admin.address);
      for (let i = 1; i <= ASSETS; i++) {
        await nft.mint(admin.address, {
          gpuModel: "NVIDIA H100 80GB HBM3",
          datacenter: "eu-west-fra2",
          serialsHash: ethers.id(`bench-serials-${i}`),
          vramMiBPerGpu: 81_559,
          gpuCount: GPUS_PER_ASSET,
          tdpWattsPerGpu: TDP,
        });
      }
      const bridge = await serveProvider(hre.network.provider);
      const chainId = (await ethers.provider.getNetwork()).chainId;
      let nowS = (await ethers.provider.getBlock("latest"))!.timestamp;
      const nodes = await startFeederNetwork({
        rpcUrl: bridge.url,
        chainId,
        oracle: await oracle.getAddress(),
        nft: await nft.getAddress(),
        keys: [key],
        assets: ASSET_MAP,
        sourcesFor: () => [new DcgmTextSource(() => nowS * 1000)],
        pollIntervalSeconds: POLL_S,
        postIntervalSeconds: POST_S,
        nowMs: () => nowS * 1000,
      });
      const round = async () => {
        for (let i = 0; i < POST_S / POLL_S; i++) {
          nowS += POLL_S;
          await hre.network.provider.send("evm_setNextBlockTimestamp", [nowS]);
          await hre.network.provider.send("evm_mine", []);
          await nodes[0].controller.pollOnce();
        }
        await nodes[0].controller.postCycle();
      };
      // A round posts at most MAX_READINGS (500), the longest-waiting assets first: two rounds give
      // every asset its baseline reading, two more its first steady-state one.
      await round();
      await round();
      const first = Number(await oracle.nextBatchIndex());
      await round();
      await round();
      const accepted = await oracle.queryFilter(oracle.filters.BatchAccepted(), 0);
      let gas = 0n;
      let readings = 0;
      for (const e of accepted.filter((x) => Number(x.args.batchIndex) >= first)) {
        gas += (await e.getTransactionReceipt()).gasUsed;
        readings += Number(e.args.readingCount);
      }
      await stopFeederNetwork(nodes);
      await bridge.close();
      if (readings < ASSETS) throw new Error(`only ${readings} steady-state readings posted`);
      return Math.round(Number(gas) / readings);
    },
  },
];
