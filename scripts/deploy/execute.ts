/**
 * The deploy steps the numbered scripts in `deploy/` run: deploy one contract, run the wiring
 * calls, hand the roles over and verify them. Every step reads the chain first and sends only what
 * is missing, so a second run sends nothing and an interrupted run completes on the next one.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Contract, type Signer } from "ethers";
import { confirmations, deployerAddress, log, recordedInputs } from "./context";
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

async function deployerSigner(hre: HardhatRuntimeEnvironment): Promise<Signer> {
  return hre.ethers.getSigner(await deployerAddress(hre));
}

async function contractOf(hre: HardhatRuntimeEnvironment, name: ContractName, signer?: Signer): Promise<Contract> {
  const d = await hre.deployments.get(name);
  return new Contract(d.address, d.abi, signer ?? hre.ethers.provider);
}

/** Deploys `name` unless the recorded deployment already matches its bytecode and arguments. */
export async function deployContract(hre: HardhatRuntimeEnvironment, name: ContractName): Promise<void> {
  const spec = specOf(name);
  const inputs = await recordedInputs(hre);
  if (!spec.enabled(inputs.config)) {
    log(hre, `${name}: not part of ${hre.network.name}'s system (see config), skipped`);
    return;
  }
  const args = spec.args(inputs);
  const existing = await hre.deployments.getOrNull(name);
  if (existing && hre.network.live) {
    // On a public network a silent redeploy would fork the system: refuse, and say how to proceed.
    const { differences } = await hre.deployments.fetchIfDifferent(name, { from: inputs.deployer, args });
    if (differences) {
      throw new Error(
        `${name} on ${hre.network.name} differs from its recorded deployment at ${existing.address} ` +
          `(bytecode or constructor arguments changed). Refusing to deploy a second system: ` +
          `delete deployments/${hre.network.name}/${name}.json on purpose to redeploy.`,
      );
    }
  }
  const result = await hre.deployments.deploy(name, {
    from: inputs.deployer,
    args,
    log: hre.network.name !== "hardhat" || Boolean(process.env.DEPLOY_LOG),
    waitConfirmations: confirmations(hre),
  });
  if (!result.newlyDeployed) log(hre, `${name}: already deployed at ${result.address}, nothing sent`);
}

/**
 * Records the stablecoin as `Stablecoin` in `deployments/<network>/` (the mock's own record on
 * local networks; the configured token's address with the ERC-20 metadata ABI elsewhere).
 */
export async function recordStablecoin(hre: HardhatRuntimeEnvironment): Promise<void> {
  const inputs = await recordedInputs(hre);
  const address = stablecoinAddress(inputs);
  const existing = await hre.deployments.getOrNull("Stablecoin");
  if (existing && hre.ethers.getAddress(existing.address) === address) return;
  const abi =
    inputs.config.stablecoin === "mock"
      ? (await hre.deployments.get("MockUSDC")).abi
      : (await hre.artifacts.readArtifact("IERC20Metadata")).abi;
  await hre.deployments.save("Stablecoin", { address, abi });
  log(hre, `Stablecoin: recorded ${address}`);
}

/** Runs every wiring call not yet done, with the deployer's temporary role. */
export async function runWiring(hre: HardhatRuntimeEnvironment): Promise<number> {
  const inputs = await recordedInputs(hre);
  const signer = await deployerSigner(hre);
  const label = labeler(inputs);
  let sent = 0;
  for (const step of WIRING) {
    if (!step.enabled(inputs.config)) continue;
    const contract = await contractOf(hre, step.contract, signer);
    const current = await contract.getFunction(step.done.method).staticCall(...step.done.args(inputs));
    if (current === step.done.equals) {
      log(hre, `wiring: ${step.description(inputs)}: already done, nothing sent`);
      continue;
    }
    const roleHash = roleHashOf(step.role);
    if (!(await contract.hasRole(roleHash, inputs.deployer))) {
      if (!(await contract.hasRole(roleHashOf(DEFAULT_ADMIN_ROLE), inputs.deployer))) {
        throw new Error(
          `wiring: cannot ${step.description(inputs)}: the deployer ${inputs.deployer} no longer holds ` +
            `${step.contract}'s ${DEFAULT_ADMIN_ROLE} (already handed over). The admin must call ` +
            `${step.contract}.${step.method}(${step.args(inputs).join(", ")}).`,
        );
      }
      log(hre, `wiring: ${step.contract}.grantRole(${step.role}, ${label(inputs.deployer)}) (temporary)`);
      await (await contract.grantRole(roleHash, inputs.deployer)).wait(confirmations(hre));
      sent++;
    }
    log(hre, `wiring: ${step.description(inputs)}`);
    await (await contract.getFunction(step.method).send(...step.args(inputs))).wait(confirmations(hre));
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

export async function readRoleState(
  hre: HardhatRuntimeEnvironment,
  inputs: PlanInputs,
  only?: ContractName[],
): Promise<ContractRoleState[]> {
  const out: ContractRoleState[] = [];
  for (const spec of enabledContracts(inputs.config)) {
    if (!spec.roles || (only && !only.includes(spec.name))) continue;
    const d = await hre.deployments.get(spec.name);
    const desiredRaw = spec.roles(inputs);
    const contract = new Contract(d.address, d.abi, hre.ethers.provider);
    await checkRoleGetters(spec.name, contract, Object.keys(desiredRaw));
    const fromBlock = d.receipt?.blockNumber ?? 0;
    const byHash = await holdersFromEvents(hre.ethers.provider, d.address, fromBlock);
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
 * exactly. Throws, listing the calls the admin must make, when the deployer has already handed over
 * and the chain still differs from the plan (e.g. the config changed after a completed deploy).
 */
export async function handOverRoles(hre: HardhatRuntimeEnvironment): Promise<number> {
  const inputs = await recordedInputs(hre);
  const signer = await deployerSigner(hre);
  const label = labeler(inputs);
  let sent = 0;
  const blocked: string[] = [];
  for (const state of await readRoleState(hre, inputs)) {
    if (state.actions.length === 0) {
      log(hre, `roles: ${state.name} already as planned, nothing sent`);
      continue;
    }
    const contract = new Contract(state.address, (await hre.deployments.get(state.name)).abi, signer);
    const deployerIsAdmin = Boolean(state.actual.get(DEFAULT_ADMIN_ROLE)?.has(inputs.deployer));
    for (const action of state.actions) {
      const line = describeAction(action, state.name, label);
      if (action.kind !== "renounce" && !deployerIsAdmin) {
        blocked.push(line);
        continue;
      }
      log(hre, `roles: ${line}`);
      const hash = roleHashOf(action.role);
      const tx =
        action.kind === "grant"
          ? await contract.grantRole(hash, action.account)
          : action.kind === "revoke"
            ? await contract.revokeRole(hash, action.account)
            : await contract.renounceRole(hash, action.account);
      await tx.wait(confirmations(hre));
      sent++;
    }
  }
  if (blocked.length > 0) {
    throw new Error(
      `roles: the deployer no longer holds admin power where these calls are still needed; ` +
        `the admin (${inputs.config.admin}) must send them:\n${blocked.map((b) => `  - ${b}`).join("\n")}`,
    );
  }
  await verifyRoles(hre);
  return sent;
}

/** Throws unless every role of every contract is held by exactly the planned accounts. */
export async function verifyRoles(hre: HardhatRuntimeEnvironment): Promise<void> {
  const inputs = await recordedInputs(hre);
  const label = labeler(inputs);
  const problems: string[] = [];
  for (const state of await readRoleState(hre, inputs)) {
    if (!sameHolders(state.desired, state.actual)) {
      problems.push(
        `${state.name}: planned {${describeHolders(state.desired, label).join("; ")}} ` +
          `but found {${describeHolders(state.actual, label).join("; ")}}`,
      );
      continue;
    }
    const contract = new Contract(state.address, (await hre.deployments.get(state.name)).abi, hre.ethers.provider);
    for (const [role, holders] of state.desired) {
      for (const account of holders) {
        if (!(await contract.hasRole(roleHashOf(role), account))) {
          problems.push(`${state.name}: hasRole(${role}, ${label(account)}) is false`);
        }
      }
    }
    log(hre, `roles: ${state.name} verified: ${describeHolders(state.actual, label).join("; ")}`);
  }
  if (problems.length > 0) throw new Error(`roles: final state differs from the plan:\n  - ${problems.join("\n  - ")}`);
}
