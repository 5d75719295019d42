import { expect } from "chai";
import { Controller, type ControllerOptions } from "../../feeder/controller";
import { FeederMetrics } from "../../feeder/metrics";
import type { BatchSigner } from "../../feeder/payload";
import { TransientError, type AssetInfo, type ChainPort, type Simulation, type TxOutcome } from "../../feeder/ports";
import { SimulatorSource } from "../../feeder/sources/simulator";
import { MemoryStateStore, type PendingTx } from "../../feeder/state";
import { IUsageOracle__factory } from "../../typechain-types";
import { silentLogger, type OracleReading } from "../../feeder/types";

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
    controller: new Controller([source], chain, signer, store, metrics, silentLogger, options, () => clock.t),
    metrics,
  };
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
});
