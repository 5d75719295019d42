/**
 * compute-rwa/core — what every client layer shares, importing neither ethers nor viem: address
 * and id types, the contracts' enums, the chains the package knows, and the chain check `connect`
 * runs. The ethers layer (`compute-rwa`) and the viem layer (`compute-rwa/viem`) only fetch and send.
 */
import { SETTLEMENT_ESCROW_TOPICS } from "../abi/topics";

/** An EVM address as viem types it (and as the record ships it: EIP-55 checksummed). */
export type Address = `0x${string}`;
/** 32-byte hex (hashes, role ids). */
export type Hex = `0x${string}`;

/** `GpuAssetNFT.statusOf(assetId)` (contracts/types/GpuAssetTypes.sol `AssetStatus`). */
export enum AssetStatus {
  Active = 0,
  Maintenance = 1,
  Retired = 2,
}

/** Why a lease ended, in `LeaseClosed` (contracts/types/EscrowTypes.sol `EndReason`). */
export enum EndReason {
  None = 0,
  /** Closed at or after its end time (anyone). */
  Expired = 1,
  /** Ended early by the lessee, as the terms allow. */
  EndedByLessee = 2,
  /** Terminated by the provider (the NFT owner or its approved operator); the leftover is refunded. */
  TerminatedByProvider = 3,
  /** Closed because the deposit could not cover the next hour of full use. */
  InsufficientFunds = 4,
}

/** Chain ids of the networks the package knows by name. */
export const KNOWN_CHAINS: Record<string, number> = {
  hardhat: 31337,
  localhost: 31337,
  sepolia: 11155111,
  baseSepolia: 84532,
  arbitrumSepolia: 421614,
};

/** The addresses of one deployed system. */
export interface SystemAddresses {
  chainId: number;
  network: string;
  nft: Address;
  oracle: Address;
  escrow: Address;
  vaultFactory: Address;
  /** The stablecoin the escrow was allowlisted for at deploy (MockUSDC on local networks). */
  stablecoin: Address;
  /** CreditFacility (loans against pledged assets), when the record has it. */
  creditFacility?: Address;
  /** DemandResponseProgramme (grid programmes, curtailable leases), when the record has it. */
  demandResponse?: Address;
}

/** `connect` was given a client on another chain than the system's record. */
export class ChainMismatchError extends Error {
  constructor(
    readonly expectedChainId: number,
    readonly actualChainId: number,
    readonly network: string,
  ) {
    super(
      `the provider is on chain ${actualChainId}, but the ${network} system is recorded on chain ${expectedChainId}: ` +
        `connect a provider for ${network}, or pass that chain's addresses`,
    );
    this.name = "ChainMismatchError";
  }
}

/** Throws ChainMismatchError unless the client's chain is the record's. */
export function assertChain(addresses: SystemAddresses, actualChainId: number | bigint): void {
  if (Number(actualChainId) !== addresses.chainId) {
    throw new ChainMismatchError(addresses.chainId, Number(actualChainId), addresses.network);
  }
}

/** True for a 0x-prefixed 20-byte hex string (checksum not verified here: no hashing in core). */
export function isAddressLike(value: unknown): value is Address {
  return typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value);
}

/** A log as both ethers and viem receipts carry it. */
export interface LogLike {
  address: string;
  topics: readonly string[];
}

/**
 * The lease id a `openLease` / `openLeaseWithPermit` receipt opened (from its `LeaseOpened` log,
 * whose first indexed field is the id). Accepts an ethers `TransactionReceipt` or a viem one.
 * @param escrow When given, only logs of this escrow count.
 * @throws when the receipt has no LeaseOpened log.
 */
export function leaseIdFromReceipt(receipt: { logs: readonly LogLike[] }, escrow?: string): bigint {
  for (const log of receipt.logs) {
    if (escrow && log.address.toLowerCase() !== escrow.toLowerCase()) continue;
    if (log.topics[0] === SETTLEMENT_ESCROW_TOPICS.LeaseOpened && log.topics[1]) return BigInt(log.topics[1]);
  }
  throw new Error("the receipt has no LeaseOpened event (not an openLease transaction, or it reverted)");
}
export * from "./billing";
