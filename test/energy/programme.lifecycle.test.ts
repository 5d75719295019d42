import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { boundaryPostTimes, eventTimes, OutcomeStatus, previewReduction } from "../../src/demandResponse";
import { leaseEfficiency } from "../../src/energy";
import { DISPUTE_WINDOW, expectSolvent } from "../escrow/helpers";
import {
  COMMITTED_J,
  DAY,
  FULL,
  HOUR,
  IDLE,
  MAX_CREDIT,
  MINUTE,
  SPEC,
  USDC,
  createdProgramme,
  deployProgramme,
  eventParams,
  prove,
  publishCurtailable,
  schedule,
  storedEvent,
  termsFor,
  time,
  type Load,
} from "./helpers";

/** 0.20 USDC per kWh metered, billed by the escrow on both leases. */
const ENERGY_PRICE = 200_000n;

/**
 * The whole story with real signed meters: a sponsor funds a programme with two enrolled servers; the
 * provider leases #1 on curtailable terms (10 % off the reservation, at most 2 events / 4 h) and #2 on
 * plain terms; the feeder posts hourly readings; a grid emergency is announced at 05:30 for
 * 06:15–08:15; the feeder adds readings at the two boundaries (`boundaryPostTimes`); #1 steps down to
 * idle, #2 keeps running; the lessee of #1 checks in; after the event both reductions are proven from
 * the chain's history; #1 is credited (capped at the committed 8 kWh) and the credit is split 30/70,
 * #2 is recorded as non-compliant; both leases close and every token unit is accounted for.
 */
async function storyFixture() {
  const f = await createdProgramme(await deployProgramme(), 100n * USDC);
  const { escrow, programme, usdc, provider, lessee, lessee2, sponsor, feeder, assetId, asset2 } = f;
  await programme.connect(provider).setLesseeShare(1, assetId, 3_000);
  await publishCurtailable(f, assetId, {}, { energyPricePerKWh: ENERGY_PRICE });
  await escrow
    .connect(provider)
    .setLeaseTerms(asset2, termsFor(await usdc.getAddress(), { energyPricePerKWh: ENERGY_PRICE }));

  const t0 = BigInt(await time.latest()) + 100n;
  const both = (a: Load, b: Load) =>
    new Map<bigint, Load>([
      [assetId, a],
      [asset2, b],
    ]);
  await feeder.post(t0, both(FULL, FULL));
  const start = t0 + 10n;
  await time.setNextBlockTimestamp(start);
  await escrow.connect(lessee).openLease(assetId, 1, DAY, 1_000n * USDC);
  await escrow.connect(lessee2).openLease(asset2, 1, DAY, 1_000n * USDC);

  // Hourly readings until the notice.
  await feeder.run(schedule(t0, t0 + 5n * HOUR, HOUR), () => both(FULL, FULL));
  const notice = t0 + 5n * HOUR + 30n * MINUTE;
  const evStart = t0 + 6n * HOUR + 15n * MINUTE;
  const evEnd = t0 + 8n * HOUR + 15n * MINUTE;
  await time.setNextBlockTimestamp(notice);
  await programme.connect(sponsor).announce(1, eventParams(notice, evStart, evEnd));
  const ev = await storedEvent(programme, 1, 1);
  // The feeder reads the announced event and adds readings at its boundaries.
  const boundaries = boundaryPostTimes([ev], t0 + 5n * HOUR);
  const loadAt = (t: bigint) => (t > evStart && t <= evEnd ? both(IDLE, FULL) : both(FULL, FULL));
  await feeder.run(schedule(t0 + 5n * HOUR, evStart + 15n * MINUTE, HOUR, boundaries), loadAt);
  await time.setNextBlockTimestamp(evStart + 30n * MINUTE);
  await programme.connect(f.other).checkIn(1, 1, assetId);
  await feeder.run(schedule(evStart + 15n * MINUTE, t0 + 26n * HOUR, HOUR, boundaries), loadAt);
  return { ...f, t0, start, notice, evStart, evEnd, boundaries };
}

describe("Demand response: a whole programme with real signed meters", function () {
  it("the feeder's boundary times are the event's start and end", async function () {
    const { boundaries, evStart, evEnd } = await loadFixture(storyFixture);
    expect(boundaries).to.deep.equal([evStart, evEnd]);
  });

  it("announcing reserves the largest credit of both enrolled assets from the deposit", async function () {
    const { programme } = await loadFixture(storyFixture);
    expect((await programme.programmeOf(1)).available).to.equal(100n * USDC - 2n * MAX_CREDIT);
    expect(await programme.reservedOf(1, 1)).to.equal(2n * MAX_CREDIT);
    expect(await programme.maxCreditPerAsset(1, 1)).to.equal(4n * USDC);
  });

  it("records the lessee of #1 as the participant, with the owner's 30 % share", async function () {
    const { programme, lessee, assetId } = await loadFixture(storyFixture);
    const p = await programme.participantOf(1, 1, assetId);
    expect(p.account).to.equal(lessee.address);
    expect(p.shareBps).to.equal(3_000n);
  });

  it("proves #1's reduction (capped at 8 kWh), pays 4 USDC split 1.2 / 2.8, and #2's non-compliance", async function () {
    const { programme, rig, provider, lessee, usdc, assetId, asset2, other } = await loadFixture(storyFixture);
    const history = await rig.history();
    const ev = await storedEvent(programme, 1, 1);
    // Baseline: 4,800 W over the 2 h before the notice = 34.56 MJ over the 2 h event; metered at idle
    // 8 × 60 W × 2 h = 3.456 MJ; reduction 31.104 MJ (8.64 kWh), capped at the committed 8 kWh.
    const preview1 = previewReduction(history, ev, assetId, SPEC)!;
    expect(preview1).to.deep.include({
      baselineJ: 34_560_000n,
      meteredJ: 3_456_000n,
      reductionJ: COMMITTED_J,
      credit: 4n * USDC,
    });
    await expect(prove(programme, rig, 1, 1, assetId, other))
      .to.emit(programme, "ReductionProven")
      .withArgs(1, 1, assetId, [OutcomeStatus.Credited, 34_560_000n, 3_456_000n, COMMITTED_J, 4n * USDC]);
    // Owed: 30 % to the lessee who checked in, the rest to the owner; each part is paid by a pull.
    const lesseePart = programme.connect(other).claimLesseeCredit(1, 1, assetId);
    await expect(lesseePart).to.emit(programme, "CreditPaid").withArgs(1, 1, assetId, lessee.address, 1_200_000n, true);
    await expect(lesseePart).to.changeTokenBalances(usdc, [programme, lessee], [-1_200_000n, 1_200_000n]);
    const ownerPart = programme.connect(other).claimOwnerCredit(1, 1, assetId);
    await expect(ownerPart)
      .to.emit(programme, "CreditPaid")
      .withArgs(1, 1, assetId, provider.address, 2_800_000n, false);
    await expect(ownerPart).to.changeTokenBalances(usdc, [programme, provider], [-2_800_000n, 2_800_000n]);
    await expect(prove(programme, rig, 1, 1, asset2, other))
      .to.emit(programme, "NonCompliance")
      .withArgs(1, 1, asset2, OutcomeStatus.NoReduction, 34_560_000n, 34_560_000n);
    expect((await programme.outcomeOf(1, 1, asset2)).status).to.equal(OutcomeStatus.NoReduction);
    // Slices settled: the unpaid parts went back to the sponsor's unreserved funds.
    expect(await programme.reservedOf(1, 1)).to.equal(0n);
    expect((await programme.programmeOf(1)).available).to.equal(100n * USDC - 4n * USDC);
    expect((await programme.eventOf(1, 1)).provenCount).to.equal(2n);
  });

  it("bills #1 without the reservation of the curtailed 2 h and 10 % off, and #2 as if no event happened", async function () {
    const f = await loadFixture(storyFixture);
    const { programme, rig, escrow, keeper, usdc, provider, lessee, lessee2, sponsor, assetId, asset2, start, other } =
      f;
    await prove(programme, rig, 1, 1, assetId, other);
    await prove(programme, rig, 1, 1, asset2, other);
    const at = start + DAY + HOUR + DISPUTE_WINDOW + 60n;
    await time.setNextBlockTimestamp(at);
    await keeper.close(1n, other, at);
    await keeper.close(2n, other, at + 1n);
    // #1: reservation on 176 of 192 available GPU-hours at 2 × 0.9 = 316.80; usage 176 busy GPU-hours
    // = 176; energy 4,800 W × 22 h + 480 W × 2 h = 106.56 kWh × 0.20 = 21.312: 514.112 USDC.
    expect((await escrow.accountingOf(1n)).charged).to.equal(514_112_000n);
    // #2: 192 GPU-hours × (2 + 1) + 115.2 kWh × 0.20 = 599.04 USDC, exactly the plain bill.
    expect((await escrow.accountingOf(2n)).charged).to.equal(599_040_000n);
    const eff = leaseEfficiency(await rig.history(), await escrow.leaseOf(1n), SPEC)!;
    expect(eff.energyJ).to.equal(383_616_000n);
    expect(eff.wattsPerBusyGpu).to.equal(383_616_000n / (176n * 3600n));
    await expectSolvent(escrow, usdc, [provider.address, lessee.address, lessee2.address]);

    // Everyone is paid what the programme owes; the programme then holds exactly the sponsor's funds.
    await programme.connect(other).claimLesseeCredit(1, 1, assetId);
    await programme.connect(other).claimOwnerCredit(1, 1, assetId);
    expect(await usdc.balanceOf(await programme.getAddress())).to.equal((await programme.programmeOf(1)).available);
    const available = (await programme.programmeOf(1)).available;
    await expect(programme.connect(sponsor).withdrawFunds(1, available, sponsor.address)).to.changeTokenBalances(
      usdc,
      [programme, sponsor],
      [-available, available],
    );
    expect(await usdc.balanceOf(await programme.getAddress())).to.equal(0n);
  });

  it("cannot settle #1 past the event start before the outcome is recorded, and can settle up to the start", async function () {
    const f = await loadFixture(storyFixture);
    const { programme, rig, escrow, keeper, assetId, evStart, evEnd, other } = f;
    const at = evEnd + HOUR + DISPUTE_WINDOW;
    await time.setNextBlockTimestamp(at);
    await expect(keeper.settle(1n, other, at))
      .to.be.revertedWithCustomError(programme, "OutcomeNotRecorded")
      .withArgs(1, 1, assetId);
    // The reading stamped at the event start is a valid billing point: no outcome needed up to it.
    const history = await rig.history();
    const atStart = history.boundaryAt(assetId, evStart)!;
    const startProof = history.boundaryAt(assetId, (await escrow.leaseOf(1n)).startTime)!;
    await expect(escrow.connect(other).settle(1n, startProof.boundary, atStart.boundary)).to.emit(
      escrow,
      "LeaseSettled",
    );
    expect((await escrow.leaseOf(1n)).billed).to.be.greaterThan(0n);
    await prove(programme, rig, 1, 1, assetId, other);
    await expect(keeper.settle(1n, other, at + 1n)).to.emit(escrow, "LeaseSettled");
  });

  it("the event's times and baseline window read back as announced", async function () {
    const { programme, notice, evStart, evEnd } = await loadFixture(storyFixture);
    const t = eventTimes(await storedEvent(programme, 1, 1));
    // The baseline window: the 2 h ending at the last 15-minute boundary at or before the notice.
    const to = notice - (notice % 900n);
    expect(t).to.deep.equal({
      noticeTime: notice,
      startTime: evStart,
      endTime: evEnd,
      baselineFrom: to - 2n * HOUR,
      baselineTo: to,
    });
    expect(await programme.baselineWindowOf(1, 1)).to.deep.equal([to - 2n * HOUR, to]);
  });
});
