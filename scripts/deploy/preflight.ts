/**
 * Runs before any deploy transaction and reports every problem at once: the network's settings
 * (RPC URL, key or keystore), the config file, and what only the chain can tell (the RPC answers
 * with the expected chain id, the stablecoin has code, the deployer can pay). In a dry run it then
 * prints the plan; in a deploy to a public network it first checks the balance covers the cost.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { JsonRpcProvider, formatEther, getAddress, isAddress } from "ethers";
import { configPathFor, DeployConfigError, type DeployConfig } from "../../config/schema";
import { deployConfig, deployerAddress, isDryRun, log } from "./context";
import { DeployError, userMessage } from "./errors";
import { buildPlan, printPlan } from "./plan";
import { PUBLIC_NETWORKS, setupProblems } from "./setup";

/** Every problem that stops a deploy to the selected network, one line each (empty: go). */
export async function collectProblems(hre: HardhatRuntimeEnvironment): Promise<string[]> {
  const problems: string[] = [...(setupProblems.get(hre.network.name) ?? [])];
  const networkUnusable = problems.length > 0;
  let config: DeployConfig | undefined;
  try {
    config = deployConfig(hre);
  } catch (e) {
    if (!(e instanceof DeployConfigError)) throw e;
    problems.push(...e.problems.map((p) => `${e.source}: ${p}`));
  }
  if (networkUnusable) return problems; // no RPC or no key: the chain checks cannot run
  const provider = hre.ethers.provider;
  let chainId: bigint;
  const url = (hre.network.config as { url?: string }).url;
  try {
    // Asked directly: Hardhat's own chain-id check would answer with its HH101 error instead.
    const direct = url ? new JsonRpcProvider(url, undefined, { staticNetwork: true }) : undefined;
    try {
      chainId = BigInt(await (direct ?? provider).send("eth_chainId", []));
    } finally {
      direct?.destroy();
    }
  } catch (e) {
    problems.push(`cannot reach ${hre.network.name}'s RPC${url ? ` at ${url}` : ""}: ${userMessage(e).split("\n")[0]}`);
    return problems;
  }
  const expected = PUBLIC_NETWORKS[hre.network.name]?.chainId ?? hre.network.config.chainId;
  if (expected !== undefined && BigInt(expected) !== chainId) {
    const prefix = PUBLIC_NETWORKS[hre.network.name]?.envPrefix;
    problems.push(
      `the RPC${prefix ? ` in ${prefix}_RPC_URL` : ""} serves chain id ${chainId}, but ${hre.network.name} is chain id ${expected}`,
    );
    return problems;
  }
  let deployer: string | undefined;
  try {
    deployer = await deployerAddress(hre);
  } catch (e) {
    problems.push(userMessage(e));
  }
  const rawStablecoin = config?.stablecoin;
  if (rawStablecoin && rawStablecoin !== "mock" && isAddress(rawStablecoin)) {
    if ((await provider.getCode(getAddress(rawStablecoin))) === "0x") {
      problems.push(
        `${configPathFor(hre.network.name)}: stablecoin: no contract at ${rawStablecoin} on ${hre.network.name}`,
      );
    }
  }
  if (deployer && hre.network.live && (await provider.getBalance(deployer)) === 0n) {
    problems.push(`deployer ${deployer} has no funds on ${hre.network.name}: fund it from a faucet first`);
  }
  return problems;
}

/** Throws one DeployError listing every problem. */
export async function assertReady(hre: HardhatRuntimeEnvironment): Promise<void> {
  const problems = await collectProblems(hre);
  if (problems.length > 0) {
    throw new DeployError(
      `cannot deploy to ${hre.network.name}: ${problems.length} problem${problems.length > 1 ? "s" : ""} to fix first`,
      problems,
    );
  }
}

export async function preflight(hre: HardhatRuntimeEnvironment): Promise<void> {
  await assertReady(hre);
  const config = deployConfig(hre);
  const deployer = await deployerAddress(hre);
  const provider = hre.ethers.provider;
  const balance = await provider.getBalance(deployer);
  if (hre.network.live) {
    if (config.admin === deployer) {
      console.warn(`warning: admin is the deployer ${deployer}; on a public network use a multisig`);
    } else if ((await provider.getCode(config.admin)) === "0x") {
      console.warn(`warning: admin ${config.admin} has no code (an EOA); on a public network use a multisig`);
    }
  }
  if (isDryRun()) {
    await printPlan(hre);
    return;
  }
  if (hre.network.live) {
    // What this deploy costs, from its execution on a copy of the chain, before anything is sent.
    const plan = await buildPlan(hre);
    if (plan.transactions > 0 && balance < plan.costWei.atMost) {
      throw new DeployError(`cannot deploy to ${hre.network.name}: 1 problem to fix first`, [
        `deployer ${deployer} has ${formatEther(balance)} ETH; the ${plan.transactions} transactions ` +
          `need up to ${formatEther(plan.costWei.atMost)} ETH at the current max fee (about ` +
          `${formatEther(plan.costWei.expected)} ETH at the current base fee): fund it first`,
      ]);
    }
    log(
      hre,
      `plan: ${plan.transactions} transaction(s), ${plan.gas.toLocaleString("en-US")} gas, about ${formatEther(plan.costWei.expected)} ETH`,
    );
  }
  log(
    hre,
    `deploying to ${hre.network.name} from ${deployer} (balance ${formatEther(balance)} ETH), ` +
      `inputs ${configPathFor(hre.network.name)}`,
  );
}
