/**
 * The interfaces the controller and the co-signer know. `chain.ts` implements `ChainPort` against a
 * JSON-RPC node and UsageOracle v2; tests may implement it in memory.
 */
import type { AcceptedBatch } from "../src/meterHistory";
import type { PendingTx } from "./state";
import type { AssetLimits } from "./types";

/** Result of simulating a `submit` before sending it. */
export type Simulation =
  /** `gas`: the gas limit to send with (estimate plus headroom, within the cap). */
  | { kind: "ok"; gas: bigint }
  /** The batch index is filled already (another transmitter was first, or a replay). */
  | { kind: "index-taken"; reason: string }
  | { kind: "stale-config"; reason: string }
  | { kind: "too-large"; gas: bigint }
  | { kind: "rejected"; reason: string };

/** How a sent (or resumed) transaction ended. */
export type TxOutcome =
  | { kind: "mined"; hash: string; gasUsed: bigint; blockNumber: number }
  | { kind: "reverted"; hash: string; reason: string }
  | { kind: "nonce-consumed" }
  | { kind: "not-mined-yet" }
  | { kind: "fee-too-high"; baseFeeGwei: string };

export interface AssetInfo extends AssetLimits {
  /** 0 Active, 1 Maintenance, 2 Retired (AssetStatus). */
  status: number;
}

/** The oracle's signer set: who may sign, how many signatures a batch needs, under which version. */
export interface SignerSet {
  signers: string[];
  threshold: number;
  configVersion: bigint;
}

export interface ChainPort {
  readonly signerAddress: string;
  readonly oracleAddress: string;
  chainId(): Promise<bigint>;
  configVersion(): Promise<bigint>;
  assetInfo(assetIds: readonly string[]): Promise<Map<string, AssetInfo>>;
  balanceWei(): Promise<bigint>;
  /** The oracle's batch size limit and energy margin (bps above gpuCount × TDP). */
  oracleParams(): Promise<{ maxReadings: number; energyMarginBps: number }>;
  signerSet(): Promise<SignerSet>;
  /** Accepted batches with index ≥ `fromIndex`, in order (logs + the readings from each `submit`'s calldata). */
  acceptedBatches(fromIndex: number): Promise<AcceptedBatch[]>;
  simulate(calldata: string): Promise<Simulation>;
  /**
   * Signs and broadcasts `calldata` with an explicit nonce, then waits for it, replacing it with a
   * bumped fee while it is stuck. `persist` is called with the pending transaction before every
   * broadcast (write-ahead), so a restart can resume it.
   */
  send(
    calldata: string,
    gasLimit: bigint,
    readings: PendingTx["readings"],
    persist: (p: PendingTx) => void,
  ): Promise<TxOutcome>;
  /** Resumes a transaction found in the state file at start (rebroadcasts it, waits, replaces if stuck). */
  resume(pending: PendingTx, persist: (p: PendingTx) => void): Promise<TxOutcome>;
}

/** An RPC failure that retries and the other URLs did not overcome; the next cycle tries again. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = "TransientError";
  }
}

/** A failure the feeder cannot recover from by waiting (wrong chain, no code at the oracle, …). */
export class FatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FatalError";
  }
}
