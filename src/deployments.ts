/**
 * The deployments record as integrators read it: `deployments/<network>/{.chainId,<Name>.json}`,
 * exactly as hardhat-deploy writes it. The package ships the records of public networks; a local
 * node's record is read from the folder given (`deploymentsDir`). Node-only (reads files).
 */
import fs from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";

/** The contracts of one deployed system, by the name hardhat-deploy records them under. */
export const SYSTEM_CONTRACTS = [
  "GpuAssetNFT",
  "UsageOracle",
  "SettlementEscrow",
  "RevenueSplitVaultFactory",
  "Stablecoin",
] as const;
export type SystemContractName = (typeof SYSTEM_CONTRACTS)[number];

/** The addresses of one deployed system (checksummed). */
export interface SystemAddresses {
  chainId: number;
  network: string;
  nft: string;
  oracle: string;
  escrow: string;
  vaultFactory: string;
  /** The stablecoin the escrow was allowlisted for at deploy (MockUSDC on local networks). */
  stablecoin: string;
}

/** One recorded deployment: the parts an integrator uses. */
export interface DeploymentRecord {
  address: string;
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
  const match = byName
    ? networks.find((n) => n.network === chainIdOrNetwork)
    : networks.filter((n) => n.chainId === Number(chainIdOrNetwork));
  const found = Array.isArray(match) ? match : match ? [match] : [];
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
    out[file.slice(0, -".json".length)] = {
      address: getAddress(raw.address),
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
  };
}
