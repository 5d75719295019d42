import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun } from "../scripts/deploy/context";
import { deployContract } from "../scripts/deploy/execute";

/** Deploys DemandResponseProgramme bound to the oracle (the escrow's PROGRAMME_ROLE is granted in `roles`). */
const func: DeployFunction = async (hre) => deployContract(hre, "DemandResponseProgramme");
func.tags = ["DemandResponseProgramme", "core"];
func.dependencies = ["preflight", "UsageOracle"];
func.skip = async () => isDryRun();
export default func;
