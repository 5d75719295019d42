import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  GpuAssetNFT__factory,
  MockBlocklistToken__factory,
  MockReentrantToken__factory,
  MockUSDC__factory,
  MockVaultEscrow__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
} from "../../typechain-types";
import type { LeaseTermsStruct } from "../../typechain-types/contracts/RevenueSplitVault";

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

/** Lease terms in `token` at 2 USDC reservation and 1 USDC usage per GPU-hour. */
export function leaseTerms(token: string, overrides: Partial<LeaseTermsStruct> = {}): LeaseTermsStruct {
  return {
    token,
    reservationPricePerGpuHour: 2n * ONE_USDC,
    usagePricePerBusyGpuHour: 1n * ONE_USDC,
    minDurationSeconds: 3_600n,
    maxDurationSeconds: 90n * DAY,
    slaAvailabilityBps: 9_900,
    earlyEndAllowed: true,
    ...overrides,
  };
}

/**
 * Real GpuAssetNFT (asset 1 minted to `originator`), MockUSDC, the test-only MockVaultEscrow and the
 * factory; no vault yet. `leaseManager` holds the NFT's LEASE_MANAGER_ROLE so tests can set a user.
 */
export async function deployedFixture() {
  const [admin, originator, manager, alice, bob, carol, dave, stranger, leaseManager, lessee, funder] =
    await ethers.getSigners();
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), admin.address);
  await nft.grantRole(await nft.LEASE_MANAGER_ROLE(), leaseManager.address);
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
    leaseManager,
    lessee,
    funder,
    nft,
    usdc,
    escrow,
    factory,
    assetId: 1n,
  };
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

/** Asset 1 with a live 30-day lease (the lessee is its user), not yet in a vault. */
export async function leasedFixture() {
  const base = await deployedFixture();
  const expires = BigInt(await time.latest()) + 30n * DAY;
  await base.nft.connect(base.leaseManager).setUser(base.assetId, base.lessee.address, expires);
  return { ...base, expires };
}

/** A vault whose revenue token blocklists: alice 50, bob 50 shares, 100 units harvested. */
export async function blocklistFixture() {
  const base = await deployedFixture();
  const token = await new MockBlocklistToken__factory(base.admin).deploy();
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

/** A vault whose revenue token calls back during transfers: alice 50, bob 50 shares, 100 harvested. */
export async function reentrantFixture() {
  const base = await deployedFixture();
  const token = await new MockReentrantToken__factory(base.admin).deploy();
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
