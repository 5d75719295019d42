/**
 * compute-rwa — the integrator entry point for ethers v6. `connect(runner)` returns every
 * contract of a deployed system as its TypeChain instance, at the addresses recorded for the
 * runner's chain, after checking the chain. Also exported: the TypeChain typings and factories,
 * the deployments loader, the client-free core (types, enums, `leaseIdFromReceipt`), and the shared
 * EIP-712 and units modules. viem users import `compute-rwa/viem` instead (no ethers needed).
 */
import type { ContractRunner, Provider } from "ethers";
// Deep imports (not the typechain-types index) so the package ships only the system's typings.
import { GpuAssetNFT__factory } from "../typechain-types/factories/contracts/GpuAssetNFT__factory";
import { UsageOracle__factory } from "../typechain-types/factories/contracts/UsageOracle__factory";
import { SettlementEscrow__factory } from "../typechain-types/factories/contracts/SettlementEscrow__factory";
import { RevenueSplitVaultFactory__factory } from "../typechain-types/factories/contracts/RevenueSplitVaultFactory__factory";
import { RevenueSplitVault__factory } from "../typechain-types/factories/contracts/RevenueSplitVault__factory";
import { CreditFacility__factory } from "../typechain-types/factories/contracts/credit/CreditFacility__factory";
import { DemandResponseProgramme__factory } from "../typechain-types/factories/contracts/DemandResponseProgramme__factory";
import { IERC20Metadata__factory } from "../typechain-types/factories/@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata__factory";
import type { GpuAssetNFT } from "../typechain-types/contracts/GpuAssetNFT";
import type { UsageOracle } from "../typechain-types/contracts/UsageOracle";
import type { SettlementEscrow } from "../typechain-types/contracts/SettlementEscrow";
import type { RevenueSplitVaultFactory } from "../typechain-types/contracts/RevenueSplitVaultFactory";
import type { RevenueSplitVault } from "../typechain-types/contracts/RevenueSplitVault";
import type { CreditFacility } from "../typechain-types/contracts/credit/CreditFacility";
import type { DemandResponseProgramme } from "../typechain-types/contracts/DemandResponseProgramme";
import type { IERC20Metadata } from "../typechain-types/@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata";
import { assertChain, type Address, type SystemAddresses } from "./core";
import { packagedDeploymentsDir, systemAddresses } from "./deployments";

export * from "./core";
export * from "./deployments";
// The shared modules (owned with the oracle): EIP-712 domain, types, signing; units and conversions.
export * from "./eip712";
export * from "./meterHistory";
// Lease helpers: open with approve or permit, proofs from chain data, charge preview, settle or close.
export * from "./leases";
export * from "./units";
// Demand response and energy (issue 17): the programme's rules and proofs, efficiency figures.
export * from "./demandResponse";
export * from "./energy";
export {
  CreditFacility__factory,
  DemandResponseProgramme__factory,
  GpuAssetNFT__factory,
  IERC20Metadata__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
  SettlementEscrow__factory,
  UsageOracle__factory,
};
export type {
  CreditFacility,
  DemandResponseProgramme,
  GpuAssetNFT,
  IERC20Metadata,
  RevenueSplitVault,
  RevenueSplitVaultFactory,
  SettlementEscrow,
  UsageOracle,
};
export type { TypedContractEventPayload, TypedListener } from "../typechain-types/common";

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
  vault: (address: Address) => RevenueSplitVault;
  /** Loans against pledged assets (docs/credit.md); absent from records deployed before it. */
  creditFacility?: CreditFacility;
  /** Grid demand-response programmes (docs/energy.md); absent from records deployed before it. */
  demandResponse?: DemandResponseProgramme;
}

export interface ConnectOptions {
  /**
   * The recorded network to use, by name or chain id; default: the runner's chain. Either way the
   * runner must be on the record's chain (ChainMismatchError otherwise).
   */
  network?: string | number | bigint;
  /**
   * A `deployments/` folder to read instead of the one shipped with the package: a local node's
   * record (`<project>/deployments`), or a fork's.
   */
  deploymentsDir?: string;
  /** Explicit addresses; when given, no record is read (the chain is still checked). */
  addresses?: SystemAddresses;
}

/**
 * Connects to a deployed system on the runner's chain.
 * @param runner A signer (to send transactions) or a provider (read-only); a signer needs a provider.
 * @throws when nothing is recorded for the chain (the message lists what is), or ChainMismatchError.
 */
export async function connect(runner: ContractRunner, options: ConnectOptions = {}): Promise<ComputeRwa> {
  const provider: Provider | null =
    runner.provider ?? ("getNetwork" in runner ? (runner as unknown as Provider) : null);
  if (!provider) throw new Error("connect: the runner has no provider (connect the signer to a provider first)");
  const { chainId } = await provider.getNetwork();
  const addresses =
    options.addresses ??
    systemAddresses(options.network ?? chainId, options.deploymentsDir ?? packagedDeploymentsDir());
  assertChain(addresses, chainId);
  return {
    addresses,
    nft: GpuAssetNFT__factory.connect(addresses.nft, runner),
    oracle: UsageOracle__factory.connect(addresses.oracle, runner),
    escrow: SettlementEscrow__factory.connect(addresses.escrow, runner),
    vaultFactory: RevenueSplitVaultFactory__factory.connect(addresses.vaultFactory, runner),
    stablecoin: IERC20Metadata__factory.connect(addresses.stablecoin, runner),
    vault: (address: Address) => RevenueSplitVault__factory.connect(address, runner),
    ...(addresses.creditFacility
      ? { creditFacility: CreditFacility__factory.connect(addresses.creditFacility, runner) }
      : {}),
    ...(addresses.demandResponse
      ? { demandResponse: DemandResponseProgramme__factory.connect(addresses.demandResponse, runner) }
      : {}),
  };
}
