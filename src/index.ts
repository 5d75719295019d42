/**
 * compute-rwa — the integrator entry point. `connect(chainIdOrNetwork, signerOrProvider)` returns
 * every contract of a deployed system as its TypeChain instance, at the addresses recorded in
 * `deployments/<network>/`. Also exported: the TypeChain typings and factories of the system,
 * the deployments loader, and the shared EIP-712 and units modules (one source of truth for
 * contracts, feeder and integrators).
 */
import type { ContractRunner } from "ethers";
import {
  GpuAssetNFT__factory,
  IERC20Metadata__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
  SettlementEscrow__factory,
  UsageOracle__factory,
  type GpuAssetNFT,
  type IERC20Metadata,
  type RevenueSplitVault,
  type RevenueSplitVaultFactory,
  type SettlementEscrow,
  type UsageOracle,
} from "../typechain-types";
import { packagedDeploymentsDir, systemAddresses, type SystemAddresses } from "./deployments";

export * from "./deployments";
export {
  GpuAssetNFT__factory,
  IERC20Metadata__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
  SettlementEscrow__factory,
  UsageOracle__factory,
};
export type { GpuAssetNFT, IERC20Metadata, RevenueSplitVault, RevenueSplitVaultFactory, SettlementEscrow, UsageOracle };

/** A deployed system, connected. */
export interface ComputeRwa {
  /** Where every contract lives (and the chain id and network name they were recorded under). */
  addresses: SystemAddresses;
  nft: GpuAssetNFT;
  oracle: UsageOracle;
  escrow: SettlementEscrow;
  vaultFactory: RevenueSplitVaultFactory;
  /** The lease stablecoin allowlisted at deploy (6-decimal USDC-like). */
  stablecoin: IERC20Metadata;
  /** A revenue-split vault (one per asset, created by `vaultFactory.createVault`). */
  vault: (address: string) => RevenueSplitVault;
}

export interface ConnectOptions {
  /**
   * A `deployments/` folder to read instead of the one shipped with the package: a local node's
   * record (`<project>/deployments`), or a fork's.
   */
  deploymentsDir?: string;
  /** Explicit addresses; when given, no record is read. */
  addresses?: SystemAddresses;
}

/**
 * Connects to a deployed system.
 * @param chainIdOrNetwork A chain id (e.g. 11155111) or a network name (e.g. "sepolia", "localhost").
 * @param runner A signer (to send transactions) or a provider (read-only).
 * @param options Where to read the record from, or the addresses themselves.
 * @throws when nothing is recorded for the network (the message lists what is).
 */
export function connect(
  chainIdOrNetwork: number | bigint | string,
  runner: ContractRunner,
  options: ConnectOptions = {},
): ComputeRwa {
  const addresses =
    options.addresses ?? systemAddresses(chainIdOrNetwork, options.deploymentsDir ?? packagedDeploymentsDir());
  return {
    addresses,
    nft: GpuAssetNFT__factory.connect(addresses.nft, runner),
    oracle: UsageOracle__factory.connect(addresses.oracle, runner),
    escrow: SettlementEscrow__factory.connect(addresses.escrow, runner),
    vaultFactory: RevenueSplitVaultFactory__factory.connect(addresses.vaultFactory, runner),
    stablecoin: IERC20Metadata__factory.connect(addresses.stablecoin, runner),
    vault: (address: string) => RevenueSplitVault__factory.connect(address, runner),
  };
}
