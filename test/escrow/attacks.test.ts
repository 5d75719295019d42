import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  DAY,
  EndReason,
  FULL_HOUR,
  GPUS,
  HOUR,
  USDC,
  at,
  billOf,
  escrowState,
  signPermit,
  termsFor,
  TDP_WATTS,
} from "./helpers";
import {
  SHORT_WINDOW,
  TERMS_OVERRIDES,
  firstMeter,
  openAt,
  shortWindowTermsFixture,
  termsFixture,
  type TermsFixture,
} from "./fixtures";

/**
 * Issue 14's attacks on the escrow, replayed against v2. Each test performs the attack as an attacker
 * would and asserts the safe result; where the attacked call reverts, that nothing changed.
 */
describe("SettlementEscrow attacks (issue 14)", function () {
  /** Full use of the 8-GPU asset for `seconds` under terms v1 (`SettlementMath.fullUseCost`). */
  const fullUse = (seconds: bigint) => (GPUS * seconds * 2n * USDC) / HOUR + (GPUS * seconds * USDC) / HOUR;

  function stateOf(f: TermsFixture) {
    return escrowState(f.escrow, f.usdc, f.accounts);
  }

  // ------------------------------------------------------------------ 1. terms front-run

  describe("1. terms front-run: the owner changes the terms before the lessee's open executes", function () {
    const DEPOSIT = 10_000n * USDC;

    /** The lessee has read terms v1 and is about to open a 1-day lease with 10,000 USDC. */
    async function lesseeReadyFixture() {
      const f = await termsFixture();
      const agreed = await f.escrow.currentTermsVersion(f.assetId);
      expect(agreed).to.equal(1);
      return { ...f, agreed };
    }

    /** The owner's front-running terms: the whole deposit for one hour of the asset, no way out. */
    function greedyTerms(f: TermsFixture) {
      return termsFor(f.token, {
        reservationPricePerGpuHour: DEPOSIT / GPUS,
        usagePricePerBusyGpuHour: 0n,
        minDurationSeconds: DAY,
        maxDurationSeconds: DAY,
        slaAvailabilityBps: 0,
        earlyEndAllowed: false,
      });
    }

    it("openLease reverts TermsVersionMismatch: no lease, no deposit taken, no NFT user", async function () {
      const f = await loadFixture(lesseeReadyFixture);
      await f.escrow.connect(f.provider).setLeaseTerms(f.assetId, greedyTerms(f)); // the front-run: version 2
      const before = await stateOf(f);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, f.agreed, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "TermsVersionMismatch")
        .withArgs(f.assetId, f.agreed, 2);
      expect(await stateOf(f)).to.deep.equal(before);
      expect(await f.escrow.leaseCount()).to.equal(0n);
      expect(await f.nft.userOf(f.assetId)).to.equal(ethers.ZeroAddress);
    });

    it("openLeaseWithPermit reverts TermsVersionMismatch without consuming the permit (the signature stays usable)", async function () {
      const f = await loadFixture(lesseeReadyFixture);
      const escrowAddress = await f.escrow.getAddress();
      await f.usdc.connect(f.lessee).approve(escrowAddress, 0n);
      const p = await signPermit(f.usdc, f.lessee, escrowAddress, DEPOSIT, 2n ** 40n);
      await f.escrow.connect(f.provider).setLeaseTerms(f.assetId, greedyTerms(f));
      const before = await stateOf(f);
      await expect(
        f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, f.agreed, DAY, DEPOSIT, p.deadline, p.v, p.r, p.s),
      )
        .to.be.revertedWithCustomError(f.escrow, "TermsVersionMismatch")
        .withArgs(f.assetId, f.agreed, 2);
      expect(await stateOf(f)).to.deep.equal(before);
      expect(await f.usdc.nonces(f.lessee.address)).to.equal(0n);
      expect(await f.usdc.allowance(f.lessee.address, escrowAddress)).to.equal(0n);
      // Unspent: the very same signature still sets the allowance.
      await f.usdc.permit(f.lessee.address, escrowAddress, DEPOSIT, p.deadline, p.v, p.r, p.s);
      expect(await f.usdc.allowance(f.lessee.address, escrowAddress)).to.equal(DEPOSIT);
    });

    it("a removal (or a removal and re-publication) before the open is refused in both paths as well", async function () {
      const f = await loadFixture(lesseeReadyFixture);
      const escrowAddress = await f.escrow.getAddress();
      const p = await signPermit(f.usdc, f.lessee, escrowAddress, DEPOSIT, 2n ** 40n);
      await f.escrow.connect(f.provider).removeLeaseTerms(f.assetId);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, f.agreed, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "NoLeaseTerms")
        .withArgs(f.assetId);
      await expect(
        f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, f.agreed, DAY, DEPOSIT, p.deadline, p.v, p.r, p.s),
      )
        .to.be.revertedWithCustomError(f.escrow, "TermsVersionMismatch")
        .withArgs(f.assetId, f.agreed, 0);
      await f.escrow.connect(f.provider).setLeaseTerms(f.assetId, greedyTerms(f));
      for (const open of [
        () => f.escrow.connect(f.lessee).openLease(f.assetId, f.agreed, DAY, DEPOSIT),
        () =>
          f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, f.agreed, DAY, DEPOSIT, p.deadline, p.v, p.r, p.s),
      ]) {
        await expect(open())
          .to.be.revertedWithCustomError(f.escrow, "TermsVersionMismatch")
          .withArgs(f.assetId, f.agreed, 2);
      }
      expect(await f.escrow.leaseCount()).to.equal(0n);
      expect(await f.usdc.nonces(f.lessee.address)).to.equal(0n);
    });

    it("without the front-run, the hour the lessee uses costs what the terms it saw say (16 USDC), not the deposit", async function () {
      const f = await loadFixture(lesseeReadyFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, DEPOSIT);
      await f.meters.useAt(start + HOUR, 10_000n, 0n, start + HOUR - 10n); // one hour, every GPU available, none busy
      await at(start + HOUR);
      await f.escrow.connect(f.lessee).endByLessee(leaseId);
      await at(start + HOUR + DAY);
      await expect(f.keeper.close(leaseId, f.other, start + HOUR + DAY))
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(leaseId, EndReason.EndedByLessee, f.other.address, true, DEPOSIT - 16n * USDC);
      expect((await f.escrow.accountingOf(leaseId)).charged).to.equal(16n * USDC);
      // The same meters under the front-running terms would have billed the whole deposit.
      const m = await f.meters.latest();
      const point = {
        timestamp: start + HOUR,
        busyGpuSeconds: m.busy,
        availableGpuSeconds: m.available,
        energyJ: m.energy,
      };
      const greedy = greedyTerms(f);
      const greedyBill = billOf(firstMeter(start), point, HOUR, GPUS, TDP_WATTS, {
        reservationPricePerGpuHour: greedy.reservationPricePerGpuHour as bigint,
        usagePricePerBusyGpuHour: 0n,
        energyPricePerKWh: 0n,
        slaAvailabilityBps: 0n,
      });
      expect(greedyBill.total).to.equal(DEPOSIT);
    });
  });

  // ------------------------------------------------------------------ 2. third-party eviction

  describe("2. third-party eviction: a stranger calls closeUnderfunded", function () {
    it("can never end a fully funded one-hour lease, at any second of it", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, HOUR, FULL_HOUR); // the minimum deposit buys exactly this lease
      const before = await stateOf(f);
      for (const t of [start + 1n, start + 60n, start + HOUR / 2n, start + HOUR - 1n]) {
        await at(t);
        await expect(f.escrow.connect(f.other).closeUnderfunded(leaseId))
          .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
          .withArgs(leaseId, FULL_HOUR, FULL_HOUR);
      }
      expect(await stateOf(f)).to.deep.equal(before);
      expect(await f.nft.userOf(f.assetId)).to.equal(f.lessee.address);
      await at(start + HOUR);
      await expect(f.escrow.connect(f.other).closeUnderfunded(leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseExpired")
        .withArgs(leaseId, start + HOUR);
    });

    it("can never end it either after settlements have taken part of its balance", async function () {
      const f = await loadFixture(shortWindowTermsFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, HOUR, FULL_HOUR);
      await f.meters.useAt(start + HOUR / 2n, 10_000n, 10_000n); // half an hour of full use: 12 USDC
      await at(start + HOUR / 2n + SHORT_WINDOW);
      await expect(f.keeper.settle(leaseId, f.other, start + HOUR / 2n + SHORT_WINDOW))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(leaseId, f.provider.address, start + HOUR / 2n, anyValue, FULL_HOUR / 2n);
      for (const t of [start + HOUR / 2n + SHORT_WINDOW + 1n, start + HOUR - 1n]) {
        await at(t);
        await expect(f.escrow.connect(f.other).closeUnderfunded(leaseId))
          .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
          .withArgs(leaseId, FULL_HOUR, FULL_HOUR);
      }
      expect((await f.escrow.leaseOf(leaseId)).endReason).to.equal(EndReason.None);
    });

    it("can never end any lease funded for its whole time, however late the meters are", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 100n;
      const deposit = fullUse(DAY); // 24 hours of full use
      await at(start);
      await f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, deposit); // no reading at all, ever
      for (const t of [start + 1n, start + HOUR, start + 12n * HOUR, start + DAY - HOUR, start + DAY - 1n]) {
        const horizon = t + HOUR < start + DAY ? t + HOUR : start + DAY;
        await at(t);
        await expect(f.escrow.connect(f.other).closeUnderfunded(1n))
          .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
          .withArgs(1n, deposit, fullUse(horizon - start));
      }
    });

    it("can end an underfunded lease from exactly the first second its deposits fall short of full use an hour ahead", async function () {
      const f = await loadFixture(termsFixture);
      const deposit = 50n * USDC; // a little over two hours of full use
      let covered = 0n; // the longest time from the start the deposit pays full use for
      while (fullUse(covered + 1n) <= deposit) covered++;
      expect(covered).to.equal(7_500n);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, deposit);
      const closable = start + covered - HOUR + 1n;
      const before = await stateOf(f);
      await at(closable - 1n);
      await expect(f.escrow.connect(f.other).closeUnderfunded(leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
        .withArgs(leaseId, deposit, fullUse(covered));
      expect(await stateOf(f)).to.deep.equal(before);
      await at(closable);
      await expect(f.escrow.connect(f.other).closeUnderfunded(leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.InsufficientFunds, f.other.address, closable);
    });

    it("can end a longer lease opened with only the minimum deposit one second after it opens (unless topped up)", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, FULL_HOUR);
      await at(start + 1n);
      await expect(f.escrow.connect(f.other).closeUnderfunded(leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(leaseId, EndReason.InsufficientFunds, f.other.address, start + 1n);
      // The same lease topped up by an hour in its first second is safe for the next hour.
      const h = await loadFixture(termsFixture);
      await openAt(h, start, DAY, FULL_HOUR);
      await at(start + 1n);
      await h.escrow.connect(h.lessee).topUp(1n, FULL_HOUR);
      await at(start + HOUR);
      await expect(h.escrow.connect(h.other).closeUnderfunded(1n))
        .to.be.revertedWithCustomError(h.escrow, "LeaseNotUnderfunded")
        .withArgs(1n, 2n * FULL_HOUR, fullUse(2n * HOUR));
    });

    it("an ended underfunded lease is billed up to its new end and refunds the rest", async function () {
      const f = await loadFixture(termsFixture);
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, 2n * FULL_HOUR);
      await at(start + HOUR + 1n);
      await f.escrow.connect(f.other).closeUnderfunded(leaseId);
      await f.meters.useAt(start + 2n * HOUR, 10_000n, 10_000n);
      // Full use up to the new end, start + 1 h + 1 s: 3601 s x 8 GPUs x 3 USDC per GPU-hour, rounded down per fee.
      const billed = fullUse(HOUR + 1n);
      await at(start + 2n * HOUR + DAY);
      await expect(f.keeper.close(leaseId, f.other, start + 2n * HOUR + DAY))
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(leaseId, EndReason.InsufficientFunds, f.other.address, true, 2n * FULL_HOUR - billed);
    });
  });
});

function anyValue() {
  return true;
}
