import { expect } from "chai";
import { ethers } from "hardhat";
import { OutcomeStatus } from "../../src/demandResponse";
import {
  FULL,
  HOUR,
  MAX_CREDIT,
  MINUTE,
  USDC,
  createdProgramme,
  deployProgramme,
  eventParams,
  nextGridTime,
  prove,
  time,
  type Load,
} from "./helpers";

const OFF: Load = { availableBps: 10_000n, busyBps: 0n, wattsPerGpu: 0n };

/**
 * A sponsor can never pay out more than it deposited. Five assets, a deposit that covers exactly two
 * events at the largest credit of every asset; every asset drops to zero draw in every event, so each
 * is paid the largest credit; a third event is refused for funds; every credit is claimed; the
 * programme then holds nothing but the sponsor's unreserved funds, and paid + withdrawn = deposited.
 */
describe("Demand response: a sponsor never pays out more than it deposited", function () {
  it("reserves at announcement, pays every proven credit in full, and refuses what the deposit cannot cover", async function () {
    const f = await deployProgramme();
    const { programme, sponsor, nft, provider, usdc, feeder, rig, other } = f;
    for (let id = 3; id <= 5; id++) {
      await nft.mint(provider.address, {
        gpuModel: "NVIDIA H100 80GB HBM3",
        datacenter: "eu-west-fra2",
        serialsHash: ethers.id(`sponsor-serials-${id}`),
        vramMiBPerGpu: 81_559,
        gpuCount: 8,
        tdpWattsPerGpu: 700,
      });
    }
    const assets = [1n, 2n, 3n, 4n, 5n];
    const deposit = 2n * 5n * MAX_CREDIT;
    await createdProgramme(f, deposit, assets);
    const t0 = await nextGridTime();
    await feeder.post(t0, new Map(assets.map((a) => [a, FULL])));
    await feeder.feed(t0 + 2n * HOUR, assets, () => FULL);
    for (let k = 0; k < 2; k++) {
      const notice = BigInt(await time.latest()) + 1n;
      const start = notice + 30n * MINUTE;
      const end = start + HOUR;
      await time.setNextBlockTimestamp(notice);
      await programme.connect(sponsor).announce(1, eventParams(notice, start, end));
      await feeder.feed(end + 3n * HOUR, assets, (t) => (t > start && t <= end ? OFF : FULL), [start, end]);
    }
    expect((await programme.programmeOf(1)).available).to.equal(0n);
    const notice = BigInt(await time.latest()) + 1n;
    await time.setNextBlockTimestamp(notice);
    await expect(programme.connect(sponsor).announce(1, eventParams(notice, notice + HOUR, notice + 2n * HOUR)))
      .to.be.revertedWithCustomError(programme, "InsufficientFunds")
      .withArgs(1, 5n * MAX_CREDIT, 0n);
    // Each asset's baseline is 4.8 kWh (8 × 600 W × 1 h) and it drew nothing: a 4.8 kWh reduction
    // (under the 8 kWh cap), a credit of 2.40 USDC of the 4.00 reserved for it.
    let paid = 0n;
    for (let i = 1; i <= 2; i++) {
      for (const a of assets) {
        await prove(programme, rig, 1, i, a, other);
        const o = await programme.outcomeOf(1, i, a);
        expect(o.status).to.equal(BigInt(OutcomeStatus.Credited));
        expect(o.credit).to.equal((17_280_000n * 500_000n) / 3_600_000n);
        paid += o.credit;
        await programme.connect(other).claimOwnerCredit(1, i, a);
      }
    }
    expect(paid).to.be.lessThanOrEqual(deposit);
    const available = (await programme.programmeOf(1)).available;
    expect(paid + available).to.equal(deposit);
    expect(await usdc.balanceOf(await programme.getAddress())).to.equal(available);
    await programme.connect(sponsor).withdrawFunds(1, available, sponsor.address);
    expect(await usdc.balanceOf(await programme.getAddress())).to.equal(0n);
    expect(await usdc.balanceOf(provider.address)).to.equal(paid);
  });
});
