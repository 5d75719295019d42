/**
 * Runs before any deploy transaction: validates `config/<network>.json`, then checks what only the
 * chain can tell (the stablecoin and a multisig admin have code, the deployer can pay). In a dry
 * run it prints the full plan instead of deploying.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatEther } from "ethers";
import { configPathFor } from "../../config/schema";
import { deployConfig, deployerAddress, isDryRun, log } from "./context";
import { printPlan } from "./plan";

export async function preflight(hre: HardhatRuntimeEnvironment): Promise<void> {
  const config = deployConfig(hre); // throws DeployConfigError, naming every bad field
  const deployer = await deployerAddress(hre);
  const provider = hre.ethers.provider;
  const problems: string[] = [];
  if (config.stablecoin !== "mock" && (await provider.getCode(config.stablecoin)) === "0x") {
    problems.push(`stablecoin: no contract at ${config.stablecoin} on ${hre.network.name}`);
  }
  const balance = await provider.getBalance(deployer);
  if (hre.network.live && balance === 0n) {
    problems.push(`deployer ${deployer} has no funds on ${hre.network.name}: fund it from a faucet first`);
  }
  if (problems.length > 0) {
    throw new Error(`preflight failed for ${hre.network.name}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
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
  log(
    hre,
    `deploying to ${hre.network.name} from ${deployer} (balance ${formatEther(balance)} ETH), ` +
      `inputs ${configPathFor(hre.network.name)}`,
  );
}
