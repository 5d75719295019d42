/**
 * The demo's oracle network: one feeder per oracle signer (three operators, three keys, threshold 2
 * on the dev configs), each a real feeder — its own controller, meters, state and telemetry sources,
 * its own JSON-RPC chain adapter (`EthersChain`), and its co-signing endpoint (`CoSigner`) on
 * loopback HTTP. Each round the proposer (the schedule's rotation among the signers) builds the
 * batch, its peers check every reading against their own meters and co-sign, and the proposer
 * submits. Nothing is simulated but the GPUs (the seeded simulator) and the clock (the story's).
 */
import net from "node:net";
import { Wallet, type HDNodeWallet } from "ethers";
import { Controller } from "../../feeder/controller";
import { EthersChain } from "../../feeder/chain";
import { DEFAULT_TOLERANCE } from "../../feeder/cosign/anchors";
import { CoSigner } from "../../feeder/cosign/node";
import { FeederMetrics } from "../../feeder/metrics";
import { MemoryStateStore } from "../../feeder/state";
import type { TelemetrySource } from "../../feeder/sources/source";
import { oracleDomain } from "../../src/eip712";
import { KeepingLogger } from "./feederRig";

/** One operator's feeder. */
export interface FeederNode {
  address: string;
  controller: Controller;
  cosigner: CoSigner;
  chain: EthersChain;
  log: KeepingLogger;
  port: number;
}

export interface FeederNetworkOptions {
  rpcUrl: string;
  chainId: bigint;
  oracle: string;
  nft: string;
  /** The operators' keys, each a current oracle signer. */
  keys: (HDNodeWallet | Wallet)[];
  assets: { assetId: string; gpus: string[] }[];
  /** Each operator's own telemetry sources (its own view of the GPUs). */
  sourcesFor: (operator: number) => TelemetrySource[];
  pollIntervalSeconds: number;
  postIntervalSeconds: number;
  /** The story's clock, unix milliseconds. */
  nowMs: () => number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts one feeder per key, each listening for its peers on a free loopback port. */
export async function startFeederNetwork(o: FeederNetworkOptions): Promise<FeederNode[]> {
  const ports = await Promise.all(o.keys.map(() => freePort()));
  const peers = o.keys.map((k, i) => ({ address: k.address, url: `http://127.0.0.1:${ports[i]}` }));
  const nodes: FeederNode[] = [];
  for (const [i, key] of o.keys.entries()) {
    const log = new KeepingLogger();
    const wallet = new Wallet(key.privateKey);
    const chain = new EthersChain(
      wallet,
      {
        rpcUrls: [o.rpcUrl],
        chainId: o.chainId,
        oracle: o.oracle,
        nft: o.nft,
        rpcTimeoutMs: 30_000,
        maxAttempts: 3,
        backoffMs: 200,
        maxBackoffMs: 1_000,
        maxFeePerGasWei: 500_000_000_000n,
        maxPriorityFeePerGasWei: 1_000_000_000n,
        stuckAfterMs: 60_000,
        feeBumpPercent: 15,
        maxReplacements: 2,
        gasLimitCap: 15_000_000n,
        receiptPollMs: 20,
      },
      log,
    );
    await chain.verify();
    const metrics = new FeederMetrics(o.nowMs());
    const controller = new Controller(
      o.sourcesFor(i),
      chain,
      new MemoryStateStore(),
      metrics,
      log,
      {
        assets: o.assets,
        pollIntervalMs: o.pollIntervalSeconds * 1000,
        postIntervalMs: 1000,
        staleAfterSeconds: 2 * o.pollIntervalSeconds + 30,
        chainId: o.chainId,
        shutdownGraceMs: 1_000,
        dryRun: false,
        peerCount: o.keys.length - 1,
      },
      o.nowMs,
    );
    const skew = 60;
    const cosigner = new CoSigner(
      chain,
      wallet.signingKey,
      () => controller.state,
      () => controller.saveState(),
      (a) => controller.limitsOf(a),
      metrics,
      log,
      {
        chainId: o.chainId,
        domain: oracleDomain(o.chainId, o.oracle),
        assets: o.assets,
        peers: peers.filter((_, j) => j !== i),
        postIntervalSeconds: o.postIntervalSeconds,
        takeoverSeconds: 5 * 60,
        // Dated late enough that every operator has samples past it.
        proposalLagSeconds: skew + o.pollIntervalSeconds + 1,
        maxTimeSkewSeconds: skew,
        maxMessageAgeSeconds: 600,
        heartbeatSeconds: 3_600,
        maxBatchSize: 500,
        requestTimeoutMs: 30_000,
        maxAttempts: 3,
        tolerance: DEFAULT_TOLERANCE,
      },
      o.nowMs,
    );
    controller.useCoSigner(cosigner);
    await controller.start();
    await cosigner.listen("127.0.0.1", ports[i]);
    nodes.push({ address: wallet.address, controller, cosigner, chain, log, port: ports[i] });
  }
  return nodes;
}

/** Every operator polls its telemetry once. */
export async function pollAll(nodes: readonly FeederNode[]): Promise<void> {
  for (const n of nodes) await n.controller.pollOnce();
}

/** Every operator runs its round engine once (the proposer of the slot proposes, the others answer). */
export async function postAll(nodes: readonly FeederNode[]): Promise<void> {
  for (const n of nodes) await n.controller.postCycle();
}

/** Stops every feeder (controllers and co-signing endpoints). */
export async function stopFeederNetwork(nodes: readonly FeederNode[]): Promise<void> {
  for (const n of nodes) {
    await n.controller.stop();
    await n.cosigner.close();
  }
}
