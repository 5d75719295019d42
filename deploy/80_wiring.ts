import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun, log } from "../scripts/deploy/context";
import { runWiring } from "../scripts/deploy/execute";

/** Configuration calls that need a role the deployer holds only while wiring (stablecoin allowlist, …). */
const func: DeployFunction = async (hre) => {
  const sent = await runWiring(hre);
  if (sent === 0) log(hre, "wiring: nothing to send");
};
func.tags = ["wiring", "core"];
func.dependencies = ["preflight", "Stablecoin", "SettlementEscrow"];
func.skip = async () => isDryRun();
export default func;
