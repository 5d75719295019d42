/**
 * The co-signing rules one at a time: message authentication and replay (protocol.ts), the proposer
 * schedule, the anchored reading math (anchors.ts), and a peer's answers to crafted proposals
 * (CoSigner.handle). The network behaviour is in cosign.test.ts.
 */
import { expect } from "chai";
import { Wallet, getAddress, recoverAddress } from "ethers";
import {
  DEFAULT_TOLERANCE,
  OwnHistory,
  advanceAnchor,
  compareReading,
  readingAt,
  type ChainReading,
} from "../../feeder/cosign/anchors";
import { CoSigner, emptyCoSignState, type CoSignOptions } from "../../feeder/cosign/node";
import {
  PROTOCOL_VERSION,
  authenticate,
  batchToJson,
  canonicalJson,
  envelopeHash,
  seal,
  type Proposal,
} from "../../feeder/cosign/protocol";
import { dueMs, proposerOf, slotAt, sortedSigners } from "../../feeder/cosign/schedule";
import { FeederMetrics } from "../../feeder/metrics";
import { emptyState, type FeederState } from "../../feeder/state";
import { silentLogger } from "../../feeder/types";
import { MemoryOracleV2 } from "./support/memoryOracle";
import { batchDigest, encodeReadings } from "../../src/eip712";

const [A, B, C] = [
  new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
  new Wallet("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
  new Wallet("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
];
const ORACLE = getAddress("0x" + "0b".repeat(20));
const DOMAIN = { name: "ComputeRWA UsageOracle", version: "1", chainId: 31337n, verifyingContract: ORACLE };
const NOW = 1_750_000_000_000;
const LIMITS = { gpuCount: 2, tdpWattsPerGpu: 700, energyFactorBps: 10_500 };

function envelope(from: Wallet, body: unknown, sentAtMs = NOW, extra: Record<string, unknown> = {}) {
  return seal(from.signingKey, {
    v: PROTOCOL_VERSION,
    kind: "propose",
    from: from.address,
    role: "signer",
    chainId: "31337",
    oracle: ORACLE,
    sentAtMs,
    body,
    ...extra,
  }) as Proposal;
}

describe("feeder: co-signing rules", function () {
  describe("protocol: envelopes", function () {
    const ctx = {
      chainId: 31337n,
      oracle: ORACLE,
      signers: [A.address, B.address],
      nowMs: NOW,
      maxMessageAgeMs: 30_000,
    };
    it("canonical JSON sorts keys at every level, so the hash does not depend on key order", function () {
      expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 2 }], c: "x" } })).to.equal(
        '{"a":{"c":"x","d":[2,{"e":2,"f":1}]},"b":1}',
      );
      const e1 = envelope(A, { x: 1, y: 2 });
      const e2 = { ...e1, body: { y: 2, x: 1 } };
      expect(envelopeHash(e2)).to.equal(envelopeHash(e1));
    });
    it("accepts a fresh message sealed by a current signer", function () {
      expect(authenticate(envelope(A, {}), ctx)).to.equal(undefined);
    });
    it("refuses a sender outside the signer set, a forged or altered message, and another oracle", function () {
      expect(authenticate(envelope(C, {}), ctx)).to.equal(`${C.address} is not a current signer`);
      const forged = { ...envelope(C, {}), from: A.address };
      expect(authenticate(forged, ctx)).to.equal("signature does not match the sender");
      const altered = { ...envelope(A, { round: 3 }), body: { round: 4 } };
      expect(authenticate(altered, ctx)).to.equal("signature does not match the sender");
      expect(authenticate(envelope(A, {}, NOW, { oracle: getAddress("0x" + "0c".repeat(20)) }), ctx)).to.equal(
        "message is for another oracle",
      );
    });
    it("refuses stale messages and messages from the future, to the second", function () {
      expect(authenticate(envelope(A, {}, NOW - 30_000), ctx)).to.equal(undefined);
      expect(authenticate(envelope(A, {}, NOW - 30_001), ctx)).to.equal("stale message (sent 30 s ago)");
      expect(authenticate(envelope(A, {}, NOW + 31_000), ctx)).to.equal("message from the future (31 s ahead)");
    });
    it("reserves the witness role: same envelope, refused by a signer-only peer", function () {
      expect(authenticate(envelope(A, {}, NOW, { role: "witness" }), ctx)).to.equal(
        "role witness is not accepted here",
      );
    });
  });

  describe("schedule", function () {
    it("rotates the proposer over the signers sorted by address, one slot per takeover period", function () {
      const set = [C.address, A.address, B.address];
      const order = sortedSigners(set);
      expect([0, 1, 2, 3].map((k) => proposerOf(set, 5, k))).to.deep.equal([
        order[5 % 3],
        order[6 % 3],
        order[7 % 3],
        order[8 % 3],
      ]);
      const due = dueMs(1000, 60);
      expect(due).to.equal(1_060_000);
      expect(slotAt(due, due - 1, 10)).to.equal(-1);
      expect(slotAt(due, due, 10)).to.equal(0);
      expect(slotAt(due, due + 9_999, 10)).to.equal(0);
      expect(slotAt(due, due + 10_000, 10)).to.equal(1);
    });
  });

  describe("anchored readings", function () {
    const prev: ChainReading = {
      assetId: "1",
      batchIndex: 4,
      timestamp: 1000,
      busyGpuSeconds: 500n,
      availableGpuSeconds: 1000n,
      energyJ: 70_000n,
    };
    it("interpolates the own meter between the samples around a time, and knows nothing outside them", function () {
      const h = new OwnHistory();
      h.record("1", { timeMs: 10_000, busyGpuSeconds: 1, availableGpuSeconds: 2, energyJ: 100 });
      h.record("1", { timeMs: 20_000, busyGpuSeconds: 11, availableGpuSeconds: 22, energyJ: 1100 });
      expect(h.valueAt("1", 15_000)).to.deep.equal({ tMs: 15_000, busy: 6, avail: 12, energy: 600 });
      expect(h.valueAt("1", 20_000)!.busy).to.equal(11);
      expect(h.valueAt("1", 9_999)).to.equal(undefined);
      expect(h.valueAt("1", 20_001)).to.equal(undefined);
    });
    it("builds chain + own delta, floored and capped to busy ≤ available ≤ gpuCount × Δt and the TDP bound", function () {
      const anchor = { batchIndex: 4, own: { busy: 10, avail: 20, energy: 5000 } };
      const r = readingAt(
        "1",
        1060,
        prev,
        anchor,
        { tMs: 1_060_000, busy: 60.9, avail: 139.5, energy: 95_000 },
        LIMITS,
      );
      expect(r).to.deep.equal({
        assetId: 1n,
        previousBatch: 4n,
        busyGpuSeconds: 550n,
        availableGpuSeconds: 1119n, // 119.5 floored, within 2 × 60
        energyJ: 70_000n + 88_200n, // 90 000 J capped at 2 × 700 W × 60 s × 1.05
      });
      const over = readingAt("1", 1060, prev, anchor, { tMs: 1, busy: 500, avail: 400, energy: 5000 }, LIMITS)!;
      expect(over.availableGpuSeconds - prev.availableGpuSeconds).to.equal(120n);
      expect(over.busyGpuSeconds - prev.busyGpuSeconds).to.equal(120n);
      expect(
        readingAt("1", 1060, prev, { ...anchor, batchIndex: 3 }, { tMs: 1, busy: 1, avail: 1, energy: 1 }, LIMITS),
      ).to.equal(undefined);
      expect(
        readingAt("9", 1060, undefined, undefined, { tMs: 1, busy: 1, avail: 1, energy: 1 }, LIMITS),
      ).to.deep.equal({
        assetId: 9n,
        previousBatch: 0n,
        busyGpuSeconds: 0n,
        availableGpuSeconds: 0n,
        energyJ: 0n,
      });
    });
    it("carries the fractions into the next anchor when the chain took exactly this feeder's reading", function () {
      const anchor = { batchIndex: 4, own: { busy: 10, avail: 20, energy: 5000 } };
      const at = { tMs: 1_060_000, busy: 40.75, avail: 139.5, energy: 65_000.25 };
      const mine = readingAt("1", 1060, prev, anchor, at, LIMITS)!;
      const accepted = {
        ...prev,
        batchIndex: 7,
        timestamp: 1060,
        busyGpuSeconds: mine.busyGpuSeconds,
        availableGpuSeconds: mine.availableGpuSeconds,
        energyJ: mine.energyJ,
      };
      const next = advanceAnchor({ anchor, chain: prev }, accepted, at);
      expect(next).to.deep.equal({ batchIndex: 7, own: { busy: 40, avail: 139, energy: 65_000 } });
      // Someone else's (different) reading: the anchor restarts at the own meter.
      const theirs = { ...accepted, busyGpuSeconds: accepted.busyGpuSeconds - 3n };
      expect(advanceAnchor({ anchor, chain: prev }, theirs, at)).to.deep.equal({
        batchIndex: 7,
        own: { busy: 40.75, avail: 139.5, energy: 65_000.25 },
      });
    });
    it("accepts a delta within slack + percent of the own one and refuses one beyond it", function () {
      const expected = {
        assetId: 1n,
        previousBatch: 4n,
        busyGpuSeconds: 600n,
        availableGpuSeconds: 1120n,
        energyJ: 150_000n,
      };
      const ok = { ...expected, busyGpuSeconds: 600n + 6n }; // 106 vs 100: allowed 1 + 2 + 3.18
      expect(compareReading(ok, prev, expected, LIMITS, DEFAULT_TOLERANCE)).to.equal(undefined);
      const inflated = { ...expected, busyGpuSeconds: 620n }; // +20 %
      expect(compareReading(inflated, prev, expected, LIMITS, DEFAULT_TOLERANCE)).to.equal(
        "busyGpuSeconds +120, this feeder measured +100 (allowed difference 6.6)",
      );
      expect(compareReading({ ...expected, previousBatch: 3n }, prev, expected, LIMITS, DEFAULT_TOLERANCE)).to.match(
        /previousBatch 3, this feeder's view of the chain says 4/,
      );
    });
  });

  describe("a peer's answers (CoSigner.handle)", function () {
    let state: FeederState;
    let peer: CoSigner;
    let clock: { t: number };
    let oracle: MemoryOracleV2;
    const options = (): CoSignOptions => ({
      chainId: 31337n,
      domain: DOMAIN,
      assets: [
        {
          assetId: "1",
          gpus: ["GPU-00000000-0000-4000-8000-0000000000a1", "GPU-00000000-0000-4000-8000-0000000000a2"],
        },
      ],
      peers: [],
      postIntervalSeconds: 60,
      takeoverSeconds: 10,
      proposalLagSeconds: 7,
      maxTimeSkewSeconds: 5,
      maxMessageAgeSeconds: 30,
      heartbeatSeconds: 3600,
      maxBatchSize: 100,
      requestTimeoutMs: 1000,
      maxAttempts: 3,
      tolerance: DEFAULT_TOLERANCE,
    });
    beforeEach(async function () {
      clock = { t: NOW };
      oracle = new MemoryOracleV2(
        [A.address, B.address, C.address],
        2,
        new Map([["1", { gpuCount: 2, tdpWattsPerGpu: 700, status: 0 }]]),
        DOMAIN,
        () => clock.t,
      );
      state = emptyState(31337n, ORACLE);
      state.cosign = emptyCoSignState();
      peer = new CoSigner(
        oracle.port(B.address),
        B.signingKey,
        () => state,
        () => undefined,
        (a) => (a === "1" ? LIMITS : undefined),
        new FeederMetrics(NOW),
        silentLogger,
        options(),
        () => clock.t,
      );
      // B's own meter: both GPUs up, 50 % busy, 700 W, sampled every second for two minutes.
      for (let s = 0; s <= 120; s++)
        peer.history.record("1", {
          timeMs: NOW - 120_000 + s * 1000,
          busyGpuSeconds: s,
          availableGpuSeconds: 2 * s,
          energyJ: 1400 * s,
        });
      await peer.refresh();
    });
    /** The first batch's proposal by the slot's proposer (round 1, before any batch: due 0). */
    function proposal(
      from: Wallet,
      readings = [{ assetId: 1n, previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n }],
      patch: Partial<{ slot: number; timestamp: number; attempt: number }> = {},
    ) {
      const slot = patch.slot ?? slotAt(0, clock.t, 10);
      const batch = {
        configVersion: 1n,
        batchIndex: 1n,
        timestamp: BigInt(patch.timestamp ?? Math.floor((clock.t - 7000) / 1000)),
        readings,
      };
      return envelope(
        from,
        {
          round: 1,
          attempt: patch.attempt ?? 0,
          slot,
          batch: batchToJson(batch),
          digest: batchDigest(DOMAIN, batch),
        },
        clock.t,
      );
    }
    const proposerNow = () =>
      [A, B, C].find(
        (w) => w.address.toLowerCase() === proposerOf([A.address, B.address, C.address], 1, slotAt(0, clock.t, 10)),
      )!;

    it("signs a correct first report with its oracle key over the batch digest", async function () {
      const p = proposal(proposerNow());
      const v = await peer.handle(p);
      expect(v.body.decision).to.equal("sign");
      expect(v.body.proposal).to.equal(envelopeHash(p));
      expect(recoverAddress(v.body.digest, v.body.signature!)).to.equal(B.address);
    });
    it("answers a repeated message with the same verdict, and refuses a conflicting proposal for the same slot", async function () {
      const p = proposal(proposerNow());
      const first = await peer.handle(p);
      expect(await peer.handle(JSON.parse(JSON.stringify(p)))).to.deep.equal(first);
      clock.t += 1;
      const other = proposal(
        proposerNow(),
        [{ assetId: 1n, previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n }],
        { slot: p.body.slot as number, timestamp: p.body.batch.timestamp - 1 },
      );
      const v = await peer.handle(other);
      expect(v.body).to.include({
        decision: "refuse",
        reason: "conflicting proposal for the same round, slot and attempt",
      });
    });
    it("refuses a proposal from a signer whose slot it is not, and from a slot that has not started", async function () {
      const wrong = [A, B, C].find((w) => w !== proposerNow())!;
      expect((await peer.handle(proposal(wrong))).body.reason).to.match(/is not the proposer of round 1 slot/);
      const future = proposal(proposerNow(), undefined, { slot: slotAt(0, clock.t, 10) + 3 });
      expect((await peer.handle(future)).body.reason).to.match(/has not started/);
    });
    it("refuses a replay of an old round once that batch is on chain", async function () {
      const p = proposal(proposerNow());
      const v = await peer.handle(p);
      // A signs too; the batch is submitted and accepted.
      const batch = {
        configVersion: 1n,
        batchIndex: 1n,
        timestamp: BigInt(p.body.batch.timestamp),
        readings: [{ assetId: 1n, previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n }],
      };
      const sigs = [A, B].map((w) => w.signingKey.sign(batchDigest(DOMAIN, batch)).serialized);
      void v;
      const { Interface, concat } = await import("ethers");
      const data = new Interface(["function submit(uint64,uint32,uint64,bytes,bytes)"]).encodeFunctionData("submit", [
        1n,
        1,
        batch.timestamp,
        encodeReadings(batch.readings),
        concat(sigs),
      ]);
      expect(oracle.apply(A.address, data)).to.equal(undefined);
      await peer.refresh();
      const replay = { ...p };
      expect((await peer.handle(envelope(proposerNow(), replay.body, clock.t))).body.reason).to.equal(
        "stale round 1: batch already accepted",
      );
    });
    it("refuses a batch dated outside the time-skew tolerance", async function () {
      const skewed = proposal(proposerNow(), undefined, { timestamp: Math.floor((clock.t - 7000) / 1000) + 6 });
      expect((await peer.handle(skewed)).body.reason).to.match(
        /^batch time is 6\.\d s from this feeder's clock \(tolerance 5 s\)$/,
      );
    });
    it("objects per reading: a first report that is not zero, an asset it does not meter", async function () {
      const p = proposal(proposerNow(), [
        { assetId: 1n, previousBatch: 0n, busyGpuSeconds: 5n, availableGpuSeconds: 5n, energyJ: 0n },
        { assetId: 2n, previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n },
      ]);
      const v = await peer.handle(p);
      expect(v.body.decision).to.equal("object");
      expect(v.body.signature).to.equal(undefined);
      expect(v.body.verdicts).to.deep.equal([
        { assetId: "1", ok: false, reason: "a first report must be all zero" },
        { assetId: "2", ok: false, reason: "this feeder does not meter the asset" },
      ]);
    });
    it("refuses a message whose digest does not match its batch", async function () {
      const p = proposal(proposerNow());
      const tampered = envelope(proposerNow(), { ...p.body, digest: "0x" + "11".repeat(32) }, clock.t);
      expect((await peer.handle(tampered)).body.reason).to.equal("digest does not match the batch");
    });
  });
});
