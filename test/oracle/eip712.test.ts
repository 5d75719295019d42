/**
 * `src/eip712.ts` is the one TypeScript definition of what the oracle's signers sign and what the
 * oracle stores. Each function here is checked against the contract that must agree with it: the
 * digest against `UsageOracle.batchDigest`, packing against `MeterMath.unpack`, the tree against
 * `UsageOracle.readingsRoot` and `ReadingsMerkle` (through `SettlementMathHarness`), paths against
 * `verifyReading`, commitments against `batchCommitment`.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { SettlementMathHarness__factory } from "../../typechain-types";
import {
  MAX_READINGS_PER_BATCH,
  ORACLE_DOMAIN_NAME,
  ORACLE_DOMAIN_VERSION,
  READING_BYTES,
  SIGNATURE_BYTES,
  USAGE_BATCH_TYPEHASH,
  USAGE_BATCH_TYPES,
  assertBatchShape,
  batchCommitment,
  batchDigest,
  batchHeader,
  concatSignatures,
  decodeReadings,
  encodeReadings,
  hashBatchHeader,
  makeBatch,
  oracleDomain,
  packReading,
  packReadingBytes,
  readingLeaf,
  readingPath,
  readingsRoot,
  readingsTree,
  recoverBatchSigner,
  rootFromPath,
  signBatch,
  signBatchWithKey,
  submitArgs,
  unpackReading,
  type Reading,
} from "../../src/eip712";
import { BASE, deployedFixture, reading, rng } from "./fixtures";

const MAX32 = (1n << 32n) - 1n;
const MAX48 = (1n << 48n) - 1n;
const MAX64 = (1n << 64n) - 1n;

async function harnessFixture() {
  const base = await deployedFixture();
  const harness = await new SettlementMathHarness__factory(base.admin).deploy();
  return { ...base, harness };
}

/** Readings with every field at an edge: zero, one, the largest value of its width, and mixes. */
function edgeReadings(): Reading[] {
  return [
    { assetId: 0n, previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n },
    { assetId: 1n, previousBatch: 1n, busyGpuSeconds: 1n, availableGpuSeconds: 1n, energyJ: 1n },
    { assetId: MAX32, previousBatch: MAX32, busyGpuSeconds: MAX48, availableGpuSeconds: MAX48, energyJ: MAX64 },
    { assetId: MAX32, previousBatch: 0n, busyGpuSeconds: 0n, availableGpuSeconds: MAX48, energyJ: 0n },
    { assetId: 0n, previousBatch: MAX32, busyGpuSeconds: MAX48, availableGpuSeconds: 0n, energyJ: MAX64 },
    {
      assetId: 0x01020304n,
      previousBatch: 0x05060708n,
      busyGpuSeconds: 0x090a0b0c0d0en,
      availableGpuSeconds: 0x0f1011121314n,
      energyJ: 0x15161718191a1b1cn,
    },
  ];
}

/** `count` random readings with strictly increasing asset ids and random counters of every width. */
function randomReadings(count: number, seed: bigint): Reading[] {
  const r = rng(seed);
  let id = 0n;
  return Array.from({ length: count }, () => {
    id += r.between(1n, 1_000n);
    return {
      assetId: id,
      previousBatch: r.below(1_000n),
      busyGpuSeconds: r.below(1n << 48n),
      availableGpuSeconds: r.below(1n << 48n),
      energyJ: (r.below(1n << 53n) << 11n) | r.below(1n << 11n),
    };
  });
}

describe("src/eip712", function () {
  describe("domain and type", function () {
    it("match the contract's EIP-712 domain, type hash and limits", async function () {
      const { oracle, chainId, domain } = await loadFixture(deployedFixture);
      expect(USAGE_BATCH_TYPEHASH).to.equal(await oracle.USAGE_BATCH_TYPEHASH());
      expect(USAGE_BATCH_TYPEHASH).to.equal(
        ethers.id("UsageBatch(uint64 configVersion,uint32 batchIndex,uint64 timestamp,bytes32 readingsRoot)"),
      );
      const d = await oracle.eip712Domain();
      expect([d.name, d.version, d.chainId, d.verifyingContract]).to.deep.equal([
        ORACLE_DOMAIN_NAME,
        ORACLE_DOMAIN_VERSION,
        chainId,
        await oracle.getAddress(),
      ]);
      expect(domain).to.deep.equal({
        name: d.name,
        version: d.version,
        chainId,
        verifyingContract: d.verifyingContract,
      });
      expect(await oracle.MAX_READINGS()).to.equal(BigInt(MAX_READINGS_PER_BATCH));
      expect(READING_BYTES).to.equal(28);
      expect(SIGNATURE_BYTES).to.equal(65);
    });
  });

  describe("batchDigest", function () {
    it("equals the contract's batchDigest, for edge and random headers", async function () {
      const { oracle, domain } = await loadFixture(deployedFixture);
      const headers = [
        { configVersion: 1n, batchIndex: 1n, timestamp: 1n, readingsRoot: ethers.ZeroHash },
        { configVersion: MAX64, batchIndex: MAX32, timestamp: MAX64, readingsRoot: "0x" + "ff".repeat(32) },
        { configVersion: 0n, batchIndex: 0n, timestamp: 0n, readingsRoot: readingsRoot(edgeReadings().slice(1, 3)) },
      ];
      const r = rng(7n);
      for (let i = 0; i < 8; i++) {
        headers.push({
          configVersion: r.below(1n << 40n),
          batchIndex: r.below(1n << 32n),
          timestamp: r.below(1n << 53n),
          readingsRoot: ethers.hexlify(ethers.randomBytes(32)),
        });
      }
      for (const h of headers) {
        expect(batchDigest(domain, h)).to.equal(
          await oracle.batchDigest(h.configVersion, h.batchIndex, h.timestamp, h.readingsRoot),
        );
      }
    });

    it("equals the digest of a whole batch (its header with the root of its readings)", async function () {
      const { oracle, domain } = await loadFixture(deployedFixture);
      const batch = makeBatch(3n, 1_017n, 1_750_000_000n, randomReadings(9, 3n));
      expect(batchHeader(batch).readingsRoot).to.equal(readingsRoot(batch.readings));
      expect(batchDigest(domain, batch)).to.equal(
        await oracle.batchDigest(3n, 1_017n, 1_750_000_000n, readingsRoot(batch.readings)),
      );
    });

    it("equals ethers' generic TypedDataEncoder (the hand-written hashStruct)", function () {
      const domain = oracleDomain(31337n, "0x00000000000000000000000000000000000000aa");
      for (const h of [
        { configVersion: MAX64, batchIndex: MAX32, timestamp: MAX64, readingsRoot: "0x" + "AB".repeat(32) },
        { configVersion: 0n, batchIndex: 1n, timestamp: 2n, readingsRoot: ethers.ZeroHash },
      ]) {
        expect(hashBatchHeader(h)).to.equal(ethers.TypedDataEncoder.hashStruct("UsageBatch", USAGE_BATCH_TYPES, h));
        expect(batchDigest(domain, h)).to.equal(ethers.TypedDataEncoder.hash(domain, USAGE_BATCH_TYPES, h));
      }
    });

    it("changes with the chain id and the verifying contract", function () {
      const h = { configVersion: 1n, batchIndex: 1n, timestamp: 1n, readingsRoot: ethers.ZeroHash };
      const a = oracleDomain(1n, "0x00000000000000000000000000000000000000aa");
      const b = oracleDomain(2n, "0x00000000000000000000000000000000000000aa");
      const c = oracleDomain(1n, "0x00000000000000000000000000000000000000bb");
      expect(new Set([batchDigest(a, h), batchDigest(b, h), batchDigest(c, h)]).size).to.equal(3);
    });

    it("refuses out-of-range header fields", function () {
      const h = { configVersion: 1n, batchIndex: 1n, timestamp: 1n, readingsRoot: ethers.ZeroHash };
      expect(() => hashBatchHeader({ ...h, configVersion: MAX64 + 1n })).to.throw(RangeError, /configVersion/);
      expect(() => hashBatchHeader({ ...h, batchIndex: MAX32 + 1n })).to.throw(RangeError, /batchIndex/);
      expect(() => hashBatchHeader({ ...h, timestamp: -1n })).to.throw(RangeError, /timestamp/);
      expect(() => hashBatchHeader({ ...h, readingsRoot: "0x1234" })).to.throw(RangeError, /32 bytes/);
    });
  });

  describe("packReading / unpackReading", function () {
    it("equal MeterMath.unpack on edge values (widths 2^32 - 1, 2^48 - 1, 2^64 - 1) and random ones", async function () {
      const { harness } = await loadFixture(harnessFixture);
      for (const r of [...edgeReadings(), ...randomReadings(20, 11n)]) {
        const packed = packReading(r);
        expect(ethers.dataLength(packed)).to.equal(28);
        expect(unpackReading(packed)).to.deep.equal(r);
        expect(unpackReading(packReadingBytes(r))).to.deep.equal(r);
        const [assetId, previousBatch, busy, available, energy] = await harness.unpack(packed);
        expect({
          assetId,
          previousBatch,
          busyGpuSeconds: busy,
          availableGpuSeconds: available,
          energyJ: energy,
        }).to.deep.equal(r);
      }
    });

    it("lays the fields out big-endian in the documented order", function () {
      const r = edgeReadings()[5];
      expect(packReading(r)).to.equal(
        "0x" + Array.from({ length: 28 }, (_, i) => (i + 1).toString(16).padStart(2, "0")).join(""),
      );
    });

    it("refuses a field beyond its width, a negative one, and a wrong length", function () {
      const ok = edgeReadings()[1];
      for (const [field, bits] of [
        ["assetId", 32n],
        ["previousBatch", 32n],
        ["busyGpuSeconds", 48n],
        ["availableGpuSeconds", 48n],
        ["energyJ", 64n],
      ] as const) {
        expect(() => packReading({ ...ok, [field]: 1n << bits }), field).to.throw(RangeError, new RegExp(field));
        expect(() => packReading({ ...ok, [field]: -1n }), field).to.throw(RangeError, new RegExp(field));
      }
      expect(() => unpackReading("0x" + "00".repeat(27))).to.throw(RangeError, /28 bytes/);
      expect(() => unpackReading("0x" + "00".repeat(29))).to.throw(RangeError, /28 bytes/);
    });
  });

  describe("encodeReadings / decodeReadings", function () {
    it("concatenate readings as submit takes them and round-trip", function () {
      const readings = randomReadings(5, 5n);
      const encoded = encodeReadings(readings);
      expect(encoded).to.equal(ethers.concat(readings.map(packReading)));
      expect(decodeReadings(encoded)).to.deep.equal(readings);
      expect(decodeReadings("0x")).to.deep.equal([]);
      expect(() => decodeReadings(ethers.dataSlice(encoded, 1))).to.throw(RangeError, /whole 28-byte/);
    });
  });

  describe("readingsTree / readingsRoot", function () {
    it("equal the contract's readingsRoot and ReadingsMerkle.rootOf for 1 to 33 readings, powers of two around 256, and 500", async function () {
      const { oracle, harness } = await loadFixture(harnessFixture);
      const counts = [...Array.from({ length: 33 }, (_, i) => i + 1), 63, 64, 65, 127, 255, 256, 257, 499, 500];
      for (const n of counts) {
        const readings = randomReadings(n, BigInt(n));
        const packed = encodeReadings(readings);
        const root = readingsRoot(readings);
        expect(await oracle.readingsRoot(packed), `${n} readings`).to.equal(root);
        expect(await harness.rootOf(packed, n), `${n} readings (rootOf)`).to.equal(root);
      }
    });

    it("follow the documented rules: leaf = keccak256 of 28 bytes, sorted pairs, odd node carried up", function () {
      const readings = randomReadings(3, 1n);
      const [a, b, c] = readings.map((r) => ethers.keccak256(packReading(r)));
      expect(readings.map(readingLeaf)).to.deep.equal([a, b, c]);
      const sorted = (x: string, y: string) => (BigInt(x) < BigInt(y) ? ethers.concat([x, y]) : ethers.concat([y, x]));
      const ab = ethers.keccak256(sorted(a, b));
      expect(readingsTree(readings)).to.deep.equal([[a, b, c], [ab, c], [ethers.keccak256(sorted(ab, c))]]);
      expect(readingsRoot(readings.slice(0, 1))).to.equal(a);
      expect(() => readingsTree([])).to.throw(RangeError, /at least one/);
    });

    it("hashes content, not position alone: any changed field changes the root", function () {
      const readings = randomReadings(6, 2n);
      const root = readingsRoot(readings);
      for (const field of ["assetId", "previousBatch", "busyGpuSeconds", "availableGpuSeconds", "energyJ"] as const) {
        const changed = readings.map((r, i) => (i === 4 ? { ...r, [field]: r[field] ^ 1n } : r));
        expect(readingsRoot(changed), field).to.not.equal(root);
      }
    });
  });

  describe("readingPath / rootFromPath", function () {
    it("every path leads to the root, and ReadingsMerkle.rootFromProof agrees, for 1 to 20 readings and 500", async function () {
      const { harness } = await loadFixture(harnessFixture);
      for (const n of [...Array.from({ length: 20 }, (_, i) => i + 1), 500]) {
        const readings = randomReadings(n, 100n + BigInt(n));
        const levels = readingsTree(readings);
        const root = readingsRoot(readings);
        for (let i = 0; i < n; i++) {
          const path = readingPath(levels, i);
          expect(path.length, `depth of ${i} of ${n}`).to.be.at.most(9);
          expect(rootFromPath(readingLeaf(readings[i]), path), `${i} of ${n}`).to.equal(root);
          // The harness is a contract call per path: sample the big batch.
          if (n <= 20 || i % 37 === 0 || i === n - 1) {
            expect(await harness.rootFromProof(readingLeaf(readings[i]), path)).to.equal(root);
          }
        }
      }
    });

    it("refuses an index outside the batch", function () {
      const levels = readingsTree(randomReadings(3, 4n));
      expect(() => readingPath(levels, 3)).to.throw(RangeError, /no reading 3/);
      expect(() => readingPath(levels, -1)).to.throw(RangeError);
    });

    it("verify on chain: every reading of an accepted 13-reading and 500-reading batch, and the stored commitment matches", async function () {
      const { oracle, post } = await loadFixture(deployedFixture);
      for (const [n, batchIndex] of [
        [13, 1n],
        [500, 2n],
      ] as const) {
        const readings = randomReadings(n, BigInt(n)).map((r) => ({
          ...r,
          previousBatch: r.previousBatch % batchIndex,
        }));
        const t = BigInt(await time.latest()) + 10n;
        const { batch, tx } = await post(t, readings);
        const receipt = await tx.wait();
        const acceptedAt = BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);
        const root = readingsRoot(batch.readings);
        expect(await oracle.batchCommitment(batchIndex)).to.equal(batchCommitment(root, t, acceptedAt, 1n));
        const levels = readingsTree(batch.readings);
        for (let i = 0; i < n; i++) {
          const proof = {
            batchIndex,
            batchTimestamp: t,
            acceptedAt,
            configVersion: 1n,
            reading: packReading(batch.readings[i]),
            path: readingPath(levels, i),
          };
          const proven = await oracle.verifyReading(proof);
          expect(proven.assetId).to.equal(batch.readings[i].assetId);
          expect(proven.meter.energyJ).to.equal(batch.readings[i].energyJ);
        }
      }
    });
  });

  describe("batchCommitment", function () {
    it("equals keccak256(abi.encode(root, timestamp, acceptedAt, configVersion)) and the stored word", async function () {
      const { oracle, post } = await loadFixture(deployedFixture);
      const t = BigInt(await time.latest()) + 3n;
      const { batch, tx } = await post(t, [reading(1n, 0n, BASE)]);
      const acceptedAt = BigInt((await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp);
      const root = readingsRoot(batch.readings);
      const expected = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint64", "uint64", "uint64"], [root, t, acceptedAt, 1n]),
      );
      expect(batchCommitment(root, t, acceptedAt, 1n)).to.equal(expected);
      expect(await oracle.batchCommitment(1n)).to.equal(expected);
      expect(batchCommitment(root, t, acceptedAt + 1n, 1n)).to.not.equal(expected);
    });
  });

  describe("signBatch / signBatchWithKey / recoverBatchSigner", function () {
    it("produce the same signature, which recovers to the signer and is accepted on chain", async function () {
      const { oracle, domain, signers } = await loadFixture(deployedFixture);
      const batch = makeBatch(1n, 1n, BigInt(await time.latest()), [reading(2n, 0n), reading(1n, 0n)]);
      const viaSigner = await Promise.all(signers.slice(0, 2).map((s) => signBatch(s, domain, batch)));
      const viaKey = signers.slice(0, 2).map((s) => signBatchWithKey(s.signingKey, domain, batch));
      expect(viaKey).to.deep.equal(viaSigner);
      expect(signBatchWithKey(signers[0].signingKey, domain, batchHeader(batch))).to.equal(viaKey[0]);
      expect(recoverBatchSigner(domain, batch, viaKey[1])).to.equal(signers[1].address);
      expect(recoverBatchSigner(domain, batchHeader(batch), viaKey[0])).to.equal(signers[0].address);
      await expect(oracle.submit(...submitArgs(batch, viaKey))).to.emit(oracle, "BatchAccepted");
    });

    it("refuse to sign a batch of the wrong shape", async function () {
      const { domain, signers } = await loadFixture(deployedFixture);
      const bad = { configVersion: 1n, batchIndex: 1n, timestamp: 1n, readings: [reading(2n, 0n), reading(1n, 0n)] };
      expect(() => signBatchWithKey(signers[0].signingKey, domain, bad)).to.throw(RangeError, /strictly increase/);
      let thrown: unknown;
      await signBatch(signers[0], domain, bad).catch((e: unknown) => (thrown = e));
      expect(thrown).to.be.instanceOf(RangeError);
    });
  });

  describe("concatSignatures / submitArgs", function () {
    it("concatenate 65-byte signatures and refuse any other length", function () {
      const a = "0x" + "11".repeat(65);
      const b = "0x" + "22".repeat(65);
      expect(concatSignatures([a, b])).to.equal(ethers.concat([a, b]));
      expect(concatSignatures([])).to.equal("0x");
      expect(() => concatSignatures([a, "0x" + "33".repeat(64)])).to.throw(RangeError, /signature 1/);
    });

    it("give submit's arguments in order", function () {
      const batch = makeBatch(4n, 9n, 123n, [reading(5n, 8n, BASE)]);
      const sig = "0x" + "44".repeat(65);
      expect(submitArgs(batch, [sig])).to.deep.equal([4n, 9n, 123n, encodeReadings(batch.readings), sig]);
    });
  });

  describe("makeBatch / assertBatchShape", function () {
    it("sorts by asset id without touching its argument", function () {
      const readings = [reading(7n, 0n), reading(3n, 0n), reading(MAX32, 0n)];
      const batch = makeBatch(1n, 1n, 1n, readings);
      expect(batch.readings.map((r) => r.assetId)).to.deep.equal([3n, 7n, MAX32]);
      expect(readings.map((r) => r.assetId)).to.deep.equal([7n, 3n, MAX32]);
    });

    it("refuses what the oracle would refuse: duplicates, empty and oversized batches, batch 0, late links, wide fields", function () {
      expect(() => makeBatch(1n, 1n, 1n, [reading(1n, 0n), reading(1n, 0n)])).to.throw(RangeError, /strictly increase/);
      expect(() => makeBatch(1n, 1n, 1n, [])).to.throw(RangeError, /at least one/);
      const many = Array.from({ length: MAX_READINGS_PER_BATCH + 1 }, (_, i) => reading(BigInt(i + 1), 0n));
      expect(() => makeBatch(1n, 1n, 1n, many)).to.throw(RangeError, /at most 500/);
      expect(() => makeBatch(1n, 0n, 1n, [reading(1n, 0n)])).to.throw(RangeError, /start at 1/);
      expect(() => makeBatch(1n, 3n, 1n, [reading(1n, 3n)])).to.throw(
        RangeError,
        /previousBatch 3 is not before batch 3/,
      );
      expect(() => makeBatch(1n, 1n, MAX64 + 1n, [reading(1n, 0n)])).to.throw(RangeError, /timestamp/);
      expect(() => makeBatch(1n, MAX32 + 1n, 1n, [reading(1n, 0n)])).to.throw(RangeError, /batchIndex/);
      expect(() => makeBatch(1n, 1n, 1n, [reading(1n, 0n, { energyJ: -1n })])).to.throw(RangeError, /energyJ/);
      expect(() =>
        assertBatchShape({ configVersion: MAX64 + 1n, batchIndex: 1n, timestamp: 1n, readings: [reading(1n, 0n)] }),
      ).to.throw(RangeError, /configVersion/);
      expect(() =>
        makeBatch(
          1n,
          2n,
          1n,
          many.slice(0, MAX_READINGS_PER_BATCH).map((r) => ({ ...r, previousBatch: 1n })),
        ),
      ).not.to.throw();
    });
  });
});
