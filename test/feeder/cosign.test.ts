/**
 * Co-signing between three feeders (three keys, threshold 2) talking real HTTP on loopback, each
 * with its own controller, state, meters and telemetry (a simulator sampled at its own phase), on
 * one in-memory UsageOracle v2 (test/feeder/support/v2format.ts: the planned format, until the
 * contract lands). The three-process version against anvil follows once oracle v2 is on main.
 */
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import { Controller } from "../../feeder/controller";
import { DEFAULT_TOLERANCE, OwnHistory, type ReadingLimits } from "../../feeder/cosign/anchors";
import { emptyMeterState, ingestSamples } from "../../feeder/meters";
import { CoSigner, type CoSignOptions } from "../../feeder/cosign/node";
import { FeederMetrics } from "../../feeder/metrics";
import type { AssetInfo } from "../../feeder/ports";
import { SimulatorSource } from "../../feeder/sources/simulator";
import type { TelemetrySource } from "../../feeder/sources/source";
import { MemoryStateStore } from "../../feeder/state";
import { silentLogger, type GpuSample } from "../../feeder/types";
import { freePort } from "./harness";
import { MemoryOracleV2 } from "./support/memoryOracle";

const KEYS = [
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
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

/** Reads the simulator at the true time and stamps samples with this feeder's (maybe skewed) clock. */
class SkewedSource implements TelemetrySource {
  readonly name = "simulator";
  private readonly sim: SimulatorSource;
  constructor(
    clock: { t: number },
    private readonly offsetMs: () => number,
  ) {
    this.sim = new SimulatorSource({ seed: 11, gpus: GPUS, tdpWatts: TDP, energyCounter: true }, () => clock.t);
  }
  async read(): Promise<GpuSample[]> {
    return (await this.sim.read()).map((s) => ({ ...s, timeMs: s.timeMs + this.offsetMs() }));
  }
  async close() {}
}

interface Node {
  wallet: Wallet;
  store: MemoryStateStore;
  controller: Controller;
  cosigner: CoSigner;
  metrics: FeederMetrics;
  port: number;
  offsetMs: number;
  up: boolean;
}

class Network {
  readonly clock = { t: START };
  readonly oracle: MemoryOracleV2;
  readonly nodes: Node[] = [];
  readonly domain = {
    name: "ComputeRWA UsageOracle",
    version: "1",
    chainId: 31337n,
    verifyingContract: getAddress("0x" + "0b".repeat(20)),
  };

  constructor() {
    const infos = new Map<string, AssetInfo>([
      ["1", { gpuCount: 2, tdpWattsPerGpu: TDP, status: 0 }],
      ["2", { gpuCount: 1, tdpWattsPerGpu: TDP, status: 0 }],
    ]);
    this.oracle = new MemoryOracleV2(
      KEYS.map((k) => new Wallet(k).address),
      2,
      infos,
      this.domain,
      () => this.clock.t,
    );
  }

  options(extra: Partial<CoSignOptions>): CoSignOptions {
    return {
      chainId: 31337n,
      domain: this.domain,
      assets: ASSETS,
      peers: [],
      postIntervalSeconds: 10,
      takeoverSeconds: 4,
      proposalLagSeconds: 7, // ≥ maxTimeSkewSeconds + the poll interval: every peer has samples past it
      maxTimeSkewSeconds: 5,
      maxMessageAgeSeconds: 30,
      heartbeatSeconds: 60,
      maxBatchSize: 100,
      requestTimeoutMs: 2000,
      maxAttempts: 3,
      tolerance: DEFAULT_TOLERANCE,
      ...extra,
    };
  }

  /** Builds (or rebuilds, after a crash) node `i` on its store; peers get each other's URLs. */
  async build(
    i: number,
    ports: number[],
    extra: Partial<CoSignOptions> = {},
    store = new MemoryStateStore(),
    wrap: (p: ReturnType<MemoryOracleV2["port"]>) => ReturnType<MemoryOracleV2["port"]> = (p) => p,
  ): Promise<Node> {
    const wallet = new Wallet(KEYS[i]);
    const offset = this.nodes[i]?.offsetMs ?? 0;
    const node = { wallet, store, port: ports[i], offsetMs: offset, up: true } as Node;
    const now = () => this.clock.t + node.offsetMs;
    const port = wrap(this.oracle.port(wallet.address));
    const metrics = new FeederMetrics(now());
    const controller = new Controller(
      [new SkewedSource(this.clock, () => node.offsetMs)],
      port,
      store,
      metrics,
      silentLogger,
      {
        assets: ASSETS,
        pollIntervalMs: 1000,
        postIntervalMs: 1000,
        staleAfterSeconds: 5,
        chainId: 31337n,
        shutdownGraceMs: 1000,
        dryRun: false,
        peerCount: 2,
      },
      now,
    );
    const peers = KEYS.map((k, j) => ({ address: new Wallet(k).address, url: `http://127.0.0.1:${ports[j]}` })).filter(
      (_, j) => j !== i,
    );
    const cosigner = new CoSigner(
      port,
      wallet.signingKey,
      () => controller.state,
      () => controller.saveState(),
      (a): ReadingLimits | undefined => controller.limitsOf(a),
      metrics,
      silentLogger,
      { ...this.options(extra), peers },
      now,
    );
    controller.useCoSigner(cosigner);
    await controller.start();
    await cosigner.listen("127.0.0.1", ports[i]);
    Object.assign(node, { controller, cosigner, metrics });
    this.nodes[i] = node;
    return node;
  }

  async start(extra: Partial<CoSignOptions>[] = []): Promise<void> {
    const ports = await Promise.all(KEYS.map(() => freePort()));
    for (let i = 0; i < KEYS.length; i++) await this.build(i, ports, extra[i] ?? {});
  }

  ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /** Advances time in 250 ms steps; each node polls once a second at its own phase, and cycles. */
  async run(seconds: number): Promise<void> {
    for (let step = 0; step < seconds * 4; step++) {
      this.clock.t += 250;
      for (let i = 0; i < this.nodes.length; i++) {
        const n = this.nodes[i];
        if (!n.up) continue;
        if ((this.clock.t - START + 250 * i) % 1000 === 0) await n.controller.pollOnce();
      }
      if ((this.clock.t - START) % 1000 === 0) for (const n of this.nodes) if (n.up) await n.controller.postCycle();
    }
  }

  async stop(i: number): Promise<void> {
    this.nodes[i].up = false;
    await this.nodes[i].cosigner.close();
  }

  async close(): Promise<void> {
    for (const n of this.nodes) if (n.up) await n.cosigner.close();
  }
}

/** Checks what any honest observer of the chain must see: contiguous batches, linked and monotone readings. */
function expectConsistentChain(net: Network): void {
  const last = new Map<
    string,
    { batchIndex: number; timestamp: number; busy: bigint; avail: bigint; energy: bigint }
  >();
  net.oracle.batches.forEach((b, i) => {
    expect(Number(b.batchIndex)).to.equal(i + 1);
    for (const r of b.readings) {
      const id = r.assetId.toString();
      const prev = last.get(id);
      expect(Number(r.previousBatch), `asset ${id} in batch ${b.batchIndex}`).to.equal(prev?.batchIndex ?? 0);
      if (prev) {
        const dt = BigInt(Number(b.timestamp) - prev.timestamp);
        const g = BigInt(ASSETS.find((a) => a.assetId === id)!.gpus.length);
        expect(r.availableGpuSeconds - prev.avail >= 0n && r.availableGpuSeconds - prev.avail <= g * dt).to.equal(true);
        expect(r.busyGpuSeconds - prev.busy <= r.availableGpuSeconds - prev.avail).to.equal(true);
        expect(r.energyJ >= prev.energy).to.equal(true);
      }
      last.set(id, {
        batchIndex: Number(b.batchIndex),
        timestamp: Number(b.timestamp),
        busy: r.busyGpuSeconds,
        avail: r.availableGpuSeconds,
        energy: r.energyJ,
      });
    }
  });
}

/** An honest meter of asset 1 and 2: the same simulator sampled every second from the start. */
function honestBusy(untilMs: number): OwnHistory {
  const sim = new SimulatorSource({ seed: 11, gpus: GPUS, tdpWatts: TDP, energyCounter: true }, () => 0);
  const state = emptyMeterState();
  const assetOf = new Map(ASSETS.flatMap((a) => a.gpus.map((g): [string, string] => [g, a.assetId])));
  const h = new OwnHistory();
  for (let t = START; t <= untilMs; t += 1000) {
    ingestSamples(state, sim.sim.sample(t), assetOf, { staleAfterSeconds: 5 });
    for (const a of ASSETS) h.record(a.assetId, state.assets[a.assetId].meter);
  }
  return h;
}

describe("feeder: co-signing between three feeders (HTTP, threshold 2, in-memory oracle v2)", function () {
  this.timeout(120_000);
  let net: Network;
  afterEach(async function () {
    await net?.close();
  });

  it("all up: batches are proposed in turn, co-signed by a second operator, and accepted in order", async function () {
    net = new Network();
    await net.start();
    await net.run(75);
    expect(net.oracle.batches.length).to.be.at.least(5);
    expectConsistentChain(net);
    expect(net.oracle.submissions.every((s) => s.ok)).to.equal(true);
    // Every operator proposed some of them (rotation), and nobody objected to an honest reading.
    const proposers = new Set(net.oracle.submissions.map((s) => s.from));
    expect(proposers.size).to.equal(3);
    for (const n of net.nodes)
      expect(n.metrics.counters.get("feeder_cosign_messages_total")?.get("objected") ?? 0).to.equal(0);
    // Available time is the wall time since the first report, per GPU (no dropouts in this simulator).
    const first = net.oracle.batches[0];
    const latest = [...net.oracle.batches].reverse().find((b) => b.readings.some((r) => r.assetId === 1n))!;
    const r1 = latest.readings.find((r) => r.assetId === 1n)!;
    const elapsed = latest.timestamp - first.timestamp;
    expect(Number(2n * elapsed - r1.availableGpuSeconds)).to.be.within(0, 2 * 2 + 4);
  });

  it("one down: the other two still post; the absent proposer's slots are taken over", async function () {
    net = new Network();
    await net.start();
    await net.run(12);
    await net.stop(2);
    const before = net.oracle.batches.length;
    await net.run(70);
    expect(net.oracle.batches.length - before).to.be.at.least(4);
    expectConsistentChain(net);
    const down = net.nodes[2].wallet.address;
    expect(net.oracle.submissions.filter((s) => s.from === down && s.batchIndex > before + 1)).to.deep.equal([]);
    expect(
      net.nodes[0].metrics.counters.get("feeder_cosign_messages_total")?.get("peer-unreachable"),
    ).to.be.greaterThan(0);
  });

  it("a byzantine operator inflating busy time by 20 % is refused: nothing of its inflation is posted", async function () {
    net = new Network();
    // A minute between batches: a 20 % inflation (≈ 10 GPU-s of busy here) is far outside the
    // default tolerance (1 GPU-s per GPU + 3 %), an honest sampling-phase difference (≤ 2) inside.
    const tight = { postIntervalSeconds: 60 };
    await net.start([tight, tight, { ...tight, inflateBusyPct: 20 }]);
    await net.run(400);
    expect(net.oracle.batches.length).to.be.at.least(5);
    expectConsistentChain(net);
    const byzantine = net.nodes[2].wallet.address;
    // An inflated reading never gets a second signature: whatever it submitted was agreed by an honest peer.
    expect(net.oracle.submissions.filter((s) => s.from === byzantine && !s.ok)).to.deep.equal([]);
    const objected = net.nodes
      .slice(0, 2)
      .map((n) => n.metrics.counters.get("feeder_cosign_messages_total")?.get("objected") ?? 0);
    expect(objected.every((n) => n > 0)).to.equal(true);
    // What was posted is what an honest meter of the same GPUs measures (± tolerance), not +20 %.
    const honest = honestBusy(net.clock.t);
    const withAsset = net.oracle.batches.filter((b) => b.readings.some((r) => r.assetId === 1n));
    const [first, last] = [withAsset[1], withAsset[withAsset.length - 1]];
    const busyOf = (b: (typeof withAsset)[number]) => Number(b.readings.find((r) => r.assetId === 1n)!.busyGpuSeconds);
    const posted = busyOf(last) - busyOf(first);
    const measured =
      honest.valueAt("1", Number(last.timestamp) * 1000)!.busy -
      honest.valueAt("1", Number(first.timestamp) * 1000)!.busy;
    expect(posted).to.be.greaterThan(100);
    expect(Math.abs(posted - measured) / measured).to.be.lessThan(0.03);
  });

  for (const [when, waitS] of [
    ["before anyone takes over", 0],
    ["after the next proposer took the round over", 12],
  ] as const)
    it(`a crash mid-round after the signed batch was written ahead, restarted ${when}, posts nothing twice`, async function () {
      net = new Network();
      await net.start();
      await net.run(22);
      // Rebuild node 0 with a port whose next send is written ahead, then dies before the broadcast.
      const n0 = net.nodes[0];
      await n0.cosigner.close();
      let armed = true;
      const crashing = await net.build(0, net.ports(), {}, n0.store, (p) => ({
        ...p,
        async send(calldata, gas, readings, persist) {
          if (!armed) return p.send(calldata, gas, readings, persist);
          armed = false;
          persist({ nonce: 0, rawTxs: [calldata], hashes: ["0x01"], firstSentAtMs: net.clock.t, readings });
          throw new Error("SIGKILL");
        },
      }));
      while (armed) await net.run(1).catch(() => undefined);
      const pending = crashing.store.state!.pending!;
      expect(pending).to.not.equal(undefined);
      crashing.up = false;
      await crashing.cosigner.close();
      const accepted = net.oracle.batches.length;
      await net.run(waitS);
      if (waitS > 0) expect(net.oracle.batches.length).to.be.greaterThan(accepted); // the round went on without it
      // Restart from the state file: the written-ahead transaction is resumed first.
      const restarted = await net.build(0, net.ports(), {}, crashing.store);
      await net.run(30);
      expect(restarted.store.state!.pending).to.equal(undefined);
      expectConsistentChain(net);
      const indices = net.oracle.batches.map((b) => b.batchIndex);
      expect(new Set(indices).size).to.equal(indices.length);
      const resumed = net.oracle.submissions.filter(
        (s) => s.from === n0.wallet.address && s.batchIndex === accepted + 1,
      );
      if (waitS === 0)
        expect(resumed.map((s) => s.ok)).to.deep.equal([true]); // posted exactly once
      else expect(resumed.every((s) => !s.ok)).to.equal(true); // refused: that index was already filled
    });

  it("clock skew inside the tolerance still co-signs; outside it the skewed operator is refused and refuses", async function () {
    net = new Network();
    await net.start();
    net.nodes[2].offsetMs = 3_000; // 3 s ahead: within maxTimeSkewSeconds (5 s)
    await net.run(60);
    const within = net.oracle.batches.length;
    expect(within).to.be.at.least(4);
    expect(net.oracle.submissions.some((s) => s.from === net.nodes[2].wallet.address)).to.equal(true);
    net.nodes[2].offsetMs = 30_000; // 30 s ahead: outside
    await net.run(60);
    expectConsistentChain(net);
    expect(net.oracle.batches.length - within).to.be.at.least(3);
    const refused = net.nodes[2].metrics.counters.get("feeder_cosign_messages_total")?.get("refused") ?? 0;
    expect(refused).to.be.greaterThan(0);
  });
});
