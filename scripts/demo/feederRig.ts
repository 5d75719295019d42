/**
 * What the demo puts around the feeder's real controller: a chain port over an ethers provider (the
 * in-process Hardhat network has no JSON-RPC URL for the feeder's own `EthersChain`), a co-signing
 * decorator (the deployed oracle wants 2 of 3 signatures; the feeder gathers one), a scripted
 * telemetry source around the seeded simulator (idle, normal load, partial outage, silence), and a
 * logger that keeps what the feeder said.
 *
 * Nothing here re-implements the feeder's logic: meters, batching, payloads, the feeder's own
 * signature and the posting policy all run in `feeder/controller.ts`.
 */
import { Transaction, type Provider, type Wallet, type SigningKey } from "ethers";
import { IUsageOracle__factory, type GpuAssetNFT, type UsageOracle } from "../../typechain-types";
import { describeRevert, revertData, shortError } from "../../feeder/chain";
import { encodeSubmit } from "../../feeder/payload";
import type { AssetInfo, ChainPort, Simulation, TxOutcome } from "../../feeder/ports";
import type { SimulatorSource } from "../../feeder/sources/simulator";
import type { TelemetrySource } from "../../feeder/sources/source";
import type { PendingTx } from "../../feeder/state";
import { readingFromMeter, type GpuSample, type Logger, type OracleReading } from "../../feeder/types";
import { makeBatch, oracleDomain, recoverBatchSigner, signBatchWithKey, type Reading } from "../../src/eip712";

const oracleIface = IUsageOracle__factory.createInterface();

/**
 * The feeder's `ChainPort` over any ethers provider and a local key: used on the in-process Hardhat
 * network. Same contract as `feeder/chain.ts` (simulate first, explicit nonce, write-ahead `persist`
 * before broadcast), without the RPC pool, fee caps and replacement that only matter on a real node.
 */
export class ProviderChainPort implements ChainPort {
  readonly signerAddress: string;
  readonly oracleAddress: string;

  constructor(
    private readonly wallet: Wallet,
    private readonly provider: Provider,
    private readonly oracle: UsageOracle,
    private readonly nft: GpuAssetNFT,
    oracleAddress: string,
  ) {
    this.signerAddress = wallet.address;
    this.oracleAddress = oracleAddress;
  }

  async chainId(): Promise<bigint> {
    return (await this.provider.getNetwork()).chainId;
  }

  async configVersion(): Promise<bigint> {
    return this.oracle.configVersion();
  }

  async latestReadings(assetIds: readonly string[]): Promise<Map<string, OracleReading | undefined>> {
    const out = new Map<string, OracleReading | undefined>();
    for (const id of assetIds) {
      const m = await this.oracle.latestReading(BigInt(id));
      out.set(id, readingFromMeter(id, m));
    }
    return out;
  }

  async assetInfo(assetIds: readonly string[]): Promise<Map<string, AssetInfo>> {
    const out = new Map<string, AssetInfo>();
    for (const id of assetIds) {
      const [gpuCount, tdp, status] = await this.nft.meteringLimits(BigInt(id));
      out.set(id, { gpuCount: Number(gpuCount), tdpWattsPerGpu: Number(tdp), status: Number(status) });
    }
    return out;
  }

  async balanceWei(): Promise<bigint> {
    return this.provider.getBalance(this.signerAddress);
  }

  async oracleParams(): Promise<{ maxReadings: number; energyMarginBps: number }> {
    return {
      maxReadings: Number(await this.oracle.MAX_READINGS()),
      energyMarginBps: Number(await this.oracle.energyMarginBps()),
    };
  }

  async simulate(calldata: string): Promise<Simulation> {
    try {
      const gas = await this.provider.estimateGas({ from: this.signerAddress, to: this.oracleAddress, data: calldata });
      return { kind: "ok", gas: (gas * 12n) / 10n };
    } catch (err) {
      const data = revertData(err);
      const reason = data ? describeRevert(data) : shortError(err);
      if (reason.startsWith("BatchAlreadyAccepted")) return { kind: "already-accepted" };
      if (/ConfigVersion|Signer|Threshold/i.test(reason)) return { kind: "stale-config", reason };
      return { kind: "rejected", reason };
    }
  }

  async send(
    calldata: string,
    gasLimit: bigint,
    readings: PendingTx["readings"],
    persist: (p: PendingTx) => void,
  ): Promise<TxOutcome> {
    const nonce = await this.provider.getTransactionCount(this.signerAddress, "pending");
    const fees = await this.provider.getFeeData();
    const raw = await this.wallet.signTransaction({
      type: 2,
      chainId: await this.chainId(),
      nonce,
      to: this.oracleAddress,
      data: calldata,
      gasLimit,
      maxFeePerGas: fees.maxFeePerGas ?? 2_000_000_000n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1_000_000_000n,
    });
    const hash = Transaction.from(raw).hash!;
    persist({ nonce, rawTxs: [raw], hashes: [hash], firstSentAtMs: Date.now(), readings });
    await this.provider.broadcastTransaction(raw);
    return this.wait(hash);
  }

  async resume(pending: PendingTx): Promise<TxOutcome> {
    for (const hash of pending.hashes) {
      const r = await this.provider.getTransactionReceipt(hash);
      if (r) return r.status === 1 ? mined(hash, r) : { kind: "reverted", hash, reason: "reverted on chain" };
    }
    return { kind: "nonce-consumed" };
  }

  /** Polls for the receipt (a dev chain mines at once; bounded for one that does not). */
  private async wait(hash: string): Promise<TxOutcome> {
    for (let attempt = 0; attempt < 600; attempt++) {
      const r = await this.provider.getTransactionReceipt(hash);
      if (r) return r.status === 1 ? mined(hash, r) : { kind: "reverted", hash, reason: "reverted on chain" };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { kind: "not-mined-yet" };
  }
}

function mined(hash: string, r: { gasUsed: bigint; blockNumber: number }): TxOutcome {
  return { kind: "mined", hash, gasUsed: r.gasUsed, blockNumber: r.blockNumber };
}

/** One accepted `submit`, as the demo reports it. */
export interface PostRecord {
  hash: string;
  gasUsed: bigint;
  readings: number;
}

/**
 * A second oracle operator's co-signature, added on the way to the chain. The feeder signs every
 * batch with its own key (one signature, `feeder/payload.ts`); the oracle deployed from
 * `config/<network>.json` needs `threshold` distinct signers. This decorator decodes the feeder's
 * `submit` calldata, checks that its signature recovers to the feeder, adds the co-signers'
 * EIP-712 signatures over the very same batch (`src/eip712.ts`) and re-encodes it (the feeder's own
 * `encodeSubmit`). Signatures are deterministic (RFC 6979), so `simulate` and `send` see the same bytes.
 */
export class CoSigningChainPort implements ChainPort {
  readonly posts: PostRecord[] = [];

  constructor(
    private readonly inner: ChainPort,
    private readonly feederAddress: string,
    private readonly coSigners: SigningKey[],
    private readonly chainIdValue: bigint,
  ) {}

  get signerAddress(): string {
    return this.inner.signerAddress;
  }
  get oracleAddress(): string {
    return this.inner.oracleAddress;
  }

  private cosign(calldata: string): { calldata: string; readings: number } {
    const [configVersion, rawReadings, signatures] = oracleIface.decodeFunctionData("submit", calldata) as unknown as [
      bigint,
      Reading[],
      string[],
    ];
    const readings: Reading[] = rawReadings.map((r) => ({
      assetId: r.assetId,
      timestamp: r.timestamp,
      busyGpuSeconds: r.busyGpuSeconds,
      availableGpuSeconds: r.availableGpuSeconds,
      energyJ: r.energyJ,
    }));
    const batch = makeBatch(configVersion, readings);
    const domain = oracleDomain(this.chainIdValue, this.inner.oracleAddress);
    const first = recoverBatchSigner(domain, batch, signatures[0]);
    if (first.toLowerCase() !== this.feederAddress.toLowerCase()) {
      throw new Error(`co-signer refuses: the batch is signed by ${first}, not by the feeder ${this.feederAddress}`);
    }
    const all = [...signatures, ...this.coSigners.map((k) => signBatchWithKey(k, domain, batch))];
    return { calldata: encodeSubmit(configVersion, readings, all), readings: readings.length };
  }

  chainId(): Promise<bigint> {
    return this.inner.chainId();
  }
  configVersion(): Promise<bigint> {
    return this.inner.configVersion();
  }
  latestReadings(assetIds: readonly string[]): Promise<Map<string, OracleReading | undefined>> {
    return this.inner.latestReadings(assetIds);
  }
  assetInfo(assetIds: readonly string[]): Promise<Map<string, AssetInfo>> {
    return this.inner.assetInfo(assetIds);
  }
  balanceWei(): Promise<bigint> {
    return this.inner.balanceWei();
  }
  oracleParams(): Promise<{ maxReadings: number; energyMarginBps: number }> {
    return this.inner.oracleParams();
  }
  simulate(calldata: string): Promise<Simulation> {
    return this.inner.simulate(this.cosign(calldata).calldata);
  }
  async send(
    calldata: string,
    gasLimit: bigint,
    readings: PendingTx["readings"],
    persist: (p: PendingTx) => void,
  ): Promise<TxOutcome> {
    const signed = this.cosign(calldata);
    const outcome = await this.inner.send(signed.calldata, gasLimit, readings, persist);
    if (outcome.kind === "mined")
      this.posts.push({ hash: outcome.hash, gasUsed: outcome.gasUsed, readings: signed.readings });
    return outcome;
  }
  resume(pending: PendingTx, persist: (p: PendingTx) => void): Promise<TxOutcome> {
    return this.inner.resume(pending, persist);
  }
}

/** What a server's telemetry looks like at a moment of the story. */
export type Condition =
  /** No tenant: GPUs report 0 % and idle power. */
  | { kind: "idle" }
  /** The simulator's seeded load. */
  | { kind: "load" }
  /** The last `silentGpus` GPUs stop reporting (they are down); the others carry on. */
  | { kind: "outage"; silentGpus: number }
  /** Nothing reports at all. */
  | { kind: "silent" };

/** The seeded simulator of one server, with the story's conditions applied to its samples. */
export class ScriptedSource implements TelemetrySource {
  readonly name: string;

  constructor(
    private readonly inner: SimulatorSource,
    private readonly gpus: string[],
    private readonly condition: () => Condition,
    name: string,
    /** The simulator runs this far ahead of the story's clock; samples are stamped back on the clock. */
    private readonly shiftMs = 0,
  ) {
    this.name = name;
  }

  async read(): Promise<GpuSample[]> {
    const c = this.condition();
    if (c.kind === "silent") return [];
    const samples = (await this.inner.read()).map((s) => ({ ...s, timeMs: s.timeMs - this.shiftMs }));
    if (c.kind === "outage") {
      const down = new Set(this.gpus.slice(this.gpus.length - c.silentGpus));
      return samples.filter((s) => !down.has(s.uuid));
    }
    if (c.kind === "idle") {
      return samples.map((s) => ({ ...s, utilizationPct: 0, powerW: this.inner.sim.idleWatts }));
    }
    return samples;
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}

/** A logger that keeps the feeder's warnings and errors (the demo shows them and fails on errors). */
export class KeepingLogger implements Logger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  debug(): void {}
  info(): void {}
  warn(obj: object, msg?: string): void {
    this.warnings.push(`${msg ?? ""} ${JSON.stringify(obj, bigintJson)}`);
  }
  error(obj: object, msg?: string): void {
    this.errors.push(`${msg ?? ""} ${JSON.stringify(obj, bigintJson)}`);
  }
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
