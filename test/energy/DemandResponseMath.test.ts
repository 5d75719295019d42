import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { DemandResponseMathHarness__factory } from "../../typechain-types";
import {
  BaselineRule,
  OutcomeStatus,
  baselineWindow,
  creditOf,
  maxPowerW,
  reductionOf,
  splitCredit,
} from "../../src/demandResponse";

async function harness() {
  const [admin] = await ethers.getSigners();
  return new DemandResponseMathHarness__factory(admin).deploy();
}

/** A deterministic pseudo-random sequence (xorshift). */
function rng(seed: number) {
  let x = BigInt(seed) | 1n;
  return (max: bigint) => {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    return x % (max + 1n);
  };
}

const meter = (t: bigint, e: bigint) => ({ timestamp: t, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: e });

describe("DemandResponseMath (through a harness), equal to src/demandResponse.ts", function () {
  it("reduction matches reductionOf on a pseudo-random sweep, including every status", async function () {
    const h = await loadFixture(harness);
    const next = rng(17);
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const w = 900n + next(86_400n);
      const d = 900n + next(86_400n);
      const power = maxPowerW(8n, 700n);
      const baselineJ = next(power * w);
      // Some events draw more than the asset can (Unproven), some less than the baseline.
      const eventJ = i % 7 === 0 ? power * d + 1n + next(1_000n) : next(power * d);
      const proven = i % 11 !== 0;
      const committed = 1n + next(2n ** 40n - 1n);
      const rate = 1n + next(2_000_000n);
      const t0 = 1_700_000_000n;
      const input = {
        baselineFrom: meter(t0, 1_000n),
        baselineTo: meter(t0 + w, 1_000n + baselineJ),
        eventFrom: meter(t0 + w + 600n, 2_000n + baselineJ),
        eventTo: meter(t0 + w + 600n + d, 2_000n + baselineJ + eventJ),
        eventProven: proven,
        maxPowerW: power,
        committedReductionJ: committed,
        ratePerKWh: rate,
      };
      const onChain = await h.reduction(input);
      const offChain = reductionOf(
        input.baselineFrom,
        input.baselineTo,
        input.eventFrom,
        input.eventTo,
        proven,
        power,
        committed,
        rate,
      );
      expect([
        Number(onChain.status),
        onChain.baselineJ,
        onChain.meteredJ,
        onChain.reductionJ,
        onChain.credit,
      ]).to.deep.equal([offChain.status, offChain.baselineJ, offChain.meteredJ, offChain.reductionJ, offChain.credit]);
      seen.add(offChain.status);
    }
    expect([...seen].sort()).to.deep.equal([OutcomeStatus.Credited, OutcomeStatus.NoReduction, OutcomeStatus.Unproven]);
  });

  it("baselineWindow, maxPowerW, creditOf and split match their mirrors", async function () {
    const h = await loadFixture(harness);
    for (const notice of [1_700_000_000n, 1_700_000_899n, 1_700_000_900n]) {
      const { from, to } = baselineWindow(BaselineRule.PreNotice, notice, notice + 600n, notice + 4_200n, 1_800n);
      expect(
        await h.baselineWindow(BaselineRule.PreNotice, notice, notice + 600n, notice + 4_200n, 1_800n),
      ).to.deep.equal([from, to]);
      const prior = baselineWindow(BaselineRule.PriorDay, notice, notice + 600n, notice + 4_200n, 0n);
      expect(await h.baselineWindow(BaselineRule.PriorDay, notice, notice + 600n, notice + 4_200n, 0n)).to.deep.equal([
        prior.from,
        prior.to,
      ]);
    }
    expect(await h.maxPowerW(8, 701)).to.equal(maxPowerW(8n, 701n));
    expect(await h.creditOf(3_599_999n, 1_000_000n)).to.equal(creditOf(3_599_999n, 1_000_000n));
    const { toLessee, toOwner } = splitCredit(1_000_001n, 3_333n);
    expect(await h.split(1_000_001n, 3_333)).to.deep.equal([toLessee, toOwner]);
  });

  it("curtailedInLease takes each end of the span from the right meter, and clampedDelta clamps", async function () {
    const h = await loadFixture(harness);
    const at = (time: bigint, availableGpuSeconds: bigint) => ({ time, availableGpuSeconds });
    // Event [100, 200] inside a lease from 50, point 300: the event's own meters.
    expect(await h.curtailedInLease(at(100n, 800n), at(200n, 1_600n), at(50n, 400n), at(300n, 2_400n))).to.equal(800n);
    // The lease starts inside the event: from the lease's start meter.
    expect(await h.curtailedInLease(at(100n, 800n), at(200n, 1_600n), at(150n, 1_200n), at(300n, 2_400n))).to.equal(
      400n,
    );
    // The point is inside the event: up to the point's meter.
    expect(await h.curtailedInLease(at(100n, 800n), at(200n, 1_600n), at(50n, 400n), at(150n, 1_200n))).to.equal(400n);
    // Empty span, and a meter that did not grow.
    expect(await h.curtailedInLease(at(100n, 800n), at(200n, 1_600n), at(50n, 400n), at(100n, 800n))).to.equal(0n);
    expect(await h.curtailedInLease(at(100n, 800n), at(200n, 700n), at(50n, 400n), at(300n, 2_400n))).to.equal(0n);
    expect(await h.clampedDelta(10n, 5n, 100n)).to.equal(0n);
    expect(await h.clampedDelta(10n, 500n, 100n)).to.equal(100n);
    expect(await h.clampedDelta(10n, 50n, 100n)).to.equal(40n);
  });
});
