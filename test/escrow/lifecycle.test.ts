import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ABSENT_BOUNDARY } from "../../src/meterHistory";
import { DAY, EndReason, FULL_HOUR, GPUS, HOUR, USDC, at, billOf, expectSolvent, termsFor, TDP_WATTS } from "./helpers";
import { firstMeter, openAt, termsFixture, type TermsFixture } from "./fixtures";

/**
 * Whole lease lifecycles on the real NFT and oracle (every reading a 2-of-3 signed batch at a pinned
 * time). The test keeps its own ghost ledger of what each party was credited, computed from the
 * meters with the reference bill model, and after every step checks it against each party's
 * withdrawable balance, plus per lease deposits made (from events) = charged + refunded + held, and
 * the escrow's token balance = everything held + everything withdrawable. Everyone withdraws at the
 * end and the escrow is left empty.
 */
describe("SettlementEscrow lifecycles", function () {
  /** Per-party credits the test expects, independent of the escrow's bookkeeping. */
  class Ledger {
    private readonly credited = new Map<string, bigint>();
    constructor(
      private readonly f: TermsFixture,
      private readonly parties: HardhatEthersSigner[],
    ) {}

    credit(party: HardhatEthersSigner, amount: bigint) {
      this.credited.set(party.address, (this.credited.get(party.address) ?? 0n) + amount);
    }

    of(party: HardhatEthersSigner) {
      return this.credited.get(party.address) ?? 0n;
    }

    /** Each party's withdrawable equals its ghost; every lease balances; the escrow is solvent. */
    async check(step: string) {
      for (const p of this.parties) {
        expect(
          await this.f.escrow.withdrawable(p.address, this.f.token),
          `${step}: withdrawable of ${p.address}`,
        ).to.equal(this.of(p));
      }
      await expectSolvent(
        this.f.escrow,
        this.f.usdc,
        this.parties.map((p) => p.address),
      );
    }

    /** Everyone withdraws to itself: tokens arrive exactly as the ghost says, the escrow ends empty. */
    async withdrawAll() {
      for (const p of this.parties) {
        await expect(this.f.escrow.connect(p).withdraw(this.f.token, p.address)).to.changeTokenBalances(
          this.f.usdc,
          [p],
          [this.of(p)],
        );
        this.credited.set(p.address, 0n);
      }
      await this.check("after every withdrawal");
      expect(await this.f.usdc.balanceOf(await this.f.escrow.getAddress())).to.equal(0n);
    }
  }

  /** The asset's latest meter values stamped `t` (for the bill model). */
  async function meterNow(f: TermsFixture, t: bigint) {
    const m = await f.meters.latest();
    return { timestamp: t, busyGpuSeconds: m.busy, availableGpuSeconds: m.available, energyJ: m.energy };
  }

  it("keeper settlements, a third-party top-up, a dispute split by the arbiter, a sale mid-lease, expiry and close", async function () {
    const f = await loadFixture(termsFixture);
    const { escrow, provider, buyer, lessee, other, arbiter, keeper, meters } = f;
    await escrow.connect(provider).setLeaseTerms(f.assetId, termsFor(f.token)); // SLA target 99 %
    const terms = await escrow.leaseTermsAt(f.assetId, 2);
    const ledger = new Ledger(f, [provider, buyer, lessee, other]);
    const bill = (point: Awaited<ReturnType<typeof meterNow>>) =>
      billOf(firstMeter(start), point, 3n * DAY, GPUS, TDP_WATTS, terms).total;

    const start = BigInt(await time.latest()) + 100n;
    const end = start + 3n * DAY;
    const leaseId = await openAt(f, start, 3n * DAY, 1_500n * USDC);
    await ledger.check("open");

    // Day 1: half the GPUs busy. Settled by a keeper once billable: the availability so far is
    // measured against the whole lease, so the interim bill carries a large SLA credit.
    await meters.useAt(start + 12n * HOUR, 10_000n, 5_000n);
    const bill1 = bill(await meterNow(f, start + 12n * HOUR));
    expect(bill1).to.equal(40_387_878n);
    await at(start + 36n * HOUR);
    await expect(keeper.settle(leaseId, other, start + 36n * HOUR))
      .to.emit(escrow, "LeaseSettled")
      .withArgs(leaseId, provider.address, start + 12n * HOUR, anyValue, bill1);
    ledger.credit(provider, bill1);
    await ledger.check("first settlement");

    // A third party tops the lease up; the leftover will still go to the lessee.
    await escrow.connect(other).topUp(leaseId, 300n * USDC);
    await ledger.check("top-up");

    // Day 2: full use. The lessee disputes the increase before it is billable.
    await meters.useAt(start + 48n * HOUR, 10_000n, 10_000n);
    const bill2 = bill(await meterNow(f, start + 48n * HOUR));
    const disputed = bill2 - bill1;
    await at(start + 48n * HOUR + 60n);
    await expect(keeper.dispute(leaseId, lessee))
      .to.emit(escrow, "DisputeRaised")
      .withArgs(leaseId, disputed, start + 48n * HOUR, anyValue);
    await ledger.check("dispute");

    // The provider sells the NFT; the arbiter gives a quarter back: the rest goes to the new owner.
    await f.nft.connect(provider).transferFrom(provider.address, buyer.address, f.assetId);
    const toLessee = disputed / 4n;
    await escrow.connect(arbiter).resolveDispute(leaseId, toLessee);
    ledger.credit(lessee, toLessee);
    ledger.credit(buyer, disputed - toLessee);
    await ledger.check("arbiter split after the sale");

    // Day 3: idle but available; the first reading after the end proves the end meter.
    await meters.useAt(end + 300n, 10_000n, 0n);
    const m = await meterNow(f, end);
    const finalBill = bill({ ...m, availableGpuSeconds: 5_000n + GPUS * 3n * DAY });
    expect(finalBill).to.equal(1_488n * USDC); // full availability: no credit; 576 GPU-h x 2 + 336 busy x 1
    await at(end + 300n + DAY);
    await expect(keeper.close(leaseId, other, end + 300n + DAY))
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseId, EndReason.Expired, other.address, true, 1_800n * USDC - finalBill);
    ledger.credit(buyer, finalBill - bill2);
    ledger.credit(lessee, 1_800n * USDC - finalBill);
    await ledger.check("close");
    expect(ledger.of(provider) + ledger.of(buyer) + ledger.of(lessee)).to.equal(1_800n * USDC);
    const [deposited, charged, refunded, held] = await escrow.accountingOf(leaseId);
    expect([deposited, charged, refunded, held]).to.deep.equal([
      1_800n * USDC,
      finalBill - toLessee,
      1_800n * USDC - finalBill + toLessee,
      0n,
    ]);
    await ledger.withdrawAll();
  });

  it("early ends one after another on one asset: by the lessee with an ignored dispute, by the provider, for insufficient funds, and an unmetered expiry", async function () {
    const f = await loadFixture(termsFixture);
    const { escrow, provider, lessee, other, keeper, meters } = f;
    const ledger = new Ledger(f, [provider, lessee, other]);
    const fullUse = (seconds: bigint) => (GPUS * seconds * 2n * USDC) / HOUR + (GPUS * seconds * USDC) / HOUR;

    // Lease A: two idle hours, then the lessee ends it and disputes the 32 USDC; the arbiter stays silent.
    const a = BigInt(await time.latest()) + 100n;
    const leaseA = await openAt(f, a, DAY, 300n * USDC);
    await meters.useAt(a + 2n * HOUR, 10_000n, 0n, a + 2n * HOUR - 10n);
    await at(a + 2n * HOUR);
    await expect(escrow.connect(lessee).endByLessee(leaseA))
      .to.emit(escrow, "LeaseEnded")
      .withArgs(leaseA, EndReason.EndedByLessee, lessee.address, a + 2n * HOUR);
    await expect(keeper.dispute(leaseA, lessee))
      .to.emit(escrow, "DisputeRaised")
      .withArgs(leaseA, 32n * USDC, a + 2n * HOUR, anyValue);
    const deadlineA = (await escrow.leaseOf(leaseA)).disputeDeadline;
    await ledger.check("lease A disputed");
    await at(a + 2n * HOUR + DAY);
    await expect(keeper.close(leaseA, other, a + 2n * HOUR + DAY))
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseA, EndReason.EndedByLessee, other.address, true, 268n * USDC);
    ledger.credit(lessee, 268n * USDC);
    await ledger.check("lease A closed, dispute open");

    // Lease B: an hour of full use, then the provider terminates it.
    const b = a + 2n * HOUR + DAY + 100n;
    const leaseB = await openAt(f, b, DAY, 300n * USDC);
    await meters.useAt(b + HOUR, 10_000n, 10_000n, b + HOUR - 10n);
    await at(b + HOUR);
    await escrow.connect(provider).terminateByProvider(leaseB);
    await at(b + HOUR + DAY);
    await expect(keeper.close(leaseB, other, b + HOUR + DAY))
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseB, EndReason.TerminatedByProvider, other.address, true, 276n * USDC);
    ledger.credit(provider, FULL_HOUR);
    ledger.credit(lessee, 276n * USDC);
    await ledger.check("lease B closed");

    // Lease A's dispute falls to its default: the charge stands.
    await at(deadlineA);
    await escrow.connect(other).resolveDisputeByTimeout(leaseA);
    ledger.credit(provider, 32n * USDC);
    await ledger.check("lease A's dispute by timeout");

    // Lease C: two hours deposited on a day lease, full use; a stranger ends it the second it is short.
    const c = b + HOUR + DAY + 100n > deadlineA + 100n ? b + HOUR + DAY + 100n : deadlineA + 100n;
    const leaseC = await openAt(f, c, DAY, 2n * FULL_HOUR);
    await meters.useAt(c + HOUR, 10_000n, 10_000n);
    await at(c + HOUR + 1n);
    await expect(escrow.connect(other).closeUnderfunded(leaseC))
      .to.emit(escrow, "LeaseEnded")
      .withArgs(leaseC, EndReason.InsufficientFunds, other.address, c + HOUR + 1n);
    await meters.useAt(c + 2n * HOUR, 10_000n, 10_000n);
    await at(c + 2n * HOUR + DAY);
    await expect(keeper.close(leaseC, other, c + 2n * HOUR + DAY))
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseC, EndReason.InsufficientFunds, other.address, true, 2n * FULL_HOUR - fullUse(HOUR + 1n));
    ledger.credit(provider, fullUse(HOUR + 1n));
    ledger.credit(lessee, 2n * FULL_HOUR - fullUse(HOUR + 1n));
    await ledger.check("lease C closed");

    // Lease D: the feeder goes silent; a week after the end anyone closes it without a final reading.
    const d = c + 2n * HOUR + DAY + 100n;
    const leaseD = await openAt(f, d, DAY, 100n * USDC);
    await at(d + DAY + 7n * DAY);
    await expect(escrow.connect(other).close(leaseD, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseD, EndReason.Expired, other.address, false, 100n * USDC);
    ledger.credit(lessee, 100n * USDC);
    await ledger.check("lease D closed");
    expect(await escrow.unfinishedLeasesOf(f.assetId)).to.deep.equal([0n, ethers.ZeroAddress]);
    await ledger.withdrawAll();
  });

  it("a pause mid-lease stops new business only: settle, end, close, dispute and withdraw all run while paused", async function () {
    const f = await loadFixture(termsFixture);
    const { escrow, provider, lessee, other, pauser, keeper, meters } = f;
    const ledger = new Ledger(f, [provider, lessee, other]);
    const start = BigInt(await time.latest()) + 100n;
    const leaseId = await openAt(f, start, 3n * DAY, 2_000n * USDC);
    await meters.useAt(start + 6n * HOUR, 10_000n, 5_000n); // 120 USDC
    await escrow.connect(pauser).pause();
    await expect(escrow.connect(other).topUp(leaseId, USDC)).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    await expect(escrow.connect(other).openLease(f.assetId, 1, DAY, 2_000n * USDC)).to.be.revertedWithCustomError(
      escrow,
      "EnforcedPause",
    );
    await at(start + 30n * HOUR);
    await keeper.settle(leaseId, other, start + 30n * HOUR);
    ledger.credit(provider, 120n * USDC);
    await ledger.check("settled while paused");
    await meters.useAt(start + 40n * HOUR, 10_000n, 10_000n, start + 40n * HOUR - 10n);
    await at(start + 40n * HOUR);
    await escrow.connect(lessee).endByLessee(leaseId);
    await keeper.dispute(leaseId, lessee); // 8 x 34 h x 2 + 8 x 34 h x 1 = 816 USDC up to the new end
    await at(start + 40n * HOUR + DAY);
    await expect(keeper.close(leaseId, other, start + 40n * HOUR + DAY))
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseId, EndReason.EndedByLessee, other.address, true, 2_000n * USDC - 936n * USDC);
    ledger.credit(lessee, 1_064n * USDC);
    await escrow.connect(f.arbiter).resolveDispute(leaseId, 16n * USDC);
    ledger.credit(lessee, 16n * USDC);
    ledger.credit(provider, 800n * USDC);
    await ledger.check("ended, closed and resolved while paused");
    await ledger.withdrawAll();
    await escrow.connect(pauser).unpause();
    await expect(escrow.connect(other).openLease(f.assetId, 1, DAY, 2_000n * USDC)).to.emit(escrow, "LeaseOpened");
  });

  it("an asset burned after its lease expired: the lease closes at once and the lessee gets back everything not charged", async function () {
    const f = await loadFixture(termsFixture);
    const { escrow, provider, lessee, other, keeper, meters } = f;
    const ledger = new Ledger(f, [provider, lessee, other]);
    const start = BigInt(await time.latest()) + 100n;
    const leaseId = await openAt(f, start, 3n * DAY, 2_000n * USDC);
    await meters.useAt(start + 6n * HOUR, 10_000n, 5_000n);
    await at(start + 30n * HOUR);
    await keeper.settle(leaseId, other, start + 30n * HOUR);
    ledger.credit(provider, 120n * USDC);
    await at(start + 3n * DAY);
    await f.nft.connect(provider).burn(f.assetId);
    await expect(escrow.connect(other).close(leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY))
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseId, EndReason.Expired, other.address, false, 1_880n * USDC);
    ledger.credit(lessee, 1_880n * USDC);
    await ledger.check("closed after the burn");
    await ledger.withdrawAll();
  });
});

function anyValue() {
  return true;
}
