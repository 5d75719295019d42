/**
 * What co-signers need from the oracle's batch format (UsageOracle v2, see /work/coord/STATUS.md
 * and docs/feeder.md): a batch is `(configVersion, batchIndex, timestamp, readings)`, its readings
 * are 28-byte packed leaves, and signers sign the EIP-712 digest of
 * `UsageBatch(configVersion, batchIndex, timestamp, readingsRoot)`. The feeder never defines that
 * encoding itself: the composition root hands it the shared `src/eip712.ts` functions through this
 * interface, so co-signers sign exactly what the oracle verifies.
 */
import type { TypedDataDomain } from "ethers";

/** One reading of the v2 batch format; all counters cumulative, in DESIGN.md units. */
export interface BatchReading {
  /** uint32. */
  assetId: bigint;
  /** Index of the batch holding this asset's previous reading; 0 for its first. */
  previousBatch: number;
  /** uint48 GPU-seconds. */
  busyGpuSeconds: bigint;
  /** uint48 GPU-seconds. */
  availableGpuSeconds: bigint;
  /** uint64 joules. */
  energyJ: bigint;
}

/** A batch as signed and submitted (readings by strictly ascending asset id). */
export interface Batch {
  configVersion: bigint;
  batchIndex: number;
  /** Unix seconds; every reading of the batch is a meter at this time. */
  timestamp: number;
  readings: BatchReading[];
}

/** The shared encoding (implemented by `src/eip712.ts`). */
export interface BatchCodec {
  /** Concatenated 28-byte leaves, as `submit` takes them and `BatchAccepted` logs them. */
  encodeReadings(readings: readonly BatchReading[]): string;
  decodeReadings(data: string): BatchReading[];
  /** The Merkle root the oracle rebuilds from the leaves. */
  readingsRoot(readings: readonly BatchReading[]): string;
  /** The EIP-712 digest of `UsageBatch(configVersion, batchIndex, timestamp, readingsRoot)`. */
  batchDigest(domain: TypedDataDomain, batch: Batch): string;
}

/** Largest values the packed leaf can hold. */
export const LIMITS = {
  assetId: (1n << 32n) - 1n,
  batchIndex: 2 ** 32 - 1,
  gpuSeconds: (1n << 48n) - 1n,
  energyJ: (1n << 64n) - 1n,
} as const;
