/**
 * The shared batch encoding from `src/eip712.ts`, as co-signers need it (codec.ts). Oracle v2 adds
 * `encodeReadings` / `decodeReadings` over 28-byte leaves, `readingsRoot` and the v2 `batchDigest`
 * there; until those land this returns undefined and the feeder refuses to co-sign rather than sign
 * anything the oracle would not verify.
 */
import type { TypedDataDomain } from "ethers";
import * as eip712 from "../../src/eip712";
import type { Batch, BatchCodec, BatchReading } from "./codec";

type Fn = (...args: unknown[]) => unknown;

export function sharedCodec(): BatchCodec | undefined {
  const m = eip712 as unknown as Record<string, Fn | undefined>;
  const { encodeReadings, decodeReadings, readingsRoot, batchDigest } = m;
  if (!encodeReadings || !decodeReadings || !readingsRoot || !batchDigest) return undefined;
  return {
    encodeReadings: (readings) => encodeReadings(readings) as string,
    decodeReadings: (data) => decodeReadings(data) as BatchReading[],
    readingsRoot: (readings) => readingsRoot(readings) as string,
    batchDigest: (domain: TypedDataDomain, b: Batch) =>
      batchDigest(domain, {
        configVersion: b.configVersion,
        batchIndex: b.batchIndex,
        timestamp: b.timestamp,
        readingsRoot: readingsRoot(b.readings),
        readings: b.readings,
      }) as string,
  };
}
