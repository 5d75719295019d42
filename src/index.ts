/**
 * compute-rwa — the integrator entry point. `connect(chainIdOrNetwork, signerOrProvider)` returns
 * every contract of a deployed system as its TypeChain instance, at the addresses recorded in
 * `deployments/<network>/`. Also exported: the TypeChain typings and factories of the system,
 * the deployments loader, and the shared EIP-712 and units modules (one source of truth for
 * contracts, feeder and integrators).
 */
import type { ContractRunner } from "ethers";
// Deep imports (not the typechain-types index) so the package ships only the system's typings.
import { GpuAssetNFT__factory } from "../typechain-types/factories/contracts/GpuAssetNFT__factory";
import { UsageOracle__factory } from "../typechain-types/factories/contracts/UsageOracle__factory";
import { SettlementEscrow__factory } from "../typechain-types/factories/contracts/SettlementEscrow__factory";
import { RevenueSplitVaultFactory__factory } from "../typechain-types/factories/contracts/RevenueSplitVaultFactory__factory";
import { RevenueSplitVault__factory } from "../typechain-types/factories/contracts/RevenueSplitVault__factory";
import { IERC20Metadata__factory } from "../typechain-types/factories/@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata__factory";
import type { GpuAssetNFT } from "../typechain-types/contracts/GpuAssetNFT";
import type { UsageOracle } from "../typechain-types/contracts/UsageOracle";
import type { SettlementEscrow } from "../typechain-types/contracts/SettlementEscrow";
import type { RevenueSplitVaultFactory } from "../typechain-types/contracts/RevenueSplitVaultFactory";
import type { RevenueSplitVault } from "../typechain-types/contracts/RevenueSplitVault";
import type { IERC20Metadata } from "../typechain-types/@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata";
import { packagedDeploymentsDir, systemAddresses, type SystemAddresses } from "./deployments";

export * from "./deployments";
// The shared modules (owned with the oracle): EIP-712 domain, types, signing; units and conversions.
export * from "./eip712";
export * from "./meterHistory";
export * from "./units";
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
