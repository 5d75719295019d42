import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract } from "../scripts/deploy/execute";

/** Deploys SettlementEscrow (dispute timing from config) reading the NFT and the oracle. */
const func: DeployFunction = async (hre) => deployContract(hre, "SettlementEscrow");
func.tags = ["SettlementEscrow", "core"];
func.dependencies = ["preflight", "GpuAssetNFT", "UsageOracle"];
func.skip = async () => isDryRun();
export default func;
