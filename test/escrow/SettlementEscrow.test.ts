import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { MockUSDC__factory, SettlementEscrow__factory } from "../../typechain-types";
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
  USDC,
  deployCore,
  expectLeaseBalanced,
  expectSolvent,
  termsFor,
} from "./helpers";

const DEPOSIT = 500n * USDC;

describe("SettlementEscrow", function () {
  // ------------------------------------------------------------------ fixtures (one per system state)

  /** Deployed, USDC allowlisted, terms published, lessee funded and approved; one baseline reading. */
  async function termsFixture() {
    const core = await deployCore();
    const { admin, escrow, provider, lessee, other, assetId } = core;
    const usdc = await new MockUSDC__factory(admin).deploy();
    await escrow.setTokenAllowed(await usdc.getAddress(), true);
    await escrow.connect(provider).setLeaseTerms(assetId, termsFor(await usdc.getAddress()));
    for (const a of [lessee, other]) {
      await usdc.mint(a.address, 10_000n * USDC);
      await usdc.connect(a).approve(await escrow.getAddress(), ethers.MaxUint256);
    }
    return { ...core, usdc };
  }

  /** Lease 1 open for one day; the baseline reading is stamped exactly at the lease start. */
  async function openFixture() {
    const f = await termsFixture();
    const start = BigInt(await time.latest()) + 10n;
    await f.meters.report(start, 0n, 0n);
    await time.setNextBlockTimestamp(start);
    await f.escrow.connect(f.lessee).openLease(f.assetId, DAY, DEPOSIT);
    return { ...f, leaseId: 1n, start, end: start + DAY };
  }

  /** Lease 1 settled once over its first hour (full availability, half busy): 20 USDC pending. */
  async function settledFixture() {
    const f = await openFixture();
    await f.meters.report(f.start + HOUR, (GPUS * HOUR) / 2n, GPUS * HOUR);
    await f.escrow.settle(f.leaseId);
    return { ...f, charge: 20n * USDC };
  }

  /** As settled, with the whole pending charge disputed. */
  async function disputedFixture() {
    const f = await settledFixture();
    await f.escrow.connect(f.lessee).dispute(f.leaseId, f.charge);
    return f;
  }

  // ------------------------------------------------------------------ constructor & admin

  describe("constructor", function () {
    it("stores its dependencies and grants only DEFAULT_ADMIN_ROLE to the admin", async function () {
      const { escrow, admin, nft, oracle } = await loadFixture(termsFixture);
      expect(await escrow.nft()).to.equal(await nft.getAddress());
      expect(await escrow.oracle()).to.equal(await oracle.getAddress());
      expect(await escrow.disputeWindowSeconds()).to.equal(DISPUTE_WINDOW);
      expect(await escrow.arbiterTimeoutSeconds()).to.equal(ARBITER_TIMEOUT);
      expect(await escrow.hasRole(await escrow.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    });

    it("reverts ZeroAddress and ZeroDuration for bad arguments", async function () {
      const { admin, nft, oracle } = await loadFixture(termsFixture);
      const factory = new SettlementEscrow__factory(admin);
      const n = await nft.getAddress();
      const o = await oracle.getAddress();
      await expect(factory.deploy(ethers.ZeroAddress, n, o, 1, 1)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(admin.address, ethers.ZeroAddress, o, 1, 1)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(admin.address, n, ethers.ZeroAddress, 1, 1)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(admin.address, n, o, 0, 1)).to.be.revertedWithCustomError(factory, "ZeroDuration");
      await expect(factory.deploy(admin.address, n, o, 1, 0)).to.be.revertedWithCustomError(factory, "ZeroDuration");
    });
  });

  describe("setTokenAllowed", function () {
    it("adds and removes a token, emitting TokenAllowlistUpdated", async function () {
      const { escrow, usdc } = await loadFixture(termsFixture);
      const t = await usdc.getAddress();
      await expect(escrow.setTokenAllowed(t, false)).to.emit(escrow, "TokenAllowlistUpdated").withArgs(t, false);
      expect(await escrow.isTokenAllowed(t)).to.equal(false);
    });

    it("reverts TokenAllowlistUnchanged for a no-op and ZeroAddress for the zero token", async function () {
      const { escrow, usdc } = await loadFixture(termsFixture);
      const t = await usdc.getAddress();
      await expect(escrow.setTokenAllowed(t, true))
        .to.be.revertedWithCustomError(escrow, "TokenAllowlistUnchanged")
        .withArgs(t, true);
      await expect(escrow.setTokenAllowed(ethers.ZeroAddress, true)).to.be.revertedWithCustomError(
        escrow,
        "ZeroAddress",
      );
    });

    it("reverts AccessControlUnauthorizedAccount for a caller without TOKEN_ADMIN_ROLE", async function () {
      const { escrow, usdc, other } = await loadFixture(termsFixture);
      await expect(escrow.connect(other).setTokenAllowed(await usdc.getAddress(), false))
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await escrow.TOKEN_ADMIN_ROLE());
      expect(await escrow.isTokenAllowed(await usdc.getAddress())).to.equal(true);
    });
  });

  describe("pause / unpause", function () {
    it("lets the pauser pause and unpause", async function () {
      const { escrow, pauser } = await loadFixture(termsFixture);
      await expect(escrow.connect(pauser).pause()).to.emit(escrow, "Paused").withArgs(pauser.address);
      await expect(escrow.connect(pauser).unpause()).to.emit(escrow, "Unpaused").withArgs(pauser.address);
    });

    it("reverts for a caller without PAUSER_ROLE", async function () {
      const { escrow, other } = await loadFixture(termsFixture);
      await expect(escrow.connect(other).pause())
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await escrow.PAUSER_ROLE());
    });
  });

  // ------------------------------------------------------------------ terms

  describe("setLeaseTerms", function () {
    it("publishes a new version readable through leaseTermsOf and leaseTermsAt", async function () {
      const { escrow, provider, usdc, assetId } = await loadFixture(termsFixture);
      const t = termsFor(await usdc.getAddress(), { usagePricePerBusyGpuHour: 5n * USDC });
      await expect(escrow.connect(provider).setLeaseTerms(assetId, t))
        .to.emit(escrow, "LeaseTermsSet")
        .withArgs(assetId, 2, provider.address, anyValue);
      expect((await escrow.leaseTermsOf(assetId)).usagePricePerBusyGpuHour).to.equal(5n * USDC);
      expect((await escrow.leaseTermsAt(assetId, 1)).usagePricePerBusyGpuHour).to.equal(1n * USDC);
    });

    it("accepts an operator approved for all and an operator approved for the token", async function () {
      const { escrow, nft, provider, operator, other, usdc, assetId } = await loadFixture(termsFixture);
      await nft.connect(provider).setApprovalForAll(operator.address, true);
      await escrow
        .connect(operator)
        .setLeaseTerms(assetId, termsFor(await usdc.getAddress(), { slaAvailabilityBps: 9000 }));
      await nft.connect(provider).approve(other.address, assetId);
      await escrow
        .connect(other)
        .setLeaseTerms(assetId, termsFor(await usdc.getAddress(), { slaAvailabilityBps: 9100 }));
      expect((await escrow.leaseTermsOf(assetId)).slaAvailabilityBps).to.equal(9100);
    });

    it("reverts NotAssetOperator for anyone else, leaving the terms unchanged", async function () {
      const { escrow, other, usdc, assetId } = await loadFixture(termsFixture);
      await expect(
        escrow.connect(other).setLeaseTerms(assetId, termsFor(await usdc.getAddress(), { slaAvailabilityBps: 1 })),
      )
        .to.be.revertedWithCustomError(escrow, "NotAssetOperator")
        .withArgs(assetId, other.address);
      expect((await escrow.leaseTermsOf(assetId)).slaAvailabilityBps).to.equal(9900);
    });

    it("reverts for a token not on the allowlist, bad durations, an SLA above 100 % and a no-op", async function () {
      const { escrow, provider, usdc, other, assetId } = await loadFixture(termsFixture);
      const t = await usdc.getAddress();
      const p = escrow.connect(provider);
      await expect(p.setLeaseTerms(assetId, termsFor(other.address)))
        .to.be.revertedWithCustomError(escrow, "TokenNotAllowed")
        .withArgs(other.address);
      await expect(p.setLeaseTerms(assetId, termsFor(t, { minDurationSeconds: 0 })))
        .to.be.revertedWithCustomError(escrow, "InvalidDurationBounds")
        .withArgs(0, MAX_DURATION);
      await expect(p.setLeaseTerms(assetId, termsFor(t, { minDurationSeconds: 10, maxDurationSeconds: 9 })))
        .to.be.revertedWithCustomError(escrow, "InvalidDurationBounds")
        .withArgs(10, 9);
      await expect(p.setLeaseTerms(assetId, termsFor(t, { slaAvailabilityBps: 10_001 })))
        .to.be.revertedWithCustomError(escrow, "InvalidSlaTarget")
        .withArgs(10_001);
      await expect(p.setLeaseTerms(assetId, termsFor(t)))
        .to.be.revertedWithCustomError(escrow, "LeaseTermsUnchanged")
        .withArgs(assetId);
      await expect(p.setLeaseTerms(assetId, termsFor(t, { reservationPricePerGpuHour: 2n ** 96n })))
        .to.be.revertedWithCustomError(escrow, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
    });

    it("reverts ERC721NonexistentToken for an unknown asset", async function () {
      const { escrow, nft, provider, usdc } = await loadFixture(termsFixture);
      await expect(escrow.connect(provider).setLeaseTerms(99n, termsFor(await usdc.getAddress())))
        .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
        .withArgs(99n);
    });

    it("leaves an open lease on the terms it was opened with", async function () {
      const { escrow, provider, usdc, assetId, leaseId } = await loadFixture(openFixture);
      await escrow
        .connect(provider)
        .setLeaseTerms(assetId, termsFor(await usdc.getAddress(), { reservationPricePerGpuHour: 99n }));
      const lease = await escrow.leaseOf(leaseId);
      expect(lease.termsVersion).to.equal(1);
      expect((await escrow.leaseTermsAt(assetId, lease.termsVersion)).reservationPricePerGpuHour).to.equal(2n * USDC);
    });
  });

  describe("removeLeaseTerms", function () {
    it("withdraws the terms: leaseTermsOf reads zero and opening reverts NoLeaseTerms", async function () {
      const { escrow, provider, lessee, assetId } = await loadFixture(termsFixture);
      await expect(escrow.connect(provider).removeLeaseTerms(assetId))
        .to.emit(escrow, "LeaseTermsRemoved")
        .withArgs(assetId, provider.address);
      expect((await escrow.leaseTermsOf(assetId)).token).to.equal(ethers.ZeroAddress);
      await expect(escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(escrow, "NoLeaseTerms")
        .withArgs(assetId);
    });

    it("reverts NoLeaseTerms when there are none and NotAssetOperator for a stranger", async function () {
      const { escrow, provider, other, assetId } = await loadFixture(termsFixture);
      await expect(escrow.connect(other).removeLeaseTerms(assetId))
        .to.be.revertedWithCustomError(escrow, "NotAssetOperator")
        .withArgs(assetId, other.address);
      await escrow.connect(provider).removeLeaseTerms(assetId);
      await expect(escrow.connect(provider).removeLeaseTerms(assetId))
        .to.be.revertedWithCustomError(escrow, "NoLeaseTerms")
        .withArgs(assetId);
    });
  });

  // ------------------------------------------------------------------ opening

  describe("openLease", function () {
    it("pulls the deposit, sets the NFT user until the end and records the baseline", async function () {
      const { escrow, nft, usdc, lessee, assetId, meters } = await loadFixture(termsFixture);
      await meters.report(BigInt(await time.latest()), 0n, 0n);
      const start = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(start);
      const tx = escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT);
      await expect(tx)
        .to.emit(escrow, "LeaseOpened")
        .withArgs(1n, assetId, lessee.address, await usdc.getAddress(), 1, start, start + DAY, DEPOSIT);
      await expect(tx).to.changeTokenBalances(usdc, [lessee, escrow], [-DEPOSIT, DEPOSIT]);
      await expect(tx)
        .to.emit(nft, "UpdateUser")
        .withArgs(assetId, lessee.address, start + DAY);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
      const l = await escrow.leaseOf(1n);
      expect(l.lessee).to.equal(lessee.address);
      expect(l.startTime).to.equal(start);
      expect(l.endTime).to.equal(start + DAY);
      const m = await meters.latest();
      expect(l.cursorTimestamp).to.equal(m.timestamp);
      expect(l.cursorBusyGpuSeconds).to.equal(m.busy);
      expect(l.cursorAvailableGpuSeconds).to.equal(m.available);
      expect(l.balance).to.equal(DEPOSIT);
      expect((await escrow.accountingOf(1n)).deposited).to.equal(DEPOSIT);
      expect(await escrow.leaseCount()).to.equal(1n);
      await expectLeaseBalanced(escrow, 1n);
    });

    it("reverts AssetNotLeasable while another lease holds the NFT user right", async function () {
      const { escrow, other, assetId } = await loadFixture(openFixture);
      await expect(escrow.connect(other).openLease(assetId, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(escrow, "AssetNotLeasable")
        .withArgs(assetId);
      expect(await escrow.leaseCount()).to.equal(1n);
    });

    it("opens a new lease once the previous one has expired", async function () {
      const { escrow, other, assetId, end } = await loadFixture(openFixture);
      await time.increaseTo(end);
      await escrow.connect(other).openLease(assetId, DAY, DEPOSIT);
      expect((await escrow.leaseOf(2n)).lessee).to.equal(other.address);
    });

    it("reverts DurationOutOfBounds outside the terms' bounds", async function () {
      const { escrow, lessee, assetId } = await loadFixture(termsFixture);
      await expect(escrow.connect(lessee).openLease(assetId, MIN_DURATION - 1n, DEPOSIT))
        .to.be.revertedWithCustomError(escrow, "DurationOutOfBounds")
        .withArgs(MIN_DURATION - 1n, MIN_DURATION, MAX_DURATION);
      await expect(escrow.connect(lessee).openLease(assetId, MAX_DURATION + 1n, DEPOSIT))
        .to.be.revertedWithCustomError(escrow, "DurationOutOfBounds")
        .withArgs(MAX_DURATION + 1n, MIN_DURATION, MAX_DURATION);
    });

    it("reverts DepositTooLow below one hour of full use", async function () {
      const { escrow, lessee, assetId } = await loadFixture(termsFixture);
      expect(await escrow.minimumDeposit(assetId)).to.equal(FULL_HOUR);
      await expect(escrow.connect(lessee).openLease(assetId, DAY, FULL_HOUR - 1n))
        .to.be.revertedWithCustomError(escrow, "DepositTooLow")
        .withArgs(FULL_HOUR - 1n, FULL_HOUR);
    });

    it("reverts TokenNotAllowed once the terms' token is removed from the allowlist", async function () {
      const { escrow, usdc, lessee, assetId } = await loadFixture(termsFixture);
      await escrow.setTokenAllowed(await usdc.getAddress(), false);
      await expect(escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(escrow, "TokenNotAllowed")
        .withArgs(await usdc.getAddress());
    });

    it("reverts AssetNotLeasable for an asset in maintenance", async function () {
      const { escrow, nft, lessee, assetId } = await loadFixture(termsFixture);
      await nft.setStatus(assetId, 1);
      await expect(escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(escrow, "AssetNotLeasable")
        .withArgs(assetId);
    });

    it("reverts EnforcedPause while paused", async function () {
      const { escrow, pauser, lessee, assetId } = await loadFixture(termsFixture);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT)).to.be.revertedWithCustomError(
        escrow,
        "EnforcedPause",
      );
    });
  });

  describe("openLeaseWithPermit", function () {
    async function permitFor(f: Awaited<ReturnType<typeof termsFixture>>, value: bigint, nonce = 0n) {
      const { chainId } = await ethers.provider.getNetwork();
      const deadline = 2n ** 40n;
      const sig = await f.lessee.signTypedData(
        { name: "Mock USD Coin", version: "1", chainId, verifyingContract: await f.usdc.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: f.lessee.address, spender: await f.escrow.getAddress(), value, nonce, deadline },
      );
      const { v, r, s } = ethers.Signature.from(sig);
      return { deadline, v, r, s };
    }

    it("opens with a permit instead of an approval", async function () {
      const f = await loadFixture(termsFixture);
      await f.usdc.connect(f.lessee).approve(await f.escrow.getAddress(), 0n);
      const p = await permitFor(f, DEPOSIT);
      await expect(
        f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, DAY, DEPOSIT, p.deadline, p.v, p.r, p.s),
      ).to.changeTokenBalances(f.usdc, [f.lessee, f.escrow], [-DEPOSIT, DEPOSIT]);
      expect(await f.usdc.nonces(f.lessee.address)).to.equal(1n);
    });

    it("still opens when the permit was front-run (already used) and the allowance covers the deposit", async function () {
      const f = await loadFixture(termsFixture);
      await f.usdc.connect(f.lessee).approve(await f.escrow.getAddress(), 0n);
      const p = await permitFor(f, DEPOSIT);
      await f.usdc.permit(f.lessee.address, await f.escrow.getAddress(), DEPOSIT, p.deadline, p.v, p.r, p.s);
      await expect(
        f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, DAY, DEPOSIT, p.deadline, p.v, p.r, p.s),
      ).to.emit(f.escrow, "LeaseOpened");
    });

    it("reverts PermitFailed when the permit fails and the allowance is short", async function () {
      const f = await loadFixture(termsFixture);
      await f.usdc.connect(f.lessee).approve(await f.escrow.getAddress(), 7n);
      const p = await permitFor(f, DEPOSIT, 5n); // wrong nonce: invalid signature
      await expect(f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, DAY, DEPOSIT, p.deadline, p.v, p.r, p.s))
        .to.be.revertedWithCustomError(f.escrow, "PermitFailed")
        .withArgs(await f.usdc.getAddress(), 7n, DEPOSIT);
      expect(await f.escrow.leaseCount()).to.equal(0n);
    });
  });

  // ------------------------------------------------------------------ top-up

  describe("topUp", function () {
    it("adds to the deposit and the balance; anyone may pay", async function () {
      const { escrow, usdc, other, leaseId } = await loadFixture(openFixture);
      const tx = escrow.connect(other).topUp(leaseId, 50n * USDC);
      await expect(tx)
        .to.emit(escrow, "LeaseToppedUp")
        .withArgs(leaseId, other.address, 50n * USDC);
      await expect(tx).to.changeTokenBalances(usdc, [other, escrow], [-50n * USDC, 50n * USDC]);
      const l = await escrow.leaseOf(leaseId);
      expect((await escrow.accountingOf(leaseId)).deposited).to.equal(DEPOSIT + 50n * USDC);
      expect(l.balance).to.equal(DEPOSIT + 50n * USDC);
      await expectLeaseBalanced(escrow, leaseId);
    });

    it("reverts SafeCastOverflowedUintDowncast when the lease's total deposits would exceed uint96", async function () {
      const { escrow, usdc, other, leaseId } = await loadFixture(openFixture);
      const amount = 2n ** 96n - DEPOSIT;
      await usdc.mint(other.address, amount);
      await expect(escrow.connect(other).topUp(leaseId, amount))
        .to.be.revertedWithCustomError(escrow, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
      expect((await escrow.leaseOf(leaseId)).balance).to.equal(DEPOSIT);
    });

    it("reverts ZeroAmount, LeaseExpired, UnknownLease and EnforcedPause", async function () {
      const { escrow, lessee, pauser, leaseId, end } = await loadFixture(openFixture);
      await expect(escrow.connect(lessee).topUp(leaseId, 0n)).to.be.revertedWithCustomError(escrow, "ZeroAmount");
      await expect(escrow.connect(lessee).topUp(9n, 1n))
        .to.be.revertedWithCustomError(escrow, "UnknownLease")
        .withArgs(9n);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(lessee).topUp(leaseId, 1n)).to.be.revertedWithCustomError(escrow, "EnforcedPause");
      await escrow.connect(pauser).unpause();
      await time.increaseTo(end);
      await expect(escrow.connect(lessee).topUp(leaseId, 1n))
        .to.be.revertedWithCustomError(escrow, "LeaseExpired")
        .withArgs(leaseId, end);
    });
  });

  // ------------------------------------------------------------------ settlement

  describe("settle", function () {
    it("charges reservation on available and usage on busy GPU-seconds into pending", async function () {
      const { escrow, meters, leaseId, start } = await loadFixture(openFixture);
      await meters.report(start + HOUR, (GPUS * HOUR) / 2n, GPUS * HOUR);
      const now = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(now);
      await expect(escrow.settle(leaseId))
        .to.emit(escrow, "LeaseSettled")
        .withArgs(leaseId, start, start + HOUR, anyValue, 20n * USDC, now + DISPUTE_WINDOW);
      const l = await escrow.leaseOf(leaseId);
      expect(l.pending).to.equal(20n * USDC);
      expect(l.balance).to.equal(DEPOSIT - 20n * USDC);
      expect(l.cursorTimestamp).to.equal(start + HOUR);
      await expectLeaseBalanced(escrow, leaseId);
    });

    it("credits an SLA credit when availability is below the target", async function () {
      const { escrow, meters, leaseId, start } = await loadFixture(openFixture);
      // 50 % available, 25 % busy: reservation 8, usage 2; credit (9900-5000)/9900 of 10.
      await meters.report(start + HOUR, (GPUS * HOUR) / 4n, (GPUS * HOUR) / 2n);
      await escrow.settle(leaseId);
      const gross = 10n * USDC;
      const credit = (gross * 4900n + 9899n) / 9900n;
      expect((await escrow.leaseOf(leaseId)).pending).to.equal(gross - credit);
    });

    it("caps the charge at the balance", async function () {
      const { escrow, meters, leaseId, start } = await loadFixture(openFixture);
      // 500 USDC deposit; a full day at full use costs 8 × 24 × 3 = 576 USDC.
      await meters.report(start + DAY, GPUS * DAY, GPUS * DAY);
      await escrow.settle(leaseId);
      const l = await escrow.leaseOf(leaseId);
      expect(l.pending).to.equal(DEPOSIT);
      expect(l.balance).to.equal(0n);
    });

    it("bills only the part of a window inside the lease (reading overwritten after the end)", async function () {
      const { escrow, meters, leaseId, start, end } = await loadFixture(openFixture);
      // One reading, 2 days after the start: only the first half of the window is inside the lease.
      await meters.report(end + DAY, 0n, GPUS * 2n * DAY);
      await escrow.settle(leaseId);
      // Half of 2 days of reservation for 8 GPUs at 2 USDC: 384 USDC (the full 768 would exceed the deposit).
      expect((await escrow.leaseOf(leaseId)).pending).to.equal(384n * USDC);
    });

    it("bills nothing for the lease's first window when the asset had never been reported", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow.connect(f.lessee).openLease(f.assetId, DAY, DEPOSIT);
      expect((await f.escrow.leaseOf(1n)).cursorTimestamp).to.equal(0n);
      await f.meters.reportNow(10_000n, 10_000n);
      await expect(f.escrow.settle(1n))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(1n, 0n, (await f.meters.latest()).timestamp, anyValue, 0n, 0n);
      expect((await f.escrow.leaseOf(1n)).balance).to.equal(DEPOSIT);
    });

    it("releases the previous pending charge to the NFT owner once its window has passed", async function () {
      const { escrow, usdc, meters, provider, leaseId, start, charge } = await loadFixture(settledFixture);
      await time.increase(DISPUTE_WINDOW);
      await meters.report(start + 2n * HOUR, 0n, GPUS * HOUR);
      await expect(escrow.settle(leaseId))
        .to.emit(escrow, "ChargeReleased")
        .withArgs(leaseId, provider.address, await usdc.getAddress(), charge);
      expect(await escrow.withdrawable(provider.address, await usdc.getAddress())).to.equal(charge);
      const l = await escrow.leaseOf(leaseId);
      expect(l.charged).to.equal(charge);
      expect(l.pending).to.equal(16n * USDC);
      await expectLeaseBalanced(escrow, leaseId);
    });

    it("reverts DisputeWindowOpen while the previous charge is disputable, leaving state unchanged", async function () {
      const { escrow, meters, leaseId, start } = await loadFixture(settledFixture);
      await meters.report(start + 2n * HOUR, 0n, GPUS * HOUR);
      const before = await escrow.leaseOf(leaseId);
      await expect(escrow.settle(leaseId))
        .to.be.revertedWithCustomError(escrow, "DisputeWindowOpen")
        .withArgs(leaseId, before.pendingUntil);
      expect(await escrow.leaseOf(leaseId)).to.deep.equal(before);
    });

    it("reverts NoNewReading without a reading newer than the cursor (nothing is billed)", async function () {
      const { escrow, leaseId, start } = await loadFixture(openFixture);
      await time.increase(HOUR);
      await expect(escrow.settle(leaseId))
        .to.be.revertedWithCustomError(escrow, "NoNewReading")
        .withArgs(leaseId, start);
    });

    it("reverts UnknownLease, LeaseAlreadyEnded and EnforcedPause", async function () {
      const { escrow, lessee, pauser, meters, leaseId, start } = await loadFixture(openFixture);
      await expect(escrow.settle(7n)).to.be.revertedWithCustomError(escrow, "UnknownLease").withArgs(7n);
      await meters.report(start + HOUR, 0n, GPUS * HOUR);
      await escrow.connect(pauser).pause();
      await expect(escrow.settle(leaseId)).to.be.revertedWithCustomError(escrow, "EnforcedPause");
      await escrow.connect(pauser).unpause();
      await escrow.connect(lessee).endByLessee(leaseId); // the report moved the chain to the lease's first hour
      await expect(escrow.settle(leaseId))
        .to.be.revertedWithCustomError(escrow, "LeaseAlreadyEnded")
        .withArgs(leaseId, EndReason.EndedByLessee);
    });
  });

  describe("release", function () {
    it("credits a matured pending charge to the NFT's current owner (after a sale, the buyer)", async function () {
      const { escrow, nft, usdc, provider, other, leaseId, charge } = await loadFixture(settledFixture);
      await nft.connect(provider).transferFrom(provider.address, other.address, 1n);
      await time.increase(DISPUTE_WINDOW);
      await expect(escrow.release(leaseId))
        .to.emit(escrow, "ChargeReleased")
        .withArgs(leaseId, other.address, await usdc.getAddress(), charge);
      expect(await escrow.withdrawable(other.address, await usdc.getAddress())).to.equal(charge);
      await expectLeaseBalanced(escrow, leaseId);
    });

    it("reverts NothingToRelease inside the window and when nothing is pending", async function () {
      const { escrow, leaseId, charge } = await loadFixture(settledFixture);
      const l = await escrow.leaseOf(leaseId);
      await expect(escrow.release(leaseId))
        .to.be.revertedWithCustomError(escrow, "NothingToRelease")
        .withArgs(leaseId, charge, l.pendingUntil);
      await time.increase(DISPUTE_WINDOW);
      await escrow.release(leaseId);
      await expect(escrow.release(leaseId))
        .to.be.revertedWithCustomError(escrow, "NothingToRelease")
        .withArgs(leaseId, 0n, l.pendingUntil);
    });

    it("refunds the lessee when the NFT was burned before the release (nobody else can be paid)", async function () {
      const { escrow, nft, usdc, provider, lessee, meters, leaseId, end, charge } = await loadFixture(settledFixture);
      await meters.report(end, 0n, 0n);
      await escrow.close(leaseId);
      await nft.connect(provider).burn(1n);
      await time.increase(DISPUTE_WINDOW);
      await expect(escrow.release(leaseId))
        .to.emit(escrow, "ChargeReleased")
        .withArgs(leaseId, lessee.address, await usdc.getAddress(), charge);
      const l = await escrow.leaseOf(leaseId);
      expect(l.charged).to.equal(0n);
      expect(l.refunded).to.equal(DEPOSIT);
      await expectSolvent(escrow, usdc, [lessee.address, provider.address]);
    });

    it("works while paused", async function () {
      const { escrow, pauser, leaseId } = await loadFixture(settledFixture);
      await escrow.connect(pauser).pause();
      await time.increase(DISPUTE_WINDOW);
      await expect(escrow.release(leaseId)).to.emit(escrow, "ChargeReleased");
    });
  });

  // ------------------------------------------------------------------ ending

  describe("close", function () {
    it("settles the final window, refunds the leftover and records Expired", async function () {
      const { escrow, usdc, meters, lessee, other, leaseId, start, end, charge } = await loadFixture(settledFixture);
      await meters.report(end, 0n, GPUS * (DAY - HOUR)); // 23 h available, idle: 368 USDC
      await time.increaseTo(end + 10n);
      const refund = DEPOSIT - charge - 368n * USDC;
      await expect(escrow.connect(other).close(leaseId))
        .to.emit(escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.Expired, other.address, refund);
      expect(await escrow.withdrawable(lessee.address, await usdc.getAddress())).to.equal(refund);
      const l = await escrow.leaseOf(leaseId);
      expect(l.endReason).to.equal(EndReason.Expired);
      expect(l.refunded).to.equal(refund);
      // The first charge is still inside its dispute window: merged with the final one under a new window.
      expect(l.charged).to.equal(0n);
      expect(l.pending).to.equal(charge + 368n * USDC);
      expect(l.cursorTimestamp).to.equal(end);
      void start;
      await expectSolvent(escrow, usdc, [lessee.address]);
    });

    it("still closes and refunds the lessee when the owner burned the asset after expiry", async function () {
      const { escrow, nft, usdc, meters, provider, lessee, other, leaseId, end } = await loadFixture(openFixture);
      await meters.report(end, 0n, GPUS * DAY); // a final reading nobody settled
      await time.increaseTo(end + 5n);
      await nft.connect(provider).burn(1n); // allowed: the user right has expired
      // The unsettled last window has no payee left: it is not billed, and nothing stays locked.
      await expect(escrow.connect(other).close(leaseId))
        .to.emit(escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.Expired, other.address, DEPOSIT);
      expect(await escrow.withdrawable(lessee.address, await usdc.getAddress())).to.equal(DEPOSIT);
      const l = await escrow.leaseOf(leaseId);
      expect(l.pending + l.charged).to.equal(0n);
      expect(l.cursorTimestamp).to.equal(end);
      await expectSolvent(escrow, usdc, [lessee.address]);
    });

    it("reverts LeaseNotExpired before the end", async function () {
      const { escrow, leaseId, end } = await loadFixture(openFixture);
      await expect(escrow.close(leaseId))
        .to.be.revertedWithCustomError(escrow, "LeaseNotExpired")
        .withArgs(leaseId, end);
    });

    it("waits for a reading at or after the end, or the grace period", async function () {
      const { escrow, leaseId, end } = await loadFixture(openFixture);
      const grace = await escrow.FINAL_READING_GRACE_SECONDS();
      await time.increaseTo(end);
      await expect(escrow.close(leaseId))
        .to.be.revertedWithCustomError(escrow, "AwaitingFinalReading")
        .withArgs(leaseId, end + grace);
      await time.increaseTo(end + grace);
      await expect(escrow.close(leaseId))
        .to.emit(escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.Expired, anyValue, DEPOSIT);
    });

    it("closes while paused without billing new charges", async function () {
      const { escrow, pauser, meters, leaseId, end } = await loadFixture(openFixture);
      await meters.report(end, 0n, GPUS * DAY);
      await escrow.connect(pauser).pause(); // mined at the end time
      await expect(escrow.close(leaseId))
        .to.emit(escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.Expired, anyValue, DEPOSIT);
    });

    it("reverts LeaseAlreadyEnded the second time", async function () {
      const { escrow, leaseId, end } = await loadFixture(openFixture);
      await time.increaseTo(end + HOUR);
      await escrow.close(leaseId);
      await expect(escrow.close(leaseId))
        .to.be.revertedWithCustomError(escrow, "LeaseAlreadyEnded")
        .withArgs(leaseId, EndReason.Expired);
    });
  });

  describe("endByLessee", function () {
    it("ends early after the minimum duration, clears the NFT user and refunds", async function () {
      const { escrow, nft, usdc, lessee, leaseId, start, charge, meters } = await loadFixture(settledFixture);
      await meters.report(start + 2n * HOUR, 0n, 0n);
      await time.setNextBlockTimestamp(start + 2n * HOUR + 5n);
      const tx = escrow.connect(lessee).endByLessee(leaseId);
      await expect(tx)
        .to.emit(escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.EndedByLessee, lessee.address, DEPOSIT - charge);
      await expect(tx).to.emit(nft, "UpdateUser").withArgs(1n, ethers.ZeroAddress, 0n);
      expect(await nft.userOf(1n)).to.equal(ethers.ZeroAddress);
      expect((await escrow.leaseOf(leaseId)).endTime).to.equal(start + 2n * HOUR + 5n);
      expect(await escrow.withdrawable(lessee.address, await usdc.getAddress())).to.equal(DEPOSIT - charge);
    });

    it("reverts NotLessee, MinimumDurationNotReached and LeaseExpired", async function () {
      const { escrow, lessee, other, leaseId, start, end } = await loadFixture(openFixture);
      await expect(escrow.connect(other).endByLessee(leaseId))
        .to.be.revertedWithCustomError(escrow, "NotLessee")
        .withArgs(leaseId, other.address);
      await expect(escrow.connect(lessee).endByLessee(leaseId))
        .to.be.revertedWithCustomError(escrow, "MinimumDurationNotReached")
        .withArgs(leaseId, start + MIN_DURATION);
      await time.increaseTo(end);
      await expect(escrow.connect(lessee).endByLessee(leaseId))
        .to.be.revertedWithCustomError(escrow, "LeaseExpired")
        .withArgs(leaseId, end);
    });

    it("reverts EarlyEndNotAllowed when the terms forbid it", async function () {
      const f = await loadFixture(termsFixture);
      await f.escrow
        .connect(f.provider)
        .setLeaseTerms(f.assetId, termsFor(await f.usdc.getAddress(), { earlyEndAllowed: false }));
      await f.escrow.connect(f.lessee).openLease(f.assetId, DAY, DEPOSIT);
      await time.increase(2n * HOUR);
      await expect(f.escrow.connect(f.lessee).endByLessee(1n))
        .to.be.revertedWithCustomError(f.escrow, "EarlyEndNotAllowed")
        .withArgs(1n);
    });
  });

  describe("terminateByProvider", function () {
    it("ends the lease at once with a refund and records TerminatedByProvider", async function () {
      const { escrow, nft, provider, leaseId } = await loadFixture(openFixture);
      await expect(escrow.connect(provider).terminateByProvider(leaseId))
        .to.emit(escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.TerminatedByProvider, provider.address, DEPOSIT);
      expect(await nft.isLeasable(1n)).to.equal(true);
    });

    it("reverts NotAssetOperator for the lessee or a stranger", async function () {
      const { escrow, lessee, leaseId, assetId } = await loadFixture(openFixture);
      await expect(escrow.connect(lessee).terminateByProvider(leaseId))
        .to.be.revertedWithCustomError(escrow, "NotAssetOperator")
        .withArgs(assetId, lessee.address);
    });
  });

  describe("closeUnderfunded", function () {
    it("ends a lease whose balance after the final settlement is below one hour of full use", async function () {
      const { escrow, meters, other, leaseId, start } = await loadFixture(openFixture);
      // 20 h of full use: 480 USDC of 500, leaving 20 < 24.
      await meters.report(start + 20n * HOUR, GPUS * 20n * HOUR, GPUS * 20n * HOUR);
      await expect(escrow.connect(other).closeUnderfunded(leaseId))
        .to.emit(escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.InsufficientFunds, other.address, 20n * USDC);
      await expectLeaseBalanced(escrow, leaseId);
    });

    it("reverts LeaseNotUnderfunded when the balance covers the next hour", async function () {
      const { escrow, leaseId } = await loadFixture(openFixture);
      await expect(escrow.closeUnderfunded(leaseId))
        .to.be.revertedWithCustomError(escrow, "LeaseNotUnderfunded")
        .withArgs(leaseId, DEPOSIT, FULL_HOUR);
    });
  });

  // ------------------------------------------------------------------ disputes

  describe("dispute", function () {
    it("moves the disputed amount from pending to held, with the arbiter deadline", async function () {
      const { escrow, lessee, leaseId } = await loadFixture(settledFixture);
      const now = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(now);
      await expect(escrow.connect(lessee).dispute(leaseId, 5n * USDC))
        .to.emit(escrow, "DisputeRaised")
        .withArgs(leaseId, 5n * USDC, now + ARBITER_TIMEOUT);
      const l = await escrow.leaseOf(leaseId);
      expect(l.disputed).to.equal(5n * USDC);
      expect(l.pending).to.equal(15n * USDC);
      await expectLeaseBalanced(escrow, leaseId);
    });

    it("reverts NotLessee, InvalidDisputeAmount, DisputeAlreadyOpen and NothingToDispute", async function () {
      const { escrow, lessee, other, leaseId, charge } = await loadFixture(settledFixture);
      const l = await escrow.leaseOf(leaseId);
      await expect(escrow.connect(other).dispute(leaseId, 1n))
        .to.be.revertedWithCustomError(escrow, "NotLessee")
        .withArgs(leaseId, other.address);
      await expect(escrow.connect(lessee).dispute(leaseId, 0n))
        .to.be.revertedWithCustomError(escrow, "InvalidDisputeAmount")
        .withArgs(leaseId, 0n, charge);
      await expect(escrow.connect(lessee).dispute(leaseId, charge + 1n))
        .to.be.revertedWithCustomError(escrow, "InvalidDisputeAmount")
        .withArgs(leaseId, charge + 1n, charge);
      await escrow.connect(lessee).dispute(leaseId, 1n);
      await expect(escrow.connect(lessee).dispute(leaseId, 1n))
        .to.be.revertedWithCustomError(escrow, "DisputeAlreadyOpen")
        .withArgs(leaseId, 1n);
      await time.increaseTo(l.pendingUntil);
      await expect(escrow.connect(lessee).dispute(leaseId, 1n))
        .to.be.revertedWithCustomError(escrow, "DisputeAlreadyOpen")
        .withArgs(leaseId, 1n);
    });

    it("reverts NothingToDispute once the window has passed", async function () {
      const { escrow, lessee, leaseId, charge } = await loadFixture(settledFixture);
      const l = await escrow.leaseOf(leaseId);
      await time.increaseTo(l.pendingUntil);
      await expect(escrow.connect(lessee).dispute(leaseId, 1n))
        .to.be.revertedWithCustomError(escrow, "NothingToDispute")
        .withArgs(leaseId, charge, l.pendingUntil);
    });
  });

  describe("resolveDispute", function () {
    it("splits the disputed amount between the lessee and the NFT owner", async function () {
      const { escrow, usdc, arbiter, lessee, provider, leaseId } = await loadFixture(disputedFixture);
      await expect(escrow.connect(arbiter).resolveDispute(leaseId, 15n * USDC))
        .to.emit(escrow, "DisputeResolved")
        .withArgs(leaseId, arbiter.address, 15n * USDC, 5n * USDC, false);
      const t = await usdc.getAddress();
      expect(await escrow.withdrawable(lessee.address, t)).to.equal(15n * USDC);
      expect(await escrow.withdrawable(provider.address, t)).to.equal(5n * USDC);
      const l = await escrow.leaseOf(leaseId);
      expect(l.disputed).to.equal(0n);
      expect(l.refunded).to.equal(15n * USDC);
      expect(l.charged).to.equal(5n * USDC);
      await expectSolvent(escrow, usdc, [lessee.address, provider.address]);
    });

    it("reverts InvalidSplit, NoOpenDispute and for a non-arbiter", async function () {
      const { escrow, arbiter, other, leaseId, charge } = await loadFixture(disputedFixture);
      await expect(escrow.connect(other).resolveDispute(leaseId, 0n))
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await escrow.ARBITER_ROLE());
      await expect(escrow.connect(arbiter).resolveDispute(leaseId, charge + 1n))
        .to.be.revertedWithCustomError(escrow, "InvalidSplit")
        .withArgs(leaseId, charge + 1n, charge);
      await escrow.connect(arbiter).resolveDispute(leaseId, 0n);
      await expect(escrow.connect(arbiter).resolveDispute(leaseId, 0n))
        .to.be.revertedWithCustomError(escrow, "NoOpenDispute")
        .withArgs(leaseId);
    });
  });

  describe("resolveDisputeByTimeout", function () {
    it("lets the charge stand after the arbiter's deadline", async function () {
      const { escrow, usdc, provider, other, leaseId, charge } = await loadFixture(disputedFixture);
      const deadline = (await escrow.leaseOf(leaseId)).disputeDeadline;
      await expect(escrow.resolveDisputeByTimeout(leaseId))
        .to.be.revertedWithCustomError(escrow, "ArbiterTimeoutNotReached")
        .withArgs(leaseId, deadline);
      await time.increaseTo(deadline);
      await expect(escrow.connect(other).resolveDisputeByTimeout(leaseId))
        .to.emit(escrow, "DisputeResolved")
        .withArgs(leaseId, other.address, 0n, charge, true);
      expect(await escrow.withdrawable(provider.address, await usdc.getAddress())).to.equal(charge);
      await expect(escrow.resolveDisputeByTimeout(leaseId))
        .to.be.revertedWithCustomError(escrow, "NoOpenDispute")
        .withArgs(leaseId);
    });
  });

  // ------------------------------------------------------------------ payouts

  describe("withdraw", function () {
    it("pays the whole balance to the chosen recipient", async function () {
      const { escrow, usdc, provider, other, leaseId, charge } = await loadFixture(settledFixture);
      await time.increase(DISPUTE_WINDOW);
      await escrow.release(leaseId);
      const t = await usdc.getAddress();
      const tx = escrow.connect(provider).withdraw(t, other.address);
      await expect(tx).to.emit(escrow, "Withdrawn").withArgs(provider.address, t, other.address, charge);
      await expect(tx).to.changeTokenBalances(usdc, [escrow, other], [-charge, charge]);
      expect(await escrow.withdrawable(provider.address, t)).to.equal(0n);
    });

    it("pays nothing and emits nothing for a zero balance", async function () {
      const { escrow, usdc, other } = await loadFixture(termsFixture);
      await expect(escrow.connect(other).withdraw(await usdc.getAddress(), other.address)).not.to.emit(
        escrow,
        "Withdrawn",
      );
    });

    it("reverts ZeroAddress for the zero recipient", async function () {
      const { escrow, usdc, other } = await loadFixture(termsFixture);
      await expect(
        escrow.connect(other).withdraw(await usdc.getAddress(), ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(escrow, "ZeroAddress");
    });

    it("works while paused", async function () {
      const { escrow, usdc, pauser, lessee, provider, leaseId } = await loadFixture(openFixture);
      await escrow.connect(provider).terminateByProvider(leaseId);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(lessee).withdraw(await usdc.getAddress(), lessee.address)).to.changeTokenBalances(
        usdc,
        [lessee],
        [DEPOSIT],
      );
    });
  });

  describe("leaseOf", function () {
    it("reverts UnknownLease for an unknown id", async function () {
      const { escrow } = await loadFixture(termsFixture);
      await expect(escrow.leaseOf(1n)).to.be.revertedWithCustomError(escrow, "UnknownLease").withArgs(1n);
    });
  });
});
