/**
 * What every deploy script needs from the Hardhat runtime: the validated config of the selected
 * network, the deployer, the dry-run switch, and the addresses deployed so far.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { loadDeployConfig, type DeployConfig, type NetworkContext } from "../../config/schema";

/** `DEPLOY_DRY_RUN=1` (what `npm run deploy:dry-run` sets): print the plan, send nothing. */
export function isDryRun(): boolean {
  const v = process.env.DEPLOY_DRY_RUN?.trim().toLowerCase();
  return v === "1" || v === "true" || v === "yes";
}

export function networkContext(hre: HardhatRuntimeEnvironment): NetworkContext {
  return { name: hre.network.name, live: Boolean(hre.network.live) };
}

/** The validated deploy inputs of the selected network (throws `DeployConfigError` before anything is sent). */
export function deployConfig(hre: HardhatRuntimeEnvironment): DeployConfig {
  return loadDeployConfig(networkContext(hre));
}

export async function deployerAddress(hre: HardhatRuntimeEnvironment): Promise<string> {
  const { deployer } = await hre.getNamedAccounts();
  if (!deployer) throw new Error(`network ${hre.network.name} has no deployer account (see .env.example)`);
  return hre.ethers.getAddress(deployer);
}

/**
 * Confirmations to wait for per transaction: 2 on public networks, where reorgs happen, 1 elsewhere;
 * `DEPLOY_CONFIRMATIONS` overrides.
 */
export function confirmations(hre: HardhatRuntimeEnvironment): number {
  const override = Number(process.env.DEPLOY_CONFIRMATIONS);
  if (Number.isInteger(override) && override >= 1) return override;
  return hre.network.live ? 2 : 1;
}

/** Deploy-script log line (silent under `deployments.fixture` in tests unless DEPLOY_LOG is set). */
export function log(hre: HardhatRuntimeEnvironment, message: string): void {
  if (hre.network.name === "hardhat" && !process.env.DEPLOY_LOG) return;
  console.log(message);
}
