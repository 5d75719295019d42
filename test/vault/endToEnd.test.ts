import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { ContractTransactionResponse } from "ethers";
import {
  MockUSDC__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
} from "../../typechain-types";
import { DISPUTE_WINDOW, HOUR, deployCore } from "../escrow/helpers";
import { DAY, ONE_SHARE, ONE_USDC, leaseTerms } from "./fixtures";

/** 8 GPUs fully available and fully busy for a day: 8 × 24 GPU-hours × (2 + 1) USDC. */
const FULL_DAY = 8n * 24n * 3n * ONE_USDC;
/**
 * The charge of the first settlement of the 2-day lease below: one day of full use, billed with the
 * SLA credit of the lease's whole time so far (available 50 % of the 2 days against a 99 % target),
 * i.e. ⌊576 USDC × 5000 / 9900⌋ (SettlementMath.leaseBill). The close charges the rest of 2 × 576.
 */
const FIRST_CHARGE = (FULL_DAY * 5_000n) / 9_900n;
const SECOND_CHARGE = 2n * FULL_DAY - FIRST_CHARGE;

/**
 * The real GpuAssetNFT, UsageOracle (2-of-3 signers; every meter is a signed batch submitted by the
 * feeder through the escrow suite's `deployCore`/`Meters`) and SettlementEscrow, settled and closed by
 * the suite's `Keeper` with proofs rebuilt from the chain's logs; the factory, and the vault of asset
 * 1 (alice 50, bob 30, carol 20 shares). The manager published the terms through the vault; the
 * lessee holds and approved USDC.
 */
async function systemFixture() {
  const core = await deployCore();
  const { admin, provider: originator, lessee, nft, escrow, assetId } = core;
  // deployCore uses the first 8 accounts; the vault's people are the next ones.
  const [manager, alice, bob, carol, buyer, stranger] = (await ethers.getSigners()).slice(8, 14);
  const usdc = await new MockUSDC__factory(admin).deploy();
  await escrow.setTokenAllowed(await usdc.getAddress(), true);
  const factory = await new RevenueSplitVaultFactory__factory(admin).deploy(
    await nft.getAddress(),
    await escrow.getAddress(),
  );
  await nft.connect(originator).approve(await factory.getAddress(), assetId);
  await factory
    .connect(originator)
    .createVault(
      assetId,
      await usdc.getAddress(),
      manager.address,
      [alice.address, bob.address, carol.address],
      [50n * ONE_SHARE, 30n * ONE_SHARE, 20n * ONE_SHARE],
    );
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), stranger);
  await vault.connect(manager).setLeaseTerms(leaseTerms(await usdc.getAddress()));
  await usdc.mint(lessee.address, 10_000n * ONE_USDC);
  await usdc.connect(lessee).approve(await escrow.getAddress(), ethers.MaxUint256);
  return { ...core, originator, manager, alice, bob, carol, buyer, stranger, usdc, factory, vault };
}

/**
 * A 2-day lease with a 1,200 USDC deposit opened at `start`; a first full-use reading 100 s before it,
 * and a second one a day into it (8 GPUs fully available and busy throughout, so every interpolated
 * meter is exact).
 */
async function leasedFixture() {
  const base = await systemFixture();
  const { escrow, lessee, meters, assetId } = base;
  const t0 = BigInt(await time.latest()) + 100n;
  await meters.reportUse(10_000n, 10_000n, t0);
  const start = t0 + 100n;
  await time.setNextBlockTimestamp(start);
  await escrow.connect(lessee).openLease(assetId, 1n, 2n * DAY, 1_200n * ONE_USDC);
  await meters.reportUse(10_000n, 10_000n, start + DAY);
  return { ...base, leaseId: 1n, start, end: start + 2n * DAY };
}

/** The first day settled at the first second its reading is billable: FIRST_CHARGE credited to the vault. */
async function settledFixture() {
  const base = await leasedFixture();
  const { keeper, leaseId, start } = base;
  const at = start + DAY + DISPUTE_WINDOW;
  await time.setNextBlockTimestamp(at);
  await keeper.settle(leaseId, undefined, at);
  // The final reading, 10 minutes after the end; the close may bill it a dispute window later.
  await base.meters.reportUse(10_000n, 10_000n, base.end + 600n);
  return { ...base, closableAt: base.end + 600n + DISPUTE_WINDOW };
}

/** Sums the `charged` of the transaction's LeaseSettled events. */
async function chargedBy(
  base: { escrow: Awaited<ReturnType<typeof deployCore>>["escrow"] },
  tx: ContractTransactionResponse,
) {
  const receipt = await tx.wait();
  let charged = 0n;
  for (const log of receipt!.logs) {
    const parsed = base.escrow.interface.parseLog(log);
    if (parsed?.name === "LeaseSettled") charged += parsed.args.charged as bigint;
  }
  return charged;
}

describe("RevenueSplitVault with the real oracle and SettlementEscrow (end to end)", function () {
  it("lets the manager publish terms that the escrow stores and leases open with", async function () {
    const { escrow, usdc, assetId, nft, lessee, vault } = await loadFixture(leasedFixture);
    expect((await escrow.leaseTermsOf(assetId)).token).to.equal(await usdc.getAddress());
    expect(await escrow.currentTermsVersion(assetId)).to.equal(1n);
    expect((await escrow.leaseOf(1n)).termsVersion).to.equal(1n);
    expect(await nft.userOf(assetId)).to.equal(lessee.address);
    expect(await nft.ownerOf(assetId)).to.equal(await vault.getAddress());
  });

  it("refuses, in the escrow, manager terms the escrow rejects (bounds checked, no-op refused)", async function () {
    const { vault, escrow, usdc, manager, assetId } = await loadFixture(systemFixture);
    await expect(vault.connect(manager).setLeaseTerms(leaseTerms(await usdc.getAddress(), { minDurationSeconds: 0n })))
      .to.be.revertedWithCustomError(escrow, "InvalidDurationBounds")
      .withArgs(0n, 90n * DAY);
    await expect(vault.connect(manager).setLeaseTerms(leaseTerms(await usdc.getAddress())))
      .to.be.revertedWithCustomError(escrow, "LeaseTermsUnchanged")
      .withArgs(assetId);
    expect(await escrow.currentTermsVersion(assetId)).to.equal(1n);
  });

  it("credits a settled charge to the vault at settlement, final: settle → harvest → claim pays holders pro rata", async function () {
    const base = await loadFixture(leasedFixture);
    const { vault, escrow, keeper, usdc, alice, bob, carol, stranger, leaseId, start } = base;
    const at = start + DAY + DISPUTE_WINDOW;
    await time.setNextBlockTimestamp(at);
    const settle = await keeper.settle(leaseId, stranger, at);
    await expect(settle)
      .to.emit(escrow, "LeaseSettled")
      .withArgs(leaseId, await vault.getAddress(), start + DAY, anyValue, FIRST_CHARGE);
    expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(FIRST_CHARGE);
    expect(await vault.pendingHarvest()).to.equal(FIRST_CHARGE);
    const harvest = vault.connect(stranger).harvest();
    await expect(harvest).to.changeTokenBalances(usdc, [escrow, vault], [-FIRST_CHARGE, FIRST_CHARGE]);
    await expect(harvest).to.emit(vault, "RevenueHarvested");
    for (const [holder, pct] of [
      [alice, 50n],
      [bob, 30n],
      [carol, 20n],
    ] as const) {
      const expected = (FIRST_CHARGE * pct) / 100n;
      await expect(vault.connect(holder).claim(holder.address)).to.changeTokenBalances(
        usdc,
        [vault, holder],
        [-expected, expected],
      );
    }
    expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(0n);
  });

  it("bills the whole lease (2 days × 576 USDC) to the vault by the close and refunds the rest", async function () {
    const { vault, escrow, keeper, usdc, lessee, leaseId, end, closableAt } = await loadFixture(settledFixture);
    await time.setNextBlockTimestamp(closableAt);
    const close = await keeper.close(leaseId, undefined, closableAt);
    await expect(close)
      .to.emit(escrow, "LeaseSettled")
      .withArgs(leaseId, await vault.getAddress(), end, anyValue, SECOND_CHARGE);
    await expect(close)
      .to.emit(escrow, "LeaseClosed")
      .withArgs(leaseId, 1n, anyValue, true, 48n * ONE_USDC);
    expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(
      FIRST_CHARGE + SECOND_CHARGE,
    );
    expect(await escrow.withdrawable(lessee.address, await usdc.getAddress())).to.equal(48n * ONE_USDC);
    await vault.harvest();
    expect(await vault.totalHarvested()).to.equal(2n * FULL_DAY);
  });

  describe("issue 14, point 3 replayed: shares bought after a charge was settled earn nothing of it", function () {
    type Step = "harvest" | "claim" | "close";
    /** Every order of the steps given. */
    const orders = (steps: Step[]): Step[][] =>
      steps.length <= 1
        ? [steps]
        : steps.flatMap((s, i) => orders(steps.filter((_, j) => j !== i)).map((o) => [s, ...o]));

    async function replay(steps: Step[]) {
      const base = await loadFixture(settledFixture);
      const { vault, escrow, keeper, usdc, alice, bob, carol, buyer, leaseId, closableAt } = base;
      // The charge is credited to the vault; the buyer takes alice's 50 % (as from a pool, a flash swap
      // or an OTC sale): the transfer harvests the charge for the holders before the shares move.
      await expect(vault.connect(alice).transfer(buyer.address, 50n * ONE_SHARE))
        .to.emit(vault, "RevenueHarvested")
        .withArgs(alice.address, FIRST_CHARGE, anyValue, anyValue);
      let chargedWhileHeld = 0n;
      let buyerClaimed = 0n;
      for (const step of steps) {
        if (step === "harvest") {
          const pending = await vault.pendingHarvest();
          if (pending === 0n) await expect(vault.harvest()).to.be.revertedWithCustomError(vault, "NothingToHarvest");
          else await vault.harvest();
        } else if (step === "claim") {
          const owed = await vault.claimable(buyer.address);
          if (owed === 0n) {
            await expect(vault.connect(buyer).claim(buyer.address))
              .to.be.revertedWithCustomError(vault, "NothingToClaim")
              .withArgs(buyer.address);
          } else {
            await vault.connect(buyer).claim(buyer.address);
            buyerClaimed += owed;
          }
        } else {
          await time.setNextBlockTimestamp(closableAt);
          chargedWhileHeld += await chargedBy(base, await keeper.close(leaseId, undefined, closableAt));
        }
      }
      // The buyer sells back; a later close (if it did not run yet) is earned by alice.
      await vault.connect(buyer).transfer(alice.address, 50n * ONE_SHARE);
      let chargedAfter = 0n;
      if (!steps.includes("close")) {
        await time.setNextBlockTimestamp(closableAt);
        chargedAfter = await chargedBy(base, await keeper.close(leaseId, undefined, closableAt));
      }
      if ((await vault.pendingHarvest()) !== 0n) await vault.harvest();
      expect(chargedWhileHeld + chargedAfter).to.equal(SECOND_CHARGE);
      // To the unit: the buyer earned half of what was charged while it held half, nothing of the
      // first charge; everyone else exactly their shares of what was charged while they held them.
      const buyerTotal = buyerClaimed + (await vault.claimable(buyer.address));
      expect(buyerTotal, "buyer").to.equal(chargedWhileHeld / 2n);
      expect(await vault.claimable(alice.address), "alice").to.equal(FIRST_CHARGE / 2n + chargedAfter / 2n);
      expect(await vault.claimable(bob.address), "bob").to.equal(((FIRST_CHARGE + SECOND_CHARGE) * 30n) / 100n);
      expect(await vault.claimable(carol.address), "carol").to.equal(((FIRST_CHARGE + SECOND_CHARGE) * 20n) / 100n);
      expect(await vault.totalHarvested()).to.equal(2n * FULL_DAY);
      expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(0n);
    }

    for (const order of orders(["harvest", "claim"])) {
      it(`buy → ${order.join(" → ")} → sell: the buyer earns nothing`, async function () {
        await replay(order);
      });
    }
    for (const order of orders(["close", "harvest", "claim"])) {
      it(`buy → ${order.join(" → ")} → sell: the buyer earns half of the close's charge only`, async function () {
        await replay(order);
      });
    }
  });

  it("redeems with a live lease: the lease keeps running and later charges go to the new owner", async function () {
    const { vault, escrow, keeper, nft, usdc, alice, bob, carol, lessee, assetId, leaseId, start } =
      await loadFixture(leasedFixture);
    await vault.connect(bob).transfer(alice.address, 30n * ONE_SHARE);
    await vault.connect(carol).transfer(alice.address, 20n * ONE_SHARE);
    await vault.connect(alice).redeem(alice.address);
    expect(await nft.ownerOf(assetId)).to.equal(alice.address);
    expect(await nft.userOf(assetId)).to.equal(lessee.address);
    // The first day's charge is credited to alice, the NFT's owner now, not to the vault.
    const at = start + DAY + DISPUTE_WINDOW;
    await time.setNextBlockTimestamp(at);
    await expect(keeper.settle(leaseId, undefined, at))
      .to.emit(escrow, "LeaseSettled")
      .withArgs(leaseId, alice.address, start + DAY, anyValue, FIRST_CHARGE);
    expect(await escrow.withdrawable(alice.address, await usdc.getAddress())).to.equal(FIRST_CHARGE);
    expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(0n);
    expect(await vault.pendingHarvest()).to.equal(0n);
  });

  it("pays holders the same to the unit whatever the settlement cadence: hourly settlements and harvests", async function () {
    const base = await loadFixture(leasedFixture);
    const { vault, keeper, meters, alice, bob, carol, leaseId, start, end } = base;
    // Hourly readings through the second day, the last one exactly at the end.
    for (let h = 1n; h <= 24n; h++) await meters.reportUse(10_000n, 10_000n, start + DAY + h * HOUR);
    // Each settled at the first second it is billable (the first also bills the first day), with a
    // harvest every 6 hours; the last one closes.
    let total = 0n;
    for (let h = 1n; h <= 24n; h++) {
      const at = start + DAY + h * HOUR + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      if (h < 24n) total += await chargedBy(base, await keeper.settle(leaseId, undefined, at));
      else total += await chargedBy(base, await keeper.close(leaseId, undefined, at));
      if (h % 6n === 5n) await vault.harvest();
    }
    await vault.harvest();
    expect((await base.escrow.leaseOf(leaseId)).closed).to.equal(true);
    expect((await base.escrow.leaseOf(leaseId)).endTime).to.equal(end);
    expect(total).to.equal(2n * FULL_DAY);
    expect(await vault.totalHarvested()).to.equal(2n * FULL_DAY);
    expect(await vault.claimable(alice.address)).to.equal(FULL_DAY);
    expect(await vault.claimable(bob.address)).to.equal((2n * FULL_DAY * 30n) / 100n);
    expect(await vault.claimable(carol.address)).to.equal((2n * FULL_DAY * 20n) / 100n);
  });
});
