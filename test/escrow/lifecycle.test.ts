import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { MockUSDC__factory } from "../../typechain-types";
import {
  DAY,
  DISPUTE_WINDOW,
  EndReason,
  FULL_HOUR,
  GPUS,
  HOUR,
  RESERVATION_PRICE,
  SLA_BPS,
  USAGE_PRICE,
  USDC,
  deployCore,
  expectSolvent,
  termsFor,
} from "./helpers";

/**
 * Whole lease lifecycles on the real NFT and oracle (every reading is a 2-of-3 signed batch). After
 * every step: per lease, deposits made (ghost, from events) = charged + refunded + held; and the
 * escrow's USDC balance equals everything it holds for leases plus every withdrawable balance.
 */
describe("SettlementEscrow lifecycles", function () {
  async function marketFixture() {
    const core = await deployCore();
    const usdc = await new MockUSDC__factory(core.admin).deploy();
    const t = await usdc.getAddress();
    await core.escrow.setTokenAllowed(t, true);
    await core.escrow.connect(core.provider).setLeaseTerms(core.assetId, termsFor(t));
    await usdc.mint(core.lessee.address, 10_000n * USDC);
    await usdc.connect(core.lessee).approve(await core.escrow.getAddress(), ethers.MaxUint256);
    const accounts = [core.lessee.address, core.provider.address];
    const check = () => expectSolvent(core.escrow, usdc, accounts);
    /** Opens a lease with the baseline reading stamped exactly at its start. */
    const open = async (duration: bigint, deposit: bigint) => {
      const start = BigInt(await time.latest()) + 10n;
      await core.meters.report(start, 0n, 0n);
      await time.setNextBlockTimestamp(start);
      await core.escrow.connect(core.lessee).openLease(core.assetId, duration, deposit);
      await check();
      return { leaseId: await core.escrow.leaseCount(), start, end: start + duration };
    };
    return { ...core, usdc, check, open };
  }

  /** Fees of a window the lease fully covers, as docs/escrow.md states them. */
  function expectedCharge(windowSeconds: bigint, availableGpuSeconds: bigint, busyGpuSeconds: bigint) {
    const reservation = (availableGpuSeconds * RESERVATION_PRICE) / HOUR;
    const usage = (busyGpuSeconds * USAGE_PRICE) / HOUR;
    let availability = (availableGpuSeconds * 10_000n) / (GPUS * windowSeconds);
    if (availability > 10_000n) availability = 10_000n;
    const gross = reservation + usage;
    const credit = availability < SLA_BPS ? (gross * (SLA_BPS - availability) + SLA_BPS - 1n) / SLA_BPS : 0n;
    return { gross, credit, net: gross - credit };
  }

  it("normal usage, a disputed charge the arbiter splits, a silent period, an outage below SLA, expiry", async function () {
    const { escrow, usdc, meters, lessee, provider, arbiter, other, check, open } = await loadFixture(marketFixture);
    const t = await usdc.getAddress();
    const deposit = 600n * USDC;
    const { leaseId, start, end } = await open(2n * DAY, deposit);

    // Hour 1: fully available, half busy: 16 + 4 USDC.
    await meters.report(start + HOUR, (GPUS * HOUR) / 2n, GPUS * HOUR);
    await escrow.settle(leaseId);
    expect((await escrow.leaseOf(leaseId)).pending).to.equal(20n * USDC);
    await check();

    // The lessee disputes 5 USDC; the arbiter gives 3 back and 2 to the provider.
    await escrow.connect(lessee).dispute(leaseId, 5n * USDC);
    await check();
    await escrow.connect(arbiter).resolveDispute(leaseId, 3n * USDC);
    expect(await escrow.withdrawable(lessee.address, t)).to.equal(3n * USDC);
    expect(await escrow.withdrawable(provider.address, t)).to.equal(2n * USDC);
    await check();

    // A silent day: no reading, nothing to settle, nothing billed.
    await time.increase(DAY);
    await expect(escrow.settle(leaseId))
      .to.be.revertedWithCustomError(escrow, "NoNewReading")
      .withArgs(leaseId, start + HOUR);
    expect((await escrow.leaseOf(leaseId)).balance).to.equal(deposit - 20n * USDC);
    await check();

    // A reading after the silence proves an outage: 40 % available, 20 % busy over 25 hours.
    const window = 25n * HOUR;
    const avail = (GPUS * window * 4n) / 10n;
    const busy = (GPUS * window * 2n) / 10n;
    await meters.report(start + HOUR + window, busy, avail);
    const expected = expectedCharge(window, avail, busy);
    expect(expected.credit).to.be.gt(0n);
    await expect(escrow.settle(leaseId))
      .to.emit(escrow, "ChargeReleased")
      .withArgs(leaseId, provider.address, t, 15n * USDC);
    const l = await escrow.leaseOf(leaseId);
    expect(l.pending).to.equal(expected.net);
    await check();

    // The rest of the lease, then expiry: anyone closes; the leftover goes to the lessee.
    const tail = end - (start + HOUR + window);
    await meters.report(end, 0n, GPUS * tail);
    const tailCharge = expectedCharge(tail, GPUS * tail, 0n).net;
    const refund = deposit - 20n * USDC - expected.net - tailCharge;
    await expect(escrow.connect(other).close(leaseId))
      .to.emit(escrow, "LeaseEnded")
      .withArgs(leaseId, EndReason.Expired, other.address, refund);
    await check();

    // After the dispute window everything is released; both sides withdraw; the escrow is empty.
    await time.increase(DISPUTE_WINDOW);
    await escrow.release(leaseId);
    await check();
    await escrow.connect(provider).withdraw(t, provider.address);
    await escrow.connect(lessee).withdraw(t, lessee.address);
    expect(await check()).to.equal(0n);
    expect(await usdc.balanceOf(await escrow.getAddress())).to.equal(0n);
    const [deposited, charged, refunded, held] = await escrow.accountingOf(leaseId);
    expect([deposited, held]).to.deep.equal([deposit, 0n]);
    expect(charged).to.equal(2n * USDC + 15n * USDC + expected.net + tailCharge);
    expect(refunded).to.equal(3n * USDC + refund);
  });

  it("early end with a dispute the arbiter ignores, provider termination, insufficient funds", async function () {
    const { escrow, usdc, nft, meters, lessee, provider, other, assetId, check, open } =
      await loadFixture(marketFixture);
    const t = await usdc.getAddress();

    // Lease A: the lessee ends after 2 hours and disputes the final charge; the arbiter stays silent.
    const a = await open(DAY, 300n * USDC);
    await meters.report(a.start + 2n * HOUR, 0n, GPUS * 2n * HOUR); // 32 USDC of reservation
    await expect(escrow.connect(lessee).endByLessee(a.leaseId))
      .to.emit(escrow, "LeaseEnded")
      .withArgs(a.leaseId, EndReason.EndedByLessee, lessee.address, 268n * USDC);
    expect(await nft.userOf(assetId)).to.equal(ethers.ZeroAddress);
    await check();
    await escrow.connect(lessee).dispute(a.leaseId, 32n * USDC);
    await check();
    await time.increaseTo((await escrow.leaseOf(a.leaseId)).disputeDeadline);
    await expect(escrow.connect(other).resolveDisputeByTimeout(a.leaseId))
      .to.emit(escrow, "DisputeResolved")
      .withArgs(a.leaseId, other.address, 0n, 32n * USDC, true);
    await check();

    // Lease B: the provider terminates it after an hour; the hour is billed, the rest refunded.
    const b = await open(DAY, 300n * USDC);
    await meters.report(b.start + HOUR, GPUS * HOUR, GPUS * HOUR); // 24 USDC
    await expect(escrow.connect(provider).terminateByProvider(b.leaseId))
      .to.emit(escrow, "LeaseEnded")
      .withArgs(b.leaseId, EndReason.TerminatedByProvider, provider.address, 276n * USDC);
    await check();

    // Lease C: the minimum deposit (one hour of full use, 24 USDC) plus 24; full use drains it.
    const c = await open(DAY, 2n * FULL_HOUR);
    await meters.report(c.start + HOUR, GPUS * HOUR, GPUS * HOUR);
    await expect(escrow.connect(other).closeUnderfunded(c.leaseId))
      .to.be.revertedWithCustomError(escrow, "LeaseNotUnderfunded")
      .withArgs(c.leaseId, FULL_HOUR, FULL_HOUR);
    await check();
    await meters.report(c.start + HOUR + HOUR / 2n, (GPUS * HOUR) / 2n, (GPUS * HOUR) / 2n);
    await expect(escrow.connect(other).closeUnderfunded(c.leaseId))
      .to.emit(escrow, "LeaseEnded")
      .withArgs(c.leaseId, EndReason.InsufficientFunds, other.address, FULL_HOUR / 2n);
    expect(await nft.isLeasable(assetId)).to.equal(true);
    await check();

    // Everything pending matures; both sides withdraw; nothing is left behind.
    await time.increase(DISPUTE_WINDOW);
    await escrow.release(b.leaseId);
    await escrow.release(c.leaseId);
    await check();
    const providerTotal = 32n * USDC + 24n * USDC + 36n * USDC;
    expect(await escrow.withdrawable(provider.address, t)).to.equal(providerTotal);
    await escrow.connect(provider).withdraw(t, provider.address);
    await escrow.connect(lessee).withdraw(t, lessee.address);
    expect(await check()).to.equal(0n);
    expect(await usdc.balanceOf(await escrow.getAddress())).to.equal(0n);
  });
});
