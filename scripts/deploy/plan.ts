/**
 * The dry run: what a deploy against the selected network would do — contracts deployed or reused
 * (with predicted addresses), wiring calls, and every role's final holders with the calls that get
 * there — computed from the chain's current state with read calls only. Nothing is sent.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Contract, formatEther, getCreateAddress } from "ethers";
import { configPathFor } from "../../config/schema";
import { deployConfig, deployerAddress } from "./context";
import { labeler, readRoleState } from "./execute";
import { describeAction, describeHolders, desiredHolders, planRoleActions, type RoleHolders } from "./roles";
import { DEFAULT_ADMIN_ROLE, WIRING, enabledContracts, type ContractName, type PlanInputs } from "./system";

export interface DeployPlan {
  network: string;
  chainId: bigint;
  deployer: string;
  contracts: { name: ContractName; action: "deploy" | "redeploy" | "reuse"; address: string }[];
  wiring: { description: string; done: boolean }[];
  roles: { contract: ContractName; final: string[]; calls: string[] }[];
  /** Transactions a deploy would send now. */
  transactions: number;
}

/** Builds the plan against the selected network's current state without sending anything. */
export async function buildPlan(hre: HardhatRuntimeEnvironment): Promise<DeployPlan> {
  const config = deployConfig(hre);
  const deployer = await deployerAddress(hre);
  const provider = hre.ethers.provider;
  let nonce = await provider.getTransactionCount(deployer, "pending");
  const addresses = new Map<ContractName, string>();
  const inputs: PlanInputs = {
    config,
    deployer,
    address: (name) => {
      const a = addresses.get(name);
      if (a) return a;
      // A contract deployed later in the order (the escrow, named in the NFT's roles).
      throw new Error(`${name} address not known yet`);
    },
  };
  const contracts: DeployPlan["contracts"] = [];
  const fresh = new Set<ContractName>();
  let transactions = 0;
  for (const spec of enabledContracts(config)) {
    const existing = await hre.deployments.getOrNull(spec.name);
    let action: "deploy" | "redeploy" | "reuse" = "deploy";
    if (existing && (await provider.getCode(existing.address)) !== "0x") {
      const depsFresh = spec.dependsOn.some((d) => fresh.has(d));
      const { differences } = depsFresh
        ? { differences: true }
        : await hre.deployments.fetchIfDifferent(spec.name, { from: deployer, args: spec.args(inputs) });
      action = differences ? "redeploy" : "reuse";
    }
    if (action === "reuse") {
      addresses.set(spec.name, hre.ethers.getAddress(existing!.address));
    } else {
      addresses.set(spec.name, getCreateAddress({ from: deployer, nonce }));
      nonce++;
      transactions++;
      fresh.add(spec.name);
    }
    contracts.push({ name: spec.name, action, address: addresses.get(spec.name)! });
  }

  const wiring: DeployPlan["wiring"] = [];
  const tempRoles = new Map<ContractName, string[]>();
  for (const step of WIRING) {
    if (!step.enabled(config)) continue;
    let done = false;
    if (!fresh.has(step.contract)) {
      const d = await hre.deployments.get(step.contract);
      const c = new Contract(d.address, d.abi, provider);
      done = (await c.getFunction(step.done.method).staticCall(...step.done.args(inputs))) === step.done.equals;
    }
    if (!done) {
      tempRoles.set(step.contract, [...(tempRoles.get(step.contract) ?? []), step.role]);
      transactions += 2;
    }
    wiring.push({
      description: `${step.description(inputs)} (${step.contract}.${step.method}, needs ${step.role})`,
      done,
    });
  }

  const label = labeler(inputs);
  const roles: DeployPlan["roles"] = [];
  const reused = contracts.filter((c) => c.action === "reuse").map((c) => c.name);
  const existingStates = reused.length === 0 ? [] : await readRoleState(hre, inputs, reused);
  for (const spec of enabledContracts(config)) {
    if (!spec.roles) continue;
    const desired = desiredHolders(spec.roles(inputs));
    let actual: RoleHolders;
    const state = existingStates.find((s) => s.name === spec.name);
    if (state && !fresh.has(spec.name)) {
      actual = state.actual;
    } else {
      // A new contract starts with the deployer as its only admin (the constructor's admin argument).
      actual = new Map([[DEFAULT_ADMIN_ROLE, new Set([deployer])]]);
    }
    for (const role of tempRoles.get(spec.name) ?? []) {
      actual.set(role, new Set([...(actual.get(role) ?? []), deployer]));
    }
    const actions = planRoleActions(desired, actual, deployer);
    transactions += actions.length;
    roles.push({
      contract: spec.name,
      final: describeHolders(desired, label),
      calls: actions.map((a) => describeAction(a, spec.name, label)),
    });
  }
  return {
    network: hre.network.name,
    chainId: (await provider.getNetwork()).chainId,
    deployer,
    contracts,
    wiring,
    roles,
    transactions,
  };
}

/** The plan as printed by `npm run deploy:dry-run`. */
export async function printPlan(hre: HardhatRuntimeEnvironment): Promise<DeployPlan> {
  const plan = await buildPlan(hre);
  const balance = await hre.ethers.provider.getBalance(plan.deployer);
  const lines: string[] = [
    `DRY RUN — nothing is sent. Plan for network ${plan.network} (chainId ${plan.chainId})`,
    `config:   ${configPathFor(plan.network)}`,
    `deployer: ${plan.deployer} (balance ${formatEther(balance)} ETH)`,
    "",
    "contracts:",
    ...plan.contracts.map(
      (c) =>
        `  ${c.name.padEnd(26)} ${c.action === "reuse" ? "reuse   " : c.action === "redeploy" ? "REDEPLOY" : "deploy  "} ${c.address}${c.action === "reuse" ? "" : " (predicted)"}`,
    ),
    "",
    "wiring (the deployer holds the needed role only for the call):",
    ...(plan.wiring.length ? plan.wiring.map((w) => `  [${w.done ? "done" : "todo"}] ${w.description}`) : ["  (none)"]),
    "",
    "roles — final holders (exactly these; the deployer keeps nothing it is not listed for):",
  ];
  for (const r of plan.roles) {
    lines.push(`  ${r.contract}:`, ...r.final.map((f) => `    ${f}`));
    lines.push(...(r.calls.length ? r.calls.map((c) => `    -> ${c}`) : ["    -> nothing to send"]));
  }
  lines.push("", `transactions a deploy would send now: ${plan.transactions}`);
  console.log(lines.join("\n"));
  return plan;
}
