/**
 * The feeder's key as a `BatchSigner`: the EIP-712 domain, types and digest are the shared
 * `src/eip712.ts` (nothing is redefined here). Signing is synchronous over the digest: one
 * secp256k1 signature per batch.
 */
import type { Wallet } from "ethers";
import { makeBatch, oracleDomain, signBatchWithKey } from "../src/eip712";
import type { BatchSigner } from "./payload";
import type { OracleReading } from "./types";

export function makeBatchSigner(wallet: Wallet, chainId: bigint, oracle: string): BatchSigner {
  const domain = oracleDomain(chainId, oracle);
  return {
    address: wallet.address,
    async signBatch(configVersion: bigint, readings: readonly OracleReading[]): Promise<string> {
      return signBatchWithKey(wallet.signingKey, domain, makeBatch(configVersion, readings));
    },
  };
}
