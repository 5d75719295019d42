/**
 * The per-network deploy inputs (`config/<network>.json`): their schema, and the validation every
 * deploy runs before it sends anything. Each problem is reported on its own line, named by its
 * field path (`oracle.threshold`, `admin`, …), so a bad file is fixed in one pass.
 */
import fs from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";
import { z } from "zod";
import { DeployError } from "../scripts/deploy/errors";

/** Where the per-network files live. */
export const CONFIG_DIR = __dirname;

/** An EVM address, checksummed on output. Mixed-case input must carry a valid EIP-55 checksum. */
const address = z
  .string({ required_error: "required", invalid_type_error: "must be an address string" })
  .superRefine((value, ctx) => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is not a 20-byte hex address` });
      return;
    }
    try {
      getAddress(value);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" has a bad EIP-55 checksum` });
      return;
    }
    if (BigInt(value) === 0n) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: "is the zero address" });
    }
  })
  .transform((value) => getAddress(value));

const seconds = (min: number, max: number) =>
  z
    .number({ required_error: "required", invalid_type_error: "must be a number of seconds" })
    .int("must be a whole number of seconds")
    .min(min, `must be at least ${min} seconds`)
    .max(max, `must be at most ${max} seconds`);

/** `"mock"` deploys `MockUSDC` (local networks only); otherwise the address of a real stablecoin. */
const stablecoin = z.union([z.literal("mock"), address], {
  errorMap: () => ({ message: 'must be "mock" (local networks only) or a token address' }),
});

export const deployConfigSchema = z
  .object({
    /** Free text for humans (JSON has no comments). */
    $comment: z.string().optional(),
    /** Receives DEFAULT_ADMIN_ROLE of every contract; the deployer renounces its own. A multisig on public networks. */
    admin: address,
    /** REGISTRAR_ROLE on GpuAssetNFT: registers (mints) GPU servers. */
    registrar: address,
    /** The pause roles of every pausable contract. */
    pauser: address,
    /** ARBITER_ROLE on SettlementEscrow: decides disputes. */
    arbiter: address,
    /** The lease stablecoin the escrow allowlists at deploy. */
    stablecoin,
    oracle: z
      .object(
        {
          /** The initial signer set (distinct addresses). */
          signers: z.array(address, { required_error: "required" }).min(1, "needs at least one signer"),
          /** k of n: distinct signatures a batch needs. */
          threshold: z
            .number({ required_error: "required", invalid_type_error: "must be a number" })
            .int("must be a whole number")
            .min(1, "must be at least 1")
            .max(255, "must be at most 255"),
          /** How far in the future (seconds) a reading's timestamp may be, for clock skew. */
          maxFutureSkewSeconds: seconds(0, 3600),
          /** Energy allowed above gpuCount × TDP × Δt, in basis points (1000 = 10 %; the oracle caps it at 5000). */
          energyMarginBps: z
            .number({ required_error: "required", invalid_type_error: "must be a number of basis points" })
            .int("must be a whole number of basis points")
            .min(0, "must be at least 0")
            .max(5_000, "must be at most 5000 (50 %)"),
        },
        { required_error: "required" },
      )
      .strict()
      .superRefine((oracle, ctx) => {
        const seen = new Map<string, number>();
        oracle.signers.forEach((signer, i) => {
          const first = seen.get(signer);
          if (first !== undefined) {
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              path: ["signers", i],
              message: `${signer} repeats signers[${first}]: signers must be distinct`,
            });
          } else {
            seen.set(signer, i);
          }
        });
        if (oracle.threshold > oracle.signers.length) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ["threshold"],
            message: `${oracle.threshold} is above the number of signers (${oracle.signers.length})`,
          });
        }
      }),
    escrow: z
      .object(
        {
          /** How long after a settlement the lessee may dispute it. */
          disputeWindowSeconds: seconds(60, 90 * 86_400),
          /** How long the arbiter has to decide a dispute before the documented default applies. */
          arbiterTimeoutSeconds: seconds(60, 180 * 86_400),
        },
        { required_error: "required" },
      )
      .strict(),
  })
  .strict();

/** Validated deploy inputs of one network (addresses checksummed). */
export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** What the validation knows about the target network. */
export interface NetworkContext {
  /** The hardhat network name (`hardhat`, `localhost`, `sepolia`, …). */
  name: string;
  /** True for public networks (hardhat `live` flag): mocks are refused there. */
  live: boolean;
}

/** A config that fails validation. `problems` holds one line per bad field, `field: reason`. */
export class DeployConfigError extends DeployError {
  constructor(
    readonly source: string,
    problems: string[],
  ) {
    super(`${source} is invalid:`, problems);
    this.name = "DeployConfigError";
  }
}

function fieldOf(issuePath: (string | number)[]): string {
  if (issuePath.length === 0) return "(file)";
  return issuePath.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    "",
  );
}

/**
 * Validates raw deploy inputs for a network. Throws `DeployConfigError` listing every problem.
 * @param raw The parsed JSON.
 * @param source Where it came from (used in the message).
 * @param network The target network.
 */
export function parseDeployConfig(raw: unknown, source: string, network: NetworkContext): DeployConfig {
  const result = deployConfigSchema.safeParse(raw);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const message =
        issue.code === z.ZodIssueCode.unrecognized_keys
          ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`
          : issue.message;
      problems.push(`${fieldOf(issue.path)}: ${message}`);
    }
  }
  // Checked on the raw value, so it is reported together with every other problem.
  const stablecoinValue = (raw as { stablecoin?: unknown } | null)?.stablecoin;
  if (network.live && stablecoinValue === "mock") {
    problems.push(`stablecoin: "mock" is refused on public network ${network.name}: give the real token's address`);
  }
  if (problems.length > 0 || !result.success) throw new DeployConfigError(source, problems);
  return result.data;
}

/** The file a network's inputs are read from: `DEPLOY_CONFIG` when set, else `config/<network>.json`. */
export function configPathFor(networkName: string): string {
  const override = process.env.DEPLOY_CONFIG?.trim();
  return override ? path.resolve(override) : path.join(CONFIG_DIR, `${networkName}.json`);
}

/** Reads and validates the deploy inputs of a network. Throws one clear error when absent or invalid. */
export function loadDeployConfig(network: NetworkContext): DeployConfig {
  const file = configPathFor(network.name);
  const shown = path.relative(process.cwd(), file) || file;
  if (!fs.existsSync(file)) {
    throw new DeployConfigError(shown, [
      `(file): not found; copy config/testnet.example.json to config/${network.name}.json and fill it in`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new DeployConfigError(shown, [`(file): not valid JSON (${(e as Error).message})`]);
  }
  return parseDeployConfig(raw, shown, network);
}
