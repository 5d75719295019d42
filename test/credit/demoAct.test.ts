import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { creditAct } from "../../scripts/demo/acts/credit";
import { DAY, GPUS, termsFor } from "../escrow/helpers";
import { USDC } from "./fixtures";
import { deploySystemWithLease } from "./system";

/**
 * The demo's credit act (scripts/demo/acts/credit.ts) on the real system: two leased servers (30-day
 * leases, no SLA target), the oracle metering both through signed batches, a keeper settling with
 * proofs. The act runs its own audit; this test checks the audit passed and spot-checks the outcome.
 */
async function twoLeasedServers() {
  const sys = await deploySystemWithLease();
  const { admin, nft, escrow, usdc, borrower, other: lessee2 } = sys;
  await nft.connect(admin).mint(borrower.address, {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: ethers.id("credit-act-2"),
    vramMiBPerGpu: 81_559,
    gpuCount: Number(GPUS),
    tdpWattsPerGpu: 700,
  });
  await escrow.connect(borrower).setLeaseTerms(2n, termsFor(sys.token, { slaAvailabilityBps: 0 }));
  const t = BigInt(await time.latest()) + 10n;
  await sys.rig.postUse(2n, t, GPUS, 10_000n, 5_000n);
  await usdc.mint(lessee2.address, 20_000n * USDC);
  await usdc.connect(lessee2).approve(await escrow.getAddress(), 20_000n * USDC);
  await escrow.connect(lessee2).openLease(2n, await escrow.currentTermsVersion(2n), 30n * DAY, 20_000n * USDC);
  return { ...sys, lessee2 };
}

describe("demo act: credit", () => {
  it("repays one loan from lease revenue and forecloses the other while its lessee keeps computing", async () => {
    const sys = await loadFixture(twoLeasedServers);
    const lines: string[] = [];
    const summary = await creditAct(
      {
        facility: sys.facility,
        nft: sys.nft,
        escrow: sys.escrow,
        operator: sys.borrower,
        lender: sys.lender,
        repaid: { assetId: 1n, leaseId: 1n },
        foreclosed: { assetId: 2n, leaseId: 2n },
      },
      {
        advance: async (seconds) => {
          // Both servers report: all GPUs available, half of them busy.
          const t = BigInt(await time.latest()) + seconds;
          await sys.rig.postUse(1n, t, GPUS, 10_000n, 5_000n);
          await sys.rig.postUse(2n, t + 1n, GPUS, 10_000n, 5_000n);
        },
        settle: async (leaseId) => {
          const at = BigInt(await time.latest()) + 1n;
          const proofs = await sys.keeper.proofs(leaseId, at);
          if (!proofs) return;
          const [, chargeable] = await sys.escrow.previewBill(leaseId, proofs.start, proofs.point);
          if (chargeable === 0n) return;
          await time.setNextBlockTimestamp(at);
          await sys.escrow.settle(leaseId, proofs.start, proofs.point);
        },
        log: (line) => lines.push(line),
      },
    );
    for (const c of summary.checks) expect(c.ok, `${c.name}: ${c.detail}`).to.equal(true);
    expect(summary.ok).to.equal(true);
    const [a, b] = summary.loans;
    expect(a.status).to.equal("Repaid");
    expect(BigInt(a.principalRepaid)).to.equal(BigInt(a.principal));
    expect(lines.some((l) => l.includes("repaid in full from lease revenue"))).to.equal(true);
    expect(b.status).to.equal("Foreclosed");
    expect(b.nftOwner).to.equal(sys.lender.address);
    expect(await sys.nft.userOf(2n)).to.equal(sys.lessee2.address);
    expect(summary.gas.map((g) => g.step)).to.include.members(["pledge", "fund", "harvest", "foreclose"]);
  });
});
