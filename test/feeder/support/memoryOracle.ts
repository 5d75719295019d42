/**
 * An in-memory UsageOracle v2 for fast, deterministic feeder tests: `submit`'s rules as
 * `IUsageOracle` states them (current config version, the next batch index, a newer timestamp not
 * too far ahead, ascending asset ids, earlier `previousBatch` links, enough distinct current signers
 * over the `src/eip712.ts` digest), behind the feeder's `ChainPort`. The same scenarios run against
 * the real contract on anvil in `cosign-anvil.test.ts`, `integration.test.ts` and `operations.test.ts`.
 */
import { Interface, getAddress, getBytes, hexlify, keccak256, type TypedDataDomain } from "ethers";
import { decodeReadings, readingsRoot, recoverBatchSigner, type UsageBatch } from "../../../src/eip712";
import type { AcceptedBatch } from "../../../src/meterHistory";
import {
  TransientError,
  type AssetInfo,
  type ChainPort,
  type Simulation,
  type SignerSet,
  type TxOutcome,
} from "../../../feeder/ports";
import type { PendingTx } from "../../../feeder/state";

const submitIface = new Interface([
  "function submit(uint64 configVersion, uint32 batchIndex, uint64 timestamp, bytes readings, bytes signatures)",
]);

export class MemoryOracleV2 {
  readonly oracleAddress = getAddress("0x" + "0b".repeat(20));
  readonly batches: AcceptedBatch[] = [];
  readonly submissions: { from: string; batchIndex: number; ok: boolean; reason?: string }[] = [];
  configVersion = 1n;
  maxFutureSkewSeconds = 300;
  /** RPC calls that fail (transiently) before the next one succeeds. */
  failNext = 0;

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

  private maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new TransientError("rpc down");
    }
  }

  /** Why `calldata` would revert (the contract's error name), or undefined. */
  check(calldata: string): string | undefined {
    const d = submitIface.decodeFunctionData("submit", calldata);
    const batch: UsageBatch = {
      configVersion: d[0] as bigint,
      batchIndex: d[1] as bigint,
      timestamp: d[2] as bigint,
      readings: decodeReadings(d[3] as string),
    };
    if (batch.configVersion !== this.configVersion)
      return `StaleConfigVersion(${batch.configVersion}, ${this.configVersion})`;
    const next = BigInt(this.nextBatchIndex());
    if (batch.batchIndex < next) return `BatchIndexTaken(${batch.batchIndex}, ${next})`;
    if (batch.batchIndex > next) return `BatchIndexAhead(${batch.batchIndex}, ${next})`;
    const prev = this.batches[this.batches.length - 1];
    if (prev && batch.timestamp <= prev.timestamp) return `BatchNotNewer(${batch.timestamp}, ${prev.timestamp})`;
    if (batch.timestamp > BigInt(Math.floor(this.now() / 1000) + this.maxFutureSkewSeconds)) return "BatchInFuture";
    if (batch.readings.length === 0) return "EmptyBatch";
    for (let i = 0; i < batch.readings.length; i++) {
      if (i > 0 && batch.readings[i].assetId <= batch.readings[i - 1].assetId) return "AssetIdsNotAscending";
      if (batch.readings[i].previousBatch >= batch.batchIndex) return "PreviousBatchNotEarlier";
    }
    const sigs = getBytes(d[4] as string);
    if (sigs.length % 65 !== 0) return "MalformedSignatures";
    const seen = new Set<string>();
    for (let i = 0; i < sigs.length; i += 65) {
      const who = recoverBatchSigner(this.domain, batch, hexlify(sigs.slice(i, i + 65)));
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
    const readings = decodeReadings(d[3] as string);
    this.batches.push({
      batchIndex: d[1] as bigint,
      configVersion: d[0] as bigint,
      timestamp: d[2] as bigint,
      acceptedAt: BigInt(Math.floor(this.now() / 1000)),
      readingsRoot: readingsRoot(readings),
      readings,
    });
    return undefined;
  }

  /** One feeder's port onto this oracle (its `signerAddress` is the feeder's). */
  port(signerAddress: string): ChainPort {
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
        o.maybeFail();
        return { signers: [...o.signers], threshold: o.threshold, configVersion: o.configVersion };
      },
      async acceptedBatches(fromIndex: number) {
        o.maybeFail();
        return o.batches.filter((b) => b.batchIndex >= BigInt(fromIndex));
      },
      async simulate(calldata: string): Promise<Simulation> {
        o.maybeFail();
        const why = o.check(calldata);
        if (!why) return { kind: "ok", gas: 200_000n };
        if (why.startsWith("BatchIndexTaken")) return { kind: "index-taken", reason: why };
        if (why.startsWith("StaleConfigVersion")) return { kind: "stale-config", reason: why };
        return { kind: "rejected", reason: why };
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
        // The written-ahead transaction reaches the chain now (it was in a node's mempool).
        const why = o.apply(signerAddress, pending.rawTxs[pending.rawTxs.length - 1]);
        return why
          ? { kind: "nonce-consumed" }
          : { kind: "mined", hash: pending.hashes[0], gasUsed: 1n, blockNumber: o.batches.length };
      },
    };
  }
}
