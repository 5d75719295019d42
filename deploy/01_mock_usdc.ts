import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract } from "../scripts/deploy/execute";

/** Deploys MockUSDC (6 decimals, permit) on local networks whose config says `"stablecoin": "mock"`; elsewhere a no-op. */
const func: DeployFunction = async (hre) => deployContract(hre, "MockUSDC");
func.tags = ["MockUSDC", "mocks"];
func.dependencies = ["preflight"];
func.skip = async () => isDryRun();
export default func;
