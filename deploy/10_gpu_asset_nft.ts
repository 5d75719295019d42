import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract } from "../scripts/deploy/execute";

/** Deploys GpuAssetNFT with the deployer as temporary admin. */
const func: DeployFunction = async (hre) => deployContract(hre, "GpuAssetNFT");
func.tags = ["GpuAssetNFT", "core"];
func.dependencies = ["preflight"];
func.skip = async () => isDryRun();
export default func;
