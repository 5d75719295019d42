/**
 * A co-signing feeder: k-of-n between independent operators, each with its own key and its own
 * telemetry. Each round fills the oracle's next batch index. The round's proposer (schedule.ts)
 * dates the batch `proposalLagSeconds` in the past, builds each reading as the chain's previous
 * reading plus its own meter increase since (anchors.ts), and sends the signed proposal to every
 * peer over HTTP. A peer authenticates it (protocol.ts: a current signer, fresh, not replayed, the
 * right slot), checks every reading against its own view (verify.ts) and answers with its oracle
 * signature over the batch digest, or with per-reading objections. Readings without enough support
 * are dropped and the rest proposed again; once the threshold is met the proposer submits. Everyone
 * follows the chain's accepted batches to advance its view and its anchors.
 *
 * With no peers (a threshold of 1) the same path runs alone: the feeder is its own quorum. The
 * encoding, the Merkle root and the digest are the shared `src/eip712.ts`: co-signers sign exactly
 * what the oracle verifies.
 */
import http from "node:http";
import { getAddress, recoverAddress, type SigningKey, type TypedDataDomain } from "ethers";
import { batchDigest, signBatchWithKey, type Reading, type UsageBatch } from "../../src/eip712";
import { shortError } from "../chain";
import type { FeederMetrics } from "../metrics";
import { submitCalldata } from "../payload";
import { FatalError, type ChainPort, type SignerSet, type TxOutcome } from "../ports";
import type { FeederState, PendingTx } from "../state";
import type { Logger } from "../types";
import {
  advanceAnchor,
  readingAt,
  type Anchor,
  type ChainReading,
  OwnHistory,
  type ReadingLimits,
  type Tolerance,
} from "./anchors";
import {
  PROTOCOL_VERSION,
  authenticate,
  batchFromJson,
  batchToJson,
  envelopeHash,
  seal,
  sealer,
  type Proposal,
  type ProposeBody,
  type Verdict,
  type VerdictBody,
} from "./protocol";
import { dueMs, proposerOf, slotAt } from "./schedule";
import { checkBatch, type ChainView } from "./verify";

export interface PeerConfig {
  address: string;
  url: string;
}

export interface CoSignOptions {
  chainId: bigint;
  domain: TypedDataDomain;
  assets: { assetId: string; gpus: string[] }[];
  peers: PeerConfig[];
  postIntervalSeconds: number;
  takeoverSeconds: number;
  proposalLagSeconds: number;
  maxTimeSkewSeconds: number;
  maxMessageAgeSeconds: number;
  heartbeatSeconds: number;
  maxBatchSize: number;
  requestTimeoutMs: number;
  /** Re-proposals per round after objections. */
  maxAttempts: number;
  tolerance: Tolerance;
  /** Development chains only (test of a byzantine peer): inflate this feeder's busy time by this percent. */
  inflateBusyPct?: number;
}

/** The co-signing part of the state file. */
export interface CoSignState {
  view: {
    nextBatchIndex: number;
    lastBatchTimestamp?: number;
    latest: Record<string, { batchIndex: number; timestamp: number; busy: string; avail: string; energy: string }>;
  };
  anchors: Record<string, Anchor>;
  /** The last (round, slot) this feeder proposed in: it proposes once per slot, also across restarts. */
  lastProposed?: { round: number; slot: number };
}

export function emptyCoSignState(): CoSignState {
  return { view: { nextBatchIndex: 1, latest: {} }, anchors: {} };
}

/** What one round did: nothing to do, a batch submitted and mined, or a failure (logged, and a run problem). */
export type RoundResult = "idle" | "submitted" | "failed";

export interface CycleOptions {
  /** Propose now, whatever the schedule says (`--once` / `--dry-run` of a feeder without peers). */
  force?: boolean;
  /** Build, sign and hand the batch to `print` instead of sending it. */
  dryRun?: boolean;
  print?: (json: string) => void;
}

export class CoSigner {
  readonly history: OwnHistory;
  private set?: { value: SignerSet; atMs: number };
  private readonly seen = new Map<string, { verdict: Verdict; atMs: number }>();
  private readonly proposalsBySlot = new Map<string, string>();
  private refreshing?: Promise<void>;
  private server?: http.Server;
  private readonly me: string;

  constructor(
    private readonly chain: ChainPort,
    private readonly key: SigningKey,
    private readonly state: () => FeederState,
    private readonly save: () => void,
    private readonly limits: (assetId: string) => ReadingLimits | undefined,
    private readonly metrics: FeederMetrics,
    private readonly log: Logger,
    private readonly options: CoSignOptions,
    private readonly now: () => number = Date.now,
    history?: OwnHistory,
  ) {
    this.me = getAddress(chain.signerAddress);
    this.history = history ?? new OwnHistory();
  }

  private get cs(): CoSignState {
    const s = this.state();
    return (s.cosign ??= emptyCoSignState());
  }

  // ------------------------------------------------------------------ chain view

  view(): ChainView {
    const v = this.cs.view;
    const latest = new Map<string, ChainReading>();
    for (const assetId of Object.keys(v.latest)) latest.set(assetId, this.chainReading(assetId)!);
    return {
      nextBatchIndex: v.nextBatchIndex,
      lastBatchTimestamp: v.lastBatchTimestamp,
      configVersion: this.set?.value.configVersion ?? 0n,
      latest,
    };
  }

  /** The chain's latest reading of one asset, as this feeder has followed it. */
  private chainReading(assetId: string): ChainReading | undefined {
    const r = this.cs.view.latest[assetId];
    if (!r) return undefined;
    return {
      assetId,
      batchIndex: r.batchIndex,
      timestamp: r.timestamp,
      busyGpuSeconds: BigInt(r.busy),
      availableGpuSeconds: BigInt(r.avail),
      energyJ: BigInt(r.energy),
    };
  }

  async signerSet(maxAgeMs = 15_000): Promise<SignerSet> {
    if (!this.set || this.now() - this.set.atMs > maxAgeMs)
      this.set = { value: await this.chain.signerSet(), atMs: this.now() };
    return this.set.value;
  }

  /** Follows the oracle's accepted batches: the view, the anchors, the health clock. One at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private maxReadings?: number;

  private async doRefresh(): Promise<void> {
    await this.signerSet();
    this.maxReadings ??= (await this.chain.oracleParams()).maxReadings;
    const batches = await this.chain.acceptedBatches(this.cs.view.nextBatchIndex);
    if (batches.length === 0) return;
    const mine = new Set(this.options.assets.map((a) => a.assetId));
    let touchedMine = false;
    for (const b of batches) {
      const v = this.cs.view;
      const batchIndex = Number(b.batchIndex);
      const timestamp = Number(b.timestamp);
      if (batchIndex !== v.nextBatchIndex) continue;
      for (const r of b.readings) {
        const assetId = r.assetId.toString();
        const accepted: ChainReading = {
          assetId,
          batchIndex,
          timestamp,
          busyGpuSeconds: r.busyGpuSeconds,
          availableGpuSeconds: r.availableGpuSeconds,
          energyJ: r.energyJ,
        };
        if (mine.has(assetId)) {
          touchedMine = true;
          // One asset's entry, not the whole view: this loop runs once per reading of the batch.
          const prevChain = this.chainReading(assetId);
          const prevAnchor = this.cs.anchors[assetId];
          const at = this.ownAt(assetId, timestamp);
          if (at)
            this.cs.anchors[assetId] = advanceAnchor(
              prevChain && prevAnchor ? { anchor: prevAnchor, chain: prevChain } : undefined,
              accepted,
              at,
            );
          else delete this.cs.anchors[assetId];
          this.history.prune(assetId, timestamp * 1000);
        }
        v.latest[assetId] = {
          batchIndex,
          timestamp,
          busy: r.busyGpuSeconds.toString(),
          avail: r.availableGpuSeconds.toString(),
          energy: r.energyJ.toString(),
        };
        this.metrics.lastPostS.set(assetId, timestamp);
      }
      v.nextBatchIndex = batchIndex + 1;
      v.lastBatchTimestamp = timestamp;
      this.log.info({ batchIndex, readings: b.readings.length, timestamp }, "batch accepted on chain");
    }
    if (touchedMine) {
      this.state().lastSuccessfulPostMs = this.now();
      this.metrics.lastSuccessfulPostMs = this.now();
    }
    this.save();
  }

  /** The anchor of an asset at its previous reading: kept, or built from the history around that time. */
  anchorOf(assetId: string, prev: ChainReading): Anchor | undefined {
    const a = this.cs.anchors[assetId];
    if (a && a.batchIndex === prev.batchIndex) return a;
    const at = this.ownAt(assetId, prev.timestamp);
    if (!at) return undefined;
    const built: Anchor = { batchIndex: prev.batchIndex, own: { busy: at.busy, avail: at.avail, energy: at.energy } };
    this.cs.anchors[assetId] = built;
    return built;
  }

  /** Records the meters after a poll (busy inflated only in the byzantine test configuration). */
  record(assets: FeederState["meters"]["assets"]): void {
    const f = 1 + (this.options.inflateBusyPct ?? 0) / 100;
    for (const a of this.options.assets) {
      const m = assets[a.assetId]?.meter;
      if (m) this.history.record(a.assetId, f === 1 ? m : { ...m, busyGpuSeconds: m.busyGpuSeconds * f });
    }
  }

  // ------------------------------------------------------------------ peer side

  private refuse(reason: string, round = 0, proposal = "0x"): Verdict {
    this.metrics.inc("feeder_cosign_messages_total", "refused");
    this.log.warn({ round, reason }, "refusing a proposal");
    return this.verdict({ proposal, round, digest: "0x", decision: "refuse", verdicts: [], reason });
  }

  private verdict(body: VerdictBody): Verdict {
    return seal(this.key, {
      v: PROTOCOL_VERSION,
      kind: "verdict" as const,
      from: this.me,
      role: "signer",
      chainId: this.options.chainId.toString(),
      oracle: this.chain.oracleAddress,
      sentAtMs: this.now(),
      body,
    });
  }

  /** Answers a proposal (the HTTP handler's body). Never throws for a bad message: it refuses it. */
  async handle(msg: unknown): Promise<Verdict> {
    const p = msg as Proposal;
    if (!p || typeof p !== "object" || p.kind !== "propose" || typeof p.body !== "object" || p.body === null)
      return this.refuse("not a proposal");
    const set = await this.signerSet();
    const auth = authenticate(p, {
      chainId: this.options.chainId,
      oracle: this.chain.oracleAddress,
      signers: set.signers,
      nowMs: this.now(),
      maxMessageAgeMs: this.options.maxMessageAgeSeconds * 1000,
    });
    if (auth) {
      this.log.warn({ from: p.from, reason: auth }, "co-signing message refused");
      return this.refuse(auth);
    }
    const id = envelopeHash(p);
    const body = p.body as ProposeBody;
    if (body.round > this.cs.view.nextBatchIndex) await this.refresh();
    if (body.round < this.cs.view.nextBatchIndex)
      return this.refuse(`stale round ${body.round}: batch already accepted`, body.round, id);
    const cached = this.seen.get(id);
    if (cached) return cached.verdict; // the same message again (an HTTP retry): the same answer
    const slotKey = `${getAddress(p.from)}:${body.round}:${body.slot}:${body.attempt}`;
    const earlier = this.proposalsBySlot.get(slotKey);
    if (earlier && earlier !== id) {
      this.log.warn(
        { from: p.from, round: body.round, slot: body.slot },
        "conflicting proposals from one proposer for one slot",
      );
      return this.refuse("conflicting proposal for the same round, slot and attempt", body.round, id);
    }
    const due = dueMs(this.cs.view.lastBatchTimestamp, this.options.postIntervalSeconds);
    const mySlot = slotAt(due, this.now(), this.options.takeoverSeconds);
    if (!Number.isSafeInteger(body.slot) || body.slot < 0 || body.slot > mySlot + 1)
      return this.refuse(`slot ${body.slot} has not started (this feeder is in slot ${mySlot})`, body.round, id);
    if (proposerOf(set.signers, body.round, body.slot) !== p.from.toLowerCase())
      return this.refuse(`${p.from} is not the proposer of round ${body.round} slot ${body.slot}`, body.round, id);
    let batch: UsageBatch;
    let digest: string;
    try {
      batch = batchFromJson(body.batch);
      digest = batchDigest(this.options.domain, batch); // also checks the batch's shape
    } catch (err) {
      return this.refuse(`malformed batch: ${(err as Error).message}`, body.round, id);
    }
    if (batch.batchIndex !== BigInt(body.round)) return this.refuse("batch index is not the round", body.round, id);
    if (digest !== body.digest) return this.refuse("digest does not match the batch", body.round, id);
    const check = checkBatch(
      batch,
      { ...this.view(), configVersion: set.configVersion },
      { history: this.history, anchorOf: (a, prev) => this.anchorOf(a, prev), limitsOf: this.limits },
      this.options.tolerance,
      {
        nowMs: this.now(),
        proposalLagMs: this.options.proposalLagSeconds * 1000,
        maxTimeSkewMs: this.options.maxTimeSkewSeconds * 1000,
        maxReadings: this.options.maxBatchSize,
      },
    );
    let verdict: Verdict;
    if (!check.ok) verdict = this.refuse(check.reason, body.round, id);
    else if (check.verdicts.every((v) => v.ok)) {
      this.metrics.inc("feeder_cosign_messages_total", "signed");
      this.log.debug({ from: p.from, round: body.round, readings: body.batch.readings.length }, "signing a proposal");
      verdict = this.verdict({
        proposal: id,
        round: body.round,
        digest,
        decision: "sign",
        signature: signBatchWithKey(this.key, this.options.domain, batch),
        verdicts: check.verdicts,
      });
    } else {
      this.metrics.inc("feeder_cosign_messages_total", "objected");
      const objections = check.verdicts.filter((v) => !v.ok);
      this.log.warn({ from: p.from, round: body.round, objections }, "objecting to readings of a proposal");
      verdict = this.verdict({ proposal: id, round: body.round, digest, decision: "object", verdicts: check.verdicts });
    }
    this.proposalsBySlot.set(slotKey, id);
    this.seen.set(id, { verdict, atMs: this.now() });
    this.pruneSeen();
    return verdict;
  }

  private pruneSeen(): void {
    const horizon = this.now() - 4 * this.options.maxMessageAgeSeconds * 1000;
    for (const [k, v] of this.seen) if (v.atMs < horizon) this.seen.delete(k);
    if (this.proposalsBySlot.size > 10_000) this.proposalsBySlot.clear();
  }

  /** Serves `POST /v1/cosign/propose` (JSON in, the signed verdict out). */
  listen(host: string, port: number): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== "/v1/cosign/propose") {
        res.writeHead(404).end();
        return;
      }
      let size = 0;
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > 2_000_000) req.destroy();
        else chunks.push(c);
      });
      req.on("end", () => {
        let msg: unknown;
        try {
          msg = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(this.refuse("not JSON")));
          return;
        }
        this.handle(msg).then(
          (v) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(v)),
          (err) => {
            this.log.error({ err: shortError(err) }, "co-signing request failed");
            res.writeHead(500).end();
          },
        );
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve(server));
    });
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  // ------------------------------------------------------------------ proposer side

  /**
   * One tick: follow the chain, finish a pending submission, propose when this feeder's slot has
   * come (or at once with `force`).
   */
  async cycle(opts: CycleOptions = {}): Promise<RoundResult> {
    await this.refresh();
    const pending = this.state().pending;
    if (pending && !opts.dryRun) {
      this.log.info({ nonce: pending.nonce, hashes: pending.hashes }, "resuming pending transaction");
      const outcome = await this.chain.resume(pending, this.persistPending);
      return this.finishTx(outcome);
    }
    const set = await this.signerSet();
    if (!set.signers.some((s) => getAddress(s) === this.me))
      throw new FatalError(`this feeder's key ${this.me} is no longer a current signer of the oracle`);
    const round = this.cs.view.nextBatchIndex;
    if (opts.force) return this.propose(round, 0, set, opts);
    const due = dueMs(this.cs.view.lastBatchTimestamp, this.options.postIntervalSeconds);
    const slot = slotAt(due, this.now(), this.options.takeoverSeconds);
    if (slot < 0 || proposerOf(set.signers, round, slot) !== this.me.toLowerCase()) return "idle";
    const last = this.cs.lastProposed;
    if (last && last.round === round && last.slot === slot) return "idle";
    this.cs.lastProposed = { round, slot };
    this.save();
    return this.propose(round, slot, set, opts);
  }

  /** Posting alone: no peers to verify a reading, and none needed (threshold 1). */
  private get solo(): boolean {
    return this.options.peers.length === 0 && (this.set?.value.threshold ?? 1) <= 1;
  }

  /** The readings this feeder would propose at `timestampS` (changed or heartbeat-due assets). */
  buildReadings(timestampS: number): Reading[] {
    const view = this.view();
    const candidates: { r: Reading; waitedSince: number }[] = [];
    for (const a of this.options.assets) {
      const limits = this.limits(a.assetId);
      if (!limits) continue;
      const at = this.ownAt(a.assetId, timestampS);
      if (!at) continue;
      const prev = view.latest.get(a.assetId);
      const anchor = prev ? this.anchorOf(a.assetId, prev) : undefined;
      let r = readingAt(a.assetId, timestampS, prev, anchor, at, limits);
      let reanchor = false;
      if (!r && prev && !anchor && this.solo && timestampS > prev.timestamp) {
        reanchor = true;
        // No own meter at the previous reading's time (the state file was lost, or the feeder was down
        // then): nothing it did not see is billed: this reading carries no increase and re-anchors.
        this.log.warn(
          { assetId: a.assetId, since: prev.timestamp, until: timestampS },
          "no own meter at the asset's previous reading: posting no increase for the time in between",
        );
        r = {
          assetId: BigInt(a.assetId),
          previousBatch: BigInt(prev.batchIndex),
          busyGpuSeconds: prev.busyGpuSeconds,
          availableGpuSeconds: prev.availableGpuSeconds,
          energyJ: prev.energyJ,
        };
      }
      if (!r) continue;
      const changed =
        !prev ||
        r.busyGpuSeconds !== prev.busyGpuSeconds ||
        r.availableGpuSeconds !== prev.availableGpuSeconds ||
        r.energyJ !== prev.energyJ;
      const heartbeat = prev !== undefined && timestampS - prev.timestamp >= this.options.heartbeatSeconds;
      if (changed || heartbeat || reanchor) candidates.push({ r, waitedSince: prev?.timestamp ?? -1 });
    }
    candidates.sort((x, y) => x.waitedSince - y.waitedSince || (x.r.assetId < y.r.assetId ? -1 : 1));
    return candidates
      .slice(0, Math.min(this.options.maxBatchSize, this.maxReadings ?? this.options.maxBatchSize))
      .map((c) => c.r)
      .sort((x, y) => (x.assetId < y.assetId ? -1 : x.assetId > y.assetId ? 1 : 0));
  }

  /**
   * The batch time: with peers, `proposalLagSeconds` ago (every peer has samples past it); alone,
   * the newest second every metered asset has a sample at or after (so a single poll — `--once` —
   * can be posted; the meter then stands for at most the sub-second before its sample).
   */
  private batchTime(): number {
    if (!this.solo) return Math.floor((this.now() - this.options.proposalLagSeconds * 1000) / 1000);
    let newest = this.now();
    for (const a of this.options.assets) {
      const n = this.history.newestMs(a.assetId);
      if (n > 0 && this.limits(a.assetId)) newest = Math.min(newest, n);
    }
    return Math.floor(newest / 1000);
  }

  /** The own meter at a batch time; alone, also the first snapshot when it is within the second after. */
  private ownAt(assetId: string, timestampS: number) {
    const tMs = timestampS * 1000;
    const at = this.history.valueAt(assetId, tMs);
    if (at || !this.solo) return at;
    const first = this.history.firstMs(assetId);
    return first > tMs && first - tMs < 1000 ? this.history.valueAt(assetId, first) : undefined;
  }

  private async propose(round: number, slot: number, set: SignerSet, opts: CycleOptions): Promise<RoundResult> {
    const timestamp = this.batchTime();
    if (this.cs.view.lastBatchTimestamp !== undefined && timestamp <= this.cs.view.lastBatchTimestamp) return "idle";
    let readings = this.buildReadings(timestamp);
    if (readings.length === 0) return "idle";
    for (let attempt = 0; attempt < this.options.maxAttempts && readings.length > 0; attempt++) {
      const batch: UsageBatch = {
        configVersion: set.configVersion,
        batchIndex: BigInt(round),
        timestamp: BigInt(timestamp),
        readings,
      };
      const digest = batchDigest(this.options.domain, batch);
      let signatures: { peer: string; signature: string }[] = [];
      let answers: Awaited<ReturnType<CoSigner["ask"]>>[] = [];
      if (this.options.peers.length > 0 && set.threshold > 1) {
        const proposal = seal(this.key, {
          v: PROTOCOL_VERSION,
          kind: "propose" as const,
          from: this.me,
          role: "signer" as const,
          chainId: this.options.chainId.toString(),
          oracle: this.chain.oracleAddress,
          sentAtMs: this.now(),
          body: { round, attempt, slot, batch: batchToJson(batch), digest },
        });
        this.metrics.inc("feeder_cosign_messages_total", "proposed");
        this.log.info({ round, slot, attempt, readings: readings.length, timestamp }, "proposing a batch to peers");
        answers = await Promise.all(this.options.peers.map((peer) => this.ask(peer, proposal, digest)));
        signatures = answers.filter((a): a is { peer: string; signature: string } => "signature" in a);
      }
      if (1 + signatures.length >= set.threshold) {
        const own = { peer: this.me, signature: signBatchWithKey(this.key, this.options.domain, batch) };
        const chosen = [own, ...signatures.slice(0, set.threshold - 1)].sort((x, y) =>
          x.peer.toLowerCase() < y.peer.toLowerCase() ? -1 : 1,
        );
        return this.submit(
          batch,
          chosen.map((c) => c.signature),
          opts,
        );
      }
      // Keep the readings enough peers accept; propose the rest again.
      const support = new Map<string, number>();
      for (const a of answers)
        if ("verdicts" in a)
          for (const v of a.verdicts) if (v.ok) support.set(v.assetId, (support.get(v.assetId) ?? 0) + 1);
      const kept = readings.filter((r) => (support.get(r.assetId.toString()) ?? 0) >= set.threshold - 1);
      const dropped = readings.filter((r) => !kept.includes(r)).map((r) => r.assetId.toString());
      this.log.warn(
        { round, attempt, signatures: signatures.length, needed: set.threshold - 1, dropped },
        "not enough peers signed: dropping the readings they refused",
      );
      if (kept.length === readings.length) break; // nothing to drop: too few peers answered
      readings = kept;
    }
    this.metrics.inc("feeder_cosign_rounds_total", "not-signed");
    this.log.error({ round, slot }, "round not signed by enough peers; the next slot's proposer takes over");
    return this.fail(`round ${round} not signed by enough peers (threshold ${set.threshold})`);
  }

  /** Sends a proposal to one peer; returns its valid signature, its verdicts, or nothing. */
  private async ask(
    peer: PeerConfig,
    proposal: Proposal,
    digest: string,
  ): Promise<
    { peer: string; signature: string } | { peer: string; verdicts: VerdictBody["verdicts"] } | { peer: string }
  > {
    const who = getAddress(peer.address);
    try {
      const res = await fetch(`${peer.url.replace(/\/$/, "")}/v1/cosign/propose`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(proposal),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const v = (await res.json()) as Verdict;
      if (v.kind !== "verdict" || sealer(v) !== who || getAddress(v.from) !== who)
        throw new Error("answer not sealed by the configured peer");
      if (v.body.proposal !== envelopeHash(proposal)) {
        this.log.warn({ peer: who, reason: v.body.reason }, "peer refused the proposal");
        return { peer: who };
      }
      if (v.body.decision === "sign" && v.body.digest === digest && v.body.signature) {
        if (recoverAddress(digest, v.body.signature) !== who) throw new Error("peer's batch signature is not its own");
        return { peer: who, signature: v.body.signature };
      }
      if (v.body.decision === "refuse")
        this.log.warn({ peer: who, reason: v.body.reason }, "peer refused the proposal");
      return { peer: who, verdicts: v.body.verdicts ?? [] };
    } catch (err) {
      this.metrics.inc("feeder_cosign_messages_total", "peer-unreachable");
      this.log.warn({ peer: who, url: peer.url, err: shortError(err) }, "peer did not answer");
      return { peer: who };
    }
  }

  private persistPending = (p: PendingTx) => {
    this.state().pending = p;
    this.save();
  };

  private async submit(batch: UsageBatch, signatures: string[], opts: CycleOptions): Promise<RoundResult> {
    const calldata = submitCalldata(batch, signatures);
    if (opts.dryRun) {
      (opts.print ?? ((s: string) => process.stdout.write(s + "\n")))(
        JSON.stringify(
          {
            to: this.chain.oracleAddress,
            function: "submit(uint64,uint32,uint64,bytes,bytes)",
            batch: batchToJson(batch),
            digest: batchDigest(this.options.domain, batch),
            signatures,
            calldataBytes: (calldata.length - 2) / 2,
            calldata,
          },
          null,
          2,
        ),
      );
      this.metrics.incPost("dry-run");
      return "idle";
    }
    const sim = await this.chain.simulate(calldata);
    if (sim.kind !== "ok") {
      this.metrics.incPost(sim.kind);
      this.log.warn(
        { batchIndex: batch.batchIndex.toString(), sim },
        "signed batch refused by simulation; following the chain",
      );
      await this.refresh();
      return sim.kind === "index-taken"
        ? "idle"
        : this.fail(`batch ${batch.batchIndex} refused: ${"reason" in sim ? sim.reason : sim.kind}`);
    }
    const readings: PendingTx["readings"] = {};
    for (const r of batch.readings)
      readings[r.assetId.toString()] = {
        timestamp: Number(batch.timestamp),
        busyGpuSeconds: r.busyGpuSeconds.toString(),
        availableGpuSeconds: r.availableGpuSeconds.toString(),
        energyJ: r.energyJ.toString(),
      };
    const outcome = await this.chain.send(calldata, sim.gas, readings, this.persistPending);
    return this.finishTx(outcome);
  }

  private async finishTx(outcome: TxOutcome): Promise<RoundResult> {
    if (outcome.kind === "fee-too-high") {
      this.metrics.incPost(outcome.kind);
      this.log.warn({ baseFeeGwei: outcome.baseFeeGwei }, "base fee above the configured cap; not sending this cycle");
      return this.fail(`base fee ${outcome.baseFeeGwei} gwei above the configured cap: nothing sent`);
    }
    if (outcome.kind === "not-mined-yet") {
      this.metrics.incPost(outcome.kind);
      this.log.warn({ nonce: this.state().pending?.nonce }, "transaction not mined yet; will keep waiting");
      return this.fail(`transaction ${this.state().pending?.hashes.at(-1) ?? ""} not mined yet`);
    }
    delete this.state().pending;
    this.save();
    this.metrics.incPost(outcome.kind === "mined" ? "accepted" : outcome.kind);
    if (outcome.kind === "mined")
      this.log.info(
        { hash: outcome.hash, gasUsed: outcome.gasUsed.toString(), block: outcome.blockNumber },
        "batch accepted",
      );
    else this.log.warn({ outcome }, "batch transaction did not land as sent; following the chain");
    await this.refresh();
    if (outcome.kind === "reverted") return this.fail(`transaction ${outcome.hash} reverted: ${outcome.reason}`);
    return outcome.kind === "mined" ? "submitted" : "idle";
  }

  /** Why the last round failed (for a `--once` run's exit status). */
  lastFailure?: string;

  private fail(why: string): "failed" {
    this.lastFailure = why;
    return "failed";
  }
}
