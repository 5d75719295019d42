/**
 * The attack surface of a contract, read from its ABI: every function that is not `view` or `pure`,
 * and its classification against the reviewed access table (test/security/access-table.ts).
 *
 * Pure functions only (no chain): the access-control test uses them on the compiled artifacts, and
 * their own tests feed them synthetic ABIs to show that an unlisted function is reported.
 */
import { FunctionFragment, Interface, ParamType, type InterfaceAbi } from "ethers";

/** A state-changing function of one contract. */
export interface SurfaceFunction {
  contract: string;
  /** Function name, e.g. `mint`. */
  name: string;
  /** Canonical signature, e.g. `safeTransferFrom(address,address,uint256)`. */
  signature: string;
  /** Whether another function of the same contract has the same name. */
  overloaded: boolean;
  fragment: FunctionFragment;
}

/** Every non-view, non-pure function of an ABI, in ABI order. */
export function stateChangingFunctions(contract: string, abi: InterfaceAbi): SurfaceFunction[] {
  const iface = Interface.from(abi);
  const functions: FunctionFragment[] = [];
  iface.forEachFunction((fragment) => {
    if (fragment.stateMutability !== "view" && fragment.stateMutability !== "pure") functions.push(fragment);
  });
  const byName = new Map<string, number>();
  for (const f of functions) byName.set(f.name, (byName.get(f.name) ?? 0) + 1);
  return functions.map((fragment) => ({
    contract,
    name: fragment.name,
    signature: fragment.format("sighash"),
    overloaded: (byName.get(fragment.name) ?? 0) > 1,
    fragment,
  }));
}

/**
 * The keys under which a function may be listed, most specific first:
 * `Contract.signature`, `Contract.name` (only when not overloaded), `*.signature`, `*.name`.
 * `*` entries describe functions inherited by many contracts (AccessControl, ERC-721, ERC-20).
 */
export function lookupKeys(f: SurfaceFunction): string[] {
  const keys = [`${f.contract}.${f.signature}`];
  if (!f.overloaded) keys.push(`${f.contract}.${f.name}`);
  keys.push(`*.${f.signature}`);
  if (!f.overloaded) keys.push(`*.${f.name}`);
  return keys;
}

export type Classification<R, P> =
  | { kind: "restricted"; key: string; entry: R }
  | { kind: "permissionless"; key: string; entry: P }
  | { kind: "unlisted" }
  | { kind: "listed twice"; keys: string[] };

/** Finds the function in exactly one of the two lists; anything else is a finding. */
export function classify<R, P>(
  f: SurfaceFunction,
  restricted: Record<string, R>,
  permissionless: Record<string, P>,
): Classification<R, P> {
  const keys = lookupKeys(f);
  const r = keys.find((k) => k in restricted);
  const p = keys.find((k) => k in permissionless);
  if (r !== undefined && p !== undefined) return { kind: "listed twice", keys: [r, p] };
  if (r !== undefined) return { kind: "restricted", key: r, entry: restricted[r] };
  if (p !== undefined) return { kind: "permissionless", key: p, entry: permissionless[p] };
  return { kind: "unlisted" };
}

/**
 * Table keys that match no function of any surveyed contract: a renamed or removed function must
 * leave the reviewed lists too, or the lists stop meaning anything. `*` keys are stale only when no
 * contract at all has the function.
 */
export function staleKeys(keys: string[], surface: SurfaceFunction[]): string[] {
  const live = new Set(surface.flatMap(lookupKeys));
  return keys.filter((k) => !live.has(k));
}

/**
 * A plausible argument for a parameter, used when a table entry gives none: the call must get past
 * input decoding and reach the access check. Addresses are `holder` (the account that owns things in
 * the fixture), integers are 1 (the first asset, lease, etc.), everything else is a minimal value.
 */
export function defaultArgument(param: ParamType, holder: string): unknown {
  if (param.isArray()) {
    const length = param.arrayLength >= 0 ? param.arrayLength : 1;
    return Array.from({ length }, () => defaultArgument(param.arrayChildren, holder));
  }
  if (param.isTuple()) return param.components.map((c) => defaultArgument(c, holder));
  const t = param.baseType;
  if (t === "address") return holder;
  if (t === "bool") return true;
  if (t === "string") return "x";
  if (t === "bytes") return "0x";
  if (t.startsWith("bytes")) return `0x${"00".repeat(Number(t.slice(5)))}`;
  if (t.startsWith("uint") || t.startsWith("int")) return 1n;
  throw new Error(`no default argument for type ${param.type}`);
}

export function defaultArguments(fragment: { inputs: readonly ParamType[] }, holder: string): unknown[] {
  return fragment.inputs.map((p) => defaultArgument(p, holder));
}
