import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ABSENT_BOUNDARY } from "../../src/meterHistory";
import { DAY, DISPUTE_WINDOW, EndReason, FULL_HOUR, HOUR, MIN_DURATION, USDC, at, escrowState } from "./helpers";
import {
  DEPOSIT,
  FIRST_BILL,
  SHORT_WINDOW,
  boundaryAt,
  disputedFixture,
  meteredFixture,
  openAt,
  openFixture,
  pastEndFixture,
  settledFixture,
  shortWindowTermsFixture,
  termsFixture,
  type TermsFixture,
} from "./fixtures";

/**
 * Every time boundary of the escrow, pinned to the exact second from both sides with
 * `time.setNextBlockTimestamp` (the next transaction runs at exactly that second; `time.increaseTo`
 * would mine a block there and run it one second later). Each side starts from the same snapshot;
 * a refused call changes nothing.
 */
describe("SettlementEscrow time boundaries (each second pinned)", function () {
  function stateOf(f: TermsFixture) {
    return escrowState(f.escrow, f.usdc, f.accounts);
  }

  describe("a reading is billable from its acceptance + disputeWindowSeconds", function () {
    it("settle refuses one second before, changing nothing", async function () {
      const f = await loadFixture(meteredFixture);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      const before = await stateOf(f);
      await at(f.billableAt - 1n);
      await expect(f.escrow.settle(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(f.leaseId, f.billableAt);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("settle charges at exactly that second", async function () {
      const f = await loadFixture(meteredFixture);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      await at(f.billableAt);
      await expect(f.escrow.settle(f.leaseId, p.start, p.point))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, f.r2, anyValue, FIRST_BILL);
    });

    it("close refuses a final reading one second before, and closes with it at exactly that second", async function () {
      const f = await loadFixture(pastEndFixture);
      const end = await boundaryAt(f, f.end);
      const before = await stateOf(f);
      await at(f.closableAt - 1n);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, end))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(f.leaseId, f.closableAt);
      expect(await stateOf(f)).to.deep.equal(before);
      const g = await loadFixture(pastEndFixture);
      await at(g.closableAt);
      await expect(g.escrow.close(g.leaseId, ABSENT_BOUNDARY, end))
        .to.emit(g.escrow, "LeaseClosed")
        .withArgs(g.leaseId, EndReason.Expired, anyValue, true, anyValue);
    });

    it("counts from the oracle's acceptance time, not the reading's timestamp (a reading accepted early is billable early)", async function () {
      const f = await loadFixture(openFixture);
      const stamped = f.start + 6n * HOUR;
      const acceptedAt = stamped - 60n; // within the oracle's skew
      await f.meters.useAt(stamped, 10_000n, 5_000n, acceptedAt);
      const p = (await f.keeper.proofs(f.leaseId, undefined, true))!;
      await at(acceptedAt + DISPUTE_WINDOW - 1n);
      await expect(f.escrow.settle(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "ReadingNotYetBillable")
        .withArgs(f.leaseId, acceptedAt + DISPUTE_WINDOW);
      await at(acceptedAt + DISPUTE_WINDOW);
      await expect(f.escrow.settle(f.leaseId, p.start, p.point))
        .to.emit(f.escrow, "LeaseSettled")
        .withArgs(f.leaseId, f.provider.address, stamped, anyValue, FIRST_BILL);
    });
  });

  describe("the lease end (endTime)", function () {
    it("topUp is accepted one second before the end", async function () {
      const f = await loadFixture(openFixture);
      await at(f.end - 1n);
      await expect(f.escrow.connect(f.other).topUp(f.leaseId, USDC))
        .to.emit(f.escrow, "LeaseToppedUp")
        .withArgs(f.leaseId, f.other.address, USDC);
    });

    it("topUp is refused at exactly the end, changing nothing", async function () {
      const f = await loadFixture(openFixture);
      const before = await stateOf(f);
      await at(f.end);
      await expect(f.escrow.connect(f.other).topUp(f.leaseId, USDC))
        .to.be.revertedWithCustomError(f.escrow, "LeaseExpired")
        .withArgs(f.leaseId, f.end);
      // The NFT user right lapses at the end on its own; everything else is as before.
      const after = await stateOf(f);
      expect({ ...after, assets: before.assets }).to.deep.equal(before);
    });

    it("endByLessee is accepted one second before the end and refused at exactly it", async function () {
      const f = await loadFixture(openFixture);
      await at(f.end - 1n);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.EndedByLessee, f.lessee.address, f.end - 1n);
      const g = await loadFixture(openFixture);
      await at(g.end);
      await expect(g.escrow.connect(g.lessee).endByLessee(g.leaseId))
        .to.be.revertedWithCustomError(g.escrow, "LeaseExpired")
        .withArgs(g.leaseId, g.end);
    });

    it("terminateByProvider and closeUnderfunded are refused at exactly the end", async function () {
      const f = await loadFixture(openFixture);
      await at(f.end);
      await expect(f.escrow.connect(f.provider).terminateByProvider(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseExpired")
        .withArgs(f.leaseId, f.end);
      await expect(f.escrow.connect(f.other).closeUnderfunded(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseExpired")
        .withArgs(f.leaseId, f.end);
      const g = await loadFixture(openFixture);
      await at(g.end - 1n);
      await expect(g.escrow.connect(g.provider).terminateByProvider(g.leaseId)).to.emit(g.escrow, "LeaseEnded");
    });

    /** A 1-day lease on an escrow with a 60 s dispute window; its final reading, stamped at the end, accepted 60 s before it. */
    async function endReadingFixture() {
      const f = await shortWindowTermsFixture();
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, DEPOSIT);
      const end = start + DAY;
      await f.meters.useAt(end, 10_000n, 0n, end - SHORT_WINDOW);
      return { ...f, leaseId, end };
    }

    it("close is refused one second before the end, changing nothing", async function () {
      const f = await loadFixture(endReadingFixture);
      const p = (await f.keeper.proofs(f.leaseId, f.end))!;
      expect(p.final).to.equal(true);
      const before = await stateOf(f);
      await at(f.end - 1n);
      await expect(f.escrow.close(f.leaseId, p.start, p.point))
        .to.be.revertedWithCustomError(f.escrow, "LeaseNotExpired")
        .withArgs(f.leaseId, f.end);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("close bills and refunds at exactly the end", async function () {
      const f = await loadFixture(endReadingFixture);
      await at(f.end);
      await expect(f.keeper.close(f.leaseId, f.other, f.end))
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.Expired, f.other.address, true, DEPOSIT - 384n * USDC); // 8 GPUs x 24 h x 2 USDC
    });

    it("the next lease of the asset opens at exactly the end, and not one second before", async function () {
      const f = await loadFixture(openFixture);
      await at(f.end - 1n);
      await expect(f.escrow.connect(f.other).openLease(f.assetId, 1, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "AssetNotLeasable")
        .withArgs(f.assetId);
      await at(f.end);
      await expect(f.escrow.connect(f.other).openLease(f.assetId, 1, DAY, DEPOSIT))
        .to.emit(f.escrow, "LeaseOpened")
        .withArgs(2n, f.assetId, f.other.address, f.token, 1, f.end, f.end + DAY, DEPOSIT);
    });
  });

  describe("the arbiter's deadline (dispute time + arbiterTimeoutSeconds)", function () {
    it("resolveDispute is accepted one second before the deadline", async function () {
      const f = await loadFixture(disputedFixture);
      await at(f.deadline - 1n);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 0n))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(f.leaseId, f.arbiter.address, 0n, FIRST_BILL, false);
    });

    it("resolveDispute is refused at exactly the deadline, changing nothing", async function () {
      const f = await loadFixture(disputedFixture);
      await time.increaseTo(f.deadline - 2n);
      const before = await stateOf(f);
      await at(f.deadline);
      await expect(f.escrow.connect(f.arbiter).resolveDispute(f.leaseId, 0n))
        .to.be.revertedWithCustomError(f.escrow, "ArbiterTimeoutPassed")
        .withArgs(f.leaseId, f.deadline);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("resolveDisputeByTimeout is refused one second before the deadline, changing nothing", async function () {
      const f = await loadFixture(disputedFixture);
      await time.increaseTo(f.deadline - 2n);
      const before = await stateOf(f);
      await at(f.deadline - 1n);
      await expect(f.escrow.resolveDisputeByTimeout(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "ArbiterTimeoutNotReached")
        .withArgs(f.leaseId, f.deadline);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("resolveDisputeByTimeout applies the default at exactly the deadline", async function () {
      const f = await loadFixture(disputedFixture);
      await at(f.deadline);
      await expect(f.escrow.connect(f.other).resolveDisputeByTimeout(f.leaseId))
        .to.emit(f.escrow, "DisputeResolved")
        .withArgs(f.leaseId, f.other.address, 0n, FIRST_BILL, true);
    });
  });

  describe("the final-reading grace period (end + 7 days)", function () {
    it("close without a final reading is refused one second before it, changing nothing", async function () {
      const f = await loadFixture(settledFixture);
      const closableAt = f.end + (await f.escrow.FINAL_READING_GRACE_SECONDS());
      await time.increaseTo(closableAt - 2n);
      const before = await stateOf(f);
      await at(closableAt - 1n);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.be.revertedWithCustomError(f.escrow, "AwaitingFinalReading")
        .withArgs(f.leaseId, closableAt);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("close without a final reading is accepted at exactly it", async function () {
      const f = await loadFixture(settledFixture);
      const closableAt = f.end + 7n * DAY;
      await at(closableAt);
      await expect(f.escrow.connect(f.other).close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.Expired, f.other.address, false, DEPOSIT - FIRST_BILL);
    });

    it("runs from the new end after an early end", async function () {
      const f = await loadFixture(settledFixture);
      const endedAt = f.start + 40n * HOUR;
      await at(endedAt);
      await f.escrow.connect(f.lessee).endByLessee(f.leaseId);
      await at(endedAt + 7n * DAY - 1n);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.be.revertedWithCustomError(f.escrow, "AwaitingFinalReading")
        .withArgs(f.leaseId, endedAt + 7n * DAY);
      await at(endedAt + 7n * DAY);
      await expect(f.escrow.close(f.leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
        .to.emit(f.escrow, "LeaseClosed")
        .withArgs(f.leaseId, EndReason.EndedByLessee, anyValue, false, DEPOSIT - FIRST_BILL);
    });
  });

  describe("the minimum duration (start + minDurationSeconds) for endByLessee", function () {
    it("is refused one second before, changing nothing", async function () {
      const f = await loadFixture(openFixture);
      const before = await stateOf(f);
      await at(f.start + MIN_DURATION - 1n);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "MinimumDurationNotReached")
        .withArgs(f.leaseId, f.start + MIN_DURATION);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("is accepted at exactly it", async function () {
      const f = await loadFixture(openFixture);
      await at(f.start + MIN_DURATION);
      await expect(f.escrow.connect(f.lessee).endByLessee(f.leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.EndedByLessee, f.lessee.address, f.start + MIN_DURATION);
    });
  });

  describe("underfunding (deposits < full use from the start to min(end, now + 1 h))", function () {
    /** A 1-day lease with exactly two hours of full use deposited: closable from start + 1 h + 1 s. */
    async function twoHoursFixture() {
      const f = await termsFixture();
      const start = BigInt(await time.latest()) + 100n;
      const leaseId = await openAt(f, start, DAY, 2n * FULL_HOUR);
      return { ...f, leaseId, start };
    }

    it("closeUnderfunded is refused at start + 1 h, changing nothing", async function () {
      const f = await loadFixture(twoHoursFixture);
      const before = await stateOf(f);
      await at(f.start + HOUR);
      await expect(f.escrow.connect(f.other).closeUnderfunded(f.leaseId))
        .to.be.revertedWithCustomError(f.escrow, "LeaseNotUnderfunded")
        .withArgs(f.leaseId, 2n * FULL_HOUR, 2n * FULL_HOUR);
      expect(await stateOf(f)).to.deep.equal(before);
    });

    it("closeUnderfunded ends the lease at start + 1 h + 1 s", async function () {
      const f = await loadFixture(twoHoursFixture);
      await at(f.start + HOUR + 1n);
      await expect(f.escrow.connect(f.other).closeUnderfunded(f.leaseId))
        .to.emit(f.escrow, "LeaseEnded")
        .withArgs(f.leaseId, EndReason.InsufficientFunds, f.other.address, f.start + HOUR + 1n);
    });
  });
});

function anyValue() {
  return true;
}
