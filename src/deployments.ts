/**
 * The deployments record as integrators read it: `deployments/<network>/{.chainId,<Name>.json}`,
 * as hardhat-deploy writes it. The package ships the records of public networks that pass
 * `checkRecords` (built into `dist/deployments/` by scripts/build-package.ts); a local node's
 * record is read from the folder given (`deploymentsDir`). Node-only (reads files); imports no
 * client library, so the ethers and the viem layers share it.
 */
import fs from "node:fs";
import path from "node:path";
import { KNOWN_CHAINS, isAddressLike, type Address, type SystemAddresses } from "./core";

export type { SystemAddresses } from "./core";

/** The contracts of one deployed system, by the name hardhat-deploy records them under. */
export const SYSTEM_CONTRACTS = [
  "GpuAssetNFT",
  "UsageOracle",
  "SettlementEscrow",
  "RevenueSplitVaultFactory",
  "Stablecoin",
] as const;
export type SystemContractName = (typeof SYSTEM_CONTRACTS)[number];
/**
 * Contracts added to the system later (credit, demand response): recorded by every deploy since,
 * absent from the records of systems deployed before them.
 */
export const OPTIONAL_CONTRACTS = ["CreditFacility", "DemandResponseProgramme"] as const;
/** Every record name a system's folder may hold (the dev stablecoin has its own record). */
export const RECORD_NAMES: readonly string[] = [...SYSTEM_CONTRACTS, ...OPTIONAL_CONTRACTS, "MockUSDC"];

/** One recorded deployment: the parts an integrator uses. */
export interface DeploymentRecord {
  address: Address;
  abi: unknown[];
  /** Block of the deployment transaction, when recorded (start of an event scan). */
  blockNumber?: number;
  transactionHash?: string;
}

/** The `deployments/` folder shipped with this package (works from `src/` and from `dist/src/`). */
export function packagedDeploymentsDir(): string {
  const candidates = [path.resolve(__dirname, "../deployments"), path.resolve(__dirname, "../../deployments")];
  return candidates.find((dir) => fs.existsSync(dir)) ?? candidates[0];
}

/** Every network recorded under `root`, with its chain id (from hardhat-deploy's `.chainId` file). */
export function recordedNetworks(root: string = packagedDeploymentsDir()): { network: string; chainId: number }[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(root, entry.name, ".chainId")))
    .map((entry) => ({
      network: entry.name,
      chainId: Number(fs.readFileSync(path.join(root, entry.name, ".chainId"), "utf8").trim()),
    }))
    .sort((a, b) => a.network.localeCompare(b.network));
}

/**
 * Finds the recorded network for a chain id or a network name.
 * @throws when nothing is recorded for it, listing what is.
 */
export function resolveNetwork(
  chainIdOrNetwork: number | bigint | string,
  root: string = packagedDeploymentsDir(),
): { network: string; chainId: number; dir: string } {
  const networks = recordedNetworks(root);
  const byName = typeof chainIdOrNetwork === "string" && !/^\d+$/.test(chainIdOrNetwork);
  const found = byName
    ? networks.filter((n) => n.network === chainIdOrNetwork)
    : networks.filter((n) => n.chainId === Number(chainIdOrNetwork));
  if (found.length === 0) {
    const known = networks.map((n) => `${n.network} (${n.chainId})`).join(", ") || "none";
    throw new Error(`no deployment recorded for ${chainIdOrNetwork} in ${root}; recorded: ${known}`);
  }
  if (found.length > 1) {
    throw new Error(
      `chain id ${chainIdOrNetwork} is recorded under several networks (${found.map((n) => n.network).join(", ")}): pass the network name`,
    );
  }
  return { ...found[0], dir: path.join(root, found[0].network) };
}

/** Every deployment recorded for a network, by contract name. */
export function loadDeployments(
  chainIdOrNetwork: number | bigint | string,
  root: string = packagedDeploymentsDir(),
): Record<string, DeploymentRecord> {
  const { dir } = resolveNetwork(chainIdOrNetwork, root);
  const out: Record<string, DeploymentRecord> = {};
  for (const file of fs.readdirSync(dir)) {
    if (!file.endsWith(".json")) continue;
    const raw = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    if (!isAddressLike(raw.address)) throw new Error(`${path.join(dir, file)}: "address" is not an address`);
    out[file.slice(0, -".json".length)] = {
      address: raw.address,
      abi: raw.abi,
      blockNumber: raw.receipt?.blockNumber,
      transactionHash: raw.transactionHash ?? raw.receipt?.transactionHash,
    };
  }
  return out;
}

/** The system's addresses on a network. @throws naming any contract the record lacks. */
export function systemAddresses(
  chainIdOrNetwork: number | bigint | string,
  root: string = packagedDeploymentsDir(),
): SystemAddresses {
  const { network, chainId } = resolveNetwork(chainIdOrNetwork, root);
  const records = loadDeployments(network, root);
  const missing = SYSTEM_CONTRACTS.filter((name) => !records[name]);
  if (missing.length > 0) {
    throw new Error(`the ${network} record in ${root} lacks ${missing.join(", ")} (an incomplete deploy?)`);
  }
  return {
    chainId,
    network,
    nft: records.GpuAssetNFT.address,
    oracle: records.UsageOracle.address,
    escrow: records.SettlementEscrow.address,
    vaultFactory: records.RevenueSplitVaultFactory.address,
    stablecoin: records.Stablecoin.address,
    ...(records.CreditFacility ? { creditFacility: records.CreditFacility.address } : {}),
    ...(records.DemandResponseProgramme ? { demandResponse: records.DemandResponseProgramme.address } : {}),
  };
}

/**
 * The problems that keep a network's record out of the package, one line each (empty: it ships):
 * the folder's name must be a known network whose chain id its `.chainId` holds; every file must
 * be a listed record (`RECORD_NAMES`) that parses, with an address and an ABI, and — except the
 * `Stablecoin` record of a token deployed by someone else — the transaction that deployed it.
 */
export function checkRecords(root: string, network: string): string[] {
  const dir = path.join(root, network);
  const problems: string[] = [];
  const expected = KNOWN_CHAINS[network];
  if (expected === undefined)
    problems.push(`${network}: not a known network (${Object.keys(KNOWN_CHAINS).join(", ")})`);
  const chainIdFile = path.join(dir, ".chainId");
  const chainId = fs.existsSync(chainIdFile) ? fs.readFileSync(chainIdFile, "utf8").trim() : undefined;
  if (chainId === undefined) problems.push(`${network}/.chainId: missing`);
  else if (expected !== undefined && chainId !== String(expected)) {
    problems.push(`${network}/.chainId: ${chainId}, but ${network} is chain ${expected}`);
  }
  for (const file of fs.readdirSync(dir)) {
    if (file === ".chainId") continue;
    const name = file.replace(/\.json$/, "");
    if (!file.endsWith(".json") || !RECORD_NAMES.includes(name)) {
      problems.push(`${network}/${file}: not a record of the system (${RECORD_NAMES.join(", ")})`);
      continue;
    }
    let raw: { address?: unknown; abi?: unknown; transactionHash?: unknown; receipt?: { blockNumber?: unknown } };
    try {
      raw = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    } catch {
      problems.push(`${network}/${file}: not valid JSON`);
      continue;
    }
    if (!isAddressLike(raw.address)) problems.push(`${network}/${file}: "address" is not an address`);
    if (!Array.isArray(raw.abi) || raw.abi.length === 0) problems.push(`${network}/${file}: no ABI`);
    if (
      name !== "Stablecoin" &&
      (typeof raw.transactionHash !== "string" || typeof raw.receipt?.blockNumber !== "number")
    ) {
      problems.push(`${network}/${file}: no deployment transaction and receipt (hand-made?)`);
    }
  }
  for (const name of SYSTEM_CONTRACTS) {
    if (!fs.existsSync(path.join(dir, `${name}.json`))) problems.push(`${network}/${name}.json: missing`);
  }
  return problems;
}
