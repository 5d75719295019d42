/**
 * The demo in the test suite: `hardhat demo --json` in-process, its JSON summary checked against
 * the chain it ran on; the closing audit fed broken books; and the same story against a real anvil
 * node through `--network localhost`.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import {
  CreditFacility__factory,
  DemandResponseProgramme__factory,
  GpuAssetNFT__factory,
  RevenueSplitVault__factory,
  SettlementEscrow__factory,
  UsageOracle__factory,
  MockUSDC__factory,
} from "../../typechain-types";
import { fetchMeterHistory } from "../../src/meterHistory";
import { checkEscrow, checkLease, checkVault, type LeaseFacts, type VaultFacts } from "../../scripts/demo/checks";
import type { DemoSummary } from "../../scripts/demo/story";
import { Anvil } from "../feeder/harness";

const ROOT = path.join(__dirname, "..", "..");
const HOUR = 3600;

async function runDemoTask(): Promise<{ json: DemoSummary; returned: DemoSummary }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "demo-")), "summary.json");
  const returned = (await hre.run("demo", { json: file, quiet: true })) as DemoSummary;
  return { json: JSON.parse(fs.readFileSync(file, "utf8")) as DemoSummary, returned };
}

describe("demo", function () {
  this.timeout(1_200_000);

  describe("hardhat demo --json (in-process)", function () {
    let s: DemoSummary;
    const provider = () => hre.ethers.provider;

    before(async function () {
      const { json, returned } = await runDemoTask();
      s = json;
      expect(JSON.parse(JSON.stringify(returned))).to.deep.equal(json);
    });

    it("passes every accounting check", function () {
      expect(s.checks.length).to.be.greaterThan(10);
      expect(s.checks.filter((c) => !c.ok)).to.deep.equal([]);
      expect(s.ok).to.equal(true);
    });

    it("reports every lease as the escrow's books have it", async function () {
      const escrow = SettlementEscrow__factory.connect(s.contracts.escrow, provider());
      expect(s.leases.map((l) => l.openedWith)).to.deep.equal(["permit", "approve", "approve", "approve"]);
      expect(s.leases.map((l) => l.endReason)).to.deep.equal(["Expired", "EndedByLessee", "Expired", "Expired"]);
      for (const l of s.leases) {
        const acc = await escrow.accountingOf(l.leaseId);
        const lease = await escrow.leaseOf(l.leaseId);
        expect([l.deposited, l.charged, l.refunded, l.held]).to.deep.equal(
          [acc.deposited, acc.charged, acc.refunded, acc.held].map(String),
        );
        expect(lease.lessee).to.equal(l.lesseeAddress);
        expect(lease.assetId.toString()).to.equal(l.assetId);
        expect(BigInt(l.charged)).to.be.greaterThan(0n);
        expect(BigInt(l.refunded)).to.be.greaterThan(0n);
        expect(l.held).to.equal("0");
      }
    });

    it("opened the first lease with a permit and topped it up", async function () {
      const usdc = MockUSDC__factory.connect(s.contracts.stablecoin, provider());
      const [a, b] = s.leases;
      expect(await usdc.nonces(a.lesseeAddress)).to.equal(1n);
      expect(await usdc.nonces(b.lesseeAddress)).to.equal(0n);
      expect(a.deposited).to.equal((1_000n * 10n ** 6n).toString()); // 600 at open + the 400 top-up
    });

    it("credits the lessee of the outage below the SLA, and bills nothing for the silent period", function () {
      const [a, b] = s.leases;
      const finalA = a.settlements[a.settlements.length - 1];
      expect(finalA.availabilityBps).to.be.lessThan(9900);
      expect(BigInt(a.slaCredit)).to.be.greaterThan(0n);
      // B ran 36 h, 4 of them silent: those GPU-hours are not proven available, and 80 % is its SLA.
      const finalB = b.settlements[b.settlements.length - 1];
      expect(finalB.availabilityBps).to.be.at.most(Math.ceil((10_000 * 32) / 36) + 10);
      expect(b.slaCredit).to.equal("0");
      // Interim settlements only ever charged part of the final bill: the totals add up to it.
      for (const l of s.leases) {
        const total = l.settlements.reduce((t, x) => t + BigInt(x.charged), 0n);
        expect(total.toString()).to.equal(l.charged);
        expect(l.settlements[l.settlements.length - 1].total).to.equal(l.charged);
      }
    });

    it("reports each asset's meters and revenue from the oracle's history and the escrow", async function () {
      const nft = GpuAssetNFT__factory.connect(s.contracts.nft, provider());
      const history = await fetchMeterHistory(provider(), s.contracts.oracle);
      expect(s.assets.map((x) => x.gpuCount)).to.deep.equal([8, 4, 2]);
      for (const x of s.assets) {
        const m = history.latest(BigInt(x.assetId))!.meter;
        expect([x.availableGpuSeconds, x.busyGpuSeconds, x.energyJ]).to.deep.equal(
          [m.availableGpuSeconds, m.busyGpuSeconds, m.energyJ].map(String),
        );
        expect(x.energyKwh).to.be.closeTo(Number(m.energyJ) / 3.6e6, 1e-9);
        expect(x.utilizationBps).to.equal(Number((m.busyGpuSeconds * 10_000n) / m.availableGpuSeconds));
        const charged = s.leases.filter((l) => l.assetId === x.assetId).reduce((t, l) => t + BigInt(l.charged), 0n);
        expect(x.revenue).to.equal(charged.toString());
        expect((await nft.specOf(x.assetId)).gpuCount).to.equal(BigInt(x.gpuCount));
      }
      expect(await nft.ownerOf(s.vault.assetId)).to.equal(s.vault.address);
      // The L40S box idled through act 2, then ran a training job flat out for 108 h.
      expect(s.assets[2].utilizationBps).to.be.greaterThan(0);
    });

    it("ran the grid emergency: the curtailable server was credited, the plain one recorded as not reducing", async function () {
      const programme = DemandResponseProgramme__factory.connect(s.contracts.demandResponse, provider());
      expect(s.grid.rows.map((r) => [r.terms, r.outcome])).to.deep.equal([
        ["curtailable", "Credited"],
        ["plain", "NoReduction"],
      ]);
      const [curtailable, plain] = s.grid.rows;
      const outcome = await programme.outcomeOf(s.grid.programmeId, s.grid.eventIndex, curtailable.assetId);
      expect(outcome.credit).to.be.greaterThan(0n);
      expect((await programme.outcomeOf(s.grid.programmeId, s.grid.eventIndex, plain.assetId)).credit).to.equal(0n);
      expect(s.grid.checks.every((c) => c.ok)).to.equal(true);
      // The curtailable lease's bill lacks the reservation of the curtailed time; the plain one's does not.
      expect(curtailable.reservationNotBilled).to.not.match(/^0\.0000 /);
      expect(plain.reservationNotBilled).to.match(/^0\.0000 /);
    });

    it("ran the credit act: loan A repaid from lease revenue, loan B foreclosed while its lessee kept computing", async function () {
      const facility = CreditFacility__factory.connect(s.contracts.creditFacility, provider());
      const nft = GpuAssetNFT__factory.connect(s.contracts.nft, provider());
      expect(s.credit.loans.map((l) => l.status)).to.deep.equal(["Repaid", "Foreclosed"]);
      const [a, b] = s.credit.loans;
      const pledgedA = await facility.queryFilter(facility.filters.AssetPledged(BigInt(a.loanId)), 0);
      expect(await nft.ownerOf(a.assetId)).to.equal(pledgedA[0].args.borrower); // back with the operator
      const funded = await facility.queryFilter(facility.filters.LoanFunded(BigInt(b.loanId)), 0);
      expect(await nft.ownerOf(b.assetId)).to.equal(funded[0].args.lender);
      expect(s.assets.find((x) => x.assetId === b.assetId)!.owner).to.equal("Northwind Capital (lender)");
      expect(s.assets.find((x) => x.assetId === a.assetId)!.owner).to.equal("Helios Compute");
      // Loan B's lease ran to its end (Expired, not ended) and its lessee kept its user right until then.
      const leaseB = s.leases.find((l) => l.assetId === b.assetId && l.leaseId === "4")!;
      expect(leaseB.endReason).to.equal("Expired");
      expect(s.credit.checks.every((c) => c.ok)).to.equal(true);
      expect(BigInt(b.principalWrittenOff)).to.be.greaterThan(0n);
    });

    it("reports the vault and each holder as the vault has them", async function () {
      const vault = RevenueSplitVault__factory.connect(s.vault.address, provider());
      expect(s.vault.totalHarvested).to.equal((await vault.totalHarvested()).toString());
      expect(s.vault.totalClaimed).to.equal((await vault.totalClaimed()).toString());
      expect(s.vault.harvests).to.have.length(2);
      expect(s.vault.harvests.reduce((t, h) => t + BigInt(h), 0n).toString()).to.equal(s.vault.totalHarvested);
      const claims = await vault.queryFilter(vault.filters.RevenueClaimed(), 0);
      const harvests = await vault.queryFilter(vault.filters.RevenueHarvested(), 0);
      expect(harvests.map((h) => h.args.amount.toString())).to.deep.equal(s.vault.harvests);
      let supply = 0n;
      for (const h of s.holders) {
        expect(h.shares).to.equal((await vault.balanceOf(h.address)).toString());
        expect(h.claimable).to.equal((await vault.claimable(h.address)).toString());
        const claimed = claims.filter((c) => c.args.account === h.address).reduce((t, c) => t + c.args.amount, 0n);
        expect(h.claimed).to.equal(claimed.toString());
        expect(claimed).to.be.greaterThan(0n);
        supply += BigInt(h.shares);
      }
      expect(supply).to.equal(await vault.totalSupply());
      // The share sale between the harvests: Cleo bought 100 shares and earned only the second harvest.
      const cleo = s.holders.find((h) => h.name === "Cleo")!;
      expect(cleo.shares).to.equal((100n * 10n ** 18n).toString());
      expect(BigInt(cleo.claimed)).to.equal(BigInt(s.vault.harvests[1]) / 10n);
    });

    it("counts the co-signed batches, readings and gas from the oracle's events", async function () {
      const oracle = UsageOracle__factory.connect(s.contracts.oracle, provider());
      const accepted = await oracle.queryFilter(oracle.filters.BatchAccepted(), 0);
      expect(accepted).to.have.length(s.oracle.batches);
      expect(accepted.reduce((t, e) => t + Number(e.args.readingCount), 0)).to.equal(s.oracle.readings);
      let gasUsed = 0n;
      for (const e of accepted) gasUsed += (await e.getTransactionReceipt()).gasUsed;
      expect(gasUsed.toString()).to.equal(s.oracle.gasUsed);
      // Three operators, each a signer; every batch carries two of their signatures (2 of 3).
      expect(await oracle.threshold()).to.equal(2n);
      expect(s.oracle.operators).to.have.length(3);
      const signers = (await oracle.signers()).map((a) => a.toLowerCase());
      for (const op of s.oracle.operators) expect(signers).to.include(op.toLowerCase());
      // Batches were submitted by more than one operator (the proposer rotates).
      const senders = new Set<string>();
      for (const e of accepted.slice(0, 12)) senders.add((await e.getTransaction()).from.toLowerCase());
      expect(senders.size).to.be.greaterThan(1);
    });
  });

  describe("the closing audit", function () {
    const lease: LeaseFacts = {
      leaseId: "1",
      paidIn: 800n,
      deposited: 800n,
      charged: 600n,
      refunded: 150n,
      held: 50n,
      chargedByEvents: 600n,
      refundedByEvents: 150n,
    };
    const vault: VaultFacts = {
      totalHarvested: 1000n,
      totalClaimed: 900n,
      claimable: 98n,
      accruedScaled: 98n * 10n ** 30n + 5n,
      undistributedScaled: 2n * 10n ** 30n - 5n,
      precision: 10n ** 30n,
      tokenBalance: 100n,
      holders: 4,
      claims: 6,
      revenueCredited: 1000n,
      owedByEscrow: 0n,
    };

    it("passes balanced books", function () {
      expect(checkLease(lease).every((c) => c.ok)).to.equal(true);
      expect(checkVault(vault).every((c) => c.ok)).to.equal(true);
      expect(checkEscrow({ tokenBalance: 70n, held: 50n, withdrawable: 20n, fresh: true }).ok).to.equal(true);
    });

    it("fails a lease whose units do not add up, or differ from what was paid in or from the events", function () {
      expect(checkLease({ ...lease, held: 49n }).map((c) => c.ok)).to.deep.equal([true, false, true]);
      expect(checkLease({ ...lease, paidIn: 801n }).map((c) => c.ok)).to.deep.equal([false, true, true]);
      expect(checkLease({ ...lease, refundedByEvents: 149n }).map((c) => c.ok)).to.deep.equal([true, true, false]);
    });

    it("fails an escrow whose balance does not cover what it owes", function () {
      expect(checkEscrow({ tokenBalance: 69n, held: 50n, withdrawable: 20n, fresh: false }).ok).to.equal(false);
      expect(checkEscrow({ tokenBalance: 71n, held: 50n, withdrawable: 20n, fresh: true }).ok).to.equal(false);
      expect(checkEscrow({ tokenBalance: 71n, held: 50n, withdrawable: 20n, fresh: false }).ok).to.equal(true);
    });

    it("fails a vault with negative or unbounded dust, inexact scaled books, or a short balance", function () {
      expect(checkVault({ ...vault, claimable: 101n })[0].ok).to.equal(false);
      expect(checkVault({ ...vault, claimable: 80n })[0].ok).to.equal(false);
      expect(checkVault({ ...vault, undistributedScaled: vault.undistributedScaled + 1n })[1].ok).to.equal(false);
      expect(checkVault({ ...vault, tokenBalance: 99n })[2].ok).to.equal(false);
      expect(checkVault({ ...vault, owedByEscrow: 1n })[3].ok).to.equal(false);
    });
  });

  describe("hardhat demo --network localhost (a real anvil node)", function () {
    const anvil = new Anvil();
    after(() => anvil.stop());

    it("tells the same story against the node and passes the audit", async function () {
      await anvil.start();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "demo-localhost-"));
      const file = path.join(dir, "summary.json");
      const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
        const child = spawn("npx", ["hardhat", "demo", "--network", "localhost", "--json", file], {
          cwd: ROOT,
          env: { ...process.env, LOCALHOST_RPC_URL: anvil.url, DEPLOYMENTS_DIR: path.join(dir, "deployments") },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let text = "";
        child.stdout.on("data", (b: Buffer) => (text += b.toString()));
        child.stderr.on("data", (b: Buffer) => (text += b.toString()));
        child.on("close", (c) => resolve({ code: c ?? 1, output: text }));
      });
      expect(code, output.slice(-3000)).to.equal(0);
      expect(output).to.include("oracle operators start their feeders");
      expect(output).to.include("every token unit is accounted for");
      const s = JSON.parse(fs.readFileSync(file, "utf8")) as DemoSummary;
      expect(s.network).to.equal("localhost");
      expect(s.ok).to.equal(true);
      expect(s.leases.map((l) => l.endReason)).to.deep.equal(["Expired", "EndedByLessee", "Expired", "Expired"]);
      expect(s.credit.loans.map((l) => l.status)).to.deep.equal(["Repaid", "Foreclosed"]);
      expect(fs.existsSync(path.join(dir, "deployments", "localhost", "UsageOracle.json"))).to.equal(true);
    });
  });
});
