/**
 * TEST SUPPORT, TO BE REPLACED: the oracle v2 batch format as /work/coord/STATUS.md plans it
 * (28-byte packed leaves, a sorted-pair Merkle root, the EIP-712 `UsageBatch(configVersion,
 * batchIndex, timestamp, readingsRoot)` digest), and an in-memory UsageOracle v2 with the planned
 * `submit` rules. It exists only because UsageOracle v2 and its `src/eip712.ts` functions are not on
 * main yet; once they land, the co-signing tests take the codec from `src/eip712.ts` and run against
 * the deployed contract on anvil, and this file is deleted. The feeder itself never defines the format.
 */
import {
  Interface,
  Signature,
  TypedDataEncoder,
  concat,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  recoverAddress,
  type TypedDataDomain,
} from "ethers";
import type { Batch, BatchCodec, BatchReading } from "../../../feeder/cosign/codec";
import type { AcceptedBatch, OracleV2Port, SignerSet } from "../../../feeder/cosign/node";
import type { AssetInfo, ChainPort, Simulation, TxOutcome } from "../../../feeder/ports";
import type { PendingTx } from "../../../feeder/state";
import type { OracleReading } from "../../../feeder/types";

const TYPES = {
  UsageBatch: [
    { name: "configVersion", type: "uint64" },
    { name: "batchIndex", type: "uint32" },
    { name: "timestamp", type: "uint64" },
    { name: "readingsRoot", type: "bytes32" },
  ],
};

function be(value: bigint, bytes: number): string {
  if (value < 0n || value >= 1n << BigInt(8 * bytes)) throw new RangeError(`${value} does not fit ${bytes} bytes`);
  return value.toString(16).padStart(bytes * 2, "0");
}

export const testCodec: BatchCodec = {
  encodeReadings(readings: readonly BatchReading[]): string {
    return (
      "0x" +
      readings
        .map(
          (r) =>
            be(r.assetId, 4) +
            be(BigInt(r.previousBatch), 4) +
            be(r.busyGpuSeconds, 6) +
            be(r.availableGpuSeconds, 6) +
            be(r.energyJ, 8),
        )
        .join("")
    );
  },
  decodeReadings(data: string): BatchReading[] {
    const hex = data.slice(2);
    if (hex.length % 56 !== 0) throw new Error("readings are not whole 28-byte leaves");
    const out: BatchReading[] = [];
    for (let i = 0; i < hex.length; i += 56) {
      const f = (from: number, len: number) => BigInt("0x" + hex.slice(i + from * 2, i + (from + len) * 2));
      out.push({
        assetId: f(0, 4),
        previousBatch: Number(f(4, 4)),
        busyGpuSeconds: f(8, 6),
        availableGpuSeconds: f(14, 6),
        energyJ: f(20, 8),
      });
    }
    return out;
  },
  readingsRoot(readings: readonly BatchReading[]): string {
    let level = readings.map((r) => keccak256(testCodec.encodeReadings([r])));
    if (level.length === 0) return "0x" + "00".repeat(32);
    while (level.length > 1) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 2) {
        if (i + 1 === level.length) next.push(level[i]);
        else {
          const [a, b] = level[i] < level[i + 1] ? [level[i], level[i + 1]] : [level[i + 1], level[i]];
          next.push(keccak256(concat([a, b])));
        }
      }
      level = next;
    }
    return level[0];
  },
  batchDigest(domain: TypedDataDomain, batch: Batch): string {
    return TypedDataEncoder.hash(domain, TYPES, {
      configVersion: batch.configVersion,
      batchIndex: batch.batchIndex,
      timestamp: batch.timestamp,
      readingsRoot: testCodec.readingsRoot(batch.readings),
    });
  },
};

const submitIface = new Interface([
  "function submit(uint64 configVersion, uint32 batchIndex, uint64 timestamp, bytes readings, bytes signatures)",
]);

/** An in-memory UsageOracle v2 with the planned `submit` rules, shared by several feeders. */
export class MemoryOracleV2 {
  readonly oracleAddress = getAddress("0x" + "0b".repeat(20));
  readonly batches: AcceptedBatch[] = [];
  readonly submissions: { from: string; batchIndex: number; ok: boolean; reason?: string }[] = [];
  configVersion = 1n;
  maxFutureSkewSeconds = 300;
  constructor(
    public signers: string[],
    public threshold: number,
    readonly assets: Map<string, AssetInfo>,
    readonly domain: TypedDataDomain,
    private readonly now: () => number,
  ) {}

  nextBatchIndex(): number {
    return this.batches.length + 1;
  }

  /** Why `calldata` would revert, or undefined. */
  check(calldata: string): string | undefined {
    const d = submitIface.decodeFunctionData("submit", calldata);
    const [configVersion, batchIndex, timestamp, readingsHex, sigsHex] = [
      d[0] as bigint,
      Number(d[1]),
      Number(d[2]),
      d[3] as string,
      d[4] as string,
    ];
    if (configVersion !== this.configVersion) return `StaleConfigVersion(${configVersion}, ${this.configVersion})`;
    if (batchIndex !== this.nextBatchIndex()) return `BatchIndexMismatch(${batchIndex}, ${this.nextBatchIndex()})`;
    const prev = this.batches[this.batches.length - 1];
    if (prev && timestamp <= prev.timestamp) return "TimestampNotIncreasing";
    if (timestamp > Math.floor(this.now() / 1000) + this.maxFutureSkewSeconds) return "BatchInFuture";
    const readings = testCodec.decodeReadings(readingsHex);
    if (readings.length === 0) return "EmptyBatch";
    for (let i = 0; i < readings.length; i++) {
      if (i > 0 && readings[i].assetId <= readings[i - 1].assetId) return "AssetIdsNotAscending";
      if (readings[i].previousBatch >= batchIndex) return "PreviousBatchNotBefore";
    }
    const digest = testCodec.batchDigest(this.domain, { configVersion, batchIndex, timestamp, readings });
    const sigs = getBytes(sigsHex);
    if (sigs.length % 65 !== 0) return "SignaturesMalformed";
    const seen = new Set<string>();
    for (let i = 0; i < sigs.length; i += 65) {
      const who = recoverAddress(digest, Signature.from(hexlify(sigs.slice(i, i + 65))));
      if (!this.signers.some((s) => getAddress(s) === who)) return `UnknownSigner(${who})`;
      if (seen.has(who)) return `DuplicateSigner(${who})`;
      seen.add(who);
    }
    if (seen.size < this.threshold) return `NotEnoughSignatures(${seen.size}, ${this.threshold})`;
    return undefined;
  }

  apply(from: string, calldata: string): string | undefined {
    const why = this.check(calldata);
    const d = submitIface.decodeFunctionData("submit", calldata);
    this.submissions.push({ from, batchIndex: Number(d[1]), ok: !why, reason: why });
    if (why) return why;
    this.batches.push({
      batchIndex: Number(d[1]),
      configVersion: d[0] as bigint,
      timestamp: Number(d[2]),
      readings: testCodec.decodeReadings(d[3] as string),
    });
    return undefined;
  }

  /** One feeder's port onto this oracle (its `signerAddress` is the feeder's). */
  port(signerAddress: string): ChainPort & OracleV2Port {
    const o = this;
    let nonce = 0;
    return {
      signerAddress,
      oracleAddress: o.oracleAddress,
      async chainId() {
        return 31337n;
      },
      async configVersion() {
        return o.configVersion;
      },
      async latestReadings(ids: readonly string[]) {
        return new Map<string, OracleReading | undefined>(ids.map((id) => [id, undefined]));
      },
      async assetInfo(ids: readonly string[]) {
        return new Map(ids.map((id) => [id, o.assets.get(id)!]));
      },
      async balanceWei() {
        return 10n ** 18n;
      },
      async oracleParams() {
        return { maxReadings: 500, energyMarginBps: 500 };
      },
      async signerSet(): Promise<SignerSet> {
        return { signers: [...o.signers], threshold: o.threshold, configVersion: o.configVersion };
      },
      async acceptedBatches(fromIndex: number) {
        return o.batches.filter((b) => b.batchIndex >= fromIndex);
      },
      async simulate(calldata: string): Promise<Simulation> {
        const why = o.check(calldata);
        return why ? { kind: "rejected", reason: why } : { kind: "ok", gas: 200_000n };
      },
      async send(
        calldata: string,
        _gas: bigint,
        readings: PendingTx["readings"],
        persist: (p: PendingTx) => void,
      ): Promise<TxOutcome> {
        const n = nonce++;
        persist({ nonce: n, rawTxs: [calldata], hashes: [keccak256(calldata)], firstSentAtMs: o.now(), readings });
        const why = o.apply(signerAddress, calldata);
        return why
          ? { kind: "reverted", hash: keccak256(calldata), reason: why }
          : { kind: "mined", hash: keccak256(calldata), gasUsed: 1n, blockNumber: o.batches.length };
      },
      async resume(pending: PendingTx): Promise<TxOutcome> {
        const why = o.apply(signerAddress, pending.rawTxs[pending.rawTxs.length - 1]);
        return why
          ? { kind: "nonce-consumed" }
          : { kind: "mined", hash: pending.hashes[0], gasUsed: 1n, blockNumber: o.batches.length };
      },
    };
  }
}
