/**
 * The single TypeScript definition of the UsageOracle's EIP-712 data: domain, types, hashing and
 * signing of a batch of readings, and decoding of the oracle's `UsageReported` event. Used by the
 * tests, the feeder, the escrow tests and integrators; nothing else may redefine these.
 *
 * Contract side: `contracts/UsageOracle.sol` (`batchDigest`, `READING_TYPEHASH`, `USAGE_BATCH_TYPEHASH`).
 * A test (`test/oracle/eip712.test.ts`) proves `batchDigest` here equals the contract's.
 */
import {
  AbiCoder,
  Signature,
  TypedDataEncoder,
  getAddress,
  keccak256,
  concat,
  getBytes,
  recoverAddress,
  type SigningKey,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

/** EIP-712 domain name of the UsageOracle. */
export const ORACLE_DOMAIN_NAME = "ComputeRWA UsageOracle";
/** EIP-712 domain version of the UsageOracle. */
export const ORACLE_DOMAIN_VERSION = "1";

/** Most readings one batch may hold (`UsageOracle.MAX_READINGS`). */
export const MAX_READINGS_PER_BATCH = 500;

const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

/** The EIP-712 types of a batch, as ethers' `signTypedData` takes them (primary type `UsageBatch`). */
export const USAGE_BATCH_TYPES: Record<string, TypedDataField[]> = {
  UsageBatch: [
    { name: "configVersion", type: "uint64" },
    { name: "readings", type: "Reading[]" },
  ],
  Reading: [
    { name: "assetId", type: "uint256" },
    { name: "timestamp", type: "uint64" },
    { name: "busyGpuSeconds", type: "uint64" },
    { name: "availableGpuSeconds", type: "uint64" },
    { name: "energyJ", type: "uint64" },
  ],
};

/** One cumulative reading of one asset (the Solidity `Reading`). Units: seconds, GPU-seconds, joules. */
export interface Reading {
  assetId: bigint;
  /** Unix seconds at which the meters were read. */
  timestamp: bigint;
  /** Cumulative busy GPU-seconds since the asset's first report. */
  busyGpuSeconds: bigint;
  /** Cumulative available GPU-seconds since the asset's first report. */
  availableGpuSeconds: bigint;
  /** Cumulative energy in joules since the asset's first report. */
  energyJ: bigint;
}

/** The latest accepted reading of an asset as the oracle stores it (the Solidity `Meter`). */
export interface Meter {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** What signers sign: the readings under one signer-set version. */
export interface UsageBatch {
  configVersion: bigint;
  readings: Reading[];
}

/** The EIP-712 domain of one UsageOracle deployment. */
export function oracleDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return {
    name: ORACLE_DOMAIN_NAME,
    version: ORACLE_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: getAddress(verifyingContract),
  };
}

function checkUint(value: bigint, max: bigint, what: string): void {
  if (typeof value !== "bigint") throw new TypeError(`${what} must be a bigint, got ${typeof value}`);
  if (value < 0n || value > max) throw new RangeError(`${what} out of range: ${value}`);
}

/**
 * Throws unless the batch is one the oracle can accept as to shape: 1 to MAX_READINGS_PER_BATCH
 * readings, every field in range, asset ids strictly increasing (one reading per asset).
 */
export function assertBatchShape(batch: UsageBatch): void {
  checkUint(batch.configVersion, UINT64_MAX, "configVersion");
  const { readings } = batch;
  if (readings.length === 0) throw new RangeError("a batch needs at least one reading");
  if (readings.length > MAX_READINGS_PER_BATCH) {
    throw new RangeError(`a batch holds at most ${MAX_READINGS_PER_BATCH} readings, got ${readings.length}`);
  }
  readings.forEach((r, i) => {
    checkUint(r.assetId, UINT256_MAX, `readings[${i}].assetId`);
    checkUint(r.timestamp, UINT64_MAX, `readings[${i}].timestamp`);
    checkUint(r.busyGpuSeconds, UINT64_MAX, `readings[${i}].busyGpuSeconds`);
    checkUint(r.availableGpuSeconds, UINT64_MAX, `readings[${i}].availableGpuSeconds`);
    checkUint(r.energyJ, UINT64_MAX, `readings[${i}].energyJ`);
    if (i > 0 && r.assetId <= readings[i - 1].assetId) {
      throw new RangeError(`asset ids must strictly increase: readings[${i}].assetId = ${r.assetId}`);
    }
  });
}

/**
 * A batch in the order the oracle requires (by increasing asset id). Throws when two readings
 * share an asset: the caller decides which one to keep. Does not modify its argument.
 */
export function makeBatch(configVersion: bigint, readings: readonly Reading[]): UsageBatch {
  const sorted = [...readings].sort((a, b) => (a.assetId < b.assetId ? -1 : a.assetId > b.assetId ? 1 : 0));
  const batch = { configVersion, readings: sorted };
  assertBatchShape(batch);
  return batch;
}

/**
 * Hashing below is written out word by word instead of through ethers' generic `TypedDataEncoder`
 * (which walks the type tree per value, ~0.2 ms a reading): the feeder hashes every reading it
 * posts. `test/oracle/eip712.test.ts` checks these functions against `TypedDataEncoder` and against
 * the contract's `batchDigest`.
 */
function writeWord(buf: Uint8Array, offset: number, value: bigint): void {
  for (let i = 31; i >= 0 && value > 0n; i--) {
    buf[offset + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

/** EIP-712 `hashStruct` of one reading. */
export function hashReading(reading: Reading): string {
  const buf = new Uint8Array(6 * 32);
  buf.set(READING_TYPEHASH_BYTES, 0);
  writeWord(buf, 32, reading.assetId);
  writeWord(buf, 64, reading.timestamp);
  writeWord(buf, 96, reading.busyGpuSeconds);
  writeWord(buf, 128, reading.availableGpuSeconds);
  writeWord(buf, 160, reading.energyJ);
  return keccak256(buf);
}

/** EIP-712 `hashStruct` of a batch. */
export function hashUsageBatch(batch: UsageBatch): string {
  const buf = new Uint8Array(3 * 32);
  buf.set(USAGE_BATCH_TYPEHASH_BYTES, 0);
  writeWord(buf, 32, batch.configVersion);
  buf.set(getBytes(hashReadings(batch.readings)), 64);
  return keccak256(buf);
}

/** The digest signers sign for `batch` on the oracle of `domain` (what `UsageOracle.batchDigest` returns). */
export function batchDigest(domain: TypedDataDomain, batch: UsageBatch): string {
  return keccak256(concat(["0x1901", TypedDataEncoder.hashDomain(domain), hashUsageBatch(batch)]));
}

/** Anything that signs EIP-712 data the ethers v6 way (a Wallet, a HardhatEthersSigner). */
export interface TypedDataSigner {
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** Signs a batch with an ethers signer; returns the 65-byte signature as hex. */
export async function signBatch(signer: TypedDataSigner, domain: TypedDataDomain, batch: UsageBatch): Promise<string> {
  assertBatchShape(batch);
  return signer.signTypedData(domain, USAGE_BATCH_TYPES, batch as unknown as Record<string, unknown>);
}

/** Signs a batch with a raw signing key (synchronous; e.g. a key loaded from a file by the feeder). */
export function signBatchWithKey(key: SigningKey, domain: TypedDataDomain, batch: UsageBatch): string {
  assertBatchShape(batch);
  return key.sign(batchDigest(domain, batch)).serialized;
}

/** The address that signed `batch` with `signature` (no check that it is a current signer). */
export function recoverBatchSigner(domain: TypedDataDomain, batch: UsageBatch, signature: string): string {
  return recoverAddress(batchDigest(domain, batch), Signature.from(signature));
}

/** The ABI-encoded `submit` arguments' shape: `[configVersion, readings, signatures]`. */
export function submitArgs(batch: UsageBatch, signatures: readonly string[]): [bigint, Reading[], string[]] {
  return [batch.configVersion, batch.readings, [...signatures]];
}

// ------------------------------------------------------------------ packed meters (storage and event)

/** Packs a meter into the oracle's one-word layout (`MeterLib.pack`): timestamp in the low 64 bits. */
export function packMeter(meter: Meter): bigint {
  checkUint(meter.timestamp, UINT64_MAX, "timestamp");
  checkUint(meter.busyGpuSeconds, UINT64_MAX, "busyGpuSeconds");
  checkUint(meter.availableGpuSeconds, UINT64_MAX, "availableGpuSeconds");
  checkUint(meter.energyJ, UINT64_MAX, "energyJ");
  return (
    meter.timestamp | (meter.busyGpuSeconds << 64n) | (meter.availableGpuSeconds << 128n) | (meter.energyJ << 192n)
  );
}

/** Unpacks the oracle's one-word meter. */
export function unpackMeter(word: bigint): Meter {
  return {
    timestamp: word & UINT64_MAX,
    busyGpuSeconds: (word >> 64n) & UINT64_MAX,
    availableGpuSeconds: (word >> 128n) & UINT64_MAX,
    energyJ: (word >> 192n) & UINT64_MAX,
  };
}

/** One accepted reading as listed by a `UsageReported` event. */
export interface ReportedMeter extends Meter {
  assetId: bigint;
}

/**
 * Decodes the `meters` argument of `UsageReported(bytes32 batchDigest, uint64 configVersion, uint256[] meters)`:
 * pairs of (assetId, packed meter), in batch order.
 */
export function decodeUsageReported(meters: readonly bigint[]): ReportedMeter[] {
  if (meters.length % 2 !== 0) throw new RangeError(`UsageReported.meters must hold pairs, got ${meters.length} words`);
  const out: ReportedMeter[] = [];
  for (let i = 0; i < meters.length; i += 2) out.push({ assetId: meters[i], ...unpackMeter(meters[i + 1]) });
  return out;
}

/** EIP-712 type hashes, as the contract's `READING_TYPEHASH` and `USAGE_BATCH_TYPEHASH` constants. */
export const READING_TYPEHASH = keccak256(
  new TextEncoder().encode(TypedDataEncoder.from(USAGE_BATCH_TYPES).encodeType("Reading")),
);
export const USAGE_BATCH_TYPEHASH = keccak256(
  new TextEncoder().encode(TypedDataEncoder.from(USAGE_BATCH_TYPES).encodeType("UsageBatch")),
);

const READING_TYPEHASH_BYTES = getBytes(READING_TYPEHASH);
const USAGE_BATCH_TYPEHASH_BYTES = getBytes(USAGE_BATCH_TYPEHASH);

/** Hash of the readings array as EIP-712 encodes it (keccak of the concatenated reading hashes). */
export function hashReadings(readings: readonly Reading[]): string {
  return keccak256(concat(readings.map(hashReading)));
}

/** ABI-encodes readings as `submit` receives them (useful to size calldata). */
export function encodeReadings(readings: readonly Reading[]): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["tuple(uint256 assetId,uint64 timestamp,uint64 busyGpuSeconds,uint64 availableGpuSeconds,uint64 energyJ)[]"],
    [readings],
  );
}
