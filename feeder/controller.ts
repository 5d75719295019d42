/**
 * The feeder's controller: polls sources into meters and, on the posting interval, hands over to the
 * round engine (`cosign/node.ts`: alone when the oracle's threshold is 1, with its peers otherwise),
 * which builds, signs, simulates and sends batches. It only knows interfaces (sources, chain port,
 * state store, logger, clock). Errors are classified: expected outcomes (nothing to post, a batch
 * index another transmitter filled) are logged and skipped; transient ones (RPC down) are retried
 * next cycle; fatal ones stop the feeder.
 */
import { ingestSamples, type MeterOptions } from "./meters";
import type { FeederMetrics, GpuStatus } from "./metrics";
import { RateLimitedLog } from "./ratelimit";
import { FatalError, TransientError, type AssetInfo, type ChainPort } from "./ports";
import type { TelemetrySource } from "./sources/source";
import { emptyState, type FeederState, type StateStore } from "./state";
import type { CoSigner, CycleOptions } from "./cosign/node";
import type { ReadingLimits } from "./cosign/anchors";
import type { GpuSample, Logger } from "./types";
import { shortError } from "./chain";

export interface ControllerOptions {
  assets: { assetId: string; gpus: string[] }[];
  pollIntervalMs: number;
  /** How often the round engine ticks (batches follow `policy.postIntervalSeconds` in it). */
  postIntervalMs: number;
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

export class Controller {
  state!: FeederState;
  private readonly assetOfGpu = new Map<string, string>();
  private readonly startedAtMs: number;
  private info = new Map<string, AssetInfo>();
  /** gpuCount × TDP × Δt × this / 10000 bounds energy (the oracle's 10000 + energyMarginBps). */
  private energyFactorBps = 10_000;
  private maxBatchSize = 1;
  private stopping = false;
  private inFlight?: Promise<void>;
  private loops: Promise<void>[] = [];
  private readonly warnOnce: RateLimitedLog;
  /** Problems met since the last `takeProblems()` (a run that could not post what it should have). */
  private problems: RunProblem[] = [];
  private cosigner?: CoSigner;

  constructor(
    private readonly sources: TelemetrySource[],
    private readonly chain: ChainPort,
    private readonly store: StateStore,
    private readonly metrics: FeederMetrics,
    private readonly log: Logger,
    private readonly options: ControllerOptions,
    now: () => number = Date.now,
  ) {
    this.startedAtMs = now();
    for (const a of options.assets) for (const g of a.gpus) this.assetOfGpu.set(g, a.assetId);
    this.warnOnce = new RateLimitedLog(log, options.warnIntervalMs ?? 60_000, now);
    metrics.gpuStatus = () => this.gpuStatus();
  }

  /** The round engine that posts (set before `start()`). */
  useCoSigner(c: CoSigner): void {
    this.cosigner = c;
  }

  /** Most readings a batch may hold (the config's, lowered to the oracle's MAX_READINGS at start). */
  get batchSizeLimit(): number {
    return this.maxBatchSize;
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

  /** Saves the state file now (the round engine's hook). */
  saveState(): void {
    this.save();
  }

  /** What the oracle allows an asset to accrue (undefined for unknown or retired assets). */
  limitsOf(assetId: string): ReadingLimits | undefined {
    const i = this.info.get(assetId);
    if (!i || i.status === RETIRED) return undefined;
    return { gpuCount: i.gpuCount, tdpWattsPerGpu: i.tdpWattsPerGpu, energyFactorBps: this.energyFactorBps };
  }

  /**
   * Loads the state, checks the chain (assets, signer set, limits), and follows the oracle's accepted
   * batches up to now (the round engine's view and anchors; a written-ahead transaction is resumed by
   * its first cycle).
   */
  async start(): Promise<void> {
    if (!this.cosigner) throw new Error("the controller needs its round engine (useCoSigner) before start()");
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
    await this.checkSignerSet();
    const params = await this.chain.oracleParams();
    this.energyFactorBps = 10_000 + params.energyMarginBps;
    this.maxBatchSize = params.maxReadings;
    // The meters as the state file left them are a true past value: the first snapshot of the history.
    this.cosigner.record(this.state.meters.assets);
    await this.cosigner.refresh();
    this.metrics.lastSuccessfulPostMs = this.state.lastSuccessfulPostMs;
    this.save();
    await this.refreshBalance();
    this.log.info(
      {
        assets: this.assetIds.length,
        nextBatchIndex: this.state.cosign?.view.nextBatchIndex ?? 1,
        peers: this.options.peerCount ?? 0,
        pending: this.state.pending?.nonce ?? null,
      },
      "feeder started",
    );
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

  /** One posting cycle of the round engine; returns 1 when a batch was submitted and mined. */
  async postOnce(opts: CycleOptions = {}): Promise<number> {
    const r = await this.cosigner!.cycle(opts);
    if (r === "failed") this.problem(this.cosigner!.lastFailure ?? "a round did not get its batch accepted");
    if (r === "submitted") await this.refreshBalance();
    return r === "submitted" ? 1 : 0;
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

  /**
   * `--once` / `--dry-run` (feeders without peers): start, one poll, one round proposed at once
   * (dry run: printed, not sent).
   */
  async runOnce(): Promise<void> {
    await this.start();
    await this.pollOnce();
    await this.postCycle({ force: true, dryRun: this.options.dryRun, print: this.options.print });
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
  async postCycle(opts: CycleOptions = {}): Promise<void> {
    const work = this.postOnce(opts).then(
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
