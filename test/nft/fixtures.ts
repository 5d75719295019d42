import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { GpuAssetNFT__factory } from "../../typechain-types";
import type { GpuSpecStruct } from "../../typechain-types/contracts/GpuAssetNFT";

/** AssetStatus as the contract numbers it. */
export const Status = { Active: 0n, Maintenance: 1n, Retired: 2n } as const;

export const DAY = 86_400n;

/** keccak256 of the sorted, comma-joined serials as UTF-8 (the canonical form in docs/nft.md). */
export function serialsHash(serials: string[]): string {
  return ethers.keccak256(ethers.toUtf8Bytes([...serials].sort().join(",")));
}

/** A valid 8 x H100 spec; `tag` makes the serials unique. */
export function h100Spec(tag = "A", overrides: Partial<GpuSpecStruct> = {}): GpuSpecStruct {
  return {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: serialsHash([`1652022${tag}0001`, `1652022${tag}0002`]),
    vramMiBPerGpu: 81_559,
    gpuCount: 8,
    tdpWattsPerGpu: 700,
    ...overrides,
  };
}

/** The spec as `specOf` returns it (an ethers Result), as a plain comparable array. */
export function specTuple(spec: GpuSpecStruct): unknown[] {
  return [
    spec.gpuModel,
    spec.datacenter,
    spec.serialsHash,
    BigInt(spec.vramMiBPerGpu),
    BigInt(spec.gpuCount),
    BigInt(spec.tdpWattsPerGpu),
  ];
}

/** Deployed, roles granted to separate accounts, nothing minted. */
export async function deployedFixture() {
  const [admin, registrar, pauser, leaseManager, operator, lessee, buyer, stranger, approved] =
    await ethers.getSigners();
  const nft = await new GpuAssetNFT__factory(admin).deploy(admin.address);
  await nft.grantRole(await nft.REGISTRAR_ROLE(), registrar.address);
  await nft.grantRole(await nft.PAUSER_ROLE(), pauser.address);
  await nft.grantRole(await nft.LEASE_MANAGER_ROLE(), leaseManager.address);
  return { nft, admin, registrar, pauser, leaseManager, operator, lessee, buyer, stranger, approved };
}

/** Asset 1 (8 x H100, serials "A") minted to the operator; no user. */
export async function mintedFixture() {
  const base = await deployedFixture();
  const spec = h100Spec("A");
  await base.nft.connect(base.registrar).mint(base.operator.address, spec);
  return { ...base, assetId: 1n, spec };
}

/** Asset 1 leased: the lessee is its user for 30 days from now (`expires`). */
export async function leasedFixture() {
  const base = await mintedFixture();
  const expires = BigInt(await time.latest()) + 30n * DAY;
  await base.nft.connect(base.leaseManager).setUser(base.assetId, base.lessee.address, expires);
  return { ...base, expires };
}
