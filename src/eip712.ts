/**
 * The single TypeScript definition of what the UsageOracle's signers sign and what it stores: the
 * EIP-712 domain and `UsageBatch` type, the 28-byte packed reading, the Merkle tree over a batch's
 * readings, the per-batch commitment, and signing. Used by the feeder, the tests, the demo, the
 * SDK and the proof builder (`src/meterHistory.ts`); nothing else may redefine these.
 *
 * Contract side: `contracts/UsageOracle.sol` (`batchDigest`, `readingsRoot`, `batchCommitment`),
 * `contracts/libraries/ReadingsMerkle.sol` and `MeterMath.unpack`. `test/oracle/eip712.test.ts`
 * proves the digest, the root and the packing here equal the contract's.
 */
import {
  Signature,
  TypedDataEncoder,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  recoverAddress,
  concat,
  AbiCoder,
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
/** Bytes of one packed reading (`OracleTypes.READING_BYTES`). */
export const READING_BYTES = 28;
/** Bytes of one (r, s, v) signature as `submit` takes them. */
export const SIGNATURE_BYTES = 65;

/** Field widths of a packed reading, in bits (see docs/oracle.md for why they cannot overflow). */
export const READING_FIELD_BITS = {
  assetId: 32,
  previousBatch: 32,
  busyGpuSeconds: 48,
  availableGpuSeconds: 48,
  energyJ: 64,
} as const;

/** The EIP-712 types of a batch, as ethers' `signTypedData` takes them (primary type `UsageBatch`). */
export const USAGE_BATCH_TYPES: Record<string, TypedDataField[]> = {
  UsageBatch: [
    { name: "configVersion", type: "uint64" },
    { name: "batchIndex", type: "uint32" },
    { name: "timestamp", type: "uint64" },
    { name: "readingsRoot", type: "bytes32" },
  ],
};

/** EIP-712 type hash of `UsageBatch` (the contract's `USAGE_BATCH_TYPEHASH`). */
export const USAGE_BATCH_TYPEHASH = keccak256(
  new TextEncoder().encode(TypedDataEncoder.from(USAGE_BATCH_TYPES).encodeType("UsageBatch")),
);

/**
 * One cumulative reading of one asset as a batch carries it (the 28-byte packed leaf). Its time is the
 * batch's timestamp. Units: GPU-seconds, joules.
 */
export interface Reading {
  assetId: bigint;
  /** Index of the batch holding this asset's previous reading; 0 for the asset's first reading. */
  previousBatch: bigint;
  /** Cumulative busy GPU-seconds since the asset's first report. */
  busyGpuSeconds: bigint;
  /** Cumulative available GPU-seconds since the asset's first report. */
  availableGpuSeconds: bigint;
  /** Cumulative energy in joules since the asset's first report. */
  energyJ: bigint;
}

/** An asset's meter values at a time (the Solidity `Meter`). */
export interface Meter {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** A batch: the readings of one round, one per asset, under one signer-set version and index. */
export interface UsageBatch {
  configVersion: bigint;
  /** The index the batch takes on chain (`UsageOracle.nextBatchIndex()` when submitted). */
  batchIndex: bigint;
  /** Unix seconds every reading of the batch refers to. */
  timestamp: bigint;
  readings: Reading[];
}

/** What signers sign: the batch header with the Merkle root of its readings. */
export interface BatchHeader {
  configVersion: bigint;
  batchIndex: bigint;
  timestamp: bigint;
  readingsRoot: string;
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

function checkUint(value: bigint, bits: number, what: string): void {
  if (typeof value !== "bigint") throw new TypeError(`${what} must be a bigint, got ${typeof value}`);
  if (value < 0n || value >= 1n << BigInt(bits)) throw new RangeError(`${what} out of range (${bits} bits): ${value}`);
}

// ------------------------------------------------------------------ packed readings

/** Throws unless every field of `reading` fits its packed width. */
export function assertReadingFits(reading: Reading, what = "reading"): void {
  for (const [field, bits] of Object.entries(READING_FIELD_BITS)) {
    checkUint(reading[field as keyof Reading], bits, `${what}.${field}`);
  }
}

/** The 28 bytes of a reading (big-endian: assetId, previousBatch, busy, available, energy). */
export function packReadingBytes(reading: Reading): Uint8Array {
  assertReadingFits(reading);
  const out = new Uint8Array(READING_BYTES);
  let offset = READING_BYTES;
  const put = (value: bigint, bytes: number) => {
    for (let i = 0; i < bytes; i++) {
      out[--offset] = Number(value & 0xffn);
      value >>= 8n;
    }
  };
  put(reading.energyJ, 8);
  put(reading.availableGpuSeconds, 6);
  put(reading.busyGpuSeconds, 6);
  put(reading.previousBatch, 4);
  put(reading.assetId, 4);
  return out;
}

/** A reading packed as a `bytes28` hex string (what a `ReadingProof.reading` holds). */
export function packReading(reading: Reading): string {
  return hexlify(packReadingBytes(reading));
}

/** Unpacks 28 bytes (hex or bytes) into a reading. */
export function unpackReading(packed: string | Uint8Array): Reading {
  const bytes = typeof packed === "string" ? getBytes(packed) : packed;
  if (bytes.length !== READING_BYTES)
    throw new RangeError(`a packed reading is ${READING_BYTES} bytes, got ${bytes.length}`);
  let offset = 0;
  const take = (n: number) => {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[offset++]);
    return v;
  };
  return {
    assetId: take(4),
    previousBatch: take(4),
    busyGpuSeconds: take(6),
    availableGpuSeconds: take(6),
    energyJ: take(8),
  };
}

/** Readings concatenated as `submit` takes them (and as `BatchAccepted` carries them). */
export function encodeReadings(readings: readonly Reading[]): string {
  const out = new Uint8Array(readings.length * READING_BYTES);
  readings.forEach((r, i) => out.set(packReadingBytes(r), i * READING_BYTES));
  return hexlify(out);
}

/** The readings of `submit`'s or `BatchAccepted`'s `readings` bytes. */
export function decodeReadings(encoded: string): Reading[] {
  const bytes = getBytes(encoded);
  if (bytes.length % READING_BYTES !== 0) {
    throw new RangeError(`readings must be whole ${READING_BYTES}-byte readings, got ${bytes.length} bytes`);
  }
  const out: Reading[] = [];
  for (let i = 0; i < bytes.length; i += READING_BYTES) out.push(unpackReading(bytes.subarray(i, i + READING_BYTES)));
  return out;
}

// ------------------------------------------------------------------ the Merkle tree (ReadingsMerkle)

/** The leaf of a reading: keccak256 of its 28 bytes. */
export function readingLeaf(reading: Reading): string {
  return keccak256(packReadingBytes(reading));
}

function hashPair(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** Every level of the tree, leaves first, root last (odd last node carried up unchanged). */
export function readingsTree(readings: readonly Reading[]): string[][] {
  if (readings.length === 0) throw new RangeError("a tree needs at least one reading");
  const levels: string[][] = [readings.map(readingLeaf)];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const above: string[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) above.push(hashPair(below[i], below[i + 1]));
    if (below.length % 2 === 1) above.push(below[below.length - 1]);
    levels.push(above);
  }
  return levels;
}

/** The Merkle root of a batch's readings (what `UsageOracle.readingsRoot` returns). */
export function readingsRoot(readings: readonly Reading[]): string {
  const levels = readingsTree(readings);
  return levels[levels.length - 1][0];
}

/** The sibling path of reading `index`, from its level upwards (a carried node has no sibling). */
export function readingPath(levels: readonly string[][], index: number): string[] {
  if (index < 0 || index >= levels[0].length)
    throw new RangeError(`no reading ${index} in a batch of ${levels[0].length}`);
  const path: string[] = [];
  let i = index;
  for (let level = 0; level < levels.length - 1; level++) {
    const nodes = levels[level];
    const sibling = i % 2 === 0 ? i + 1 : i - 1;
    if (sibling < nodes.length) path.push(nodes[sibling]);
    i = Math.floor(i / 2);
  }
  return path;
}

/** The root a leaf and its path lead to (what the contract computes when checking a proof). */
export function rootFromPath(leaf: string, path: readonly string[]): string {
  return path.reduce((node, sibling) => hashPair(node, sibling), leaf);
}

// ------------------------------------------------------------------ batches, commitments, signatures

/** Throws unless the batch is one the oracle can accept as to shape (see `IUsageOracle` rules). */
export function assertBatchShape(batch: UsageBatch): void {
  checkUint(batch.configVersion, 64, "configVersion");
  checkUint(batch.batchIndex, 32, "batchIndex");
  if (batch.batchIndex === 0n) throw new RangeError("batch indices start at 1");
  checkUint(batch.timestamp, 64, "timestamp");
  const { readings } = batch;
  if (readings.length === 0) throw new RangeError("a batch needs at least one reading");
  if (readings.length > MAX_READINGS_PER_BATCH) {
    throw new RangeError(`a batch holds at most ${MAX_READINGS_PER_BATCH} readings, got ${readings.length}`);
  }
  readings.forEach((r, i) => {
    assertReadingFits(r, `readings[${i}]`);
    if (i > 0 && r.assetId <= readings[i - 1].assetId) {
      throw new RangeError(`asset ids must strictly increase: readings[${i}].assetId = ${r.assetId}`);
    }
    if (r.previousBatch >= batch.batchIndex) {
      throw new RangeError(`readings[${i}].previousBatch ${r.previousBatch} is not before batch ${batch.batchIndex}`);
    }
  });
}

/**
 * A batch in the order the oracle requires (by increasing asset id). Throws when two readings share
 * an asset (the caller decides which one to keep) or the shape is wrong. Does not modify its argument.
 */
export function makeBatch(
  configVersion: bigint,
  batchIndex: bigint,
  timestamp: bigint,
  readings: readonly Reading[],
): UsageBatch {
  const sorted = [...readings].sort((a, b) => (a.assetId < b.assetId ? -1 : a.assetId > b.assetId ? 1 : 0));
  const batch = { configVersion, batchIndex, timestamp, readings: sorted };
  assertBatchShape(batch);
  return batch;
}

/** The header signers sign for a batch. */
export function batchHeader(batch: UsageBatch): BatchHeader {
  return {
    configVersion: batch.configVersion,
    batchIndex: batch.batchIndex,
    timestamp: batch.timestamp,
    readingsRoot: readingsRoot(batch.readings),
  };
}

function word(value: bigint): string {
  return value.toString(16).padStart(64, "0");
}

/** EIP-712 `hashStruct` of a batch header. */
export function hashBatchHeader(header: BatchHeader): string {
  checkUint(header.configVersion, 64, "configVersion");
  checkUint(header.batchIndex, 32, "batchIndex");
  checkUint(header.timestamp, 64, "timestamp");
  const root = getBytes(header.readingsRoot);
  if (root.length !== 32) throw new RangeError("readingsRoot must be 32 bytes");
  return keccak256(
    "0x" +
      USAGE_BATCH_TYPEHASH.slice(2) +
      word(header.configVersion) +
      word(header.batchIndex) +
      word(header.timestamp) +
      header.readingsRoot.slice(2).toLowerCase(),
  );
}

/** The digest signers sign (what `UsageOracle.batchDigest` returns). Accepts a batch or its header. */
export function batchDigest(domain: TypedDataDomain, batch: UsageBatch | BatchHeader): string {
  const header = "readings" in batch ? batchHeader(batch) : batch;
  return keccak256(concat(["0x1901", TypedDataEncoder.hashDomain(domain), hashBatchHeader(header)]));
}

/** The word the oracle stores per batch: keccak256(abi.encode(root, timestamp, acceptedAt, configVersion)). */
export function batchCommitment(
  readingsRoot_: string,
  timestamp: bigint,
  acceptedAt: bigint,
  configVersion: bigint,
): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "uint64", "uint64", "uint64"],
      [readingsRoot_, timestamp, acceptedAt, configVersion],
    ),
  );
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
  return signer.signTypedData(domain, USAGE_BATCH_TYPES, batchHeader(batch) as unknown as Record<string, unknown>);
}

/** Signs a batch (or its header) with a raw signing key (synchronous; e.g. a feeder's key). */
export function signBatchWithKey(key: SigningKey, domain: TypedDataDomain, batch: UsageBatch | BatchHeader): string {
  if ("readings" in batch) assertBatchShape(batch);
  return key.sign(batchDigest(domain, batch)).serialized;
}

/** The address that signed a batch (or header) with `signature` (no check that it is a current signer). */
export function recoverBatchSigner(
  domain: TypedDataDomain,
  batch: UsageBatch | BatchHeader,
  signature: string,
): string {
  return recoverAddress(batchDigest(domain, batch), Signature.from(signature));
}

/** Signatures concatenated as `submit` takes them (each must be 65 bytes). */
export function concatSignatures(signatures: readonly string[]): string {
  for (const [i, s] of signatures.entries()) {
    if (getBytes(s).length !== SIGNATURE_BYTES) throw new RangeError(`signature ${i} is not ${SIGNATURE_BYTES} bytes`);
  }
  return hexlify(concat(signatures));
}

/** `submit`'s arguments: `[configVersion, batchIndex, timestamp, readings, signatures]`. */
export function submitArgs(batch: UsageBatch, signatures: readonly string[]): [bigint, bigint, bigint, string, string] {
  return [
    batch.configVersion,
    batch.batchIndex,
    batch.timestamp,
    encodeReadings(batch.readings),
    concatSignatures(signatures),
  ];
}
