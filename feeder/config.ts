/**
 * Feeder configuration: a JSON or YAML file validated with zod at start. Every problem is reported,
 * one line each, with its path (`policy.maxBatchSize: …`). Secrets are never in the file: the
 * keystore password is read from a file, a raw development key from the environment, and an RPC
 * URL holding an API key may be written `env:NAME` to read it from the environment.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { normalizePciBusId } from "./types";

const hostLabel = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a host label (letters, digits, . _ -)");
/**
 * A GPU as the config names it: its UUID, or (for telemetry without one) `pci:<bus id>`,
 * `serial:<serial>`, or `index:<host>/<n>` where host is a source's `host` label.
 */
const gpuRef = z.string().transform((v, ctx) => {
  if (/^GPU-[0-9a-fA-F-]{8,}$/.test(v)) return v;
  if (v.startsWith("pci:")) {
    const bus = normalizePciBusId(v.slice(4));
    if (bus) return `pci:${bus}`;
  } else if (/^serial:[0-9A-Za-z-]+$/.test(v) || /^index:[A-Za-z0-9][A-Za-z0-9._-]*\/\d+$/.test(v)) return v;
  ctx.addIssue({
    code: "custom",
    message: "must be a GPU UUID (GPU-…), pci:<bus id>, serial:<serial> or index:<host>/<n>",
  });
  return z.NEVER;
});
/** nvidia-smi query field names (`utilization.gpu`, `pci.bus_id`, …). */
const queryField = z.string().regex(/^[a-z][A-Za-z0-9_.]*$/, "must be an nvidia-smi query field name");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");
const assetId = z
  .union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]*$/, "must be a positive integer")])
  .transform((v) => v.toString());
const positive = z.number().positive();
const rpcUrl = z
  .string()
  .refine((s) => s.startsWith("env:") || /^https?:\/\/[^\s]+$/.test(s), "must be an http(s) URL or env:VARIABLE");

const sourceSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("nvidia-smi"),
      mode: z.enum(["command", "file", "stdin"]).default("command"),
      command: z.string().min(1).default("nvidia-smi"),
      path: z.string().min(1).optional(),
      timeoutSeconds: positive.default(10),
      /** Host label: GPUs of this source can be named `index:<host>/<n>`. */
      host: hostLabel.optional(),
      /** The query's fields, in order: what `command` runs, and the columns of header-less output. */
      fields: z.array(queryField).min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("dcgm"),
      url: z.string().url().optional(),
      path: z.string().min(1).optional(),
      timeoutSeconds: positive.default(5),
      host: hostLabel.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("simulator"),
      seed: z.number().int(),
      tdpWatts: z.number().int().positive(),
      idleWatts: z.number().int().nonnegative().optional(),
      energyCounter: z.boolean().default(true),
      dropoutProbability: z.number().min(0).max(1).default(0),
      resetProbability: z.number().min(0).max(1).default(0),
      /** GPUs to simulate; default: every GPU in `assets`. */
      gpus: z.array(gpuRef).optional(),
    })
    .strict(),
]);

export const configSchema = z
  .object({
    chain: z
      .object({
        rpcUrls: z.array(rpcUrl).min(1, "give at least one RPC URL"),
        chainId: z.number().int().positive().optional(),
        oracle: z.union([
          address,
          z.object({ deployments: z.string().min(1), name: z.string().min(1).default("UsageOracle") }).strict(),
        ]),
        /** The GpuAssetNFT, for per-asset gpuCount and TDP; default: asked from the oracle. */
        nft: address.optional(),
        /** Co-signing: the block to start reading the oracle's `BatchAccepted` logs from (its deployment). */
        fromBlock: z.number().int().nonnegative().optional(),
      })
      .strict(),
    signer: z.union([
      z.object({ keystore: z.string().min(1), passwordFile: z.string().min(1) }).strict(),
      z
        .object({
          privateKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"),
          development: z.literal(true, {
            errorMap: () => ({
              message: "a raw key from the environment is for development only: set development: true",
            }),
          }),
        })
        .strict(),
    ]),
    sources: z.array(sourceSchema).min(1, "configure at least one source"),
    assets: z
      .array(z.object({ assetId, gpus: z.array(gpuRef).min(1, "list the asset's GPUs") }).strict())
      .min(1, "map at least one asset"),
    policy: z
      .object({
        pollIntervalSeconds: positive.default(5),
        postIntervalSeconds: positive.default(60),
        heartbeatSeconds: positive.default(3600),
        maxBatchSize: z.number().int().min(1).max(5000).default(500),
        staleAfterSeconds: positive.default(30),
      })
      .strict()
      .default({}),
    tx: z
      .object({
        maxFeePerGasGwei: positive.default(50),
        maxPriorityFeePerGasGwei: z.number().nonnegative().default(1.5),
        stuckAfterSeconds: positive.default(90),
        feeBumpPercent: z.number().int().min(10).max(200).default(15),
        maxReplacements: z.number().int().min(0).max(20).default(5),
        gasLimitCap: z
          .number()
          .int()
          .min(100_000)
          .max(2 ** 24)
          .default(2 ** 24 - 1_000_000),
        receiptPollSeconds: positive.default(2),
      })
      .strict()
      .default({}),
    rpc: z
      .object({
        timeoutSeconds: positive.default(10),
        maxAttempts: z.number().int().min(1).max(20).default(5),
        backoffSeconds: positive.default(1),
        maxBackoffSeconds: positive.default(30),
        /** An endpoint this many blocks behind the best one is tried last. */
        maxHeadLagBlocks: z.number().int().nonnegative().default(5),
        /** An endpoint whose newest block is older than this is tried last; 0: no such check. */
        maxHeadAgeSeconds: z.number().nonnegative().default(0),
        headCheckSeconds: positive.default(30),
      })
      .strict()
      .default({}),
    stateFile: z.string().min(1).default("feeder-state/state.json"),
    metrics: z
      .object({ host: z.string().default("127.0.0.1"), port: z.number().int().min(0).max(65535) })
      .strict()
      .optional(),
    health: z
      .object({ unhealthyAfterSeconds: positive.default(600) })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info") })
      .strict()
      .default({}),
    shutdownGraceSeconds: positive.default(120),
    /**
     * Co-signing with other operators (needed when the oracle's threshold is above 1): this feeder's
     * HTTP endpoint, its peers (each an on-chain signer's address and the URL of its feeder), and the
     * rules a peer checks proposals by. See docs/feeder.md, "Co-signing".
     */
    cosign: z
      .object({
        listen: z.object({ host: z.string().default("0.0.0.0"), port: z.number().int().min(1).max(65535) }).strict(),
        peers: z
          .array(z.object({ address, url: z.string().regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL") }).strict())
          .min(1, "list at least one peer"),
        takeoverSeconds: positive.default(30),
        proposalLagSeconds: positive.optional(),
        maxTimeSkewSeconds: positive.default(10),
        maxMessageAgeSeconds: positive.default(60),
        requestTimeoutSeconds: positive.default(10),
        maxAttempts: z.number().int().min(1).max(10).default(3),
        tolerance: z
          .object({
            busyPct: z.number().min(0).max(100).default(3),
            availablePct: z.number().min(0).max(100).default(2),
            energyPct: z.number().min(0).max(100).default(5),
            slackSecondsPerGpu: z.number().nonnegative().default(1),
          })
          .strict()
          .default({}),
        /** Local development chains only (the feeder refuses them elsewhere): test knobs. */
        development: z
          .object({
            inflateBusyPct: z.number().min(0).max(1000).default(0),
            clockOffsetSeconds: z.number().default(0),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.cosign) {
      const lag = c.cosign.proposalLagSeconds;
      const need = c.cosign.maxTimeSkewSeconds + c.policy.pollIntervalSeconds;
      if (lag !== undefined && lag < need)
        ctx.addIssue({
          code: "custom",
          path: ["cosign", "proposalLagSeconds"],
          message: `must be at least maxTimeSkewSeconds + policy.pollIntervalSeconds (${need}): peers need samples past the batch time`,
        });
      const seen = new Set<string>();
      c.cosign.peers.forEach((p, i) => {
        const a = p.address.toLowerCase();
        if (seen.has(a))
          ctx.addIssue({
            code: "custom",
            path: ["cosign", "peers", i, "address"],
            message: `${p.address} is listed twice`,
          });
        seen.add(a);
      });
    }
    const seenAsset = new Set<string>();
    const seenGpu = new Map<string, string>();
    c.assets.forEach((a, i) => {
      if (seenAsset.has(a.assetId))
        ctx.addIssue({ code: "custom", path: ["assets", i, "assetId"], message: `asset ${a.assetId} is listed twice` });
      seenAsset.add(a.assetId);
      a.gpus.forEach((g, j) => {
        const other = seenGpu.get(g);
        if (other !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["assets", i, "gpus", j],
            message: `${g} is already mapped to asset ${other}`,
          });
        seenGpu.set(g, a.assetId);
      });
    });
    if (c.policy.staleAfterSeconds < c.policy.pollIntervalSeconds) {
      ctx.addIssue({
        code: "custom",
        path: ["policy", "staleAfterSeconds"],
        message: "must be at least pollIntervalSeconds, or every GPU looks silent",
      });
    }
    c.sources.forEach((s, i) => {
      if (s.type === "nvidia-smi" && s.mode === "file" && s.path === undefined)
        ctx.addIssue({ code: "custom", path: ["sources", i, "path"], message: "mode file needs path" });
      if (s.type === "dcgm" && (s.url === undefined) === (s.path === undefined))
        ctx.addIssue({ code: "custom", path: ["sources", i], message: "give exactly one of url or path" });
    });
    const hosts = new Set(c.sources.map((s) => ("host" in s ? s.host : undefined)).filter(Boolean));
    c.assets.forEach((a, i) =>
      a.gpus.forEach((g, j) => {
        const host = /^index:([^/]+)\//.exec(g)?.[1];
        if (host !== undefined && !hosts.has(host))
          ctx.addIssue({
            code: "custom",
            path: ["assets", i, "gpus", j],
            message: `no source has host: ${host} (index keys need the source's host label)`,
          });
      }),
    );
    if (c.sources.filter((s) => s.type === "nvidia-smi" && s.mode === "stdin").length > 1) {
      ctx.addIssue({ code: "custom", path: ["sources"], message: "at most one source can read stdin" });
    }
  });

export type FeederConfig = z.infer<typeof configSchema>;
export type SourceConfig = FeederConfig["sources"][number];

/** A configuration problem: `problems` holds one message per problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid feeder configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function formatPath(p: (string | number)[]): string {
  return p.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    "",
  );
}

/** Validates a parsed config object; throws ConfigError listing every problem. */
export function validateConfig(raw: unknown): FeederConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    if (issue.code === "invalid_union" && issue.path.length === 1 && issue.path[0] === "signer") {
      return ["signer: give either { keystore, passwordFile } or { privateKeyEnv, development: true }"];
    }
    if (issue.code === "unrecognized_keys")
      return [`${formatPath(issue.path) || "(top level)"}: unknown key(s) ${issue.keys.join(", ")}`];
    return [`${formatPath(issue.path) || "(top level)"}: ${issue.message}`];
  });
  throw new ConfigError([...new Set(problems)]);
}

/** Reads a JSON or YAML config file (by extension; YAML is a superset, so anything else is YAML). */
export function loadConfigFile(file: string): FeederConfig {
  if (!fs.existsSync(file)) throw new ConfigError([`config file ${file} does not exist`]);
  const text = fs.readFileSync(file, "utf8");
  let raw: unknown;
  try {
    raw = path.extname(file).toLowerCase() === ".json" ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError([`${file}: cannot parse: ${(err as Error).message.split("\n")[0]}`]);
  }
  return validateConfig(raw);
}

/** Resolves `env:NAME` RPC URLs; a missing variable is a config problem (its value is never printed). */
export function resolveRpcUrls(urls: string[], env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const out = urls.map((u, i) => {
    if (!u.startsWith("env:")) return u;
    const name = u.slice(4);
    const v = env[name]?.trim();
    if (!v) problems.push(`chain.rpcUrls[${i}]: environment variable ${name} is not set`);
    else if (!/^https?:\/\//.test(v))
      problems.push(`chain.rpcUrls[${i}]: environment variable ${name} is not an http(s) URL`);
    return v ?? "";
  });
  if (problems.length) throw new ConfigError(problems);
  return out;
}
