import type { BaseContract } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

/** What the access table's argument builders see: the deployed system and its actors. */
export interface AccessContext {
  /** Holds every role of every contract (the constructor admin). */
  admin: HardhatEthersSigner;
  /** Owns things in the fixture: assets, leases, vault shares, balances. */
  holder: HardhatEthersSigner;
  /** A fresh account with no role, no token, no lease, no approval: the caller of every check. */
  attacker: HardhatEthersSigner;
  /** Every deployed contract under test, by contract name. */
  contracts: Record<string, BaseContract>;
  /** Named values the fixture created (asset ids, lease ids, tokens…). */
  values: Record<string, unknown>;
  /** Why a contract could not be deployed (generic deployment of a contract the fixture does not know). */
  deployErrors: Record<string, string>;
}
