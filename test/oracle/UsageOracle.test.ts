import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { UsageOracle__factory } from "../../typechain-types";
import { batchDigest, makeBatch, oracleDomain, packMeter, signBatch, type Reading } from "../../src/eip712";
import { maxEnergyDeltaJ } from "../../src/units";
import {
  BIG_ASSET,
  Field,
  MARGIN_BPS,
  RETIRED_ASSET_ID,
  SKEW_SECONDS,
  SMALL_ASSET,
  Status,
  UNKNOWN_ASSET_ID,
  baselinedFixture,
  deployedFixture,
  oneOfOneFixture,
  reading,
  threeOfThreeFixture,
} from "./fixtures";

const GAS = { gasLimit: 10_000_000 }; // skip estimateGas so a revert is mined at a known timestamp

function meterTuple(r: Reading): bigint[] {
  return [r.timestamp, r.busyGpuSeconds, r.availableGpuSeconds, r.energyJ];
}

async function meterOf(oracle: Awaited<ReturnType<typeof deployedFixture>>["oracle"], assetId: bigint) {
  const m = await oracle.latestReading(assetId);
  return [m.timestamp, m.busyGpuSeconds, m.availableGpuSeconds, m.energyJ];
}

describe("UsageOracle", function () {
  describe("constructor", function () {
    it("installs the signer set as version 1 with every setting and grants the admin all roles", async function () {
      const { oracle, nft, admin, signers } = await loadFixture(deployedFixture);
      expect(await oracle.configVersion()).to.equal(1n);
      expect(await oracle.signers()).to.deep.equal(signers.map((s) => s.address));
      expect(await oracle.threshold()).to.equal(2n);
      expect(await oracle.maxFutureSkewSeconds()).to.equal(SKEW_SECONDS);
      expect(await oracle.energyMarginBps()).to.equal(MARGIN_BPS);
      expect(await oracle.nft()).to.equal(await nft.getAddress());
      for (const role of [
        await oracle.DEFAULT_ADMIN_ROLE(),
        await oracle.ORACLE_ADMIN_ROLE(),
        await oracle.PAUSER_ROLE(),
      ]) {
        expect(await oracle.hasRole(role, admin.address)).to.equal(true);
      }
      for (const s of signers) expect(await oracle.isSigner(s.address)).to.equal(true);
    });

    it("emits the initial settings", async function () {
      const { nft, admin, signers } = await loadFixture(deployedFixture);
      const factory = new UsageOracle__factory(admin);
      const oracle = await factory.deploy(admin.address, await nft.getAddress(), [signers[0].address], 1, 60, 500);
      const tx = oracle.deploymentTransaction()!;
      await expect(tx).to.emit(oracle, "SignerSetUpdated").withArgs(1n, [signers[0].address], 1n);
      await expect(tx).to.emit(oracle, "MaxFutureSkewUpdated").withArgs(0n, 60n);
      await expect(tx).to.emit(oracle, "EnergyMarginUpdated").withArgs(0n, 500n);
    });

    it("rejects a zero admin, a zero NFT, a bad signer set and out-of-range settings", async function () {
      const { nft, admin, signers } = await loadFixture(deployedFixture);
      const factory = new UsageOracle__factory(admin);
      const nftAddress = await nft.getAddress();
      const a = signers[0].address;
      const b = signers[1].address;
      await expect(factory.deploy(ethers.ZeroAddress, nftAddress, [a], 1, 60, 0))
        .to.be.revertedWithCustomError(factory, "InvalidAdmin")
        .withArgs(ethers.ZeroAddress);
      await expect(factory.deploy(admin.address, ethers.ZeroAddress, [a], 1, 60, 0))
        .to.be.revertedWithCustomError(factory, "InvalidNft")
        .withArgs(ethers.ZeroAddress);
      await expect(factory.deploy(admin.address, nftAddress, [a, b], 0, 60, 0))
        .to.be.revertedWithCustomError(factory, "InvalidThreshold")
        .withArgs(0n, 2n);
      await expect(factory.deploy(admin.address, nftAddress, [a, b], 3, 60, 0))
        .to.be.revertedWithCustomError(factory, "InvalidThreshold")
        .withArgs(3n, 2n);
      await expect(factory.deploy(admin.address, nftAddress, [], 1, 60, 0))
        .to.be.revertedWithCustomError(factory, "InvalidThreshold")
        .withArgs(1n, 0n);
      await expect(factory.deploy(admin.address, nftAddress, [a, ethers.ZeroAddress], 1, 60, 0))
        .to.be.revertedWithCustomError(factory, "InvalidSigner")
        .withArgs(ethers.ZeroAddress);
      await expect(factory.deploy(admin.address, nftAddress, [a, b, a], 1, 60, 0))
        .to.be.revertedWithCustomError(factory, "DuplicateSignerInSet")
        .withArgs(a);
      await expect(factory.deploy(admin.address, nftAddress, [a], 1, 3_601, 0))
        .to.be.revertedWithCustomError(factory, "FutureSkewTooLarge")
        .withArgs(3_601n, 3_600n);
      await expect(factory.deploy(admin.address, nftAddress, [a], 1, 60, 5_001))
        .to.be.revertedWithCustomError(factory, "EnergyMarginTooLarge")
        .withArgs(5_001n, 5_000n);
      const many = Array.from({ length: 33 }, (_, i) => ethers.getAddress(ethers.toBeHex(i + 1, 20)));
      await expect(factory.deploy(admin.address, nftAddress, many, 1, 60, 0))
        .to.be.revertedWithCustomError(factory, "TooManySigners")
        .withArgs(33n, 32n);
    });
  });

  describe("submit", function () {
    describe("when the signatures are valid", function () {
      it("stores first readings as baselines and emits one UsageReported listing every meter", async function () {
        const { oracle, domain, transmitter, signed } = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest());
        const r1 = reading(BIG_ASSET.id, t - 10n, { busyGpuSeconds: 5n, availableGpuSeconds: 7n, energyJ: 11n });
        const r2 = reading(SMALL_ASSET.id, t - 20n, { busyGpuSeconds: 1n, availableGpuSeconds: 2n, energyJ: 3n });
        const { batch, signatures } = await signed([r2, r1]);
        expect(await oracle.connect(transmitter).submit.staticCall(1n, batch.readings, signatures)).to.equal(2n);
        await expect(oracle.connect(transmitter).submit(1n, batch.readings, signatures))
          .to.emit(oracle, "UsageReported")
          .withArgs(batchDigest(domain, batch), 1n, [r1.assetId, packMeter(r1), r2.assetId, packMeter(r2)]);
        expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal(meterTuple(r1));
        expect(await meterOf(oracle, SMALL_ASSET.id)).to.deep.equal(meterTuple(r2));
      });

      it("accepts a batch from any transmitter", async function () {
        const { oracle, stranger, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r]);
        await expect(oracle.connect(stranger).submit(1n, batch.readings, signatures)).to.emit(oracle, "UsageReported");
      });

      it("accepts signatures in any order and more than the threshold", async function () {
        const { oracle, signers, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r], [signers[2], signers[0], signers[1]]);
        await expect(oracle.submit(1n, batch.readings, signatures)).to.emit(oracle, "UsageReported");
      });

      it("accepts deltas exactly at the physical bounds", async function () {
        const { oracle, submit, t0, values } = await loadFixture(baselinedFixture);
        const dt = 600n;
        const capacity = BIG_ASSET.gpuCount * dt;
        const next = reading(BIG_ASSET.id, t0 + dt, {
          busyGpuSeconds: values.busyGpuSeconds + capacity,
          availableGpuSeconds: values.availableGpuSeconds + capacity,
          energyJ: values.energyJ + maxEnergyDeltaJ(BIG_ASSET.gpuCount, BIG_ASSET.tdpWatts, dt, MARGIN_BPS),
        });
        await expect(submit([next])).to.emit(oracle, "UsageReported");
        expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal(meterTuple(next));
      });

      it("accepts readings of an asset in maintenance", async function () {
        const { oracle, nft, registrar, submit } = await loadFixture(deployedFixture);
        await nft.connect(registrar).setStatus(BIG_ASSET.id, Status.Maintenance);
        await expect(submit([reading(BIG_ASSET.id, BigInt(await time.latest()))])).to.emit(oracle, "UsageReported");
      });

      it("accepts a 1-of-1 batch", async function () {
        const { oracle, submit } = await loadFixture(oneOfOneFixture);
        await expect(submit([reading(BIG_ASSET.id, BigInt(await time.latest()))])).to.emit(oracle, "UsageReported");
      });

      it("accepts a 3-of-3 batch and refuses it with two signatures", async function () {
        const { oracle, signers, signed } = await loadFixture(threeOfThreeFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r], signers);
        await expect(oracle.submit(1n, batch.readings, signatures.slice(0, 2)))
          .to.be.revertedWithCustomError(oracle, "NotEnoughSignatures")
          .withArgs(2n, 3n);
        await expect(oracle.submit(1n, batch.readings, signatures)).to.emit(oracle, "UsageReported");
      });
    });

    describe("when readings are already known", function () {
      it("reverts BatchAlreadyAccepted for the same batch twice and changes nothing", async function () {
        const { oracle, transmitter, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()), { energyJ: 5n });
        const { batch, signatures } = await signed([r]);
        await oracle.connect(transmitter).submit(1n, batch.readings, signatures);
        await expect(oracle.connect(transmitter).submit(1n, batch.readings, signatures)).to.be.revertedWithCustomError(
          oracle,
          "BatchAlreadyAccepted",
        );
        expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal(meterTuple(r));
      });

      it("skips a reading not newer than the latest, emits ReadingSkipped and accepts the rest", async function () {
        const { oracle, domain, signed, t0, values } = await loadFixture(baselinedFixture);
        const stale = reading(BIG_ASSET.id, t0, values);
        const fresh = reading(SMALL_ASSET.id, t0 + 60n, {
          ...values,
          availableGpuSeconds: values.availableGpuSeconds + 60n,
        });
        const { batch, signatures } = await signed([stale, fresh]);
        expect(await oracle.submit.staticCall(1n, batch.readings, signatures)).to.equal(1n);
        const tx = oracle.submit(1n, batch.readings, signatures);
        await expect(tx).to.emit(oracle, "ReadingSkipped").withArgs(BIG_ASSET.id, t0, t0);
        await expect(tx)
          .to.emit(oracle, "UsageReported")
          .withArgs(batchDigest(domain, batch), 1n, [fresh.assetId, packMeter(fresh)]);
        expect(await meterOf(oracle, SMALL_ASSET.id)).to.deep.equal(meterTuple(fresh));
      });

      it("skips an older reading even with other counters", async function () {
        const { oracle, submit, t0, values } = await loadFixture(baselinedFixture);
        await expect(submit([reading(BIG_ASSET.id, t0 - 1n, { energyJ: 1n })])).to.be.revertedWithCustomError(
          oracle,
          "BatchAlreadyAccepted",
        );
        expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal([
          t0,
          values.busyGpuSeconds,
          values.availableGpuSeconds,
          values.energyJ,
        ]);
      });

      it("skips a reading with timestamp 0 of a never-reported asset", async function () {
        const { oracle, submit } = await loadFixture(deployedFixture);
        await expect(submit([reading(BIG_ASSET.id, 0n)])).to.be.revertedWithCustomError(oracle, "BatchAlreadyAccepted");
      });
    });

    describe("when the signatures are not a quorum of current signers", function () {
      it("reverts UnknownSigner for a signature made for another chain id", async function () {
        const { oracle, signers, chainId } = await loadFixture(deployedFixture);
        const batch = makeBatch(1n, [reading(BIG_ASSET.id, BigInt(await time.latest()))]);
        const otherDomain = oracleDomain(chainId + 1n, await oracle.getAddress());
        const signatures = await Promise.all(signers.slice(0, 2).map((s) => signBatch(s, otherDomain, batch)));
        const recovered = ethers.recoverAddress(await oracle.batchDigest(1n, batch.readings), signatures[0]);
        await expect(oracle.submit(1n, batch.readings, signatures))
          .to.be.revertedWithCustomError(oracle, "UnknownSigner")
          .withArgs(recovered);
      });

      it("reverts UnknownSigner for a signature made for another deployment", async function () {
        const { oracle, nft, admin, signers, chainId } = await loadFixture(deployedFixture);
        const twin = await new UsageOracle__factory(admin).deploy(
          admin.address,
          await nft.getAddress(),
          signers.map((s) => s.address),
          2,
          SKEW_SECONDS,
          MARGIN_BPS,
        );
        const batch = makeBatch(1n, [reading(BIG_ASSET.id, BigInt(await time.latest()))]);
        const twinDomain = oracleDomain(chainId, await twin.getAddress());
        const signatures = await Promise.all(signers.slice(0, 2).map((s) => signBatch(s, twinDomain, batch)));
        await expect(twin.submit(1n, batch.readings, signatures)).to.emit(twin, "UsageReported");
        const recovered = ethers.recoverAddress(await oracle.batchDigest(1n, batch.readings), signatures[0]);
        await expect(oracle.submit(1n, batch.readings, signatures))
          .to.be.revertedWithCustomError(oracle, "UnknownSigner")
          .withArgs(recovered);
      });

      it("reverts DuplicateSigner when one signer's signature is repeated to reach k, in any order", async function () {
        const { oracle, signers, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r], [signers[0], signers[1]]);
        await expect(oracle.submit(1n, batch.readings, [signatures[0], signatures[0]]))
          .to.be.revertedWithCustomError(oracle, "DuplicateSigner")
          .withArgs(signers[0].address);
        await expect(oracle.submit(1n, batch.readings, [signatures[1], signatures[0], signatures[1]]))
          .to.be.revertedWithCustomError(oracle, "DuplicateSigner")
          .withArgs(signers[1].address);
      });

      it("reverts UnknownSigner for threshold - 1 valid signatures plus a stranger's", async function () {
        const { oracle, signers, outsiders, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r], [signers[0], outsiders[0]]);
        await expect(oracle.submit(1n, batch.readings, signatures))
          .to.be.revertedWithCustomError(oracle, "UnknownSigner")
          .withArgs(outsiders[0].address);
        expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal([0n, 0n, 0n, 0n]);
      });

      it("reverts NotEnoughSignatures below the threshold and TooManySignatures above the signer count", async function () {
        const { oracle, signers, outsiders, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r], [...signers, outsiders[0]]);
        await expect(oracle.submit(1n, batch.readings, signatures.slice(0, 1)))
          .to.be.revertedWithCustomError(oracle, "NotEnoughSignatures")
          .withArgs(1n, 2n);
        await expect(oracle.submit(1n, batch.readings, signatures))
          .to.be.revertedWithCustomError(oracle, "TooManySignatures")
          .withArgs(4n, 3n);
      });

      it("reverts StaleConfigVersion for a batch signed under the previous configuration", async function () {
        const { oracle, oracleAdmin, signers, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r]);
        await oracle.connect(oracleAdmin).setSigners(
          signers.map((s) => s.address),
          1,
        );
        await expect(oracle.submit(1n, batch.readings, signatures))
          .to.be.revertedWithCustomError(oracle, "StaleConfigVersion")
          .withArgs(1n, 2n);
      });

      it("reverts UnknownSigner for a removed signer under the new version", async function () {
        const { oracle, oracleAdmin, signers, signed } = await loadFixture(deployedFixture);
        await oracle.connect(oracleAdmin).setSigners([signers[1].address, signers[2].address], 2);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r], [signers[0], signers[1]]);
        expect(batch.configVersion).to.equal(2n);
        await expect(oracle.submit(2n, batch.readings, signatures))
          .to.be.revertedWithCustomError(oracle, "UnknownSigner")
          .withArgs(signers[0].address);
      });

      it("rejects a malleable (high-s) signature and a malformed one with OpenZeppelin's ECDSA errors", async function () {
        const { oracle, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        const { batch, signatures } = await signed([r]);
        const sig = ethers.Signature.from(signatures[0]);
        const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
        const highS = ethers.toBeHex(n - BigInt(sig.s), 32);
        const malleable = ethers.concat([sig.r, highS, ethers.toBeHex(sig.v === 27 ? 28 : 27, 1)]);
        await expect(oracle.submit(1n, batch.readings, [malleable, signatures[1]]))
          .to.be.revertedWithCustomError(oracle, "ECDSAInvalidSignatureS")
          .withArgs(highS);
        await expect(oracle.submit(1n, batch.readings, [ethers.dataSlice(signatures[0], 0, 64), signatures[1]]))
          .to.be.revertedWithCustomError(oracle, "ECDSAInvalidSignatureLength")
          .withArgs(64n);
      });

      it("reverts when the readings differ from what was signed", async function () {
        const { oracle, signed } = await loadFixture(deployedFixture);
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()), { energyJ: 10n });
        const { batch, signatures } = await signed([r]);
        const tampered = [{ ...r, energyJ: 11n }];
        const recovered = ethers.recoverAddress(await oracle.batchDigest(1n, tampered), signatures[0]);
        await expect(oracle.submit(1n, tampered, signatures))
          .to.be.revertedWithCustomError(oracle, "UnknownSigner")
          .withArgs(recovered);
      });
    });

    describe("when a reading is invalid", function () {
      it("reverts ReadingInFuture beyond the skew, and accepts exactly at it", async function () {
        const { oracle, submit, signed } = await loadFixture(deployedFixture);
        const next = BigInt(await time.latest()) + 100n;
        const tooLate = reading(BIG_ASSET.id, next + SKEW_SECONDS + 1n);
        const { batch, signatures } = await signed([tooLate]);
        await time.setNextBlockTimestamp(next);
        await expect(oracle.submit(1n, batch.readings, signatures, GAS))
          .to.be.revertedWithCustomError(oracle, "ReadingInFuture")
          .withArgs(BIG_ASSET.id, next + SKEW_SECONDS + 1n, next + SKEW_SECONDS);
        const edge = BigInt(await time.latest()) + 100n;
        await time.setNextBlockTimestamp(edge);
        await expect(submit([reading(BIG_ASSET.id, edge + SKEW_SECONDS)])).to.emit(oracle, "UsageReported");
      });

      for (const [field, key] of [
        [Field.BusyGpuSeconds, "busyGpuSeconds"],
        [Field.AvailableGpuSeconds, "availableGpuSeconds"],
        [Field.EnergyJ, "energyJ"],
      ] as const) {
        it(`reverts MeterDecreased when ${key} decreases, leaving the meter unchanged`, async function () {
          const { oracle, submit, t0, values } = await loadFixture(baselinedFixture);
          const next = reading(BIG_ASSET.id, t0 + 60n, { ...values, [key]: values[key] - 1n });
          await expect(submit([next]))
            .to.be.revertedWithCustomError(oracle, "MeterDecreased")
            .withArgs(BIG_ASSET.id, field, values[key], values[key] - 1n);
          expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal([
            t0,
            values.busyGpuSeconds,
            values.availableGpuSeconds,
            values.energyJ,
          ]);
        });
      }

      it("reverts BusyExceedsAvailable when busy grows more than available", async function () {
        const { oracle, submit, t0, values } = await loadFixture(baselinedFixture);
        const next = reading(BIG_ASSET.id, t0 + 60n, {
          busyGpuSeconds: values.busyGpuSeconds + 11n,
          availableGpuSeconds: values.availableGpuSeconds + 10n,
          energyJ: values.energyJ,
        });
        await expect(submit([next]))
          .to.be.revertedWithCustomError(oracle, "BusyExceedsAvailable")
          .withArgs(BIG_ASSET.id, 11n, 10n);
      });

      it("reverts AvailableExceedsCapacity above gpuCount x elapsed seconds", async function () {
        const { oracle, submit, t0, values } = await loadFixture(baselinedFixture);
        const next = reading(SMALL_ASSET.id, t0 + 60n, {
          ...values,
          availableGpuSeconds: values.availableGpuSeconds + 61n,
        });
        await expect(submit([next]))
          .to.be.revertedWithCustomError(oracle, "AvailableExceedsCapacity")
          .withArgs(SMALL_ASSET.id, 61n, 60n);
      });

      it("reverts EnergyExceedsLimit above gpuCount x TDP x elapsed x (1 + margin)", async function () {
        const { oracle, submit, t0, values } = await loadFixture(baselinedFixture);
        const limit = maxEnergyDeltaJ(SMALL_ASSET.gpuCount, SMALL_ASSET.tdpWatts, 60n, MARGIN_BPS);
        expect(limit).to.equal(19_800n);
        const next = reading(SMALL_ASSET.id, t0 + 60n, { ...values, energyJ: values.energyJ + limit + 1n });
        await expect(submit([next]))
          .to.be.revertedWithCustomError(oracle, "EnergyExceedsLimit")
          .withArgs(SMALL_ASSET.id, limit + 1n, limit);
      });

      it("reverts with the NFT's ERC721NonexistentToken for an unknown asset", async function () {
        const { oracle, nft, submit } = await loadFixture(deployedFixture);
        await expect(submit([reading(UNKNOWN_ASSET_ID, BigInt(await time.latest()))]))
          .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
          .withArgs(UNKNOWN_ASSET_ID);
        expect(await meterOf(oracle, UNKNOWN_ASSET_ID)).to.deep.equal([0n, 0n, 0n, 0n]);
      });

      it("reverts AssetRetired for a retired asset", async function () {
        const { oracle, submit } = await loadFixture(deployedFixture);
        await expect(submit([reading(RETIRED_ASSET_ID, BigInt(await time.latest()))]))
          .to.be.revertedWithCustomError(oracle, "AssetRetired")
          .withArgs(RETIRED_ASSET_ID);
      });

      it("reverts the whole batch when one reading is invalid", async function () {
        const { oracle, submit } = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest());
        await expect(submit([reading(BIG_ASSET.id, t), reading(RETIRED_ASSET_ID, t)]))
          .to.be.revertedWithCustomError(oracle, "AssetRetired")
          .withArgs(RETIRED_ASSET_ID);
        expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal([0n, 0n, 0n, 0n]);
      });
    });

    describe("when the batch is malformed", function () {
      it("reverts EmptyBatch without readings", async function () {
        const { oracle } = await loadFixture(deployedFixture);
        await expect(oracle.submit(1n, [], [])).to.be.revertedWithCustomError(oracle, "EmptyBatch");
      });

      it("reverts BatchTooLarge above MAX_READINGS", async function () {
        const { oracle } = await loadFixture(deployedFixture);
        const readings = Array.from({ length: 501 }, (_, i) => reading(BigInt(i + 1), 1n));
        await expect(oracle.submit(1n, readings, []))
          .to.be.revertedWithCustomError(oracle, "BatchTooLarge")
          .withArgs(501n, 500n);
      });

      it("reverts AssetIdsNotAscending for unsorted or repeated asset ids", async function () {
        const { oracle, signers } = await loadFixture(deployedFixture);
        const t = BigInt(await time.latest());
        for (const readings of [
          [reading(SMALL_ASSET.id, t), reading(BIG_ASSET.id, t)],
          [reading(BIG_ASSET.id, t), reading(BIG_ASSET.id, t + 1n)],
        ]) {
          // Signed as given (makeBatch would sort or refuse): the contract must refuse on its own.
          const digest = await oracle.batchDigest(1n, readings);
          const signatures = signers.slice(0, 2).map((s) => s.signingKey.sign(digest).serialized);
          await expect(oracle.submit(1n, readings, signatures))
            .to.be.revertedWithCustomError(oracle, "AssetIdsNotAscending")
            .withArgs(1n, readings[1].assetId, readings[0].assetId);
        }
      });
    });

    describe("when paused", function () {
      it("reverts EnforcedPause and works again after unpause", async function () {
        const { oracle, pauser, submit } = await loadFixture(deployedFixture);
        await oracle.connect(pauser).pause();
        const r = reading(BIG_ASSET.id, BigInt(await time.latest()));
        await expect(submit([r])).to.be.revertedWithCustomError(oracle, "EnforcedPause");
        await oracle.connect(pauser).unpause();
        await expect(submit([r])).to.emit(oracle, "UsageReported");
      });
    });
  });

  describe("latestReading", function () {
    it("is all zero for an asset never reported", async function () {
      const { oracle } = await loadFixture(deployedFixture);
      expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("round-trips the largest uint64 counters", async function () {
      const { oracle, submit } = await loadFixture(deployedFixture);
      const max = (1n << 64n) - 1n;
      const r = reading(BIG_ASSET.id, BigInt(await time.latest()), {
        busyGpuSeconds: max,
        availableGpuSeconds: max,
        energyJ: max,
      });
      await submit([r]);
      expect(await meterOf(oracle, BIG_ASSET.id)).to.deep.equal(meterTuple(r));
    });
  });

  describe("isFresh", function () {
    it("is false when never reported and follows the reading's age", async function () {
      const { oracle, submit } = await loadFixture(deployedFixture);
      expect(await oracle.isFresh(BIG_ASSET.id, 1_000_000n)).to.equal(false);
      const t = BigInt(await time.latest());
      await submit([reading(BIG_ASSET.id, t - 100n)]);
      const now = BigInt(await time.latest());
      const age = now - (t - 100n);
      expect(await oracle.isFresh(BIG_ASSET.id, age)).to.equal(true);
      expect(await oracle.isFresh(BIG_ASSET.id, age - 1n)).to.equal(false);
    });

    it("counts a reading timestamped in the allowed future as fresh", async function () {
      const { oracle, submit } = await loadFixture(deployedFixture);
      await submit([reading(BIG_ASSET.id, BigInt(await time.latest()) + 200n)]);
      expect(await oracle.isFresh(BIG_ASSET.id, 0n)).to.equal(true);
    });
  });

  describe("setSigners", function () {
    it("replaces the set, bumps the version and emits SignerSetUpdated", async function () {
      const { oracle, oracleAdmin, signers, outsiders } = await loadFixture(deployedFixture);
      const next = [outsiders[0].address, signers[2].address];
      await expect(oracle.connect(oracleAdmin).setSigners(next, 1))
        .to.emit(oracle, "SignerSetUpdated")
        .withArgs(2n, next, 1n);
      expect(await oracle.configVersion()).to.equal(2n);
      expect(await oracle.signers()).to.deep.equal(next);
      expect(await oracle.threshold()).to.equal(1n);
      expect(await oracle.isSigner(signers[0].address)).to.equal(false);
      expect(await oracle.isSigner(outsiders[0].address)).to.equal(true);
    });

    it("accepts the same set with another threshold", async function () {
      const { oracle, oracleAdmin, signers } = await loadFixture(deployedFixture);
      await expect(
        oracle.connect(oracleAdmin).setSigners(
          signers.map((s) => s.address),
          3,
        ),
      )
        .to.emit(oracle, "SignerSetUpdated")
        .withArgs(
          2n,
          signers.map((s) => s.address),
          3n,
        );
    });

    it("rejects zero, duplicate, k = 0, k > n, too many and an unchanged set, leaving the configuration", async function () {
      const { oracle, oracleAdmin, signers } = await loadFixture(deployedFixture);
      const [a, b, c] = signers.map((s) => s.address);
      const o = oracle.connect(oracleAdmin);
      await expect(o.setSigners([a, ethers.ZeroAddress], 1))
        .to.be.revertedWithCustomError(oracle, "InvalidSigner")
        .withArgs(ethers.ZeroAddress);
      await expect(o.setSigners([a, b, a], 1))
        .to.be.revertedWithCustomError(oracle, "DuplicateSignerInSet")
        .withArgs(a);
      await expect(o.setSigners([a, a, b], 2))
        .to.be.revertedWithCustomError(oracle, "DuplicateSignerInSet")
        .withArgs(a);
      await expect(o.setSigners([a, b], 0))
        .to.be.revertedWithCustomError(oracle, "InvalidThreshold")
        .withArgs(0n, 2n);
      await expect(o.setSigners([a, b], 3))
        .to.be.revertedWithCustomError(oracle, "InvalidThreshold")
        .withArgs(3n, 2n);
      const many = Array.from({ length: 33 }, (_, i) => ethers.getAddress(ethers.toBeHex(i + 1, 20)));
      await expect(o.setSigners(many, 1)).to.be.revertedWithCustomError(oracle, "TooManySigners").withArgs(33n, 32n);
      await expect(o.setSigners([c, a, b], 2)).to.be.revertedWithCustomError(oracle, "SignerSetUnchanged");
      expect(await oracle.configVersion()).to.equal(1n);
      expect(await oracle.signers()).to.deep.equal([a, b, c]);
      expect(await oracle.threshold()).to.equal(2n);
    });

    it("is restricted to the oracle-admin role", async function () {
      const { oracle, stranger, signers } = await loadFixture(deployedFixture);
      await expect(oracle.connect(stranger).setSigners([signers[0].address], 1))
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await oracle.ORACLE_ADMIN_ROLE());
    });
  });

  describe("setMaxFutureSkew", function () {
    it("sets the skew and emits MaxFutureSkewUpdated", async function () {
      const { oracle, oracleAdmin } = await loadFixture(deployedFixture);
      await expect(oracle.connect(oracleAdmin).setMaxFutureSkew(60n))
        .to.emit(oracle, "MaxFutureSkewUpdated")
        .withArgs(SKEW_SECONDS, 60n);
      expect(await oracle.maxFutureSkewSeconds()).to.equal(60n);
    });

    it("rejects too large, unchanged and unauthorized calls", async function () {
      const { oracle, oracleAdmin, stranger } = await loadFixture(deployedFixture);
      await expect(oracle.connect(oracleAdmin).setMaxFutureSkew(3_601n))
        .to.be.revertedWithCustomError(oracle, "FutureSkewTooLarge")
        .withArgs(3_601n, 3_600n);
      await expect(oracle.connect(oracleAdmin).setMaxFutureSkew(SKEW_SECONDS))
        .to.be.revertedWithCustomError(oracle, "FutureSkewUnchanged")
        .withArgs(SKEW_SECONDS);
      await expect(oracle.connect(stranger).setMaxFutureSkew(1n))
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await oracle.ORACLE_ADMIN_ROLE());
      expect(await oracle.maxFutureSkewSeconds()).to.equal(SKEW_SECONDS);
    });
  });

  describe("setEnergyMargin", function () {
    it("sets the margin and emits EnergyMarginUpdated", async function () {
      const { oracle, oracleAdmin } = await loadFixture(deployedFixture);
      await expect(oracle.connect(oracleAdmin).setEnergyMargin(0n))
        .to.emit(oracle, "EnergyMarginUpdated")
        .withArgs(MARGIN_BPS, 0n);
      expect(await oracle.energyMarginBps()).to.equal(0n);
    });

    it("rejects too large, unchanged and unauthorized calls", async function () {
      const { oracle, oracleAdmin, stranger } = await loadFixture(deployedFixture);
      await expect(oracle.connect(oracleAdmin).setEnergyMargin(5_001n))
        .to.be.revertedWithCustomError(oracle, "EnergyMarginTooLarge")
        .withArgs(5_001n, 5_000n);
      await expect(oracle.connect(oracleAdmin).setEnergyMargin(MARGIN_BPS))
        .to.be.revertedWithCustomError(oracle, "EnergyMarginUnchanged")
        .withArgs(MARGIN_BPS);
      await expect(oracle.connect(stranger).setEnergyMargin(1n))
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await oracle.ORACLE_ADMIN_ROLE());
      expect(await oracle.energyMarginBps()).to.equal(MARGIN_BPS);
    });
  });

  describe("pause / unpause", function () {
    it("are restricted to the pauser role", async function () {
      const { oracle, stranger } = await loadFixture(deployedFixture);
      const role = await oracle.PAUSER_ROLE();
      await expect(oracle.connect(stranger).pause())
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, role);
      await expect(oracle.connect(stranger).unpause())
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, role);
    });
  });
});
