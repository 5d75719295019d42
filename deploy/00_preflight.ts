import type { DeployFunction } from "hardhat-deploy/types";
import { preflight } from "../scripts/deploy/preflight";

/** Validates config/<network>.json and the chain before anything is sent; in a dry run, prints the plan. */
const func: DeployFunction = async (hre) => preflight(hre);
func.tags = ["preflight"];
export default func;
