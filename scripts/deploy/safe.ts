/**
 * The admin's follow-up calls as a Safe Transaction Builder batch: when the chain differs from the
 * plan after the deployer has handed over, the deploy lists the calls only the admin can make and
 * writes them as a JSON file the Safe{Wallet} Transaction Builder app imports ("drag and drop a
 * JSON batch"), so a multisig admin proposes them in one transaction without retyping calldata.
 */
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract } from "ethers";

/** One call only the admin can make. */
export interface AdminCall {
  contract: string;
  to: string;
  method: string;
  args: unknown[];
  data: string;
  /** Human-readable, with labelled accounts. */
  description: string;
}

export function adminCallOf(
  name: string,
  contract: Contract,
  method: string,
  args: unknown[],
  description: string,
): AdminCall {
  return {
    contract: name,
    to: contract.target as string,
    method,
    args,
    data: contract.interface.encodeFunctionData(method, args),
    description,
  };
}

/** The Transaction Builder's batch format (version 1.0). */
export interface SafeBatch {
  version: "1.0";
  chainId: string;
  createdAt: number;
  meta: { name: string; description: string; createdFromSafeAddress: string };
  transactions: { to: string; value: string; data: string; contractMethod: null; contractInputsValues: null }[];
}

export function safeBatch(chainId: bigint, admin: string, network: string, calls: AdminCall[]): SafeBatch {
  return {
    version: "1.0",
    chainId: chainId.toString(),
    createdAt: Date.now(),
    meta: {
      name: `compute-rwa admin calls on ${network}`,
      description: calls.map((c, i) => `${i + 1}. ${c.description}`).join("\n"),
      createdFromSafeAddress: admin,
    },
    transactions: calls.map((c) => ({
      to: c.to,
      value: "0",
      data: c.data,
      contractMethod: null,
      contractInputsValues: null,
    })),
  };
}

/** Where the batch is written: `SAFE_BATCH_FILE`, else `deploy-output/<network>/admin-calls.safe.json`. */
export function safeBatchPath(network: string): string {
  const override = process.env.SAFE_BATCH_FILE?.trim();
  return override ? path.resolve(override) : path.resolve("deploy-output", network, "admin-calls.safe.json");
}

export async function writeSafeBatch(
  hre: HardhatRuntimeEnvironment,
  network: string,
  calls: AdminCall[],
): Promise<string> {
  const { deployConfig } = await import("./context");
  // The network's own chain id (a simulation's fork runs under the in-process chain's id).
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const file = safeBatchPath(network);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(safeBatch(chainId, deployConfig(hre).admin, network, calls), null, 2)}\n`);
  return path.relative(process.cwd(), file) || file;
}
