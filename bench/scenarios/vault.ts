import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { gasOf, type BenchScenario } from "../lib";
import {
  MockUSDC__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
} from "../../typechain-types";
import { DAY, DISPUTE_WINDOW, HOUR, deployCore, termsFor } from "../../test/escrow/helpers";

const ONE_USDC = 1_000_000n;
const ONE_SHARE = 10n ** 18n;
const HOLDER_COUNTS = [1, 100, 1_000] as const;

/**
 * NFT, real UsageOracle (meters are signed batches, via the escrow suite's `deployCore`/`Meters`), real
 * SettlementEscrow (settled by the suite's `Keeper` with proofs rebuilt from chain logs), USDC,
 * factory; asset 1 minted to the originator and approved to the factory.
 */
async function deploySystem() {
  const core = await deployCore();
  const { admin, provider: originator, nft, escrow, assetId } = core;
  // deployCore uses the first 8 accounts; the vault's people are the next ones.
  const [manager, alice, outsider] = (await ethers.getSigners()).slice(8, 11);
  const usdc = await new MockUSDC__factory(admin).deploy();
  await escrow.setTokenAllowed(await usdc.getAddress(), true);
  const factory = await new RevenueSplitVaultFactory__factory(admin).deploy(
    await nft.getAddress(),
    await escrow.getAddress(),
  );
  await nft.connect(originator).approve(await factory.getAddress(), assetId);
  return { ...core, originator, manager, alice, outsider, usdc, factory };
}

/**
 * A vault with `holders` holders (alice plus holders − 1 others, each given shares by a transfer from
 * alice), terms published by the manager and a 3-day lease metered by signed batches. A first metered
 * hour was settled (its charge credited to the vault at settlement) and harvested (the vault's
 * one-time first-harvest storage writes are done) and, with `claimBefore`, claimed by alice (the
 * vault's one-time first-claim writes are done too); a second hour was settled, so the escrow holds
 * revenue for the vault again.
 */
async function vaultWithRevenue(holders: number, claimBefore: boolean) {
  const sys = await deploySystem();
  const { factory, originator, manager, alice, lessee, usdc, escrow, meters, keeper, assetId } = sys;
  await factory
    .connect(originator)
    .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1_000_000n * ONE_SHARE]);
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), alice);
  for (let i = 1; i < holders; i++) {
    await vault.transfer(ethers.getAddress(ethers.toBeHex(0x10000n + BigInt(i), 20)), ONE_SHARE);
  }
  await vault.connect(manager).setLeaseTerms(termsFor(await usdc.getAddress()));
  const t0 = BigInt(await time.latest()) + 10n;
  await meters.reportUse(10_000n, 0n, t0);
  const deposit = 1_000n * ONE_USDC;
  await usdc.mint(lessee.address, deposit);
  await usdc.connect(lessee).approve(await escrow.getAddress(), deposit);
  await escrow.connect(lessee).openLease(assetId, 1n, 3n * DAY, deposit);
  // Each hour half busy; settled as soon as its reading is billable.
  const settleHour = async () => {
    const reading = await meters.reportUse(10_000n, 5_000n, BigInt(await time.latest()) + HOUR);
    const at = reading + DISPUTE_WINDOW;
    await time.setNextBlockTimestamp(at);
    await keeper.settle(1n, undefined, at);
  };
  await settleHour();
  await vault.harvest();
  if (claimBefore) {
    await usdc.mint(alice.address, 1n); // alice holds USDC before her first claim, as most accounts do
    await vault.claim(alice.address);
  }
  await settleHour();
  if ((await vault.pendingHarvest()) === 0n) throw new Error("bench setup: no revenue waiting in the escrow");
  return { ...sys, vault };
}

function perHolderCount(
  op: "harvest" | "claim" | "transfer",
  target: number,
  note: (holders: number) => string,
  run: (ctx: Awaited<ReturnType<typeof vaultWithRevenue>>) => Promise<number>,
): BenchScenario[] {
  return HOLDER_COUNTS.map((holders) => ({
    key: `vault.${op}.holders${holders}`,
    target,
    note: note(holders),
    run: async () => run(await vaultWithRevenue(holders, op === "claim")),
  }));
}

export const scenarios: BenchScenario[] = [
  {
    key: "vault.create",
    target: 350_000,
    note: "factory.createVault with 3 holders: EIP-1167 clone with immutable args, init, shares minted, NFT moved in (real escrow's terms and unfinished leases read)",
    run: async () => {
      const { factory, originator, manager, usdc, assetId } = await deploySystem();
      const [, , , a, b, c] = await ethers.getSigners();
      return gasOf(
        factory
          .connect(originator)
          .createVault(
            assetId,
            await usdc.getAddress(),
            manager.address,
            [a.address, b.address, c.address],
            [50n * ONE_SHARE, 30n * ONE_SHARE, 20n * ONE_SHARE],
          ),
      );
    },
  },
  ...perHolderCount(
    "harvest",
    90_000,
    (h) =>
      `vault.harvest with ${h} holder(s): a later harvest (not the vault's first) withdrawing one settled lease charge from the real SettlementEscrow and raising the index`,
    async ({ vault, outsider }) => gasOf(vault.connect(outsider).harvest()),
  ),
  ...perHolderCount(
    "claim",
    70_000,
    (h) =>
      `vault.claim with ${h} holder(s), after a later harvest: a claim in a vault that has seen claims before, paid to the holder itself (which already holds USDC)`,
    async ({ vault, alice }) => {
      await vault.harvest();
      return gasOf(vault.connect(alice).claim(alice.address));
    },
  ),
  ...perHolderCount(
    "transfer",
    90_000,
    (h) =>
      `vault share transfer with ${h} holder(s), after a harvest: first settlement of the sender, to an account that holds no shares yet`,
    async ({ vault, alice, outsider }) => {
      await vault.harvest();
      return gasOf(vault.connect(alice).transfer(outsider.address, ONE_SHARE));
    },
  ),
];
