import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { gasOf, type BenchScenario } from "../lib";
import { MockUSDC__factory } from "../../typechain-types";
import { deployCore, DAY, DISPUTE_WINDOW, GPUS, HOUR, USDC, termsFor } from "../../test/escrow/helpers";
import type { Values } from "../../test/helpers/oracleRig";

const DEPOSIT = 500n * USDC;
/** Readings per batch in these scenarios: 500 (the oracle's maximum), so every proof has depth 9. */
const BATCH_READINGS = 500;

/**
 * Escrow with USDC terms on an 8-GPU asset; the lessee approved; the escrow already holds the token
 * and the provider already has a withdrawable balance (steady state). Every batch the oracle accepts
 * holds 500 readings (the lease's asset and 499 others), so proofs are 9 hashes deep.
 */
async function deployWithTerms() {
  const core = await deployCore();
  const usdc = await new MockUSDC__factory(core.admin).deploy();
  const t = await usdc.getAddress();
  await core.escrow.setTokenAllowed(t, true);
  await core.escrow.connect(core.provider).setLeaseTerms(core.assetId, termsFor(t));
  await usdc.mint(core.lessee.address, 10_000n * USDC);
  await usdc.connect(core.lessee).approve(await core.escrow.getAddress(), ethers.MaxUint256);
  await usdc.mint(await core.escrow.getAddress(), 1n);
  let counters: Values = { busyGpuSeconds: 16_588_800n, availableGpuSeconds: 20_736_000n, energyJ: 13_063_680_000n };
  let last = 0n;
  /** Posts a 500-reading batch at `timestamp`: the asset at `availableBps`/`busyBps` of the elapsed capacity. */
  const post = async (timestamp: bigint, availableBps: bigint, busyBps: bigint) => {
    const elapsed = last === 0n ? 0n : timestamp - last;
    last = timestamp;
    counters = {
      busyGpuSeconds: counters.busyGpuSeconds + (GPUS * elapsed * busyBps) / 10_000n,
      availableGpuSeconds: counters.availableGpuSeconds + (GPUS * elapsed * availableBps) / 10_000n,
      energyJ: counters.energyJ + GPUS * elapsed * 500n,
    };
    const values = new Map<bigint, Values>([[core.assetId, counters]]);
    for (let id = 2; id <= BATCH_READINGS; id++)
      values.set(BigInt(id), { ...counters, energyJ: counters.energyJ + BigInt(id) });
    await core.rig.post(timestamp, values);
  };
  const t0 = BigInt(await time.latest()) + 60n;
  await post(t0, 0n, 0n);
  return { ...core, usdc, post, t0 };
}

/** A first lease ran for an hour, was ended by the provider, settled and closed (the provider has a
 * withdrawable balance); a second lease has just opened. */
export async function secondLease() {
  const f = await openLease();
  await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
  const ended = (await f.escrow.leaseOf(1n)).endTime;
  await f.post(ended + 60n, 10_000n, 5_000n);
  const at = ended + 60n + DISPUTE_WINDOW;
  await time.setNextBlockTimestamp(at);
  await f.keeper.close(1n, undefined, at);
  await f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT);
  return { ...f, start: (await f.escrow.leaseOf(2n)).startTime };
}

export async function openLease() {
  const f = await deployWithTerms();
  await f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT);
  const start = (await f.escrow.leaseOf(1n)).startTime;
  return { ...f, leaseId: 1n, start };
}

/**
 * A lease with hourly readings posted on time; settled once at `start + 1 h + dispute window` (start
 * meter proven and stored, billed up to the first hourly reading). Returns the time of that settle.
 */
export async function settledOnce() {
  const f = await openLease();
  for (let h = 1n; h <= 24n; h++) await f.post(f.start + h * HOUR, 10_000n, 5_000n);
  const at = f.start + HOUR + DISPUTE_WINDOW;
  await time.setNextBlockTimestamp(at);
  await f.keeper.settle(f.leaseId, undefined, at);
  return f;
}

export const scenarios: BenchScenario[] = [
  {
    key: "escrow.openLease",
    target: 180_000,
    note: "openLease (approve already given, terms version bound) on an 8-GPU asset; escrow already holds the token",
    run: async () => {
      const f = await deployWithTerms();
      return gasOf(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT));
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
      return gasOf(f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, 1, DAY, DEPOSIT, deadline, v, r, s));
    },
  },
  {
    key: "escrow.settle.first",
    target: 120_000,
    note: "first settle of a lease (the provider already has a balance from an earlier lease): proves the meter at the lease start (2 readings, interpolated) and bills up to a reading inside the lease (1 reading); proofs of depth 9 (500-reading batches)",
    run: async () => {
      const f = await secondLease();
      await f.post(f.start + HOUR, 10_000n, 5_000n);
      const at = f.start + HOUR + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      return gasOf(f.keeper.settle(2n, undefined, at));
    },
  },
  {
    key: "escrow.settle",
    target: 120_000,
    note: "settle, steady state: start meter stored, bills up to a newer reading inside the lease (1 proof of depth 9), credited to the provider's existing balance",
    run: async () => {
      const f = await settledOnce();
      const at = f.start + 2n * HOUR + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      return gasOf(f.keeper.settle(f.leaseId, undefined, at));
    },
  },
  {
    key: "escrow.close",
    target: 150_000,
    note: "close at expiry by a keeper of a lease settled once before: meter at the end from the reading stamped at the end (depth-9 proof), final charge credited to the provider's existing balance, leftover refunded to a lessee with no prior balance",
    run: async () => {
      const f = await settledOnce();
      const at = f.start + DAY + DISPUTE_WINDOW;
      await time.setNextBlockTimestamp(at);
      return gasOf(f.keeper.close(f.leaseId, f.other, at));
    },
  },
  {
    key: "escrow.withdraw",
    target: 50_000,
    note: "withdraw of the whole balance to an account that already holds the token",
    run: async () => {
      const f = await openLease();
      await f.escrow.connect(f.provider).terminateByProvider(f.leaseId);
      const at = BigInt(await time.latest()) + DAY * 8n;
      await time.setNextBlockTimestamp(at);
      await f.keeper.close(f.leaseId, undefined, at);
      return gasOf(f.escrow.connect(f.lessee).withdraw(await f.usdc.getAddress(), f.lessee.address));
    },
  },
];
