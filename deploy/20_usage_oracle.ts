import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract } from "../scripts/deploy/execute";

/** Deploys UsageOracle (signer set, threshold, skew and energy margin from config) reading the NFT. */
const func: DeployFunction = async (hre) => deployContract(hre, "UsageOracle");
func.tags = ["UsageOracle", "core"];
func.dependencies = ["preflight", "GpuAssetNFT"];
func.skip = async () => isDryRun();
export default func;
