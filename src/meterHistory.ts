/**
 * The one place that finds an asset's readings and builds the oracle proofs a consumer needs, from
 * chain data alone. The oracle keeps one commitment per batch and logs `BatchAccepted`; every reading
 * travels in the calldata of the batch's `submit`, so this module rebuilds each batch's Merkle tree
 * from logs and transactions and proves any reading, any meter at a chosen time, and any lease's
 * settlement, close or dispute.
 *
 * The core (`MeterHistory`, `leaseProofs`, `meterAtTime`) is pure and imports no client. One adapter,
 * `fetchMeterHistory`, reads the logs through an ethers provider. Used by the demo's keeper, the
 * feeder (reconciliation and previous-batch links), the SDK and the tests.
 */
import { Interface, type Provider } from "ethers";
import {
  decodeReadings,
  packReading,
  readingPath,
  readingsRoot,
  readingsTree,
  type Meter,
  type Reading,
} from "./eip712";

/** One accepted batch as the chain records it. */
export interface AcceptedBatch {
  batchIndex: bigint;
  configVersion: bigint;
  /** The time every reading of the batch refers to. */
  timestamp: bigint;
  /** The block time at which the oracle accepted it. */
  acceptedAt: bigint;
  readingsRoot: string;
  readings: Reading[];
}

/** The Solidity `ReadingProof`, ready to pass to a contract. */
export interface ReadingProof {
  batchIndex: bigint;
  batchTimestamp: bigint;
  acceptedAt: bigint;
  configVersion: bigint;
  /** The packed reading, `bytes28` hex. */
  reading: string;
  path: string[];
}

/** The Solidity `MeterBoundary`: the first reading at or after a time, and the reading it links to. */
export interface MeterBoundary {
  earlier: ReadingProof;
  later: ReadingProof;
}

/** A proof slot left empty (batch index 0): what contracts read as "absent". */
export const ABSENT_PROOF: ReadingProof = Object.freeze({
  batchIndex: 0n,
  batchTimestamp: 0n,
  acceptedAt: 0n,
  configVersion: 0n,
  reading: "0x" + "00".repeat(28),
  path: [],
}) as ReadingProof;

/** A boundary left empty: for a start meter a lease already stored, or a close without a final reading. */
export const ABSENT_BOUNDARY: MeterBoundary = Object.freeze({ earlier: ABSENT_PROOF, later: ABSENT_PROOF });

/** One reading in an asset's history, with where it was published. */
export interface HistoryReading {
  batch: AcceptedBatch;
  /** Position in the batch. */
  index: number;
  reading: Reading;
  /** The reading's values at the batch timestamp. */
  meter: Meter;
}

/** What the oracle needs of an asset's spec to check a pair of readings (`MeterMath.isPossible`). */
export interface MeteringSpec {
  gpuCount: bigint;
  tdpWattsPerGpu: bigint;
  energyMarginBps: bigint;
}

/** An asset's readings, indexed by batch, with proofs on demand. */
export class MeterHistory {
  private readonly byIndex = new Map<bigint, AcceptedBatch>();
  private readonly trees = new Map<bigint, string[][]>();
  private readonly byAsset = new Map<bigint, HistoryReading[]>();

  constructor(batches: readonly AcceptedBatch[] = []) {
    for (const b of [...batches].sort((x, y) => (x.batchIndex < y.batchIndex ? -1 : 1))) this.add(b);
  }

  /** Adds a batch (in increasing batch index; a batch seen before is ignored). */
  add(batch: AcceptedBatch): void {
    if (this.byIndex.has(batch.batchIndex)) return;
    const last = this.lastBatchIndex();
    if (batch.batchIndex <= last) throw new RangeError(`batch ${batch.batchIndex} added after batch ${last}`);
    this.byIndex.set(batch.batchIndex, batch);
    batch.readings.forEach((reading, index) => {
      const list = this.byAsset.get(reading.assetId) ?? [];
      list.push({ batch, index, reading, meter: meterOf(batch, reading) });
      this.byAsset.set(reading.assetId, list);
    });
  }

  /** The highest batch index known (0 when none). */
  lastBatchIndex(): bigint {
    let last = 0n;
    for (const i of this.byIndex.keys()) if (i > last) last = i;
    return last;
  }

  /** A batch by index. */
  batch(batchIndex: bigint): AcceptedBatch | undefined {
    return this.byIndex.get(batchIndex);
  }

  /** Every reading of an asset, oldest first. */
  readingsOf(assetId: bigint): readonly HistoryReading[] {
    return this.byAsset.get(assetId) ?? [];
  }

  /** The asset's latest reading (optionally among those stamped at or before `atOrBefore`). */
  latest(assetId: bigint, atOrBefore?: bigint): HistoryReading | undefined {
    const list = this.readingsOf(assetId);
    for (let i = list.length - 1; i >= 0; i--) {
      if (atOrBefore === undefined || list[i].meter.timestamp <= atOrBefore) return list[i];
    }
    return undefined;
  }

  /** The batch a new reading of the asset must link to (`Reading.previousBatch`): its latest, or 0. */
  previousBatchOf(assetId: bigint): bigint {
    return this.latest(assetId)?.batch.batchIndex ?? 0n;
  }

  /** The first reading of the asset stamped at or after `time`. */
  firstAtOrAfter(assetId: bigint, time: bigint): HistoryReading | undefined {
    return this.readingsOf(assetId).find((r) => r.meter.timestamp >= time);
  }

  /** The reading `r` links to (undefined for an asset's first reading, or when the link is unknown). */
  linked(r: HistoryReading): HistoryReading | undefined {
    if (r.reading.previousBatch === 0n) return undefined;
    return this.readingsOf(r.reading.assetId).find((x) => x.batch.batchIndex === r.reading.previousBatch);
  }

  /** The proof of one reading. */
  proof(r: HistoryReading): ReadingProof {
    let levels = this.trees.get(r.batch.batchIndex);
    if (!levels) {
      levels = readingsTree(r.batch.readings);
      this.trees.set(r.batch.batchIndex, levels);
    }
    return {
      batchIndex: r.batch.batchIndex,
      batchTimestamp: r.batch.timestamp,
      acceptedAt: r.batch.acceptedAt,
      configVersion: r.batch.configVersion,
      reading: packReading(r.reading),
      path: readingPath(levels, r.index),
    };
  }

  /** A boundary holding just one reading (exact at its own time). */
  single(r: HistoryReading): MeterBoundary {
    return { earlier: ABSENT_PROOF, later: this.proof(r) };
  }

  /**
   * The proofs of the asset's meter at `time` (`IUsageOracle.meterAt`): the first reading at or after
   * it and, when that reading is later than `time` and not the asset's first, the reading it links to.
   * Undefined while no reading at or after `time` exists (not yet provable).
   */
  boundaryAt(assetId: bigint, time: bigint): { boundary: MeterBoundary; used: HistoryReading[] } | undefined {
    const later = this.firstAtOrAfter(assetId, time);
    if (!later) return undefined;
    const earlier = later.meter.timestamp > time ? this.linked(later) : undefined;
    if (later.meter.timestamp > time && later.reading.previousBatch !== 0n && !earlier) {
      throw new Error(
        `asset ${assetId}: batch ${later.batch.batchIndex} links to unknown batch ${later.reading.previousBatch}`,
      );
    }
    return {
      boundary: { earlier: earlier ? this.proof(earlier) : ABSENT_PROOF, later: this.proof(later) },
      used: earlier ? [earlier, later] : [later],
    };
  }
}

function meterOf(batch: AcceptedBatch, reading: Reading): Meter {
  return {
    timestamp: batch.timestamp,
    busyGpuSeconds: reading.busyGpuSeconds,
    availableGpuSeconds: reading.availableGpuSeconds,
    energyJ: reading.energyJ,
  };
}

/** `MeterMath.isPossible`: can `later` follow `earlier` on an asset with this spec. */
export function isPossiblePair(earlier: Meter, later: Meter, spec: MeteringSpec): boolean {
  if (later.timestamp <= earlier.timestamp) return false;
  if (
    later.busyGpuSeconds < earlier.busyGpuSeconds ||
    later.availableGpuSeconds < earlier.availableGpuSeconds ||
    later.energyJ < earlier.energyJ
  )
    return false;
  const busy = later.busyGpuSeconds - earlier.busyGpuSeconds;
  const available = later.availableGpuSeconds - earlier.availableGpuSeconds;
  const capacity = spec.gpuCount * (later.timestamp - earlier.timestamp);
  if (busy > available || available > capacity) return false;
  const maxEnergy = (capacity * spec.tdpWattsPerGpu * (10_000n + spec.energyMarginBps)) / 10_000n;
  return later.energyJ - earlier.energyJ <= maxEnergy;
}

/** `MeterMath.interpolate`: the meter at `time` between two readings, each counter rounded down. */
export function interpolateMeter(earlier: Meter, later: Meter, time: bigint): Meter {
  const elapsed = time - earlier.timestamp;
  const span = later.timestamp - earlier.timestamp;
  const between = (a: bigint, b: bigint) => a + ((b - a) * elapsed) / span;
  return {
    timestamp: time,
    busyGpuSeconds: between(earlier.busyGpuSeconds, later.busyGpuSeconds),
    availableGpuSeconds: between(earlier.availableGpuSeconds, later.availableGpuSeconds),
    energyJ: between(earlier.energyJ, later.energyJ),
  };
}

/**
 * The meter `IUsageOracle.meterAt` proves at `time` (same rules: exact reading, first reading, linear
 * interpolation of a possible pair, else the `bound` reading). Undefined while not yet provable.
 */
export function meterAtTime(
  history: MeterHistory,
  assetId: bigint,
  time: bigint,
  spec: MeteringSpec,
  bound: "lower" | "upper",
): Meter | undefined {
  const later = history.firstAtOrAfter(assetId, time);
  if (!later) return undefined;
  if (later.meter.timestamp === time || later.reading.previousBatch === 0n) return { ...later.meter, timestamp: time };
  const earlier = history.linked(later);
  if (!earlier) return undefined;
  if (isPossiblePair(earlier.meter, later.meter, spec)) return interpolateMeter(earlier.meter, later.meter, time);
  return { ...(bound === "lower" ? earlier.meter : later.meter), timestamp: time };
}

/** What `leaseProofs` needs of a lease (`ISettlementEscrow.leaseOf` has it all). */
export interface LeaseForProofs {
  assetId: bigint;
  startTime: bigint;
  endTime: bigint;
  startMetered: boolean;
}

/** Proofs for `settle`, `close` or `dispute` of one lease. */
export interface LeaseProofs {
  /** The meter at the lease start (absent when the lease stored it). */
  start: MeterBoundary;
  /** The billing point: the meter at the end (`final`), or a reading inside the lease. */
  point: MeterBoundary;
  /** The point's meter time. */
  pointTime: bigint;
  /** Whether the point is the lease end (what `close` needs). */
  final: boolean;
  /** When every reading used becomes billable (`settle` and `close` refuse earlier). */
  billableAt: bigint;
}

/**
 * The proofs that bill a lease as far as the chain allows: to its end when a reading at or after
 * the end exists (`final`), else to its latest reading inside the lease. With `billableBy` (now minus
 * the escrow's dispute window, for `settle` and `close`), only readings the oracle accepted at or
 * before it are used; without it (a `dispute`), any reading. Undefined when nothing can be billed
 * beyond what the lease already billed.
 */
export function leaseProofs(
  history: MeterHistory,
  lease: LeaseForProofs,
  billableBy?: bigint,
): LeaseProofs | undefined {
  const usable = (readings: HistoryReading[]) =>
    billableBy === undefined || readings.every((r) => r.batch.acceptedAt <= billableBy);
  let start: MeterBoundary = ABSENT_BOUNDARY;
  let latestAccepted = 0n;
  const note = (used: HistoryReading[]) => {
    for (const r of used) if (r.batch.acceptedAt > latestAccepted) latestAccepted = r.batch.acceptedAt;
  };
  if (!lease.startMetered) {
    const atStart = history.boundaryAt(lease.assetId, lease.startTime);
    if (!atStart || !usable(atStart.used)) return undefined;
    start = atStart.boundary;
    note(atStart.used);
  }
  const atEnd = history.boundaryAt(lease.assetId, lease.endTime);
  if (atEnd && usable(atEnd.used)) {
    note(atEnd.used);
    return { start, point: atEnd.boundary, pointTime: lease.endTime, final: true, billableAt: latestAccepted };
  }
  // No provable end yet: the latest usable reading inside the lease.
  const inside = history
    .readingsOf(lease.assetId)
    .filter((r) => r.meter.timestamp > lease.startTime && r.meter.timestamp <= lease.endTime && usable([r]));
  const last = inside[inside.length - 1];
  if (!last) return undefined;
  note([last]);
  return {
    start,
    point: history.single(last),
    pointTime: last.meter.timestamp,
    final: false,
    billableAt: latestAccepted,
  };
}

/** The `BatchAccepted` event and `submit` function, as the oracle declares them. */
export const ORACLE_HISTORY_ABI = [
  "event BatchAccepted(uint32 indexed batchIndex, uint64 indexed configVersion, uint64 timestamp, bytes32 readingsRoot, uint256 readingCount)",
  "function submit(uint64 configVersion, uint32 batchIndex, uint64 timestamp, bytes readings, bytes signatures) returns (bytes32)",
] as const;

const oracleInterface = new Interface(ORACLE_HISTORY_ABI);

/** `submit`'s arguments, decoded from calldata. */
export interface SubmitCall {
  configVersion: bigint;
  batchIndex: bigint;
  timestamp: bigint;
  readings: Reading[];
  signatures: string;
}

/** Decodes the calldata of a `submit` call; undefined when it is not one. */
export function decodeSubmitCalldata(data: string): SubmitCall | undefined {
  let parsed;
  try {
    parsed = oracleInterface.parseTransaction({ data });
  } catch {
    return undefined;
  }
  if (!parsed || parsed.name !== "submit") return undefined;
  return {
    configVersion: BigInt(parsed.args.configVersion),
    batchIndex: BigInt(parsed.args.batchIndex),
    timestamp: BigInt(parsed.args.timestamp),
    readings: decodeReadings(parsed.args.readings),
    signatures: parsed.args.signatures,
  };
}

/** A `BatchAccepted` log, decoded (without the readings, which are in the transaction's calldata). */
export interface BatchAcceptedLog {
  batchIndex: bigint;
  configVersion: bigint;
  timestamp: bigint;
  readingsRoot: string;
  readingCount: bigint;
}

/** Decodes one `BatchAccepted` log. */
export function decodeBatchAccepted(log: { topics: readonly string[]; data: string }): BatchAcceptedLog {
  const parsed = oracleInterface.parseLog({ topics: [...log.topics], data: log.data });
  if (!parsed || parsed.name !== "BatchAccepted") throw new Error("not a BatchAccepted log");
  return {
    batchIndex: BigInt(parsed.args.batchIndex),
    configVersion: BigInt(parsed.args.configVersion),
    timestamp: BigInt(parsed.args.timestamp),
    readingsRoot: parsed.args.readingsRoot,
    readingCount: BigInt(parsed.args.readingCount),
  };
}

/** A call frame as the `callTracer` of `debug_traceTransaction` returns it. */
interface CallFrame {
  to?: string;
  input?: string;
  error?: string;
  calls?: CallFrame[];
}

/** Every successful `submit` call to `oracle` inside a call tree, in execution order. */
function submitsIn(frame: CallFrame, oracle: string, out: SubmitCall[] = []): SubmitCall[] {
  if (frame.error) return out;
  if (frame.to?.toLowerCase() === oracle && frame.input) {
    const call = decodeSubmitCalldata(frame.input);
    if (call) out.push(call);
  }
  for (const child of frame.calls ?? []) submitsIn(child, oracle, out);
  return out;
}

/** Anything that can send a raw JSON-RPC request (ethers' JsonRpcProvider, HardhatEthersProvider). */
interface RawRpc {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/**
 * The `submit` call that produced a `BatchAccepted` log: the transaction's own calldata when it called
 * the oracle directly; otherwise (a multisig or relay contract called it) the call found by the
 * node's `debug_traceTransaction` call tracer.
 */
async function submitOf(provider: Provider, oracle: string, txHash: string, batchIndex: bigint): Promise<SubmitCall> {
  const tx = await provider.getTransaction(txHash);
  if (!tx) throw new Error(`transaction ${txHash} not found`);
  if (tx.to?.toLowerCase() === oracle) {
    const call = decodeSubmitCalldata(tx.data);
    if (call && call.batchIndex === batchIndex) return call;
  }
  const raw = provider as unknown as Partial<RawRpc>;
  if (typeof raw.send !== "function") {
    throw new Error(
      `batch ${batchIndex} was submitted through a contract (tx ${txHash}); a JSON-RPC provider with debug_traceTransaction is needed`,
    );
  }
  const trace = (await raw.send("debug_traceTransaction", [txHash, { tracer: "callTracer" }])) as CallFrame;
  const call = submitsIn(trace, oracle).find((c) => c.batchIndex === batchIndex);
  if (!call) throw new Error(`no submit of batch ${batchIndex} found in the trace of ${txHash}`);
  return call;
}

/** Options of `fetchMeterHistory`. */
export interface FetchHistoryOptions {
  /** First block to scan (the oracle's deployment block saves time); default 0. */
  fromBlock?: number;
  /** Last block to scan; default the latest. */
  toBlock?: number;
  /** Blocks per `eth_getLogs` request (public nodes cap ranges); default 10,000. */
  blockRange?: number;
  /** A history to extend (only batches after its last are added). */
  into?: MeterHistory;
}

/**
 * The chain's head block number, asked of the node itself: ethers' `getBlockNumber` may answer from
 * its request cache (250 ms) or its polled head, and miss a batch submitted a moment ago.
 */
async function headBlock(provider: Provider): Promise<number> {
  const send = (provider as { send?: (method: string, params: unknown[]) => Promise<unknown> }).send;
  if (typeof send === "function") return Number(await send.call(provider, "eth_blockNumber", []));
  return provider.getBlockNumber();
}

/**
 * Reads every `BatchAccepted` log of the oracle at `oracleAddress` and the readings of each batch
 * from its transaction, through an ethers provider; returns the history (or extends `options.into`).
 * Each batch's root is recomputed and compared with the log's, so a wrong decode cannot go unnoticed.
 */
export async function fetchMeterHistory(
  provider: Provider,
  oracleAddress: string,
  options: FetchHistoryOptions = {},
): Promise<MeterHistory> {
  const history = options.into ?? new MeterHistory();
  const oracle = oracleAddress.toLowerCase();
  const topic = oracleInterface.getEvent("BatchAccepted")!.topicHash;
  const toBlock = options.toBlock ?? (await headBlock(provider));
  const range = options.blockRange ?? 10_000;
  const blockTimes = new Map<number, bigint>();
  for (let from = options.fromBlock ?? 0; from <= toBlock; from += range) {
    const to = Math.min(toBlock, from + range - 1);
    const logs = await provider.getLogs({ address: oracleAddress, topics: [topic], fromBlock: from, toBlock: to });
    for (const log of logs) {
      const event = decodeBatchAccepted(log);
      if (event.batchIndex <= history.lastBatchIndex()) continue;
      let acceptedAt = blockTimes.get(log.blockNumber);
      if (acceptedAt === undefined) {
        const block = await provider.getBlock(log.blockNumber);
        if (!block) throw new Error(`block ${log.blockNumber} not found`);
        acceptedAt = BigInt(block.timestamp);
        blockTimes.set(log.blockNumber, acceptedAt);
      }
      const call = await submitOf(provider, oracle, log.transactionHash, event.batchIndex);
      const batch: AcceptedBatch = {
        batchIndex: event.batchIndex,
        configVersion: event.configVersion,
        timestamp: event.timestamp,
        acceptedAt,
        readingsRoot: event.readingsRoot,
        readings: call.readings,
      };
      if (readingsRoot(batch.readings) !== event.readingsRoot.toLowerCase()) {
        throw new Error(`batch ${event.batchIndex}: readings from ${log.transactionHash} do not match the logged root`);
      }
      history.add(batch);
    }
  }
  return history;
}
