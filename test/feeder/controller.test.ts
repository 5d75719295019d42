import { expect } from "chai";
import { Controller, type ControllerOptions } from "../../feeder/controller";
import { FeederMetrics } from "../../feeder/metrics";
import type { BatchSigner } from "../../feeder/payload";
import {
  FatalError,
  TransientError,
  type AssetInfo,
  type ChainPort,
  type Simulation,
  type TxOutcome,
} from "../../feeder/ports";
import { SimulatorSource } from "../../feeder/sources/simulator";
import { MemoryStateStore, type PendingTx } from "../../feeder/state";
import { IUsageOracle__factory } from "../../typechain-types";
import type { TelemetrySource } from "../../feeder/sources/source";
import { silentLogger, type GpuSample, type Logger, type OracleReading } from "../../feeder/types";

const iface = IUsageOracle__factory.createInterface();
const GPUS = [
  "GPU-00000000-0000-4000-8000-0000000000a1",
  "GPU-00000000-0000-4000-8000-0000000000a2",
  "GPU-00000000-0000-4000-8000-0000000000b1",
];
const ASSETS = [
  { assetId: "1", gpus: [GPUS[0], GPUS[1]] },
  { assetId: "2", gpus: [GPUS[2]] },
];
const TDP = 700;

/**
 * An in-memory oracle with the real one's rules (replays skipped, all-skipped batch refused,
 * bounds per reading), behind the ChainPort the controller uses.
 */
class FakeChain implements ChainPort {
  readonly signerAddress = "0x" + "aa".repeat(20);
  readonly oracleAddress = "0x" + "bb".repeat(20);
  latest = new Map<string, OracleReading>();
  accepted: OracleReading[] = [];
  txs = 0;
  version = 1n;
  failNext = 0;
  /** When set, the next send is persisted and then "crashes" (throws) before it is broadcast. */
  crashAfterPersist = false;
  mempool?: { calldata: string };
  gpuCount = new Map([
    ["1", 2],
    ["2", 1],
  ]);
  signers = ["0x" + "aa".repeat(20)];
  threshold = 1;

  async signerSet() {
    return { signers: this.signers, threshold: this.threshold, configVersion: this.version };
  }

  async chainId() {
    return 31337n;
  }
  async configVersion() {
    return this.version;
  }
  async latestReadings(ids: readonly string[]) {
    this.maybeFail();
    return new Map(ids.map((id) => [id, this.latest.get(id)]));
  }
  async assetInfo(ids: readonly string[]) {
    return new Map<string, AssetInfo>(
      ids.map((id) => [id, { gpuCount: this.gpuCount.get(id)!, tdpWattsPerGpu: TDP, status: 0 }]),
    );
  }
  async oracleParams() {
    return { maxReadings: 500, energyMarginBps: 0 };
  }
  async balanceWei() {
    return 10n ** 18n;
  }
  private maybeFail() {
    if (this.failNext > 0) {
      this.failNext--;
      throw new TransientError("rpc down");
    }
  }
  private decode(calldata: string) {
    const d = iface.decodeFunctionData("submit", calldata);
    return {
      version: d[0] as bigint,
      readings: (d[1] as OracleReading[]).map((r) => ({
        assetId: r.assetId,
        timestamp: r.timestamp,
        busyGpuSeconds: r.busyGpuSeconds,
        availableGpuSeconds: r.availableGpuSeconds,
        energyJ: r.energyJ,
      })),
    };
  }
  /** Applies a batch like the oracle: returns the error name or the accepted count. */
  private apply(calldata: string, dryRun: boolean): string | number {
    const { version, readings } = this.decode(calldata);
    if (version !== this.version) return "ConfigVersionMismatch";
    let accepted = 0;
    const next = new Map(this.latest);
    for (const r of readings) {
      const id = r.assetId.toString();
      const prev = next.get(id);
      if (prev && r.timestamp <= prev.timestamp) continue;
      if (prev) {
        const dt = r.timestamp - prev.timestamp;
        const g = BigInt(this.gpuCount.get(id)!);
        const dv = r.availableGpuSeconds - prev.availableGpuSeconds;
        const db = r.busyGpuSeconds - prev.busyGpuSeconds;
        const de = r.energyJ - prev.energyJ;
        if (dv < 0n || db < 0n || de < 0n || db > dv || dv > g * dt || de > g * BigInt(TDP) * dt)
          return `ReadingOutOfBounds(${id})`;
      }
      next.set(id, r);
      accepted++;
      if (!dryRun) this.accepted.push(r);
    }
    if (accepted === 0) return "BatchAlreadyAccepted";
    if (!dryRun) this.latest = next;
    return accepted;
  }
  async simulate(calldata: string): Promise<Simulation> {
    this.maybeFail();
    const r = this.apply(calldata, true);
    if (r === "BatchAlreadyAccepted") return { kind: "already-accepted" };
    if (r === "ConfigVersionMismatch") return { kind: "stale-config", reason: r };
    if (typeof r === "string") return { kind: "rejected", reason: r };
    return { kind: "ok", gas: 100_000n };
  }
  async send(
    calldata: string,
    _gas: bigint,
    readings: PendingTx["readings"],
    persist: (p: PendingTx) => void,
  ): Promise<TxOutcome> {
    const pending: PendingTx = {
      nonce: this.txs,
      rawTxs: [calldata],
      hashes: [`0x${this.txs}`],
      firstSentAtMs: 0,
      readings,
    };
    persist(pending);
    if (this.crashAfterPersist) {
      this.crashAfterPersist = false;
      this.mempool = { calldata };
      throw new Error("killed");
    }
    return this.mine(calldata);
  }
  private mine(calldata: string): TxOutcome {
    this.txs++;
    const r = this.apply(calldata, false);
    if (typeof r === "string") return { kind: "reverted", hash: "0x", reason: r };
    return { kind: "mined", hash: `0x${this.txs}`, gasUsed: 1n, blockNumber: this.txs };
  }
  async resume(pending: PendingTx): Promise<TxOutcome> {
    // The raw transaction was in the mempool when the feeder died: it gets mined now.
    if (this.mempool) {
      const { calldata } = this.mempool;
      this.mempool = undefined;
      return this.mine(calldata);
    }
    return pending ? { kind: "nonce-consumed" } : { kind: "not-mined-yet" };
  }
}

const signer: BatchSigner = { address: "0x" + "aa".repeat(20), signBatch: async () => "0x" + "00".repeat(65) };

function harness(
  chain: FakeChain,
  store: MemoryStateStore,
  clock: { t: number },
  extra: Partial<ControllerOptions> = {},
  sources?: TelemetrySource[],
  log: Logger = silentLogger,
) {
  const options: ControllerOptions = {
    assets: ASSETS,
    pollIntervalMs: 5000,
    postIntervalMs: 60_000,
    heartbeatSeconds: 3600,
    maxBatchSize: 10,
    maxBatchesPerCycle: 4,
    staleAfterSeconds: 30,
    chainId: 31337n,
    shutdownGraceMs: 1000,
    dryRun: false,
    ...extra,
  };
  const source = new SimulatorSource({ seed: 9, gpus: GPUS, tdpWatts: TDP, energyCounter: true }, () => clock.t);
  const metrics = new FeederMetrics(clock.t);
  return {
    controller: new Controller(sources ?? [source], chain, signer, store, metrics, log, options, () => clock.t),
    metrics,
  };
}

/** A source that returns what the test gives it, with the parse errors the test sets. */
class ScriptedSource implements TelemetrySource {
  readonly name = "scripted";
  next: (t: number) => GpuSample[] = () => [];
  lastErrors: string[] = [];
  constructor(private readonly clock: { t: number }) {}
  async read() {
    return this.next(this.clock.t);
  }
  async close() {}
}

/** Captures warn lines. */
function recordingLog(): Logger & { warns: { obj: object; msg?: string }[] } {
  const warns: { obj: object; msg?: string }[] = [];
  return { ...silentLogger, warns, warn: (obj: object, msg?: string) => void warns.push({ obj, msg }) };
}

/** Polls every 5 s for `seconds`, posting every 60 s. */
async function drive(c: Controller, clock: { t: number }, seconds: number) {
  for (let s = 0; s < seconds; s += 5) {
    clock.t += 5000;
    await c.pollOnce();
    if (s % 60 === 55) await c.postCycle();
  }
}

describe("feeder: controller (in-memory chain)", function () {
  describe("run cycles", function () {
    it("posts readings whose on-chain meters equal the local meters", async function () {
      const chain = new FakeChain();
      const store = new MemoryStateStore();
      const clock = { t: 1_750_000_000_000 };
      const { controller, metrics } = harness(chain, store, clock);
      await controller.start();
      await drive(controller, clock, 600);
      for (const id of ["1", "2"]) {
        const local = controller.state.meters.assets[id];
        const onChain = chain.latest.get(id)!;
        expect(onChain.timestamp).to.equal(BigInt(local.lastPosted!.timestamp));
        expect(onChain.availableGpuSeconds.toString()).to.equal(local.lastPosted!.availableGpuSeconds);
        expect(BigInt(Math.floor(local.meter.availableGpuSeconds)) - onChain.availableGpuSeconds).to.be.lessThan(
          BigInt(2 * 60 + 1),
        );
      }
      // Nine full minutes after the zero first report: 2 GPUs + 1 GPU fully available.
      expect(chain.latest.get("1")!.availableGpuSeconds).to.equal(
        2n * (chain.latest.get("1")!.timestamp - chain.accepted[0].timestamp),
      );
      expect(metrics.posts.get("accepted")).to.equal(10);
      const keys = chain.accepted.map((r) => `${r.assetId}@${r.timestamp}`);
      expect(new Set(keys).size).to.equal(keys.length);
    });
    it("retries after an RPC outage and loses nothing", async function () {
      const chain = new FakeChain();
      const clock = { t: 1_750_000_000_000 };
      const { controller, metrics } = harness(chain, new MemoryStateStore(), clock);
      await controller.start();
      await drive(controller, clock, 120);
      chain.failNext = 3;
      await drive(controller, clock, 240);
      expect(metrics.posts.get("transient-error")).to.equal(3);
      expect(metrics.posts.get("accepted")).to.equal(2 + 1);
      const first = chain.accepted.find((r) => r.assetId === 2n)!;
      const last = chain.latest.get("2")!;
      expect(last.availableGpuSeconds).to.equal(last.timestamp - first.timestamp);
    });
  });

  describe("restart", function () {
    it("resumes a transaction persisted before a crash and never posts a reading twice", async function () {
      const chain = new FakeChain();
      const store = new MemoryStateStore();
      const clock = { t: 1_750_000_000_000 };
      const first = harness(chain, store, clock).controller;
      await first.start();
      await drive(first, clock, 180);
      chain.crashAfterPersist = true;
      clock.t += 5000;
      await first.pollOnce();
      let crashed = false;
      await first.postOnce().catch(() => (crashed = true));
      expect(crashed).to.equal(true);
      expect(store.state!.pending).to.not.equal(undefined);
      const txsBefore = chain.txs;

      clock.t += 10_000; // the process is down for 10 s
      const second = harness(chain, store, clock).controller;
      await second.start(); // finds the pending tx; it is mined from the mempool
      expect(chain.txs).to.equal(txsBefore + 1);
      expect(second.state.pending).to.equal(undefined);
      await drive(second, clock, 240);
      const keys = chain.accepted.map((r) => `${r.assetId}@${r.timestamp}`);
      expect(new Set(keys).size).to.equal(keys.length);
      // The downtime shorter than staleAfterSeconds is still available time: nothing lost.
      const firstOf2 = chain.accepted.find((r) => r.assetId === 2n)!;
      const last = chain.latest.get("2")!;
      expect(last.availableGpuSeconds).to.equal(last.timestamp - firstOf2.timestamp);
    });
    it("adopts the chain when the state file was lost, without posting anything twice", async function () {
      const chain = new FakeChain();
      const clock = { t: 1_750_000_000_000 };
      const first = harness(chain, new MemoryStateStore(), clock).controller;
      await first.start();
      await drive(first, clock, 180);
      const before = chain.latest.get("1")!;
      const second = harness(chain, new MemoryStateStore(), clock).controller;
      await second.start();
      expect(second.state.meters.assets["1"].lastPosted!.timestamp).to.equal(Number(before.timestamp));
      await drive(second, clock, 120);
      const after = chain.latest.get("1")!;
      expect(after.timestamp > before.timestamp).to.equal(true);
      expect(after.availableGpuSeconds >= before.availableGpuSeconds).to.equal(true);
    });
  });

  describe("postOnce outcomes", function () {
    it("re-signs under the new signer-set version when the config changed", async function () {
      const chain = new FakeChain();
      const clock = { t: 1_750_000_000_000 };
      const { controller, metrics } = harness(chain, new MemoryStateStore(), clock);
      await controller.start();
      chain.version = 2n;
      await drive(controller, clock, 60);
      expect(metrics.posts.get("accepted")).to.equal(1);
    });
    it("treats an already accepted batch as done", async function () {
      const chain = new FakeChain();
      const clock = { t: 1_750_000_000_000 };
      const { controller, metrics } = harness(chain, new MemoryStateStore(), clock);
      await controller.start();
      await drive(controller, clock, 60);
      // Another transmitter posts a newer reading for both assets.
      const bump = (id: string) => {
        const r = chain.latest.get(id)!;
        chain.latest.set(id, { ...r, timestamp: BigInt(Math.floor(clock.t / 1000) + 100) });
      };
      bump("1");
      bump("2");
      await drive(controller, clock, 60);
      expect(metrics.posts.get("already-accepted")).to.equal(1);
      expect(controller.state.meters.assets["1"].lastPosted!.timestamp).to.equal(
        Number(chain.latest.get("1")!.timestamp),
      );
    });
    it("splits a batch to isolate a reading the oracle refuses and posts the others", async function () {
      const chain = new FakeChain();
      const clock = { t: 1_750_000_000_000 };
      const { controller, metrics } = harness(chain, new MemoryStateStore(), clock);
      await controller.start();
      await drive(controller, clock, 60);
      chain.gpuCount.set("1", 1); // the chain now says asset 1 has 1 GPU: our 2-GPU readings exceed it
      await drive(controller, clock, 60);
      expect(metrics.posts.get("rejected")).to.equal(1);
      expect(chain.latest.get("2")!.timestamp > chain.latest.get("1")!.timestamp).to.equal(true);
    });
    it("prints the payload and sends nothing in a dry run", async function () {
      const chain = new FakeChain();
      const store = new MemoryStateStore();
      const clock = { t: 1_750_000_000_000 };
      const printed: string[] = [];
      const { controller } = harness(chain, store, clock, { dryRun: true, print: (s) => printed.push(s) });
      await controller.runOnce();
      expect(chain.txs).to.equal(0);
      expect(store.saves).to.equal(0);
      const payload = JSON.parse(printed[0]);
      expect(payload.readings.map((r: { assetId: string }) => r.assetId)).to.deep.equal(["1", "2"]);
      expect(payload.calldata).to.match(/^0x[0-9a-f]+$/);
    });
  });

  describe("start-up checks", function () {
    it("refuses to start, with one clear message, when its key is not a current signer", async function () {
      const chain = new FakeChain();
      chain.signers = ["0x" + "cc".repeat(20)];
      const { controller } = harness(chain, new MemoryStateStore(), { t: 1_750_000_000_000 });
      const err = await controller.start().catch((e: Error) => e);
      expect(err).to.be.instanceOf(FatalError);
      expect((err as Error).message).to.match(/is not a current signer of the oracle/);
    });
    it("refuses to start when the threshold needs more co-signers than are configured", async function () {
      const chain = new FakeChain();
      chain.signers.push("0x" + "cc".repeat(20), "0x" + "dd".repeat(20));
      chain.threshold = 2;
      const lone = harness(chain, new MemoryStateStore(), { t: 1_750_000_000_000 }).controller;
      expect(((await lone.start().catch((e: Error) => e)) as Error).message).to.match(
        /needs 2 signatures per batch and this feeder has 0 peer\(s\) configured/,
      );
      const withPeer = harness(chain, new MemoryStateStore(), { t: 1_750_000_000_000 }, { peerCount: 1 }).controller;
      await withPeer.start();
    });
  });

  describe("telemetry health", function () {
    const U = GPUS[2];
    it("counts parse errors by source and logs them rate-limited", async function () {
      const clock = { t: 1_750_000_000_000 };
      const src = new ScriptedSource(clock);
      const log = recordingLog();
      const { controller, metrics } = harness(new FakeChain(), new MemoryStateStore(), clock, {}, [src], log);
      await controller.start();
      src.lastErrors = ["line 3: expected 10 fields, got 4", "line 4: no timestamp"];
      for (let i = 0; i < 5; i++) {
        clock.t += 5000;
        await controller.pollOnce();
      }
      expect(metrics.parseErrors.get("scripted")).to.equal(10);
      expect(metrics.render(clock.t)).to.contain('feeder_parse_errors_total{source="scripted"} 10');
      const parseWarns = log.warns.filter((w) => /parse errors/.test(w.msg ?? ""));
      expect(parseWarns).to.have.length(1); // 25 s < the 60 s interval
      clock.t += 60_000;
      await controller.pollOnce();
      const again = log.warns.filter((w) => /parse errors/.test(w.msg ?? ""));
      expect(again).to.have.length(2);
      expect(again[1].obj).to.include({ suppressed: 4, errors: 2 });
    });
    it("says loudly when busy time is unknown: metric, warning, unhealthy /health; no busy time accrues", async function () {
      const clock = { t: 1_750_000_000_000 };
      const src = new ScriptedSource(clock);
      const log = recordingLog();
      const { controller, metrics } = harness(
        new FakeChain(),
        new MemoryStateStore(),
        clock,
        { assets: [{ assetId: "2", gpus: [U] }] },
        [src],
        log,
      );
      await controller.start();
      src.next = (t) => [{ uuid: U, timeMs: t, powerW: 409 }]; // drawing 409 W, no utilization field
      for (let i = 0; i < 4; i++) {
        clock.t += 5000;
        await controller.pollOnce();
      }
      expect(controller.state.meters.assets["2"].meter).to.include({ availableGpuSeconds: 15, busyGpuSeconds: 0 });
      expect(metrics.render(clock.t)).to.contain(`feeder_gpu_busy_unknown{gpu="${U}",asset_id="2"} 1`);
      expect(metrics.render(clock.t)).to.contain(
        `feeder_gpu_busy_unknown_seconds_total{gpu="${U}",asset_id="2"} 15.000`,
      );
      expect(log.warns.filter((w) => /busy time UNKNOWN/.test(w.msg ?? ""))).to.have.length(1);
      const h = metrics.health(clock.t, { staleAfterSeconds: 30, unhealthyAfterSeconds: 600 });
      expect(h.healthy).to.equal(false);
      expect(h.reasons).to.deep.equal([`GPU ${U} (asset 2): busy time unknown (its source reports no utilization)`]);
      src.next = (t) => [{ uuid: U, timeMs: t, utilizationPct: 50, powerW: 409 }];
      clock.t += 5000;
      await controller.pollOnce();
      expect(metrics.health(clock.t, { staleAfterSeconds: 30, unhealthyAfterSeconds: 600 }).healthy).to.equal(true);
    });
    it("reports each GPU's sample age, and is unhealthy once one is silent past staleAfterSeconds", async function () {
      const clock = { t: 1_750_000_000_000 };
      const src = new ScriptedSource(clock);
      const { controller, metrics } = harness(new FakeChain(), new MemoryStateStore(), clock, {}, [src]);
      await controller.start();
      src.next = (t) => GPUS.filter((g) => g !== GPUS[1]).map((g) => ({ uuid: g, timeMs: t, utilizationPct: 1 }));
      clock.t += 5000;
      await controller.pollOnce();
      clock.t += 26_000;
      const text = metrics.render(clock.t);
      expect(text).to.contain(`feeder_gpu_sample_age_seconds{gpu="${GPUS[0]}",asset_id="1"} 26.000`);
      expect(text).to.contain(`feeder_gpu_sample_age_seconds{gpu="${GPUS[1]}",asset_id="1"} 31.000`);
      const h = metrics.health(clock.t, { staleAfterSeconds: 30, unhealthyAfterSeconds: 600 });
      expect(h.reasons).to.deep.equal([`GPU ${GPUS[1]} (asset 1): no usable sample for 31 s`]);
    });
    it("maps a sample to the configured GPU by any of its keys (PCI bus id, serial, host + index)", async function () {
      const clock = { t: 1_750_000_000_000 };
      const src = new ScriptedSource(clock);
      const assets = [{ assetId: "2", gpus: ["pci:00000000:3B:00.0"] }];
      const { controller } = harness(new FakeChain(), new MemoryStateStore(), clock, { assets }, [src]);
      await controller.start();
      src.next = (t) => [
        {
          uuid: "GPU-ffffffff-0000-4000-8000-000000000001",
          aliases: ["pci:00000000:3B:00.0"],
          timeMs: t,
          utilizationPct: 100,
        },
        {
          uuid: "GPU-ffffffff-0000-4000-8000-000000000002",
          aliases: ["pci:00000000:8B:00.0"],
          timeMs: t,
          utilizationPct: 100,
        },
      ];
      for (let i = 0; i < 3; i++) {
        clock.t += 5000;
        await controller.pollOnce();
      }
      expect(Object.keys(controller.state.meters.gpus)).to.deep.equal(["pci:00000000:3B:00.0"]);
      expect(controller.state.meters.assets["2"].meter.busyGpuSeconds).to.equal(10);
    });
    it("records a gap longer than staleAfterSeconds as a problem of the run (cron --once between runs)", async function () {
      const clock = { t: 1_750_000_000_000 };
      const src = new ScriptedSource(clock);
      const store = new MemoryStateStore();
      const assets = [{ assetId: "2", gpus: [U] }];
      src.next = (t) => [{ uuid: U, timeMs: t, utilizationPct: 10 }];
      const first = harness(new FakeChain(), store, clock, { assets }, [src]).controller;
      await first.runOnce();
      expect(first.takeProblems()).to.deep.equal([]);
      clock.t += 300_000; // the next cron run, five minutes later
      const second = harness(new FakeChain(), store, clock, { assets }, [src]).controller;
      await second.runOnce();
      expect(second.takeProblems()[0]).to.equal(
        "300 GPU-seconds fell between samples more than staleAfterSeconds (30 s) apart and are not metered",
      );
    });
  });
});
