/**
 * The deploy steps the numbered scripts in `deploy/` run: deploy one contract, run the wiring
 * calls, hand the roles over and verify them. Every step reads the chain first and sends only what
 * is missing, so a second run sends nothing and an interrupted run completes on the next one.
 * The steps run against a `DeployTarget`: the network itself, or (the dry run) a throw-away copy of
 * it, so the plan printed is the code executed.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Contract, getAddress } from "ethers";
import { deployConfig } from "./context";
import { DeployError } from "./errors";
import { adminCallOf, type AdminCall } from "./safe";
import {
  DEFAULT_ADMIN_ROLE,
  WIRING,
  enabledContracts,
  specOf,
  stablecoinAddress,
  type ContractName,
  type PlanInputs,
} from "./system";
import {
  checkRoleGetters,
  describeAction,
  describeHolders,
  desiredHolders,
  holdersFromEvents,
  nameRoles,
  planRoleActions,
  roleHashOf,
  sameHolders,
  type RoleAction,
  type RoleHolders,
} from "./roles";
import { liveTarget, type DeployTarget } from "./target";

/** Plan inputs backed by what the target knows (recorded, or deployed in this simulation). */
export async function inputsOf(hre: HardhatRuntimeEnvironment, target: DeployTarget): Promise<PlanInputs> {
  const config = deployConfig(hre);
  const known = new Map<string, string>();
  for (const spec of enabledContracts(config)) {
    const d = await target.deployment(spec.name);
    if (d) known.set(spec.name, getAddress(d.address));
  }
  return {
    config,
    deployer: target.deployer,
    address: (name: ContractName) => {
      const a = known.get(name);
      if (!a) throw new Error(`${name} is not deployed on ${target.network} yet (run its deploy script first)`);
      return a;
    },
  };
}

/** "admin 0x70…", "escrow 0x…": how plans and errors name an account. */
export function labeler(inputs: PlanInputs): (account: string) => string {
  const names = new Map<string, string[]>();
  const add = (addr: string, name: string) => names.set(addr, [...(names.get(addr) ?? []), name]);
  const { config } = inputs;
  add(inputs.deployer, "deployer");
  add(config.admin, "admin");
  add(config.registrar, "registrar");
  add(config.pauser, "pauser");
  add(config.arbiter, "arbiter");
  config.oracle.signers.forEach((s, i) => add(s, `signer${i}`));
  for (const spec of enabledContracts(config)) {
    try {
      add(inputs.address(spec.name), spec.name);
    } catch {
      // not deployed yet
    }
  }
  return (account) => `${names.get(account)?.join("/") ?? "unknown"} ${account}`;
}

async function contractOf(target: DeployTarget, name: ContractName): Promise<Contract> {
  const d = await target.deployment(name);
  if (!d) throw new Error(`${name} is not deployed on ${target.network}`);
  return new Contract(d.address, d.abi as never, target.provider);
}

/** Deploys `name` unless the recorded deployment already matches its bytecode and arguments. */
export async function deployContract(hre: HardhatRuntimeEnvironment, name: ContractName, target?: DeployTarget) {
  const t = target ?? (await liveTarget(hre));
  const spec = specOf(name);
  const inputs = await inputsOf(hre, t);
  if (!spec.enabled(inputs.config)) {
    t.log(`${name}: not part of ${t.network}'s system (see config), skipped`);
    return;
  }
  const args = spec.args(inputs);
  const existing = await t.deployment(name);
  if (!(await t.differs(name, args))) {
    t.log(`${name}: already deployed at ${existing?.address}, nothing sent`);
    return;
  }
  if (existing && t.live) {
    // On a public network a silent redeploy would fork the system: refuse, and say how to proceed.
    throw new DeployError(
      `${name} on ${t.network} differs from its recorded deployment at ${existing.address} ` +
        `(bytecode or constructor arguments changed). Refusing to deploy a second system: ` +
        `delete deployments/${t.network}/${name}.json on purpose to redeploy.`,
    );
  }
  await t.deploy(name, args);
}

/**
 * Records the stablecoin as `Stablecoin` in `deployments/<network>/` (the mock's own record on
 * local networks; the configured token's address with the ERC-20 metadata ABI elsewhere).
 */
export async function recordStablecoin(hre: HardhatRuntimeEnvironment, target?: DeployTarget): Promise<void> {
  const t = target ?? (await liveTarget(hre));
  const inputs = await inputsOf(hre, t);
  const address = stablecoinAddress(inputs);
  const existing = await t.deployment("Stablecoin");
  if (existing && getAddress(existing.address) === address) return;
  const abi =
    inputs.config.stablecoin === "mock"
      ? (await t.deployment("MockUSDC"))!.abi
      : (await hre.artifacts.readArtifact("IERC20Metadata")).abi;
  await t.save("Stablecoin", { address, abi });
  t.log(`Stablecoin: recorded ${address}`);
}

/** Admin calls the deployer could not make (it no longer holds the power), collected per target. */
const blockedCalls = new WeakMap<DeployTarget, AdminCall[]>();
function blocked(target: DeployTarget): AdminCall[] {
  if (!blockedCalls.has(target)) blockedCalls.set(target, []);
  return blockedCalls.get(target)!;
}

/** Runs every wiring call not yet done, with the deployer's temporary role. */
export async function runWiring(hre: HardhatRuntimeEnvironment, target?: DeployTarget): Promise<number> {
  const t = target ?? (await liveTarget(hre));
  const inputs = await inputsOf(hre, t);
  const label = labeler(inputs);
  let sent = 0;
  for (const step of WIRING) {
    if (!step.enabled(inputs.config)) continue;
    const contract = await contractOf(t, step.contract);
    const current = await contract.getFunction(step.done.method).staticCall(...step.done.args(inputs));
    if (current === step.done.equals) {
      t.log(`wiring: ${step.description(inputs)}: already done, nothing sent`);
      continue;
    }
    const roleHash = roleHashOf(step.role);
    if (!(await contract.hasRole(roleHash, inputs.deployer))) {
      if (!(await contract.hasRole(roleHashOf(DEFAULT_ADMIN_ROLE), inputs.deployer))) {
        // Already handed over: the admin must make the call (listed, with the Safe batch, at the end).
        blocked(t).push(adminCallOf(step.contract, contract, step.method, step.args(inputs), step.description(inputs)));
        continue;
      }
      await t.send(
        `wiring: ${step.contract}.grantRole(${step.role}, ${label(inputs.deployer)}) (temporary)`,
        contract,
        "grantRole",
        [roleHash, inputs.deployer],
      );
      sent++;
    }
    await t.send(`wiring: ${step.description(inputs)}`, contract, step.method, step.args(inputs));
    sent++;
  }
  return sent;
}

/** The role state of one contract: planned holders, actual holders (from events), and the calls between. */
export interface ContractRoleState {
  name: ContractName;
  address: string;
  desired: RoleHolders;
  actual: RoleHolders;
  actions: RoleAction[];
}

export async function readRoleState(target: DeployTarget, inputs: PlanInputs): Promise<ContractRoleState[]> {
  const out: ContractRoleState[] = [];
  for (const spec of enabledContracts(inputs.config)) {
    if (!spec.roles) continue;
    const d = (await target.deployment(spec.name))!;
    const desiredRaw = spec.roles(inputs);
    const contract = new Contract(d.address, d.abi as never, target.provider);
    await checkRoleGetters(spec.name, contract, Object.keys(desiredRaw));
    const byHash = await holdersFromEvents(target.provider, d.address, d.blockNumber);
    const roleNames = [...new Set([...Object.keys(desiredRaw), ...WIRING.map((w) => w.role)])];
    const desired = desiredHolders(desiredRaw);
    const actual = nameRoles(byHash, roleNames);
    out.push({
      name: spec.name,
      address: d.address,
      desired,
      actual,
      actions: planRoleActions(desired, actual, inputs.deployer),
    });
  }
  return out;
}

/**
 * Grants every planned role, hands DEFAULT_ADMIN_ROLE to the configured admin, removes every
 * holder the plan does not name (the deployer last, by renouncing), then checks the final state
 * exactly. When the deployer has already handed over and the chain still differs from the plan
 * (e.g. the config changed after a completed deploy), the admin's calls are returned in `blocked`
 * (and, on the network itself, thrown as a DeployError listing them).
 */
export async function handOverRoles(
  hre: HardhatRuntimeEnvironment,
  target?: DeployTarget,
): Promise<{ sent: number; blocked: AdminCall[] }> {
  const t = target ?? (await liveTarget(hre));
  const inputs = await inputsOf(hre, t);
  const label = labeler(inputs);
  let sent = 0;
  const calls = blocked(t);
  for (const state of await readRoleState(t, inputs)) {
    if (state.actions.length === 0) {
      t.log(`roles: ${state.name} already as planned, nothing sent`);
      continue;
    }
    const contract = await contractOf(t, state.name);
    const deployerIsAdmin = Boolean(state.actual.get(DEFAULT_ADMIN_ROLE)?.has(inputs.deployer));
    for (const action of state.actions) {
      const line = describeAction(action, state.name, label);
      const hash = roleHashOf(action.role);
      const method = action.kind === "grant" ? "grantRole" : action.kind === "revoke" ? "revokeRole" : "renounceRole";
      if (action.kind !== "renounce" && !deployerIsAdmin) {
        calls.push(adminCallOf(state.name, contract, method, [hash, action.account], line));
        continue;
      }
      await t.send(`roles: ${line}`, contract, method, [hash, action.account]);
      sent++;
    }
  }
  if (calls.length > 0) {
    if (!t.simulation) {
      const { writeSafeBatch } = await import("./safe");
      const file = await writeSafeBatch(hre, t.network, calls);
      throw new DeployError(
        `roles: the deployer no longer holds admin power where these calls are still needed; ` +
          `the admin (${inputs.config.admin}) must send them (Safe Transaction Builder batch: ${file}):`,
        calls.map((c) => c.description),
      );
    }
    return { sent, blocked: calls };
  }
  await verifyRoles(hre, t);
  return { sent, blocked: calls };
}

/** Throws unless every role of every contract is held by exactly the planned accounts. */
export async function verifyRoles(hre: HardhatRuntimeEnvironment, target?: DeployTarget): Promise<void> {
  const t = target ?? (await liveTarget(hre));
  const inputs = await inputsOf(hre, t);
  const label = labeler(inputs);
  const problems: string[] = [];
  for (const state of await readRoleState(t, inputs)) {
    if (!sameHolders(state.desired, state.actual)) {
      problems.push(
        `${state.name}: planned {${describeHolders(state.desired, label).join("; ")}} ` +
          `but found {${describeHolders(state.actual, label).join("; ")}}`,
      );
      continue;
    }
    const contract = await contractOf(t, state.name);
    for (const [role, holders] of state.desired) {
      for (const account of holders) {
        if (!(await contract.hasRole(roleHashOf(role), account))) {
          problems.push(`${state.name}: hasRole(${role}, ${label(account)}) is false`);
        }
      }
    }
    t.log(`roles: ${state.name} verified: ${describeHolders(state.actual, label).join("; ")}`);
  }
  if (problems.length > 0) throw new DeployError("roles: final state differs from the plan:", problems);
}

/** Every step in the order of the scripts in deploy/ (what the dry run executes on its copy). */
export async function runAllSteps(hre: HardhatRuntimeEnvironment, target: DeployTarget) {
  const config = deployConfig(hre);
  const contracts = enabledContracts(config);
  if (contracts.some((c) => c.name === "MockUSDC")) await deployContract(hre, "MockUSDC", target); // 01
  await recordStablecoin(hre, target); // 01
  for (const spec of contracts) if (spec.name !== "MockUSDC") await deployContract(hre, spec.name, target); // 10-40
  await runWiring(hre, target); // 80
  return handOverRoles(hre, target); // 90
}
