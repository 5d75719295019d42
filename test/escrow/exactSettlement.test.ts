import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  DAY,
  DISPUTE_WINDOW,
  FULL_HOUR,
  GPUS,
  HOUR,
  MockUSDC__factory,
  USDC,
  deployCore,
  expectSolvent,
  termsFor,
} from "./helpers";

async function leasedFixture() {
  const core = await deployCore();
  const { admin, provider, lessee, escrow, assetId } = core;
  const usdc = await new MockUSDC__factory(admin).deploy();
  await escrow.setTokenAllowed(await usdc.getAddress(), true);
  await escrow.connect(provider).setLeaseTerms(assetId, termsFor(await usdc.getAddress()));
  await usdc.mint(lessee.address, 1_000_000n * USDC);
  await usdc.connect(lessee).approve(await escrow.getAddress(), ethers.MaxUint256);
  return { ...core, usdc };
}

describe("SettlementEscrow exact settlement (smoke)", function () {
  it("bills a day of full use exactly, settled in the middle and closed late", async function () {
    const core = await loadFixture(leasedFixture);
    const { escrow, lessee, provider, meters, keeper, usdc, assetId } = core;
    const t0 = BigInt(await time.latest()) + 10n;
    await meters.reportUse(10_000n, 0n, t0); // first reading before the lease
    await time.setNextBlockTimestamp(t0 + 100n);
    await escrow.connect(lessee).openLease(assetId, 1, DAY, 30n * FULL_HOUR);
    const start = t0 + 100n;
    await meters.reportUse(10_000n, 10_000n, start + 6n * HOUR);
    await meters.reportUse(10_000n, 10_000n, start + DAY + 600n);
    const at = start + DAY + 600n + DISPUTE_WINDOW + 1n;
    await time.setNextBlockTimestamp(at);
    await keeper.close(1n, undefined, at);
    const l = await escrow.leaseOf(1n);
    // 8 GPUs x 24 h x (2 + 1) USDC = 576 USDC
    expect((await escrow.accountingOf(1n)).charged).to.equal(576n * USDC);
    await expectSolvent(escrow, usdc, [lessee.address, provider.address]);
  });
});
