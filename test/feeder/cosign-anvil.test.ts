/**
 * Three feeder processes (the built entry point), three operators' keys, threshold 2, against the
 * real UsageOracle v2 on anvil: each with its own state file and its own telemetry view (a seeded
 * simulator sampled by that process), co-signing over HTTP on loopback. All up; one down; one
 * byzantine (busy +20 %); a proposer killed mid-round and restarted; clock skew inside and outside
 * the tolerance. What was posted is read back from the chain (logs + calldata, src/meterHistory.ts).
 */
import { expect } from "chai";
import { Wallet, getBytes, hexlify } from "ethers";
import { oracleDomain, recoverBatchSigner } from "../../src/eip712";
import { decodeSubmitCalldata, fetchMeterHistory, type MeterHistory } from "../../src/meterHistory";
import { OwnHistory } from "../../feeder/cosign/anchors";
import { emptyMeterState, ingestSamples } from "../../feeder/meters";
import { GpuSimulator } from "../../feeder/sources/simulator";
import {
  Anvil,
  GPU_UUIDS,
  OPERATOR_KEYS,
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

const ADDRESSES = OPERATOR_KEYS.map((k) => new Wallet(k).address);
const SEED = 42;

interface Operator {
  dir: string;
  config: string;
  port: number;
  run?: FeederRun;
}

/** Who signed each batch, and who submitted it: from the submit transactions' calldata. */
async function signersOf(
  d: Deployed,
  h: MeterHistory,
): Promise<{ batchIndex: bigint; from: string; signers: string[] }[]> {
  const domain = oracleDomain(31337n, d.oracleAddress);
  const logs = await d.oracle.queryFilter(d.oracle.filters.BatchAccepted(), 0, "latest");
  const out: { batchIndex: bigint; from: string; signers: string[] }[] = [];
  for (const log of logs) {
    const tx = (await d.provider.getTransaction(log.transactionHash))!;
    const call = decodeSubmitCalldata(tx.data)!;
    const batch = h.batch(call.batchIndex);
    if (!batch) continue; // accepted after `h` was read
    const sigs = getBytes(call.signatures);
    const signers: string[] = [];
    for (let i = 0; i < sigs.length; i += 65)
      signers.push(recoverBatchSigner(domain, batch, hexlify(sigs.slice(i, i + 65))));
    out.push({ batchIndex: call.batchIndex, from: tx.from, signers });
  }
  return out;
}

/** Contiguous batches; each asset's readings link to its previous one, never decrease, never exceed the GPUs × time. */
function expectConsistent(d: Deployed, h: MeterHistory): void {
  for (let i = 1n; i <= h.lastBatchIndex(); i++) expect(h.batch(i), `batch ${i}`).to.not.equal(undefined);
  for (const a of d.assets) {
    const rs = h.readingsOf(BigInt(a.assetId));
    rs.forEach((r, i) => {
      expect(r.reading.previousBatch).to.equal(i === 0 ? 0n : rs[i - 1].batch.batchIndex);
      if (i === 0) return;
      const p = rs[i - 1].meter;
      const dt = r.meter.timestamp - p.timestamp;
      const dAvail = r.meter.availableGpuSeconds - p.availableGpuSeconds;
      expect(
        dAvail >= 0n && dAvail <= BigInt(a.gpus.length) * dt,
        `asset ${a.assetId} batch ${r.batch.batchIndex}`,
      ).to.equal(true);
      expect(r.meter.busyGpuSeconds - p.busyGpuSeconds <= dAvail).to.equal(true);
      expect(r.meter.energyJ >= p.energyJ).to.equal(true);
    });
    // Nothing counted twice: over the whole run, available ≤ GPUs × the time since the first report.
    if (rs.length > 1) {
      const span = rs[rs.length - 1].meter.timestamp - rs[0].meter.timestamp;
      expect(rs[rs.length - 1].meter.availableGpuSeconds <= BigInt(a.gpus.length) * span).to.equal(true);
    }
  }
}

/** The busy GPU-seconds of some GPUs between two times as an honest meter measures them (the simulator sampled every 100 ms). */
function honestBusy(gpus: string[], fromS: bigint, toS: bigint): number {
  const sim = new GpuSimulator({ seed: SEED, gpus: GPU_UUIDS, tdpWatts: 700, energyCounter: true });
  const state = emptyMeterState();
  const assetOf = new Map(gpus.map((g): [string, string] => [g, "x"]));
  const h = new OwnHistory();
  for (let t = Number(fromS) * 1000 - 2000; t <= Number(toS) * 1000 + 2000; t += 100) {
    ingestSamples(state, sim.sample(t), assetOf, { staleAfterSeconds: 5 });
    h.record("x", state.assets["x"].meter);
  }
  return h.valueAt("x", Number(toS) * 1000)!.busy - h.valueAt("x", Number(fromS) * 1000)!.busy;
}

describe("feeder: three co-signing feeder processes against UsageOracle v2 on anvil (2 of 3)", function () {
  this.timeout(600_000);
  const anvil = new Anvil();
  let d: Deployed;
  let ops: Operator[];

  before(async function () {
    await anvil.start();
  });
  after(function () {
    anvil.stop();
  });
  afterEach(async function () {
    for (const o of ops ?? []) if (o.run && o.run.child.exitCode === null) o.run.child.kill("SIGKILL");
    d?.provider.destroy();
  });

  /** Deploys a 2-of-3 oracle and writes the three operators' configs (each lists the other two as peers). */
  async function network(
    policy: Record<string, number>,
    cosign: (i: number) => Record<string, unknown> = () => ({}),
  ): Promise<void> {
    d = await deploy(anvil.url, { signers: ADDRESSES, threshold: 2 });
    const ports = await Promise.all(ADDRESSES.map(() => freePort()));
    ops = [];
    for (let i = 0; i < 3; i++) {
      const dir = tmpDir(`feeder-cosign-${i}-`);
      const config = await writeSetup(
        dir,
        {
          chain: { rpcUrls: [anvil.url], oracle: d.oracleAddress, chainId: 31337 },
          assets: d.assets,
          sources: [{ type: "simulator", seed: SEED, tdpWatts: 700, energyCounter: true }],
          rpc: { timeoutSeconds: 5, maxAttempts: 4, backoffSeconds: 0.2, maxBackoffSeconds: 1 },
          policy: { pollIntervalSeconds: 1, staleAfterSeconds: 6, heartbeatSeconds: 600, ...policy },
          cosign: {
            listen: { host: "127.0.0.1", port: ports[i] },
            peers: ADDRESSES.map((address, j) => ({ address, url: `http://127.0.0.1:${ports[j]}` })).filter(
              (_, j) => j !== i,
            ),
            takeoverSeconds: 4,
            maxTimeSkewSeconds: 3,
            proposalLagSeconds: 5,
            requestTimeoutSeconds: 3,
            ...cosign(i),
          },
        },
        OPERATOR_KEYS[i],
      );
      ops.push({ dir, config, port: ports[i] });
    }
  }

  const start = (i: number) => (ops[i].run = startFeeder(["--config", ops[i].config]));
  const history = () => fetchMeterHistory(d.provider, d.oracleAddress);
  async function waitForBatches(n: bigint, timeoutMs = 120_000): Promise<MeterHistory> {
    return waitFor(
      `${n} accepted batches (feeder 0 output:\n${ops[0].run?.output().slice(-1500)})`,
      async () => {
        for (const o of ops)
          if (o.run && o.run.child.exitCode !== null && o.run.child.exitCode !== 0 && o.run.child.signalCode === null)
            throw new Error(`a feeder exited with ${o.run.child.exitCode}:\n${o.run.output().slice(-3000)}`);
        const h = await history();
        return h.lastBatchIndex() >= n ? h : undefined;
      },
      timeoutMs,
      500,
    );
  }

  it("all up: every batch carries two operators' signatures, the proposers rotate, and no honest reading is objected to", async function () {
    await network({ postIntervalSeconds: 6 });
    for (let i = 0; i < 3; i++) start(i);
    const h = await waitForBatches(6n);
    for (let i = 0; i < 3; i++) expect(await stopFeeder(ops[i].run!)).to.equal(0);
    expectConsistent(d, h);
    const who = await signersOf(d, h);
    for (const b of who) {
      expect(new Set(b.signers).size).to.equal(2);
      expect(b.signers.every((s) => ADDRESSES.includes(s))).to.equal(true);
      expect(b.signers).to.include(b.from); // the proposer signs its own batch
    }
    expect(new Set(who.map((b) => b.from)).size).to.be.at.least(2);
    for (const o of ops) expect(o.run!.output()).to.not.contain("objecting to readings");
  });

  it("one down: the other two keep posting, taking over the absent proposer's slots", async function () {
    await network({ postIntervalSeconds: 6 });
    for (let i = 0; i < 3; i++) start(i);
    const before = (await waitForBatches(2n)).lastBatchIndex();
    ops[2].run!.child.kill("SIGKILL");
    await ops[2].run!.exited;
    const h = await waitForBatches(before + 4n);
    for (let i = 0; i < 2; i++) expect(await stopFeeder(ops[i].run!)).to.equal(0);
    expectConsistent(d, h);
    const later = (await signersOf(d, h)).filter((b) => b.batchIndex > before + 1n);
    expect(later.length).to.be.at.least(3);
    for (const b of later) expect(b.signers).to.not.include(ADDRESSES[2]);
    expect(ops[0].run!.output()).to.contain("peer did not answer");
  });

  it("a byzantine operator inflating busy time by 20 % is refused: nothing of its inflation is posted", async function () {
    // A minute between batches, no slack beyond the flooring unit: +20 % of busy (≥ 2.4 GPU-s even
    // at the simulator's lowest load) is outside 1 + 3 %, an honest difference (≤ 1) inside.
    await network({ postIntervalSeconds: 60 }, (i) => ({
      tolerance: { slackSecondsPerGpu: 0 },
      ...(i === 2 ? { development: { inflateBusyPct: 20 } } : {}),
    }));
    for (let i = 0; i < 3; i++) start(i);
    const h = await waitForBatches(4n, 400_000);
    for (let i = 0; i < 3; i++) expect(await stopFeeder(ops[i].run!)).to.equal(0);
    expectConsistent(d, h);
    expect(ops[0].run!.output() + ops[1].run!.output()).to.contain("objecting to readings");
    // Every posted increase of busy is what an honest meter of the same GPUs measured over the same
    // interval (± the flooring unit and 3 %); an inflated one never made it, whoever proposed.
    let checked = 0;
    for (const a of d.assets) {
      const rs = h.readingsOf(BigInt(a.assetId));
      for (let i = 2; i < rs.length; i++) {
        const posted = Number(rs[i].meter.busyGpuSeconds - rs[i - 1].meter.busyGpuSeconds);
        const measured = honestBusy(a.gpus, rs[i - 1].meter.timestamp, rs[i].meter.timestamp);
        expect(Math.abs(posted - measured), `asset ${a.assetId} batch ${rs[i].batch.batchIndex}`).to.be.at.most(
          1.5 + 0.03 * measured,
        );
        if (measured >= 10) expect(posted).to.be.lessThan(measured * 1.1);
        checked++;
      }
    }
    expect(checked).to.be.at.least(3);
    // Whatever the byzantine operator submitted carried only readings an honest peer agreed with.
    const who = await signersOf(d, h);
    for (const b of who.filter((x) => x.from === ADDRESSES[2])) expect(b.signers.length).to.equal(2);
  });

  it("a proposer killed mid-round and restarted posts nothing twice", async function () {
    await network({ postIntervalSeconds: 6 });
    for (let i = 0; i < 3; i++) start(i);
    await waitForBatches(2n);
    // Kill operator 0 the moment it proposes (mid-round: peers asked, nothing submitted yet or just sent).
    await waitFor(
      "operator 0 to propose",
      async () =>
        ops[0]
          .run!.output()
          .split("\n")
          .slice(-40)
          .some((l) => l.includes("proposing a batch to peers")),
      120_000,
      20,
    );
    ops[0].run!.child.kill("SIGKILL");
    await ops[0].run!.exited;
    const killedAt = (await history()).lastBatchIndex();
    start(0); // the same state file
    const h = await waitForBatches(killedAt + 4n);
    for (let i = 0; i < 3; i++) expect(await stopFeeder(ops[i].run!)).to.equal(0);
    expectConsistent(d, h);
    const who = await signersOf(d, h);
    expect(new Set(who.map((b) => b.batchIndex)).size).to.equal(who.length);
    // The restarted operator takes part again.
    expect(who.filter((b) => b.batchIndex > killedAt + 1n).some((b) => b.signers.includes(ADDRESSES[0]))).to.equal(
      true,
    );
  });

  it("clock skew: 2 s ahead still co-signs; 30 s ahead is refused and refuses, and the other two carry on", async function () {
    await network({ postIntervalSeconds: 6 }, (i) => (i === 2 ? { development: { clockOffsetSeconds: 2 } } : {}));
    for (let i = 0; i < 3; i++) start(i);
    const h1 = await waitForBatches(6n);
    expect((await signersOf(d, h1)).some((b) => b.signers.includes(ADDRESSES[2]))).to.equal(true);
    expect(await stopFeeder(ops[2].run!)).to.equal(0);
    // Restart operator 2 with its clock 30 s ahead.
    await network({ postIntervalSeconds: 6 }, (i) => (i === 2 ? { development: { clockOffsetSeconds: 30 } } : {}));
    for (let i = 0; i < 3; i++) start(i);
    const h2 = await waitForBatches(6n);
    for (let i = 0; i < 3; i++) expect(await stopFeeder(ops[i].run!)).to.equal(0);
    expectConsistent(d, h2);
    const who = await signersOf(d, h2);
    for (const b of who) expect(b.signers).to.not.include(ADDRESSES[2]);
    expect(ops[2].run!.output()).to.match(/batch time is -?\d+\.\d s from this feeder's clock \(tolerance 3 s\)/);
  });
});
