/**
 * The feeder's controller: polls sources into meters, and on the posting interval builds, signs,
 * simulates and sends batches. It only knows interfaces (sources, chain port, signer, state store,
 * logger, clock). Errors are classified: expected outcomes (already accepted, nothing to post) are
 * logged and skipped; transient ones (RPC down) are retried next cycle; fatal ones stop the feeder.
 */
import { selectBatches } from "./batching";
import {
  buildReading,
  ingestSamples,
  reconcileWithChain,
  toStored,
  type AssetState,
  type MeterOptions,
} from "./meters";
import type { FeederMetrics, GpuStatus } from "./metrics";
import { RateLimitedLog } from "./ratelimit";
import { buildSignedBatch, batchToJson, type BatchSigner, type SignedBatch } from "./payload";
import { FatalError, TransientError, type AssetInfo, type ChainPort, type TxOutcome } from "./ports";
import type { TelemetrySource } from "./sources/source";
import { emptyState, type FeederState, type PendingTx, type StateStore } from "./state";
import type { CoSigner } from "./cosign/node";
import type { ReadingLimits } from "./cosign/anchors";
import type { GpuSample, Logger, OracleReading } from "./types";
import { shortError } from "./chain";

export interface ControllerOptions {
  assets: { assetId: string; gpus: string[] }[];
  pollIntervalMs: number;
  postIntervalMs: number;
  heartbeatSeconds: number;
  maxBatchSize: number;
  maxBatchesPerCycle: number;
  staleAfterSeconds: number;
  chainId: bigint;
  shutdownGraceMs: number;
  dryRun: boolean;
  /** Where `--dry-run` prints payloads. */
  print?: (json: string) => void;
  /** Co-signing peers configured (the threshold must be reachable: 1 + peers ≥ threshold). */
  peerCount?: number;
  /** How often a repeated warning (parse errors, busy unknown) is logged at most. Default 60 s. */
  warnIntervalMs?: number;
}

/** Why a `--once` run did not post everything it should have (empty: it did). */
export type RunProblem = string;

const RETIRED = 2;
const MAX_SPLIT_DEPTH = 12;

export class Controller {
  state!: FeederState;
  private readonly assetOfGpu = new Map<string, string>();
  private readonly startedAtMs: number;
  private info = new Map<string, AssetInfo>();
  private configVersion = 0n;
  /** gpuCount × TDP × Δt × this / 10000 bounds energy (the oracle's 10000 + energyMarginBps). */
  private energyFactorBps = 10_000;
  private maxBatchSize = 1;
  private stopping = false;
  private inFlight?: Promise<void>;
  private loops: Promise<void>[] = [];
  private readonly warnOnce: RateLimitedLog;
  /** Problems met since the last `takeProblems()` (a run that could not post what it should have). */
  private problems: RunProblem[] = [];

  constructor(
    private readonly sources: TelemetrySource[],
    private readonly chain: ChainPort,
    private readonly signer: BatchSigner,
    private readonly store: StateStore,
    private readonly metrics: FeederMetrics,
    private readonly log: Logger,
    private readonly options: ControllerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAtMs = now();
    for (const a of options.assets) for (const g of a.gpus) this.assetOfGpu.set(g, a.assetId);
    this.warnOnce = new RateLimitedLog(log, options.warnIntervalMs ?? 60_000, now);
    metrics.gpuStatus = () => this.gpuStatus();
  }

  /** Every configured GPU of an asset that is metered (not retired), for metrics and health. */
  gpuStatus(): GpuStatus[] {
    const out: GpuStatus[] = [];
    for (const a of this.options.assets) {
      if (this.info.get(a.assetId)?.status === RETIRED) continue;
      for (const gpu of a.gpus) {
        const g = this.state?.meters.gpus[gpu];
        out.push({
          gpu,
          assetId: a.assetId,
          lastSampleMs:
            g && g.lastTimeMs >= this.startedAtMs - this.options.staleAfterSeconds * 1000 ? g.lastTimeMs : undefined,
          busyKnown: g?.busyKnown,
          busyUnknownSeconds: g?.busyUnknownSeconds ?? 0,
        });
      }
    }
    return out;
  }

  /** Returns and clears the problems met since the last call (see `RunProblem`). */
  takeProblems(): RunProblem[] {
    const p = this.problems;
    this.problems = [];
    return p;
  }

  private problem(p: RunProblem): void {
    this.problems.push(p);
  }

  /** The configured key of a sample's GPU (its UUID, or an alias), or undefined if not configured. */
  private resolve(s: GpuSample): GpuSample | undefined {
    if (this.assetOfGpu.has(s.uuid)) return s;
    const key = s.aliases?.find((k) => this.assetOfGpu.has(k));
    return key === undefined ? undefined : { ...s, uuid: key };
  }

  private get assetIds(): string[] {
    return this.options.assets.map((a) => a.assetId);
  }

  private meterOptions(): MeterOptions {
    return { staleAfterSeconds: this.options.staleAfterSeconds };
  }

  private save(): void {
    if (!this.options.dryRun) this.store.save(this.state);
  }

  /** Saves the state file now (the co-signer's hook). */
  saveState(): void {
    this.save();
  }

  private cosigner?: CoSigner;

  /**
   * Posts through a co-signer (k-of-n between operators) instead of signing alone. Set before
   * `start()`; the controller then only samples and meters, and the co-signer follows the chain.
   */
  useCoSigner(c: CoSigner): void {
    this.cosigner = c;
  }

  /** What the oracle allows an asset to accrue (undefined for unknown or retired assets). */
  limitsOf(assetId: string): ReadingLimits | undefined {
    const i = this.info.get(assetId);
    if (!i || i.status === RETIRED) return undefined;
    return { gpuCount: i.gpuCount, tdpWattsPerGpu: i.tdpWattsPerGpu, energyFactorBps: this.energyFactorBps };
  }

  /** Loads state, reads the chain, reconciles meters with on-chain readings, resumes an in-flight tx. */
  async start(): Promise<void> {
    const loaded = this.store.load();
    const chainId = this.options.chainId.toString();
    const oracle = this.chain.oracleAddress.toLowerCase();
    if (loaded && (loaded.chainId !== chainId || loaded.oracle !== oracle)) {
      throw new FatalError(
        `state file belongs to chain ${loaded.chainId} oracle ${loaded.oracle}, not chain ${chainId} oracle ${oracle}: point stateFile elsewhere`,
      );
    }
    this.state = loaded ?? emptyState(this.options.chainId, oracle);
    for (const src of this.sources) {
      const c = this.state.sourceCursors?.[src.name];
      if (c !== undefined && src.restoreCursor) (src.restoreCursor as (c: unknown) => void)(c);
    }
    this.info = await this.chain.assetInfo(this.assetIds);
    for (const a of this.options.assets) {
      const i = this.info.get(a.assetId)!;
      if (i.gpuCount !== a.gpus.length)
        this.log.warn(
          { assetId: a.assetId, onChainGpuCount: i.gpuCount, configuredGpus: a.gpus.length },
          "configured GPU list differs from the on-chain gpuCount",
        );
      if (i.status === RETIRED) this.log.warn({ assetId: a.assetId }, "asset is retired: it is not metered");
    }
    this.configVersion = await this.chain.configVersion();
    await this.checkSignerSet();
    const params = await this.chain.oracleParams();
    this.energyFactorBps = 10_000 + params.energyMarginBps;
    this.maxBatchSize = Math.min(this.options.maxBatchSize, params.maxReadings);
    if (this.maxBatchSize < this.options.maxBatchSize) {
      this.log.warn({ maxBatchSize: this.maxBatchSize }, "maxBatchSize lowered to the oracle's MAX_READINGS");
    }
    if (this.cosigner) {
      await this.cosigner.refresh();
      this.metrics.lastSuccessfulPostMs = this.state.lastSuccessfulPostMs;
      this.save();
      await this.refreshBalance();
      this.log.info(
        {
          assets: this.assetIds.length,
          nextBatchIndex: this.state.cosign?.view.nextBatchIndex,
          peers: this.options.peerCount,
        },
        "feeder started (co-signing)",
      );
      return;
    }
    const latest = await this.chain.latestReadings(this.assetIds);
    const nowMs = this.now();
    for (const id of this.assetIds) {
      const asset = this.asset(id);
      const outcome = reconcileWithChain(asset, latest.get(id), nowMs);
      if (outcome === "chain-ahead" || outcome === "chain-behind")
        this.log.warn({ assetId: id, outcome }, "local meter reconciled with the chain");
      if (asset.lastPosted) this.metrics.lastPostS.set(id, asset.lastPosted.timestamp);
    }
    this.metrics.lastSuccessfulPostMs = this.state.lastSuccessfulPostMs;
    this.save();
    await this.refreshBalance();
    this.log.info(
      {
        assets: this.assetIds.length,
        configVersion: this.configVersion.toString(),
        pending: this.state.pending?.nonce ?? null,
      },
      "feeder started",
    );
    if (this.state.pending && !this.options.dryRun) await this.resolvePending();
  }

  private asset(id: string): AssetState {
    let a = this.state.meters.assets[id];
    if (!a) {
      a = { meter: { busyGpuSeconds: 0, availableGpuSeconds: 0, energyJ: 0, timeMs: 0 } };
      this.state.meters.assets[id] = a;
    }
    return a;
  }

  /**
   * Reads every source once and folds the samples into the meters. Parse errors are counted by
   * source and logged (rate-limited); a GPU whose busy time is unknown is warned about (rate-limited).
   */
  async pollOnce(): Promise<number> {
    const results = await Promise.allSettled(this.sources.map((s) => s.read()));
    let used = 0;
    const gapsBefore = this.totalGapSeconds();
    results.forEach((r, i) => {
      const source = this.sources[i];
      const name = source.name;
      if (r.status === "rejected") {
        this.metrics.incSourceError(name);
        this.warnOnce.warn(`read:${name}`, { source: name, err: shortError(r.reason) }, "source read failed");
        return;
      }
      const errors = source.lastErrors ?? [];
      if (errors.length) {
        this.metrics.incParseErrors(name, errors.length);
        this.warnOnce.warn(
          `parse:${name}`,
          { source: name, errors: errors.length, first: errors[0].slice(0, 300) },
          "telemetry parse errors: lines or fields skipped",
        );
      }
      this.metrics.incSamples(name, r.value.length);
      const mapped: GpuSample[] = [];
      for (const s of r.value) {
        const m = this.resolve(s);
        if (m) mapped.push(m);
      }
      used += ingestSamples(this.state.meters, mapped, this.assetOfGpu, this.meterOptions());
    });
    for (const g of this.gpuStatus()) {
      if (g.busyKnown === false)
        this.warnOnce.warn(
          `busy:${g.gpu}`,
          { gpu: g.gpu, assetId: g.assetId, busyUnknownSeconds: Math.round(g.busyUnknownSeconds) },
          "busy time UNKNOWN for this GPU: its telemetry has no utilization (nvidia-smi under MIG prints [N/A]; " +
            "DCGM needs DCGM_FI_DEV_GPU_UTIL or DCGM_FI_PROF_GR_ENGINE_ACTIVE enabled). No busy time is posted for it.",
        );
    }
    this.cosigner?.record(this.state.meters.assets);
    for (const src of this.sources) {
      const c = src.cursor?.();
      if (c !== undefined) (this.state.sourceCursors ??= {})[src.name] = c;
    }
    const gap = this.totalGapSeconds() - gapsBefore;
    if (gap > 0) {
      this.log.warn(
        { gapGpuSeconds: Math.round(gap), staleAfterSeconds: this.options.staleAfterSeconds },
        "samples further apart than staleAfterSeconds: that time is not available (not billed)",
      );
      this.problem(
        `${Math.round(gap)} GPU-seconds fell between samples more than staleAfterSeconds (${this.options.staleAfterSeconds} s) apart and are not metered`,
      );
    }
    this.save();
    return used;
  }

  private totalGapSeconds(): number {
    let sum = 0;
    for (const g of Object.values(this.state.meters.gpus)) sum += g.gapSeconds ?? 0;
    return sum;
  }

  /** One posting cycle: resume a pending tx, then post the selected batches. Returns batches handled. */
  async postOnce(): Promise<number> {
    if (this.cosigner) {
      const r = await this.cosigner.cycle();
      if (r === "failed") this.problem("a co-signing round did not get a batch accepted");
      return r === "submitted" ? 1 : 0;
    }
    if (this.state.pending) {
      const still = await this.resolvePending();
      if (still) return 0;
    }
    const eligible = this.assetIds.filter((id) => this.info.get(id)?.status !== RETIRED);
    const batches = selectBatches(
      this.state.meters.assets,
      eligible,
      {
        maxBatchSize: this.maxBatchSize,
        maxBatches: this.options.maxBatchesPerCycle,
        heartbeatSeconds: this.options.heartbeatSeconds,
      },
      this.now(),
    );
    let handled = 0;
    for (const ids of batches) {
      if (this.stopping && !this.options.dryRun) break;
      const readings: OracleReading[] = [];
      const nowS = Math.floor(this.now() / 1000);
      for (const id of ids) {
        const r = buildReading(id, this.asset(id), this.info.get(id)!, {
          energyMarginBps: this.energyFactorBps,
          nowS,
        });
        if (r) readings.push(r);
      }
      if (readings.length === 0) continue;
      await this.postReadings(readings, 0);
      handled++;
      if (this.state.pending) break; // one transaction in flight at a time
    }
    return handled;
  }

  private async postReadings(readings: OracleReading[], depth: number): Promise<void> {
    let batch = await buildSignedBatch(this.signer, this.configVersion, readings);
    if (this.options.dryRun) {
      (this.options.print ?? ((s: string) => process.stdout.write(s + "\n")))(
        JSON.stringify(batchToJson(batch, this.chain.oracleAddress), null, 2),
      );
      this.metrics.incPost("dry-run");
      return;
    }
    let sim = await this.chain.simulate(batch.calldata);
    if (sim.kind === "stale-config") {
      const fresh = await this.chain.configVersion();
      this.log.warn(
        { reason: sim.reason, configVersion: fresh.toString() },
        "signer configuration changed; re-signing",
      );
      this.configVersion = fresh;
      batch = await buildSignedBatch(this.signer, this.configVersion, readings);
      sim = await this.chain.simulate(batch.calldata);
    }
    switch (sim.kind) {
      case "ok":
        return this.send(batch, sim.gas);
      case "already-accepted":
        this.metrics.incPost("already-accepted");
        this.log.info({ readings: readings.length }, "batch already accepted; nothing to send");
        return this.confirm(
          readings.map((r) => r.assetId.toString()),
          true,
        );
      case "too-large":
      case "rejected": {
        if (readings.length > 1 && depth < MAX_SPLIT_DEPTH) {
          this.log.info(
            { readings: readings.length, why: sim.kind === "too-large" ? `gas ${sim.gas}` : sim.reason },
            "splitting batch",
          );
          const half = Math.ceil(readings.length / 2);
          await this.postReadings(readings.slice(0, half), depth + 1);
          if (!this.state.pending) await this.postReadings(readings.slice(half), depth + 1);
          return;
        }
        this.metrics.incPost("rejected");
        const reason = sim.kind === "rejected" ? sim.reason : "too large";
        this.log.error(
          { assetIds: readings.map((r) => r.assetId.toString()), reason },
          "reading rejected by simulation; not sent",
        );
        this.problem(`reading(s) of asset(s) ${readings.map((r) => r.assetId).join(", ")} refused: ${reason}`);
        return;
      }
      default:
        this.metrics.incPost("rejected");
        this.log.error({ reason: sim.reason }, "batch refused after re-signing");
        await this.checkSignerSet();
        this.problem(`batch refused after re-signing: ${sim.reason}`);
    }
  }

  private persistPending = (p: PendingTx) => {
    for (const [id, r] of Object.entries(p.readings)) this.asset(id).lastBuilt = r;
    this.state.pending = p;
    this.save();
  };

  private async send(batch: SignedBatch, gasLimit: bigint): Promise<void> {
    const readings: PendingTx["readings"] = {};
    for (const r of batch.readings) readings[r.assetId.toString()] = toStored(r);
    const outcome = await this.chain.send(batch.calldata, gasLimit, readings, this.persistPending);
    await this.finish(outcome, Object.keys(readings));
  }

  /** Resumes the state file's pending tx; returns true while it is still not mined. */
  private async resolvePending(): Promise<boolean> {
    const pending = this.state.pending!;
    this.log.info({ nonce: pending.nonce, hashes: pending.hashes }, "resuming pending transaction");
    const outcome = await this.chain.resume(pending, this.persistPending);
    await this.finish(outcome, Object.keys(pending.readings));
    return this.state.pending !== undefined;
  }

  private async finish(outcome: TxOutcome, assetIds: string[]): Promise<void> {
    switch (outcome.kind) {
      case "mined":
        this.metrics.incPost("accepted");
        this.log.info(
          {
            hash: outcome.hash,
            gasUsed: outcome.gasUsed.toString(),
            block: outcome.blockNumber,
            readings: assetIds.length,
          },
          "batch accepted",
        );
        break;
      case "fee-too-high":
        this.metrics.incPost("fee-too-high");
        this.problem(`base fee ${outcome.baseFeeGwei} gwei above the configured cap: nothing sent`);
        this.log.warn(
          { baseFeeGwei: outcome.baseFeeGwei },
          "base fee above the configured cap; not sending this cycle",
        );
        return;
      case "not-mined-yet":
        this.metrics.incPost("not-mined-yet");
        this.problem(`transaction ${this.state.pending?.hashes.at(-1) ?? ""} not mined yet`);
        this.log.warn({ nonce: this.state.pending?.nonce }, "transaction not mined yet; will keep waiting");
        return;
      default:
        this.metrics.incPost(outcome.kind);
        this.log.warn({ outcome }, "transaction did not land as sent; reconciling with the chain");
        if (outcome.kind === "reverted") this.problem(`transaction ${outcome.hash} reverted: ${outcome.reason}`);
    }
    delete this.state.pending;
    await this.confirm(assetIds, outcome.kind === "mined");
  }

  /** Takes the chain's word for what is posted for these assets. */
  private async confirm(assetIds: string[], success: boolean): Promise<void> {
    const latest = await this.chain.latestReadings(assetIds);
    const nowMs = this.now();
    for (const id of assetIds) {
      const chainReading = latest.get(id);
      if (!chainReading) continue;
      const asset = this.asset(id);
      const prevTs = asset.lastPosted?.timestamp ?? 0;
      reconcileWithChain(asset, chainReading, nowMs);
      if (Number(chainReading.timestamp) > prevTs) asset.lastPostedAtMs = nowMs;
      this.metrics.lastPostS.set(id, Number(chainReading.timestamp));
    }
    if (success) {
      this.state.lastSuccessfulPostMs = nowMs;
      this.metrics.lastSuccessfulPostMs = nowMs;
    }
    this.save();
    await this.refreshBalance();
  }

  /**
   * Fatal unless this feeder's key is a current signer and the threshold is one it can meet. At
   * start, and again whenever the oracle refuses a batch after re-signing (the set may have changed).
   */
  async checkSignerSet(): Promise<void> {
    if (!this.chain.signerSet) return;
    const set = await this.chain.signerSet();
    const me = this.chain.signerAddress.toLowerCase();
    if (!set.signers.some((s) => s.toLowerCase() === me))
      throw new FatalError(
        `this feeder's key ${this.chain.signerAddress} is not a current signer of the oracle ` +
          `(signers: ${set.signers.join(", ")}; version ${set.configVersion}): it cannot sign batches`,
      );
    const peers = this.options.peerCount ?? 0;
    if (set.threshold > 1 + peers)
      throw new FatalError(
        `the oracle needs ${set.threshold} signatures per batch and this feeder has ${peers} peer(s) configured: ` +
          `configure at least ${set.threshold - 1} co-signing peers (see docs/feeder.md, "Co-signing")`,
      );
  }

  private async refreshBalance(): Promise<void> {
    try {
      this.metrics.balanceWei = await this.chain.balanceWei();
    } catch (err) {
      this.log.warn({ err: shortError(err) }, "cannot read wallet balance");
    }
  }

  /** `--once` / `--dry-run`: start, one poll, one posting cycle. */
  async runOnce(): Promise<void> {
    await this.start();
    await this.pollOnce();
    await this.postCycle();
  }

  /** Runs until `stop()`; transient errors are logged and retried on the next cycle. */
  async run(): Promise<void> {
    await this.start();
    this.loops = [
      this.loop(this.options.pollIntervalMs, () => this.pollOnce().then(() => undefined)),
      this.loop(this.options.postIntervalMs, () => this.postCycle(), true),
    ];
    await Promise.all(this.loops);
  }

  /** One posting cycle as the loop runs it: transient and unexpected errors are logged, not thrown. */
  async postCycle(): Promise<void> {
    const work = this.postOnce().then(
      () => undefined,
      (err) => {
        if (err instanceof FatalError) throw err;
        this.metrics.incPost(err instanceof TransientError ? "transient-error" : "error");
        this.problem(`posting cycle failed: ${shortError(err)}`);
        this.log.error(
          { err: shortError(err), kind: err instanceof TransientError ? "transient" : "unexpected" },
          "posting cycle failed; retrying next cycle",
        );
      },
    );
    this.inFlight = work;
    try {
      await work;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async loop(intervalMs: number, body: () => Promise<void>, waitFirst = false): Promise<void> {
    if (waitFirst) await this.sleep(intervalMs);
    while (!this.stopping) {
      try {
        await body();
      } catch (err) {
        if (err instanceof FatalError) {
          this.stopping = true;
          this.wakeAll();
          throw err;
        }
        this.log.error({ err: shortError(err) }, "cycle failed");
      }
      await this.sleep(intervalMs);
    }
  }

  private wakers = new Set<() => void>();

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private wakeAll(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Stops the loops, letting an in-flight posting finish (bounded by the grace period), and saves state. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeAll();
    if (this.inFlight) {
      this.log.info({}, "waiting for the in-flight posting to finish");
      await Promise.race([
        this.inFlight.catch(() => undefined),
        new Promise((r) => setTimeout(r, this.options.shutdownGraceMs).unref()),
      ]);
    }
    await Promise.race([
      Promise.allSettled(this.loops),
      new Promise((r) => setTimeout(r, this.options.shutdownGraceMs).unref()),
    ]);
    if (this.state) this.save();
    await Promise.allSettled(this.sources.map((s) => s.close()));
  }
}
