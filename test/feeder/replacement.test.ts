import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import type { FeederState } from "../../feeder/state";
import { fetchMeterHistory } from "../../src/meterHistory";
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

interface LogLine {
  msg: string;
  nonce?: number;
  hash?: string;
  replacement?: number;
  [key: string]: unknown;
}

interface RpcTx {
  hash: string;
  nonce: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  input: string;
  blockNumber: string | null;
}

/** The feeder's JSON log lines (pino), parsed; other output is ignored. */
function logLines(run: FeederRun): LogLine[] {
  const out: LogLine[] = [];
  for (const line of run.output().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a partial line still being written
    }
  }
  return out;
}

/** Waits (bounded) for the first log line with message `msg` matching `pred`. */
function waitForLog(run: FeederRun, msg: string, timeoutMs: number, pred: (l: LogLine) => boolean = () => true) {
  return waitFor(
    `log "${msg}" (feeder output:\n${run.output().slice(-3000)})`,
    async () => {
      if (run.child.exitCode !== null)
        throw new Error(`feeder exited early with ${run.child.exitCode}:\n${run.output().slice(-3000)}`);
      return logLines(run).find((l) => l.msg === msg && pred(l));
    },
    timeoutMs,
    100,
  );
}

const bumped = (v: bigint, percent: number) => (v * BigInt(100 + percent) + 99n) / 100n;

describe("feeder: stuck transaction replacement against anvil (automine off)", function () {
  this.timeout(180_000);
  const anvil = new Anvil();
  const runs: FeederRun[] = [];
  let d: Deployed;

  before(async function () {
    await anvil.start();
    d = await deploy(anvil.url);
    // From here on nothing is mined unless the test says so: the feeder's transaction stays pending.
    await d.provider.send("evm_setAutomine", [false]);
  });
  afterEach(function () {
    for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill("SIGKILL");
  });
  after(function () {
    d?.provider.destroy();
    anvil.stop();
  });

  it("replaces the stuck tx at the same nonce with a bumped fee, at most maxReplacements times, and posts once", async function () {
    const feeBumpPercent = 20;
    const stuckAfterSeconds = 2;
    const dir = tmpDir("feeder-replace-");
    const stateFile = path.join(dir, "state.json");
    const metricsPort = await freePort();
    const config = await writeSetup(dir, {
      chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress },
      assets: d.assets,
      metrics: { host: "127.0.0.1", port: metricsPort },
      tx: {
        maxFeePerGasGwei: 100,
        stuckAfterSeconds,
        feeBumpPercent,
        maxReplacements: 1,
        receiptPollSeconds: 0.2,
      },
      shutdownGraceSeconds: 2,
    });
    const feeder = startFeeder(["--config", config]);
    runs.push(feeder);
    const feederAddress = new Wallet(FEEDER_KEY).address;

    // 1. The first batch is sent and stays pending.
    const sent = await waitForLog(feeder, "transaction sent", 60_000);
    const nonce = sent.nonce!;
    const original = (await d.provider.send("eth_getTransactionByHash", [sent.hash])) as RpcTx;
    expect(original, "original tx known to the node").to.not.equal(null);
    expect(Number(original.nonce)).to.equal(nonce);
    expect(original.blockNumber).to.equal(null);

    // 2. Past stuckAfterSeconds it is replaced: same nonce, same calldata, both fees bumped.
    const replacedLog = await waitForLog(feeder, "stuck transaction replaced with a bumped fee", 30_000);
    expect(replacedLog.nonce).to.equal(nonce);
    expect(replacedLog.replacement).to.equal(1);
    expect(replacedLog.hash).to.not.equal(sent.hash);
    const replacement = (await d.provider.send("eth_getTransactionByHash", [replacedLog.hash])) as RpcTx;
    expect(replacement, "replacement known to the node").to.not.equal(null);
    expect(Number(replacement.nonce)).to.equal(nonce);
    expect(replacement.input).to.equal(original.input);
    expect(BigInt(replacement.maxFeePerGas)).to.be.gte(bumped(BigInt(original.maxFeePerGas), feeBumpPercent));
    expect(BigInt(replacement.maxPriorityFeePerGas)).to.be.gte(
      bumped(BigInt(original.maxPriorityFeePerGas), feeBumpPercent),
    );
    // The write-ahead state holds both raw transactions of this nonce.
    const pendingState = (JSON.parse(fs.readFileSync(stateFile, "utf8")) as FeederState).pending!;
    expect(pendingState.nonce).to.equal(nonce);
    expect(pendingState.hashes).to.deep.equal([sent.hash, replacedLog.hash]);

    // 3. The wait for a receipt is bounded: the feeder gives up for this cycle, resumes the same
    //    nonce on the next one, and does not replace beyond maxReplacements (1).
    await waitForLog(feeder, "transaction not mined yet; will keep waiting", 30_000);
    await waitForLog(feeder, "resuming pending transaction", 30_000, (l) => (l as { nonce?: number }).nonce === nonce);
    const replacements = logLines(feeder).filter((l) => l.msg === "stuck transaction replaced with a bumped fee");
    expect(replacements.length).to.equal(1);

    // The node's pool holds exactly one transaction of the feeder at that nonce: the replacement.
    const pool = (await d.provider.send("txpool_content", [])) as {
      pending: Record<string, Record<string, RpcTx>>;
      queued: Record<string, Record<string, RpcTx>>;
    };
    const mine = Object.entries(pool.pending).find(([a]) => a.toLowerCase() === feederAddress.toLowerCase());
    expect(mine, "feeder has a pending tx in the pool").to.not.equal(undefined);
    const byNonce = mine![1];
    expect(Object.keys(byNonce)).to.deep.equal([String(nonce)]);
    expect(byNonce[String(nonce)].hash).to.equal(replacedLog.hash);

    // 4. Mine: the replacement lands, the original never does, the readings are accepted once.
    const batchesBefore = (await fetchMeterHistory(d.provider, d.oracleAddress)).lastBatchIndex();
    await d.provider.send("evm_mine", []);
    const accepted = await waitForLog(feeder, "batch accepted", 30_000);
    expect(accepted.hash).to.equal(replacedLog.hash);
    const receipt = await d.provider.getTransactionReceipt(replacedLog.hash!);
    expect(receipt?.status).to.equal(1);
    expect(await d.provider.getTransactionReceipt(sent.hash!)).to.equal(null);
    const block = await d.provider.getBlock(receipt!.blockNumber, true);
    const fromFeeder = block!.prefetchedTransactions.filter((t) => t.from === feederAddress);
    expect(fromFeeder.map((t) => t.hash)).to.deep.equal([replacedLog.hash]);
    const h = await fetchMeterHistory(d.provider, d.oracleAddress);
    expect(h.lastBatchIndex() - batchesBefore).to.equal(1n);
    expect(h.batch(h.lastBatchIndex())!.readings.map((r) => r.assetId.toString())).to.deep.equal(
      d.assets.map((a) => a.assetId),
    );

    // 5. The feeder's state shows the transaction confirmed: nothing pending at that nonce, the
    //    feeder's view equals the chain's, and the accepted counter moved once.
    //    ("batch accepted" is logged before the state is saved: wait for the save, bounded.)
    const state = await waitFor(
      "the state file to clear the mined nonce",
      async () => {
        const s = JSON.parse(fs.readFileSync(stateFile, "utf8")) as FeederState;
        return s.pending?.nonce !== nonce && s.lastSuccessfulPostMs !== undefined && s;
      },
      10_000,
      100,
    );
    expect(state.cosign!.view.nextBatchIndex).to.equal(Number(h.lastBatchIndex()) + 1);
    for (const a of d.assets) {
      const onChain = h.latest(BigInt(a.assetId))!;
      expect(state.cosign!.view.latest[a.assetId]).to.deep.include({
        batchIndex: Number(onChain.batch.batchIndex),
        busy: onChain.meter.busyGpuSeconds.toString(),
        avail: onChain.meter.availableGpuSeconds.toString(),
      });
    }
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).to.match(/feeder_posts_total\{outcome="accepted"\} 1\n/);
    expect(metrics).to.match(/feeder_posts_total\{outcome="not-mined-yet"\} [1-9]/);

    expect(await stopFeeder(feeder)).to.equal(0);
  });
});
