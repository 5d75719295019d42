import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { emptyMeterState, ingestSamples, type MeterState } from "../../feeder/meters";
import { ConfigError, loadConfigFile, validateConfig } from "../../feeder/config";
import { FileStateStore, emptyState, writeFileAtomic } from "../../feeder/state";
import { GpuSimulator, renderDcgm, renderNvidiaSmiCsv } from "../../feeder/sources/simulator";
import { parseDcgm } from "../../feeder/sources/dcgm";
import { parseNvidiaSmiCsv } from "../../feeder/sources/nvidiaSmi";
import { submitCalldata } from "../../feeder/payload";
import { decodeSubmitCalldata } from "../../src/meterHistory";
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
  describe("submitCalldata", function () {
    it("encodes the oracle's submit so that the shared decoder reads back the same batch and signatures", function () {
      const batch = {
        configVersion: 3n,
        batchIndex: 12n,
        timestamp: 1_750_000_123n,
        readings: [
          { assetId: 1n, previousBatch: 11n, busyGpuSeconds: 100n, availableGpuSeconds: 200n, energyJ: 70_000n },
          { assetId: 4n, previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n },
        ],
      };
      const sigs = ["0x" + "11".repeat(65), "0x" + "22".repeat(65)];
      const call = decodeSubmitCalldata(submitCalldata(batch, sigs))!;
      expect(call).to.deep.equal({ ...batch, signatures: "0x" + "11".repeat(65) + "22".repeat(65) });
      expect(
        IUsageOracle__factory.createInterface().parseTransaction({ data: submitCalldata(batch, sigs) })!.name,
      ).to.equal("submit");
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
