import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { RevenueSplitVault__factory } from "../../typechain-types";
import { ONE_SHARE, PRECISION, deployedFixture } from "./fixtures";

/** A vault whose supply (100e18 + 11 shares) divides nothing evenly, so remainders and carry occur. */
async function oddSupplyFixture() {
  const base = await deployedFixture();
  const { factory, originator, usdc, manager, alice, bob, carol, assetId, escrow, funder } = base;
  await factory
    .connect(originator)
    .createVault(
      assetId,
      await usdc.getAddress(),
      manager.address,
      [alice.address, bob.address, carol.address],
      [50n * ONE_SHARE + 7n, 30n * ONE_SHARE + 3n, 20n * ONE_SHARE + 1n],
    );
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), originator);
  async function payVault(amount: bigint) {
    await usdc.mint(funder.address, amount);
    await usdc.connect(funder).approve(await escrow.getAddress(), amount);
    await escrow.connect(funder).credit(await vault.getAddress(), await usdc.getAddress(), amount);
  }
  return { ...base, vault, payVault };
}

/**
 * Invariants, in English, checked after every action of a seeded random sequence (pay the escrow,
 * donate to the vault, harvest, claim, transfer, transferFrom):
 *  1. claimed + Σ claimable + dust = harvested, with dust ≥ 0 and bounded: less than one base unit per
 *     account, plus one per claim since the last harvest (claims recycle their sub-unit remainder into
 *     the carry), plus one (exactly: PRECISION × dust = carry + Σ sub-unit remainders).
 *  2. The vault's revenue-token balance covers everything claimable (it equals harvested − claimed
 *     plus any not-yet-harvested donation).
 *  3. Every account's exact entitlement equals an independent model: shares × index delta, settled
 *     on every balance change, with the index raised by ⌊(amount × PRECISION + carry) / supply⌋.
 *  4. Ghost totals: harvested and claimed equal the sums of the amounts in the vault's events.
 */
describe("RevenueSplitVault invariants", function () {
  it("hold after every action of a random sequence", async function () {
    const base = await loadFixture(oddSupplyFixture);
    const { vault, usdc, alice, bob, carol, dave, stranger, payVault, funder } = base;
    const accounts = [alice, bob, carol, dave, stranger];
    const vaultAddress = await vault.getAddress();

    // Independent model of the accounting.
    const model = {
      index: 0n,
      carry: 0n,
      supply: 100n * ONE_SHARE + 11n,
      shares: new Map<string, bigint>(),
      snapshot: new Map<string, bigint>(),
      accrued: new Map<string, bigint>(),
      pending: 0n, // escrow balance + donations not yet harvested
      harvested: 0n,
      claimed: 0n,
    };
    for (const a of accounts) {
      model.shares.set(a.address, await vault.balanceOf(a.address));
      model.snapshot.set(a.address, 0n);
      model.accrued.set(a.address, 0n);
    }
    const settle = (who: string) => {
      const earned = model.shares.get(who)! * (model.index - model.snapshot.get(who)!);
      model.accrued.set(who, model.accrued.get(who)! + earned);
      model.snapshot.set(who, model.index);
    };
    const distribute = () => {
      if (model.pending === 0n) return;
      const total = model.pending * PRECISION + model.carry;
      model.index += total / model.supply;
      model.carry = total % model.supply;
      model.harvested += model.pending;
      model.pending = 0n;
      claimsSinceHarvest = 0n;
    };

    let seed = 0xc0ffeen;
    const rand = (n: number) => {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      return Number((seed >> 33n) % BigInt(n));
    };

    let claimsSinceHarvest = 0n;
    let sawCarry = false;
    let ghostHarvested = 0n;
    let ghostClaimed = 0n;
    const track = async (tx: Promise<{ wait: () => Promise<unknown> }>) => {
      const receipt = (await (await tx).wait()) as { logs: { topics: string[]; data: string }[] };
      for (const log of receipt.logs) {
        const parsed = vault.interface.parseLog(log);
        if (parsed?.name === "RevenueHarvested") ghostHarvested += parsed.args.amount as bigint;
        if (parsed?.name === "RevenueClaimed") ghostClaimed += parsed.args.amount as bigint;
      }
    };

    for (let step = 0; step < 70; step++) {
      const action = rand(6);
      const from = accounts[rand(accounts.length)];
      const to = accounts[rand(accounts.length)];
      if (action === 0) {
        const amount = BigInt(1 + rand(1_000_000_000));
        await payVault(amount);
        model.pending += amount;
      } else if (action === 1) {
        const amount = BigInt(1 + rand(7));
        await usdc.mint(funder.address, amount);
        await usdc.connect(funder).transfer(vaultAddress, amount);
        model.pending += amount;
      } else if (action === 2) {
        if (model.pending === 0n) {
          await expect(vault.harvest()).to.be.revertedWithCustomError(vault, "NothingToHarvest");
        } else {
          await track(vault.connect(from).harvest());
          distribute();
        }
      } else if (action === 3) {
        settle(from.address);
        const claimable = model.accrued.get(from.address)! / PRECISION;
        if (claimable === 0n) {
          await expect(vault.connect(from).claim(to.address))
            .to.be.revertedWithCustomError(vault, "NothingToClaim")
            .withArgs(from.address);
        } else {
          await expect(track(vault.connect(from).claim(to.address))).to.not.be.reverted;
          model.carry += model.accrued.get(from.address)! % PRECISION;
          model.accrued.set(from.address, 0n);
          model.claimed += claimable;
          claimsSinceHarvest += 1n;
        }
      } else {
        const balance = model.shares.get(from.address)!;
        if (balance === 0n) continue;
        const amount = rand(4) === 0 ? balance : (balance * BigInt(rand(1000))) / 1000n;
        // A transfer harvests what the escrow holds first (never donations alone).
        const escrowHeld = await base.escrow.withdrawable(vaultAddress, await usdc.getAddress());
        if (action === 4) {
          await track(vault.connect(from).transfer(to.address, amount));
        } else {
          await vault.connect(from).approve(stranger.address, amount);
          await track(vault.connect(stranger).transferFrom(from.address, to.address, amount));
        }
        if (escrowHeld !== 0n) distribute();
        settle(from.address);
        settle(to.address);
        model.shares.set(from.address, model.shares.get(from.address)! - amount);
        model.shares.set(to.address, model.shares.get(to.address)! + amount);
      }

      // 3. exact per-account entitlement against the model
      let sumClaimable = 0n;
      let sumAccruedScaled = 0n;
      for (const a of accounts) {
        const expected =
          model.accrued.get(a.address)! + model.shares.get(a.address)! * (model.index - model.snapshot.get(a.address)!);
        const actual = await vault.accruedScaled(a.address);
        expect(actual, `accruedScaled(${a.address}) at step ${step}`).to.equal(expected);
        expect(await vault.balanceOf(a.address)).to.equal(model.shares.get(a.address)!);
        sumAccruedScaled += actual;
        sumClaimable += await vault.claimable(a.address);
      }
      const harvested = await vault.totalHarvested();
      const claimed = await vault.totalClaimed();
      const carry = await vault.undistributedScaled();
      expect(harvested).to.equal(model.harvested);
      expect(claimed).to.equal(model.claimed);
      expect(carry).to.equal(model.carry);
      if (carry !== 0n) sawCarry = true;
      expect(await vault.revenuePerShareScaled()).to.equal(model.index);
      // 1. conservation, exact in scaled units, and the dust bound
      expect(claimed * PRECISION + sumAccruedScaled + carry).to.equal(harvested * PRECISION);
      const dust = harvested - claimed - sumClaimable;
      expect(dust >= 0n).to.equal(true);
      expect(dust <= BigInt(accounts.length) + claimsSinceHarvest + 1n).to.equal(true);
      // 2. solvency
      const held = await usdc.balanceOf(vaultAddress);
      expect(held >= sumClaimable).to.equal(true);
      expect(held).to.equal(harvested - claimed + (model.pending - (await vault.pendingHarvest())));
      // 4. ghost totals from events
      expect(ghostHarvested).to.equal(harvested);
      expect(ghostClaimed).to.equal(claimed);
    }
    expect(model.harvested > 0n && model.claimed > 0n).to.equal(true);
    expect(sawCarry).to.equal(true);
  });
});
