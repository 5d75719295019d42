/**
 * `src/meterHistory.ts`: the one function that rebuilds the oracle's history from chain data
 * (`fetchMeterHistory`), and the proofs built from it (`boundaryAt`, `leaseProofs`, `meterAtTime`).
 * Checked against the chain: what was submitted comes back exactly, batches relayed by a contract are
 * found through `debug_traceTransaction` on a real node (anvil), a wrong decode is detected, and over
 * random histories every proof is accepted by the contract and gives the meter the TypeScript model
 * predicts, to the unit.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { JsonRpcProvider, Wallet, type Provider } from "ethers";
import {
  GpuAssetNFT__factory,
  MockOracleRelay__factory,
  SettlementMathHarness__factory,
  UsageOracle__factory,
} from "../../typechain-types";
import {
  encodeReadings,
  makeBatch,
  oracleDomain,
  readingsRoot,
  signBatchWithKey,
  submitArgs,
  type Meter,
  type Reading,
  type UsageBatch,
} from "../../src/eip712";
import {
  ABSENT_BOUNDARY,
  ABSENT_PROOF,
  MeterHistory,
  decodeBatchAccepted,
  decodeSubmitCalldata,
  fetchMeterHistory,
  interpolateMeter,
  isPossiblePair,
  leaseProofs,
  meterAtTime,
  type AcceptedBatch,
  type HistoryReading,
  type MeteringSpec,
} from "../../src/meterHistory";
import { startAnvil, type LocalNode } from "../deploy/helpers/processes";
import {
  BASE,
  BIG_ASSET,
  BURNABLE_ASSET,
  MARGIN_BPS,
  SKEW_SECONDS,
  SMALL_ASSET,
  Source,
  asMeter,
  deployedFixture,
  reading,
  rng,
  type Values,
} from "./fixtures";

const ASSETS = [BIG_ASSET, SMALL_ASSET, BURNABLE_ASSET];
const SPECS = new Map<bigint, MeteringSpec>(
  ASSETS.map((a) => [a.id, { gpuCount: a.gpuCount, tdpWattsPerGpu: a.tdpWatts, energyMarginBps: MARGIN_BPS }]),
);

/** Resolves to the error a promise rejects with; fails when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** The block time of a transaction. */
async function minedAt(provider: Provider, txHash: string): Promise<bigint> {
  const receipt = await provider.getTransactionReceipt(txHash);
  return BigInt((await provider.getBlock(receipt!.blockNumber))!.timestamp);
}

/** What the chain should hold for a submitted batch. */
function accepted(batch: UsageBatch, acceptedAt: bigint): AcceptedBatch {
  return {
    batchIndex: batch.batchIndex,
    configVersion: batch.configVersion,
    timestamp: batch.timestamp,
    acceptedAt,
    readingsRoot: readingsRoot(batch.readings),
    readings: batch.readings,
  };
}

/** A history's batches, in index order, as plain data. */
function batchesOf(history: MeterHistory): AcceptedBatch[] {
  const out: AcceptedBatch[] = [];
  for (let i = 1n; i <= history.lastBatchIndex(); i++) {
    const b = history.batch(i)!;
    out.push({ ...b, readingsRoot: b.readingsRoot.toLowerCase() });
  }
  return out;
}

// ---------------------------------------------------------------- random histories

/**
 * Posts a random history: `batches` batches, each with a random non-empty subset of the three assets,
 * timestamps 1 s to 1 h apart, accepted 0 to 200 s after their timestamp (or up to the skew before
 * it), counters mostly physically possible and about one reading in six impossible (decreasing,
 * beyond capacity, busy above available, energy above the TDP bound). Returns what was submitted.
 */
async function postRandomHistory(f: Awaited<ReturnType<typeof deployedFixture>>, seed: bigint, batches: number) {
  const r = rng(seed);
  const last = new Map<bigint, { timestamp: bigint; values: Values; batchIndex: bigint }>();
  const submitted: AcceptedBatch[] = [];
  let timestamp = BigInt(await time.latest()) + 1_000n;
  for (let b = 1n; b <= BigInt(batches); b++) {
    timestamp += r.between(1n, 3_600n);
    const chosen = ASSETS.filter(() => r.chance(0.6));
    if (chosen.length === 0) chosen.push(ASSETS[Number(r.below(3n))]);
    const readings: Reading[] = chosen.map((a) => {
      const prev = last.get(a.id);
      let values: Values;
      if (!prev) {
        values = { busyGpuSeconds: r.below(1n << 30n), availableGpuSeconds: 0n, energyJ: r.below(1n << 40n) };
        values.availableGpuSeconds = values.busyGpuSeconds + r.below(1n << 30n);
      } else {
        const capacity = a.gpuCount * (timestamp - prev.timestamp);
        const maxEnergy = (capacity * a.tdpWatts * (10_000n + MARGIN_BPS)) / 10_000n;
        const available = r.between(0n, capacity);
        let d = {
          busyGpuSeconds: r.between(0n, available),
          availableGpuSeconds: available,
          energyJ: r.between(0n, maxEnergy),
        };
        if (r.chance(1 / 6)) {
          const kind = r.below(4n);
          if (kind === 0n) d = { ...d, busyGpuSeconds: -1n - r.below(prev.values.busyGpuSeconds) };
          else if (kind === 1n) d = { ...d, availableGpuSeconds: capacity + 1n + r.below(100n) };
          else if (kind === 2n) d = { ...d, busyGpuSeconds: d.availableGpuSeconds + 1n };
          else d = { ...d, energyJ: maxEnergy + 1n + r.below(1_000n) };
        }
        values = {
          busyGpuSeconds: prev.values.busyGpuSeconds + d.busyGpuSeconds,
          availableGpuSeconds: prev.values.availableGpuSeconds + d.availableGpuSeconds,
          energyJ: prev.values.energyJ + d.energyJ,
        };
      }
      last.set(a.id, { timestamp, values, batchIndex: b });
      return reading(a.id, prev?.batchIndex ?? 0n, values);
    });
    const batch = makeBatch(1n, b, timestamp, readings);
    const now = BigInt(await time.latest());
    const acceptAt = r.chance(0.2) ? timestamp - r.between(0n, SKEW_SECONDS) : timestamp + r.between(0n, 200n);
    await time.setNextBlockTimestamp(acceptAt > now ? acceptAt : now + 1n);
    const tx = await f.oracle.connect(f.transmitter).submit(...submitArgs(batch, await f.sign(batch)));
    submitted.push(accepted(batch, await minedAt(ethers.provider, tx.hash)));
  }
  return submitted;
}

const SEEDS = [0x13n, 0x5eedn, 0xc0ffeen];
const randomFixtures = SEEDS.map((seed) => {
  const fixture = async function randomHistory() {
    const f = await deployedFixture();
    const submitted = await postRandomHistory(f, seed, 24);
    return { ...f, submitted, history: await f.history() };
  };
  return { seed, fixture };
});

/** Times worth asking about for an asset: each reading's time and its neighbours, midpoints, before and after. */
function interestingTimes(readings: readonly HistoryReading[], seed: bigint): bigint[] {
  const r = rng(seed);
  const times = new Set<bigint>();
  const first = readings[0].meter.timestamp;
  const lastT = readings[readings.length - 1].meter.timestamp;
  for (const t of [0n, first - 1_000n, lastT + 1n, lastT + 5_000n]) times.add(t);
  readings.forEach((x, i) => {
    const t = x.meter.timestamp;
    for (const u of [t - 1n, t, t + 1n]) times.add(u);
    if (i > 0) times.add((t + readings[i - 1].meter.timestamp) / 2n);
  });
  for (let i = 0; i < 6; i++) times.add(r.between(first - 100n, lastT + 100n));
  return [...times].filter((t) => t >= 0n).sort((a, b) => (a < b ? -1 : 1));
}

// ---------------------------------------------------------------- anvil

/** NFT, 2-of-3 oracle and relay deployed on a real node, with the signing keys. */
async function deployOnNode(url: string) {
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1 });
  const admin = await provider.getSigner(0);
  const adminAddress = await admin.getAddress();
  const keys = [0, 1, 2].map((i) => new Wallet(ethers.id(`anvil-oracle-signer-${i}`)));
  const nft = await new GpuAssetNFT__factory(admin).deploy(adminAddress);
  await (await nft.grantRole(await nft.REGISTRAR_ROLE(), adminAddress)).wait();
  for (const [i, a] of ASSETS.entries()) {
    await (
      await nft.mint(adminAddress, {
        gpuModel: "NVIDIA H100 80GB HBM3",
        datacenter: "eu-west-fra2",
        serialsHash: ethers.id(`anvil-serials-${i}`),
        vramMiBPerGpu: 81_559,
        gpuCount: Number(a.gpuCount),
        tdpWattsPerGpu: Number(a.tdpWatts),
      })
    ).wait();
  }
  const oracle = await new UsageOracle__factory(admin).deploy(
    adminAddress,
    await nft.getAddress(),
    keys.map((k) => k.address),
    2,
    SKEW_SECONDS,
    MARGIN_BPS,
  );
  await oracle.waitForDeployment();
  const relay = await new MockOracleRelay__factory(admin).deploy(await oracle.getAddress());
  await relay.waitForDeployment();
  const domain = oracleDomain((await provider.getNetwork()).chainId, await oracle.getAddress());
  const sign = (batch: UsageBatch, by = keys.slice(0, 2)) =>
    by.map((k) => signBatchWithKey(k.signingKey, domain, batch));
  const submission = (batch: UsageBatch, signatures: string[]) => {
    const [configVersion, batchIndex, timestamp, readings, sigs] = submitArgs(batch, signatures);
    return { configVersion, batchIndex, timestamp, readings, signatures: sigs };
  };
  return { provider, admin, nft, oracle, relay, keys, domain, sign, submission };
}

describe("src/meterHistory", function () {
  describe("fetchMeterHistory", function () {
    it("rebuilds exactly what was submitted: index, version, timestamp, acceptance time, root and readings", async function () {
      const f = await loadFixture(deployedFixture);
      const t = BigInt(await time.latest()) + 100n;
      const expected: AcceptedBatch[] = [];
      const post = async (timestamp: bigint, readings: Reading[], acceptAt: bigint) => {
        const batch = await f.nextBatch(timestamp, readings);
        await time.setNextBlockTimestamp(acceptAt);
        const tx = await f.oracle.connect(f.transmitter).submit(...submitArgs(batch, await f.sign(batch)));
        expected.push(accepted(batch, await minedAt(ethers.provider, tx.hash)));
      };
      await post(t, [reading(1n, 0n, BASE), reading(2n, 0n, BASE)], t + 30n);
      await post(t + 60n, [reading(1n, 1n, { ...BASE, energyJ: BASE.energyJ + 5n })], t + 50n); // stamped ahead of its block
      // A signer rotation: the next batch is signed under version 2 by the new set's single signer.
      await f.oracle.connect(f.oracleAdmin).setSigners([f.signers[2].address], 1);
      const v2 = makeBatch(2n, 3n, t + 200n, [reading(2n, 1n, BASE), reading(3n, 0n, BASE)]);
      await time.setNextBlockTimestamp(t + 400n);
      const tx = await f.oracle.submit(...submitArgs(v2, await f.sign(v2, [f.signers[2]])));
      expected.push(accepted(v2, t + 400n));
      expect(await minedAt(ethers.provider, tx.hash)).to.equal(t + 400n);

      const history = await f.history();
      expect(batchesOf(history)).to.deep.equal(expected);
      expect(history.batch(4n)).to.equal(undefined);
      // Every proof built from it is accepted by the contract.
      for (const b of expected) {
        for (const rd of b.readings) {
          const hr = history.readingsOf(rd.assetId).find((x) => x.batch.batchIndex === b.batchIndex)!;
          const proven = await f.oracle.verifyReading(history.proof(hr));
          expect([proven.assetId, proven.batchIndex, proven.acceptedAt, proven.meter.timestamp]).to.deep.equal([
            rd.assetId,
            b.batchIndex,
            b.acceptedAt,
            b.timestamp,
          ]);
        }
      }
    });

    it("returns an empty history before the first batch", async function () {
      const f = await loadFixture(deployedFixture);
      const history = await f.history();
      expect(history.lastBatchIndex()).to.equal(0n);
      expect(history.readingsOf(1n)).to.deep.equal([]);
      expect(history.previousBatchOf(1n)).to.equal(0n);
    });

    it("pages the log queries, honours fromBlock / toBlock, and extends a history given as `into`", async function () {
      const f = await loadFixture(deployedFixture);
      const t = BigInt(await time.latest()) + 10n;
      const blocks: number[] = [];
      for (let i = 0n; i < 5n; i++) {
        const { tx } = await f.post(t + i * 10n, [
          reading(1n, i, { ...BASE, availableGpuSeconds: BASE.availableGpuSeconds + i }),
        ]);
        blocks.push((await tx.wait())!.blockNumber);
      }
      const address = await f.oracle.getAddress();
      const whole = batchesOf(await fetchMeterHistory(ethers.provider, address));
      for (const blockRange of [1, 2, 3, 10_000]) {
        expect(
          batchesOf(await fetchMeterHistory(ethers.provider, address, { blockRange })),
          `range ${blockRange}`,
        ).to.deep.equal(whole);
      }
      const firstThree = await fetchMeterHistory(ethers.provider, address, { toBlock: blocks[2] });
      expect(firstThree.lastBatchIndex()).to.equal(3n);
      // `into` adds only what is new; asking again adds nothing.
      const extended = await fetchMeterHistory(ethers.provider, address, { into: firstThree, fromBlock: blocks[1] });
      expect(extended).to.equal(firstThree);
      expect(batchesOf(extended)).to.deep.equal(whole);
      expect(batchesOf(await fetchMeterHistory(ethers.provider, address, { into: extended }))).to.deep.equal(whole);
      // From a block after the first batches alone, a history starts at the first batch it sees.
      const tail = await fetchMeterHistory(ethers.provider, address, { fromBlock: blocks[3] });
      expect(tail.batch(3n)).to.equal(undefined);
      expect(tail.batch(4n)).to.deep.equal(extended.batch(4n));
    });

    it("reads only the given oracle's batches", async function () {
      const f = await loadFixture(deployedFixture);
      const twin = await new UsageOracle__factory(f.admin).deploy(
        f.admin.address,
        await f.nft.getAddress(),
        f.signers.map((s) => s.address),
        2,
        SKEW_SECONDS,
        MARGIN_BPS,
      );
      const twinDomain = oracleDomain(f.chainId, await twin.getAddress());
      const t = BigInt(await time.latest()) + 10n;
      const other = makeBatch(1n, 1n, t, [reading(7n, 0n, BASE)]);
      await twin.submit(
        ...submitArgs(
          other,
          f.signers.slice(0, 2).map((s) => signBatchWithKey(s.signingKey, twinDomain, other)),
        ),
      );
      await f.post(t + 1n, [reading(1n, 0n, BASE)]);
      const mine = await f.history();
      expect(mine.lastBatchIndex()).to.equal(1n);
      expect(mine.readingsOf(7n)).to.deep.equal([]);
      expect((await fetchMeterHistory(ethers.provider, await twin.getAddress())).readingsOf(7n).length).to.equal(1);
    });

    it("detects readings that do not match the logged root (a wrong decode or a lying node)", async function () {
      const f = await loadFixture(deployedFixture);
      await f.post(BigInt(await time.latest()) + 10n, [reading(1n, 0n, BASE), reading(2n, 0n, BASE)]);
      const iface = f.oracle.interface;
      // A provider that returns the submit transaction with one counter changed in its calldata.
      const lying = new Proxy(ethers.provider, {
        get(target, prop) {
          if (prop === "getTransaction") {
            return async (hash: string) => {
              const tx = (await target.getTransaction(hash))!;
              const call = iface.parseTransaction({ data: tx.data })!;
              const readings = decodeSubmitCalldata(tx.data)!.readings.map((x, i) =>
                i === 1 ? { ...x, energyJ: x.energyJ + 1n } : x,
              );
              const data = iface.encodeFunctionData("submit", [
                call.args[0],
                call.args[1],
                call.args[2],
                encodeReadings(readings),
                call.args[4],
              ]);
              return { to: tx.to, data };
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const error = await rejection(fetchMeterHistory(lying, await f.oracle.getAddress()));
      expect(error.message).to.match(/batch 1: readings from 0x[0-9a-f]{64} do not match the logged root/);
    });

    it("refuses a batch relayed by a contract when the node has no call tracer, rather than returning a history without it", async function () {
      const f = await loadFixture(deployedFixture);
      const relay = await new MockOracleRelay__factory(f.admin).deploy(await f.oracle.getAddress());
      const batch = await f.nextBatch(BigInt(await time.latest()) + 10n, [reading(1n, 0n, BASE)]);
      const [configVersion, batchIndex, timestamp, readings, signatures] = submitArgs(batch, await f.sign(batch));
      await expect(relay.relay({ configVersion, batchIndex, timestamp, readings, signatures })).to.emit(
        f.oracle,
        "BatchAccepted",
      );
      // The in-process network implements debug_traceTransaction with its default tracer only.
      const error = await rejection(f.history());
      expect(error.message).to.match(/tracer/);
    });
  });

  describe("fetchMeterHistory on a real node (anvil)", function () {
    this.timeout(240_000);
    let node: LocalNode | undefined;

    before(async function () {
      node = await startAnvil();
    });

    after(async function () {
      await node?.stop();
    });

    it("recovers batches relayed by a contract through debug_traceTransaction (anvil), next to direct ones", async function () {
      const n = await deployOnNode(node!.url);
      const base = BigInt((await n.provider.getBlock("latest"))!.timestamp);
      const expected: AcceptedBatch[] = [];
      // Batch 1: a direct submit.
      const b1 = makeBatch(1n, 1n, base + 1n, [reading(1n, 0n, BASE), reading(2n, 0n, BASE)]);
      const tx1 = await n.oracle.submit(...submitArgs(b1, n.sign(b1)));
      await tx1.wait();
      expected.push(accepted(b1, await minedAt(n.provider, tx1.hash)));
      // Batch 2: relayed alone.
      const b2 = makeBatch(1n, 2n, base + 2n, [
        reading(1n, 1n, { ...BASE, availableGpuSeconds: BASE.availableGpuSeconds + 8n }),
      ]);
      const tx2 = await n.relay.relay(n.submission(b2, n.sign(b2)));
      await tx2.wait();
      expected.push(accepted(b2, await minedAt(n.provider, tx2.hash)));
      // Batches 3 and 4 in one relayed transaction, after a refused batch 3 with other readings (bad signer).
      const b3 = makeBatch(1n, 3n, base + 3n, [reading(2n, 1n, BASE), reading(3n, 0n, BASE)]);
      const forged = makeBatch(1n, 3n, base + 3n, [reading(3n, 0n, { ...BASE, energyJ: 1n })]);
      const b4 = makeBatch(1n, 4n, base + 4n, [
        reading(1n, 2n, { ...BASE, availableGpuSeconds: BASE.availableGpuSeconds + 9n }),
      ]);
      const stranger = new Wallet(ethers.id("anvil-stranger"));
      const tx34 = await n.relay.relayAll([
        n.submission(forged, n.sign(forged, [n.keys[0], stranger])),
        n.submission(b3, n.sign(b3)),
        n.submission(b4, n.sign(b4)),
      ]);
      const receipt = await tx34.wait();
      const relayed = receipt!.logs.map((l) => n.relay.interface.parseLog(l)).filter((l) => l?.name === "Relayed");
      expect(relayed.map((l) => l!.args.accepted)).to.deep.equal([false, true, true]);
      const at34 = await minedAt(n.provider, tx34.hash);
      expected.push(accepted(b3, at34), accepted(b4, at34));

      const history = await fetchMeterHistory(n.provider, await n.oracle.getAddress());
      expect(batchesOf(history)).to.deep.equal(expected);
      // Proofs built from the relayed batches verify on the node.
      for (const assetId of [1n, 2n, 3n]) {
        for (const hr of history.readingsOf(assetId)) {
          expect((await n.oracle.verifyReading(history.proof(hr))).batchIndex).to.equal(hr.batch.batchIndex);
        }
      }
      const atB2 = history.boundaryAt(1n, base + 2n)!;
      const m = await n.oracle.meterAt(1n, base + 2n, atB2.boundary.earlier, atB2.boundary.later, 0);
      expect(m.source).to.equal(Source.Exact);
      expect(m.meter.availableGpuSeconds).to.equal(BASE.availableGpuSeconds + 8n);
    });
  });

  describe("decodeSubmitCalldata / decodeBatchAccepted", function () {
    it("decode submit's calldata and the BatchAccepted log, and ignore anything else", async function () {
      const f = await loadFixture(deployedFixture);
      const t = BigInt(await time.latest()) + 10n;
      const { batch, tx } = await f.post(t, [reading(1n, 0n, BASE), reading(2n, 0n, BASE)]);
      const call = decodeSubmitCalldata(tx.data)!;
      expect(call).to.deep.equal({
        configVersion: 1n,
        batchIndex: 1n,
        timestamp: t,
        readings: batch.readings,
        signatures: submitArgs(batch, await f.sign(batch))[4],
      });
      expect(decodeSubmitCalldata(f.oracle.interface.encodeFunctionData("setMaxFutureSkew", [1n]))).to.equal(undefined);
      expect(decodeSubmitCalldata("0x")).to.equal(undefined);
      expect(decodeSubmitCalldata("0x12345678")).to.equal(undefined);
      const receipt = (await tx.wait())!;
      expect(decodeBatchAccepted(receipt.logs[0])).to.deep.equal({
        batchIndex: 1n,
        configVersion: 1n,
        timestamp: t,
        readingsRoot: readingsRoot(batch.readings),
        readingCount: 2n,
      });
      const skewTx = await (await f.oracle.connect(f.oracleAdmin).setMaxFutureSkew(1n)).wait();
      expect(() => decodeBatchAccepted(skewTx!.logs[0])).to.throw();
    });
  });

  describe("MeterHistory", function () {
    const batch = (batchIndex: bigint, timestamp: bigint, readings: Reading[]): AcceptedBatch => ({
      batchIndex,
      configVersion: 1n,
      timestamp,
      acceptedAt: timestamp,
      readingsRoot: readingsRoot(readings),
      readings,
    });

    it("indexes readings per asset, oldest first, and follows previous-batch links", function () {
      const h = new MeterHistory([
        batch(2n, 200n, [reading(1n, 1n, BASE)]),
        batch(1n, 100n, [reading(1n, 0n, BASE), reading(2n, 0n, BASE)]),
        batch(
          3n,
          300n,
          [reading(2n, 1n, BASE), reading(1n, 2n, BASE)].sort((a, b) => Number(a.assetId - b.assetId)),
        ),
      ]);
      expect(h.readingsOf(1n).map((r) => r.batch.batchIndex)).to.deep.equal([1n, 2n, 3n]);
      expect(h.readingsOf(2n).map((r) => r.batch.batchIndex)).to.deep.equal([1n, 3n]);
      expect(h.linked(h.readingsOf(2n)[1])).to.equal(h.readingsOf(2n)[0]);
      expect(h.linked(h.readingsOf(1n)[0])).to.equal(undefined);
      expect(h.previousBatchOf(1n)).to.equal(3n);
      expect(h.previousBatchOf(9n)).to.equal(0n);
      expect(h.latest(1n, 250n)!.batch.batchIndex).to.equal(2n);
      expect(h.latest(1n, 99n)).to.equal(undefined);
      expect(h.firstAtOrAfter(1n, 101n)!.batch.batchIndex).to.equal(2n);
      expect(h.firstAtOrAfter(1n, 301n)).to.equal(undefined);
      expect(h.single(h.readingsOf(1n)[0])).to.deep.equal({
        earlier: ABSENT_PROOF,
        later: h.proof(h.readingsOf(1n)[0]),
      });
    });

    it("refuses a batch older than its last, ignores one seen before, and refuses a proof through an unknown link", function () {
      const h = new MeterHistory([batch(2n, 200n, [reading(1n, 1n, BASE)])]);
      h.add(batch(2n, 200n, [reading(1n, 1n, BASE)]));
      expect(h.readingsOf(1n).length).to.equal(1);
      expect(() => h.add(batch(1n, 100n, [reading(1n, 0n, BASE)]))).to.throw(RangeError, /batch 1 added after batch 2/);
      // Batch 2 links to batch 1, which this history never saw: the meter before it cannot be proven.
      expect(() => h.boundaryAt(1n, 150n)).to.throw(/links to unknown batch 1/);
      expect(h.boundaryAt(1n, 200n)!.used.length).to.equal(1);
      expect(h.boundaryAt(1n, 201n)).to.equal(undefined);
      expect(meterAtTime(h, 1n, 150n, SPECS.get(1n)!, "lower")).to.equal(undefined);
    });
  });

  describe("isPossiblePair / interpolateMeter", function () {
    it("equal MeterMath.isPossible and MeterMath.interpolate on edge and random pairs", async function () {
      const { admin } = await loadFixture(deployedFixture);
      const harness = await new SettlementMathHarness__factory(admin).deploy();
      const r = rng(99n);
      const e: Meter = { timestamp: 1_000n, busyGpuSeconds: 500n, availableGpuSeconds: 900n, energyJ: 10_000n };
      const spec = { gpuCount: 8n, tdpWattsPerGpu: 700n, energyMarginBps: 1_000n };
      const dt = 60n;
      const cap = spec.gpuCount * dt;
      const maxE = (cap * spec.tdpWattsPerGpu * 11_000n) / 10_000n;
      const later = (d: Partial<Meter>): Meter => ({
        timestamp: e.timestamp + dt,
        busyGpuSeconds: e.busyGpuSeconds + cap,
        availableGpuSeconds: e.availableGpuSeconds + cap,
        energyJ: e.energyJ + maxE,
        ...d,
      });
      const pairs: [Meter, Meter][] = [
        [e, later({})],
        [e, later({ busyGpuSeconds: e.busyGpuSeconds + cap + 1n })],
        [e, later({ availableGpuSeconds: e.availableGpuSeconds + cap + 1n, busyGpuSeconds: e.busyGpuSeconds })],
        [e, later({ energyJ: e.energyJ + maxE + 1n })],
        [e, later({ busyGpuSeconds: e.busyGpuSeconds - 1n })],
        [e, later({ energyJ: e.energyJ - 1n })],
        [e, later({ timestamp: e.timestamp })],
        [e, { ...e, timestamp: e.timestamp + 1n }],
      ];
      for (let i = 0; i < 40; i++) {
        const t0 = r.below(1n << 40n);
        const a: Meter = {
          timestamp: t0,
          busyGpuSeconds: r.below(1n << 47n),
          availableGpuSeconds: r.below(1n << 47n),
          energyJ: r.below(1n << 62n),
        };
        const span = r.between(1n, 100_000n);
        const c = span * spec.gpuCount;
        const avail = r.between(0n, c + 2n);
        pairs.push([
          a,
          {
            timestamp: t0 + span,
            busyGpuSeconds: a.busyGpuSeconds + r.between(0n, avail + 1n),
            availableGpuSeconds: a.availableGpuSeconds + avail,
            energyJ: a.energyJ + r.between(0n, (c * 7_800n) / 10n),
          },
        ]);
      }
      let possible = 0;
      for (const [a, b] of pairs) {
        const onChain = await harness.isPossible(a, b, spec.gpuCount, spec.tdpWattsPerGpu, spec.energyMarginBps);
        expect(
          isPossiblePair(a, b, spec),
          JSON.stringify([a, b], (_, v) => (typeof v === "bigint" ? v.toString() : v)),
        ).to.equal(onChain);
        if (!onChain) continue;
        possible++;
        for (const t of [a.timestamp + 1n, (a.timestamp + b.timestamp) / 2n + 1n, b.timestamp]) {
          if (t <= a.timestamp || t > b.timestamp) continue;
          expect(interpolateMeter(a, b, t)).to.deep.equal(asMeter(await harness.interpolate(a, b, t)));
        }
      }
      expect(possible).to.be.greaterThan(10);
      expect(possible).to.be.lessThan(pairs.length);
    });
  });

  for (const { seed, fixture } of randomFixtures) {
    describe(`over a random history (seed ${seed})`, function () {
      it("links every reading to the asset's previous batch, and rebuilds what was submitted", async function () {
        const { history, submitted } = await loadFixture(fixture);
        expect(batchesOf(history)).to.deep.equal(submitted);
        for (const a of ASSETS) {
          const list = history.readingsOf(a.id);
          expect(list.length).to.be.greaterThan(2);
          list.forEach((x, i) => {
            expect(x.reading.previousBatch).to.equal(i === 0 ? 0n : list[i - 1].batch.batchIndex);
            expect(history.linked(x)).to.equal(i === 0 ? undefined : list[i - 1]);
            if (i > 0) expect(x.meter.timestamp).to.be.greaterThan(list[i - 1].meter.timestamp);
          });
          expect(history.previousBatchOf(a.id)).to.equal(list[list.length - 1].batch.batchIndex);
        }
      });

      it("boundaryAt and meterAtTime agree with the contract's meterAt at every interesting time, both bounds", async function () {
        const { oracle, history } = await loadFixture(fixture);
        const seen = new Set<bigint>();
        for (const a of ASSETS) {
          const list = history.readingsOf(a.id);
          const spec = SPECS.get(a.id)!;
          for (const t of interestingTimes(list, seed + a.id)) {
            const at = history.boundaryAt(a.id, t);
            const later = list.find((x) => x.meter.timestamp >= t);
            expect(at === undefined, `asset ${a.id} at ${t}: provable`).to.equal(later === undefined);
            if (!at || !later) {
              expect(meterAtTime(history, a.id, t, spec, "lower")).to.equal(undefined);
              continue;
            }
            const earlier = history.linked(later);
            const exact = later.meter.timestamp === t;
            const first = !exact && later.reading.previousBatch === 0n;
            const usable = exact || first || isPossiblePair(earlier!.meter, later.meter, spec);
            const expectedSource = exact
              ? Source.Exact
              : first
                ? Source.FirstReading
                : usable
                  ? Source.Interpolated
                  : Source.UnusablePair;
            const acceptedAt =
              !exact && !first && earlier!.batch.acceptedAt > later.batch.acceptedAt
                ? earlier!.batch.acceptedAt
                : later.batch.acceptedAt;
            for (const [bound, name] of [
              [0, "lower"],
              [1, "upper"],
            ] as const) {
              const onChain = await oracle.meterAt(a.id, t, at.boundary.earlier, at.boundary.later, bound);
              expect(asMeter(onChain.meter), `asset ${a.id} at ${t} ${name}`).to.deep.equal(
                meterAtTime(history, a.id, t, spec, name),
              );
              expect(onChain.source, `asset ${a.id} at ${t} source`).to.equal(expectedSource);
              expect(onChain.acceptedAt).to.equal(acceptedAt);
              seen.add(onChain.source);
            }
          }
        }
        // The random history exercised every case.
        expect([...seen].sort()).to.deep.equal([
          Source.Interpolated,
          Source.Exact,
          Source.FirstReading,
          Source.UnusablePair,
        ]);
      });

      it("leaseProofs give proofs meterWindow accepts, with the meters meterAtTime predicts, within billableBy", async function () {
        const { oracle, history } = await loadFixture(fixture);
        const r = rng(seed * 31n);
        let finals = 0;
        let partials = 0;
        let none = 0;
        for (let i = 0; i < 36; i++) {
          const a = ASSETS[i % 3];
          const list = history.readingsOf(a.id);
          const spec = SPECS.get(a.id)!;
          const first = list[0].meter.timestamp;
          const last = list[list.length - 1].meter.timestamp;
          const startTime = r.between(first - 2_000n, last);
          const endTime = startTime + r.between(1n, 40_000n);
          const acceptances = list.map((x) => x.batch.acceptedAt);
          const billableBy = r.chance(0.25)
            ? undefined
            : acceptances[Number(r.below(BigInt(acceptances.length)))] + r.between(0n, 100n);
          const p = leaseProofs(history, { assetId: a.id, startTime, endTime, startMetered: false }, billableBy);

          // What should be billable, restated from the readings.
          const ok = (xs: (HistoryReading | undefined)[]) =>
            xs.every((x) => x !== undefined && (billableBy === undefined || x.batch.acceptedAt <= billableBy));
          const usedAt = (t: bigint) => {
            const l = list.find((x) => x.meter.timestamp >= t);
            if (!l) return undefined;
            return l.meter.timestamp > t && l.reading.previousBatch !== 0n ? [history.linked(l), l] : [l];
          };
          const startUsed = usedAt(startTime);
          const endUsed = usedAt(endTime);
          const inside = list.filter((x) => x.meter.timestamp > startTime && x.meter.timestamp <= endTime && ok([x]));
          if (!startUsed || !ok(startUsed) || ((!endUsed || !ok(endUsed)) && inside.length === 0)) {
            expect(p, `lease ${i}`).to.equal(undefined);
            none++;
            continue;
          }
          expect(p, `lease ${i}`).to.not.equal(undefined);
          const final = endUsed !== undefined && ok(endUsed);
          expect(p!.final).to.equal(final);
          const [atStart, atPoint, gpuCount, tdp] = await oracle.meterWindow(
            a.id,
            startTime,
            endTime,
            p!.start,
            p!.point,
          );
          expect([gpuCount, tdp]).to.deep.equal([a.gpuCount, a.tdpWatts]);
          expect(asMeter(atStart.meter)).to.deep.equal(meterAtTime(history, a.id, startTime, spec, "upper"));
          if (final) {
            finals++;
            expect(p!.pointTime).to.equal(endTime);
            expect(asMeter(atPoint.meter)).to.deep.equal(meterAtTime(history, a.id, endTime, spec, "lower"));
          } else {
            partials++;
            const lastInside = inside[inside.length - 1];
            expect(p!.pointTime).to.equal(lastInside.meter.timestamp);
            expect(asMeter(atPoint.meter)).to.deep.equal(lastInside.meter);
            expect(atPoint.source).to.equal(Source.Exact);
          }
          const latest = atStart.acceptedAt > atPoint.acceptedAt ? atStart.acceptedAt : atPoint.acceptedAt;
          expect(p!.billableAt).to.equal(latest);
          if (billableBy !== undefined) expect(p!.billableAt).to.be.at.most(billableBy);
        }
        expect(finals, "final settlements").to.be.greaterThan(0);
        expect(partials, "partial settlements").to.be.greaterThan(0);
        expect(none, "nothing billable").to.be.greaterThan(0);
      });

      it("leaseProofs leave the start absent when the lease stored it", async function () {
        const { oracle, history } = await loadFixture(fixture);
        const list = history.readingsOf(BIG_ASSET.id);
        const startTime = list[1].meter.timestamp - 1n;
        const endTime = list[list.length - 1].meter.timestamp;
        const p = leaseProofs(history, { assetId: BIG_ASSET.id, startTime, endTime, startMetered: true })!;
        expect(p.start).to.deep.equal(ABSENT_BOUNDARY);
        expect(p.final).to.equal(true);
        const [atStart, atPoint] = await oracle.meterWindow(BIG_ASSET.id, startTime, endTime, p.start, p.point);
        expect(atStart.acceptedAt).to.equal(0n);
        expect(asMeter(atPoint.meter)).to.deep.equal(list[list.length - 1].meter);
      });
    });
  }
});
