/**
 * The feeder's state file: meters, per-GPU baselines, last built/posted readings and the in-flight
 * transaction (written before it is broadcast, so a restart can find it). Writes are atomic: a
 * temporary file in the same directory is written and fsynced, then renamed over the old one.
 */
import fs from "node:fs";
import path from "node:path";
import type { CoSignState } from "./cosign/node";
import { emptyMeterState, type MeterState, type StoredReading } from "./meters";

export const STATE_VERSION = 2;

/** A submitted (or about to be submitted) transaction, with everything needed to resume it. */
export interface PendingTx {
  nonce: number;
  /** Every raw signed transaction sent for this nonce (original and fee-bumped replacements). */
  rawTxs: string[];
  hashes: string[];
  firstSentAtMs: number;
  /** The readings in the batch, by asset id. */
  readings: Record<string, StoredReading>;
}

export interface FeederState {
  version: number;
  chainId: string;
  oracle: string;
  meters: MeterState;
  pending?: PendingTx;
  lastSuccessfulPostMs?: number;
  /** Read positions of file sources, by source name (so `--once` runs read each line once). */
  sourceCursors?: Record<string, unknown>;
  /** Co-signing: this feeder's view of the oracle's batches and its anchors. */
  cosign?: CoSignState;
}

export function emptyState(chainId: bigint, oracle: string): FeederState {
  return {
    version: STATE_VERSION,
    chainId: chainId.toString(),
    oracle: oracle.toLowerCase(),
    meters: emptyMeterState(),
  };
}

export interface StateStore {
  load(): FeederState | undefined;
  save(state: FeederState): void;
}

/** Writes `data` to `file` atomically (temp file + fsync + rename + directory fsync). */
export function writeFileAtomic(file: string, data: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(dir, "r");
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // Directory fsync is not supported everywhere; the rename is still atomic.
  }
}

export class FileStateStore implements StateStore {
  constructor(readonly file: string) {}

  load(): FeederState | undefined {
    if (!fs.existsSync(this.file)) return undefined;
    const parsed = JSON.parse(fs.readFileSync(this.file, "utf8")) as FeederState;
    if (parsed.version !== STATE_VERSION)
      throw new Error(`state file ${this.file} has version ${parsed.version}, expected ${STATE_VERSION}`);
    return parsed;
  }

  save(state: FeederState): void {
    writeFileAtomic(this.file, JSON.stringify(state));
  }
}

/** Keeps state in memory (dry runs, tests). */
export class MemoryStateStore implements StateStore {
  state?: FeederState;
  saves = 0;
  load(): FeederState | undefined {
    return this.state ? (JSON.parse(JSON.stringify(this.state)) as FeederState) : undefined;
  }
  save(state: FeederState): void {
    this.saves++;
    this.state = JSON.parse(JSON.stringify(state)) as FeederState;
  }
}
