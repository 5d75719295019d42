/**
 * UsageOracle v2, as a specification: one `describe` per external function, each rule of
 * `IUsageOracle`'s header with its custom error and arguments, state unchanged after every refusal.
 * Batches are signed with EIP-712 by real keys; proofs are rebuilt from chain data by
 * `src/meterHistory.ts`. Expected meters are computed here by hand, not by the code under test.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { UsageOracle__factory } from "../../typechain-types";
import {
  USAGE_BATCH_TYPEHASH,
  batchCommitment,
  batchDigest,
  concatSignatures,
  encodeReadings,
  makeBatch,
  oracleDomain,
  readingsRoot,
  signBatch,
  submitArgs,
  type Meter,
  type Reading,
} from "../../src/eip712";
import { ABSENT_BOUNDARY, ABSENT_PROOF, type ReadingProof } from "../../src/meterHistory";
import {
  BASE,
  BIG_ASSET,
  BURNABLE_ASSET,
  Bound,
  GAS,
  MARGIN_BPS,
  SKEW_SECONDS,
  SMALL_ASSET,
  Source,
  UNKNOWN_ASSET_ID,
  asMeter,
  deployedFixture,
  expectUnchanged,
  meterOf,
  oneOfOneFixture,
  oracleState,
  plus,
  reading,
  threeOfThreeFixture,
  twoBatchesFixture,
  type Values,
} from "./fixtures";

type Deployed = Awaited<ReturnType<typeof deployedFixture>>;
type MeterAtResult = Awaited<ReturnType<Deployed["oracle"]["meterAt"]>>;

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * An ECDSA (secp256k1) signature of `digest` with the nonce `k` instead of RFC 6979's: a second valid,
 * low-s signature by the same key, to show that the oracle deduplicates signers, not signature bytes.
 */
function signWithNonce(privateKey: bigint, digest: string, k: bigint): string {
  const P = 2n ** 256n - 2n ** 32n - 977n;
  const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
  const inv = (a: bigint, m: bigint) => {
    let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
    }
    return mod(s0, m);
  };
  type Point = [bigint, bigint] | null;
  const add = (a: Point, b: Point): Point => {
    if (!a) return b;
    if (!b) return a;
    if (a[0] === b[0] && mod(a[1] + b[1], P) === 0n) return null;
    const l =
      a[0] === b[0] ? mod(3n * a[0] * a[0] * inv(2n * a[1], P), P) : mod((b[1] - a[1]) * inv(b[0] - a[0], P), P);
    const x = mod(l * l - a[0] - b[0], P);
    return [x, mod(l * (a[0] - x) - a[1], P)];
  };
  let R: Point = null;
  let addend: Point = [
    0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
    0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
  ];
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) R = add(R, addend);
    addend = add(addend, addend);
  }
  const r = mod(R![0], SECP256K1_N);
  let s = mod(inv(k, SECP256K1_N) * (BigInt(digest) + r * privateKey), SECP256K1_N);
  let odd = R![1] & 1n;
  if (s > SECP256K1_N / 2n) {
    s = SECP256K1_N - s;
    odd ^= 1n;
  }
  return ethers.concat([ethers.toBeHex(r, 32), ethers.toBeHex(s, 32), ethers.toBeHex(27n + odd, 1)]);
}

/** Asserts a `MeterAt` result: values, source and acceptance time. */
function expectMeterAt(result: MeterAtResult, meter: Meter, source: bigint, acceptedAt: bigint) {
  expect(asMeter(result.meter), "meter").to.deep.equal(meter);
  expect(result.source, "source").to.equal(source);
  expect(result.acceptedAt, "acceptedAt").to.equal(acceptedAt);
}

/** The meter at `t` between two readings, each counter rounded down (written out, independently of src/). */
function between(t0: bigint, v0: Values, t1: bigint, v1: Values, t: bigint): Meter {
  const f = (a: bigint, b: bigint) => a + ((b - a) * (t - t0)) / (t1 - t0);
  return {
    timestamp: t,
    busyGpuSeconds: f(v0.busyGpuSeconds, v1.busyGpuSeconds),
    availableGpuSeconds: f(v0.availableGpuSeconds, v1.availableGpuSeconds),
    energyJ: f(v0.energyJ, v1.energyJ),
  };
}

/** A copy of a proof with one byte of its reading changed (the last: the low byte of energyJ). */
function withTamperedReading(p: ReadingProof): ReadingProof {
  const bytes = ethers.getBytes(p.reading);
  bytes[bytes.length - 1] ^= 1;
  return { ...p, reading: ethers.hexlify(bytes) };
}

/** The block time at which a transaction was mined (the batch's acceptedAt). */
async function minedAt(tx: { wait: () => Promise<unknown> }): Promise<bigint> {
  const receipt = (await tx.wait()) as { blockNumber: number };
  return BigInt((await ethers.provider.getBlock(receipt.blockNumber))!.timestamp);
}

/** A batch signed as given (not sorted or checked by `makeBatch`), over the root the oracle computes. */
async function signRaw(f: Deployed, batchIndex: bigint, timestamp: bigint, readings: Reading[], version = 1n) {
  const packed = encodeReadings(readings);
  const root = await f.oracle.readingsRoot(packed);
  const digest = await f.oracle.batchDigest(version, batchIndex, timestamp, root);
  const signatures = f.signers.slice(0, f.threshold).map((s) => s.signingKey.sign(digest).serialized);
  return { packed, signatures: concatSignatures(signatures) };
}

describe("UsageOracle", function () {
  describe("constructor", function () {
    it("installs the signer set as version 1 with every setting, the NFT and all roles for the admin", async function () {
      const { oracle, nft, admin, signers } = await loadFixture(deployedFixture);
      expect(await oracle.configVersion()).to.equal(1n);
      expect(await oracle.signers()).to.deep.equal(signers.map((s) => s.address));
      expect(await oracle.threshold()).to.equal(2n);
      expect(await oracle.maxFutureSkewSeconds()).to.equal(SKEW_SECONDS);
      expect(await oracle.energyMarginBps()).to.equal(MARGIN_BPS);
      expect(await oracle.nft()).to.equal(await nft.getAddress());
      expect(await oracle.nextBatchIndex()).to.equal(1n);
      expect(await oracle.lastBatchTimestamp()).to.equal(0n);
      for (const role of [
        await oracle.DEFAULT_ADMIN_ROLE(),
        await oracle.ORACLE_ADMIN_ROLE(),
        await oracle.PAUSER_ROLE(),
      ]) {
        expect(await oracle.hasRole(role, admin.address)).to.equal(true);
      }
      for (const s of signers) expect(await oracle.isSigner(s.address)).to.equal(true);
      expect(await oracle.paused()).to.equal(false);
    });

    it("exposes its constants and role ids", async function () {
      const { oracle } = await loadFixture(deployedFixture);
      expect(await oracle.MAX_SIGNERS()).to.equal(32n);
      expect(await oracle.MAX_READINGS()).to.equal(500n);
      expect(await oracle.MAX_FUTURE_SKEW_SECONDS()).to.equal(3_600n);
      expect(await oracle.MAX_ENERGY_MARGIN_BPS()).to.equal(5_000n);
      expect(await oracle.ORACLE_ADMIN_ROLE()).to.equal(ethers.id("ORACLE_ADMIN_ROLE"));
      expect(await oracle.PAUSER_ROLE()).to.equal(ethers.id("PAUSER_ROLE"));
      expect(await oracle.USAGE_BATCH_TYPEHASH()).to.equal(USAGE_BATCH_TYPEHASH);
    });

    it("emits the initial signer set and settings", async function () {
      const { nft, admin, signers } = await loadFixture(deployedFixture);
      const oracle = await new UsageOracle__factory(admin).deploy(
        admin.address,
        await nft.getAddress(),
        [signers[0].address],
        1,
        60,
        500,
      );
      const tx = oracle.deploymentTransaction()!;
      await expect(tx).to.emit(oracle, "SignerSetUpdated").withArgs(1n, [signers[0].address], 1n);
      await expect(tx).to.emit(oracle, "MaxFutureSkewUpdated").withArgs(0n, 60n);
      await expect(tx).to.emit(oracle, "EnergyMarginUpdated").withArgs(0n, 500n);
    });

    it("accepts the largest settings: 32 signers, a skew of 1 hour, a margin of 5000 bps", async function () {
      const { nft, admin } = await loadFixture(deployedFixture);
      const many = Array.from({ length: 32 }, (_, i) => ethers.getAddress(ethers.toBeHex(i + 1, 20)));
      const oracle = await new UsageOracle__factory(admin).deploy(
        admin.address,
        await nft.getAddress(),
        many,
        32,
        3_600,
        5_000,
      );
      expect(await oracle.signers()).to.deep.equal(many);
      expect(await oracle.threshold()).to.equal(32n);
      expect(await oracle.maxFutureSkewSeconds()).to.equal(3_600n);
      expect(await oracle.energyMarginBps()).to.equal(5_000n);
    });

    it("rejects a zero admin, a zero NFT, a bad signer set and out-of-range settings", async function () {
      const { nft, admin, signers } = await loadFixture(deployedFixture);
      const factory = new UsageOracle__factory(admin);
      const nftAddress = await nft.getAddress();
      const [a, b] = signers.map((s) => s.address);
      // Thunks: each deployment is sent only when its expectation awaits it (an eager, unawaited
      // rejection surfaces as an uncaught error in a later test).
      const cases: [() => Promise<unknown>, string, unknown[]][] = [
        [() => factory.deploy(ethers.ZeroAddress, nftAddress, [a], 1, 60, 0), "InvalidAdmin", [ethers.ZeroAddress]],
        [() => factory.deploy(admin.address, ethers.ZeroAddress, [a], 1, 60, 0), "InvalidNft", [ethers.ZeroAddress]],
        [() => factory.deploy(admin.address, nftAddress, [a, b], 0, 60, 0), "InvalidThreshold", [0n, 2n]],
        [() => factory.deploy(admin.address, nftAddress, [a, b], 3, 60, 0), "InvalidThreshold", [3n, 2n]],
        [() => factory.deploy(admin.address, nftAddress, [], 1, 60, 0), "InvalidThreshold", [1n, 0n]],
        [
          () => factory.deploy(admin.address, nftAddress, [a, ethers.ZeroAddress], 1, 60, 0),
          "InvalidSigner",
          [ethers.ZeroAddress],
        ],
        [() => factory.deploy(admin.address, nftAddress, [a, b, a], 1, 60, 0), "DuplicateSignerInSet", [a]],
        [() => factory.deploy(admin.address, nftAddress, [a], 1, 3_601, 0), "FutureSkewTooLarge", [3_601n, 3_600n]],
        [() => factory.deploy(admin.address, nftAddress, [a], 1, 60, 5_001), "EnergyMarginTooLarge", [5_001n, 5_000n]],
      ];
      const many = Array.from({ length: 33 }, (_, i) => ethers.getAddress(ethers.toBeHex(i + 1, 20)));
      cases.push([() => factory.deploy(admin.address, nftAddress, many, 1, 60, 0), "TooManySigners", [33n, 32n]]);
      for (const [deployment, error, args] of cases) {
        await expect(deployment(), error)
          .to.be.revertedWithCustomError(factory, error)
          .withArgs(...args);
      }
    });
  });

  describe("submit", function () {
    describe("when the batch is valid", function () {
      it("stores the batch's commitment, moves the index and the time on, and emits BatchAccepted", async function () {
        const f = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest()) + 10n;
        const batch = await f.nextBatch(t, [reading(SMALL_ASSET.id, 0n, BASE), reading(BIG_ASSET.id, 0n, BASE)]);
        const root = readingsRoot(batch.readings);
        const args = submitArgs(batch, await f.sign(batch));
        expect(await f.oracle.connect(f.transmitter).submit.staticCall(...args)).to.equal(root);
        await time.setNextBlockTimestamp(t + 5n);
        const tx = await f.oracle.connect(f.transmitter).submit(...args);
        await expect(tx).to.emit(f.oracle, "BatchAccepted").withArgs(1n, 1n, t, root, 2n);
        expect(await minedAt(tx)).to.equal(t + 5n);
        expect(await f.oracle.batchCommitment(1n)).to.equal(batchCommitment(root, t, t + 5n, 1n));
        expect(await f.oracle.nextBatchIndex()).to.equal(2n);
        expect(await f.oracle.lastBatchTimestamp()).to.equal(t);
        expect(await f.oracle.batchCommitment(2n)).to.equal(ethers.ZeroHash);
      });

      it("numbers consecutive batches from 1 and keeps every commitment", async function () {
        const f = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest()) + 10n;
        const commitments: string[] = [];
        for (let i = 0n; i < 4n; i++) {
          const { batch, tx } = await f.post(t + i * 60n, [
            reading(BIG_ASSET.id, i, plus(BASE, { availableGpuSeconds: i })),
          ]);
          expect(batch.batchIndex).to.equal(i + 1n);
          commitments.push(batchCommitment(readingsRoot(batch.readings), t + i * 60n, await minedAt(tx), 1n));
        }
        for (let i = 0; i < 4; i++) expect(await f.oracle.batchCommitment(BigInt(i + 1))).to.equal(commitments[i]);
        expect(await f.oracle.nextBatchIndex()).to.equal(5n);
        expect(await f.oracle.lastBatchTimestamp()).to.equal(t + 180n);
      });

      it("accepts a batch from any transmitter", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        await expect(f.oracle.connect(f.stranger).submit(...submitArgs(batch, await f.sign(batch)))).to.emit(
          f.oracle,
          "BatchAccepted",
        );
      });

      it("checks no reading's values: impossible counters and unknown assets are accepted as published", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const max48 = (1n << 48n) - 1n;
        const readings = [
          reading(BIG_ASSET.id, 2n, { busyGpuSeconds: 0n, availableGpuSeconds: max48, energyJ: 0n }), // decreases, and far beyond capacity
          reading(SMALL_ASSET.id, 1n, { busyGpuSeconds: max48, availableGpuSeconds: 1n, energyJ: (1n << 64n) - 1n }),
          reading(UNKNOWN_ASSET_ID, 0n, BASE),
        ];
        const { batch } = await f.post(f.t2 + 1n, readings);
        await expect(f.oracle.verifyReading(await f.proofOf(3n, UNKNOWN_ASSET_ID))).not.to.be.reverted;
        expect(batch.batchIndex).to.equal(3n);
      });

      it("accepts MAX_READINGS readings in one batch", async function () {
        const f = await loadFixture(deployedFixture);
        const readings = Array.from({ length: 500 }, (_, i) => reading(BigInt(i + 1), 0n, BASE));
        const { batch, tx } = await f.post(BigInt(await time.latest()) + 1n, readings);
        await expect(tx)
          .to.emit(f.oracle, "BatchAccepted")
          .withArgs(1n, 1n, batch.timestamp, readingsRoot(readings), 500n);
      });

      it("accepts a timestamp exactly maxFutureSkewSeconds ahead of the block", async function () {
        const f = await loadFixture(deployedFixture);
        const now = BigInt(await time.latest()) + 50n;
        const batch = await f.nextBatch(now + SKEW_SECONDS, [reading(BIG_ASSET.id, 0n)]);
        const args = submitArgs(batch, await f.sign(batch));
        await time.setNextBlockTimestamp(now);
        await expect(f.oracle.submit(...args, GAS))
          .to.emit(f.oracle, "BatchAccepted")
          .withArgs(1n, 1n, now + SKEW_SECONDS, readingsRoot(batch.readings), 1n);
        expect(await f.oracle.lastBatchTimestamp()).to.equal(now + SKEW_SECONDS);
      });

      it("accepts a timestamp one second after the previous batch's", async function () {
        const f = await loadFixture(twoBatchesFixture);
        await expect((await f.post(f.t2 + 1n, [reading(BIG_ASSET.id, 2n, f.step1)])).tx).to.emit(
          f.oracle,
          "BatchAccepted",
        );
        expect(await f.oracle.lastBatchTimestamp()).to.equal(f.t2 + 1n);
      });
    });

    describe("signatures (k of n)", function () {
      it("accepts exactly the threshold, more than it up to n, in any order", async function () {
        const f = await loadFixture(deployedFixture);
        const [s0, s1, s2] = f.signers;
        const t = BigInt(await time.latest()) + 10n;
        for (const [i, by] of [
          [s0, s1],
          [s1, s0],
          [s2, s0, s1],
          [s1, s2],
        ].entries()) {
          const batch = await f.nextBatch(t + BigInt(i), [reading(BIG_ASSET.id, BigInt(i))]);
          await expect(f.oracle.submit(...submitArgs(batch, await f.sign(batch, by))), `set ${i}`).to.emit(
            f.oracle,
            "BatchAccepted",
          );
        }
        expect(await f.oracle.nextBatchIndex()).to.equal(5n);
      });

      it("accepts a 1-of-1 batch", async function () {
        const f = await loadFixture(oneOfOneFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        await expect(f.oracle.submit(...submitArgs(batch, await f.sign(batch)))).to.emit(f.oracle, "BatchAccepted");
      });

      it("accepts 3 of 3 and reverts NotEnoughSignatures with 2 of them", async function () {
        const f = await loadFixture(threeOfThreeFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const signatures = await f.sign(batch, f.signers);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(batch, signatures.slice(0, 2))))
          .to.be.revertedWithCustomError(f.oracle, "NotEnoughSignatures")
          .withArgs(2n, 3n);
        await expectUnchanged(f.oracle, before);
        await expect(f.oracle.submit(...submitArgs(batch, signatures))).to.emit(f.oracle, "BatchAccepted");
      });

      it("accepts MAX_SIGNERS distinct signatures of a 32-member set", async function () {
        const f = await loadFixture(deployedFixture);
        const wallets = Array.from({ length: 32 }, (_, i) => new ethers.Wallet(ethers.id(`oracle-member-${i}`)));
        await f.oracle.connect(f.oracleAdmin).setSigners(
          wallets.map((w) => w.address),
          32,
        );
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const signatures = await f.sign(batch, [...wallets].reverse());
        await expect(f.oracle.submit(...submitArgs(batch, signatures))).to.emit(f.oracle, "BatchAccepted");
      });

      it("reverts NotEnoughSignatures below the threshold (none at all included)", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const signatures = await f.sign(batch);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(batch, signatures.slice(0, 1))))
          .to.be.revertedWithCustomError(f.oracle, "NotEnoughSignatures")
          .withArgs(1n, 2n);
        await expect(f.oracle.submit(...submitArgs(batch, [])))
          .to.be.revertedWithCustomError(f.oracle, "NotEnoughSignatures")
          .withArgs(0n, 2n);
        await expectUnchanged(f.oracle, before);
      });

      it("reverts TooManySignatures above the signer count, even when every one is valid", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const signatures = await f.sign(batch, [...f.signers, f.outsiders[0]]);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(batch, signatures)))
          .to.be.revertedWithCustomError(f.oracle, "TooManySignatures")
          .withArgs(4n, 3n);
        await expectUnchanged(f.oracle, before);
      });

      it("reverts UnknownSigner for a stranger's signature, wherever it stands", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const before = await oracleState(f.oracle);
        for (const by of [
          [f.signers[0], f.outsiders[0]],
          [f.outsiders[0], f.signers[1]],
          [f.signers[0], f.signers[1], f.outsiders[0]],
        ]) {
          await expect(f.oracle.submit(...submitArgs(batch, await f.sign(batch, by))))
            .to.be.revertedWithCustomError(f.oracle, "UnknownSigner")
            .withArgs(f.outsiders[0].address);
        }
        await expectUnchanged(f.oracle, before);
      });

      it("reverts DuplicateSigner when one signer's signature is repeated, in any position", async function () {
        const f = await loadFixture(deployedFixture);
        const [s0, s1] = f.signers;
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const [a, b] = await f.sign(batch, [s0, s1]);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(batch, [a, a])))
          .to.be.revertedWithCustomError(f.oracle, "DuplicateSigner")
          .withArgs(s0.address);
        await expect(f.oracle.submit(...submitArgs(batch, [b, a, b])))
          .to.be.revertedWithCustomError(f.oracle, "DuplicateSigner")
          .withArgs(s1.address);
        await expectUnchanged(f.oracle, before);
      });

      it("reverts DuplicateSigner for a second, different valid signature by the same key", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const digest = batchDigest(f.domain, batch);
        const first = f.signers[0].signingKey.sign(digest).serialized; // RFC 6979 nonce
        const second = signWithNonce(BigInt(f.signers[0].privateKey), digest, 0x1234_5678_9abc_def0n);
        expect(second).to.not.equal(first);
        expect(ethers.recoverAddress(digest, second)).to.equal(f.signers[0].address);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(batch, [first, second])))
          .to.be.revertedWithCustomError(f.oracle, "DuplicateSigner")
          .withArgs(f.signers[0].address);
        await expectUnchanged(f.oracle, before);
      });

      it("reverts MalformedSignatures when the bytes are not whole 65-byte signatures", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const [config, index, ts, packed] = submitArgs(batch, []);
        const whole = concatSignatures(await f.sign(batch));
        const before = await oracleState(f.oracle);
        for (const sigs of [
          ethers.dataSlice(whole, 0, 64),
          ethers.concat([whole, "0x00"]),
          ethers.dataSlice(whole, 0, 129),
        ]) {
          await expect(f.oracle.submit(config, index, ts, packed, sigs))
            .to.be.revertedWithCustomError(f.oracle, "MalformedSignatures")
            .withArgs(BigInt(ethers.dataLength(sigs)));
        }
        await expectUnchanged(f.oracle, before);
      });

      it("rejects a malleable (high-s) and an invalid signature with OpenZeppelin's ECDSA errors", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const [good, other] = await f.sign(batch);
        const sig = ethers.Signature.from(good);
        const highS = ethers.toBeHex(SECP256K1_N - BigInt(sig.s), 32);
        const malleable = ethers.concat([sig.r, highS, ethers.toBeHex(sig.v === 27 ? 28 : 27, 1)]);
        const badV = ethers.concat([sig.r, sig.s, "0x1d"]);
        const zeroR = ethers.concat([ethers.ZeroHash, sig.s, ethers.toBeHex(sig.v, 1)]);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(batch, [malleable, other])))
          .to.be.revertedWithCustomError(f.oracle, "ECDSAInvalidSignatureS")
          .withArgs(highS);
        await expect(f.oracle.submit(...submitArgs(batch, [other, badV]))).to.be.revertedWithCustomError(
          f.oracle,
          "ECDSAInvalidSignature",
        );
        await expect(f.oracle.submit(...submitArgs(batch, [zeroR, other]))).to.be.revertedWithCustomError(
          f.oracle,
          "ECDSAInvalidSignature",
        );
        await expectUnchanged(f.oracle, before);
      });

      it("reverts UnknownSigner (the address the wrong digest recovers to) for anything that differs from what was signed", async function () {
        const f = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest()) + 10n;
        const signedBatch = await f.nextBatch(t, [reading(BIG_ASSET.id, 0n, BASE), reading(SMALL_ASSET.id, 0n, BASE)]);
        const signatures = await f.sign(signedBatch);
        const twin = await new UsageOracle__factory(f.admin).deploy(
          f.admin.address,
          await f.nft.getAddress(),
          f.signers.map((s) => s.address),
          2,
          SKEW_SECONDS,
          MARGIN_BPS,
        );
        const variants = [
          { ...signedBatch, timestamp: t - 1n },
          {
            ...signedBatch,
            readings: [signedBatch.readings[0], { ...signedBatch.readings[1], energyJ: BASE.energyJ + 1n }],
          },
          { ...signedBatch, readings: signedBatch.readings.slice(0, 1) },
        ];
        const before = await oracleState(f.oracle);
        for (const [i, v] of variants.entries()) {
          const recovered = ethers.recoverAddress(batchDigest(f.domain, v), signatures[0]);
          await expect(f.oracle.submit(...submitArgs(v, signatures)), `variant ${i}`)
            .to.be.revertedWithCustomError(f.oracle, "UnknownSigner")
            .withArgs(recovered);
        }
        // Signed for another chain id, or for another deployment (the twin accepts it).
        for (const domain of [
          oracleDomain(f.chainId + 1n, await f.oracle.getAddress()),
          oracleDomain(f.chainId, await twin.getAddress()),
        ]) {
          const elsewhere = await Promise.all(f.signers.slice(0, 2).map((s) => signBatch(s, domain, signedBatch)));
          const recovered = ethers.recoverAddress(batchDigest(f.domain, signedBatch), elsewhere[0]);
          await expect(f.oracle.submit(...submitArgs(signedBatch, elsewhere)))
            .to.be.revertedWithCustomError(f.oracle, "UnknownSigner")
            .withArgs(recovered);
        }
        await expect(
          twin.submit(
            ...submitArgs(
              signedBatch,
              await Promise.all(
                f.signers
                  .slice(0, 2)
                  .map((s) => signBatch(s, oracleDomain(f.chainId, twin.target as string), signedBatch)),
              ),
            ),
          ),
        ).to.emit(twin, "BatchAccepted");
        await expectUnchanged(f.oracle, before);
        await expect(f.oracle.submit(...submitArgs(signedBatch, signatures))).to.emit(f.oracle, "BatchAccepted");
      });

      it("reverts StaleConfigVersion for a batch signed under another signer-set version", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const signatures = await f.sign(batch);
        await f.oracle.connect(f.oracleAdmin).setSigners(
          f.signers.map((s) => s.address),
          1,
        );
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(batch, signatures)))
          .to.be.revertedWithCustomError(f.oracle, "StaleConfigVersion")
          .withArgs(1n, 2n);
        const future = { ...batch, configVersion: 3n };
        await expect(f.oracle.submit(...submitArgs(future, await f.sign(future))))
          .to.be.revertedWithCustomError(f.oracle, "StaleConfigVersion")
          .withArgs(3n, 2n);
        await expectUnchanged(f.oracle, before);
        const current = { ...batch, configVersion: 2n };
        await expect(f.oracle.submit(...submitArgs(current, await f.sign(current, f.signers.slice(0, 1))))).to.emit(
          f.oracle,
          "BatchAccepted",
        );
      });

      it("reverts UnknownSigner for a signer removed from the set, under the new version", async function () {
        const f = await loadFixture(deployedFixture);
        await f.oracle.connect(f.oracleAdmin).setSigners([f.signers[1].address, f.signers[2].address], 2);
        const batch = await f.nextBatch(BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        expect(batch.configVersion).to.equal(2n);
        await expect(f.oracle.submit(...submitArgs(batch, await f.sign(batch, [f.signers[0], f.signers[1]]))))
          .to.be.revertedWithCustomError(f.oracle, "UnknownSigner")
          .withArgs(f.signers[0].address);
        await expect(f.oracle.submit(...submitArgs(batch, await f.sign(batch, [f.signers[2], f.signers[1]])))).to.emit(
          f.oracle,
          "BatchAccepted",
        );
      });
    });

    describe("batch index", function () {
      it("reverts BatchIndexTaken for a replay of an accepted batch", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(BigInt(await time.latest()) + 5n, [reading(BIG_ASSET.id, 0n)]);
        const args = submitArgs(batch, await f.sign(batch));
        await f.oracle.submit(...args);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.connect(f.stranger).submit(...args))
          .to.be.revertedWithCustomError(f.oracle, "BatchIndexTaken")
          .withArgs(1n, 2n);
        await expectUnchanged(f.oracle, before);
      });

      it("reverts BatchIndexTaken for another transmitter's batch of the same index; the commitment tells which was taken", async function () {
        const f = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest()) + 5n;
        const mine = await f.nextBatch(t, [reading(BIG_ASSET.id, 0n, BASE)]);
        const theirs = await f.nextBatch(t + 1n, [reading(BIG_ASSET.id, 0n, plus(BASE, { energyJ: 1n }))]);
        const mineArgs = submitArgs(mine, await f.sign(mine));
        await time.setNextBlockTimestamp(t + 2n);
        await f.oracle.connect(f.stranger).submit(...submitArgs(theirs, await f.sign(theirs)));
        await expect(f.oracle.connect(f.transmitter).submit(...mineArgs))
          .to.be.revertedWithCustomError(f.oracle, "BatchIndexTaken")
          .withArgs(1n, 2n);
        const stored = await f.oracle.batchCommitment(1n);
        expect(stored).to.equal(batchCommitment(readingsRoot(theirs.readings), t + 1n, t + 2n, 1n));
        expect(stored).to.not.equal(batchCommitment(readingsRoot(mine.readings), t, t + 2n, 1n));
      });

      it("reverts BatchIndexTaken for index 0 (batches are numbered from 1)", async function () {
        const f = await loadFixture(deployedFixture);
        const { packed, signatures } = await signRaw(f, 0n, BigInt(await time.latest()), [reading(BIG_ASSET.id, 0n)]);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(1n, 0n, BigInt(await time.latest()), packed, signatures))
          .to.be.revertedWithCustomError(f.oracle, "BatchIndexTaken")
          .withArgs(0n, 1n);
        await expectUnchanged(f.oracle, before);
      });

      it("reverts BatchIndexAhead past the next free index", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const ahead = makeBatch(1n, 4n, f.t2 + 10n, [reading(BIG_ASSET.id, 2n, f.step1)]);
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...submitArgs(ahead, await f.sign(ahead))))
          .to.be.revertedWithCustomError(f.oracle, "BatchIndexAhead")
          .withArgs(4n, 3n);
        await expectUnchanged(f.oracle, before);
      });
    });

    describe("timestamp", function () {
      it("reverts BatchNotNewer for a timestamp equal to or before the previous batch's", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const before = await oracleState(f.oracle);
        for (const ts of [f.t2, f.t2 - 1n, f.t1]) {
          const batch = await f.nextBatch(ts, [reading(BIG_ASSET.id, 2n, f.step1)]);
          await expect(f.oracle.submit(...submitArgs(batch, await f.sign(batch))))
            .to.be.revertedWithCustomError(f.oracle, "BatchNotNewer")
            .withArgs(ts, f.t2);
        }
        await expectUnchanged(f.oracle, before);
      });

      it("reverts BatchNotNewer for a first batch stamped 0", async function () {
        const f = await loadFixture(deployedFixture);
        const batch = await f.nextBatch(0n, [reading(BIG_ASSET.id, 0n)]);
        await expect(f.oracle.submit(...submitArgs(batch, await f.sign(batch))))
          .to.be.revertedWithCustomError(f.oracle, "BatchNotNewer")
          .withArgs(0n, 0n);
      });

      it("reverts BatchInFuture one second beyond the skew, pinned to the block's second", async function () {
        const f = await loadFixture(deployedFixture);
        const now = BigInt(await time.latest()) + 50n;
        const batch = await f.nextBatch(now + SKEW_SECONDS + 1n, [reading(BIG_ASSET.id, 0n)]);
        const args = submitArgs(batch, await f.sign(batch));
        const before = await oracleState(f.oracle);
        await time.setNextBlockTimestamp(now);
        await expect(f.oracle.submit(...args, GAS))
          .to.be.revertedWithCustomError(f.oracle, "BatchInFuture")
          .withArgs(now + SKEW_SECONDS + 1n, now + SKEW_SECONDS);
        await expectUnchanged(f.oracle, before);
        // One second later the same batch is exactly at the skew.
        await time.setNextBlockTimestamp(now + 1n);
        await expect(f.oracle.submit(...args, GAS)).to.emit(f.oracle, "BatchAccepted");
      });

      it("follows a changed skew: with 0 only timestamps up to the block's are accepted", async function () {
        const f = await loadFixture(deployedFixture);
        await f.oracle.connect(f.oracleAdmin).setMaxFutureSkew(0n);
        const now = BigInt(await time.latest()) + 50n;
        const ahead = await f.nextBatch(now + 1n, [reading(BIG_ASSET.id, 0n)]);
        await time.setNextBlockTimestamp(now);
        await expect(f.oracle.submit(...submitArgs(ahead, await f.sign(ahead)), GAS))
          .to.be.revertedWithCustomError(f.oracle, "BatchInFuture")
          .withArgs(now + 1n, now);
        const atNow = await f.nextBatch(now + 1n, [reading(BIG_ASSET.id, 0n)]);
        await time.setNextBlockTimestamp(now + 1n);
        await expect(f.oracle.submit(...submitArgs(atNow, await f.sign(atNow)), GAS)).to.emit(
          f.oracle,
          "BatchAccepted",
        );
      });
    });

    describe("readings", function () {
      it("reverts MalformedReadings when the bytes are not whole 28-byte readings", async function () {
        const f = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest());
        const one = encodeReadings([reading(BIG_ASSET.id, 0n)]);
        const before = await oracleState(f.oracle);
        for (const packed of [ethers.dataSlice(one, 0, 27), ethers.concat([one, "0x00"]), "0x01"]) {
          await expect(f.oracle.submit(1n, 1n, t, packed, "0x"))
            .to.be.revertedWithCustomError(f.oracle, "MalformedReadings")
            .withArgs(BigInt(ethers.dataLength(packed)));
        }
        await expectUnchanged(f.oracle, before);
      });

      it("reverts EmptyBatch without readings", async function () {
        const f = await loadFixture(deployedFixture);
        await expect(f.oracle.submit(1n, 1n, BigInt(await time.latest()), "0x", "0x")).to.be.revertedWithCustomError(
          f.oracle,
          "EmptyBatch",
        );
      });

      it("reverts BatchTooLarge above MAX_READINGS", async function () {
        const f = await loadFixture(deployedFixture);
        const packed = encodeReadings(Array.from({ length: 501 }, (_, i) => reading(BigInt(i + 1), 0n)));
        await expect(f.oracle.submit(1n, 1n, BigInt(await time.latest()), packed, "0x"))
          .to.be.revertedWithCustomError(f.oracle, "BatchTooLarge")
          .withArgs(501n, 500n);
      });

      it("reverts AssetIdsNotAscending at the first reading out of order or repeated, even when properly signed", async function () {
        const f = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest());
        const before = await oracleState(f.oracle);
        const cases: [bigint[], bigint[]][] = [
          [
            [2n, 1n],
            [1n, 1n, 2n],
          ],
          [
            [1n, 1n],
            [1n, 1n, 1n],
          ],
          [
            [1n, 3n, 2n, 2n],
            [2n, 2n, 3n],
          ],
          [
            [5n, 6n, 7n, 7n, 1n],
            [3n, 7n, 7n],
          ],
        ];
        for (const [ids, args] of cases) {
          const { packed, signatures } = await signRaw(
            f,
            1n,
            t,
            ids.map((id) => reading(id, 0n)),
          );
          await expect(f.oracle.submit(1n, 1n, t, packed, signatures), ids.join(","))
            .to.be.revertedWithCustomError(f.oracle, "AssetIdsNotAscending")
            .withArgs(...args);
        }
        await expectUnchanged(f.oracle, before);
      });

      it("reverts PreviousBatchNotEarlier for a link to the batch itself or a later one", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const t = f.t2 + 10n;
        const before = await oracleState(f.oracle);
        const cases: [Reading[], bigint[]][] = [
          [[reading(BIG_ASSET.id, 3n)], [0n, 3n, 3n]],
          [
            [reading(BIG_ASSET.id, 2n), reading(SMALL_ASSET.id, 4n)],
            [1n, 4n, 3n],
          ],
          [
            [reading(BIG_ASSET.id, 0n), reading(SMALL_ASSET.id, 0xffffffffn)],
            [1n, 0xffffffffn, 3n],
          ],
        ];
        for (const [readings, args] of cases) {
          const { packed, signatures } = await signRaw(f, 3n, t, readings);
          await expect(f.oracle.submit(1n, 3n, t, packed, signatures))
            .to.be.revertedWithCustomError(f.oracle, "PreviousBatchNotEarlier")
            .withArgs(...args);
        }
        await expectUnchanged(f.oracle, before);
      });

      it("reports the first broken reading when several rules are broken", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const t = f.t2 + 10n;
        // Reading 1 links to batch 3 (not earlier); reading 2 is out of order: reading 1 is reported.
        const { packed, signatures } = await signRaw(f, 3n, t, [reading(2n, 0n), reading(3n, 3n), reading(1n, 0n)]);
        await expect(f.oracle.submit(1n, 3n, t, packed, signatures))
          .to.be.revertedWithCustomError(f.oracle, "PreviousBatchNotEarlier")
          .withArgs(1n, 3n, 3n);
      });
    });

    describe("order of the checks", function () {
      it("checks the header before the readings and the readings before the signatures", async function () {
        const f = await loadFixture(twoBatchesFixture);
        // A replay with garbage readings and no signatures is still recognised as a replay.
        await expect(f.oracle.submit(1n, 2n, f.t2, "0x01", "0x"))
          .to.be.revertedWithCustomError(f.oracle, "BatchIndexTaken")
          .withArgs(2n, 3n);
        await expect(f.oracle.submit(5n, 9n, 0n, "0x01", "0x"))
          .to.be.revertedWithCustomError(f.oracle, "StaleConfigVersion")
          .withArgs(5n, 1n);
        await expect(f.oracle.submit(1n, 3n, f.t2, "0x01", "0x"))
          .to.be.revertedWithCustomError(f.oracle, "BatchNotNewer")
          .withArgs(f.t2, f.t2);
        await expect(f.oracle.submit(1n, 3n, f.t2 + 1n, "0x01", "0x"))
          .to.be.revertedWithCustomError(f.oracle, "MalformedReadings")
          .withArgs(1n);
        await expect(f.oracle.submit(1n, 3n, f.t2 + 1n, encodeReadings([reading(1n, 3n)]), "0x"))
          .to.be.revertedWithCustomError(f.oracle, "PreviousBatchNotEarlier")
          .withArgs(0n, 3n, 3n);
      });
    });

    describe("when paused", function () {
      it("reverts EnforcedPause, changes nothing, and accepts the same batch after unpause", async function () {
        const f = await loadFixture(twoBatchesFixture);
        await f.oracle.connect(f.pauser).pause();
        const batch = await f.nextBatch(f.t2 + 60n, [reading(BIG_ASSET.id, 2n, f.step1)]);
        const args = submitArgs(batch, await f.sign(batch));
        const before = await oracleState(f.oracle);
        await expect(f.oracle.submit(...args)).to.be.revertedWithCustomError(f.oracle, "EnforcedPause");
        await expectUnchanged(f.oracle, before);
        await f.oracle.connect(f.pauser).unpause();
        await expect(f.oracle.submit(...args)).to.emit(f.oracle, "BatchAccepted");
      });

      it("keeps every proof working: verifyReading, meterAt and meterWindow", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const earlier = await f.proofOf(1n, BIG_ASSET.id);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        const expectedWindow = async () => {
          const [atStart, atPoint] = await f.oracle.meterWindow(
            BIG_ASSET.id,
            f.t1 + 300n,
            f.t2,
            { earlier, later },
            { earlier: ABSENT_PROOF, later },
          );
          return [asMeter(atStart.meter), asMeter(atPoint.meter)];
        };
        const unpaused = [
          await f.oracle.verifyReading(later),
          await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 300n, earlier, later, Bound.Lower),
          await expectedWindow(),
        ];
        await f.oracle.connect(f.pauser).pause();
        expect(await f.oracle.verifyReading(later)).to.deep.equal(unpaused[0]);
        expect(await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 300n, earlier, later, Bound.Lower)).to.deep.equal(
          unpaused[1],
        );
        expect(await expectedWindow()).to.deep.equal(unpaused[2]);
      });
    });
  });

  describe("batchCommitment", function () {
    it("is zero for an index never accepted, and keccak256(abi.encode(root, timestamp, acceptedAt, configVersion)) once accepted", async function () {
      const f = await loadFixture(deployedFixture);
      expect(await f.oracle.batchCommitment(0n)).to.equal(ethers.ZeroHash);
      expect(await f.oracle.batchCommitment(1n)).to.equal(ethers.ZeroHash);
      expect(await f.oracle.batchCommitment(0xffffffffn)).to.equal(ethers.ZeroHash);
      const t = BigInt(await time.latest()) + 7n;
      const { batch, tx } = await f.post(t, [reading(SMALL_ASSET.id, 0n, BASE)]);
      const acceptedAt = await minedAt(tx);
      const encoded = ethers.AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "uint64", "uint64", "uint64"],
        [readingsRoot(batch.readings), t, acceptedAt, 1n],
      );
      expect(await f.oracle.batchCommitment(1n)).to.equal(ethers.keccak256(encoded));
    });
  });

  describe("verifyReading", function () {
    it("proves every reading of a batch and unpacks it", async function () {
      const f = await loadFixture(twoBatchesFixture);
      const history = await f.history();
      for (const [batchIndex, acceptedAt, timestamp] of [
        [1n, f.t1, f.t1],
        [2n, f.t2, f.t2],
      ]) {
        const batch = history.batch(batchIndex)!;
        expect(batch.acceptedAt).to.equal(acceptedAt);
        for (const r of batch.readings) {
          const proven = await f.oracle.verifyReading(
            history.proof(history.readingsOf(r.assetId).find((x) => x.batch === batch)!),
          );
          expect(proven.assetId).to.equal(r.assetId);
          expect(proven.batchIndex).to.equal(batchIndex);
          expect(proven.previousBatch).to.equal(r.previousBatch);
          expect(proven.acceptedAt).to.equal(acceptedAt);
          expect(asMeter(proven.meter)).to.deep.equal(meterOf(timestamp, r));
        }
      }
    });

    it("proves a batch of one reading with an empty path", async function () {
      const f = await loadFixture(deployedFixture);
      await f.post(BigInt(await time.latest()) + 5n, [reading(SMALL_ASSET.id, 0n, BASE)]);
      const p = await f.proofOf(1n, SMALL_ASSET.id);
      expect(p.path).to.deep.equal([]);
      expect((await f.oracle.verifyReading(p)).assetId).to.equal(SMALL_ASSET.id);
    });

    it("reverts UnknownBatch for an absent proof and for a batch not accepted yet", async function () {
      const f = await loadFixture(twoBatchesFixture);
      await expect(f.oracle.verifyReading(ABSENT_PROOF))
        .to.be.revertedWithCustomError(f.oracle, "UnknownBatch")
        .withArgs(0n);
      const p = await f.proofOf(2n, BIG_ASSET.id);
      await expect(f.oracle.verifyReading({ ...p, batchIndex: 3n }))
        .to.be.revertedWithCustomError(f.oracle, "UnknownBatch")
        .withArgs(3n);
    });

    it("reverts InvalidReadingProof for a tampered reading, path or header", async function () {
      const f = await loadFixture(twoBatchesFixture);
      const p = await f.proofOf(1n, SMALL_ASSET.id); // batch 1 has three readings: a path of two
      expect(p.path.length).to.equal(2);
      const flipped = ethers.hexlify(ethers.randomBytes(32));
      const tampered: [string, ReadingProof][] = [
        ["reading", withTamperedReading(p)],
        ["reading of another asset", { ...p, reading: (await f.proofOf(1n, BIG_ASSET.id)).reading }],
        ["a sibling", { ...p, path: [flipped, p.path[1]] }],
        ["a missing sibling", { ...p, path: p.path.slice(0, 1) }],
        ["an extra sibling", { ...p, path: [...p.path, flipped] }],
        ["siblings swapped", { ...p, path: [p.path[1], p.path[0]] }],
        ["batch timestamp", { ...p, batchTimestamp: p.batchTimestamp + 1n }],
        ["acceptedAt", { ...p, acceptedAt: p.acceptedAt - 1n }],
        ["configVersion", { ...p, configVersion: 2n }],
        ["batch index", { ...p, batchIndex: 2n }],
      ];
      for (const [what, proof] of tampered) {
        await expect(f.oracle.verifyReading(proof), what)
          .to.be.revertedWithCustomError(f.oracle, "InvalidReadingProof")
          .withArgs(proof.batchIndex);
      }
    });
  });

  describe("meterAt", function () {
    describe("source Exact", function () {
      it("returns the reading stamped exactly at the time, ignoring the earlier proof", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        const garbage = withTamperedReading(await f.proofOf(1n, BIG_ASSET.id));
        for (const earlier of [ABSENT_PROOF, garbage]) {
          for (const bound of [Bound.Lower, Bound.Upper]) {
            expectMeterAt(
              await f.oracle.meterAt(BIG_ASSET.id, f.t2, earlier, later, bound),
              meterOf(f.t2, f.step1),
              Source.Exact,
              f.t2,
            );
          }
        }
      });

      it("is Exact (not FirstReading) at the time of an asset's first reading", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const first = await f.proofOf(1n, SMALL_ASSET.id);
        expectMeterAt(
          await f.oracle.meterAt(SMALL_ASSET.id, f.t1, ABSENT_PROOF, first, Bound.Lower),
          meterOf(f.t1, BASE),
          Source.Exact,
          f.t1,
        );
      });
    });

    describe("source FirstReading", function () {
      it("returns the first reading's values, stamped with the time, for any time before it", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const first = await f.proofOf(1n, BIG_ASSET.id);
        for (const t of [0n, 1n, f.t1 - 1n]) {
          expectMeterAt(
            await f.oracle.meterAt(BIG_ASSET.id, t, ABSENT_PROOF, first, Bound.Upper),
            meterOf(t, BASE),
            Source.FirstReading,
            f.t1,
          );
        }
      });
    });

    describe("source Interpolated", function () {
      it("interpolates linearly between adjacent readings, rounding each counter down", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const earlier = await f.proofOf(1n, BIG_ASSET.id);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        // t1 + 7: available 2000 + 4000 x 7 / 600 = 2046.67 -> 2046; busy 1035; energy 1,024,500.
        expectMeterAt(
          await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 7n, earlier, later, Bound.Lower),
          { timestamp: f.t1 + 7n, busyGpuSeconds: 1_035n, availableGpuSeconds: 2_046n, energyJ: 1_024_500n },
          Source.Interpolated,
          f.t2,
        );
        for (const t of [f.t1 + 1n, f.t1 + 150n, f.t1 + 599n]) {
          for (const bound of [Bound.Lower, Bound.Upper]) {
            expectMeterAt(
              await f.oracle.meterAt(BIG_ASSET.id, t, earlier, later, bound),
              between(f.t1, BASE, f.t2, f.step1, t),
              Source.Interpolated,
              f.t2,
            );
          }
        }
      });

      it("reports the later acceptance time of the two readings", async function () {
        const f = await loadFixture(twoBatchesFixture);
        // Batch 3 stamped in the past relative to its acceptance: acceptedAt well after its timestamp.
        const t3 = f.t2 + 100n;
        const batch = await f.nextBatch(t3, [reading(BIG_ASSET.id, 2n, plus(f.step1, { availableGpuSeconds: 800n }))]);
        await time.setNextBlockTimestamp(t3 + 250n);
        await f.oracle.submit(...submitArgs(batch, await f.sign(batch)));
        const r = await f.oracle.meterAt(
          BIG_ASSET.id,
          f.t2 + 50n,
          await f.proofOf(2n, BIG_ASSET.id),
          await f.proofOf(3n, BIG_ASSET.id),
          Bound.Lower,
        );
        expect(r.acceptedAt).to.equal(t3 + 250n);
        expect(r.meter.availableGpuSeconds).to.equal(f.step1.availableGpuSeconds + 400n);
      });

      it("accepts deltas exactly at the physical bounds: busy = available = gpuCount x dt, energy = that x TDP x (1 + margin)", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const capacity = BIG_ASSET.gpuCount * 600n; // 4800 GPU-s
        const energy = (capacity * BIG_ASSET.tdpWatts * (10_000n + MARGIN_BPS)) / 10_000n; // 3,696,000 J
        expect(energy).to.equal(3_696_000n);
        const t3 = f.t2 + 600n;
        const atBound = plus(f.step1, { busyGpuSeconds: capacity, availableGpuSeconds: capacity, energyJ: energy });
        await f.post(t3, [reading(BIG_ASSET.id, 2n, atBound)]);
        const r = await f.oracle.meterAt(
          BIG_ASSET.id,
          f.t2 + 300n,
          await f.proofOf(2n, BIG_ASSET.id),
          await f.proofOf(3n, BIG_ASSET.id),
          Bound.Lower,
        );
        expectMeterAt(r, between(f.t2, f.step1, t3, atBound, f.t2 + 300n), Source.Interpolated, t3);
      });
    });

    describe("source UnusablePair", function () {
      // One above each bound of MeterMath.isPossible, 600 s after batch 2, for the 8 x 700 W asset.
      const capacity = 4_800n;
      const maxEnergy = 3_696_000n;
      const impossible: [string, (v: Values) => Values][] = [
        ["busy decreases", (v) => ({ ...v, busyGpuSeconds: v.busyGpuSeconds - 1n })],
        ["available decreases", (v) => ({ ...v, availableGpuSeconds: v.availableGpuSeconds - 1n })],
        ["energy decreases", (v) => ({ ...v, energyJ: v.energyJ - 1n })],
        ["busy grows more than available", (v) => plus(v, { busyGpuSeconds: 11n, availableGpuSeconds: 10n })],
        ["available exceeds gpuCount x dt", (v) => plus(v, { availableGpuSeconds: capacity + 1n })],
        ["energy exceeds gpuCount x TDP x dt x (1 + margin)", (v) => plus(v, { energyJ: maxEnergy + 1n })],
      ];
      for (const [what, make] of impossible) {
        it(`returns the Lower or Upper bound when ${what}`, async function () {
          const f = await loadFixture(twoBatchesFixture);
          const t3 = f.t2 + 600n;
          const bad = make(f.step1);
          await f.post(t3, [reading(BIG_ASSET.id, 2n, bad)]);
          const earlier = await f.proofOf(2n, BIG_ASSET.id);
          const later = await f.proofOf(3n, BIG_ASSET.id);
          for (const t of [f.t2 + 1n, f.t2 + 300n, t3 - 1n]) {
            expectMeterAt(
              await f.oracle.meterAt(BIG_ASSET.id, t, earlier, later, Bound.Lower),
              meterOf(t, f.step1),
              Source.UnusablePair,
              t3,
            );
            expectMeterAt(
              await f.oracle.meterAt(BIG_ASSET.id, t, earlier, later, Bound.Upper),
              meterOf(t, bad),
              Source.UnusablePair,
              t3,
            );
          }
          // The unusable reading itself is still exact at its own time.
          expectMeterAt(
            await f.oracle.meterAt(BIG_ASSET.id, t3, earlier, later, Bound.Lower),
            meterOf(t3, bad),
            Source.Exact,
            t3,
          );
        });
      }

      it("checks the pair against the NFT's spec now (a spec update can make a pair unusable)", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const earlier = await f.proofOf(1n, BIG_ASSET.id);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        expect((await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 300n, earlier, later, Bound.Lower)).source).to.equal(
          Source.Interpolated,
        );
        const spec = await f.nft.specOf(BIG_ASSET.id);
        // 4 GPUs x 600 s = 2400 < the 4000 available GPU-seconds the pair shows.
        await f.nft.connect(f.registrar).updateSpec(BIG_ASSET.id, {
          gpuModel: spec.gpuModel,
          datacenter: spec.datacenter,
          serialsHash: spec.serialsHash,
          vramMiBPerGpu: spec.vramMiBPerGpu,
          gpuCount: 4,
          tdpWattsPerGpu: spec.tdpWattsPerGpu,
        });
        expectMeterAt(
          await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 300n, earlier, later, Bound.Lower),
          meterOf(f.t1 + 300n, BASE),
          Source.UnusablePair,
          f.t2,
        );
      });

      it("checks the pair against the energy margin now (setEnergyMargin applies to old pairs)", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const t3 = f.t2 + 600n;
        // 4800 GPU-s x 700 W x 1.05: possible under a 10 % margin, not under 0.
        const next = plus(f.step1, { availableGpuSeconds: 4_800n, energyJ: 3_528_000n });
        await f.post(t3, [reading(BIG_ASSET.id, 2n, next)]);
        const args = [
          BIG_ASSET.id,
          f.t2 + 300n,
          await f.proofOf(2n, BIG_ASSET.id),
          await f.proofOf(3n, BIG_ASSET.id),
          Bound.Upper,
        ] as const;
        expect((await f.oracle.meterAt(...args)).source).to.equal(Source.Interpolated);
        await f.oracle.connect(f.oracleAdmin).setEnergyMargin(0n);
        expectMeterAt(await f.oracle.meterAt(...args), meterOf(f.t2 + 300n, next), Source.UnusablePair, t3);
      });
    });

    describe("when the proofs do not prove the meter", function () {
      it("reverts UnknownBatch for a later proof of an unknown batch, and for a missing earlier proof", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t2, ABSENT_PROOF, { ...later, batchIndex: 7n }, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "UnknownBatch")
          .withArgs(7n);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t2 - 1n, ABSENT_PROOF, later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "UnknownBatch")
          .withArgs(0n);
      });

      it("reverts InvalidReadingProof for a tampered later or earlier reading", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const earlier = await f.proofOf(1n, BIG_ASSET.id);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t2, ABSENT_PROOF, withTamperedReading(later), Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "InvalidReadingProof")
          .withArgs(2n);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t1 + 1n, withTamperedReading(earlier), later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "InvalidReadingProof")
          .withArgs(1n);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t1 + 1n, { ...earlier, path: [] }, later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "InvalidReadingProof")
          .withArgs(1n);
      });

      it("reverts ReadingOfOtherAsset when the later or the earlier reading is another asset's", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        await expect(f.oracle.meterAt(SMALL_ASSET.id, f.t2, ABSENT_PROOF, later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "ReadingOfOtherAsset")
          .withArgs(SMALL_ASSET.id, BIG_ASSET.id);
        // Batch 1 (the batch asset 1's later reading links to) also holds asset 2's reading.
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t1 + 1n, await f.proofOf(1n, SMALL_ASSET.id), later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "ReadingOfOtherAsset")
          .withArgs(BIG_ASSET.id, SMALL_ASSET.id);
      });

      it("reverts ReadingsNotAdjacent when the earlier reading is not the one the later links to", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const t3 = f.t2 + 600n;
        await f.post(t3, [reading(BIG_ASSET.id, 2n, plus(f.step1, { availableGpuSeconds: 10n }))]);
        const later = await f.proofOf(3n, BIG_ASSET.id);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t2 + 100n, await f.proofOf(1n, BIG_ASSET.id), later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "ReadingsNotAdjacent")
          .withArgs(2n, 1n);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t2 + 100n, later, later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "ReadingsNotAdjacent")
          .withArgs(2n, 3n);
      });

      it("reverts ReadingsNotAroundTime when the later reading is before the time", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const earlier = await f.proofOf(1n, BIG_ASSET.id);
        const later = await f.proofOf(2n, BIG_ASSET.id);
        await expect(f.oracle.meterAt(BIG_ASSET.id, f.t2 + 1n, earlier, later, Bound.Lower))
          .to.be.revertedWithCustomError(f.oracle, "ReadingsNotAroundTime")
          .withArgs(f.t2 + 1n, 0n, f.t2);
      });

      it("reverts ReadingsNotAroundTime when the later reading is not the first at or after the time", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const t3 = f.t2 + 600n;
        await f.post(t3, [reading(BIG_ASSET.id, 2n, plus(f.step1, { availableGpuSeconds: 10n }))]);
        const earlier = await f.proofOf(2n, BIG_ASSET.id);
        const later = await f.proofOf(3n, BIG_ASSET.id);
        for (const t of [f.t2, f.t2 - 1n, f.t1]) {
          await expect(f.oracle.meterAt(BIG_ASSET.id, t, earlier, later, Bound.Upper))
            .to.be.revertedWithCustomError(f.oracle, "ReadingsNotAroundTime")
            .withArgs(t, f.t2, t3);
        }
      });
    });

    describe("when the asset was burned", function () {
      for (const [what, at] of [
        ["an interpolated meter", (t1: bigint) => t1 + 300n],
        ["an exact meter", (_t1: bigint, t2: bigint) => t2],
        ["a first-reading meter", (t1: bigint) => t1 - 10n],
      ] as const) {
        it(`reverts with the NFT's ERC721NonexistentToken for ${what}`, async function () {
          const f = await loadFixture(twoBatchesFixture);
          const t = at(f.t1, f.t2);
          const earlier = await f.proofOf(1n, BURNABLE_ASSET.id);
          const later = t < f.t1 ? earlier : await f.proofOf(2n, BURNABLE_ASSET.id);
          await expect(f.oracle.meterAt(BURNABLE_ASSET.id, t, earlier, later, Bound.Lower)).not.to.be.reverted;
          await f.nft.connect(f.admin).burn(BURNABLE_ASSET.id);
          await expect(f.oracle.meterAt(BURNABLE_ASSET.id, t, earlier, later, Bound.Lower))
            .to.be.revertedWithCustomError(f.nft, "ERC721NonexistentToken")
            .withArgs(BURNABLE_ASSET.id);
        });
      }
    });

    describe("results", function () {
      it("come back intact: a reading used in several places keeps its own values and time", async function () {
        const f = await loadFixture(twoBatchesFixture);
        const t3 = f.t2 + 600n;
        const bad = { ...f.step1, busyGpuSeconds: f.step1.busyGpuSeconds - 1n };
        await f.post(t3, [reading(BIG_ASSET.id, 2n, bad)]);
        const p2 = await f.proofOf(2n, BIG_ASSET.id);
        const p3 = await f.proofOf(3n, BIG_ASSET.id);
        // Both bounds of the same unusable pair, in one meterWindow: the start from p3, the point from p2.
        const [atStart, atPoint] = await f.oracle.meterWindow(
          BIG_ASSET.id,
          f.t2 + 100n,
          f.t2 + 200n,
          { earlier: p2, later: p3 },
          { earlier: p2, later: p3 },
        );
        expect(asMeter(atStart.meter)).to.deep.equal(meterOf(f.t2 + 100n, bad));
        expect(asMeter(atPoint.meter)).to.deep.equal(meterOf(f.t2 + 200n, f.step1));
        // The same reading as a start (stamped the start time) and as an exact point (its own time).
        const [s, p] = await f.oracle.meterWindow(
          BIG_ASSET.id,
          f.t2 + 1n,
          t3,
          { earlier: p2, later: p3 },
          { earlier: ABSENT_PROOF, later: p3 },
        );
        expect(asMeter(s.meter)).to.deep.equal(meterOf(f.t2 + 1n, bad));
        expect(asMeter(p.meter)).to.deep.equal(meterOf(t3, bad));
        expect(p.source).to.equal(Source.Exact);
        // FirstReading stamps the requested time on a copy: verifyReading of the same proof is unchanged.
        const first = await f.proofOf(1n, BIG_ASSET.id);
        expect(
          asMeter((await f.oracle.meterAt(BIG_ASSET.id, 5n, ABSENT_PROOF, first, Bound.Lower)).meter),
        ).to.deep.equal(meterOf(5n, BASE));
        expect(asMeter((await f.oracle.verifyReading(first)).meter)).to.deep.equal(meterOf(f.t1, BASE));
      });
    });
  });

  describe("meterWindow", function () {
    it("returns zero for an absent start, the point's reading when at or before endLimit, and the asset's spec", async function () {
      const f = await loadFixture(twoBatchesFixture);
      const later = await f.proofOf(2n, BIG_ASSET.id);
      for (const endLimit of [f.t2, f.t2 + 1_000n]) {
        const [atStart, atPoint, gpuCount, tdp] = await f.oracle.meterWindow(
          BIG_ASSET.id,
          f.t1,
          endLimit,
          ABSENT_BOUNDARY,
          { earlier: ABSENT_PROOF, later },
        );
        expect(asMeter(atStart.meter)).to.deep.equal({
          timestamp: 0n,
          busyGpuSeconds: 0n,
          availableGpuSeconds: 0n,
          energyJ: 0n,
        });
        expect(atStart.source).to.equal(0n);
        expect(atStart.acceptedAt).to.equal(0n);
        expectMeterAt(atPoint, meterOf(f.t2, f.step1), Source.Exact, f.t2);
        expect([gpuCount, tdp]).to.deep.equal([BIG_ASSET.gpuCount, BIG_ASSET.tdpWatts]);
      }
    });

    it("returns the start meter as meterAt(startTime, Upper) and the point as meterAt(endLimit, Lower) past endLimit", async function () {
      const f = await loadFixture(twoBatchesFixture);
      const earlier = await f.proofOf(1n, BIG_ASSET.id);
      const later = await f.proofOf(2n, BIG_ASSET.id);
      const boundary = { earlier, later };
      const [atStart, atPoint] = await f.oracle.meterWindow(BIG_ASSET.id, f.t1 + 100n, f.t1 + 400n, boundary, boundary);
      expect(atStart).to.deep.equal(await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 100n, earlier, later, Bound.Upper));
      expect(atPoint).to.deep.equal(await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 400n, earlier, later, Bound.Lower));
      expectMeterAt(atPoint, between(f.t1, BASE, f.t2, f.step1, f.t1 + 400n), Source.Interpolated, f.t2);
    });

    it("counts nothing of an unusable pair: the start takes the later reading, the point the earlier", async function () {
      const f = await loadFixture(twoBatchesFixture);
      const t3 = f.t2 + 600n;
      const bad = plus(f.step1, { availableGpuSeconds: 4_801n });
      await f.post(t3, [reading(BIG_ASSET.id, 2n, bad)]);
      const pair = { earlier: await f.proofOf(2n, BIG_ASSET.id), later: await f.proofOf(3n, BIG_ASSET.id) };
      const [atStart, atPoint] = await f.oracle.meterWindow(BIG_ASSET.id, f.t2 + 10n, f.t2 + 20n, pair, pair);
      expectMeterAt(atStart, meterOf(f.t2 + 10n, bad), Source.UnusablePair, t3);
      expectMeterAt(atPoint, meterOf(f.t2 + 20n, f.step1), Source.UnusablePair, t3);
    });

    it("reverts ReadingOfOtherAsset for another asset's point, and as meterAt does for a bad start", async function () {
      const f = await loadFixture(twoBatchesFixture);
      const other = await f.proofOf(2n, BURNABLE_ASSET.id);
      const mine = { earlier: await f.proofOf(1n, BIG_ASSET.id), later: await f.proofOf(2n, BIG_ASSET.id) };
      await expect(
        f.oracle.meterWindow(BIG_ASSET.id, f.t1, f.t2, ABSENT_BOUNDARY, { earlier: ABSENT_PROOF, later: other }),
      )
        .to.be.revertedWithCustomError(f.oracle, "ReadingOfOtherAsset")
        .withArgs(BIG_ASSET.id, BURNABLE_ASSET.id);
      await expect(
        f.oracle.meterWindow(BIG_ASSET.id, f.t1 + 1n, f.t2, { earlier: ABSENT_PROOF, later: mine.later }, mine),
      )
        .to.be.revertedWithCustomError(f.oracle, "UnknownBatch")
        .withArgs(0n);
      await expect(f.oracle.meterWindow(BIG_ASSET.id, f.t1, f.t2, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.be.revertedWithCustomError(f.oracle, "UnknownBatch")
        .withArgs(0n);
      await expect(
        f.oracle.meterWindow(BIG_ASSET.id, f.t1, f.t2, ABSENT_BOUNDARY, {
          ...mine,
          later: withTamperedReading(mine.later),
        }),
      )
        .to.be.revertedWithCustomError(f.oracle, "InvalidReadingProof")
        .withArgs(2n);
      await expect(
        f.oracle.meterWindow(BIG_ASSET.id, f.t1, f.t2 + 1n, { earlier: ABSENT_PROOF, later: mine.later }, mine),
      )
        .to.be.revertedWithCustomError(f.oracle, "UnknownBatch")
        .withArgs(0n);
    });

    it("reverts with the NFT's ERC721NonexistentToken once the asset was burned", async function () {
      const f = await loadFixture(twoBatchesFixture);
      const later = await f.proofOf(2n, BURNABLE_ASSET.id);
      await f.nft.connect(f.admin).burn(BURNABLE_ASSET.id);
      await expect(
        f.oracle.meterWindow(BURNABLE_ASSET.id, f.t1, f.t2, ABSENT_BOUNDARY, { earlier: ABSENT_PROOF, later }),
      )
        .to.be.revertedWithCustomError(f.nft, "ERC721NonexistentToken")
        .withArgs(BURNABLE_ASSET.id);
    });
  });

  describe("readingsRoot and batchDigest", function () {
    it("equal src/eip712's readingsRoot and batchDigest (details in eip712.test.ts)", async function () {
      const f = await loadFixture(deployedFixture);
      const readings = [reading(1n, 0n, BASE), reading(2n, 0n), reading(9n, 0n)];
      expect(await f.oracle.readingsRoot(encodeReadings(readings))).to.equal(readingsRoot(readings));
      const batch = makeBatch(4n, 7n, 1_750_000_000n, readings);
      expect(await f.oracle.batchDigest(4n, 7n, 1_750_000_000n, readingsRoot(readings))).to.equal(
        batchDigest(f.domain, batch),
      );
    });

    it("readingsRoot reverts MalformedReadings and EmptyBatch", async function () {
      const f = await loadFixture(deployedFixture);
      await expect(f.oracle.readingsRoot("0x00"))
        .to.be.revertedWithCustomError(f.oracle, "MalformedReadings")
        .withArgs(1n);
      await expect(f.oracle.readingsRoot("0x")).to.be.revertedWithCustomError(f.oracle, "EmptyBatch");
    });
  });

  describe("setSigners", function () {
    it("replaces the set, bumps the version and emits SignerSetUpdated", async function () {
      const f = await loadFixture(deployedFixture);
      const next = [f.outsiders[0].address, f.signers[2].address];
      await expect(f.oracle.connect(f.oracleAdmin).setSigners(next, 1))
        .to.emit(f.oracle, "SignerSetUpdated")
        .withArgs(2n, next, 1n);
      expect(await f.oracle.configVersion()).to.equal(2n);
      expect(await f.oracle.signers()).to.deep.equal(next);
      expect(await f.oracle.threshold()).to.equal(1n);
      expect(await f.oracle.isSigner(f.signers[0].address)).to.equal(false);
      expect(await f.oracle.isSigner(f.outsiders[0].address)).to.equal(true);
    });

    it("accepts the same set with another threshold, and the same members in another order with another threshold", async function () {
      const f = await loadFixture(deployedFixture);
      const [a, b, c] = f.signers.map((s) => s.address);
      await expect(f.oracle.connect(f.oracleAdmin).setSigners([a, b, c], 3))
        .to.emit(f.oracle, "SignerSetUpdated")
        .withArgs(2n, [a, b, c], 3n);
      await expect(f.oracle.connect(f.oracleAdmin).setSigners([c, b, a], 1))
        .to.emit(f.oracle, "SignerSetUpdated")
        .withArgs(3n, [c, b, a], 1n);
      expect(await f.oracle.signers()).to.deep.equal([c, b, a]);
    });

    it("keeps batches accepted under the old set provable", async function () {
      const f = await loadFixture(twoBatchesFixture);
      await f.oracle.connect(f.oracleAdmin).setSigners([f.outsiders[0].address], 1);
      const p = await f.proofOf(2n, BIG_ASSET.id);
      expect(p.configVersion).to.equal(1n);
      expect((await f.oracle.verifyReading(p)).batchIndex).to.equal(2n);
      expect(
        (await f.oracle.meterAt(BIG_ASSET.id, f.t1 + 60n, await f.proofOf(1n, BIG_ASSET.id), p, Bound.Lower)).source,
      ).to.equal(Source.Interpolated);
    });

    it("rejects zero, duplicate, k = 0, k > n, too many and an unchanged set, leaving the configuration", async function () {
      const f = await loadFixture(deployedFixture);
      const [a, b, c] = f.signers.map((s) => s.address);
      const o = f.oracle.connect(f.oracleAdmin);
      await expect(o.setSigners([a, ethers.ZeroAddress], 1))
        .to.be.revertedWithCustomError(f.oracle, "InvalidSigner")
        .withArgs(ethers.ZeroAddress);
      await expect(o.setSigners([a, b, a], 1))
        .to.be.revertedWithCustomError(f.oracle, "DuplicateSignerInSet")
        .withArgs(a);
      // Same size as the current set, every member current: the duplicate is still what is reported.
      await expect(o.setSigners([a, a, b], 2))
        .to.be.revertedWithCustomError(f.oracle, "DuplicateSignerInSet")
        .withArgs(a);
      await expect(o.setSigners([a, b], 0))
        .to.be.revertedWithCustomError(f.oracle, "InvalidThreshold")
        .withArgs(0n, 2n);
      await expect(o.setSigners([a, b], 3))
        .to.be.revertedWithCustomError(f.oracle, "InvalidThreshold")
        .withArgs(3n, 2n);
      await expect(o.setSigners([], 1)).to.be.revertedWithCustomError(f.oracle, "InvalidThreshold").withArgs(1n, 0n);
      const many = Array.from({ length: 33 }, (_, i) => ethers.getAddress(ethers.toBeHex(i + 1, 20)));
      await expect(o.setSigners(many, 1)).to.be.revertedWithCustomError(f.oracle, "TooManySigners").withArgs(33n, 32n);
      await expect(o.setSigners([c, a, b], 2)).to.be.revertedWithCustomError(f.oracle, "SignerSetUnchanged");
      expect(await f.oracle.configVersion()).to.equal(1n);
      expect(await f.oracle.signers()).to.deep.equal([a, b, c]);
      expect(await f.oracle.threshold()).to.equal(2n);
      for (const s of [a, b, c]) expect(await f.oracle.isSigner(s)).to.equal(true);
    });

    it("is restricted to the oracle-admin role", async function () {
      const f = await loadFixture(deployedFixture);
      for (const who of [f.stranger, f.pauser]) {
        await expect(f.oracle.connect(who).setSigners([f.signers[0].address], 1))
          .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, await f.oracle.ORACLE_ADMIN_ROLE());
      }
    });
  });

  describe("setMaxFutureSkew", function () {
    it("sets the skew and emits MaxFutureSkewUpdated, up to MAX_FUTURE_SKEW_SECONDS", async function () {
      const f = await loadFixture(deployedFixture);
      await expect(f.oracle.connect(f.oracleAdmin).setMaxFutureSkew(60n))
        .to.emit(f.oracle, "MaxFutureSkewUpdated")
        .withArgs(SKEW_SECONDS, 60n);
      await expect(f.oracle.connect(f.oracleAdmin).setMaxFutureSkew(3_600n))
        .to.emit(f.oracle, "MaxFutureSkewUpdated")
        .withArgs(60n, 3_600n);
      expect(await f.oracle.maxFutureSkewSeconds()).to.equal(3_600n);
    });

    it("rejects too large, unchanged and unauthorized calls", async function () {
      const f = await loadFixture(deployedFixture);
      await expect(f.oracle.connect(f.oracleAdmin).setMaxFutureSkew(3_601n))
        .to.be.revertedWithCustomError(f.oracle, "FutureSkewTooLarge")
        .withArgs(3_601n, 3_600n);
      await expect(f.oracle.connect(f.oracleAdmin).setMaxFutureSkew(SKEW_SECONDS))
        .to.be.revertedWithCustomError(f.oracle, "FutureSkewUnchanged")
        .withArgs(SKEW_SECONDS);
      for (const who of [f.stranger, f.pauser]) {
        await expect(f.oracle.connect(who).setMaxFutureSkew(1n))
          .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, await f.oracle.ORACLE_ADMIN_ROLE());
      }
      expect(await f.oracle.maxFutureSkewSeconds()).to.equal(SKEW_SECONDS);
    });
  });

  describe("setEnergyMargin", function () {
    it("sets the margin and emits EnergyMarginUpdated, up to MAX_ENERGY_MARGIN_BPS", async function () {
      const f = await loadFixture(deployedFixture);
      await expect(f.oracle.connect(f.oracleAdmin).setEnergyMargin(0n))
        .to.emit(f.oracle, "EnergyMarginUpdated")
        .withArgs(MARGIN_BPS, 0n);
      await expect(f.oracle.connect(f.oracleAdmin).setEnergyMargin(5_000n))
        .to.emit(f.oracle, "EnergyMarginUpdated")
        .withArgs(0n, 5_000n);
      expect(await f.oracle.energyMarginBps()).to.equal(5_000n);
    });

    it("rejects too large, unchanged and unauthorized calls", async function () {
      const f = await loadFixture(deployedFixture);
      await expect(f.oracle.connect(f.oracleAdmin).setEnergyMargin(5_001n))
        .to.be.revertedWithCustomError(f.oracle, "EnergyMarginTooLarge")
        .withArgs(5_001n, 5_000n);
      await expect(f.oracle.connect(f.oracleAdmin).setEnergyMargin(MARGIN_BPS))
        .to.be.revertedWithCustomError(f.oracle, "EnergyMarginUnchanged")
        .withArgs(MARGIN_BPS);
      for (const who of [f.stranger, f.pauser]) {
        await expect(f.oracle.connect(who).setEnergyMargin(1n))
          .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, await f.oracle.ORACLE_ADMIN_ROLE());
      }
      expect(await f.oracle.energyMarginBps()).to.equal(MARGIN_BPS);
    });
  });

  describe("pause / unpause", function () {
    it("toggle paused and emit Paused / Unpaused", async function () {
      const f = await loadFixture(deployedFixture);
      await expect(f.oracle.connect(f.pauser).pause()).to.emit(f.oracle, "Paused").withArgs(f.pauser.address);
      expect(await f.oracle.paused()).to.equal(true);
      await expect(f.oracle.connect(f.pauser).pause()).to.be.revertedWithCustomError(f.oracle, "EnforcedPause");
      await expect(f.oracle.connect(f.pauser).unpause()).to.emit(f.oracle, "Unpaused").withArgs(f.pauser.address);
      await expect(f.oracle.connect(f.pauser).unpause()).to.be.revertedWithCustomError(f.oracle, "ExpectedPause");
    });

    it("are restricted to the pauser role", async function () {
      const f = await loadFixture(deployedFixture);
      const role = await f.oracle.PAUSER_ROLE();
      for (const who of [f.stranger, f.oracleAdmin]) {
        await expect(f.oracle.connect(who).pause())
          .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, role);
      }
      await f.oracle.connect(f.pauser).pause();
      await expect(f.oracle.connect(f.stranger).unpause())
        .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, role);
    });
  });

  describe("roles", function () {
    it("are granted and revoked by the default admin only", async function () {
      const f = await loadFixture(deployedFixture);
      const role = await f.oracle.ORACLE_ADMIN_ROLE();
      await expect(f.oracle.connect(f.oracleAdmin).grantRole(role, f.stranger.address))
        .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
        .withArgs(f.oracleAdmin.address, await f.oracle.DEFAULT_ADMIN_ROLE());
      await f.oracle.connect(f.admin).revokeRole(role, f.oracleAdmin.address);
      await expect(f.oracle.connect(f.oracleAdmin).setMaxFutureSkew(1n))
        .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
        .withArgs(f.oracleAdmin.address, role);
    });
  });

  describe("property 5 of issue 13: isolation", function () {
    const invalid: [string, (v: Values) => Values][] = [
      [
        "counters decreased",
        (v) => ({
          busyGpuSeconds: v.busyGpuSeconds - 1n,
          availableGpuSeconds: v.availableGpuSeconds - 1n,
          energyJ: v.energyJ - 1n,
        }),
      ],
      ["busy > available", (v) => plus(v, { busyGpuSeconds: 400n, availableGpuSeconds: 300n })],
      // Asset 2's pair spans batch 1 to batch 3, 1200 s: at most 1 x 300 W x 1200 s x 1.1 = 396,000 J.
      ["energy above the TDP bound", (v) => plus(v, { availableGpuSeconds: 600n, energyJ: 396_001n })],
    ];
    for (const [what, make] of invalid) {
      it(`a batch with one invalid reading (${what}) is accepted and every other reading of it stays usable`, async function () {
        const f = await loadFixture(twoBatchesFixture);
        // Batch 3: assets 1 and 3 possible, asset 2 (1 x 300 W, last read in batch 1 at t1) impossible.
        const t3 = f.t2 + 600n;
        const good1 = plus(f.step1, { busyGpuSeconds: 2_400n, availableGpuSeconds: 4_800n, energyJ: 1_680_000n });
        const good3 = plus(f.step3, { busyGpuSeconds: 600n, availableGpuSeconds: 2_400n, energyJ: 240_000n });
        const bad2 = make(BASE);
        const { tx } = await f.post(t3, [
          reading(BIG_ASSET.id, 2n, good1),
          reading(SMALL_ASSET.id, 1n, bad2),
          reading(BURNABLE_ASSET.id, 2n, good3),
        ]);
        await expect(tx)
          .to.emit(f.oracle, "BatchAccepted")
          .withArgs(
            3n,
            1n,
            t3,
            readingsRoot([reading(1n, 2n, good1), reading(2n, 1n, bad2), reading(3n, 2n, good3)]),
            3n,
          );

        const mid = f.t2 + 250n;
        for (const [id, before, after] of [
          [BIG_ASSET.id, f.step1, good1],
          [BURNABLE_ASSET.id, f.step3, good3],
        ] as const) {
          const earlier = await f.proofOf(2n, id);
          const later = await f.proofOf(3n, id);
          expectMeterAt(
            await f.oracle.meterAt(id, mid, earlier, later, Bound.Lower),
            between(f.t2, before, t3, after, mid),
            Source.Interpolated,
            t3,
          );
          const [atStart, atPoint] = await f.oracle.meterWindow(
            id,
            mid,
            t3,
            { earlier, later },
            { earlier: ABSENT_PROOF, later },
          );
          expectMeterAt(atStart, between(f.t2, before, t3, after, mid), Source.Interpolated, t3);
          expectMeterAt(atPoint, meterOf(t3, after), Source.Exact, t3);
        }

        // The invalid pair is reported, with either bound, and the invalid reading blocks nothing later.
        const b1 = await f.proofOf(1n, SMALL_ASSET.id);
        const b3 = await f.proofOf(3n, SMALL_ASSET.id);
        expectMeterAt(
          await f.oracle.meterAt(SMALL_ASSET.id, mid, b1, b3, Bound.Lower),
          meterOf(mid, BASE),
          Source.UnusablePair,
          t3,
        );
        expectMeterAt(
          await f.oracle.meterAt(SMALL_ASSET.id, mid, b1, b3, Bound.Upper),
          meterOf(mid, bad2),
          Source.UnusablePair,
          t3,
        );
        const t4 = t3 + 60n;
        const next2 = plus(bad2, { busyGpuSeconds: 30n, availableGpuSeconds: 60n, energyJ: 9_000n });
        await f.post(t4, [reading(SMALL_ASSET.id, 3n, next2)]);
        expectMeterAt(
          await f.oracle.meterAt(SMALL_ASSET.id, t3 + 20n, b3, await f.proofOf(4n, SMALL_ASSET.id), Bound.Lower),
          between(t3, bad2, t4, next2, t3 + 20n),
          Source.Interpolated,
          t4,
        );
      });
    }
  });
});
