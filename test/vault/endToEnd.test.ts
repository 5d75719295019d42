import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  MockUSDC__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
} from "../../typechain-types";
import { GPUS, HOUR, deployCore } from "../escrow/helpers";
import { DAY, ONE_SHARE, ONE_USDC, leaseTerms } from "./fixtures";

/**
 * The real GpuAssetNFT, UsageOracle (2-of-3 signers; every meter is a signed batch submitted by the
 * feeder, through the escrow suite's `deployCore`/`Meters`) and SettlementEscrow, the factory, and
 * the vault of asset 1 (alice 50, bob 30, carol 20 shares). The manager published the terms through
 * the vault; a baseline reading is in.
 */
async function systemFixture() {
  const core = await deployCore();
  const { admin, provider: originator, lessee, nft, oracle, escrow, assetId, meters } = core;
  // deployCore uses the first 8 accounts; the vault's people are the next ones.
  const [manager, alice, bob, carol, stranger] = (await ethers.getSigners()).slice(8, 13);
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
  const t0 = BigInt(await time.latest());
  await meters.report(t0, 0n, 0n);
  return {
    admin,
    originator,
    manager,
    alice,
    bob,
    carol,
    lessee,
    stranger,
    nft,
    oracle,
    meters,
    escrow,
    usdc,
    factory,
    vault,
    assetId,
    t0,
  };
}

/** A 2-day lease opened by the lessee with a 1,000 USDC deposit. */
async function leasedFixture() {
  const base = await systemFixture();
  const { escrow, usdc, lessee, assetId } = base;
  const deposit = 1_000n * ONE_USDC;
  await usdc.mint(lessee.address, deposit);
  await usdc.connect(lessee).approve(await escrow.getAddress(), deposit);
  await escrow.connect(lessee).openLease(assetId, 2n * DAY, deposit);
  return { ...base, leaseId: 1n, deposit };
}

/** One metered hour settled and released: the escrow holds the charge for the vault. */
async function revenueFixture() {
  const base = await leasedFixture();
  const { meters, escrow, vault, usdc, t0, leaseId } = base;
  // One hour: all 8 GPUs available, half of that busy.
  await time.increaseTo(t0 + HOUR + 10n);
  await meters.report(t0 + HOUR, (GPUS * HOUR) / 2n, GPUS * HOUR);
  const settled = await (await escrow.settle(leaseId)).wait();
  const event = settled!.logs
    .map((log) => escrow.interface.parseLog(log))
    .find((parsed) => parsed?.name === "LeaseSettled");
  const charged = event!.args.charged as bigint;
  await time.increase(DAY + 1n);
  await escrow.release(leaseId);
  expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(charged);
  return { ...base, charged };
}

describe("RevenueSplitVault with the real SettlementEscrow (end to end)", function () {
  it("lets the manager publish terms that the escrow stores and leases use", async function () {
    const { escrow, usdc, assetId, nft, lessee } = await loadFixture(leasedFixture);
    expect((await escrow.leaseTermsOf(assetId)).token).to.equal(await usdc.getAddress());
    expect(await nft.userOf(assetId)).to.equal(lessee.address);
  });

  it("refuses, in the escrow, manager terms the escrow rejects (token allowed, bounds checked)", async function () {
    const { vault, escrow, usdc, manager, assetId } = await loadFixture(systemFixture);
    await expect(vault.connect(manager).setLeaseTerms(leaseTerms(await usdc.getAddress(), { minDurationSeconds: 0n })))
      .to.be.revertedWithCustomError(escrow, "InvalidDurationBounds")
      .withArgs(0n, 90n * DAY);
    await expect(vault.connect(manager).setLeaseTerms(leaseTerms(await usdc.getAddress())))
      .to.be.revertedWithCustomError(escrow, "LeaseTermsUnchanged")
      .withArgs(assetId);
  });

  it("pays lease revenue to holders pro rata: settle → release → harvest → claim", async function () {
    const { vault, escrow, usdc, alice, bob, carol, stranger, charged } = await loadFixture(revenueFixture);
    // 8 GPU-hours available at 2 USDC and 4 busy GPU-hours at 1 USDC, at most (the window is clipped
    // to the lease start).
    expect(charged > 0n && charged <= 20n * ONE_USDC).to.equal(true);
    const harvest = vault.connect(stranger).harvest();
    await expect(harvest).to.changeTokenBalances(usdc, [escrow, vault], [-charged, charged]);
    await expect(harvest).to.emit(vault, "RevenueHarvested");
    const shares = { alice: 50n, bob: 30n, carol: 20n };
    for (const [holder, pct] of [
      [alice, shares.alice],
      [bob, shares.bob],
      [carol, shares.carol],
    ] as const) {
      const expected = (charged * pct) / 100n;
      await expect(vault.connect(holder).claim(holder.address)).to.changeTokenBalances(
        usdc,
        [vault, holder],
        [-expected, expected],
      );
    }
    expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(0n);
  });

  it("gives shares bought with revenue waiting in the escrow none of it", async function () {
    const { vault, alice, bob, stranger, charged } = await loadFixture(revenueFixture);
    await vault.connect(bob).transfer(stranger.address, 30n * ONE_SHARE);
    await expect(vault.harvest()).to.be.revertedWithCustomError(vault, "NothingToHarvest");
    expect(await vault.claimable(stranger.address)).to.equal(0n);
    expect(await vault.claimable(bob.address)).to.equal((charged * 30n) / 100n);
    expect(await vault.claimable(alice.address)).to.equal((charged * 50n) / 100n);
  });

  it("redeems with a live lease: the lease keeps running and later revenue goes to the new owner", async function () {
    const { vault, escrow, meters, nft, usdc, alice, bob, carol, lessee, assetId, t0, leaseId, charged } =
      await loadFixture(revenueFixture);
    await vault.connect(bob).transfer(alice.address, 30n * ONE_SHARE);
    await vault.connect(carol).transfer(alice.address, 20n * ONE_SHARE);
    await vault.connect(alice).redeem(alice.address);
    expect(await nft.ownerOf(assetId)).to.equal(alice.address);
    expect(await nft.userOf(assetId)).to.equal(lessee.address);
    // The redemption harvested the released revenue for the shares first.
    expect(await vault.claimable(alice.address)).to.equal((charged * 50n) / 100n);
    expect(await vault.claimable(bob.address)).to.equal((charged * 30n) / 100n);
    // The next metered hour is credited to alice, the NFT's owner now, not to the vault.
    await meters.report(t0 + 2n * HOUR, (GPUS * HOUR) / 2n, GPUS * HOUR);
    await escrow.settle(leaseId);
    await time.increase(DAY + 1n);
    await escrow.release(leaseId);
    expect(await escrow.withdrawable(alice.address, await usdc.getAddress())).to.be.greaterThan(0n);
    expect(await escrow.withdrawable(await vault.getAddress(), await usdc.getAddress())).to.equal(0n);
  });
});
