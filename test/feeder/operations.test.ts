/**
 * The feeder as an operator runs it: the built entry point (no Hardhat, solc or ts-node at run
 * time), `npm run feeder` and its signals, start-up refusals with one clear message, `--once` exit
 * codes, and /metrics + /health of a daemon fed a real dcgm-exporter capture.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import {
  Anvil,
  FEEDER_KEY,
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

const ROOT = path.join(__dirname, "..", "..");
const CAPTURE = path.join(__dirname, "fixtures", "dcgm", "rtx-3090-no-util-excerpt.prom");
const RTX_3090 = "GPU-96be9fff-fdfd-9b87-88d4-fe5b9a012148";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The `fatal` log line's message (pino JSON), or undefined. */
function fatalLine(out: string): string | undefined {
  for (const line of out.split("\n")) {
    if (!line.startsWith("{")) continue;
    const j = JSON.parse(line) as { level: number; err?: string };
    if (j.level === 60) return j.err;
  }
  return undefined;
}

describe("feeder: operations (built entry point against anvil)", function () {
  this.timeout(300_000);
  const anvil = new Anvil();
  const runs: FeederRun[] = [];
  let d: Deployed;

  before(async function () {
    await anvil.start();
  });
  afterEach(function () {
    for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    d?.provider.destroy();
  });
  after(function () {
    anvil.stop();
  });
  const run = (config: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const r = startFeeder(["--config", config, ...extra], env);
    runs.push(r);
    return r;
  };

  describe("start-up refusals (exit 1, one fatal line)", function () {
    it("refuses a key that is not a current signer", async function () {
      d = await deploy(anvil.url, { signers: [Wallet.createRandom().address] });
      const config = await writeSetup(tmpDir("feeder-notsigner-"), {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
      });
      const r = run(config, ["--once"]);
      expect(await r.exited).to.equal(1);
      expect(fatalLine(r.output())).to.match(
        new RegExp(`this feeder's key ${new Wallet(FEEDER_KEY).address} is not a current signer of the oracle`),
      );
    });
    it("refuses to run alone under a 2-of-3 signer set", async function () {
      d = await deploy(anvil.url, {
        signers: [new Wallet(FEEDER_KEY).address, Wallet.createRandom().address, Wallet.createRandom().address],
        threshold: 2,
      });
      const config = await writeSetup(tmpDir("feeder-alone-"), {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
      });
      const r = run(config, ["--once"]);
      expect(await r.exited).to.equal(1);
      expect(fatalLine(r.output())).to.equal(
        'the oracle needs 2 signatures per batch and this feeder has 0 peer(s) configured: configure at least 1 co-signing peers (see docs/feeder.md, "Co-signing")',
      );
    });
    it("refuses a raw private key from the environment on a chain that is not a local development chain", async function () {
      d = await deploy(anvil.url);
      const config = await writeSetup(tmpDir("feeder-rawkey-"), {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress, chainId: 11155111 },
        signer: { privateKeyEnv: "FEEDER_TEST_KEY", development: true },
        assets: d.assets,
      });
      const r = run(config, ["--once"], { FEEDER_TEST_KEY: FEEDER_KEY });
      expect(await r.exited).to.equal(1);
      expect(fatalLine(r.output())).to.match(/a raw private key from the environment is refused on chain 11155111/);
    });
  });

  describe("--once", function () {
    it("exits 3, naming why, when it could not post what it should have (fee cap below the base fee)", async function () {
      d = await deploy(anvil.url);
      const config = await writeSetup(tmpDir("feeder-fee-"), {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
        tx: { maxFeePerGasGwei: 0.000001 },
      });
      const r = run(config, ["--once"]);
      expect(await r.exited).to.equal(3);
      expect(r.output()).to.match(/"problem":"base fee [0-9.]+ gwei above the configured cap: nothing sent"/);
      expect(await d.oracle.nextBatchIndex()).to.equal(1n);
    });
  });

  describe("daemon /metrics and /health on a real capture", function () {
    it("counts parse errors by source, reports the busy-unknown GPU and its sample age, and answers 503 with the reasons", async function () {
      d = await deploy(anvil.url);
      const dir = tmpDir("feeder-health-");
      const scrape = path.join(dir, "metrics.prom");
      // The real capture (a GPU with no utilization metric), plus one line that is not exposition.
      fs.writeFileSync(
        scrape,
        fs.readFileSync(CAPTURE, "utf8") + 'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="' + RTX_3090 + '"} watts\n',
      );
      const port = await freePort();
      const config = await writeSetup(dir, {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        sources: [{ type: "dcgm", path: scrape }],
        assets: [{ assetId: 2, gpus: [RTX_3090] }],
        metrics: { host: "127.0.0.1", port },
      });
      const r = run(config);
      const health = await waitFor(
        "an unhealthy /health",
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/health`);
          const body = (await res.json()) as { status: string; reasons: string[] };
          return res.status === 503 && body.reasons.length > 0 ? body : undefined;
        },
        60_000,
      );
      expect(health.reasons).to.include(
        `GPU ${RTX_3090} (asset 2): busy time unknown (its source reports no utilization)`,
      );
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).to.match(/feeder_parse_errors_total\{source="dcgm:file"\} [1-9]/);
      expect(text).to.contain(`feeder_gpu_busy_unknown{gpu="${RTX_3090}",asset_id="2"} 1`);
      expect(text).to.match(new RegExp(`feeder_gpu_sample_age_seconds\\{gpu="${RTX_3090}",asset_id="2"\\} [0-9.]+`));
      expect(r.output()).to.contain("busy time UNKNOWN for this GPU");
      expect(await stopFeeder(r)).to.equal(0);
    });
  });

  describe("npm run feeder", function () {
    it("forwards SIGTERM to the feeder: it shuts down cleanly and leaves no process behind", async function () {
      d = await deploy(anvil.url);
      const config = await writeSetup(tmpDir("feeder-npm-"), {
        chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
        assets: d.assets,
      });
      let out = "";
      const npm = spawn("npm", ["run", "-s", "feeder", "--", "--config", config], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      npm.stdout!.on("data", (c: Buffer) => (out += c.toString()));
      npm.stderr!.on("data", (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((res) => npm.on("exit", (code) => res(code)));
      const pid = await waitFor(
        "the feeder's start line",
        async () => {
          const m = /"pid":(\d+),"signer"/.exec(out);
          return m ? Number(m[1]) : undefined;
        },
        180_000,
      );
      await waitFor("a posted batch", async () => (await d.oracle.nextBatchIndex()) > 1n, 60_000);
      npm.kill("SIGTERM");
      try {
        expect(await exited).to.equal(0);
        expect(out).to.contain('"msg":"stopped"');
        await waitFor("the feeder process to be gone", async () => !alive(pid), 10_000, 100);
      } finally {
        if (alive(pid)) process.kill(pid, "SIGKILL"); // an orphan must not outlive a failed test
      }
    });
  });
});
