/**
 * compute-rwa/viem — the system for viem users: every contract as a viem contract instance
 * (`getContract` over the package's `as const` ABIs, so arguments, results and events are inferred),
 * at the addresses recorded for the client's chain, after checking the chain. Needs viem only.
 */
// Type-only in the emitted declarations: viem ships ESM typings, which a CommonJS declaration may
// reference only as types.
import type { Account, Chain, GetContractReturnType, PublicClient, Transport, WalletClient } from "viem" with {
  "resolution-mode": "import",
};
import { getContract } from "viem";
import {
  creditFacilityAbi,
  demandResponseProgrammeAbi,
  erc20MetadataAbi,
  gpuAssetNftAbi,
  revenueSplitVaultAbi,
  revenueSplitVaultFactoryAbi,
  settlementEscrowAbi,
  usageOracleAbi,
} from "../abi";
import { assertChain, type Address, type SystemAddresses } from "../core";
import { packagedDeploymentsDir, systemAddresses } from "../deployments";

export * from "../abi";
export * from "../core";
export {
  loadDeployments,
  OPTIONAL_CONTRACTS,
  recordedNetworks,
  resolveNetwork,
  systemAddresses,
  SYSTEM_CONTRACTS,
} from "../deployments";

/** The clients a system is read with (public) and written with (wallet, optional). */
export type ViemClients = {
  public: PublicClient<Transport, Chain | undefined>;
  wallet?: WalletClient<Transport, Chain | undefined, Account | undefined>;
};

export interface ConnectOptions {
  /** The recorded network to use, by name or chain id; default: the client's chain. */
  network?: string | number | bigint;
  /** A `deployments/` folder to read instead of the one shipped with the package. */
  deploymentsDir?: string;
  /** Explicit addresses; when given, no record is read (the chain is still checked). */
  addresses?: SystemAddresses;
}

/** The system's contracts as viem contract instances, typed from the `as const` ABIs. */
export interface SystemContracts<C extends ViemClients> {
  addresses: SystemAddresses;
  nft: GetContractReturnType<typeof gpuAssetNftAbi, C, Address>;
  oracle: GetContractReturnType<typeof usageOracleAbi, C, Address>;
  escrow: GetContractReturnType<typeof settlementEscrowAbi, C, Address>;
  vaultFactory: GetContractReturnType<typeof revenueSplitVaultFactoryAbi, C, Address>;
  stablecoin: GetContractReturnType<typeof erc20MetadataAbi, C, Address>;
  /** A revenue-split vault (one per asset, created by `vaultFactory.write.createVault`). */
  vault: (address: Address) => GetContractReturnType<typeof revenueSplitVaultAbi, C, Address>;
  /** Loans against pledged assets (docs/credit.md); absent from records deployed before it. */
  creditFacility?: GetContractReturnType<typeof creditFacilityAbi, C, Address>;
  /** Grid demand-response programmes (docs/energy.md); absent from records deployed before it. */
  demandResponse?: GetContractReturnType<typeof demandResponseProgrammeAbi, C, Address>;
}

/** The system's contracts over viem clients, at known addresses (no chain check). */
export function systemContracts<C extends ViemClients>(addresses: SystemAddresses, client: C): SystemContracts<C> {
  return {
    addresses,
    nft: getContract({ address: addresses.nft, abi: gpuAssetNftAbi, client }),
    oracle: getContract({ address: addresses.oracle, abi: usageOracleAbi, client }),
    escrow: getContract({ address: addresses.escrow, abi: settlementEscrowAbi, client }),
    vaultFactory: getContract({ address: addresses.vaultFactory, abi: revenueSplitVaultFactoryAbi, client }),
    stablecoin: getContract({ address: addresses.stablecoin, abi: erc20MetadataAbi, client }),
    vault: (address: Address) => getContract({ address, abi: revenueSplitVaultAbi, client }),
    ...(addresses.creditFacility
      ? { creditFacility: getContract({ address: addresses.creditFacility, abi: creditFacilityAbi, client }) }
      : {}),
    ...(addresses.demandResponse
      ? { demandResponse: getContract({ address: addresses.demandResponse, abi: demandResponseProgrammeAbi, client }) }
      : {}),
  } as SystemContracts<C>;
}

/**
 * Connects to a deployed system on the public client's chain.
 * @throws when nothing is recorded for the chain (listing what is), or ChainMismatchError (also
 * when the wallet client is on another chain).
 */
export async function connect<C extends ViemClients>(
  clients: C,
  options: ConnectOptions = {},
): Promise<SystemContracts<C>> {
  const chainId = await clients.public.getChainId();
  const addresses =
    options.addresses ??
    systemAddresses(options.network ?? chainId, options.deploymentsDir ?? packagedDeploymentsDir());
  assertChain(addresses, chainId);
  if (clients.wallet) assertChain(addresses, await clients.wallet.getChainId());
  return systemContracts(addresses, clients);
}
