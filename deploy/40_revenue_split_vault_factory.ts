import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract } from "../scripts/deploy/execute";

/** Deploys RevenueSplitVaultFactory (and its vault implementation) bound to the NFT and the escrow. */
const func: DeployFunction = async (hre) => deployContract(hre, "RevenueSplitVaultFactory");
func.tags = ["RevenueSplitVaultFactory", "core"];
func.dependencies = ["preflight", "GpuAssetNFT", "SettlementEscrow"];
func.skip = async () => isDryRun();
export default func;
