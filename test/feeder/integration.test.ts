import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import type { FeederState } from "../../feeder/state";
import { fetchMeterHistory } from "../../src/meterHistory";
import {
  Anvil,
  DroppingProxy,
  deploy,
  freePort,
  startFeeder,
  stopFeeder,
  tmpDir,
  waitFor,
  writeSetup,
  type Deployed,
  type FeederRun,
} from "./harness";

/** The oracle's history, rebuilt from chain logs and calldata (the shared src/meterHistory.ts). */
async function history(d: Deployed) {
  return fetchMeterHistory(d.provider, d.oracleAddress);
}

/** Every accepted reading: "asset@timestamp" keys, in batch order. */
async function acceptedReadings(d: Deployed): Promise<string[]> {
  const h = await history(d);
  const keys: string[] = [];
  for (let i = 1n; i <= h.lastBatchIndex(); i++)
    for (const r of h.batch(i)!.readings) keys.push(`${r.assetId}@${h.batch(i)!.timestamp}`);
  return keys;
}

function readState(file: string): FeederState {
  return JSON.parse(fs.readFileSync(file, "utf8")) as FeederState;
}

/** Waits until asset 1 has at least `n` accepted readings after the first. */
async function waitForPosts(d: Deployed, n: number, run: FeederRun, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${n} posts (feeder output:\n${run.output().slice(-2000)})`,
    async () => {
      if (run.child.exitCode !== null)
        throw new Error(`feeder exited early with ${run.child.exitCode}:\n${run.output().slice(-3000)}`);
      return (await acceptedReadings(d)).filter((k) => k.startsWith("1@")).length >= n;
    },
    timeoutMs,
    300,
  );
}

/**
 * The feeder's view of the chain equals the chain; every asset's readings link to the batch before
 * and never decrease; the local meter is at or past the chain by no more than what accrued since.
 */
async function expectChainMatchesState(d: Deployed, stateFile: string): Promise<void> {
  const state = readState(stateFile);
  const h = await history(d);
  expect(state.pending).to.equal(undefined);
  expect(state.cosign!.view.nextBatchIndex).to.equal(Number(h.lastBatchIndex()) + 1);
  for (const a of d.assets) {
    const readings = h.readingsOf(BigInt(a.assetId));
    const onChain = readings[readings.length - 1];
    expect(state.cosign!.view.latest[a.assetId]).to.deep.equal({
      batchIndex: Number(onChain.batch.batchIndex),
      timestamp: Number(onChain.meter.timestamp),
      busy: onChain.meter.busyGpuSeconds.toString(),
      avail: onChain.meter.availableGpuSeconds.toString(),
      energy: onChain.meter.energyJ.toString(),
    });
    readings.forEach((r, i) => {
      expect(r.reading.previousBatch).to.equal(i === 0 ? 0n : readings[i - 1].batch.batchIndex);
      if (i > 0) expect(r.meter.availableGpuSeconds >= readings[i - 1].meter.availableGpuSeconds).to.equal(true);
    });
    // The feeder anchored its own meter at the chain's latest reading: its next reading builds on it.
    expect(state.cosign!.anchors[a.assetId]?.batchIndex).to.equal(Number(onChain.batch.batchIndex));
  }
}

/** The latest reading of an asset on chain (undefined before its first). */
async function latest(d: Deployed, assetId: bigint) {
  return (await history(d)).latest(assetId);
}

/** Available GPU-seconds equal gpuCount × elapsed (± one second per GPU for sub-second sample times). */
async function expectFullyAvailable(d: Deployed): Promise<void> {
  for (const a of d.assets) {
    const readings = (await history(d)).readingsOf(BigInt(a.assetId));
    const onChain = readings[readings.length - 1].meter;
    const elapsed = onChain.timestamp - readings[0].meter.timestamp;
    const g = BigInt(a.gpus.length);
    const diff = onChain.availableGpuSeconds - g * elapsed;
    expect(
      diff >= -g && diff <= g,
      `asset ${a.assetId}: available ${onChain.availableGpuSeconds}, ${g} GPUs × ${elapsed} s`,
    ).to.equal(true);
    expect(onChain.busyGpuSeconds <= onChain.availableGpuSeconds).to.equal(true);
    expect(onChain.energyJ >= g * 70n * (elapsed - 1n) && onChain.energyJ <= g * 700n * elapsed).to.equal(true);
  }
}

describe("feeder: end to end against anvil", function () {
  this.timeout(240_000);
  const anvil = new Anvil();
  const runs: FeederRun[] = [];
  const proxies: DroppingProxy[] = [];
  let d: Deployed;

  before(async function () {
    await anvil.start();
  });
  beforeEach(async function () {
    d = await deploy(anvil.url);
  });
  afterEach(function () {
    for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    for (const p of proxies.splice(0)) p.stop();
    d?.provider.destroy();
  });
  after(function () {
    anvil.stop();
  });

  function run(config: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): FeederRun {
    const r = startFeeder(["--config", config, ...extra], env);
    runs.push(r);
    return r;
  }

  describe("daemon", function () {
    it("posts readings that equal its local meters and stops cleanly on SIGTERM", async function () {
      const dir = tmpDir("feeder-e2e-");
      const metricsPort = await freePort();
      const config = await writeSetup(dir, {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
        metrics: { host: "127.0.0.1", port: metricsPort },
      });
      const feeder = run(config);
      await waitForPosts(d, 4, feeder);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).to.match(/feeder_posts_total\{outcome="accepted"\} [1-9]/);
      expect(metrics).to.match(/feeder_last_post_timestamp_seconds\{asset_id="2"\} \d{10}/);
      expect(metrics).to.match(/feeder_wallet_balance_wei \d+/);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/health`)).status).to.equal(200);
      expect(await stopFeeder(feeder)).to.equal(0);
      await expectChainMatchesState(d, path.join(dir, "state.json"));
      await expectFullyAvailable(d);
      expect(feeder.output()).to.not.include("correct horse");
      expect(feeder.output()).to.not.include("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
    });

    it("after a SIGKILL mid-run and a restart, posts nothing twice and loses nothing", async function () {
      const dir = tmpDir("feeder-kill-");
      const config = await writeSetup(dir, {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
        // A restart within staleAfterSeconds keeps the downtime available (the GPUs kept running).
        policy: { pollIntervalSeconds: 1, postIntervalSeconds: 2, staleAfterSeconds: 60, heartbeatSeconds: 60 },
      });
      const first = run(config);
      await waitForPosts(d, 3, first);
      first.child.kill("SIGKILL");
      await first.exited;
      const before = await acceptedReadings(d);
      await new Promise((r) => setTimeout(r, 2000)); // down for 2 s (< staleAfterSeconds)
      const second = run(config);
      await waitForPosts(d, before.filter((k) => k.startsWith("1@")).length + 3, second);
      expect(await stopFeeder(second)).to.equal(0);
      const all = await acceptedReadings(d);
      expect(new Set(all).size).to.equal(all.length);
      await expectChainMatchesState(d, path.join(dir, "state.json"));
      await expectFullyAvailable(d);
    });

    it("rides out an RPC endpoint that drops every request for a while", async function () {
      const proxy = new DroppingProxy(anvil.url);
      await proxy.start();
      proxies.push(proxy);
      const dir = tmpDir("feeder-proxy-");
      const config = await writeSetup(dir, {
        chain: { rpcUrls: [proxy.url], oracle: d.oracleAddress },
        assets: d.assets,
      });
      const feeder = run(config);
      await waitForPosts(d, 2, feeder);
      proxy.dropping = true;
      await new Promise((r) => setTimeout(r, 6000));
      proxy.dropping = false;
      expect(proxy.dropped).to.be.greaterThan(0);
      expect(feeder.child.exitCode).to.equal(null);
      const after = (await acceptedReadings(d)).filter((k) => k.startsWith("1@")).length;
      await waitForPosts(d, after + 2, feeder);
      expect(await stopFeeder(feeder)).to.equal(0);
      expect(feeder.output()).to.include("transient RPC error");
      await expectChainMatchesState(d, path.join(dir, "state.json"));
      await expectFullyAvailable(d);
    });

    it("uses the second RPC URL while the first one fails", async function () {
      const proxy = new DroppingProxy(anvil.url);
      await proxy.start();
      proxies.push(proxy);
      proxy.dropping = true;
      const dir = tmpDir("feeder-fallback-");
      const config = await writeSetup(dir, {
        chain: { rpcUrls: [proxy.url, anvil.url], chainId: 31337, oracle: d.oracleAddress },
        assets: d.assets,
      });
      const feeder = run(config);
      await waitForPosts(d, 2, feeder);
      expect(await stopFeeder(feeder)).to.equal(0);
      expect(proxy.dropped).to.be.greaterThan(0);
      await expectChainMatchesState(d, path.join(dir, "state.json"));
    });
  });

  describe("--once and --dry-run", function () {
    it("--dry-run prints a signed payload and sends nothing; --once posts one batch", async function () {
      const dir = tmpDir("feeder-once-");
      const config = await writeSetup(dir, {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
      });
      const dry = run(config, ["--dry-run"]);
      expect(await dry.exited).to.equal(0);
      const payload = JSON.parse(dry.output().slice(dry.output().indexOf("{\n")).split("\n}\n")[0] + "\n}");
      expect(payload.batch.readings.map((r: { assetId: string }) => r.assetId)).to.deep.equal(["1", "2"]);
      expect(payload.signatures[0]).to.match(/^0x[0-9a-f]{130}$/);
      expect(fs.existsSync(path.join(dir, "state.json"))).to.equal(false);
      expect(await latest(d, 1n)).to.equal(undefined);
      const once = run(config, ["--once"]);
      expect(await once.exited).to.equal(0);
      expect((await latest(d, 1n))!.reading.previousBatch).to.equal(0n);
      expect(readState(path.join(dir, "state.json")).cosign!.view.nextBatchIndex).to.equal(2);
    });
  });

  describe("bad configuration", function () {
    it("fails at start with one clear message per problem", async function () {
      const dir = tmpDir("feeder-bad-");
      const config = await writeSetup(dir, {
        chain: { rpcUrls: ["localhost:8545"], oracle: d.oracleAddress },
        assets: [{ assetId: 0, gpus: ["gpu0"] }],
        policy: { pollIntervalSeconds: -1 },
      });
      const bad = run(config);
      expect(await bad.exited).to.equal(2);
      const out = bad.output();
      expect(out).to.include("invalid feeder configuration");
      expect(out).to.include("chain.rpcUrls[0]: must be an http(s) URL or env:VARIABLE");
      expect(out).to.include("assets[0].assetId:");
      expect(out).to.include("assets[0].gpus[0]: must be a GPU UUID");
      expect(out).to.include("policy.pollIntervalSeconds: Number must be greater than 0");
    });
    it("names a wrong keystore password and refuses secrets on the command line", async function () {
      const dir = tmpDir("feeder-badpw-");
      const config = await writeSetup(dir, {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
      });
      fs.writeFileSync(path.join(dir, "password"), "wrong\n");
      const bad = run(config, ["--once"]);
      expect(await bad.exited).to.equal(2);
      expect(bad.output()).to.include("signer.keystore: cannot decrypt");
      expect(bad.output()).to.include("wrong password");
      const argv = run(config, ["--private-key=0xabc"]);
      expect(await argv.exited).to.equal(2);
      expect(argv.output()).to.include("secrets are not taken from the command line (--private-key)");
    });
  });
});
