import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { gasOf, type BenchScenario } from "../lib";
import { MockUSDC__factory } from "../../typechain-types";
import { deployCore, DAY, DISPUTE_WINDOW, GPUS, HOUR, USDC, termsFor } from "../../test/escrow/helpers";

const DEPOSIT = 500n * USDC;

/** Escrow with USDC terms on an 8-GPU asset; the lessee approved; one earlier lease already ran, so
 * the escrow holds the token (its balance slot is warm in value, not zero) and the lessee has used it. */
async function deployWithTerms() {
  const core = await deployCore();
  const usdc = await new MockUSDC__factory(core.admin).deploy();
  const t = await usdc.getAddress();
  await core.escrow.setTokenAllowed(t, true);
  await core.escrow.connect(core.provider).setLeaseTerms(core.assetId, termsFor(t));
  await usdc.mint(core.lessee.address, 10_000n * USDC);
  await usdc.connect(core.lessee).approve(await core.escrow.getAddress(), ethers.MaxUint256);
  // The escrow already holds some of the token (another lessee's deposit in steady state).
  await usdc.mint(await core.escrow.getAddress(), 1n);
  await core.meters.reportNow(10_000n, 0n);
  return { ...core, usdc };
}

async function openLease() {
  const f = await deployWithTerms();
  await f.escrow.connect(f.lessee).openLease(f.assetId, DAY, DEPOSIT);
  const start = (await f.escrow.leaseOf(1n)).startTime;
  return { ...f, leaseId: 1n, start };
}

export const scenarios: BenchScenario[] = [
  {
    key: "escrow.openLease",
    target: 180_000,
    note: "openLease (approve already given) on an 8-GPU asset with a baseline reading; escrow already holds the token",
    run: async () => {
      const f = await deployWithTerms();
      return gasOf(f.escrow.connect(f.lessee).openLease(f.assetId, DAY, DEPOSIT));
    },
  },
  {
    key: "escrow.openLeaseWithPermit",
    target: 220_000,
    note: "openLeaseWithPermit, the lessee's first EIP-2612 permit (nonce 0 -> 1), no prior allowance",
    run: async () => {
      const f = await deployWithTerms();
      await f.usdc.connect(f.lessee).approve(await f.escrow.getAddress(), 0n);
      const { chainId } = await ethers.provider.getNetwork();
      const deadline = 2n ** 48n;
      const sig = await f.lessee.signTypedData(
        { name: await f.usdc.name(), version: "1", chainId, verifyingContract: await f.usdc.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: f.lessee.address, spender: await f.escrow.getAddress(), value: DEPOSIT, nonce: 0n, deadline },
      );
      const { v, r, s } = ethers.Signature.from(sig);
      return gasOf(f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, DAY, DEPOSIT, deadline, v, r, s));
    },
  },
  {
    key: "escrow.settle",
    target: 100_000,
    note: "settle, steady state: releases the previous (matured) charge to the owner's existing balance and bills a new 1 h window",
    run: async () => {
      const f = await openLease();
      await f.meters.report(f.start + HOUR, (GPUS * HOUR) / 2n, GPUS * HOUR);
      await f.escrow.settle(f.leaseId);
      await time.increase(DISPUTE_WINDOW);
      await f.escrow.release(f.leaseId);
      await f.meters.reportNow(10_000n, 5_000n);
      await f.escrow.settle(f.leaseId);
      await time.increase(DISPUTE_WINDOW);
      await f.meters.reportNow(10_000n, 5_000n);
      return gasOf(f.escrow.settle(f.leaseId));
    },
  },
  {
    key: "escrow.close",
    target: 110_000,
    note: "close at expiry by a keeper of a lease settled once before (charge still disputable): final window settled and merged, leftover refunded to a lessee with no prior balance",
    run: async () => {
      const f = await openLease();
      await f.meters.report(f.start + 12n * HOUR, 0n, GPUS * 12n * HOUR);
      await f.escrow.settle(f.leaseId);
      await f.meters.report(f.start + DAY, 0n, GPUS * 12n * HOUR);
      return gasOf(f.escrow.connect(f.other).close(f.leaseId));
    },
  },
  {
    key: "escrow.withdraw",
    target: 50_000,
    note: "withdraw of the whole balance to an account that already holds the token",
    run: async () => {
      const f = await openLease();
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      return gasOf(f.escrow.connect(f.lessee).withdraw(await f.usdc.getAddress(), f.lessee.address));
    },
  },
];
