/**
 * Test rig for the oracle v2: posts real signed batches (k EIP-712 signatures, 28-byte packed readings
 * linked to each asset's previous batch) and rebuilds proofs from the chain's `BatchAccepted` logs
 * with `src/meterHistory.ts` — the same code the demo, the feeder and integrators use. Nothing is
 * cached between calls: the history is read back from the chain each time, so `loadFixture`
 * snapshots stay consistent.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer, TypedDataDomain, Wallet } from "ethers";
import type { UsageOracle } from "../../typechain-types";
import { makeBatch, signBatch, submitArgs, type Meter, type Reading, type UsageBatch } from "../../src/eip712";
import { fetchMeterHistory, type MeterHistory } from "../../src/meterHistory";

/** Cumulative values of one asset at one reading. */
export interface Values {
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** Increments of one asset's counters since its latest reading. */
export type Deltas = Partial<Values>;

export class OracleRig {
  constructor(
    readonly oracle: UsageOracle,
    readonly signers: Wallet[],
    readonly domain: TypedDataDomain,
    readonly transmitter: Signer,
  ) {}

  /** The oracle's whole history, read from the chain. */
  async history(): Promise<MeterHistory> {
    return fetchMeterHistory(ethers.provider, await this.oracle.getAddress());
  }

  /** The asset's latest values (zero before its first reading) and reading time. */
  async latest(assetId: bigint): Promise<Meter> {
    const r = (await this.history()).latest(assetId);
    return r ? r.meter : { timestamp: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n };
  }

  /**
   * Signs (by the first `threshold` signers unless `by` is given) a batch at `timestamp` with the given
   * cumulative values per asset, each linked to the asset's previous batch.
   */
  async sign(
    timestamp: bigint,
    values: Map<bigint, Values>,
    by?: Wallet[],
  ): Promise<{ batch: UsageBatch; signatures: string[] }> {
    const history = await this.history();
    const readings: Reading[] = [...values.entries()].map(([assetId, v]) => ({
      assetId,
      previousBatch: history.previousBatchOf(assetId),
      ...v,
    }));
    const batch = makeBatch(
      await this.oracle.configVersion(),
      BigInt(await this.oracle.nextBatchIndex()),
      timestamp,
      readings,
    );
    const signers = by ?? this.signers.slice(0, Number(await this.oracle.threshold()));
    const signatures = await Promise.all(signers.map((s) => signBatch(s, this.domain, batch)));
    return { batch, signatures };
  }

  /** Submits a signed batch from the transmitter. */
  async submit(batch: UsageBatch, signatures: string[]) {
    return this.oracle.connect(this.transmitter).submit(...submitArgs(batch, signatures));
  }

  /**
   * Posts one batch at `timestamp` (the chain is moved so the transaction runs at it, or later when
   * it is in the past) with cumulative values per asset.
   */
  async post(timestamp: bigint, values: Map<bigint, Values>) {
    const now = BigInt(await time.latest());
    if (timestamp > now) await time.setNextBlockTimestamp(timestamp);
    const { batch, signatures } = await this.sign(timestamp, values);
    return this.submit(batch, signatures);
  }

  /** Posts one reading of one asset at `timestamp`: its latest values plus `deltas` (a first reading starts at `base`). */
  async postDeltas(assetId: bigint, timestamp: bigint, deltas: Deltas, base: Values = FIRST_VALUES) {
    const last = await this.latest(assetId);
    const from = last.timestamp === 0n ? base : last;
    const values: Values = {
      busyGpuSeconds: from.busyGpuSeconds + (deltas.busyGpuSeconds ?? 0n),
      availableGpuSeconds: from.availableGpuSeconds + (deltas.availableGpuSeconds ?? 0n),
      energyJ: from.energyJ + (deltas.energyJ ?? 0n),
    };
    await this.post(timestamp, new Map([[assetId, values]]));
    return values;
  }

  /**
   * Posts one reading of `assetId` at `timestamp` with the given fractions (bps) of the elapsed
   * capacity busy and available, and energy at `watts` per busy GPU.
   */
  async postUse(
    assetId: bigint,
    timestamp: bigint,
    gpuCount: bigint,
    availableBps: bigint,
    busyBps: bigint,
    watts = 0n,
  ) {
    const last = await this.latest(assetId);
    const capacity = last.timestamp === 0n ? 0n : gpuCount * (timestamp - last.timestamp);
    const busy = (capacity * busyBps) / 10_000n;
    return this.postDeltas(assetId, timestamp, {
      busyGpuSeconds: busy,
      availableGpuSeconds: (capacity * availableBps) / 10_000n,
      energyJ: busy * watts,
    });
  }
}

/** Counters of an asset's first reading in tests: cumulative since "some" origin, so not zero. */
export const FIRST_VALUES: Values = { busyGpuSeconds: 1_000n, availableGpuSeconds: 5_000n, energyJ: 1_000_000n };
