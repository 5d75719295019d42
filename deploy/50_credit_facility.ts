import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract } from "../scripts/deploy/execute";

/** Deploys CreditFacility (with its LoanNote and custody implementation) bound to the NFT and the escrow. */
const func: DeployFunction = async (hre) => deployContract(hre, "CreditFacility");
func.tags = ["CreditFacility", "core"];
func.dependencies = ["preflight", "GpuAssetNFT", "SettlementEscrow"];
func.skip = async () => isDryRun();
export default func;
