import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  MAX_READINGS_PER_BATCH,
  ORACLE_DOMAIN_NAME,
  ORACLE_DOMAIN_VERSION,
  READING_TYPEHASH,
  USAGE_BATCH_TYPEHASH,
  USAGE_BATCH_TYPES,
  assertBatchShape,
  batchDigest,
  decodeUsageReported,
  hashReadings,
  makeBatch,
  oracleDomain,
  packMeter,
  recoverBatchSigner,
  signBatch,
  signBatchWithKey,
  unpackMeter,
  type Reading,
} from "../../src/eip712";
import { BIG_ASSET, SMALL_ASSET, deployedFixture, reading } from "./fixtures";

const MAX64 = (1n << 64n) - 1n;

function sampleReadings(): Reading[] {
  return [
    reading(7n, 1_750_000_000n, { busyGpuSeconds: 123n, availableGpuSeconds: 456n, energyJ: 789_000n }),
    reading(3n, 1_750_000_001n, { busyGpuSeconds: 1n, availableGpuSeconds: MAX64, energyJ: MAX64 }),
    reading((1n << 200n) + 5n, 1n),
  ];
}

describe("src/eip712", function () {
  describe("batchDigest", function () {
    it("equals the contract's batchDigest for the same batch", async function () {
      const { oracle, domain } = await loadFixture(deployedFixture);
      for (const readings of [sampleReadings(), sampleReadings().slice(0, 1)]) {
        const batch = makeBatch(1n, readings);
        expect(batchDigest(domain, batch)).to.equal(await oracle.batchDigest(1n, batch.readings));
        const other = makeBatch(42n, readings);
        expect(batchDigest(domain, other)).to.equal(await oracle.batchDigest(42n, other.readings));
        expect(batchDigest(domain, other)).to.not.equal(batchDigest(domain, batch));
      }
    });

    it("matches the contract's type hashes and domain", async function () {
      const { oracle, chainId } = await loadFixture(deployedFixture);
      expect(READING_TYPEHASH).to.equal(await oracle.READING_TYPEHASH());
      expect(USAGE_BATCH_TYPEHASH).to.equal(await oracle.USAGE_BATCH_TYPEHASH());
      const d = await oracle.eip712Domain();
      expect([d.name, d.version, d.chainId, d.verifyingContract]).to.deep.equal([
        ORACLE_DOMAIN_NAME,
        ORACLE_DOMAIN_VERSION,
        chainId,
        await oracle.getAddress(),
      ]);
      expect(await oracle.MAX_READINGS()).to.equal(BigInt(MAX_READINGS_PER_BATCH));
    });

    it("equals ethers' generic TypedDataEncoder on edge values (the hand-written fast path)", function () {
      const domain = oracleDomain(31337n, "0x00000000000000000000000000000000000000aa");
      const edge: Reading[] = [
        reading(1n, 1n, { busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n }),
        reading((1n << 256n) - 1n, MAX64, { busyGpuSeconds: MAX64, availableGpuSeconds: MAX64, energyJ: MAX64 }),
      ];
      for (const readings of [sampleReadings(), edge, [edge[0]]]) {
        const batch = makeBatch(MAX64, readings);
        expect(batchDigest(domain, batch)).to.equal(ethers.TypedDataEncoder.hash(domain, USAGE_BATCH_TYPES, batch));
      }
    });

    it("changes with the chain id and the verifying contract", function () {
      const batch = makeBatch(1n, sampleReadings());
      const a = oracleDomain(1n, "0x00000000000000000000000000000000000000aa");
      const b = oracleDomain(2n, "0x00000000000000000000000000000000000000aa");
      const c = oracleDomain(1n, "0x00000000000000000000000000000000000000bb");
      expect(new Set([batchDigest(a, batch), batchDigest(b, batch), batchDigest(c, batch)]).size).to.equal(3);
    });

    it("hashes the readings array as EIP-712 encodes it", function () {
      const batch = makeBatch(9n, sampleReadings());
      const structHash = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["bytes32", "uint64", "bytes32"],
          [USAGE_BATCH_TYPEHASH, 9n, hashReadings(batch.readings)],
        ),
      );
      expect(ethers.TypedDataEncoder.hashStruct("UsageBatch", USAGE_BATCH_TYPES, batch)).to.equal(structHash);
    });
  });

  describe("signBatch / signBatchWithKey", function () {
    it("produce the same signature, which recovers to the signer and is accepted on chain", async function () {
      const { oracle, domain, signers } = await loadFixture(deployedFixture);
      const t = BigInt(await time.latest());
      const batch = makeBatch(1n, [reading(SMALL_ASSET.id, t), reading(BIG_ASSET.id, t)]);
      const viaSigner = await Promise.all(signers.slice(0, 2).map((s) => signBatch(s, domain, batch)));
      const viaKey = signers.slice(0, 2).map((s) => signBatchWithKey(s.signingKey, domain, batch));
      expect(viaKey).to.deep.equal(viaSigner);
      expect(recoverBatchSigner(domain, batch, viaKey[1])).to.equal(signers[1].address);
      await expect(oracle.submit(batch.configVersion, batch.readings, viaKey)).to.emit(oracle, "UsageReported");
    });
  });

  describe("makeBatch / assertBatchShape", function () {
    it("sorts by asset id without touching its argument", function () {
      const readings = sampleReadings();
      const batch = makeBatch(1n, readings);
      expect(batch.readings.map((r) => r.assetId)).to.deep.equal([3n, 7n, (1n << 200n) + 5n]);
      expect(readings[0].assetId).to.equal(7n);
    });

    it("refuses duplicates, empty and oversized batches and out-of-range fields", function () {
      expect(() => makeBatch(1n, [reading(1n, 1n), reading(1n, 2n)])).to.throw(RangeError, /strictly increase/);
      expect(() => makeBatch(1n, [])).to.throw(RangeError, /at least one/);
      const many = Array.from({ length: MAX_READINGS_PER_BATCH + 1 }, (_, i) => reading(BigInt(i + 1), 1n));
      expect(() => makeBatch(1n, many)).to.throw(RangeError, /at most 500/);
      expect(() => makeBatch(1n, [reading(1n, MAX64 + 1n)])).to.throw(RangeError, /timestamp/);
      expect(() => makeBatch(1n, [reading(1n, 1n, { energyJ: -1n })])).to.throw(RangeError, /energyJ/);
      expect(() => assertBatchShape({ configVersion: MAX64 + 1n, readings: [reading(1n, 1n)] })).to.throw(
        RangeError,
        /configVersion/,
      );
    });
  });

  describe("packMeter / unpackMeter / decodeUsageReported", function () {
    it("round-trip and decode what the contract emits", async function () {
      const { oracle, submit } = await loadFixture(deployedFixture);
      const t = BigInt(await time.latest());
      const r1 = reading(BIG_ASSET.id, t, { busyGpuSeconds: 1n, availableGpuSeconds: MAX64, energyJ: 3n });
      const r2 = reading(SMALL_ASSET.id, t - 1n, { busyGpuSeconds: MAX64, availableGpuSeconds: 0n, energyJ: MAX64 });
      expect(unpackMeter(packMeter(r1))).to.deep.equal({
        timestamp: r1.timestamp,
        busyGpuSeconds: r1.busyGpuSeconds,
        availableGpuSeconds: r1.availableGpuSeconds,
        energyJ: r1.energyJ,
      });
      const receipt = await (await submit([r1, r2])).wait();
      const log = receipt!.logs.map((l) => oracle.interface.parseLog(l)).find((l) => l?.name === "UsageReported")!;
      expect(decodeUsageReported(log.args.meters)).to.deep.equal([r1, r2]);
      expect(() => decodeUsageReported([1n])).to.throw(RangeError);
      expect(() => packMeter({ ...r1, energyJ: MAX64 + 1n })).to.throw(RangeError);
    });
  });
});
