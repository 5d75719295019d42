/**
 * The indexer's configuration, all from the environment:
 *
 * - `INDEXER_DEPLOYMENTS_DIR`: the hardhat-deploy record to follow (default `../deployments/localhost`).
 * - `INDEXER_RPC_URL`: the chain's JSON-RPC endpoint (default `http://127.0.0.1:8545`).
 * - `DATABASE_URL`: a PostgreSQL connection string selects PostgreSQL (production); without it the
 *   embedded PGlite stores everything under `INDEXER_PGLITE_DIR` (default `.ponder/pglite`).
 */
import path from "node:path";
import { createConfig, factory } from "ponder";
import { getAbiItem } from "viem";
import { CreditFacilityAbi } from "./abis/CreditFacility";
import { DemandResponseProgrammeAbi } from "./abis/DemandResponseProgramme";
import { GpuAssetNFTAbi } from "./abis/GpuAssetNFT";
import { RevenueSplitVaultAbi } from "./abis/RevenueSplitVault";
import { RevenueSplitVaultFactoryAbi } from "./abis/RevenueSplitVaultFactory";
import { SettlementEscrowAbi } from "./abis/SettlementEscrow";
import { UsageOracleAbi } from "./abis/UsageOracle";
import { loadSystem } from "./src/system";

const system = loadSystem(
  path.resolve(process.env.INDEXER_DEPLOYMENTS_DIR?.trim() || path.join("..", "deployments", "localhost")),
);
const databaseUrl = process.env.DATABASE_URL?.trim();

export default createConfig({
  database: databaseUrl
    ? { kind: "postgres", connectionString: databaseUrl }
    : { kind: "pglite", directory: process.env.INDEXER_PGLITE_DIR?.trim() || undefined },
  chains: {
    chain: {
      id: system.chainId,
      rpc: process.env.INDEXER_RPC_URL?.trim() || "http://127.0.0.1:8545",
      pollingInterval: Number(process.env.INDEXER_POLLING_MS ?? 500),
      // A local node restarts with the same chain id and other blocks: never trust a cached answer there.
      disableCache: system.chainId === 31337,
    },
  },
  contracts: {
    GpuAssetNFT: { chain: "chain", abi: GpuAssetNFTAbi, ...system.nft },
    UsageOracle: { chain: "chain", abi: UsageOracleAbi, ...system.oracle },
    SettlementEscrow: { chain: "chain", abi: SettlementEscrowAbi, ...system.escrow },
    RevenueSplitVaultFactory: { chain: "chain", abi: RevenueSplitVaultFactoryAbi, ...system.vaultFactory },
    RevenueSplitVault: {
      chain: "chain",
      abi: RevenueSplitVaultAbi,
      address: factory({
        address: system.vaultFactory.address,
        event: getAbiItem({ abi: RevenueSplitVaultFactoryAbi, name: "VaultCreated" }),
        parameter: "vault",
      }),
      startBlock: system.vaultFactory.startBlock,
    },
    CreditFacility: { chain: "chain", abi: CreditFacilityAbi, ...system.creditFacility },
    DemandResponseProgramme: { chain: "chain", abi: DemandResponseProgrammeAbi, ...system.demandResponse },
  },
});
