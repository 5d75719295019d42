#!/usr/bin/env node
/**
 * The feeder's composition root: `compute-rwa-feeder --config <file> [--once] [--dry-run]` (built),
 * or `npm run feeder -- …`. Validates the config (zod), builds the logger (pino, secrets redacted),
 * the sources, the signer (encrypted JSON keystore + password file; a raw key from the environment
 * only with `development: true` on a local development chain), the chain adapter and the
 * controller, serves /metrics and /health, and shuts down cleanly on SIGTERM/SIGINT. Secrets are
 * never taken from argv and never logged. Needs neither Hardhat nor solc at run time.
 * Exit codes: 0 done, 1 fatal runtime error, 2 bad configuration or arguments, 3 a `--once` run
 * that could not post everything it should have (each reason logged).
 */
import fs from "node:fs";
import path from "node:path";
import pino from "pino";
import { Wallet } from "ethers";
import { EthersChain, shortError } from "./chain";
import { ConfigError, loadConfigFile, resolveRpcUrls, type FeederConfig, type SourceConfig } from "./config";
import { Controller } from "./controller";
import { FeederMetrics, serveMetrics } from "./metrics";
import { FatalError } from "./ports";
import { DEFAULT_TOLERANCE } from "./cosign/anchors";
import { CoSigner } from "./cosign/node";
import { oracleDomain } from "../src/eip712";
import { DcgmSource } from "./sources/dcgm";
import { NVIDIA_SMI_ARGS, NvidiaSmiSource } from "./sources/nvidiaSmi";
import { SimulatorSource } from "./sources/simulator";
import type { TelemetrySource } from "./sources/source";
import { FileStateStore, MemoryStateStore } from "./state";

interface Args {
  config: string;
  once: boolean;
  dryRun: boolean;
}

const USAGE = "usage: feeder --config <file.json|file.yaml> [--once] [--dry-run]";

export function parseArgs(argv: string[]): Args {
  const args: Partial<Args> = { once: false, dryRun: false };
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--config") args.config = argv[++i];
    else if (a.startsWith("--config=")) args.config = a.slice(9);
    else if (a === "--once") args.once = true;
    else if (a === "--dry-run") args.dryRun = true;
    else if (/key|password|secret|mnemonic/i.test(a))
      problems.push(
        `secrets are not taken from the command line (${a.split("=")[0]}): use the config's signer section`,
      );
    else problems.push(`unknown argument ${a.split("=")[0]}`);
  }
  if (!args.config) problems.push("--config <file> is required");
  if (problems.length) throw new ConfigError([...problems, USAGE]);
  return args as Args;
}

/** Oracle address and chain id: from the config, or from `deployments/<network>/`. */
function resolveOracle(config: FeederConfig, root: string): { oracle: string; chainId?: bigint } {
  const o = config.chain.oracle;
  const configured = config.chain.chainId === undefined ? undefined : BigInt(config.chain.chainId);
  if (typeof o === "string") return { oracle: o, chainId: configured };
  const dir = path.join(root, "deployments", o.deployments);
  const file = path.join(dir, `${o.name}.json`);
  if (!fs.existsSync(file))
    throw new ConfigError([
      `chain.oracle: no deployment ${o.name} for network "${o.deployments}" (${file} is missing)`,
    ]);
  const oracle = (JSON.parse(fs.readFileSync(file, "utf8")) as { address: string }).address;
  const chainIdFile = path.join(dir, ".chainId");
  const recorded = fs.existsSync(chainIdFile) ? BigInt(fs.readFileSync(chainIdFile, "utf8").trim()) : undefined;
  if (configured !== undefined && recorded !== undefined && configured !== recorded) {
    throw new ConfigError([
      `chain.chainId: ${configured} differs from deployments/${o.deployments}/.chainId (${recorded})`,
    ]);
  }
  return { oracle, chainId: configured ?? recorded };
}

/** The signing key, from a keystore + password file, or (development) a raw key from the environment. */
async function loadWallet(config: FeederConfig, env: NodeJS.ProcessEnv, log: pino.Logger): Promise<Wallet> {
  const s = config.signer;
  if ("keystore" in s) {
    const problems: string[] = [];
    if (!fs.existsSync(s.keystore)) problems.push(`signer.keystore: ${s.keystore} does not exist`);
    if (!fs.existsSync(s.passwordFile)) problems.push(`signer.passwordFile: ${s.passwordFile} does not exist`);
    if (problems.length) throw new ConfigError(problems);
    const mode = fs.statSync(s.passwordFile).mode;
    if ((mode & 0o077) !== 0)
      log.warn({ passwordFile: s.passwordFile }, "password file is readable by group or others: chmod 600 it");
    const password = fs.readFileSync(s.passwordFile, "utf8").replace(/\r?\n$/, "");
    try {
      const w = await Wallet.fromEncryptedJson(fs.readFileSync(s.keystore, "utf8"), password);
      return new Wallet(w.privateKey);
    } catch (err) {
      const msg = /password/i.test((err as Error).message) ? "wrong password" : "not a valid encrypted JSON keystore";
      throw new ConfigError([`signer.keystore: cannot decrypt ${s.keystore}: ${msg}`]);
    }
  }
  const raw = env[s.privateKeyEnv]?.trim();
  if (!raw) throw new ConfigError([`signer.privateKeyEnv: environment variable ${s.privateKeyEnv} is not set`]);
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(raw))
    throw new ConfigError([`signer.privateKeyEnv: ${s.privateKeyEnv} is not a 32-byte hex private key`]);
  log.warn(
    {},
    "using a raw private key from the environment: development only; use an encrypted keystore in production",
  );
  return new Wallet(raw.startsWith("0x") ? raw : `0x${raw}`);
}

/** Chain ids of local development nodes (anvil, Hardhat), the only ones a raw environment key may sign for. */
export const DEVELOPMENT_CHAIN_IDS: readonly bigint[] = [31337n, 1337n];

function makeSources(config: FeederConfig, now: () => number): TelemetrySource[] {
  const allGpus = config.assets.flatMap((a) => a.gpus);
  return config.sources.map((s: SourceConfig): TelemetrySource => {
    switch (s.type) {
      case "nvidia-smi": {
        const fields = s.fields;
        if (s.mode === "command")
          return new NvidiaSmiSource({
            mode: "command",
            command: s.command,
            args: fields ? [`--query-gpu=${fields.join(",")}`, "--format=csv,noheader,nounits"] : NVIDIA_SMI_ARGS,
            timeoutMs: s.timeoutSeconds * 1000,
            host: s.host,
            fields,
          });
        if (s.mode === "file") return new NvidiaSmiSource({ mode: "file", path: s.path!, host: s.host, fields });
        return new NvidiaSmiSource({ mode: "stdin", host: s.host, fields });
      }
      case "dcgm":
        return new DcgmSource(
          s.url ? { mode: "http", url: s.url, timeoutMs: s.timeoutSeconds * 1000 } : { mode: "file", path: s.path! },
          now,
          s.host,
        );
      case "simulator":
        return new SimulatorSource(
          {
            seed: s.seed,
            gpus: s.gpus ?? allGpus,
            tdpWatts: s.tdpWatts,
            idleWatts: s.idleWatts,
            energyCounter: s.energyCounter,
            dropoutProbability: s.dropoutProbability,
            resetProbability: s.resetProbability,
          },
          now,
        );
    }
  });
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // `.env` in the working directory, if any (variables already set win).
  if (env === process.env && fs.existsSync(".env")) process.loadEnvFile(".env");
  let args: Args;
  let config: FeederConfig;
  try {
    args = parseArgs(argv);
    config = loadConfigFile(args.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Logs go to stdout, except in a dry run, where stdout carries the payload.
  const log = pino(
    {
      level: config.log.level,
      base: { service: "oracle-feeder" },
      redact: {
        paths: [
          "privateKey",
          "*.privateKey",
          "password",
          "*.password",
          "mnemonic",
          "rpcUrl",
          "rpcUrls",
          "*.rpcUrls",
          "rawTxs",
          "*.rawTxs",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination(args.dryRun ? 2 : 1),
  );
  let controller: Controller | undefined;
  let chain: EthersChain | undefined;
  let server: import("node:http").Server | undefined;
  const metrics = new FeederMetrics(Date.now());
  try {
    const rpcUrls = resolveRpcUrls(config.chain.rpcUrls, env);
    const { oracle, chainId: knownChainId } = resolveOracle(config, process.cwd());
    const wallet = await loadWallet(config, env, log);
    const chainId = knownChainId ?? (await probeChainId(rpcUrls[0], config.rpc.timeoutSeconds * 1000));
    if ("privateKeyEnv" in config.signer && !DEVELOPMENT_CHAIN_IDS.includes(chainId))
      throw new FatalError(
        `a raw private key from the environment is refused on chain ${chainId}: it is for local development ` +
          `chains (${DEVELOPMENT_CHAIN_IDS.join(", ")}) only; use an encrypted keystore (signer.keystore + signer.passwordFile)`,
      );
    const cs = config.cosign;
    if (cs) {
      if (args.once || args.dryRun)
        throw new ConfigError([
          `${args.once ? "--once" : "--dry-run"}: a co-signing feeder runs as a daemon (its peers call it, and it takes proposer turns)`,
        ]);
      if (cs.development && !DEVELOPMENT_CHAIN_IDS.includes(chainId))
        throw new FatalError(`cosign.development is for local development chains only, not chain ${chainId}`);
    }
    const offsetMs = (cs?.development?.clockOffsetSeconds ?? 0) * 1000;
    const now = offsetMs === 0 ? Date.now : () => Date.now() + offsetMs;
    chain = new EthersChain(
      wallet,
      {
        rpcUrls,
        chainId,
        oracle,
        nft: config.chain.nft,
        rpcTimeoutMs: config.rpc.timeoutSeconds * 1000,
        maxAttempts: config.rpc.maxAttempts,
        backoffMs: config.rpc.backoffSeconds * 1000,
        maxBackoffMs: config.rpc.maxBackoffSeconds * 1000,
        maxHeadLagBlocks: config.rpc.maxHeadLagBlocks,
        maxHeadAgeSeconds: config.rpc.maxHeadAgeSeconds,
        headCheckMs: config.rpc.headCheckSeconds * 1000,
        onEvent: (kind) => metrics.inc("feeder_rpc_events_total", kind),
        maxFeePerGasWei: BigInt(Math.round(config.tx.maxFeePerGasGwei * 1e9)),
        maxPriorityFeePerGasWei: BigInt(Math.round(config.tx.maxPriorityFeePerGasGwei * 1e9)),
        stuckAfterMs: config.tx.stuckAfterSeconds * 1000,
        feeBumpPercent: config.tx.feeBumpPercent,
        maxReplacements: config.tx.maxReplacements,
        gasLimitCap: BigInt(config.tx.gasLimitCap),
        receiptPollMs: config.tx.receiptPollSeconds * 1000,
        fromBlock: config.chain.fromBlock,
      },
      log,
    );
    await chain.verify();
    controller = new Controller(
      makeSources(config, now),
      chain,
      args.dryRun ? dryRunStore(config.stateFile) : new FileStateStore(config.stateFile),
      metrics,
      log,
      {
        assets: config.assets,
        pollIntervalMs: config.policy.pollIntervalSeconds * 1000,
        staleAfterSeconds: config.policy.staleAfterSeconds,
        chainId,
        shutdownGraceMs: config.shutdownGraceSeconds * 1000,
        dryRun: args.dryRun,
        peerCount: cs?.peers.length ?? 0,
        // The round engine ticks every second (proposer slots); batches follow postIntervalSeconds.
        postIntervalMs: 1000,
      },
      now,
    );
    const c = controller;
    const cosigner = new CoSigner(
      chain,
      wallet.signingKey,
      () => c.state,
      () => c.saveState(),
      (a) => c.limitsOf(a),
      metrics,
      log,
      {
        chainId,
        domain: oracleDomain(chainId, oracle),
        assets: config.assets,
        peers: cs?.peers ?? [],
        postIntervalSeconds: config.policy.postIntervalSeconds,
        takeoverSeconds: cs?.takeoverSeconds ?? 30,
        // Alone, a batch is dated at its newest sample; with peers, late enough for all to have samples past it.
        proposalLagSeconds: cs
          ? (cs.proposalLagSeconds ?? cs.maxTimeSkewSeconds + config.policy.pollIntervalSeconds + 1)
          : config.policy.pollIntervalSeconds + 1,
        maxTimeSkewSeconds: cs?.maxTimeSkewSeconds ?? 10,
        maxMessageAgeSeconds: cs?.maxMessageAgeSeconds ?? 60,
        heartbeatSeconds: config.policy.heartbeatSeconds,
        maxBatchSize: config.policy.maxBatchSize,
        requestTimeoutMs: (cs?.requestTimeoutSeconds ?? 10) * 1000,
        maxAttempts: cs?.maxAttempts ?? 3,
        tolerance: cs?.tolerance ?? DEFAULT_TOLERANCE,
        inflateBusyPct: cs?.development?.inflateBusyPct,
      },
      now,
    );
    controller.useCoSigner(cosigner);
    log.info(
      {
        pid: process.pid,
        signer: wallet.address,
        oracle,
        chainId: chainId.toString(),
        rpcs: rpcUrls.length,
        dryRun: args.dryRun,
        once: args.once,
      },
      "configuration loaded",
    );
    if (args.once || args.dryRun) {
      await controller.runOnce();
      await controller.stop();
      const problems = controller.takeProblems();
      if (problems.length === 0 || args.dryRun) return 0;
      for (const p of problems) log.error({ problem: p }, "this run could not post everything it should have");
      return 3;
    }
    if (config.metrics)
      server = await serveMetrics(metrics, config.metrics.host, config.metrics.port, {
        staleAfterSeconds: config.policy.staleAfterSeconds,
        unhealthyAfterSeconds: config.health.unhealthyAfterSeconds,
      });
    if (cs) {
      await cosigner.listen(cs.listen.host, cs.listen.port);
      log.info({ host: cs.listen.host, port: cs.listen.port, peers: cs.peers.length }, "co-signing endpoint listening");
    }
    let signals = 0;
    const onSignal = (sig: string) => {
      signals++;
      if (signals > 1) {
        log.warn({ signal: sig }, "second signal: exiting now");
        process.exit(130);
      }
      log.info({ signal: sig }, "shutting down");
      void controller!.stop();
    };
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    process.on("SIGINT", () => onSignal("SIGINT"));
    await controller.run();
    await controller.stop();
    await cosigner.close();
    log.info({}, "stopped");
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    log.fatal({ err: shortError(err), kind: err instanceof FatalError ? "fatal" : "unexpected" }, "feeder stopped");
    if (controller) await controller.stop().catch(() => undefined);
    return 1;
  } finally {
    server?.close();
    await chain?.close();
  }
}

/** A dry run reads the state file (for baselines) but never writes it. */
function dryRunStore(file: string): MemoryStateStore {
  const store = new MemoryStateStore();
  const loaded = new FileStateStore(file).load();
  if (loaded) store.save(loaded);
  return store;
}

async function probeChainId(url: string, timeoutMs: number): Promise<bigint> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((err) => {
    throw new FatalError(`cannot reach the RPC to learn the chain id (${shortError(err)}): set chain.chainId`);
  });
  const body = (await res.json()) as { result?: string };
  if (!body.result) throw new FatalError("eth_chainId returned no result: set chain.chainId");
  return BigInt(body.result);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`feeder: ${shortError(err)}\n`);
      process.exit(1);
    },
  );
}
