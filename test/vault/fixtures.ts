import { ethers } from "hardhat";
import {
  GpuAssetNFT__factory,
  MockBlocklistToken__factory,
  MockReentrantToken__factory,
  MockUSDC__factory,
  MockVaultEscrow__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
  type MockBlocklistToken,
  type MockReentrantToken,
} from "../../typechain-types";
import type { LeaseTermsStruct } from "../../typechain-types/contracts/RevenueSplitVault";
import { deployCore } from "../escrow/helpers";

export const ONE_USDC = 1_000_000n;
export const ONE_SHARE = 10n ** 18n;
export const PRECISION = 10n ** 30n;
export const DAY = 86_400n;

/** A valid 8 x H100 spec; `tag` makes the serials unique. */
export function gpuSpec(tag: string) {
  return {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: ethers.keccak256(ethers.toUtf8Bytes(`vault-test-serials-${tag}`)),
    vramMiBPerGpu: 81_559,
    gpuCount: 8,
    tdpWattsPerGpu: 700,
  };
}

/** Lease terms in `token` at 2 USDC reservation and 1 USDC usage per GPU-hour, no energy price. */
export function leaseTerms(token: string, overrides: Partial<LeaseTermsStruct> = {}): LeaseTermsStruct {
  return {
    token,
    reservationPricePerGpuHour: 2n * ONE_USDC,
    usagePricePerBusyGpuHour: 1n * ONE_USDC,
    energyPricePerKWh: 0n,
    minDurationSeconds: 3_600n,
    maxDurationSeconds: 90n * DAY,
    slaAvailabilityBps: 9_900,
    earlyEndAllowed: true,
    ...overrides,
  };
}

/**
 * Real GpuAssetNFT (asset 1 minted to `originator`), MockUSDC, the test-only MockVaultEscrow and the
 * factory; no vault yet. MockVaultEscrow credits the vault exact, arbitrary amounts at once (`credit`);
 * tests of lease terms and leases use realEscrowDeployedFixture instead.
 */
export async function deployedFixture() {
  const [admin, originator, manager, alice, bob, carol, dave, stranger, funder] = await ethers.getSigners();
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), admin.address);
  await nft.mint(originator.address, gpuSpec("1"));
  const usdc = await new MockUSDC__factory(admin).deploy();
  const escrow = await new MockVaultEscrow__factory(admin).deploy(await nft.getAddress());
  const factory = await new RevenueSplitVaultFactory__factory(admin).deploy(
    await nft.getAddress(),
    await escrow.getAddress(),
  );
  await nft.connect(originator).approve(await factory.getAddress(), 1n);
  return {
    admin,
    originator,
    manager,
    alice,
    bob,
    carol,
    dave,
    stranger,
    funder,
    nft,
    usdc,
    escrow,
    factory,
    assetId: 1n,
  };
}

/**
 * The real GpuAssetNFT, UsageOracle and SettlementEscrow (the escrow suite's `deployCore`: asset 1, 8
 * GPUs, minted to `originator`; a 2-of-3 oracle fed signed batches through `meters`, and a `keeper`
 * that builds settle/close/dispute proofs from the chain's logs), MockUSDC and a second token both
 * allowed in the escrow, and the factory approved for asset 1; no vault yet. For everything about
 * lease terms and leases, which the real escrow validates and bills.
 */
export async function realEscrowDeployedFixture() {
  const {
    admin,
    provider: originator,
    lessee,
    arbiter,
    nft,
    oracle,
    escrow,
    assetId,
    meters,
    keeper,
  } = await deployCore();
  // deployCore uses the first 8 accounts; the vault's people are the next ones.
  const [manager, alice, bob, carol, stranger] = (await ethers.getSigners()).slice(8, 13);
  const usdc = await new MockUSDC__factory(admin).deploy();
  const otherToken = await new MockUSDC__factory(admin).deploy();
  await escrow.setTokenAllowed(await usdc.getAddress(), true);
  await escrow.setTokenAllowed(await otherToken.getAddress(), true);
  const factory = await new RevenueSplitVaultFactory__factory(admin).deploy(
    await nft.getAddress(),
    await escrow.getAddress(),
  );
  await nft.connect(originator).approve(await factory.getAddress(), assetId);
  return {
    admin,
    originator,
    manager,
    alice,
    bob,
    carol,
    stranger,
    lessee,
    arbiter,
    nft,
    oracle,
    usdc,
    otherToken,
    escrow,
    factory,
    assetId,
    meters,
    keeper,
  };
}

/**
 * realEscrowDeployedFixture with terms in USDC published by the originator and a live 30-day lease
 * opened through the escrow (the lessee is the NFT's user until `expires`); asset 1 not yet in a vault.
 */
export async function realEscrowLeasedFixture() {
  const base = await realEscrowDeployedFixture();
  const { escrow, usdc, originator, lessee, assetId } = base;
  await escrow.connect(originator).setLeaseTerms(assetId, leaseTerms(await usdc.getAddress()));
  const deposit = 1_000n * ONE_USDC;
  await usdc.mint(lessee.address, deposit);
  await usdc.connect(lessee).approve(await escrow.getAddress(), deposit);
  await escrow.connect(lessee).openLease(assetId, 1n, 30n * DAY, deposit);
  const expires = (await escrow.leaseOf(1n)).endTime;
  return { ...base, expires };
}

/** realEscrowDeployedFixture with the vault of asset 1 in USDC: alice 50, bob 30, carol 20 shares; no terms yet. */
export async function realEscrowVaultFixture() {
  const base = await realEscrowDeployedFixture();
  const { factory, originator, usdc, manager, alice, bob, carol, assetId } = base;
  await factory
    .connect(originator)
    .createVault(
      assetId,
      await usdc.getAddress(),
      manager.address,
      [alice.address, bob.address, carol.address],
      [50n * ONE_SHARE, 30n * ONE_SHARE, 20n * ONE_SHARE],
    );
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), originator);
  return { ...base, vault };
}

/** Vault of asset 1 in USDC: alice 50, bob 30, carol 20 shares (100 in all). */
export async function vaultFixture() {
  const base = await deployedFixture();
  const { factory, originator, usdc, manager, alice, bob, carol, assetId } = base;
  const holders = [alice.address, bob.address, carol.address];
  const amounts = [50n * ONE_SHARE, 30n * ONE_SHARE, 20n * ONE_SHARE];
  await factory.connect(originator).createVault(assetId, await usdc.getAddress(), manager.address, holders, amounts);
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), originator);
  /** Credits the vault `amount` USDC base units in the escrow (as settled lease revenue would). */
  async function payVault(amount: bigint) {
    await usdc.mint(base.funder.address, amount);
    await usdc.connect(base.funder).approve(await base.escrow.getAddress(), amount);
    await base.escrow.connect(base.funder).credit(await vault.getAddress(), await usdc.getAddress(), amount);
  }
  return { ...base, vault, holders, amounts, payVault };
}

/** The vault after one harvest of 1,000 USDC (alice 500, bob 300, carol 200 claimable). */
export async function harvestedFixture() {
  const base = await vaultFixture();
  await base.payVault(1_000n * ONE_USDC);
  await base.vault.connect(base.stranger).harvest();
  return base;
}

/** A vault in `token` with alice 50, bob 50 shares, and 100 units credited and harvested. */
async function awkwardTokenVault<T extends MockBlocklistToken | MockReentrantToken>(
  base: Awaited<ReturnType<typeof deployedFixture>>,
  token: T,
) {
  const { factory, originator, manager, alice, bob, assetId, escrow, funder } = base;
  await factory
    .connect(originator)
    .createVault(assetId, await token.getAddress(), manager.address, [alice.address, bob.address], [50n, 50n]);
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), originator);
  await token.mint(funder.address, 100n);
  await token.connect(funder).approve(await escrow.getAddress(), 100n);
  await escrow.connect(funder).credit(await vault.getAddress(), await token.getAddress(), 100n);
  await vault.harvest();
  return { ...base, token, vault };
}

/** A vault whose revenue token blocklists: alice 50, bob 50 shares, 100 units harvested. */
export async function blocklistFixture() {
  const base = await deployedFixture();
  return awkwardTokenVault(base, await new MockBlocklistToken__factory(base.admin).deploy());
}

/** A vault whose revenue token calls back during transfers: alice 50, bob 50 shares, 100 harvested. */
export async function reentrantFixture() {
  const base = await deployedFixture();
  return awkwardTokenVault(base, await new MockReentrantToken__factory(base.admin).deploy());
}
