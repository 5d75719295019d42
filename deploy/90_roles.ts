import type { DeployFunction } from "hardhat-deploy/types";
import { isDryRun, log } from "../scripts/deploy/context";
import { handOverRoles } from "../scripts/deploy/execute";

/**
 * Grants every role per config, hands DEFAULT_ADMIN_ROLE to the configured admin, has the deployer
 * renounce everything it is not configured for, then verifies every role's holders exactly.
 */
const func: DeployFunction = async (hre) => {
  const { sent } = await handOverRoles(hre);
  log(
    hre,
    sent === 0
      ? "roles: nothing to send; final state verified"
      : `roles: ${sent} transaction(s) sent; final state verified`,
  );
};
func.tags = ["roles", "core"];
func.dependencies = [
  "preflight",
  "GpuAssetNFT",
  "UsageOracle",
  "SettlementEscrow",
  "RevenueSplitVaultFactory",
  "CreditFacility",
  "DemandResponseProgramme",
  "wiring",
];
func.skip = async () => isDryRun();
export default func;
