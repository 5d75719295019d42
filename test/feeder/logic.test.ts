import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import {
  buildReading,
  emptyMeterState,
  ingestSamples,
  reconcileWithChain,
  type AssetState,
  type MeterState,
} from "../../feeder/meters";
import { selectBatches } from "../../feeder/batching";
import { ConfigError, loadConfigFile, validateConfig } from "../../feeder/config";
import { FileStateStore, emptyState, writeFileAtomic } from "../../feeder/state";
import { GpuSimulator, renderDcgm, renderNvidiaSmiCsv } from "../../feeder/sources/simulator";
import { parseDcgm } from "../../feeder/sources/dcgm";
import { parseNvidiaSmiCsv } from "../../feeder/sources/nvidiaSmi";
import { encodeSubmit, encodeSubmitReference, orderReadings } from "../../feeder/payload";
import { IUsageOracle__factory } from "../../typechain-types";
import type { GpuSample } from "../../feeder/types";
import { isRefusedReplacement } from "../../feeder/chain";

const G = ["GPU-00000000-0000-4000-8000-000000000001", "GPU-00000000-0000-4000-8000-000000000002"];
const T0 = 1_750_000_000_000;
const assetOf = new Map([
  [G[0], "7"],
  [G[1], "7"],
]);
const OPTS = { staleAfterSeconds: 30 };
const LIMITS = { gpuCount: 2, tdpWattsPerGpu: 700 };

const s = (uuid: string, dtS: number, extra: Partial<GpuSample> = {}): GpuSample => ({
  uuid,
  timeMs: T0 + dtS * 1000,
  ...extra,
});

function meterOf(state: MeterState) {
  return state.assets["7"].meter;
}

describe("feeder: meters", function () {
  describe("ingestSamples", function () {
    it("accrues available, busy (utilization share) and trapezoid energy between samples", function () {
      const st = emptyMeterState();
      ingestSamples(st, [s(G[0], 0, { utilizationPct: 50, powerW: 300 })], assetOf, OPTS);
      expect(meterOf(st)).to.include({ availableGpuSeconds: 0, busyGpuSeconds: 0, energyJ: 0 });
      ingestSamples(st, [s(G[0], 10, { utilizationPct: 80, powerW: 500 })], assetOf, OPTS);
      expect(meterOf(st)).to.include({
        availableGpuSeconds: 10,
        busyGpuSeconds: 8,
        energyJ: 4000,
        timeMs: T0 + 10_000,
      });
    });
    it("takes energy from the counter, and after a reset counts what accrued since it", function () {
      const st = emptyMeterState();
      ingestSamples(st, [s(G[0], 0, { energyCounterJ: 1_000_000, powerW: 400 })], assetOf, OPTS);
      ingestSamples(st, [s(G[0], 5, { energyCounterJ: 1_002_000, powerW: 400 })], assetOf, OPTS);
      expect(meterOf(st).energyJ).to.equal(2000);
      ingestSamples(st, [s(G[0], 10, { energyCounterJ: 1_500, powerW: 400 })], assetOf, OPTS); // driver reload
      expect(meterOf(st).energyJ).to.equal(3500);
      ingestSamples(st, [s(G[0], 15, { energyCounterJ: 3_500, powerW: 400 })], assetOf, OPTS);
      expect(meterOf(st).energyJ).to.equal(5500);
    });
    it("counts a GPU that stops reporting as not available for the gap", function () {
      const st = emptyMeterState();
      ingestSamples(
        st,
        [s(G[0], 0, { utilizationPct: 100, powerW: 700 }), s(G[1], 0, { utilizationPct: 100, powerW: 700 })],
        assetOf,
        OPTS,
      );
      ingestSamples(
        st,
        [s(G[0], 10, { utilizationPct: 100, powerW: 700 }), s(G[1], 10, { utilizationPct: 100, powerW: 700 })],
        assetOf,
        OPTS,
      );
      // G[1] goes silent for 100 s; G[0] keeps reporting every 10 s.
      for (let t = 20; t <= 110; t += 10)
        ingestSamples(st, [s(G[0], t, { utilizationPct: 100, powerW: 700 })], assetOf, OPTS);
      ingestSamples(st, [s(G[1], 110, { utilizationPct: 100, powerW: 700 })], assetOf, OPTS);
      expect(meterOf(st).availableGpuSeconds).to.equal(110 + 10);
      expect(meterOf(st).busyGpuSeconds).to.equal(120);
      expect(meterOf(st).energyJ).to.equal(120 * 700);
    });
    it("ignores unknown GPUs, duplicates and out-of-order samples; a missing utilization is not busy", function () {
      const st = emptyMeterState();
      const used = ingestSamples(
        st,
        [
          s(G[0], 0, { utilizationPct: 10 }),
          s("GPU-ffffffff-0000-4000-8000-000000000009", 5),
          s(G[0], 5),
          s(G[0], 5, { utilizationPct: 100 }),
        ],
        assetOf,
        OPTS,
      );
      expect(used).to.equal(2);
      expect(meterOf(st)).to.include({ availableGpuSeconds: 5, busyGpuSeconds: 0 });
    });
  });

  describe("buildReading", function () {
    function fresh(
      avail: number,
      busy: number,
      energy: number,
      timeS: number,
      last?: [number, number, number, number],
    ): AssetState {
      const a: AssetState = {
        meter: { availableGpuSeconds: avail, busyGpuSeconds: busy, energyJ: energy, timeMs: T0 + timeS * 1000 },
      };
      if (last)
        a.lastBuilt = {
          timestamp: last[0],
          availableGpuSeconds: `${last[1]}`,
          busyGpuSeconds: `${last[2]}`,
          energyJ: `${last[3]}`,
        };
      return a;
    }
    const nowS = T0 / 1000 + 10_000;
    it("makes the first report all zero and restarts the meter there", function () {
      const a = fresh(55.5, 20.2, 9000.7, 10);
      const r = buildReading("7", a, LIMITS, { energyMarginBps: 10_000, nowS })!;
      expect(r).to.deep.equal({
        assetId: 7n,
        timestamp: BigInt(T0 / 1000 + 10),
        busyGpuSeconds: 0n,
        availableGpuSeconds: 0n,
        energyJ: 0n,
      });
      expect(a.meter).to.include({ availableGpuSeconds: 0, busyGpuSeconds: 0, energyJ: 0 });
    });
    it("floors the meter and keeps the fraction", function () {
      const ts = T0 / 1000;
      const a = fresh(120.75, 60.5, 50_000.9, 60, [ts, 100, 50, 40_000]);
      const r = buildReading("7", a, LIMITS, { energyMarginBps: 10_000, nowS })!;
      expect(r).to.deep.equal({
        assetId: 7n,
        timestamp: BigInt(ts + 60),
        busyGpuSeconds: 60n,
        availableGpuSeconds: 120n,
        energyJ: 50_000n,
      });
      expect(a.meter.availableGpuSeconds).to.equal(120.75);
    });
    it("caps every delta at the oracle's bounds and drops the excess from the meter", function () {
      const ts = T0 / 1000;
      // 10 s, 2 GPUs: at most 20 GPU-seconds available, busy <= available delta, energy <= 2*700*10 J.
      const a = fresh(100 + 25, 50 + 24, 1000 + 15_000, 10, [ts, 100, 50, 1000]);
      const r = buildReading("7", a, LIMITS, { energyMarginBps: 10_000, nowS })!;
      expect(r.availableGpuSeconds).to.equal(120n);
      expect(r.busyGpuSeconds).to.equal(70n);
      expect(r.energyJ).to.equal(1000n + 14_000n);
      expect(a.meter).to.include({ availableGpuSeconds: 120, busyGpuSeconds: 70, energyJ: 15_000 });
      const withMargin = buildReading("7", fresh(0, 0, 1000 + 15_000, 10, [ts, 0, 0, 1000]), LIMITS, {
        energyMarginBps: 11_000,
        nowS,
      })!;
      expect(withMargin.energyJ).to.equal(1000n + 15_000n);
    });
    it("never goes below the previous reading and never dates a reading in the future", function () {
      const ts = T0 / 1000;
      const a = fresh(10, 5, 7, 100, [ts, 50, 20, 900]);
      const r = buildReading("7", a, LIMITS, { energyMarginBps: 10_000, nowS: ts + 40 })!;
      expect(r).to.deep.equal({
        assetId: 7n,
        timestamp: BigInt(ts + 40),
        busyGpuSeconds: 20n,
        availableGpuSeconds: 50n,
        energyJ: 900n,
      });
    });
    it("returns nothing when no whole second has passed since the previous reading", function () {
      const ts = T0 / 1000;
      expect(
        buildReading("7", fresh(10, 5, 7, 0.9, [ts, 0, 0, 0]), LIMITS, { energyMarginBps: 10_000, nowS }),
      ).to.equal(undefined);
      expect(
        buildReading("7", { meter: { availableGpuSeconds: 0, busyGpuSeconds: 0, energyJ: 0, timeMs: 0 } }, LIMITS, {
          energyMarginBps: 10_000,
          nowS,
        }),
      ).to.equal(undefined);
    });
    it("keeps every reading of a long simulated run within the oracle's bounds", function () {
      const sim = new GpuSimulator({
        seed: 11,
        gpus: G,
        tdpWatts: 700,
        energyCounter: true,
        dropoutProbability: 0.2,
        resetProbability: 0.1,
      });
      const st = emptyMeterState();
      const a = () => st.assets["7"];
      let prev: { t: bigint; b: bigint; v: bigint; e: bigint } | undefined;
      let readings = 0;
      for (let t = 0; t < 6 * 3600; t += 7) {
        ingestSamples(st, sim.sample(T0 + t * 1000 + (t % 3) * 137), assetOf, OPTS);
        if (t % 63 !== 0 || !a()) continue;
        const r = buildReading("7", a(), LIMITS, { energyMarginBps: 10_000, nowS: T0 / 1000 + t + 1 });
        if (!r) continue;
        a().lastBuilt = {
          timestamp: Number(r.timestamp),
          busyGpuSeconds: `${r.busyGpuSeconds}`,
          availableGpuSeconds: `${r.availableGpuSeconds}`,
          energyJ: `${r.energyJ}`,
        };
        if (prev) {
          const dt = r.timestamp - prev.t;
          expect(dt > 0n).to.equal(true);
          expect(r.busyGpuSeconds - prev.b <= r.availableGpuSeconds - prev.v).to.equal(true);
          expect(r.availableGpuSeconds - prev.v <= 2n * dt).to.equal(true);
          expect(r.energyJ - prev.e <= 2n * 700n * dt).to.equal(true);
          expect(r.busyGpuSeconds >= prev.b && r.energyJ >= prev.e).to.equal(true);
        }
        prev = { t: r.timestamp, b: r.busyGpuSeconds, v: r.availableGpuSeconds, e: r.energyJ };
        readings++;
      }
      expect(readings).to.be.greaterThan(300);
      // Dropouts make the asset less than fully available over the run.
      expect(Number(prev!.v)).to.be.lessThan(2 * 6 * 3600 * 0.95);
      expect(Number(prev!.v)).to.be.greaterThan(2 * 6 * 3600 * 0.5);
    });
  });

  describe("reconcileWithChain", function () {
    const chain = (ts: number, v: bigint) => ({
      assetId: 7n,
      timestamp: BigInt(ts),
      busyGpuSeconds: v / 2n,
      availableGpuSeconds: v,
      energyJ: v * 100n,
    });
    it("adopts a chain reading newer than the local state and raises the meter to it", function () {
      const a: AssetState = { meter: { availableGpuSeconds: 5, busyGpuSeconds: 1, energyJ: 10, timeMs: 1000 } };
      expect(reconcileWithChain(a, chain(500, 400n), 1)).to.equal("chain-ahead");
      expect(a.lastBuilt).to.deep.equal({
        timestamp: 500,
        availableGpuSeconds: "400",
        busyGpuSeconds: "200",
        energyJ: "40000",
      });
      expect(a.lastPosted).to.deep.equal(a.lastBuilt);
      expect(a.meter).to.include({ availableGpuSeconds: 400, busyGpuSeconds: 200, energyJ: 40_000, timeMs: 500_000 });
    });
    it("keeps a built reading that is newer than the chain's (sent, maybe not mined)", function () {
      const a: AssetState = {
        meter: { availableGpuSeconds: 900, busyGpuSeconds: 400, energyJ: 90_000, timeMs: 700_000 },
      };
      a.lastBuilt = { timestamp: 600, availableGpuSeconds: "800", busyGpuSeconds: "300", energyJ: "80000" };
      expect(reconcileWithChain(a, chain(500, 400n), 1)).to.equal("chain-behind");
      expect(a.lastBuilt.timestamp).to.equal(600);
      expect(a.lastPosted?.timestamp).to.equal(500);
      expect(a.meter.availableGpuSeconds).to.equal(900);
    });
  });
});

describe("feeder: batching policy", function () {
  function asset(lastPostedAtMs: number | undefined, changed: boolean, timeMs = T0): AssetState {
    const a: AssetState = {
      meter: { availableGpuSeconds: changed ? 11 : 10, busyGpuSeconds: 5, energyJ: 100, timeMs },
    };
    if (lastPostedAtMs !== undefined) {
      a.lastPosted = {
        timestamp: (T0 - 60_000) / 1000,
        availableGpuSeconds: "10",
        busyGpuSeconds: "5",
        energyJ: "100",
      };
      a.lastBuilt = a.lastPosted;
      a.lastPostedAtMs = lastPostedAtMs;
    }
    return a;
  }
  const policy = { maxBatchSize: 2, maxBatches: 2, heartbeatSeconds: 3600 };
  describe("selectBatches", function () {
    it("takes changed assets, the longest-waiting first, in batches of at most maxBatchSize", function () {
      const assets = {
        "1": asset(T0 - 10_000, true),
        "2": asset(undefined, true),
        "3": asset(T0 - 50_000, true),
        "4": asset(T0 - 5_000, true),
        "5": asset(T0 - 1_000, true),
      };
      expect(selectBatches(assets, ["1", "2", "3", "4", "5"], policy, T0)).to.deep.equal([
        ["2", "3"],
        ["1", "4"],
      ]);
    });
    it("skips unchanged assets until their heartbeat is due", function () {
      const assets = { "1": asset(T0 - 3_599_000, false), "2": asset(T0 - 3_600_000, false) };
      expect(selectBatches(assets, ["1", "2"], policy, T0)).to.deep.equal([["2"]]);
    });
    it("skips assets without a new whole-second timestamp, and ineligible ones", function () {
      const assets = {
        "1": asset(T0 - 60_000, true, T0 - 60_000),
        "2": asset(T0 - 60_000, true),
        "3": asset(undefined, true, 0),
      };
      expect(selectBatches(assets, ["1", "3"], policy, T0)).to.deep.equal([]);
      expect(selectBatches(assets, ["1", "2", "3"], policy, T0)).to.deep.equal([["2"]]);
    });
  });
});

describe("feeder: simulator", function () {
  describe("GpuSimulator", function () {
    it("is deterministic per seed and differs across seeds", function () {
      const a = new GpuSimulator({ seed: 1, gpus: G, tdpWatts: 700, energyCounter: true }).sample(T0);
      const b = new GpuSimulator({ seed: 1, gpus: G, tdpWatts: 700, energyCounter: true }).sample(T0);
      const c = new GpuSimulator({ seed: 2, gpus: G, tdpWatts: 700, energyCounter: true }).sample(T0);
      expect(a).to.deep.equal(b);
      expect(a).to.not.deep.equal(c);
    });
    it("has an energy counter equal to the integral of its power", function () {
      const sim = new GpuSimulator({ seed: 5, gpus: G, tdpWatts: 700 });
      let sum = 0;
      const t0 = T0 / 1000;
      for (let i = 0; i < 60_000; i++) sum += sim.powerAt(G[0], t0 + i / 100 + 0.005) / 100;
      const closed = sim.energyIntegralJ(G[0], t0 + 600) - sim.energyIntegralJ(G[0], t0);
      expect(Math.abs(sum - closed) / closed).to.be.lessThan(1e-6);
    });
    it("round-trips through the dcgm-exporter and nvidia-smi renderings", function () {
      const sim = new GpuSimulator({ seed: 3, gpus: G, tdpWatts: 700, energyCounter: true });
      const samples = sim.sample(T0 + 123);
      const dcgm = parseDcgm(renderDcgm(samples), T0 + 123).samples;
      expect(dcgm.map((x) => [x.uuid, x.utilizationPct, x.powerW])).to.deep.equal(
        samples.map((x) => [x.uuid, x.utilizationPct, x.powerW]),
      );
      const csv = parseNvidiaSmiCsv(renderNvidiaSmiCsv(samples)).samples;
      expect(csv.map((x) => [x.uuid, x.timeMs, x.utilizationPct, x.powerW])).to.deep.equal(
        samples.map((x) => [x.uuid, x.timeMs, x.utilizationPct, x.powerW]),
      );
    });
  });
});

describe("feeder: payload", function () {
  describe("orderReadings / encodeSubmit", function () {
    const r = (id: bigint) => ({
      assetId: id,
      timestamp: 5n,
      busyGpuSeconds: 1n,
      availableGpuSeconds: 2n,
      energyJ: 3n,
    });
    it("orders readings by asset id and refuses two readings of one asset", function () {
      expect(orderReadings([r(3n), r(1n), r(2n)]).map((x) => x.assetId)).to.deep.equal([1n, 2n, 3n]);
      expect(() => orderReadings([r(3n), r(3n)])).to.throw(/two readings for asset 3/);
    });
    it("encodes exactly as ethers' ABI coder does, for any number of readings and signatures", function () {
      const big = {
        assetId: 2n ** 200n,
        timestamp: 2n ** 64n - 1n,
        busyGpuSeconds: 0n,
        availableGpuSeconds: 77n,
        energyJ: 123456789n,
      };
      for (const rs of [[], [r(1n)], [r(1n), big, r(9n)]]) {
        for (const sigs of [[], ["0x" + "ab".repeat(65)], ["0x" + "11".repeat(65), "0x" + "22".repeat(64), "0x"]]) {
          expect(encodeSubmit(3n, rs, sigs)).to.equal(encodeSubmitReference(3n, rs, sigs));
        }
      }
      expect(() => encodeSubmit(3n, [{ ...big, timestamp: 2n ** 64n }], [])).to.throw(RangeError);
    });
    it("encodes the submit call the oracle ABI decodes", function () {
      const data = encodeSubmit(4n, [r(1n), r(2n)], ["0x" + "11".repeat(65)]);
      const decoded = IUsageOracle__factory.createInterface().decodeFunctionData("submit", data);
      expect(decoded[0]).to.equal(4n);
      expect(decoded[1].map((x: { assetId: bigint }) => x.assetId)).to.deep.equal([1n, 2n]);
      expect(decoded[2]).to.deep.equal(["0x" + "11".repeat(65)]);
    });
  });
});

describe("feeder: state file", function () {
  describe("FileStateStore", function () {
    it("round-trips the state and leaves no temporary file behind", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "feeder-state-"));
      const file = path.join(dir, "sub", "state.json");
      const store = new FileStateStore(file);
      expect(store.load()).to.equal(undefined);
      const st = emptyState(31337n, "0xABCDEF0000000000000000000000000000000001");
      st.meters.gpus[G[0]] = { assetId: "7", lastTimeMs: 5, lastPowerW: 100 };
      store.save(st);
      expect(store.load()).to.deep.equal(st);
      expect(fs.readdirSync(path.dirname(file))).to.deep.equal(["state.json"]);
      writeFileAtomic(file, "{}");
      expect(() => store.load()).to.throw(/version undefined/);
      fs.rmSync(dir, { recursive: true });
    });
  });
});

describe("feeder: config", function () {
  const base = () => ({
    chain: { rpcUrls: ["http://127.0.0.1:8545"], oracle: "0x" + "12".repeat(20) },
    signer: { keystore: "keys/feeder.json", passwordFile: "keys/feeder.password" },
    sources: [{ type: "dcgm", url: "http://127.0.0.1:9400/metrics" }],
    assets: [{ assetId: 1, gpus: [G[0]] }],
  });
  function problems(raw: unknown): string[] {
    try {
      validateConfig(raw);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  }
  describe("validateConfig", function () {
    it("accepts a minimal config and fills defaults", function () {
      const c = validateConfig(base());
      expect(c.policy.postIntervalSeconds).to.equal(60);
      expect(c.assets[0].assetId).to.equal("1");
      expect(c.tx.gasLimitCap).to.be.lessThan(2 ** 24);
    });
    it("reports every problem, one line each, with its path", function () {
      const raw = base() as Record<string, unknown>;
      raw.chain = { rpcUrls: ["ftp://x", "http://a", "http://b"], oracle: "0x1234" };
      raw.signer = { privateKeyEnv: "FEEDER_KEY" };
      raw.sources = [{ type: "dcgm" }, { type: "nvidia-smi", mode: "file" }];
      raw.assets = [
        { assetId: 1, gpus: [G[0]] },
        { assetId: "1", gpus: [G[0], "gpu0"] },
      ];
      raw.policy = { maxBatchSize: 0, pollIntervalSeconds: 60, staleAfterSeconds: 10 };
      raw.extra = true;
      expect(problems(raw)).to.have.members([
        "chain.rpcUrls[0]: must be an http(s) URL or env:VARIABLE",
        "chain.oracle: must be a 0x-prefixed 20-byte hex address",
        "signer: give either { keystore, passwordFile } or { privateKeyEnv, development: true }",
        "assets[1].gpus[1]: must be a GPU UUID (GPU-…), pci:<bus id>, serial:<serial> or index:<host>/<n>",
        "policy.maxBatchSize: Number must be greater than or equal to 1",
        "(top level): unknown key(s) extra",
      ]);
    });
    it("reports cross-field problems once the shape is right", function () {
      const raw = base() as Record<string, unknown>;
      raw.sources = [{ type: "dcgm" }, { type: "nvidia-smi", mode: "file" }];
      raw.assets = [
        { assetId: 1, gpus: [G[0]] },
        { assetId: "1", gpus: [G[0]] },
      ];
      raw.policy = { pollIntervalSeconds: 60, staleAfterSeconds: 10 };
      expect(problems(raw)).to.have.members([
        "assets[1].assetId: asset 1 is listed twice",
        `assets[1].gpus[0]: ${G[0]} is already mapped to asset 1`,
        "policy.staleAfterSeconds: must be at least pollIntervalSeconds, or every GPU looks silent",
        "sources[0]: give exactly one of url or path",
        "sources[1].path: mode file needs path",
      ]);
    });
    it("names GPUs by UUID, PCI bus id (normalized), serial, or host + index of a source with that host", function () {
      const raw = {
        ...base(),
        sources: [{ type: "nvidia-smi", mode: "command", host: "node-a" }],
        assets: [{ assetId: 1, gpus: [G[0], "pci:0000:3b:00.0", "serial:1324621114474", "index:node-a/3"] }],
      };
      expect(validateConfig(raw).assets[0].gpus).to.deep.equal([
        G[0],
        "pci:00000000:3B:00.0",
        "serial:1324621114474",
        "index:node-a/3",
      ]);
      const noHost = { ...raw, assets: [{ assetId: 1, gpus: ["index:node-b/0"] }] };
      expect(problems(noHost)).to.deep.equal([
        "assets[0].gpus[0]: no source has host: node-b (index keys need the source's host label)",
      ]);
    });
    it("validates the co-signing section: peers once each, a proposal lag peers can have samples past", function () {
      const peer = (n: string) => ({ address: "0x" + n.repeat(40), url: `http://peer-${n}.example:9470` });
      const raw = {
        ...base(),
        policy: { pollIntervalSeconds: 5, staleAfterSeconds: 30 },
        cosign: {
          listen: { port: 9470 },
          peers: [peer("b"), peer("b")],
          maxTimeSkewSeconds: 10,
          proposalLagSeconds: 12,
        },
      };
      expect(problems(raw)).to.have.members([
        "cosign.proposalLagSeconds: must be at least maxTimeSkewSeconds + policy.pollIntervalSeconds (15): peers need samples past the batch time",
        `cosign.peers[1].address: ${peer("b").address} is listed twice`,
      ]);
      const ok = validateConfig({ ...raw, cosign: { listen: { port: 9470 }, peers: [peer("b"), peer("c")] } });
      expect(ok.cosign!.tolerance).to.deep.equal({ busyPct: 3, availablePct: 2, energyPct: 5, slackSecondsPerGpu: 1 });
      expect(ok.cosign!.takeoverSeconds).to.equal(30);
    });
    it("takes any number of RPC URLs", function () {
      const urls = ["http://a:8545", "http://b:8545", "env:RPC_C", "https://d.example/rpc"];
      expect(validateConfig({ ...base(), chain: { ...base().chain, rpcUrls: urls } }).chain.rpcUrls).to.deep.equal(
        urls,
      );
    });
    it("allows a raw key from the environment only when marked as development", function () {
      const raw = { ...base(), signer: { privateKeyEnv: "FEEDER_KEY", development: true } };
      expect(problems(raw)).to.deep.equal([]);
    });
  });
  describe("loadConfigFile", function () {
    it("accepts every example config in feeder/examples", function () {
      const dir = path.join(__dirname, "..", "..", "feeder", "examples");
      const files = fs.readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));
      expect(files.length).to.be.at.least(4);
      for (const f of files) expect(loadConfigFile(path.join(dir, f)).assets.length, f).to.be.at.least(1);
    });
    it("reads YAML and JSON, and names a missing or unparsable file", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "feeder-cfg-"));
      fs.writeFileSync(path.join(dir, "c.yaml"), YAML.stringify(base()));
      fs.writeFileSync(path.join(dir, "c.json"), JSON.stringify(base()));
      fs.writeFileSync(path.join(dir, "bad.json"), "{ nope");
      expect(loadConfigFile(path.join(dir, "c.yaml")).assets[0].gpus).to.deep.equal([G[0]]);
      expect(loadConfigFile(path.join(dir, "c.json")).chain.rpcUrls).to.have.length(1);
      expect(() => loadConfigFile(path.join(dir, "missing.yaml"))).to.throw(ConfigError, /does not exist/);
      expect(() => loadConfigFile(path.join(dir, "bad.json"))).to.throw(ConfigError, /cannot parse/);
      fs.rmSync(dir, { recursive: true });
    });
  });
});

describe("feeder: chain error classification", function () {
  it("recognizes a node refusing a replacement, and nothing else, as a refused replacement", function () {
    for (const msg of [
      "replacement transaction underpriced",
      "sendRawTransaction: RPC unavailable after 5 attempts (replacement fee too low)",
      "transaction underpriced",
    ]) {
      expect(isRefusedReplacement(new Error(msg)), msg).to.equal(true);
    }
    for (const msg of ["nonce too low", "already known", "connection refused", "insufficient funds for gas"]) {
      expect(isRefusedReplacement(new Error(msg)), msg).to.equal(false);
    }
  });
});
