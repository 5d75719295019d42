/**
 * Where the deploy steps run. One interface, two implementations, so the dry run executes exactly
 * the code the deploy executes:
 * - `liveTarget`: the selected network, through hardhat-deploy (records in `deployments/<network>/`),
 *   every transaction waited for with its confirmations and a progress line while it waits;
 * - `simulationTarget`: a throw-away copy of the same chain (an in-process fork of the network's RPC
 *   at its latest block, or a snapshot of the in-process `hardhat` chain that is reverted), the
 *   deployer impersonated. Every transaction is really executed there; its receipt gives the gas.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import {
  BrowserProvider,
  Contract,
  ContractFactory,
  JsonRpcSigner,
  getAddress,
  type Provider,
  type Signer,
} from "ethers";
import { DeployError } from "./errors";
import { confirmations, deployerAddress, log as hreLog } from "./context";
import type { ContractName } from "./system";

/** A deployment known to the target: recorded by hardhat-deploy, or made in the simulation. */
export interface KnownDeployment {
  address: string;
  abi: unknown[];
  /** Block of the deployment transaction: where role events start. */
  blockNumber: number;
}

/** One transaction the steps sent, in order. */
export interface SentTransaction {
  description: string;
  /** null for a contract creation. */
  to: string | null;
  data: string;
  gasUsed: bigint;
  hash: string;
}

export interface DeployTarget {
  network: string;
  live: boolean;
  /** True for the dry run's throw-away copy. */
  simulation: boolean;
  provider: Provider;
  deployer: string;
  signer: Signer;
  deployment(name: string): Promise<KnownDeployment | null>;
  /** Whether deploying `name` with `args` now would send a transaction (no record, no code, or changed). */
  differs(name: ContractName, args: unknown[]): Promise<boolean>;
  /** Deploys `name` (caller checked `differs`). */
  deploy(name: ContractName, args: unknown[]): Promise<KnownDeployment>;
  /** Records a deployment that needs no transaction (the configured stablecoin). */
  save(name: string, record: { address: string; abi: unknown[] }): Promise<void>;
  /** Sends `contract.method(...args)` from the deployer and waits for it. */
  send(description: string, contract: Contract, method: string, args: unknown[]): Promise<void>;
  log(message: string): void;
  /** Every transaction sent through this target, in order. */
  readonly sent: SentTransaction[];
}

/** Seconds between "still waiting" lines (`DEPLOY_PROGRESS_SECONDS`, default 15). */
function progressSeconds(): number {
  const v = Number(process.env.DEPLOY_PROGRESS_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : 15;
}

/** How long to wait for one transaction before giving up (`DEPLOY_WAIT_TIMEOUT_SECONDS`, default 1800). */
function waitTimeoutSeconds(): number {
  const v = Number(process.env.DEPLOY_WAIT_TIMEOUT_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : 1800;
}

/**
 * Waits until `hash` is mined and has `needed` confirmations, saying what it waits for: once at
 * the start, then every DEPLOY_PROGRESS_SECONDS. Throws a DeployError after the timeout (the
 * transaction may still be mined later; running the deploy again resumes).
 */
export async function waitConfirmed(
  provider: Provider,
  hash: string,
  needed: number,
  description: string,
  say: (message: string) => void,
  pollMs = 500,
): Promise<{ gasUsed: bigint; contractAddress: string | null; blockNumber: number; status: number | null }> {
  const started = Date.now();
  let lastSaid = 0;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    const head = await provider.getBlockNumber();
    const have = receipt ? head - receipt.blockNumber + 1 : 0;
    if (receipt && have >= needed) {
      if (receipt.status === 0) throw new DeployError(`${description}: transaction ${hash} reverted`);
      return {
        gasUsed: receipt.gasUsed,
        contractAddress: receipt.contractAddress,
        blockNumber: receipt.blockNumber,
        status: receipt.status,
      };
    }
    const elapsed = (Date.now() - started) / 1000;
    if (lastSaid === 0 || elapsed - lastSaid >= progressSeconds()) {
      say(
        receipt
          ? `waiting for ${description} (tx ${hash}): mined in block ${receipt.blockNumber}, ` +
              `${have} of ${needed} confirmations (head ${head}, ${Math.round(elapsed)} s)`
          : `waiting for ${description} (tx ${hash}) to be mined, then ${needed} confirmation(s) (${Math.round(elapsed)} s)`,
      );
      lastSaid = Math.max(elapsed, 1e-9);
    }
    if (elapsed > waitTimeoutSeconds()) {
      throw new DeployError(
        `gave up waiting for ${description} (tx ${hash}) after ${Math.round(elapsed)} s ` +
          `(DEPLOY_WAIT_TIMEOUT_SECONDS): it may still be mined; run the same deploy command again to resume`,
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Runs `work`, printing `what` every DEPLOY_PROGRESS_SECONDS until it settles. */
async function withProgress<T>(work: Promise<T>, what: () => string, say: (m: string) => void): Promise<T> {
  const started = Date.now();
  const timer = setInterval(
    () => say(`still ${what()} (${Math.round((Date.now() - started) / 1000)} s)`),
    progressSeconds() * 1000,
  );
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** The selected network, through hardhat-deploy. */
export async function liveTarget(hre: HardhatRuntimeEnvironment): Promise<DeployTarget> {
  const deployer = await deployerAddress(hre);
  const signer = await hre.ethers.getSigner(deployer);
  const needed = confirmations(hre);
  const say = (m: string) => hreLog(hre, m);
  const pollMs = hre.network.live ? 3_000 : 250;
  const sent: SentTransaction[] = [];
  const target: DeployTarget = {
    network: hre.network.name,
    live: Boolean(hre.network.live),
    simulation: false,
    provider: hre.ethers.provider,
    deployer,
    signer,
    sent,
    log: say,
    async deployment(name) {
      const d = await hre.deployments.getOrNull(name);
      return d ? { address: getAddress(d.address), abi: d.abi, blockNumber: d.receipt?.blockNumber ?? 0 } : null;
    },
    async differs(name, args) {
      return (await hre.deployments.fetchIfDifferent(name, { from: deployer, args })).differences;
    },
    async deploy(name, args) {
      say(`${name}: deploying; every transaction waits for ${needed} confirmation(s)`);
      const result = await withProgress(
        hre.deployments.deploy(name, {
          from: deployer,
          args,
          log: hre.network.name !== "hardhat" || Boolean(process.env.DEPLOY_LOG),
          waitConfirmations: 1,
        }),
        () => `waiting for ${name}'s deployment transaction to be mined`,
        say,
      );
      if (result.transactionHash) {
        const mined = await waitConfirmed(
          hre.ethers.provider,
          result.transactionHash,
          needed,
          `${name}'s deployment`,
          say,
          pollMs,
        );
        sent.push({
          description: `deploy ${name}`,
          to: null,
          data: "",
          gasUsed: mined.gasUsed,
          hash: result.transactionHash,
        });
      }
      return { address: getAddress(result.address), abi: result.abi, blockNumber: result.receipt?.blockNumber ?? 0 };
    },
    async save(name, record) {
      await hre.deployments.save(name, record as Parameters<typeof hre.deployments.save>[1]);
    },
    async send(description, contract, method, args) {
      say(description);
      const tx = await contract
        .connect(signer)
        .getFunction(method)
        .send(...args);
      const mined = await waitConfirmed(hre.ethers.provider, tx.hash, needed, description, say, pollMs);
      sent.push({ description, to: tx.to, data: tx.data, gasUsed: mined.gasUsed, hash: tx.hash });
    },
  };
  return target;
}

/** A simulation target and the way to throw it away. */
export interface Simulation {
  target: DeployTarget;
  close: () => Promise<void>;
}

/**
 * A throw-away copy of the selected chain with the deployer impersonated: an in-process fork of the
 * network's RPC at its latest block, or, on the in-process `hardhat` network, a snapshot reverted
 * on `close`. Existing records are read from `deployments/<network>/`; what the simulation deploys
 * is kept in memory only.
 */
export async function simulationTarget(hre: HardhatRuntimeEnvironment): Promise<Simulation> {
  const deployer = await deployerAddress(hre);
  let provider: BrowserProvider | typeof hre.ethers.provider;
  let request: (method: string, params: unknown[]) => Promise<unknown>;
  let close: () => Promise<void>;
  if (hre.network.name === "hardhat") {
    provider = hre.ethers.provider;
    request = (method, params) => hre.network.provider.request({ method, params });
    const snapshot = await request("evm_snapshot", []);
    close = async () => {
      await request("evm_revert", [snapshot]);
    };
  } else {
    const url = (hre.network.config as { url?: string }).url;
    if (!url) throw new DeployError(`network ${hre.network.name} has no RPC URL to simulate against`);
    // Internal Hardhat API (stable across 2.x): an EDR provider for a forked `hardhat` network.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createProvider } = require("hardhat/internal/core/providers/construction");
    // The head itself: without a block number Hardhat forks some blocks behind it (reorg safety),
    // where the latest deploys do not exist yet.
    const blockNumber = await hre.ethers.provider.getBlockNumber();
    const forkConfig = {
      ...hre.config,
      // No on-disk fork cache: a dev node restarted at the same block number has other state.
      paths: undefined,
      networks: {
        ...hre.config.networks,
        hardhat: {
          ...hre.config.networks.hardhat,
          accounts: [],
          forking: { url, blockNumber, enabled: true, httpHeaders: {} },
          mining: { auto: true, interval: 0, mempool: { order: "priority" } },
        },
      },
    };
    const edr = await createProvider(forkConfig, "hardhat", hre.artifacts);
    // No block-number cache: the steps read the head right after each of their own transactions.
    provider = new BrowserProvider(edr, undefined, { cacheTimeout: -1 });
    request = (method, params) => edr.request({ method, params });
    // Calls at the fork block itself run under the hardfork Hardhat assigns to that block of that
    // chain, which for a dev node (or a young chain reusing a public chain id) can predate PUSH0.
    // One empty local block puts every later call under the in-process chain's hardfork.
    await request("evm_mine", []);
    close = async () => {
      (provider as BrowserProvider).destroy();
    };
  }
  await request("hardhat_impersonateAccount", [deployer]);
  // The simulation must not stop on an unfunded deployer: the preflight reports that, with the cost.
  const balance = await provider.getBalance(deployer);
  const plenty = 10n ** 24n;
  if (balance < plenty) await request("hardhat_setBalance", [deployer, `0x${plenty.toString(16)}`]);
  const signer =
    hre.network.name === "hardhat"
      ? await hre.ethers.getSigner(deployer)
      : new JsonRpcSigner(provider as BrowserProvider, deployer);
  const made = new Map<string, KnownDeployment>();
  const sent: SentTransaction[] = [];
  const target: DeployTarget = {
    network: hre.network.name,
    live: Boolean(hre.network.live),
    simulation: true,
    provider,
    deployer,
    signer,
    sent,
    log: () => undefined,
    async deployment(name) {
      if (made.has(name)) return made.get(name)!;
      const d = await hre.deployments.getOrNull(name);
      if (!d) return null;
      return { address: getAddress(d.address), abi: d.abi, blockNumber: d.receipt?.blockNumber ?? 0 };
    },
    async differs(name, args) {
      if (made.has(name)) return false;
      if (!(await hre.deployments.getOrNull(name))) return true;
      return (await hre.deployments.fetchIfDifferent(name, { from: deployer, args })).differences;
    },
    async deploy(name, args) {
      const artifact = await hre.artifacts.readArtifact(name);
      const factory = new ContractFactory(artifact.abi, artifact.bytecode, signer);
      const request = await factory.getDeployTransaction(...args);
      const tx = await signer.sendTransaction(request);
      const receipt = (await tx.wait())!;
      if (receipt.status !== 1 || !receipt.contractAddress) throw new DeployError(`deploy ${name}: reverted`);
      sent.push({ description: `deploy ${name}`, to: null, data: tx.data, gasUsed: receipt.gasUsed, hash: tx.hash });
      const known = {
        address: getAddress(receipt.contractAddress),
        abi: artifact.abi,
        blockNumber: receipt.blockNumber,
      };
      made.set(name, known);
      return known;
    },
    async save(name, record) {
      made.set(name, { address: getAddress(record.address), abi: record.abi, blockNumber: 0 });
    },
    async send(description, contract, method, args) {
      const tx = await contract
        .connect(signer)
        .getFunction(method)
        .send(...args);
      const receipt = (await tx.wait())!;
      if (receipt.status !== 1) throw new DeployError(`${description}: reverted in the simulation`);
      sent.push({ description, to: tx.to, data: tx.data, gasUsed: receipt.gasUsed, hash: tx.hash });
    },
  };
  return { target, close };
}
