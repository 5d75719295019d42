import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import type { FeederState } from "../../feeder/state";
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

/** Every accepted reading, from the oracle's UsageReported events: "asset@timestamp" keys. */
async function acceptedReadings(d: Deployed): Promise<string[]> {
  const logs = await d.oracle.queryFilter(d.oracle.filters.UsageReported(), 0, "latest");
  const keys: string[] = [];
  for (const log of logs) {
    const meters = log.args.meters as bigint[];
    for (let i = 0; i < meters.length; i += 2) keys.push(`${meters[i]}@${meters[i + 1] & ((1n << 64n) - 1n)}`);
  }
  return keys;
}

async function skippedCount(d: Deployed): Promise<number> {
  return (await d.oracle.queryFilter(d.oracle.filters.ReadingSkipped(), 0, "latest")).length;
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

/** On chain equals the feeder's last posted reading; availability covers the whole run (nothing lost). */
async function expectChainMatchesState(d: Deployed, stateFile: string): Promise<void> {
  const state = readState(stateFile);
  expect(state.pending).to.equal(undefined);
  for (const a of d.assets) {
    const onChain = await d.oracle.latestReading(a.assetId);
    const local = state.meters.assets[a.assetId];
    expect(local.lastPosted, `asset ${a.assetId} posted`).to.not.equal(undefined);
    expect({
      timestamp: Number(onChain.timestamp),
      busyGpuSeconds: onChain.busyGpuSeconds.toString(),
      availableGpuSeconds: onChain.availableGpuSeconds.toString(),
      energyJ: onChain.energyJ.toString(),
    }).to.deep.equal(local.lastPosted);
    // The local meter is at or past the posted reading, by no more than what accrued since.
    const sinceS = local.meter.timeMs / 1000 - Number(onChain.timestamp);
    expect(local.meter.availableGpuSeconds).to.be.at.least(Number(onChain.availableGpuSeconds));
    expect(local.meter.availableGpuSeconds - Number(onChain.availableGpuSeconds)).to.be.at.most(
      a.gpus.length * (sinceS + 1),
    );
  }
}

/** The first accepted timestamp of an asset (its zero baseline). */
async function firstTimestamp(d: Deployed, assetId: string): Promise<bigint> {
  const first = (await acceptedReadings(d)).find((k) => k.startsWith(`${assetId}@`))!;
  return BigInt(first.split("@")[1]);
}

/** Available GPU-seconds equal gpuCount × elapsed (± one second per GPU for sub-second sample times). */
async function expectFullyAvailable(d: Deployed): Promise<void> {
  for (const a of d.assets) {
    const onChain = await d.oracle.latestReading(a.assetId);
    const elapsed = onChain.timestamp - (await firstTimestamp(d, a.assetId));
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
      expect(await skippedCount(d)).to.equal(0);
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
      expect(await skippedCount(d)).to.equal(0);
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
      expect(payload.readings.map((r: { assetId: string }) => r.assetId)).to.deep.equal(["1", "2"]);
      expect(payload.signatures[0]).to.match(/^0x[0-9a-f]{130}$/);
      expect(fs.existsSync(path.join(dir, "state.json"))).to.equal(false);
      expect((await d.oracle.latestReading(1)).timestamp).to.equal(0n);
      const once = run(config, ["--once"]);
      expect(await once.exited).to.equal(0);
      expect((await d.oracle.latestReading(1)).timestamp).to.not.equal(0n);
      expect(readState(path.join(dir, "state.json")).meters.assets["1"].lastPosted).to.not.equal(undefined);
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
