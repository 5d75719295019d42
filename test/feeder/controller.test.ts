/**
 * The controller with its round engine posting alone (threshold 1, no peers) on an in-memory
 * UsageOracle v2 (support/memoryOracle.ts): meters to batches, outages, restarts, dry runs, start-up
 * refusals and telemetry health. The real contract is exercised in integration.test.ts.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { Controller, type ControllerOptions } from "../../feeder/controller";
import { DEFAULT_TOLERANCE } from "../../feeder/cosign/anchors";
import { CoSigner } from "../../feeder/cosign/node";
import { FeederMetrics } from "../../feeder/metrics";
import { FatalError, type AssetInfo, type ChainPort } from "../../feeder/ports";
import { SimulatorSource } from "../../feeder/sources/simulator";
import type { TelemetrySource } from "../../feeder/sources/source";
import { MemoryStateStore } from "../../feeder/state";
import { silentLogger, type GpuSample, type Logger } from "../../feeder/types";
import { oracleDomain } from "../../src/eip712";
import { isPossiblePair } from "../../src/meterHistory";
import { MemoryOracleV2 } from "./support/memoryOracle";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const ME = new Wallet(KEY);
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
const START = 1_750_000_000_000;

function oracleFor(clock: { t: number }, signers = [ME.address], threshold = 1): MemoryOracleV2 {
  const assets = new Map<string, AssetInfo>([
    ["1", { gpuCount: 2, tdpWattsPerGpu: TDP, status: 0 }],
    ["2", { gpuCount: 1, tdpWattsPerGpu: TDP, status: 0 }],
  ]);
  return new MemoryOracleV2(signers, threshold, assets, oracleDomain(31337n, "0x" + "0b".repeat(20)), () => clock.t);
}

function harness(
  oracle: MemoryOracleV2,
  store: MemoryStateStore,
  clock: { t: number },
  extra: Partial<ControllerOptions> = {},
  sources?: TelemetrySource[],
  log: Logger = silentLogger,
  port: ChainPort = oracle.port(ME.address),
) {
  const options: ControllerOptions = {
    assets: ASSETS,
    pollIntervalMs: 5000,
    postIntervalMs: 1000,
    staleAfterSeconds: 30,
    chainId: 31337n,
    shutdownGraceMs: 1000,
    dryRun: false,
    ...extra,
  };
  const now = () => clock.t;
  const source = new SimulatorSource({ seed: 9, gpus: GPUS, tdpWatts: TDP, energyCounter: true }, now);
  const metrics = new FeederMetrics(clock.t);
  const controller = new Controller(sources ?? [source], port, store, metrics, log, options, now);
  const cosigner = new CoSigner(
    port,
    ME.signingKey,
    () => controller.state,
    () => controller.saveState(),
    (a) => controller.limitsOf(a),
    metrics,
    log,
    {
      chainId: 31337n,
      domain: oracle.domain,
      assets: options.assets,
      peers: [],
      postIntervalSeconds: 60,
      takeoverSeconds: 30,
      proposalLagSeconds: 6,
      maxTimeSkewSeconds: 10,
      maxMessageAgeSeconds: 60,
      heartbeatSeconds: 3600,
      maxBatchSize: 500,
      requestTimeoutMs: 1000,
      maxAttempts: 3,
      tolerance: DEFAULT_TOLERANCE,
    },
    now,
  );
  controller.useCoSigner(cosigner);
  return { controller, metrics, cosigner };
}

/** Polls every 5 s and ticks the round engine every second, for `seconds`. */
async function drive(c: Controller, clock: { t: number }, seconds: number) {
  for (let s = 0; s < seconds; s++) {
    clock.t += 1000;
    if ((clock.t - START) % 5000 === 0) await c.pollOnce();
    await c.postCycle();
  }
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

/** An asset's readings on chain, oldest first. */
function readingsOf(o: MemoryOracleV2, id: bigint) {
  return o.batches.flatMap((b) =>
    b.readings.filter((r) => r.assetId === id).map((r) => ({ ...r, timestamp: b.timestamp, batchIndex: b.batchIndex })),
  );
}

describe("feeder: controller posting alone (in-memory oracle v2)", function () {
  describe("run cycles", function () {
    it("posts a batch per interval whose increases are its own meters' (first report all zero)", async function () {
      const clock = { t: START };
      const oracle = oracleFor(clock);
      const { controller, metrics } = harness(oracle, new MemoryStateStore(), clock);
      await controller.start();
      await drive(controller, clock, 600);
      expect(oracle.batches.length).to.be.within(9, 11);
      const r1 = readingsOf(oracle, 1n);
      expect(r1[0]).to.include({ busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n, previousBatch: 0n });
      for (let i = 1; i < r1.length; i++) {
        expect(r1[i].previousBatch).to.equal(r1[i - 1].batchIndex);
        // Both GPUs up the whole time: available grows by 2 × Δt (floored, fractions carried).
        const dt = r1[i].timestamp - r1[i - 1].timestamp;
        const dAvail = r1[i].availableGpuSeconds - r1[i - 1].availableGpuSeconds;
        expect(Number(2n * dt - dAvail)).to.be.within(-1, 1);
      }
      // Over the whole run, available equals 2 GPUs × the time since the first report (nothing lost).
      const last = r1[r1.length - 1];
      expect(Number(2n * (last.timestamp - r1[0].timestamp) - last.availableGpuSeconds)).to.be.within(0, 1);
      expect(metrics.posts.get("accepted")).to.equal(oracle.batches.length);
      expect(oracle.submissions.every((s) => s.ok)).to.equal(true);
    });
    it("retries after an RPC outage and loses nothing", async function () {
      const clock = { t: START };
      const oracle = oracleFor(clock);
      const { controller, metrics } = harness(oracle, new MemoryStateStore(), clock);
      await controller.start();
      await drive(controller, clock, 120);
      oracle.failNext = 40;
      await drive(controller, clock, 240);
      expect(metrics.posts.get("transient-error")).to.be.greaterThan(0);
      const r2 = readingsOf(oracle, 2n);
      const last = r2[r2.length - 1];
      expect(Number(last.timestamp - r2[0].timestamp - last.availableGpuSeconds)).to.be.within(0, 1);
    });
  });

  describe("physical bounds", function () {
    it("posts only pairs of readings the oracle's own rule calls possible, over two hours of dropouts and counter resets", async function () {
      const clock = { t: START };
      const oracle = oracleFor(clock);
      const source = new SimulatorSource(
        { seed: 3, gpus: GPUS, tdpWatts: TDP, energyCounter: true, dropoutProbability: 0.1, resetProbability: 0.2 },
        () => clock.t,
      );
      const { controller } = harness(oracle, new MemoryStateStore(), clock, {}, [source]);
      await controller.start();
      await drive(controller, clock, 2 * 3600);
      for (const [id, gpus] of [
        [1n, 2n],
        [2n, 1n],
      ] as const) {
        const rs = readingsOf(oracle, id);
        expect(rs.length).to.be.greaterThan(100);
        const meter = (r: (typeof rs)[number]) => ({
          timestamp: r.timestamp,
          busyGpuSeconds: r.busyGpuSeconds,
          availableGpuSeconds: r.availableGpuSeconds,
          energyJ: r.energyJ,
        });
        for (let i = 1; i < rs.length; i++)
          expect(
            isPossiblePair(meter(rs[i - 1]), meter(rs[i]), {
              gpuCount: gpus,
              tdpWattsPerGpu: BigInt(TDP),
              energyMarginBps: 500n,
            }),
            `asset ${id} batch ${rs[i].batchIndex}`,
          ).to.equal(true);
        // Dropouts are not available time: less than the wall time, more than nothing.
        const last = rs[rs.length - 1];
        expect(last.availableGpuSeconds < gpus * (last.timestamp - rs[0].timestamp)).to.equal(true);
        expect(last.availableGpuSeconds > 0n).to.equal(true);
      }
    });
  });

  describe("restart", function () {
    it("resumes a batch written ahead before a crash and never posts a batch index twice", async function () {
      const clock = { t: START };
      const oracle = oracleFor(clock);
      const store = new MemoryStateStore();
      const real = oracle.port(ME.address);
      let crash = false;
      const crashing: ChainPort = {
        ...real,
        async send(calldata, gas, readings, persist) {
          if (!crash) return real.send(calldata, gas, readings, persist);
          persist({ nonce: 9, rawTxs: [calldata], hashes: ["0x09"], firstSentAtMs: clock.t, readings });
          throw new Error("killed");
        },
      };
      const first = harness(oracle, store, clock, {}, undefined, silentLogger, crashing).controller;
      await first.start();
      await drive(first, clock, 130);
      const before = oracle.batches.length;
      crash = true;
      // Run until the batch is written ahead and the "process" dies (no more cycles of `first`).
      for (let s = 0; s < 120 && !store.state!.pending; s++) {
        clock.t += 1000;
        if ((clock.t - START) % 5000 === 0) await first.pollOnce();
        await first.postCycle();
      }
      expect(store.state!.pending).to.not.equal(undefined);
      expect(oracle.batches.length).to.equal(before);
      clock.t += 10_000; // down for 10 s
      const second = harness(oracle, store, clock).controller;
      await second.start();
      await drive(second, clock, 5); // the first cycle resumes the written-ahead transaction
      expect(oracle.batches.length).to.equal(before + 1);
      expect(second.state.pending).to.equal(undefined);
      await drive(second, clock, 180);
      const indices = oracle.batches.map((b) => b.batchIndex);
      expect(new Set(indices).size).to.equal(indices.length);
      // The 10 s down are shorter than staleAfterSeconds: still available, nothing lost.
      const r2 = readingsOf(oracle, 2n);
      const last = r2[r2.length - 1];
      expect(Number(last.timestamp - r2[0].timestamp - last.availableGpuSeconds)).to.be.within(0, 1);
    });
    it("after losing its state file, follows the chain and bills nothing it did not see", async function () {
      const clock = { t: START };
      const oracle = oracleFor(clock);
      const first = harness(oracle, new MemoryStateStore(), clock).controller;
      await first.start();
      await drive(first, clock, 180);
      const before = readingsOf(oracle, 1n).at(-1)!;
      const second = harness(oracle, new MemoryStateStore(), clock).controller; // empty state file
      await second.start();
      expect(second.state.cosign!.view.nextBatchIndex).to.equal(oracle.batches.length + 1);
      await drive(second, clock, 130);
      const after = readingsOf(oracle, 1n);
      const relink = after.find((r) => r.timestamp > before.timestamp)!;
      // The first reading after the loss links to the chain's and adds nothing for the unseen time.
      expect(relink.previousBatch).to.equal(before.batchIndex);
      expect(relink.availableGpuSeconds).to.equal(before.availableGpuSeconds);
      expect(after.at(-1)!.availableGpuSeconds > before.availableGpuSeconds).to.equal(true);
    });
  });

  describe("outcomes", function () {
    it("treats a batch index another transmitter filled as done, and follows the chain", async function () {
      const clock = { t: START };
      const oracle = oracleFor(clock);
      const port = oracle.port(ME.address);
      let steal = false;
      const racing: ChainPort = {
        ...port,
        async simulate(calldata) {
          if (steal) {
            steal = false;
            oracle.apply("0x" + "cc".repeat(20), calldata); // someone else lands the same batch first
          }
          return port.simulate(calldata);
        },
      };
      const { controller, metrics } = harness(
        oracle,
        new MemoryStateStore(),
        clock,
        {},
        undefined,
        silentLogger,
        racing,
      );
      await controller.start();
      await drive(controller, clock, 70);
      steal = true;
      await drive(controller, clock, 70);
      expect(metrics.posts.get("index-taken")).to.equal(1);
      expect(controller.takeProblems()).to.deep.equal([]);
      expect(controller.state.cosign!.view.nextBatchIndex).to.equal(oracle.batches.length + 1);
    });
    it("prints the signed batch and sends nothing in a dry run", async function () {
      const clock = { t: START };
      const oracle = oracleFor(clock);
      const store = new MemoryStateStore();
      const printed: string[] = [];
      const { controller } = harness(oracle, store, clock, { dryRun: true, print: (s) => printed.push(s) });
      clock.t += 10_000;
      await controller.runOnce();
      expect(oracle.submissions).to.deep.equal([]);
      expect(store.saves).to.equal(0);
      const payload = JSON.parse(printed[0]);
      expect(payload.function).to.equal("submit(uint64,uint32,uint64,bytes,bytes)");
      expect(payload.batch.readings.map((r: { assetId: string }) => r.assetId)).to.deep.equal(["1", "2"]);
      expect(oracle.check(payload.calldata)).to.equal(undefined); // the oracle would take it as is
    });
  });

  describe("start-up checks", function () {
    it("refuses to start, with one clear message, when its key is not a current signer", async function () {
      const clock = { t: START };
      const { controller } = harness(oracleFor(clock, ["0x" + "cc".repeat(20)]), new MemoryStateStore(), clock);
      const err = await controller.start().catch((e: Error) => e);
      expect(err).to.be.instanceOf(FatalError);
      expect((err as Error).message).to.match(/is not a current signer of the oracle/);
    });
    it("refuses to start when the threshold needs more co-signers than are configured", async function () {
      const clock = { t: START };
      const chain = oracleFor(clock, [ME.address, "0x" + "cc".repeat(20), "0x" + "dd".repeat(20)], 2);
      const lone = harness(chain, new MemoryStateStore(), clock).controller;
      expect(((await lone.start().catch((e: Error) => e)) as Error).message).to.match(
        /needs 2 signatures per batch and this feeder has 0 peer\(s\) configured/,
      );
      const withPeer = harness(chain, new MemoryStateStore(), clock, { peerCount: 1 }).controller;
      await withPeer.start();
    });
  });

  describe("telemetry health", function () {
    const U = GPUS[2];
    it("counts parse errors by source and logs them rate-limited", async function () {
      const clock = { t: 1_750_000_000_000 };
      const src = new ScriptedSource(clock);
      const log = recordingLog();
      const { controller, metrics } = harness(oracleFor(clock), new MemoryStateStore(), clock, {}, [src], log);
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
        oracleFor(clock),
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
      const { controller, metrics } = harness(oracleFor(clock), new MemoryStateStore(), clock, {}, [src]);
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
      const { controller } = harness(oracleFor(clock), new MemoryStateStore(), clock, { assets }, [src]);
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
      const first = harness(oracleFor(clock), store, clock, { assets }, [src]).controller;
      await first.runOnce();
      expect(first.takeProblems()).to.deep.equal([]);
      clock.t += 300_000; // the next cron run, five minutes later
      const second = harness(oracleFor(clock), store, clock, { assets }, [src]).controller;
      await second.runOnce();
      expect(second.takeProblems()[0]).to.equal(
        "300 GPU-seconds fell between samples more than staleAfterSeconds (30 s) apart and are not metered",
      );
    });
  });
});
