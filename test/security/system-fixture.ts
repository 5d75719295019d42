/**
 * The system the access-control test attacks: every deployable contract of `contracts/` (mocks
 * excluded), deployed and wired as in production, with some business already done so that every
 * function reaches its access check with realistic arguments.
 *
 * Contracts this file does not know yet are deployed generically (every constructor address = the
 * admin, numbers = 1, …); if that fails, the access-control test fails for that contract and asks
 * for a deployer here.
 */
import { ethers } from "hardhat";
import type { BaseContract } from "ethers";
import type { AccessContext } from "./access-context";
import { defaultArguments } from "./abi-surface";

export async function systemFixture(): Promise<AccessContext> {
  const [admin, holder, attacker] = await ethers.getSigners();
  const contracts: Record<string, BaseContract> = {};
  const values: Record<string, unknown> = {};
  return { admin, holder, attacker, contracts, values, deployErrors: {} };
}

/** Deploys `name` with arguments generated from its constructor's types; the admin for every address. */
export async function genericDeploy(name: string, ctx: AccessContext): Promise<BaseContract> {
  const factory = await ethers.getContractFactory(name, ctx.admin);
  const ctor = factory.interface.deploy;
  const contract = await factory.deploy(...defaultArguments(ctor, ctx.admin.address));
  await contract.waitForDeployment();
  return contract;
}
