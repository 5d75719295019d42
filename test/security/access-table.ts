/**
 * The reviewed access table: every state-changing function of every deployable, non-mock contract
 * in `contracts/` appears here exactly once, either as RESTRICTED (an account without any role must be
 * refused with the stated error) or as PERMISSIONLESS (anyone may call it, with the reason why that
 * is safe). test/security/access-control.test.ts fails for any function on neither list, on both, and
 * for any entry that no longer matches a function.
 *
 * Keys: `Contract.name` (or `Contract.signature` for overloaded names); `*.name` covers a function
 * inherited by several contracts (AccessControl, ERC-721, ERC-20).
 *
 * Adding a function to a contract? Add it here in the same change, and think about which list it is on.
 */
import type { AccessContext } from "./access-context";

type Args = (ctx: AccessContext) => unknown[] | Promise<unknown[]>;

export interface RestrictedEntry {
  /** Who may call it, in a few words (documentation for reviewers). */
  who: string;
  /**
   * The AccessControl role getter (e.g. `REGISTRAR_ROLE`, `DEFAULT_ADMIN_ROLE`): the call must revert
   * `AccessControlUnauthorizedAccount(attacker, role)`.
   */
  role?: string;
  /** Otherwise the custom error the call must revert with… */
  error?: string;
  /** …and its arguments (required when the error has any). */
  errorArgs?: Args;
  /** The contract whose ABI declares `error`, when it bubbles up from a callee. */
  errorFrom?: string;
  /** Call arguments; by default generated from the ABI (addresses = the fixture's holder, numbers = 1). */
  args?: Args;
}

export interface PermissionlessEntry {
  /** Why anyone may call it: one line. */
  reason: string;
}

export const RESTRICTED: Record<string, RestrictedEntry> = {};

export const PERMISSIONLESS: Record<string, PermissionlessEntry> = {};
