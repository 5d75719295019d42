/**
 * Role state and the hand-over. The actual holders of every role are rebuilt from the contract's
 * own `RoleGranted` / `RoleRevoked` events since its deployment block, so the check is exact: an
 * account the plan does not name cannot hold a role unnoticed.
 */
import { Contract, Interface, ZeroHash, getAddress, id, type Provider } from "ethers";
import { DEFAULT_ADMIN_ROLE } from "./system";

const ACCESS_EVENTS = new Interface([
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
]);
const GRANTED = ACCESS_EVENTS.getEvent("RoleGranted")!.topicHash;
const REVOKED = ACCESS_EVENTS.getEvent("RoleRevoked")!.topicHash;

/** Role name → holders (checksummed), as sets. */
export type RoleHolders = Map<string, Set<string>>;

/** The hash OpenZeppelin AccessControl uses for a role constant: keccak256 of its name; 0x00 for the admin. */
export function roleHashOf(roleName: string): string {
  return roleName === DEFAULT_ADMIN_ROLE ? ZeroHash : id(roleName);
}

/**
 * Reads each role's hash from the contract's own getter and checks it matches the name, so a plan
 * that names a role the contract does not have fails loudly instead of granting a meaningless hash.
 */
export async function checkRoleGetters(contractName: string, contract: Contract, roleNames: string[]): Promise<void> {
  for (const roleName of roleNames) {
    let onChain: string;
    try {
      onChain = await contract.getFunction(roleName).staticCall();
    } catch (e) {
      throw new Error(`${contractName} has no ${roleName}() getter: the role plan and the contract disagree (${e})`);
    }
    if (onChain !== roleHashOf(roleName)) {
      throw new Error(`${contractName}.${roleName}() is ${onChain}, expected ${roleHashOf(roleName)}`);
    }
  }
}

/**
 * Every current role holder of an AccessControl contract, by role hash, rebuilt from its events.
 * @param fromBlock The contract's deployment block.
 */
export async function holdersFromEvents(
  provider: Provider,
  address: string,
  fromBlock: number,
  chunk = 9_000,
): Promise<Map<string, Set<string>>> {
  const latest = await provider.getBlockNumber();
  const byHash = new Map<string, Set<string>>();
  for (let start = fromBlock; start <= latest; start += chunk) {
    const end = Math.min(latest, start + chunk - 1);
    const logs = await provider.getLogs({ address, fromBlock: start, toBlock: end, topics: [[GRANTED, REVOKED]] });
    for (const entry of logs) {
      const role = entry.topics[1];
      const account = getAddress(`0x${entry.topics[2].slice(26)}`);
      const set = byHash.get(role) ?? new Set<string>();
      if (entry.topics[0] === GRANTED) set.add(account);
      else set.delete(account);
      byHash.set(role, set);
    }
  }
  for (const [role, set] of byHash) if (set.size === 0) byHash.delete(role);
  return byHash;
}

/** Names the hashes of a holders-by-hash map; hashes the plan does not know keep their hex form. */
export function nameRoles(byHash: Map<string, Set<string>>, knownNames: string[]): RoleHolders {
  const names = new Map(knownNames.map((n) => [roleHashOf(n), n]));
  const out: RoleHolders = new Map();
  for (const [hash, set] of byHash) out.set(names.get(hash) ?? hash, new Set(set));
  return out;
}

export function desiredHolders(desired: Record<string, string[]>): RoleHolders {
  return new Map(Object.entries(desired).map(([role, holders]) => [role, new Set(holders.map((h) => getAddress(h)))]));
}

export type RoleAction =
  | { kind: "grant"; role: string; account: string }
  | { kind: "revoke"; role: string; account: string }
  | { kind: "renounce"; role: string; account: string };

/**
 * The calls that take `actual` to `desired`, in a safe order: every grant first (the new admin
 * before anything is given up), then revocations of accounts the plan does not name, then the
 * deployer renounces its own extra roles, its admin role last. Pure: tested without a chain.
 */
export function planRoleActions(desired: RoleHolders, actual: RoleHolders, deployer: string): RoleAction[] {
  const grants: RoleAction[] = [];
  const revokes: RoleAction[] = [];
  const renounces: RoleAction[] = [];
  const adminLast = (a: RoleAction, b: RoleAction) =>
    Number(a.role === DEFAULT_ADMIN_ROLE) - Number(b.role === DEFAULT_ADMIN_ROLE);
  for (const [role, holders] of desired) {
    for (const account of holders) {
      if (!actual.get(role)?.has(account)) grants.push({ kind: "grant", role, account });
    }
  }
  for (const [role, holders] of actual) {
    for (const account of holders) {
      if (desired.get(role)?.has(account)) continue;
      if (account === deployer) renounces.push({ kind: "renounce", role, account });
      else revokes.push({ kind: "revoke", role, account });
    }
  }
  grants.sort(adminLast);
  revokes.sort(adminLast);
  renounces.sort(adminLast);
  return [...grants, ...revokes, ...renounces];
}

/** Whether two role maps name exactly the same holders for exactly the same roles. */
export function sameHolders(a: RoleHolders, b: RoleHolders): boolean {
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) {
    const x = a.get(k) ?? new Set();
    const y = b.get(k) ?? new Set();
    if (x.size !== y.size || [...x].some((v) => !y.has(v))) return false;
  }
  return true;
}

export function describeHolders(holders: RoleHolders, label: (a: string) => string): string[] {
  return [...holders.entries()]
    .sort(([a], [b]) => (a === DEFAULT_ADMIN_ROLE ? -1 : b === DEFAULT_ADMIN_ROLE ? 1 : a.localeCompare(b)))
    .map(([role, set]) => `${role}: ${[...set].map(label).join(", ") || "(nobody)"}`);
}

export function describeAction(a: RoleAction, contract: string, label: (a: string) => string): string {
  switch (a.kind) {
    case "grant":
      return `${contract}.grantRole(${a.role}, ${label(a.account)})`;
    case "revoke":
      return `${contract}.revokeRole(${a.role}, ${label(a.account)})`;
    case "renounce":
      return `${contract}.renounceRole(${a.role}, ${label(a.account)})`;
  }
}
