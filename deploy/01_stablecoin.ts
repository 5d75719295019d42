import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract, recordStablecoin } from "../scripts/deploy/execute";

/**
 * The lease stablecoin. Local networks whose config says `"stablecoin": "mock"` get MockUSDC
 * (6 decimals, permit, open mint); every network records the token as `Stablecoin` (no transaction
 * for a real token) so integrators find it next to the system's contracts.
 */
const func: DeployFunction = async (hre) => {
  await deployContract(hre, "MockUSDC");
  await recordStablecoin(hre);
};
func.tags = ["Stablecoin", "mocks", "core"];
func.dependencies = ["preflight"];
func.skip = async () => isDryRun();
export default func;
