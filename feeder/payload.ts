/**
 * Payload building (pure apart from the injected signer): readings sorted by asset id, the
 * signer-set version, the signatures, and the `submit` calldata. The EIP-712 domain, types and
 * digest come from the shared `src/eip712.ts` through the `BatchSigner` the composition root wires.
 */
import { IUsageOracle__factory } from "../typechain-types";
import type { OracleReading } from "./types";

/** Signs a batch digest (EIP-712, `src/eip712.ts`) with the feeder's key. */
export interface BatchSigner {
  readonly address: string;
  signBatch(configVersion: bigint, readings: readonly OracleReading[]): Promise<string>;
}

export interface SignedBatch {
  configVersion: bigint;
  readings: OracleReading[];
  signatures: string[];
  /** ABI-encoded `submit(configVersion, readings, signatures)`. */
  calldata: string;
}

const oracleInterface = IUsageOracle__factory.createInterface();

/** Orders readings by ascending asset id (one per asset) so every signer signs the same batch. */
export function orderReadings(readings: readonly OracleReading[]): OracleReading[] {
  const sorted = [...readings].sort((a, b) => (a.assetId < b.assetId ? -1 : a.assetId > b.assetId ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].assetId === sorted[i - 1].assetId) throw new Error(`two readings for asset ${sorted[i].assetId}`);
  }
  return sorted;
}

/** Encodes the `submit` call. */
export function encodeSubmit(
  configVersion: bigint,
  readings: readonly OracleReading[],
  signatures: readonly string[],
): string {
  return oracleInterface.encodeFunctionData("submit", [
    configVersion,
    readings.map((r) => ({
      assetId: r.assetId,
      timestamp: r.timestamp,
      busyGpuSeconds: r.busyGpuSeconds,
      availableGpuSeconds: r.availableGpuSeconds,
      energyJ: r.energyJ,
    })),
    [...signatures],
  ]);
}

/** Orders, signs and encodes a batch. */
export async function buildSignedBatch(
  signer: BatchSigner,
  configVersion: bigint,
  readings: readonly OracleReading[],
): Promise<SignedBatch> {
  const ordered = orderReadings(readings);
  const signature = await signer.signBatch(configVersion, ordered);
  return {
    configVersion,
    readings: ordered,
    signatures: [signature],
    calldata: encodeSubmit(configVersion, ordered, [signature]),
  };
}

/** JSON view of a batch for `--dry-run` (bigints as decimal strings). */
export function batchToJson(batch: SignedBatch, oracle: string): object {
  return {
    to: oracle,
    function: "submit(uint64,(uint256,uint64,uint64,uint64,uint64)[],bytes[])",
    configVersion: batch.configVersion.toString(),
    readings: batch.readings.map((r) => ({
      assetId: r.assetId.toString(),
      timestamp: Number(r.timestamp),
      busyGpuSeconds: r.busyGpuSeconds.toString(),
      availableGpuSeconds: r.availableGpuSeconds.toString(),
      energyJ: r.energyJ.toString(),
    })),
    signatures: batch.signatures,
    calldataBytes: (batch.calldata.length - 2) / 2,
    calldata: batch.calldata,
  };
}
