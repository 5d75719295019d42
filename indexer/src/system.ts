/**
 * Where the indexer's contracts are: read from a hardhat-deploy record, `deployments/<network>/`
 * (`.chainId` and one `<Name>.json` per contract, with its address and deployment receipt). The same
 * record every other tool of the project reads; nothing is configured twice.
 */
import fs from "node:fs";
import path from "node:path";

/** One contract of the record: its address and the block to start scanning at (its deployment). */
export interface Deployed {
  address: `0x${string}`;
  startBlock: number;
}

/** The deployed system the indexer follows. */
export interface IndexedSystem {
  network: string;
  chainId: number;
  nft: Deployed;
  oracle: Deployed;
  escrow: Deployed;
  vaultFactory: Deployed;
  creditFacility: Deployed;
  demandResponse: Deployed;
}

const NAMES = {
  nft: "GpuAssetNFT",
  oracle: "UsageOracle",
  escrow: "SettlementEscrow",
  vaultFactory: "RevenueSplitVaultFactory",
  creditFacility: "CreditFacility",
  demandResponse: "DemandResponseProgramme",
} as const;

/**
 * Reads `dir` (a `deployments/<network>/` folder).
 * @throws naming the file that is missing or malformed.
 */
export function loadSystem(dir: string): IndexedSystem {
  const chainIdFile = path.join(dir, ".chainId");
  if (!fs.existsSync(chainIdFile)) {
    throw new Error(`${chainIdFile} is missing: deploy first (npx hardhat deploy --network <network>)`);
  }
  const chainId = Number(fs.readFileSync(chainIdFile, "utf8").trim());
  const read = (name: string): Deployed => {
    const file = path.join(dir, `${name}.json`);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: an incomplete deploy?`);
    const record = JSON.parse(fs.readFileSync(file, "utf8")) as {
      address?: string;
      receipt?: { blockNumber?: number };
    };
    if (!record.address || !/^0x[0-9a-fA-F]{40}$/.test(record.address)) throw new Error(`${file} has no address`);
    return { address: record.address as `0x${string}`, startBlock: record.receipt?.blockNumber ?? 0 };
  };
  return {
    network: path.basename(path.resolve(dir)),
    chainId,
    nft: read(NAMES.nft),
    oracle: read(NAMES.oracle),
    escrow: read(NAMES.escrow),
    vaultFactory: read(NAMES.vaultFactory),
    creditFacility: read(NAMES.creditFacility),
    demandResponse: read(NAMES.demandResponse),
  };
}
