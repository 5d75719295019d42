/**
 * A co-signing feeder: k-of-n between independent operators, each with its own key and its own
 * telemetry. Each round fills the oracle's next batch index. The round's proposer (schedule.ts)
 * dates the batch `proposalLagSeconds` in the past, builds each reading as the chain's previous
 * reading plus its own meter increase since (anchors.ts), and sends the signed proposal to every
 * peer over HTTP. A peer authenticates it (protocol.ts: a current signer, fresh, not replayed, the
 * right slot), checks every reading against its own view (verify.ts) and answers with its oracle
 * signature over the batch digest, or with per-reading objections. Readings without enough support
 * are dropped and the rest proposed again; once the threshold is met the proposer submits. Everyone
 * follows the chain's `BatchAccepted` logs to advance its view and its anchors.
 */
import http from "node:http";
import { getAddress, recoverAddress, type SigningKey, type TypedDataDomain } from "ethers";
import { shortError } from "../chain";
import type { FeederMetrics } from "../metrics";
import { FatalError, type Simulation, type TxOutcome } from "../ports";
import type { FeederState, PendingTx } from "../state";
import type { Logger } from "../types";
import {
  advanceAnchor,
  readingAt,
  type Anchor,
  type ChainReading,
  MeterHistory,
  type ReadingLimits,
  type Tolerance,
} from "./anchors";
import type { Batch, BatchCodec, BatchReading } from "./codec";
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

/** A batch the oracle accepted, as its `BatchAccepted` log tells it. */
export interface AcceptedBatch {
  batchIndex: number;
  configVersion: bigint;
  timestamp: number;
  readings: BatchReading[];
}

export interface SignerSet {
  signers: string[];
  threshold: number;
  configVersion: bigint;
}

/** What a co-signer needs from the chain (EthersChain implements it against UsageOracle v2). */
export interface OracleV2Port {
  readonly signerAddress: string;
  readonly oracleAddress: string;
  signerSet(): Promise<SignerSet>;
  /** Accepted batches with index ≥ `fromIndex`, in order. */
  acceptedBatches(fromIndex: number): Promise<AcceptedBatch[]>;
  simulate(calldata: string): Promise<Simulation>;
  send(
    calldata: string,
    gasLimit: bigint,
    readings: PendingTx["readings"],
    persist: (p: PendingTx) => void,
  ): Promise<TxOutcome>;
  resume(pending: PendingTx, persist: (p: PendingTx) => void): Promise<TxOutcome>;
}

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

const SUBMIT_ABI = [
  "function submit(uint64 configVersion, uint32 batchIndex, uint64 timestamp, bytes readings, bytes signatures)",
];

export class CoSigner {
  readonly history: MeterHistory;
  private set?: { value: SignerSet; atMs: number };
  private readonly seen = new Map<string, { verdict: Verdict; atMs: number }>();
  private readonly proposalsBySlot = new Map<string, string>();
  private refreshing?: Promise<void>;
  private server?: http.Server;
  private readonly me: string;
  private submitIface?: import("ethers").Interface;

  constructor(
    private readonly codec: BatchCodec,
    private readonly chain: OracleV2Port,
    private readonly key: SigningKey,
    private readonly state: () => FeederState,
    private readonly save: () => void,
    private readonly limits: (assetId: string) => ReadingLimits | undefined,
    private readonly metrics: FeederMetrics,
    private readonly log: Logger,
    private readonly options: CoSignOptions,
    private readonly now: () => number = Date.now,
    history?: MeterHistory,
  ) {
    this.me = getAddress(chain.signerAddress);
    this.history = history ?? new MeterHistory();
  }

  private get cs(): CoSignState {
    const s = this.state();
    return (s.cosign ??= emptyCoSignState());
  }

  // ------------------------------------------------------------------ chain view

  view(): ChainView {
    const v = this.cs.view;
    const latest = new Map<string, ChainReading>();
    for (const [assetId, r] of Object.entries(v.latest))
      latest.set(assetId, {
        assetId,
        batchIndex: r.batchIndex,
        timestamp: r.timestamp,
        busyGpuSeconds: BigInt(r.busy),
        availableGpuSeconds: BigInt(r.avail),
        energyJ: BigInt(r.energy),
      });
    return {
      nextBatchIndex: v.nextBatchIndex,
      lastBatchTimestamp: v.lastBatchTimestamp,
      configVersion: this.set?.value.configVersion ?? 0n,
      latest,
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

  private async doRefresh(): Promise<void> {
    await this.signerSet();
    const batches = await this.chain.acceptedBatches(this.cs.view.nextBatchIndex);
    if (batches.length === 0) return;
    const mine = new Set(this.options.assets.map((a) => a.assetId));
    let touchedMine = false;
    for (const b of batches) {
      const v = this.cs.view;
      if (b.batchIndex !== v.nextBatchIndex) continue;
      for (const r of b.readings) {
        const assetId = r.assetId.toString();
        const accepted: ChainReading = {
          assetId,
          batchIndex: b.batchIndex,
          timestamp: b.timestamp,
          busyGpuSeconds: r.busyGpuSeconds,
          availableGpuSeconds: r.availableGpuSeconds,
          energyJ: r.energyJ,
        };
        if (mine.has(assetId)) {
          touchedMine = true;
          const prevChain = this.view().latest.get(assetId);
          const prevAnchor = this.cs.anchors[assetId];
          const at = this.history.valueAt(assetId, b.timestamp * 1000);
          if (at)
            this.cs.anchors[assetId] = advanceAnchor(
              prevChain && prevAnchor ? { anchor: prevAnchor, chain: prevChain } : undefined,
              accepted,
              at,
            );
          else delete this.cs.anchors[assetId];
          this.history.prune(assetId, b.timestamp * 1000);
        }
        v.latest[assetId] = {
          batchIndex: b.batchIndex,
          timestamp: b.timestamp,
          busy: r.busyGpuSeconds.toString(),
          avail: r.availableGpuSeconds.toString(),
          energy: r.energyJ.toString(),
        };
        this.metrics.lastPostS.set(assetId, b.timestamp);
      }
      v.nextBatchIndex = b.batchIndex + 1;
      v.lastBatchTimestamp = b.timestamp;
      this.log.info(
        { batchIndex: b.batchIndex, readings: b.readings.length, timestamp: b.timestamp },
        "batch accepted on chain",
      );
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
    const at = this.history.valueAt(assetId, prev.timestamp * 1000);
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
    let batch: Batch;
    try {
      batch = batchFromJson(body.batch);
    } catch (err) {
      return this.refuse(`malformed batch: ${(err as Error).message}`, body.round, id);
    }
    if (batch.batchIndex !== body.round) return this.refuse("batch index is not the round", body.round, id);
    const digest = this.codec.batchDigest(this.options.domain, batch);
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
      verdict = this.verdict({
        proposal: id,
        round: body.round,
        digest,
        decision: "sign",
        signature: this.key.sign(digest).serialized,
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

  /** One tick: follow the chain, finish a pending submission, propose when this feeder's slot has come. */
  async cycle(): Promise<"idle" | "proposed" | "submitted" | "failed"> {
    await this.refresh();
    const pending = this.state().pending;
    if (pending) {
      const outcome = await this.chain.resume(pending, this.persistPending);
      await this.finishTx(outcome);
      return outcome.kind === "mined" ? "submitted" : "failed";
    }
    const set = await this.signerSet();
    if (!set.signers.some((s) => getAddress(s) === this.me))
      throw new FatalError(`this feeder's key ${this.me} is no longer a current signer of the oracle`);
    const round = this.cs.view.nextBatchIndex;
    const due = dueMs(this.cs.view.lastBatchTimestamp, this.options.postIntervalSeconds);
    const slot = slotAt(due, this.now(), this.options.takeoverSeconds);
    if (slot < 0 || proposerOf(set.signers, round, slot) !== this.me.toLowerCase()) return "idle";
    const last = this.cs.lastProposed;
    if (last && last.round === round && last.slot === slot) return "idle";
    this.cs.lastProposed = { round, slot };
    this.save();
    return this.propose(round, slot, set);
  }

  /** The readings this feeder would propose at `timestampS` (changed or heartbeat-due assets). */
  buildReadings(timestampS: number): BatchReading[] {
    const view = this.view();
    const candidates: { r: BatchReading; waitedSince: number }[] = [];
    for (const a of this.options.assets) {
      const limits = this.limits(a.assetId);
      if (!limits) continue;
      const at = this.history.valueAt(a.assetId, timestampS * 1000);
      if (!at) continue;
      const prev = view.latest.get(a.assetId);
      const anchor = prev ? this.anchorOf(a.assetId, prev) : undefined;
      const r = readingAt(a.assetId, timestampS, prev, anchor, at, limits);
      if (!r) continue;
      const changed =
        !prev ||
        r.busyGpuSeconds !== prev.busyGpuSeconds ||
        r.availableGpuSeconds !== prev.availableGpuSeconds ||
        r.energyJ !== prev.energyJ;
      const heartbeat = prev !== undefined && timestampS - prev.timestamp >= this.options.heartbeatSeconds;
      if (changed || heartbeat) candidates.push({ r, waitedSince: prev?.timestamp ?? -1 });
    }
    candidates.sort((x, y) => x.waitedSince - y.waitedSince || (x.r.assetId < y.r.assetId ? -1 : 1));
    return candidates
      .slice(0, this.options.maxBatchSize)
      .map((c) => c.r)
      .sort((x, y) => (x.assetId < y.assetId ? -1 : x.assetId > y.assetId ? 1 : 0));
  }

  private async propose(round: number, slot: number, set: SignerSet): Promise<"idle" | "submitted" | "failed"> {
    const timestamp = Math.floor((this.now() - this.options.proposalLagSeconds * 1000) / 1000);
    if (this.cs.view.lastBatchTimestamp !== undefined && timestamp <= this.cs.view.lastBatchTimestamp) return "idle";
    let readings = this.buildReadings(timestamp);
    if (readings.length === 0) return "idle";
    for (let attempt = 0; attempt < this.options.maxAttempts && readings.length > 0; attempt++) {
      const batch: Batch = { configVersion: set.configVersion, batchIndex: round, timestamp, readings };
      const digest = this.codec.batchDigest(this.options.domain, batch);
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
      const answers = await Promise.all(this.options.peers.map((peer) => this.ask(peer, proposal, digest)));
      const signatures = answers.filter((a): a is { peer: string; signature: string } => "signature" in a);
      if (1 + signatures.length >= set.threshold) {
        const own = { peer: this.me, signature: this.key.sign(digest).serialized };
        const chosen = [own, ...signatures.slice(0, set.threshold - 1)].sort((x, y) =>
          x.peer.toLowerCase() < y.peer.toLowerCase() ? -1 : 1,
        );
        return this.submit(
          batch,
          chosen.map((c) => c.signature),
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
    return "failed";
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

  private async submit(batch: Batch, signatures: string[]): Promise<"submitted" | "failed"> {
    const { Interface, concat } = await import("ethers");
    this.submitIface ??= new Interface(SUBMIT_ABI);
    const calldata = this.submitIface.encodeFunctionData("submit", [
      batch.configVersion,
      batch.batchIndex,
      batch.timestamp,
      this.codec.encodeReadings(batch.readings),
      concat(signatures),
    ]);
    const sim = await this.chain.simulate(calldata);
    if (sim.kind !== "ok") {
      this.metrics.inc("feeder_cosign_rounds_total", `simulation-${sim.kind}`);
      this.log.warn({ batchIndex: batch.batchIndex, sim }, "signed batch refused by simulation; following the chain");
      await this.refresh();
      return "failed";
    }
    const readings: PendingTx["readings"] = {};
    for (const r of batch.readings)
      readings[r.assetId.toString()] = {
        timestamp: batch.timestamp,
        busyGpuSeconds: r.busyGpuSeconds.toString(),
        availableGpuSeconds: r.availableGpuSeconds.toString(),
        energyJ: r.energyJ.toString(),
      };
    const outcome = await this.chain.send(calldata, sim.gas, readings, this.persistPending);
    await this.finishTx(outcome);
    return outcome.kind === "mined" ? "submitted" : "failed";
  }

  private async finishTx(outcome: TxOutcome): Promise<void> {
    if (outcome.kind === "not-mined-yet" || outcome.kind === "fee-too-high") {
      this.metrics.incPost(outcome.kind);
      return;
    }
    delete this.state().pending;
    this.save();
    this.metrics.incPost(outcome.kind === "mined" ? "accepted" : outcome.kind);
    if (outcome.kind === "mined")
      this.log.info({ hash: outcome.hash, gasUsed: outcome.gasUsed.toString() }, "batch submitted");
    else this.log.warn({ outcome }, "batch transaction did not land as sent; following the chain");
    await this.refresh();
  }
}
