import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { SettlementEscrow__factory } from "../../typechain-types";
import { ABSENT_BOUNDARY } from "../../src/meterHistory";
import {
  ARBITER_TIMEOUT,
  DAY,
  DISPUTE_WINDOW,
  EndReason,
  FULL_HOUR,
  GPUS,
  HOUR,
  MAX_DURATION,
  MIN_DURATION,
  MockUSDC__factory,
  TDP_WATTS,
  USDC,
  at,
  billArgs,
  billOf,
  deployCore,
  escrowState,
  expectLeaseBalanced,
  expectSolvent,
  signPermit,
  termsFor,
} from "./helpers";
import {
  DEPOSIT,
  DURATION,
  FINAL_BILL,
  FIRST_BILL,
  TERMS_OVERRIDES,
  bill8,
  boundaryAt,
  disputedFixture,
  firstMeter,
  meteredFixture,
  openAt,
  openFixture,
  pastEndFixture,
  readingAt,
  settledFixture,
  termsFixture,
  withTerms,
  type TermsFixture,
} from "./fixtures";

/** The terms tuple as `LeaseTermsSet` carries it. */
function termsArgs(t: ReturnType<typeof termsFor>) {
  return [
    t.token,
    t.reservationPricePerGpuHour,
    t.usagePricePerBusyGpuHour,
    t.energyPricePerKWh,
    t.minDurationSeconds,
    t.maxDurationSeconds,
    t.slaAvailabilityBps,
    t.earlyEndAllowed,
  ];
}

/** As `termsFixture`, on an escrow whose dispute window (30 s) is shorter than the oracle's skew (60 s). */
async function thirtySecondWindowFixture() {
  return withTerms(await deployCore({ disputeWindowSeconds: 30n }));
}

/** Escrow state for "a refused call changes nothing". */
function stateOf(f: TermsFixture) {
  return escrowState(f.escrow, f.usdc, f.accounts);
}

/** The asset's meter values of its latest reading, stamped `t`. */
async function latestMeter(f: TermsFixture, t: bigint) {
  const m = await f.meters.latest();
  return { timestamp: t, busyGpuSeconds: m.busy, availableGpuSeconds: m.available, energyJ: m.energy };
}

describe("SettlementEscrow", function () {
  // ------------------------------------------------------------------ deployment and admin

  describe("constructor", function () {
    it("stores its dependencies and durations and grants only DEFAULT_ADMIN_ROLE to the admin", async function () {
      const { escrow, admin, nft, oracle } = await loadFixture(termsFixture);
      expect(await escrow.nft()).to.equal(await nft.getAddress());
      expect(await escrow.oracle()).to.equal(await oracle.getAddress());
      expect(await escrow.disputeWindowSeconds()).to.equal(DISPUTE_WINDOW);
      expect(await escrow.arbiterTimeoutSeconds()).to.equal(ARBITER_TIMEOUT);
      expect(await escrow.FINAL_READING_GRACE_SECONDS()).to.equal(7n * DAY);
      expect(await escrow.MIXED_TOKENS()).to.equal("0x0000000000000000000000000000000000000001");
      expect(await escrow.hasRole(await escrow.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      const fresh = await new SettlementEscrow__factory(admin).deploy(
        admin.address,
        await nft.getAddress(),
        await oracle.getAddress(),
        5,
        6,
      );
      expect(await fresh.leaseCount()).to.equal(0n);
      for (const role of [await fresh.TOKEN_ADMIN_ROLE(), await fresh.ARBITER_ROLE(), await fresh.PAUSER_ROLE()]) {
        expect(await fresh.hasRole(role, admin.address)).to.equal(false);
      }
    });

    it("reverts ZeroAddress for a zero admin, NFT or oracle and ZeroDuration for a zero window or timeout", async function () {
      const { admin, nft, oracle } = await loadFixture(termsFixture);
      const factory = new SettlementEscrow__factory(admin);
      const n = await nft.getAddress();
      const o = await oracle.getAddress();
      const z = ethers.ZeroAddress;
      await expect(factory.deploy(z, n, o, 1, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(admin.address, z, o, 1, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(admin.address, n, z, 1, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(admin.address, n, o, 0, 1)).to.be.revertedWithCustomError(factory, "ZeroDuration");
      await expect(factory.deploy(admin.address, n, o, 1, 0)).to.be.revertedWithCustomError(factory, "ZeroDuration");
    });
  });

  describe("setTokenAllowed", function () {
    it("removes and re-adds a token, emitting TokenAllowlistUpdated each time", async function () {
      const { escrow, token } = await loadFixture(termsFixture);
      await expect(escrow.setTokenAllowed(token, false))
        .to.emit(escrow, "TokenAllowlistUpdated")
        .withArgs(token, false);
      expect(await escrow.isTokenAllowed(token)).to.equal(false);
      await expect(escrow.setTokenAllowed(token, true)).to.emit(escrow, "TokenAllowlistUpdated").withArgs(token, true);
      expect(await escrow.isTokenAllowed(token)).to.equal(true);
    });

    it("reverts TokenAllowlistUnchanged for a no-op either way and ZeroAddress for the zero token", async function () {
      const { escrow, token, other } = await loadFixture(termsFixture);
      await expect(escrow.setTokenAllowed(token, true))
        .to.be.revertedWithCustomError(escrow, "TokenAllowlistUnchanged")
        .withArgs(token, true);
      await expect(escrow.setTokenAllowed(other.address, false))
        .to.be.revertedWithCustomError(escrow, "TokenAllowlistUnchanged")
        .withArgs(other.address, false);
      await expect(escrow.setTokenAllowed(ethers.ZeroAddress, true)).to.be.revertedWithCustomError(
        escrow,
        "ZeroAddress",
      );
      expect(await escrow.isTokenAllowed(token)).to.equal(true);
      expect(await escrow.isTokenAllowed(ethers.ZeroAddress)).to.equal(false);
    });

    it("reverts AccessControlUnauthorizedAccount for a caller without TOKEN_ADMIN_ROLE", async function () {
      const { escrow, token, other } = await loadFixture(termsFixture);
      await expect(escrow.connect(other).setTokenAllowed(token, false))
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await escrow.TOKEN_ADMIN_ROLE());
      expect(await escrow.isTokenAllowed(token)).to.equal(true);
    });
  });

  describe("pause", function () {
    it("lets the pauser pause, emitting Paused", async function () {
      const { escrow, pauser } = await loadFixture(termsFixture);
      await expect(escrow.connect(pauser).pause()).to.emit(escrow, "Paused").withArgs(pauser.address);
      expect(await escrow.paused()).to.equal(true);
    });

    it("reverts EnforcedPause when already paused and AccessControlUnauthorizedAccount without PAUSER_ROLE", async function () {
      const { escrow, pauser, other } = await loadFixture(termsFixture);
      await expect(escrow.connect(other).pause())
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await escrow.PAUSER_ROLE());
      expect(await escrow.paused()).to.equal(false);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(pauser).pause()).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    });
  });

  describe("unpause", function () {
    it("lets the pauser unpause, emitting Unpaused", async function () {
      const { escrow, pauser } = await loadFixture(termsFixture);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(pauser).unpause()).to.emit(escrow, "Unpaused").withArgs(pauser.address);
      expect(await escrow.paused()).to.equal(false);
    });

    it("reverts ExpectedPause when not paused and AccessControlUnauthorizedAccount without PAUSER_ROLE", async function () {
      const { escrow, pauser, other } = await loadFixture(termsFixture);
      await expect(escrow.connect(pauser).unpause()).to.be.revertedWithCustomError(escrow, "ExpectedPause");
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(other).unpause())
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await escrow.PAUSER_ROLE());
      expect(await escrow.paused()).to.equal(true);
    });
  });

  // ------------------------------------------------------------------ terms

  describe("setLeaseTerms", function () {
    it("publishes a new version: LeaseTermsSet, current version, leaseTermsOf; the old version stays readable", async function () {
      const { escrow, provider, token, assetId } = await loadFixture(termsFixture);
      const t = termsFor(token, {
        usagePricePerBusyGpuHour: 5n * USDC,
        energyPricePerKWh: 300_000n,
        earlyEndAllowed: false,
      });
      await expect(escrow.connect(provider).setLeaseTerms(assetId, t))
        .to.emit(escrow, "LeaseTermsSet")
        .withArgs(assetId, 2, provider.address, termsArgs(t));
      expect(await escrow.currentTermsVersion(assetId)).to.equal(2);
      expect(await escrow.leaseTermsOf(assetId)).to.deep.equal(termsArgs(t));
      expect(await escrow.leaseTermsAt(assetId, 2)).to.deep.equal(termsArgs(t));
      expect(await escrow.leaseTermsAt(assetId, 1)).to.deep.equal(termsArgs(termsFor(token, TERMS_OVERRIDES)));
    });

    it("accepts an operator approved for all of the owner's NFTs and one approved for this NFT", async function () {
      const { escrow, nft, provider, operator, other, token, assetId } = await loadFixture(termsFixture);
      await nft.connect(provider).setApprovalForAll(operator.address, true);
      await expect(escrow.connect(operator).setLeaseTerms(assetId, termsFor(token, { slaAvailabilityBps: 9000 })))
        .to.emit(escrow, "LeaseTermsSet")
        .withArgs(assetId, 2, operator.address, termsArgs(termsFor(token, { slaAvailabilityBps: 9000 })));
      await nft.connect(provider).approve(other.address, assetId);
      await escrow.connect(other).setLeaseTerms(assetId, termsFor(token, { slaAvailabilityBps: 9100 }));
      expect((await escrow.leaseTermsOf(assetId)).slaAvailabilityBps).to.equal(9100);
      expect(await escrow.currentTermsVersion(assetId)).to.equal(3);
    });

    it("reverts NotAssetOperator for anyone else, leaving the terms unchanged", async function () {
      const { escrow, other, lessee, token, assetId } = await loadFixture(termsFixture);
      for (const caller of [other, lessee]) {
        await expect(escrow.connect(caller).setLeaseTerms(assetId, termsFor(token, { slaAvailabilityBps: 1 })))
          .to.be.revertedWithCustomError(escrow, "NotAssetOperator")
          .withArgs(assetId, caller.address);
      }
      expect(await escrow.currentTermsVersion(assetId)).to.equal(1);
      expect((await escrow.leaseTermsOf(assetId)).slaAvailabilityBps).to.equal(0);
    });

    it("reverts TokenNotAllowed, InvalidDurationBounds, InvalidSlaTarget and LeaseTermsUnchanged, leaving the terms unchanged", async function () {
      const { escrow, provider, token, other, assetId } = await loadFixture(termsFixture);
      const p = escrow.connect(provider);
      await expect(p.setLeaseTerms(assetId, termsFor(other.address)))
        .to.be.revertedWithCustomError(escrow, "TokenNotAllowed")
        .withArgs(other.address);
      await expect(p.setLeaseTerms(assetId, termsFor(token, { minDurationSeconds: 0 })))
        .to.be.revertedWithCustomError(escrow, "InvalidDurationBounds")
        .withArgs(0, MAX_DURATION);
      await expect(p.setLeaseTerms(assetId, termsFor(token, { minDurationSeconds: 10, maxDurationSeconds: 9 })))
        .to.be.revertedWithCustomError(escrow, "InvalidDurationBounds")
        .withArgs(10, 9);
      await expect(p.setLeaseTerms(assetId, termsFor(token, { slaAvailabilityBps: 10_001 })))
        .to.be.revertedWithCustomError(escrow, "InvalidSlaTarget")
        .withArgs(10_001);
      await expect(p.setLeaseTerms(assetId, termsFor(token, TERMS_OVERRIDES)))
        .to.be.revertedWithCustomError(escrow, "LeaseTermsUnchanged")
        .withArgs(assetId);
      expect(await escrow.currentTermsVersion(assetId)).to.equal(1);
    });

    it("reverts SafeCastOverflowedUintDowncast for a price, energy price or duration wider than its stored field", async function () {
      const { escrow, provider, token, assetId } = await loadFixture(termsFixture);
      const p = escrow.connect(provider);
      const cases: [Partial<Record<string, unknown>>, number, bigint][] = [
        [{ reservationPricePerGpuHour: 2n ** 96n }, 96, 2n ** 96n],
        [{ usagePricePerBusyGpuHour: 2n ** 96n }, 96, 2n ** 96n],
        [{ energyPricePerKWh: 2n ** 64n }, 64, 2n ** 64n],
        [{ minDurationSeconds: 2n ** 32n, maxDurationSeconds: 2n ** 32n }, 32, 2n ** 32n],
        [{ maxDurationSeconds: 2n ** 32n }, 32, 2n ** 32n],
      ];
      for (const [overrides, bits, value] of cases) {
        await expect(p.setLeaseTerms(assetId, termsFor(token, overrides)))
          .to.be.revertedWithCustomError(escrow, "SafeCastOverflowedUintDowncast")
          .withArgs(bits, value);
      }
      // The widest values that fit are accepted.
      await p.setLeaseTerms(
        assetId,
        termsFor(token, {
          reservationPricePerGpuHour: 2n ** 96n - 1n,
          energyPricePerKWh: 2n ** 64n - 1n,
          maxDurationSeconds: 2n ** 32n - 1n,
        }),
      );
      expect(await escrow.currentTermsVersion(assetId)).to.equal(2);
    });

    it("reverts ERC721NonexistentToken for an asset that does not exist", async function () {
      const { escrow, nft, provider, token } = await loadFixture(termsFixture);
      await expect(escrow.connect(provider).setLeaseTerms(99n, termsFor(token)))
        .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
        .withArgs(99n);
      expect(await escrow.currentTermsVersion(99n)).to.equal(0);
    });

    it("gives terms equal to removed ones a new version (a lessee who agreed to the old version cannot open)", async function () {
      const { escrow, provider, token, assetId } = await loadFixture(termsFixture);
      await escrow.connect(provider).removeLeaseTerms(assetId);
      const t = termsFor(token, TERMS_OVERRIDES);
      await expect(escrow.connect(provider).setLeaseTerms(assetId, t))
        .to.emit(escrow, "LeaseTermsSet")
        .withArgs(assetId, 2, provider.address, termsArgs(t));
      expect(await escrow.currentTermsVersion(assetId)).to.equal(2);
    });

    it("leaves a running lease on the version it was opened with", async function () {
      const { escrow, provider, token, assetId, leaseId } = await loadFixture(openFixture);
      await escrow.connect(provider).setLeaseTerms(assetId, termsFor(token, { reservationPricePerGpuHour: 99n }));
      const lease = await escrow.leaseOf(leaseId);
      expect(lease.termsVersion).to.equal(1);
      expect((await escrow.leaseTermsAt(assetId, lease.termsVersion)).reservationPricePerGpuHour).to.equal(2n * USDC);
    });
  });

  describe("removeLeaseTerms", function () {
    it("withdraws the terms: LeaseTermsRemoved, version 0, leaseTermsOf all zero; the version stays readable", async function () {
      const { escrow, provider, token, assetId } = await loadFixture(termsFixture);
      await expect(escrow.connect(provider).removeLeaseTerms(assetId))
        .to.emit(escrow, "LeaseTermsRemoved")
        .withArgs(assetId, provider.address);
      expect(await escrow.currentTermsVersion(assetId)).to.equal(0);
      expect((await escrow.leaseTermsOf(assetId)).token).to.equal(ethers.ZeroAddress);
      expect((await escrow.leaseTermsAt(assetId, 1)).token).to.equal(token);
    });

    it("reverts NotAssetOperator for a stranger and NoLeaseTerms when there are none, changing nothing", async function () {
      const { escrow, provider, other, assetId } = await loadFixture(termsFixture);
      await expect(escrow.connect(other).removeLeaseTerms(assetId))
        .to.be.revertedWithCustomError(escrow, "NotAssetOperator")
        .withArgs(assetId, other.address);
      expect(await escrow.currentTermsVersion(assetId)).to.equal(1);
      await escrow.connect(provider).removeLeaseTerms(assetId);
      await expect(escrow.connect(provider).removeLeaseTerms(assetId))
        .to.be.revertedWithCustomError(escrow, "NoLeaseTerms")
        .withArgs(assetId);
    });
  });

  describe("leaseTermsOf / currentTermsVersion / leaseTermsAt", function () {
    it("read all zero for an asset without terms and for a version that never existed", async function () {
      const { escrow, assetId } = await loadFixture(termsFixture);
      expect(await escrow.currentTermsVersion(2n)).to.equal(0);
      expect((await escrow.leaseTermsOf(2n)).token).to.equal(ethers.ZeroAddress);
      expect(await escrow.leaseTermsAt(assetId, 7)).to.deep.equal([ethers.ZeroAddress, 0n, 0n, 0n, 0n, 0n, 0n, false]);
    });
  });

  // ------------------------------------------------------------------ opening

  describe("openLease", function () {
    it("pulls the deposit, opens under the agreed version and makes the lessee the NFT user until the end", async function () {
      const f = await loadFixture(termsFixture);
      const { escrow, nft, usdc, token, lessee, assetId } = f;
      const start = BigInt(await time.latest()) + 50n;
      await at(start);
      const tx = escrow.connect(lessee).openLease(assetId, 1, DURATION, DEPOSIT);
      await expect(tx)
        .to.emit(escrow, "LeaseOpened")
        .withArgs(1n, assetId, lessee.address, token, 1, start, start + DURATION, DEPOSIT);
      await expect(tx).to.changeTokenBalances(usdc, [lessee, escrow], [-DEPOSIT, DEPOSIT]);
      await expect(tx)
        .to.emit(nft, "UpdateUser")
        .withArgs(assetId, lessee.address, start + DURATION);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
      expect(await nft.userExpires(assetId)).to.equal(start + DURATION);
      const l = await escrow.leaseOf(1n);
      expect([l.lessee, l.startTime, l.endTime, l.endReason, l.closed]).to.deep.equal([
        lessee.address,
        start,
        start + DURATION,
        BigInt(EndReason.None),
        false,
      ]);
      expect([l.assetId, l.termsVersion, l.balance, l.billed, l.startMetered, l.deposited]).to.deep.equal([
        assetId,
        1n,
        DEPOSIT,
        0n,
        false,
        DEPOSIT,
      ]);
      expect([l.disputed, l.disputeRefunded, l.disputeDeadline]).to.deep.equal([0n, 0n, 0n]);
      expect(await escrow.accountingOf(1n)).to.deep.equal([DEPOSIT, 0n, 0n, DEPOSIT]);
      expect(await escrow.leaseCount()).to.equal(1n);
      expect(await escrow.unfinishedLeasesOf(assetId)).to.deep.equal([1n, token]);
      await expectSolvent(escrow, usdc, f.accounts);
    });

    it("opens with the minimum duration and deposit, and with the maximum duration", async function () {
      const f = await loadFixture(termsFixture);
      expect(await f.escrow.minimumDeposit(f.assetId)).to.equal(FULL_HOUR);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, MIN_DURATION, FULL_HOUR)).to.emit(
        f.escrow,
        "LeaseOpened",
      );
      await time.increase(MIN_DURATION);
      await expect(f.escrow.connect(f.other).openLease(f.assetId, 1, MAX_DURATION, FULL_HOUR)).to.emit(
        f.escrow,
        "LeaseOpened",
      );
    });

    it("reverts TermsVersionMismatch unless the agreed version is the current one, changing nothing", async function () {
      const f = await loadFixture(termsFixture);
      const before = await stateOf(f);
      for (const agreed of [0, 2]) {
        await expect(f.escrow.connect(f.lessee).openLease(f.assetId, agreed, DURATION, DEPOSIT))
          .to.be.revertedWithCustomError(f.escrow, "TermsVersionMismatch")
          .withArgs(f.assetId, agreed, 1);
      }
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts NoLeaseTerms for an asset whose terms were removed or never published", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow.connect(f.provider).removeLeaseTerms(f.assetId);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DURATION, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "NoLeaseTerms")
        .withArgs(f.assetId);
      await expect(f.escrow.connect(f.lessee).openLease(99n, 0, DURATION, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "NoLeaseTerms")
        .withArgs(99n);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts TokenNotAllowed once the terms' token is removed from the allowlist", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow.setTokenAllowed(f.token, false);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DURATION, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "TokenNotAllowed")
        .withArgs(f.token);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts DurationOutOfBounds one second outside either bound", async function () {
      const f = await loadFixture(termsFixture);
      const before = await stateOf(f);
      for (const d of [MIN_DURATION - 1n, MAX_DURATION + 1n, 0n]) {
        await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, d, DEPOSIT))
          .to.be.revertedWithCustomError(f.escrow, "DurationOutOfBounds")
          .withArgs(d, MIN_DURATION, MAX_DURATION);
      }
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts AssetNotLeasable while another lease holds the NFT user right and while the asset is in maintenance", async function () {
      const f = await loadFixture(openFixture);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.other).openLease(f.assetId, 1, DURATION, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "AssetNotLeasable")
        .withArgs(f.assetId);
      expect(await stateOf(f)).to.deep.equal(before);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      await f.nft.setStatus(f.assetId, 1); // Maintenance
      await expect(f.escrow.connect(f.other).openLease(f.assetId, 1, DURATION, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "AssetNotLeasable")
        .withArgs(f.assetId);
      expect(await f.escrow.leaseCount()).to.equal(1n);
    });

    it("reverts DepositTooLow one unit below one hour of full use, and for a zero deposit when the terms are free", async function () {
      const f = await loadFixture(termsFixture);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DURATION, FULL_HOUR - 1n))
        .to.be.revertedWithCustomError(f.escrow, "DepositTooLow")
        .withArgs(FULL_HOUR - 1n, FULL_HOUR);
      expect(await stateOf(f)).to.deep.equal(before);
      await f.escrow
        .connect(f.provider)
        .setLeaseTerms(f.assetId, termsFor(f.token, { reservationPricePerGpuHour: 0, usagePricePerBusyGpuHour: 0 }));
      expect(await f.escrow.minimumDeposit(f.assetId)).to.equal(0n);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 2, DURATION, 0n))
        .to.be.revertedWithCustomError(f.escrow, "DepositTooLow")
        .withArgs(0n, 0n);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 2, DURATION, 1n)).to.emit(f.escrow, "LeaseOpened");
    });

    it("reverts SafeCastOverflowedUintDowncast for a deposit that does not fit 96 bits", async function () {
      const f = await loadFixture(termsFixture);
      await f.usdc.mint(f.lessee.address, 2n ** 96n);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DURATION, 2n ** 96n))
        .to.be.revertedWithCustomError(f.escrow, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
      expect(await f.escrow.leaseCount()).to.equal(0n);
    });

    it("reverts the token's ERC20InsufficientAllowance without an approval, changing nothing", async function () {
      const f = await loadFixture(termsFixture);
      await f.usdc.connect(f.lessee).approve(await f.escrow.getAddress(), 0n);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DURATION, DEPOSIT))
        .to.be.revertedWithCustomError(f.usdc, "ERC20InsufficientAllowance")
        .withArgs(await f.escrow.getAddress(), 0n, DEPOSIT);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts EnforcedPause while paused", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow.connect(f.pauser).pause();
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DURATION, DEPOSIT)).to.be.revertedWithCustomError(
        f.escrow,
        "EnforcedPause",
      );
      expect(await stateOf(f)).to.deep.equal(before);
    });
  });

  describe("openLeaseWithPermit", function () {
    async function permitFixture() {
      const f = await termsFixture();
      await f.usdc.connect(f.lessee).approve(await f.escrow.getAddress(), 0n);
      const p = await signPermit(f.usdc, f.lessee, await f.escrow.getAddress(), DEPOSIT, 2n ** 40n);
      return { ...f, p };
    }

    it("opens with a permit instead of an approval, spending it", async function () {
      const f = await loadFixture(permitFixture);
      const { escrow, usdc, lessee, assetId, p } = f;
      const start = BigInt(await time.latest()) + 5n;
      await at(start);
      const tx = escrow.connect(lessee).openLeaseWithPermit(assetId, 1, DURATION, DEPOSIT, p.deadline, p.v, p.r, p.s);
      await expect(tx)
        .to.emit(escrow, "LeaseOpened")
        .withArgs(1n, assetId, lessee.address, f.token, 1, start, start + DURATION, DEPOSIT);
      await expect(tx).to.changeTokenBalances(usdc, [lessee, escrow], [-DEPOSIT, DEPOSIT]);
      expect(await usdc.nonces(lessee.address)).to.equal(1n);
      expect(await usdc.allowance(lessee.address, await escrow.getAddress())).to.equal(0n);
      await expectLeaseBalanced(escrow, 1n);
    });

    it("still opens when the permit was front-run (already used) and the allowance covers the deposit", async function () {
      const f = await loadFixture(permitFixture);
      const { escrow, usdc, lessee, other, assetId, p } = f;
      await usdc.connect(other).permit(lessee.address, await escrow.getAddress(), DEPOSIT, p.deadline, p.v, p.r, p.s);
      await expect(
        escrow.connect(lessee).openLeaseWithPermit(assetId, 1, DURATION, DEPOSIT, p.deadline, p.v, p.r, p.s),
      ).to.changeTokenBalances(usdc, [lessee, escrow], [-DEPOSIT, DEPOSIT]);
    });

    it("reverts PermitFailed when the permit fails (bad signature, expired) and the allowance is short, changing nothing", async function () {
      const f = await loadFixture(permitFixture);
      const { escrow, usdc, lessee, assetId } = f;
      await usdc.connect(lessee).approve(await escrow.getAddress(), DEPOSIT - 1n);
      const before = await stateOf(f);
      const wrongNonce = await signPermit(usdc, lessee, await escrow.getAddress(), DEPOSIT, 2n ** 40n, 5n);
      const expired = await signPermit(usdc, lessee, await escrow.getAddress(), DEPOSIT, BigInt(await time.latest()));
      for (const p of [wrongNonce, expired]) {
        await expect(
          escrow.connect(lessee).openLeaseWithPermit(assetId, 1, DURATION, DEPOSIT, p.deadline, p.v, p.r, p.s),
        )
          .to.be.revertedWithCustomError(escrow, "PermitFailed")
          .withArgs(f.token, DEPOSIT - 1n, DEPOSIT);
      }
      expect(await stateOf(f)).to.deep.equal(before);
      expect(await usdc.nonces(lessee.address)).to.equal(0n);
    });

    it("reverts TermsVersionMismatch and TokenNotAllowed before spending the permit", async function () {
      const f = await loadFixture(permitFixture);
      const { escrow, usdc, lessee, assetId, p } = f;
      const before = await stateOf(f);
      await expect(escrow.connect(lessee).openLeaseWithPermit(assetId, 2, DURATION, DEPOSIT, p.deadline, p.v, p.r, p.s))
        .to.be.revertedWithCustomError(escrow, "TermsVersionMismatch")
        .withArgs(assetId, 2, 1);
      await escrow.setTokenAllowed(f.token, false);
      await expect(escrow.connect(lessee).openLeaseWithPermit(assetId, 1, DURATION, DEPOSIT, p.deadline, p.v, p.r, p.s))
        .to.be.revertedWithCustomError(escrow, "TokenNotAllowed")
        .withArgs(f.token);
      await escrow.setTokenAllowed(f.token, true);
      expect(await stateOf(f)).to.deep.equal(before);
      expect(await usdc.nonces(lessee.address)).to.equal(0n);
      expect(await usdc.allowance(lessee.address, await escrow.getAddress())).to.equal(0n);
    });

    it("reverts the open's own checks (here DurationOutOfBounds) with the permit rolled back", async function () {
      const f = await loadFixture(permitFixture);
      const { escrow, usdc, lessee, assetId, p } = f;
      await expect(
        escrow.connect(lessee).openLeaseWithPermit(assetId, 1, MAX_DURATION + 1n, DEPOSIT, p.deadline, p.v, p.r, p.s),
      )
        .to.be.revertedWithCustomError(escrow, "DurationOutOfBounds")
        .withArgs(MAX_DURATION + 1n, MIN_DURATION, MAX_DURATION);
      expect(await usdc.nonces(lessee.address)).to.equal(0n);
    });

    it("reverts EnforcedPause while paused, without spending the permit", async function () {
      const f = await loadFixture(permitFixture);
      const { escrow, usdc, lessee, pauser, assetId, p } = f;
      await escrow.connect(pauser).pause();
      await expect(
        escrow.connect(lessee).openLeaseWithPermit(assetId, 1, DURATION, DEPOSIT, p.deadline, p.v, p.r, p.s),
      ).to.be.revertedWithCustomError(escrow, "EnforcedPause");
      expect(await usdc.nonces(lessee.address)).to.equal(0n);
      expect(await escrow.leaseCount()).to.equal(0n);
    });
  });

  describe("topUp", function () {
    it("adds to the deposit and the balance: LeaseToppedUp, tokens pulled from the payer (anyone may pay)", async function () {
      const f = await loadFixture(openFixture);
      const { escrow, usdc, other, leaseId } = f;
      const tx = escrow.connect(other).topUp(leaseId, 100n * USDC);
      await expect(tx)
        .to.emit(escrow, "LeaseToppedUp")
        .withArgs(leaseId, other.address, 100n * USDC);
      await expect(tx).to.changeTokenBalances(usdc, [other, escrow], [-100n * USDC, 100n * USDC]);
      const l = await escrow.leaseOf(leaseId);
      expect([l.deposited, l.balance]).to.deep.equal([DEPOSIT + 100n * USDC, DEPOSIT + 100n * USDC]);
      expect(await escrow.accountingOf(leaseId)).to.deep.equal([DEPOSIT + 100n * USDC, 0n, 0n, DEPOSIT + 100n * USDC]);
      await expectSolvent(escrow, usdc, f.accounts);
    });

    it("reverts ZeroAmount, UnknownLease and EnforcedPause, changing nothing", async function () {
      const f = await loadFixture(openFixture);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.other).topUp(f.leaseId, 0n)).to.be.revertedWithCustomError(
        f.escrow,
        "ZeroAmount",
      );
      await expect(f.escrow.connect(f.other).topUp(99n, 1n))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(99n);
      await expect(f.escrow.connect(f.other).topUp(0n, 1n))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(0n);
      await f.escrow.connect(f.pauser).pause();
      await expect(f.escrow.connect(f.other).topUp(f.leaseId, 1n)).to.be.revertedWithCustomError(
        f.escrow,
        "EnforcedPause",
      );
      await f.escrow.connect(f.pauser).unpause();
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts LeaseExpired from the end time on and LeaseAlreadyEnded after an early end", async function () {
      const f = await loadFixture(openFixture);
      await at(f.end);
      await expect(f.escrow.connect(f.other).topUp(f.leaseId, 1n))
        .to.be.revertedWithCustomError(f.escrow, "LeaseExpired")
        .withArgs(f.leaseId, f.end);
      const g = await loadFixture(openFixture);
      await g.escrow.connect(g.provider).terminateByProvider(g.leaseId);
      await expect(g.escrow.connect(g.other).topUp(g.leaseId, 1n))
        .to.be.revertedWithCustomError(g.escrow, "LeaseAlreadyEnded")
        .withArgs(g.leaseId, EndReason.TerminatedByProvider);
    });

    it("reverts SafeCastOverflowedUintDowncast when the lease's deposits would exceed 96 bits", async function () {
      const f = await loadFixture(openFixture);
      const room = 2n ** 96n - 1n - DEPOSIT;
      await f.usdc.mint(f.other.address, room + 1n);
      await expect(f.escrow.connect(f.other).topUp(f.leaseId, room + 1n))
        .to.be.revertedWithCustomError(f.escrow, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
      await f.escrow.connect(f.other).topUp(f.leaseId, room);
      expect((await f.escrow.leaseOf(f.leaseId)).deposited).to.equal(2n ** 96n - 1n);
    });
  });

  // ------------------------------------------------------------------ billing

  describe("settle", function () {
    it("charges the bill up to a billable reading to the NFT's owner (anyone may call); no token moves", async function () {
      const f = await loadFixture(meteredFixture);
      const { escrow, usdc, provider, other, leaseId, start, r2 } = f;
      const p = (await f.keeper.proofs(leaseId, f.billableAt))!;
      expect([p.pointTime, p.final]).to.deep.equal([r2, false]);
      const bill = bill8(firstMeter(start), await latestMeter(f, r2), DURATION, f.terms);
      expect(billArgs(bill)).to.deep.equal([6n * HOUR, 833n, 96n * USDC, 24n * USDC, 0n, 0n, FIRST_BILL]);
      await at(f.billableAt);
      const tx = escrow.connect(other).settle(leaseId, p.start, p.point);
      await expect(tx)
        .to.emit(escrow, "LeaseSettled")
        .withArgs(leaseId, provider.address, r2, billArgs(bill), FIRST_BILL);
      await expect(tx).to.changeTokenBalances(usdc, [escrow, provider, f.lessee], [0n, 0n, 0n]);
      expect(await escrow.withdrawable(provider.address, f.token)).to.equal(FIRST_BILL);
      const l = await escrow.leaseOf(leaseId);
      expect([l.billed, l.balance, l.startMetered]).to.deep.equal([FIRST_BILL, DEPOSIT - FIRST_BILL, true]);
      expect([l.startBusyGpuSeconds, l.startAvailableGpuSeconds, l.startEnergyJ]).to.deep.equal([
        1_000n,
        5_000n,
        1_000_000n,
      ]);
      expect(await escrow.accountingOf(leaseId)).to.deep.equal([DEPOSIT, FIRST_BILL, 0n, DEPOSIT - FIRST_BILL]);
      await expectSolvent(escrow, usdc, f.accounts);
    });

    it("returns the amount charged", async function () {
      const f = await loadFixture(meteredFixture);
      const p = (await f.keeper.proofs(f.leaseId, f.billableAt))!;
      await time.increaseTo(f.billableAt);
      expect(await f.escrow.connect(f.other).settle.staticCall(f.leaseId, p.start, p.point)).to.equal(FIRST_BILL);
    });

    it("charges only the bill's increase the next time, with the stored start meter (start absent)", async function () {
      const f = await loadFixture(settledFixture);
      const r4 = f.start + 36n * HOUR;
      await f.meters.useAt(r4, 10_000n, 10_000n);
      const p = (await f.keeper.proofs(f.leaseId, r4 + DAY))!;
      expect(p.start).to.deep.equal(ABSENT_BOUNDARY);
      const bill = bill8(firstMeter(f.start), await latestMeter(f, r4), DURATION, f.terms);
      expect(bill.total).to.equal(840n * USDC); // 8 x 36 h x 2 + (4 x 6 h + 8 x 30 h) x 1
      await at(r4 + DAY);
      await expect(f.escrow.settle(f.leaseId, p.start, p.point))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, r4, billArgs(bill), 720n * USDC);
      expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(840n * USDC);
      await expectLeaseBalanced(f.escrow, f.leaseId);
    });

    it("reverts NothingToSettle when the bill up to the point is already charged, changing nothing", async function () {
      const f = await loadFixture(settledFixture);
      const before = await stateOf(f);
      await expect(f.escrow.settle(f.leaseId, ABSENT_BOUNDARY, await readingAt(f, f.r2)))
        .to.be.revertedWithCustomError(f.escrow, "NothingToSettle")
        .withArgs(f.leaseId, FIRST_BILL, FIRST_BILL);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts ReadingNotYetBillable one second before the reading's dispute window has passed, changing nothing", async function () {
      const f = await loadFixture(meteredFixture);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      const before = await stateOf(f);
      await at(f.billableAt - 1n);
      await expect(f.escrow.settle(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(f.leaseId, f.billableAt);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts ReadingNotYetBillable for a point stamped after now, even past its dispute window (a window shorter than the skew)", async function () {
      const f = await loadFixture(thirtySecondWindowFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, DEPOSIT);
      const stamped = start + 6n * HOUR;
      await f.meters.useAt(stamped, 10_000n, 5_000n, stamped - 60n); // billable by its window from stamped − 30 s
      const p = (await f.keeper.proofs(leaseId, stamped))!;
      const before = await stateOf(f);
      await at(stamped - 1n);
      await expect(f.escrow.settle(leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(leaseId, stamped);
      expect(await stateOf(f)).to.deep.equal(before);
      await at(stamped);
      await expect(f.escrow.settle(leaseId, p.start, p.point))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(leaseId, f.provider.address, stamped, anyBill, anyUint);
    });

    it("reverts StartMeterRequired when the start meter is neither stored nor proven", async function () {
      const f = await loadFixture(meteredFixture);
      await at(f.billableAt);
      await expect(f.escrow.settle(f.leaseId, ABSENT_BOUNDARY, await readingAt(f, f.r2)))
        .to.be.revertedWithCustomError(f.escrow, "StartMeterRequired")
        .withArgs(f.leaseId);
    });

    it("bubbles the oracle's proof errors: InvalidReadingProof, UnknownBatch, ReadingOfOtherAsset", async function () {
      const f = await loadFixture(meteredFixture);
      const { escrow, oracle, nft, rig, leaseId } = f;
      await nft.mint(f.provider.address, {
        gpuModel: "NVIDIA H100 80GB HBM3",
        datacenter: "eu-west-fra2",
        serialsHash: ethers.id("serials-2"),
        vramMiBPerGpu: 81_559,
        gpuCount: 1,
        tdpWattsPerGpu: 300,
      });
      await rig.postDeltas(2n, f.r2 + 100n, {});
      const p = (await f.keeper.proofs(leaseId, undefined, true))!;
      const point = await readingAt(f, f.r2);
      const tampered = { ...point, later: { ...point.later, reading: point.later.reading.slice(0, -2) + "ff" } };
      const unknown = { ...point, later: { ...point.later, batchIndex: 9n } };
      const otherAsset = await readingAt(f, f.r2 + 100n, 2n);
      const before = await stateOf(f);
      await at(f.billableAt + 200n);
      await expect(escrow.settle(leaseId, p.start, tampered))
        .to.be.revertedWithCustomError(oracle, "InvalidReadingProof")
        .withArgs(2);
      await expect(escrow.settle(leaseId, p.start, unknown))
        .to.be.revertedWithCustomError(oracle, "UnknownBatch")
        .withArgs(9);
      await expect(escrow.settle(leaseId, p.start, otherAsset))
        .to.be.revertedWithCustomError(oracle, "ReadingOfOtherAsset")
        .withArgs(1n, 2n);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("caps the charge at the balance (the provider bears the shortfall), then has nothing more to settle", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, FULL_HOUR);
      await f.meters.useAt(start + 6n * HOUR, 10_000n, 10_000n);
      const bill = bill8(firstMeter(start), await latestMeter(f, start + 6n * HOUR), DAY, f.terms);
      expect(bill.total).to.equal(6n * FULL_HOUR);
      const p = (await f.keeper.proofs(leaseId, start + 6n * HOUR + DAY))!;
      await at(start + 6n * HOUR + DAY);
      await expect(f.escrow.settle(leaseId, p.start, p.point))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(leaseId, f.provider.address, start + 6n * HOUR, billArgs(bill), FULL_HOUR);
      expect(await f.escrow.accountingOf(leaseId)).to.deep.equal([FULL_HOUR, FULL_HOUR, 0n, 0n]);
      await expect(f.escrow.settle(leaseId, ABSENT_BOUNDARY, p.point))
        .to.be.revertedWithCustomError(f.escrow, "NothingToSettle")
        .withArgs(leaseId, 6n * FULL_HOUR, FULL_HOUR);
    });

    it("credits the lessee the SLA shortfall over the lease's whole time (settled up to the end)", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow.connect(f.provider).setLeaseTerms(f.assetId, termsFor(f.token)); // SLA target 99 %
      const terms = await f.escrow.leaseTermsAt(f.assetId, 2);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, 30n * FULL_HOUR);
      await f.meters.useAt(start + 12n * HOUR, 5_000n, 2_500n); // an outage: half the GPUs, a quarter busy
      await f.meters.useAt(start + DAY, 10_000n, 0n); // exactly at the end
      const p = (await f.keeper.proofs(leaseId, start + 2n * DAY))!;
      expect([p.pointTime, p.final]).to.deep.equal([start + DAY, true]);
      const bill = bill8(firstMeter(start), await latestMeter(f, start + DAY), DAY, terms);
      // 144 available GPU-hours x 2 + 24 busy x 1 = 312 USDC gross at 75 % availability against 99 %:
      // the credit is 312 x 24 / 99 rounded up, the bill 312 x 75 / 99 rounded down.
      expect(billArgs(bill)).to.deep.equal([DAY, 7_500n, 288n * USDC, 24n * USDC, 0n, 75_636_364n, 236_363_636n]);
      await at(start + 2n * DAY);
      await expect(f.escrow.settle(leaseId, p.start, p.point))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(leaseId, f.provider.address, start + DAY, billArgs(bill), 236_363_636n);
    });

    it("bills energy at the terms' price per kWh", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow
        .connect(f.provider)
        .setLeaseTerms(f.assetId, termsFor(f.token, { ...TERMS_OVERRIDES, energyPricePerKWh: 300_000n }));
      const terms = await f.escrow.leaseTermsAt(f.assetId, 2);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, 200n * USDC);
      expect(await f.escrow.minimumDeposit(f.assetId)).to.equal(FULL_HOUR + 2_520_000n); // + 8.4 kWh at TDP + 50 %
      await f.meters.useAt(start + 6n * HOUR, 10_000n, 10_000n, start + 6n * HOUR, TDP_WATTS);
      const bill = bill8(firstMeter(start), await latestMeter(f, start + 6n * HOUR), DAY, terms);
      // 48 GPU-hours at 700 W = 33.6 kWh x 0.30 USDC.
      expect([bill.energyFee, bill.total]).to.deep.equal([10_080_000n, 154_080_000n]);
      await at(start + 6n * HOUR + DAY);
      await expect(f.keeper.settle(leaseId, undefined, start + 6n * HOUR + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(leaseId, f.provider.address, start + 6n * HOUR, billArgs(bill), 154_080_000n);
    });

    it("interpolates the start meter between the readings around the start", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 4_000n;
      await f.meters.postAt(start - HOUR, {});
      await at(start);
      await f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT);
      await f.meters.useAt(start + HOUR, 10_000n, 10_000n); // 16 GPU-hours over the 2 h span, half in the lease
      await at(start + HOUR + DAY);
      await expect(f.keeper.settle(1n, undefined, start + HOUR + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(
          1n,
          f.provider.address,
          start + HOUR,
          [HOUR, 416n, 16n * USDC, 8n * USDC, 0n, 0n, 24n * USDC],
          24n * USDC,
        );
      const l = await f.escrow.leaseOf(1n);
      expect([l.startBusyGpuSeconds, l.startAvailableGpuSeconds, l.startEnergyJ]).to.deep.equal([
        1_000n + 28_800n,
        5_000n + 28_800n,
        1_000_000n,
      ]);
    });

    it("bills nothing before the asset's first reading: a start before it takes its values", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 100n;
      await at(start);
      await f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT);
      await f.meters.useAt(start + HOUR, 10_000n, 10_000n); // the asset's first reading
      await at(start + HOUR + DAY);
      await expect(f.keeper.settle(1n, undefined, start + HOUR + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(1n, f.provider.address, start + HOUR, [HOUR, 0n, 0n, 0n, 0n, 0n, 0n], 0n);
      const l = await f.escrow.leaseOf(1n);
      expect([l.startMetered, l.billed, l.startBusyGpuSeconds, l.startAvailableGpuSeconds]).to.deep.equal([
        true,
        0n,
        1_000n,
        5_000n,
      ]);
    });

    it("credits the NFT's owner at the moment of settlement (after a sale, the buyer)", async function () {
      const f = await loadFixture(meteredFixture);
      await f.nft.connect(f.provider).transferFrom(f.provider.address, f.buyer.address, f.assetId);
      await at(f.billableAt);
      await expect(f.keeper.settle(f.leaseId, f.other, f.billableAt))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.buyer.address, f.r2, anyBill, FIRST_BILL);
      expect(await f.escrow.withdrawable(f.buyer.address, f.token)).to.equal(FIRST_BILL);
      expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(0n);
    });

    it("bills up to the end (interpolated) from a reading after it, leaving the lease for close", async function () {
      const f = await loadFixture(pastEndFixture);
      const end = { ...(await latestMeter(f, f.end)) };
      end.availableGpuSeconds = 5_000n + GPUS * DURATION;
      const bill = bill8(firstMeter(f.start), end, DURATION, f.terms);
      expect(bill.total).to.equal(FINAL_BILL);
      await at(f.closableAt);
      await expect(f.escrow.settle(f.leaseId, ABSENT_BOUNDARY, await boundaryAt(f, f.end)))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, f.end, billArgs(bill), FINAL_BILL - FIRST_BILL);
      expect((await f.escrow.leaseOf(f.leaseId)).closed).to.equal(false);
    });

    it("reverts NothingToSettle once the asset is burned (no spec, no payee), changing nothing", async function () {
      const f = await loadFixture(meteredFixture);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      await f.nft.connect(f.provider).burn(f.assetId);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      const before = await escrowState(f.escrow, f.usdc, f.accounts, []);
      await at(f.billableAt);
      await expect(f.escrow.settle(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "NothingToSettle")
        .withArgs(f.leaseId, 0n, 0n);
      expect(await escrowState(f.escrow, f.usdc, f.accounts, [])).to.deep.equal(before);
    });

    it("works while paused (proven usage is never forgone)", async function () {
      const f = await loadFixture(meteredFixture);
      await f.escrow.connect(f.pauser).pause();
      await at(f.billableAt);
      await expect(f.keeper.settle(f.leaseId, f.other, f.billableAt))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, f.r2, anyBill, FIRST_BILL);
    });

    it("reverts UnknownLease and LeaseAlreadyClosed", async function () {
      const f = await loadFixture(pastEndFixture);
      const point = await boundaryAt(f, f.end);
      await expect(f.escrow.settle(99n, ABSENT_BOUNDARY, point))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(99n);
      await at(f.closableAt);
      await f.escrow.close(f.leaseId, ABSENT_BOUNDARY, point);
      await expect(f.escrow.settle(f.leaseId, ABSENT_BOUNDARY, point))
        .to.be.revertedWithCustomError(f.escrow, "LeaseAlreadyClosed")
        .withArgs(f.leaseId);
    });
  });

  describe("previewBill", function () {
    it("returns what settle will bill and charge, before the readings are billable", async function () {
      const f = await loadFixture(meteredFixture);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      const bill = bill8(firstMeter(f.start), await latestMeter(f, f.r2), DURATION, f.terms);
      expect(plainPreview(await f.escrow.previewBill(f.leaseId, p.start, p.point))).to.deep.equal([
        billArgs(bill),
        FIRST_BILL,
      ]);
      await at(f.billableAt);
      await f.escrow.settle(f.leaseId, p.start, p.point);
      expect(plainPreview(await f.escrow.previewBill(f.leaseId, ABSENT_BOUNDARY, p.point))).to.deep.equal([
        billArgs(bill),
        0n,
      ]);
    });

    it("caps the chargeable amount at the balance", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, FULL_HOUR);
      await f.meters.useAt(start + 2n * HOUR, 10_000n, 10_000n);
      const p = (await f.keeper.proofs(leaseId, undefined, true))!;
      const [bill, chargeable] = await f.escrow.previewBill(leaseId, p.start, p.point);
      expect([bill.total, chargeable]).to.deep.equal([2n * FULL_HOUR, FULL_HOUR]);
    });

    it("reverts UnknownLease and StartMeterRequired", async function () {
      const f = await loadFixture(meteredFixture);
      const point = await readingAt(f, f.r2);
      await expect(f.escrow.previewBill(7n, ABSENT_BOUNDARY, point))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(7n);
      await expect(f.escrow.previewBill(f.leaseId, ABSENT_BOUNDARY, point))
        .to.be.revertedWithCustomError(f.escrow, "StartMeterRequired")
        .withArgs(f.leaseId);
    });
  });

  describe("close", function () {
    /** The meter at the end of lease 1 in the pastEnd fixture: interpolated from batches 2 and 3. */
    async function endMeter(f: TermsFixture & { end: bigint; r2: bigint }) {
      const m = await latestMeter(f, f.end);
      return { ...m, availableGpuSeconds: 5_000n + GPUS * DURATION };
    }

    it("bills up to the end from the first reading after it, refunds the rest and records Expired", async function () {
      const f = await loadFixture(pastEndFixture);
      const { escrow, usdc, lessee, provider, other, leaseId } = f;
      const bill = bill8(firstMeter(f.start), await endMeter(f), DURATION, f.terms);
      expect(billArgs(bill)).to.deep.equal([DURATION, 10_000n, 1_152n * USDC, 24n * USDC, 0n, 0n, FINAL_BILL]);
      const refund = DEPOSIT - FINAL_BILL;
      await at(f.closableAt);
      const tx = f.keeper.close(leaseId, other, f.closableAt);
      await expect(tx)
        .to.emit(escrow, "LeaseSettled")
        .withArgs(leaseId, provider.address, f.end, billArgs(bill), FINAL_BILL - FIRST_BILL);
      await expect(tx).to.emit(escrow, "LeaseClosed").withArgs(leaseId, EndReason.Expired, other.address, true, refund);
      await expect(tx).to.changeTokenBalances(usdc, [escrow, lessee, provider], [0n, 0n, 0n]);
      expect(await escrow.withdrawable(lessee.address, f.token)).to.equal(refund);
      expect(await escrow.withdrawable(provider.address, f.token)).to.equal(FINAL_BILL);
      const l = await escrow.leaseOf(leaseId);
      expect([l.closed, l.endReason, l.balance, l.billed, l.endTime]).to.deep.equal([
        true,
        BigInt(EndReason.Expired),
        0n,
        FINAL_BILL,
        f.end,
      ]);
      expect(await escrow.accountingOf(leaseId)).to.deep.equal([DEPOSIT, FINAL_BILL, refund, 0n]);
      expect(await escrow.unfinishedLeasesOf(f.assetId)).to.deep.equal([0n, ethers.ZeroAddress]);
      await expectSolvent(escrow, usdc, f.accounts);
    });

    it("bills up to a final reading stamped exactly at the end", async function () {
      const f = await loadFixture(openFixture);
      await f.meters.useAt(f.end, 10_000n, 0n);
      await at(f.end + DAY);
      await expect(f.keeper.close(f.leaseId, f.other, f.end + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(
          f.leaseId,
          f.provider.address,
          f.end,
          [DURATION, 10_000n, 1_152n * USDC, 0n, 0n, 0n, 1_152n * USDC],
          1_152n * USDC,
        )
        .and.to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.Expired, f.other.address, true, DEPOSIT - 1_152n * USDC);
    });

    it("bills nothing of the time between an impossible pair of readings around the end (the earlier one bounds it)", async function () {
      const f = await loadFixture(meteredFixture);
      const r3 = f.end + 600n;
      await f.meters.postAt(r3, { availableGpuSeconds: 2n * GPUS * (r3 - f.r2) }); // more than the GPUs can offer
      const point = await latestMeter(f, f.end);
      const m2 = { ...point, availableGpuSeconds: 5_000n + GPUS * 6n * HOUR };
      const bill = bill8(firstMeter(f.start), m2, DURATION, f.terms);
      expect(bill.total).to.equal(FIRST_BILL);
      await at(r3 + DAY);
      await expect(f.keeper.close(f.leaseId, f.other, r3 + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, f.end, billArgs(bill), FIRST_BILL)
        .and.to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.Expired, f.other.address, true, DEPOSIT - FIRST_BILL);
    });

    it("reverts NotFinalReading for a point before the end, changing nothing", async function () {
      const f = await loadFixture(pastEndFixture);
      const before = await stateOf(f);
      await at(f.closableAt);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, await readingAt(f, f.r2)))
        .to.be.revertedWithCustomError(f.escrow, "NotFinalReading")
        .withArgs(f.leaseId, f.r2, f.end);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts ReadingNotYetBillable one second before the final reading is billable, changing nothing", async function () {
      const f = await loadFixture(pastEndFixture);
      const before = await stateOf(f);
      await at(f.closableAt - 1n);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, await boundaryAt(f, f.end)))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(f.leaseId, f.closableAt);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts StartMeterRequired for a final reading when the start meter is neither stored nor proven", async function () {
      const f = await loadFixture(meteredFixture);
      await f.meters.useAt(f.end + 600n, 10_000n, 0n);
      await at(f.end + 600n + DAY);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, await boundaryAt(f, f.end)))
        .to.be.revertedWithCustomError(f.escrow, "StartMeterRequired")
        .withArgs(f.leaseId);
    });

    it("reverts LeaseNotExpired one second before the end, changing nothing", async function () {
      const f = await loadFixture(settledFixture);
      const before = await stateOf(f);
      await at(f.end - 1n);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.be.revertedWithCustomError(f.escrow, "LeaseNotExpired")
        .withArgs(f.leaseId, f.end);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("without a reading at or after the end, waits the grace period, then closes without billing the unproven tail", async function () {
      const f = await loadFixture(settledFixture);
      const grace = await f.escrow.FINAL_READING_GRACE_SECONDS();
      await time.increaseTo(f.end);
      const before = await stateOf(f);
      await at(f.end + grace - 1n);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.be.revertedWithCustomError(f.escrow, "AwaitingFinalReading")
        .withArgs(f.leaseId, f.end + grace);
      expect(await stateOf(f)).to.deep.equal(before);
      await at(f.end + grace);
      const tx = f.escrow.connect(f.other).close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY);
      await expect(tx)
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.Expired, f.other.address, false, DEPOSIT - FIRST_BILL);
      await expect(tx).not.to.emit(f.escrow, "LeaseSettled");
      expect(await f.escrow.accountingOf(f.leaseId)).to.deep.equal([DEPOSIT, FIRST_BILL, DEPOSIT - FIRST_BILL, 0n]);
    });

    for (const withReading of [false, true]) {
      it(`closes at once, without billing more, when the asset was burned after expiry (${withReading ? "given" : "without"} a final reading)`, async function () {
        const f = await loadFixture(pastEndFixture);
        const point = withReading ? await boundaryAt(f, f.end) : ABSENT_BOUNDARY;
        await f.nft.connect(f.provider).burn(f.assetId);
        const tx = f.escrow.connect(f.other).close(f.leaseId, ABSENT_BOUNDARY, point);
        await expect(tx)
          .to.emit(f.escrow, "LeaseClosed")
          .withArgs(f.leaseId, EndReason.Expired, f.other.address, false, DEPOSIT - FIRST_BILL);
        await expect(tx).not.to.emit(f.escrow, "LeaseSettled");
        await expectLeaseBalanced(f.escrow, f.leaseId);
      });
    }

    it("after an early end by the lessee, bills up to the new end from the first reading at or after it", async function () {
      const f = await loadFixture(meteredFixture);
      const endedAt = f.start + 12n * HOUR;
      await at(endedAt);
      await f.escrow.connect(f.lessee).endByLessee(f.leaseId);
      await f.meters.useAt(endedAt + HOUR, 10_000n, 10_000n);
      // At the new end: 8 x 12 available GPU-hours x 2 + (4 x 6 + 8 x 6) busy x 1, over a 12 h lease.
      const bill = [12n * HOUR, 10_000n, 192n * USDC, 72n * USDC, 0n, 0n, 264n * USDC];
      await at(endedAt + HOUR + DAY);
      await expect(f.keeper.close(f.leaseId, f.other, endedAt + HOUR + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, endedAt, bill, 264n * USDC)
        .and.to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.EndedByLessee, f.other.address, true, DEPOSIT - 264n * USDC);
    });

    it("works while paused", async function () {
      const f = await loadFixture(pastEndFixture);
      await f.escrow.connect(f.pauser).pause();
      await at(f.closableAt);
      await expect(f.keeper.close(f.leaseId, f.other, f.closableAt))
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.Expired, f.other.address, true, DEPOSIT - FINAL_BILL);
    });

    it("refunds only the balance while a dispute is open: the disputed amount stays held and the lease unfinished", async function () {
      const f = await loadFixture(disputedFixture);
      const r3 = f.end + 600n;
      await f.meters.useAt(r3, 10_000n, 0n);
      await at(r3 + DAY);
      await expect(f.keeper.close(f.leaseId, f.other, r3 + DAY))
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.Expired, f.other.address, true, DEPOSIT - FINAL_BILL);
      expect(await f.escrow.accountingOf(f.leaseId)).to.deep.equal([
        DEPOSIT,
        FINAL_BILL - FIRST_BILL,
        DEPOSIT - FINAL_BILL,
        FIRST_BILL,
      ]);
      expect(await f.escrow.unfinishedLeasesOf(f.assetId)).to.deep.equal([1n, f.token]);
      await f.escrow.resolveDisputeByTimeout(f.leaseId);
      expect(await f.escrow.unfinishedLeasesOf(f.assetId)).to.deep.equal([0n, ethers.ZeroAddress]);
      await expectSolvent(f.escrow, f.usdc, f.accounts);
    });

    it("reverts LeaseAlreadyClosed the second time and UnknownLease for an unknown id", async function () {
      const f = await loadFixture(pastEndFixture);
      await at(f.closableAt);
      await f.keeper.close(f.leaseId, f.other, f.closableAt);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.be.revertedWithCustomError(f.escrow, "LeaseAlreadyClosed")
        .withArgs(f.leaseId);
      await expect(f.escrow.close(5n, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(5n);
    });
  });

  // ------------------------------------------------------------------ early ends

  describe("endByLessee", function () {
    it("ends the lease now: LeaseEnded, NFT user cleared, end time truncated; the balance waits for close", async function () {
      const f = await loadFixture(openFixture);
      const endedAt = f.start + 2n * HOUR;
      await at(endedAt);
      const tx = f.escrow.connect(f.lessee).endByLessee(f.leaseId);
      await expect(tx)
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.EndedByLessee, f.lessee.address, endedAt);
      await expect(tx).to.emit(f.nft, "UpdateUser").withArgs(f.assetId, ethers.ZeroAddress, 0n);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.escrow, f.lessee], [0n, 0n]);
      expect(await f.nft.userOf(f.assetId)).to.equal(ethers.ZeroAddress);
      expect(await f.nft.isLeasable(f.assetId)).to.equal(true);
      const l = await f.escrow.leaseOf(f.leaseId);
      expect([l.endTime, l.endReason, l.closed, l.balance]).to.deep.equal([
        endedAt,
        BigInt(EndReason.EndedByLessee),
        false,
        DEPOSIT,
      ]);
      expect(await f.escrow.unfinishedLeasesOf(f.assetId)).to.deep.equal([1n, f.token]);
    });

    it("reverts MinimumDurationNotReached one second before the minimum duration, and ends at exactly it", async function () {
      const f = await loadFixture(openFixture);
      const earliest = f.start + MIN_DURATION;
      const before = await stateOf(f);
      await at(earliest - 1n);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "MinimumDurationNotReached")
        .withArgs(f.leaseId, earliest);
      expect(await stateOf(f)).to.deep.equal(before);
      await at(earliest);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.EndedByLessee, f.lessee.address, earliest);
    });

    it("reverts NotLessee, LeaseAlreadyEnded and UnknownLease, changing nothing", async function () {
      const f = await loadFixture(openFixture);
      await time.increaseTo(f.start + 2n * HOUR);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.other).endByLessee(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "NotLessee")
        .withArgs(f.leaseId, f.other.address);
      await expect(f.escrow.connect(f.lessee).endByLessee(3n))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(3n);
      expect(await stateOf(f)).to.deep.equal(before);
      await f.escrow.connect(f.lessee).endByLessee(f.leaseId);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseAlreadyEnded")
        .withArgs(f.leaseId, EndReason.EndedByLessee);
    });

    it("reverts EarlyEndNotAllowed when the lease's terms forbid it", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow.connect(f.provider).setLeaseTerms(f.assetId, termsFor(f.token, { earlyEndAllowed: false }));
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, DEPOSIT);
      await time.increaseTo(start + 2n * HOUR);
      await expect(f.escrow.connect(f.lessee).endByLessee(leaseId))
        .to.be.revertedWithCustomError(f.escrow, "EarlyEndNotAllowed")
        .withArgs(leaseId);
      expect((await f.escrow.leaseOf(leaseId)).endReason).to.equal(EndReason.None);
    });

    it("reverts LeaseExpired from the end time on", async function () {
      const f = await loadFixture(openFixture);
      await at(f.end);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseExpired")
        .withArgs(f.leaseId, f.end);
    });

    it("works while paused", async function () {
      const f = await loadFixture(openFixture);
      await f.escrow.connect(f.pauser).pause();
      await at(f.start + 2n * HOUR);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.EndedByLessee, f.lessee.address, f.start + 2n * HOUR);
    });
  });

  describe("terminateByProvider", function () {
    it("ends the lease now for the NFT's owner: LeaseEnded, NFT user cleared", async function () {
      const f = await loadFixture(openFixture);
      const endedAt = f.start + 60n;
      await at(endedAt);
      const tx = f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      await expect(tx)
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.TerminatedByProvider, f.provider.address, endedAt);
      await expect(tx).to.emit(f.nft, "UpdateUser").withArgs(f.assetId, ethers.ZeroAddress, 0n);
      const l = await f.escrow.leaseOf(f.leaseId);
      expect([l.endTime, l.endReason, l.balance]).to.deep.equal([
        endedAt,
        BigInt(EndReason.TerminatedByProvider),
        DEPOSIT,
      ]);
    });

    it("lets an operator the owner approved terminate", async function () {
      const f = await loadFixture(openFixture);
      await f.nft.connect(f.provider).setApprovalForAll(f.operator.address, true);
      await expect(f.escrow.connect(f.operator).terminateByProvider(f.leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.TerminatedByProvider, f.operator.address, anyUint);
    });

    it("reverts NotAssetOperator for the lessee, a stranger and a former owner, changing nothing", async function () {
      const f = await loadFixture(openFixture);
      await f.nft.connect(f.provider).transferFrom(f.provider.address, f.buyer.address, f.assetId);
      const before = await stateOf(f);
      for (const caller of [f.lessee, f.other, f.provider]) {
        await expect(f.escrow.connect(caller).terminateByProvider(f.leaseId))
          .to.be.revertedWithCustomError(f.escrow, "NotAssetOperator")
          .withArgs(f.assetId, caller.address);
      }
      expect(await stateOf(f)).to.deep.equal(before);
      await expect(f.escrow.connect(f.buyer).terminateByProvider(f.leaseId)).to.emit(f.escrow, "LeaseEnded");
    });

    it("reverts LeaseExpired at the end time, LeaseAlreadyEnded after an end and UnknownLease", async function () {
      const f = await loadFixture(openFixture);
      await expect(f.escrow.connect(f.provider).terminateByProvider(2n))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(2n);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      await expect(f.escrow.connect(f.provider).terminateByProvider(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseAlreadyEnded")
        .withArgs(f.leaseId, EndReason.TerminatedByProvider);
      const g = await loadFixture(openFixture);
      await at(g.end);
      await expect(g.escrow.connect(g.provider).terminateByProvider(g.leaseId))
        .to.be.revertedWithCustomError(g.escrow, "LeaseExpired")
        .withArgs(g.leaseId, g.end);
    });

    it("works while paused", async function () {
      const f = await loadFixture(openFixture);
      await f.escrow.connect(f.pauser).pause();
      await expect(f.escrow.connect(f.provider).terminateByProvider(f.leaseId)).to.emit(f.escrow, "LeaseEnded");
    });
  });

  describe("closeUnderfunded", function () {
    /** Full use of the 8-GPU asset for `seconds` under terms v1, rounded as `SettlementMath.fullUseCost`. */
    const fullUse = (seconds: bigint) => (GPUS * seconds * 2n * USDC) / HOUR + (GPUS * seconds * USDC) / HOUR;

    /** A 1-day lease with two hours of full use deposited. */
    async function twoHoursFixture() {
      const f = await termsFixture();
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, 2n * FULL_HOUR);
      return { ...f, leaseId, start };
    }

    it("lets anyone end a lease from the first second its deposits cannot cover full use up to an hour ahead", async function () {
      const f = await loadFixture(twoHoursFixture);
      const before = await stateOf(f);
      await at(f.start + HOUR);
      await expect(f.escrow.connect(f.other).closeUnderfunded(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
        .withArgs(f.leaseId, 2n * FULL_HOUR, fullUse(2n * HOUR));
      expect(await stateOf(f)).to.deep.equal(before);
      expect(fullUse(2n * HOUR + 1n)).to.be.gt(2n * FULL_HOUR);
      await at(f.start + HOUR + 1n);
      const tx = f.escrow.connect(f.other).closeUnderfunded(f.leaseId);
      await expect(tx)
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.InsufficientFunds, f.other.address, f.start + HOUR + 1n);
      await expect(tx).to.emit(f.nft, "UpdateUser").withArgs(f.assetId, ethers.ZeroAddress, 0n);
      const l = await f.escrow.leaseOf(f.leaseId);
      expect([l.endTime, l.endReason, l.balance]).to.deep.equal([
        f.start + HOUR + 1n,
        BigInt(EndReason.InsufficientFunds),
        2n * FULL_HOUR,
      ]);
    });

    it("is refused again once a top-up covers the next hour", async function () {
      const f = await loadFixture(twoHoursFixture);
      await at(f.start + HOUR + 1n);
      await f.escrow.connect(f.other).topUp(f.leaseId, FULL_HOUR);
      await at(f.start + HOUR + 2n);
      await expect(f.escrow.connect(f.other).closeUnderfunded(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
        .withArgs(f.leaseId, 3n * FULL_HOUR, fullUse(2n * HOUR + 2n));
    });

    it("reverts LeaseNotUnderfunded for a lease funded for its whole time, with the requirement capped at the end", async function () {
      const f = await loadFixture(openFixture);
      await at(f.end - 1n);
      await expect(f.escrow.connect(f.other).closeUnderfunded(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
        .withArgs(f.leaseId, DEPOSIT, fullUse(DURATION));
    });

    it("reverts LeaseExpired at the end time, LeaseAlreadyEnded after an end and UnknownLease", async function () {
      const f = await loadFixture(twoHoursFixture);
      await expect(f.escrow.closeUnderfunded(4n)).to.be.revertedWithCustomError(f.escrow, "UnknownLease").withArgs(4n);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      await expect(f.escrow.closeUnderfunded(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseAlreadyEnded")
        .withArgs(f.leaseId, EndReason.TerminatedByProvider);
      const g = await loadFixture(twoHoursFixture);
      await at(g.start + DAY);
      await expect(g.escrow.closeUnderfunded(g.leaseId))
        .to.be.revertedWithCustomError(g.escrow, "LeaseExpired")
        .withArgs(g.leaseId, g.start + DAY);
    });

    it("works while paused", async function () {
      const f = await loadFixture(twoHoursFixture);
      await f.escrow.connect(f.pauser).pause();
      await at(f.start + 2n * HOUR);
      await expect(f.escrow.connect(f.other).closeUnderfunded(f.leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.InsufficientFunds, f.other.address, f.start + 2n * HOUR);
    });
  });

  // ------------------------------------------------------------------ disputes

  describe("dispute", function () {
    it("takes the bill's increase up to the named point from the balance and holds it for the arbiter", async function () {
      const f = await loadFixture(meteredFixture);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      const disputedAt = f.r2 + 60n;
      await at(disputedAt);
      const tx = f.escrow.connect(f.lessee).dispute(f.leaseId, p.start, p.point);
      await expect(tx)
        .to.emit(f.escrow, "DisputeRaised")
        .withArgs(f.leaseId, FIRST_BILL, f.r2, disputedAt + ARBITER_TIMEOUT);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.escrow, f.lessee, f.provider], [0n, 0n, 0n]);
      const l = await f.escrow.leaseOf(f.leaseId);
      expect([l.disputed, l.billed, l.balance, l.disputeDeadline, l.startMetered]).to.deep.equal([
        FIRST_BILL,
        FIRST_BILL,
        DEPOSIT - FIRST_BILL,
        disputedAt + ARBITER_TIMEOUT,
        true,
      ]);
      expect(await f.escrow.accountingOf(f.leaseId)).to.deep.equal([DEPOSIT, 0n, 0n, DEPOSIT]);
      expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(0n);
      await expectSolvent(f.escrow, f.usdc, f.accounts);
    });

    it("returns the amount held", async function () {
      const f = await loadFixture(meteredFixture);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      expect(await f.escrow.connect(f.lessee).dispute.staticCall(f.leaseId, p.start, p.point)).to.equal(FIRST_BILL);
    });

    it("disputes readings of any age, also those already billable", async function () {
      const f = await loadFixture(meteredFixture);
      await time.increaseTo(f.billableAt + DAY);
      await expect(f.keeper.dispute(f.leaseId, f.lessee))
        .to.emit(f.escrow, "DisputeRaised")
        .withArgs(f.leaseId, FIRST_BILL, f.r2, anyUint);
    });

    it("leaves nothing for settle at the disputed point; later readings settle the rest", async function () {
      const f = await loadFixture(disputedFixture);
      await at(f.billableAt);
      await expect(f.escrow.settle(f.leaseId, ABSENT_BOUNDARY, await readingAt(f, f.r2)))
        .to.be.revertedWithCustomError(f.escrow, "NothingToSettle")
        .withArgs(f.leaseId, FIRST_BILL, FIRST_BILL);
      const r4 = f.start + 36n * HOUR;
      await f.meters.useAt(r4, 10_000n, 10_000n);
      await at(r4 + DAY);
      await expect(f.keeper.settle(f.leaseId, f.other, r4 + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, r4, anyBill, 720n * USDC);
    });

    it("reverts NotLessee, DisputeAlreadyOpen, StartMeterRequired and UnknownLease, changing nothing", async function () {
      const f = await loadFixture(disputedFixture);
      const r4 = f.start + 36n * HOUR;
      await f.meters.useAt(r4, 10_000n, 10_000n);
      const point = await readingAt(f, r4);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.other).dispute(f.leaseId, ABSENT_BOUNDARY, point))
        .to.be.revertedWithCustomError(f.escrow, "NotLessee")
        .withArgs(f.leaseId, f.other.address);
      await expect(f.escrow.connect(f.lessee).dispute(f.leaseId, ABSENT_BOUNDARY, point))
        .to.be.revertedWithCustomError(f.escrow, "DisputeAlreadyOpen")
        .withArgs(f.leaseId, FIRST_BILL);
      await expect(f.escrow.connect(f.lessee).dispute(8n, ABSENT_BOUNDARY, point))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(8n);
      expect(await stateOf(f)).to.deep.equal(before);
      const g = await loadFixture(meteredFixture);
      await expect(g.escrow.connect(g.lessee).dispute(g.leaseId, ABSENT_BOUNDARY, await readingAt(g, g.r2)))
        .to.be.revertedWithCustomError(g.escrow, "StartMeterRequired")
        .withArgs(g.leaseId);
    });

    it("reverts NothingToDispute when the bill up to the point is already charged, changing nothing", async function () {
      const f = await loadFixture(settledFixture);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.lessee).dispute(f.leaseId, ABSENT_BOUNDARY, await readingAt(f, f.r2)))
        .to.be.revertedWithCustomError(f.escrow, "NothingToDispute")
        .withArgs(f.leaseId, FIRST_BILL, FIRST_BILL);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("reverts NothingToDispute once the asset is burned, and LeaseAlreadyClosed after close", async function () {
      const f = await loadFixture(meteredFixture);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      await f.nft.connect(f.provider).burn(f.assetId);
      await expect(f.escrow.connect(f.lessee).dispute(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "NothingToDispute")
        .withArgs(f.leaseId, 0n, 0n);
      await f.escrow.close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY);
      await expect(f.escrow.connect(f.lessee).dispute(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "LeaseAlreadyClosed")
        .withArgs(f.leaseId);
    });

    it("reverts ReadingNotYetBillable for a point stamped after now (ahead within the oracle's skew) until its time", async function () {
      const f = await loadFixture(openFixture);
      const stamped = f.start + 6n * HOUR;
      await f.meters.useAt(stamped, 10_000n, 5_000n, stamped - 50n); // accepted 50 s before its time
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      const before = await stateOf(f);
      await at(stamped - 1n);
      await expect(f.escrow.connect(f.lessee).dispute(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(f.leaseId, stamped);
      expect(await stateOf(f)).to.deep.equal(before);
      await at(stamped);
      await expect(f.escrow.connect(f.lessee).dispute(f.leaseId, p.start, p.point))
        .to.emit(f.escrow, "DisputeRaised")
        .withArgs(f.leaseId, FIRST_BILL, stamped, stamped + ARBITER_TIMEOUT);
    });

    it("can never hold time after the lease's end: a future point disputed before an early end is refused", async function () {
      const f = await loadFixture(openFixture);
      const stamped = f.start + 6n * HOUR;
      await f.meters.useAt(stamped, 10_000n, 5_000n, stamped - 50n);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      await at(stamped - 40n);
      await expect(f.escrow.connect(f.lessee).dispute(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(f.leaseId, stamped);
      await at(stamped - 30n);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      // Billed only up to the new end: 8 GPUs available for 6 h − 30 s, half busy, interpolated.
      const end = stamped - 30n;
      const bill = bill8(
        firstMeter(f.start),
        {
          timestamp: end,
          busyGpuSeconds: 1_000n + (4n * 6n * HOUR * (end - f.start)) / (6n * HOUR),
          availableGpuSeconds: 5_000n + 8n * (end - f.start),
          energyJ: 1_000_000n,
        },
        end - f.start,
        f.terms,
      );
      await at(stamped - 50n + DAY);
      await expect(f.keeper.close(f.leaseId, f.other, stamped - 50n + DAY))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, end, billArgs(bill), bill.total);
      expect(bill.total).to.be.lt(FIRST_BILL);
      expect((await f.escrow.leaseOf(f.leaseId)).billed).to.equal(bill.total);
    });

    it("works while paused and after an early end", async function () {
      const f = await loadFixture(meteredFixture);
      await f.escrow.connect(f.lessee).endByLessee(f.leaseId);
      await f.escrow.connect(f.pauser).pause();
      await expect(f.keeper.dispute(f.leaseId, f.lessee))
        .to.emit(f.escrow, "DisputeRaised")
        .withArgs(f.leaseId, FIRST_BILL, f.r2, anyUint);
    });
  });

  describe("resolveDispute", function () {
    it("splits the disputed amount: the lessee's share refunded, the rest credited to the NFT's owner", async function () {
      const f = await loadFixture(disputedFixture);
      const toLessee = 30n * USDC;
      const tx = f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, toLessee);
      await expect(tx)
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(f.leaseId, f.arbiter.address, toLessee, FIRST_BILL - toLessee, false);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.escrow, f.lessee, f.provider], [0n, 0n, 0n]);
      expect(await f.escrow.withdrawable(f.lessee.address, f.token)).to.equal(toLessee);
      expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(FIRST_BILL - toLessee);
      const l = await f.escrow.leaseOf(f.leaseId);
      expect([l.disputed, l.disputeDeadline, l.disputeRefunded, l.billed]).to.deep.equal([
        0n,
        0n,
        toLessee,
        FIRST_BILL,
      ]);
      expect(await f.escrow.accountingOf(f.leaseId)).to.deep.equal([
        DEPOSIT,
        FIRST_BILL - toLessee,
        toLessee,
        DEPOSIT - FIRST_BILL,
      ]);
      await expectSolvent(f.escrow, f.usdc, f.accounts);
    });

    for (const [name, share] of [
      ["all to the lessee", FIRST_BILL],
      ["all to the NFT's owner", 0n],
    ] as const) {
      it(`splits ${name}`, async function () {
        const f = await loadFixture(disputedFixture);
        await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, share))
          .to.emit(f.escrow, "DisputeResolved")
          .withArgs(f.leaseId, f.arbiter.address, share, FIRST_BILL - share, false);
        expect(await f.escrow.withdrawable(f.lessee.address, f.token)).to.equal(share);
        expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(FIRST_BILL - share);
        await expectLeaseBalanced(f.escrow, f.leaseId);
      });
    }

    it("reverts InvalidSplit, NoOpenDispute, UnknownLease and AccessControlUnauthorizedAccount, changing nothing", async function () {
      const f = await loadFixture(disputedFixture);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, FIRST_BILL + 1n))
        .to.be.revertedWithCustomError(f.escrow, "InvalidSplit")
        .withArgs(f.leaseId, FIRST_BILL + 1n, FIRST_BILL);
      await expect(f.escrow.connect(f.other).resolveDispute(f.leaseId, 0n))
        .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
        .withArgs(f.other.address, await f.escrow.ARBITER_ROLE());
      await expect(f.escrow.connect(f.arbiter).resolveDispute(9n, 0n))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(9n);
      expect(await stateOf(f)).to.deep.equal(before);
      await f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 0n);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 0n))
        .to.be.revertedWithCustomError(f.escrow, "NoOpenDispute")
        .withArgs(f.leaseId);
    });

    it("resolves one second before the deadline and reverts ArbiterTimeoutPassed at exactly the deadline", async function () {
      const f = await loadFixture(disputedFixture);
      await at(f.deadline - 1n);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 1n)).to.emit(f.escrow, "DisputeResolved");
      const g = await loadFixture(disputedFixture);
      await time.increaseTo(g.deadline - 2n); // past the lease end: the NFT user right has lapsed
      const before = await stateOf(g);
      await at(g.deadline);
      await expect(g.escrow.connect(g.arbiter).resolveDispute(g.leaseId, 1n))
        .to.be.revertedWithCustomError(g.escrow, "ArbiterTimeoutPassed")
        .withArgs(g.leaseId, g.deadline);
      expect(await stateOf(g)).to.deep.equal(before);
    });

    it("credits the payee's share to the NFT's owner at resolution (after a sale, the buyer)", async function () {
      const f = await loadFixture(disputedFixture);
      await f.nft.connect(f.provider).transferFrom(f.provider.address, f.buyer.address, f.assetId);
      await f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 20n * USDC);
      expect(await f.escrow.withdrawable(f.buyer.address, f.token)).to.equal(100n * USDC);
      expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(0n);
    });

    it("refunds the payee's share to the lessee when the asset was burned (nobody else can be paid)", async function () {
      const f = await loadFixture(disputedFixture);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      await f.nft.connect(f.provider).burn(f.assetId);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 30n * USDC))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(f.leaseId, f.arbiter.address, 30n * USDC, 90n * USDC, false);
      expect(await f.escrow.withdrawable(f.lessee.address, f.token)).to.equal(FIRST_BILL);
      expect(await f.escrow.accountingOf(f.leaseId)).to.deep.equal([DEPOSIT, 0n, FIRST_BILL, DEPOSIT - FIRST_BILL]);
      expect((await f.escrow.leaseOf(f.leaseId)).disputeRefunded).to.equal(FIRST_BILL);
    });

    it("works while paused", async function () {
      const f = await loadFixture(disputedFixture);
      await f.escrow.connect(f.pauser).pause();
      await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 0n)).to.emit(f.escrow, "DisputeResolved");
    });
  });

  describe("resolveDisputeByTimeout", function () {
    it("applies the default at exactly the deadline (anyone): the charge stands and is credited to the owner", async function () {
      const f = await loadFixture(disputedFixture);
      await time.increaseTo(f.deadline - 2n); // past the lease end: the NFT user right has lapsed
      const before = await stateOf(f);
      await at(f.deadline - 1n);
      await expect(f.escrow.connect(f.other).resolveDisputeByTimeout(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "ArbiterTimeoutNotReached")
        .withArgs(f.leaseId, f.deadline);
      expect(await stateOf(f)).to.deep.equal(before);
      await at(f.deadline);
      await expect(f.escrow.connect(f.other).resolveDisputeByTimeout(f.leaseId))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(f.leaseId, f.other.address, 0n, FIRST_BILL, true);
      expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(FIRST_BILL);
      expect(await f.escrow.accountingOf(f.leaseId)).to.deep.equal([DEPOSIT, FIRST_BILL, 0n, DEPOSIT - FIRST_BILL]);
    });

    it("reverts NoOpenDispute and UnknownLease", async function () {
      const f = await loadFixture(openFixture);
      await expect(f.escrow.resolveDisputeByTimeout(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "NoOpenDispute")
        .withArgs(f.leaseId);
      await expect(f.escrow.resolveDisputeByTimeout(0n))
        .to.be.revertedWithCustomError(f.escrow, "UnknownLease")
        .withArgs(0n);
    });

    it("refunds the lessee when the asset was burned, and works while paused", async function () {
      const f = await loadFixture(disputedFixture);
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      await f.nft.connect(f.provider).burn(f.assetId);
      await f.escrow.connect(f.pauser).pause();
      await time.increaseTo(f.deadline);
      await expect(f.escrow.resolveDisputeByTimeout(f.leaseId))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(f.leaseId, f.admin.address, 0n, FIRST_BILL, true);
      expect(await f.escrow.withdrawable(f.lessee.address, f.token)).to.equal(FIRST_BILL);
      await expectLeaseBalanced(f.escrow, f.leaseId);
    });
  });

  // ------------------------------------------------------------------ payouts and views

  describe("withdraw", function () {
    it("pays the caller's whole balance to the recipient it names", async function () {
      const f = await loadFixture(settledFixture);
      expect(await f.escrow.connect(f.provider).withdraw.staticCall(f.token, f.other.address)).to.equal(FIRST_BILL);
      const tx = f.escrow.connect(f.provider).withdraw(f.token, f.other.address);
      await expect(tx)
        .to.emit(f.escrow, "Withdrawn")
        .withArgs(f.provider.address, f.token, f.other.address, FIRST_BILL);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.escrow, f.other, f.provider], [-FIRST_BILL, FIRST_BILL, 0n]);
      expect(await f.escrow.withdrawable(f.provider.address, f.token)).to.equal(0n);
      await expectSolvent(f.escrow, f.usdc, f.accounts);
    });

    it("pays nothing, emits nothing and returns 0 for a zero balance", async function () {
      const f = await loadFixture(settledFixture);
      expect(await f.escrow.connect(f.lessee).withdraw.staticCall(f.token, f.lessee.address)).to.equal(0n);
      const tx = f.escrow.connect(f.lessee).withdraw(f.token, f.lessee.address);
      await expect(tx).not.to.emit(f.escrow, "Withdrawn");
      await expect(tx).to.changeTokenBalances(f.usdc, [f.escrow, f.lessee], [0n, 0n]);
    });

    it("reverts ZeroAddress for the zero recipient, changing nothing", async function () {
      const f = await loadFixture(settledFixture);
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.provider).withdraw(f.token, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.escrow,
        "ZeroAddress",
      );
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("works while paused", async function () {
      const f = await loadFixture(settledFixture);
      await f.escrow.connect(f.pauser).pause();
      await expect(f.escrow.connect(f.provider).withdraw(f.token, f.provider.address)).to.changeTokenBalances(
        f.usdc,
        [f.provider],
        [FIRST_BILL],
      );
    });
  });

  describe("leaseOf / accountingOf / leaseCount", function () {
    it("revert UnknownLease for id 0 and for an id not yet opened", async function () {
      const f = await loadFixture(openFixture);
      expect(await f.escrow.leaseCount()).to.equal(1n);
      for (const id of [0n, 2n]) {
        await expect(f.escrow.leaseOf(id)).to.be.revertedWithCustomError(f.escrow, "UnknownLease").withArgs(id);
        await expect(f.escrow.accountingOf(id)).to.be.revertedWithCustomError(f.escrow, "UnknownLease").withArgs(id);
      }
    });
  });

  describe("minimumDeposit", function () {
    it("is one hour of full use under the current terms, zero without terms, and reverts for an unknown asset", async function () {
      const f = await loadFixture(termsFixture);
      expect(await f.escrow.minimumDeposit(f.assetId)).to.equal(FULL_HOUR);
      await f.escrow.connect(f.provider).removeLeaseTerms(f.assetId);
      expect(await f.escrow.minimumDeposit(f.assetId)).to.equal(0n);
      await expect(f.escrow.minimumDeposit(99n))
        .to.be.revertedWithCustomError(f.nft, "ERC721NonexistentToken")
        .withArgs(99n);
    });
  });

  describe("unfinishedLeasesOf", function () {
    it("counts the asset's leases until closed with every dispute resolved, naming their token or MIXED_TOKENS", async function () {
      const f = await loadFixture(termsFixture);
      const { escrow, assetId, token } = f;
      const usdt = await new MockUSDC__factory(f.admin).deploy();
      const other = await usdt.getAddress();
      await escrow.setTokenAllowed(other, true);
      await usdt.mint(f.other.address, 100_000n * USDC);
      await usdt.connect(f.other).approve(await escrow.getAddress(), ethers.MaxUint256);
      expect(await escrow.unfinishedLeasesOf(assetId)).to.deep.equal([0n, ethers.ZeroAddress]);
      await escrow.connect(f.lessee).openLease(assetId, 1, DAY, DEPOSIT); // lease 1, USDC
      expect(await escrow.unfinishedLeasesOf(assetId)).to.deep.equal([1n, token]);
      await escrow.connect(f.provider).terminateByProvider(1n);
      await escrow.connect(f.provider).setLeaseTerms(assetId, termsFor(other, TERMS_OVERRIDES));
      await escrow.connect(f.other).openLease(assetId, 2, DAY, DEPOSIT); // lease 2, the other token
      expect(await escrow.unfinishedLeasesOf(assetId)).to.deep.equal([2n, await escrow.MIXED_TOKENS()]);
      await time.increase(8n * DAY);
      await escrow.close(1n, ABSENT_BOUNDARY, ABSENT_BOUNDARY);
      expect(await escrow.unfinishedLeasesOf(assetId)).to.deep.equal([1n, await escrow.MIXED_TOKENS()]);
      await escrow.close(2n, ABSENT_BOUNDARY, ABSENT_BOUNDARY);
      expect(await escrow.unfinishedLeasesOf(assetId)).to.deep.equal([0n, ethers.ZeroAddress]);
      expect(await escrow.unfinishedLeasesOf(2n)).to.deep.equal([0n, ethers.ZeroAddress]);
    });
  });

  describe("isTokenAllowed", function () {
    it("reads the allowlist flag", async function () {
      const f = await loadFixture(termsFixture);
      expect(await f.escrow.isTokenAllowed(f.token)).to.equal(true);
      expect(await f.escrow.isTokenAllowed(f.other.address)).to.equal(false);
    });
  });
});

/** Any value (a time or bill a test is not about). */
function anyUint() {
  return true;
}

/** Any LeaseBill (for tests about who is credited, not how much is billed). */
function anyBill() {
  return true;
}

/** `previewBill`'s result as plain arrays. */
function plainPreview(r: [unknown, bigint] | { bill: unknown; chargeable: bigint }): unknown {
  const [bill, chargeable] = r as unknown as [{ toArray(): unknown[] }, bigint];
  return [[...bill.toArray()], chargeable];
}
