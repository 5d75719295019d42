/**
 * The end-to-end demo: the whole suite, deployed by its own deploy scripts, driven through a story
 * of acts (`scripts/demo/acts/`, one file each) with real contracts, real signatures and real
 * transactions: three oracle operators run the feeder's real code (controller, co-signing over HTTP,
 * chain adapter) over simulated GPUs, and a keeper settles and closes from proofs it builds from the
 * chain's own data. Returns a summary (the tables and the JSON) and the closing audit.
 *
 *   act 1  setup: three servers, a vault for one, terms, the oracle network
 *   act 2  three days of leases: SLA outage, silent host, settlements from proven meters, a top-up,
 *          an early end, harvest, claims, a share sale, closes from the first reading past each end
 *   act 3  a grid emergency: a curtailable lease steps down for two hours, its reduction is proven from
 *          the meters and paid, the curtailed reservation is not billed; a plain lease is untouched
 *   act 4  credit against compute: a loan repaid from lease revenue, a second one foreclosed while its
 *          lessee keeps computing
 *   act 5  settle-up: refunds and revenue withdrawn, the last harvest and claims
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import {
  CreditFacility__factory,
  DemandResponseProgramme__factory,
  GpuAssetNFT__factory,
  MockUSDC__factory,
  RevenueSplitVaultFactory__factory,
  SettlementEscrow__factory,
  UsageOracle__factory,
} from "../../typechain-types";
import { JOULES_PER_KWH, SECONDS_PER_HOUR } from "../../src/units";
import { deployConfig } from "../deploy/context";
import { setupAct } from "./acts/setup";
import { claim, harvest, twoDaysAct, type VaultBook } from "./acts/twoDays";
import { gridAndCreditActs, type LaterResult } from "./acts/gridAndCredit";
import type { CreditActSummary } from "./acts/credit";
import type { GridEmergencySummary } from "./acts/gridEmergency";
import { checkEscrow, checkLease, checkVault, type Check } from "./checks";
import { amount, clock, percent, table, type Output } from "./render";
import { World } from "./world";

export interface DemoOptions {
  out: Output;
}

export interface GasRow {
  step: string;
  txs: number;
  gasUsed: string;
}

export interface DemoSummary {
  network: string;
  chainId: string;
  token: { address: string; symbol: string; decimals: number };
  contracts: Record<string, string>;
  simulatedHours: number;
  oracle: { operators: string[]; threshold: number; polls: number; batches: number; readings: number; gasUsed: string };
  leases: {
    leaseId: string;
    assetId: string;
    lessee: string;
    lesseeAddress: string;
    openedWith: "permit" | "approve";
    endReason: string;
    deposited: string;
    charged: string;
    slaCredit: string;
    energyFee: string;
    refunded: string;
    held: string;
    settlements: { billedUntil: number; availabilityBps: number; total: string; charged: string }[];
  }[];
  assets: {
    assetId: string;
    name: string;
    gpuModel: string;
    gpuCount: number;
    owner: string;
    availableGpuSeconds: string;
    busyGpuSeconds: string;
    utilizationBps: number;
    energyJ: string;
    energyKwh: number;
    revenue: string;
  }[];
  vault: {
    address: string;
    assetId: string;
    totalShares: string;
    totalHarvested: string;
    totalClaimed: string;
    claimable: string;
    dust: string;
    harvests: string[];
  };
  holders: { name: string; address: string; shares: string; claimed: string; claimable: string }[];
  /** Act 3: the grid emergency's energy table and its own audit. */
  grid: GridEmergencySummary;
  /** Act 4: the loans and the credit act's own audit. */
  credit: CreditActSummary;
  gas: GasRow[];
  checks: Check[];
  ok: boolean;
}

const END_REASONS = ["None", "Expired", "EndedByLessee", "TerminatedByProvider", "InsufficientFunds"];

export async function runDemo(hre: HardhatRuntimeEnvironment, opts: DemoOptions): Promise<DemoSummary> {
  const { out } = opts;
  const { ethers, deployments, network } = hre;
  const provider = ethers.provider;
  const chainId = (await provider.getNetwork()).chainId;

  // ------------------------------------------------------------------ deploy
  out.line(`Compute RWA demo on ${network.name} (chain ${chainId})`);
  out.line("");
  if (network.name === "hardhat") await deployments.fixture(["core"]);
  else await deployments.run(["core"], { resetMemory: false, writeDeploymentsToFiles: true });
  const all = await deployments.all();
  const addr = (name: string) => {
    if (!all[name]) throw new Error(`${name} is not in the deployment record of ${network.name}`);
    return all[name].address;
  };
  const c = {
    nft: GpuAssetNFT__factory.connect(addr("GpuAssetNFT"), provider),
    oracle: UsageOracle__factory.connect(addr("UsageOracle"), provider),
    escrow: SettlementEscrow__factory.connect(addr("SettlementEscrow"), provider),
    factory: RevenueSplitVaultFactory__factory.connect(addr("RevenueSplitVaultFactory"), provider),
    usdc: MockUSDC__factory.connect(addr("Stablecoin"), provider),
  };
  const programme = DemandResponseProgramme__factory.connect(addr("DemandResponseProgramme"), provider);
  const facility = CreditFacility__factory.connect(addr("CreditFacility"), provider);
  const w = new World(hre, out, chainId, c, Number(await c.usdc.decimals()), await c.usdc.symbol());
  for (const name of Object.keys(all)) {
    const used = all[name]?.receipt?.gasUsed;
    if (used) w.addGas("deploy contracts", BigInt(used.toString()));
  }
  out.line(
    `• deployed by the deploy scripts (tag "core"): NFT ${c.nft.target}, oracle ${c.oracle.target} (${await c.oracle.threshold()} of ${(await c.oracle.signers()).length} signers), escrow ${c.escrow.target}, vault factory ${c.factory.target}, ${w.symbol} ${c.usdc.target}`,
  );
  const escrowWasFresh = (await c.escrow.leaseCount()) === 0n && (await c.usdc.balanceOf(c.escrow.target)) === 0n;
  w.t0 = (await provider.getBlock("latest"))!.timestamp;
  w.nowS = w.t0;

  // ------------------------------------------------------------------ the people
  const helios = await w.persona("Helios Compute", 10);
  const ana = await w.persona("Ana", 11);
  const ben = await w.persona("Ben", 12);
  const cleo = await w.persona("Cleo", 13);
  const lumen = await w.persona("Lumen AI", 14);
  const quark = await w.persona("Quark Labs", 15);
  const keeper = await w.persona("keeper", 16);
  const grid = await w.persona("GridCo (grid operator)", 17);
  const lender = await w.persona("Northwind Capital (lender)", 18);

  out.line("");
  out.line("Act 1 — setup");
  const { vault } = await setupAct(w, helios, ana, ben, deployConfig(hre).registrar);

  out.line("");
  out.line("Act 2 — three days of leases");
  const book: VaultBook = { harvests: [], claimed: new Map(), claims: 0 };
  await twoDaysAct(w, { helios, ana, ben, cleo, lumen, quark, keeper }, vault, book);

  const later = await gridAndCreditActs(
    w,
    { helios, lumen, quark, keeper, grid, lender },
    programme,
    facility,
    deployConfig(hre).admin,
  );
  for (const l of later.leases) {
    const end = Number((await c.escrow.leaseOf(l.id)).endTime);
    await w.advanceTo(Math.max(w.nowS, end + Number(await c.escrow.disputeWindowSeconds()) + 45 * 60));
    w.say(`keeper closes lease #${l.id}: ${await w.close(l.id, keeper)}`);
  }

  out.line("");
  out.line("Act 5 — settle-up");
  const token = await c.usdc.getAddress();
  const a100 = w.servers[1].assetId;
  for (const p of [lumen, quark, helios, lender]) {
    const due = await c.escrow.withdrawable(p.wallet.address, token);
    if (due === 0n) continue;
    await w.send("withdraw from escrow", c.escrow.connect(p.wallet).withdraw(token, p.wallet.address));
    w.say(
      `${p.name} withdraws ${w.fmt(due)} from the escrow${
        p === helios
          ? ` (revenue of the servers it owns directly, #${a100} and #${w.servers[2].assetId})`
          : p === lender
            ? " (revenue of the foreclosed server it now owns)"
            : " (refunds)"
      }`,
    );
  }
  await harvest(w, vault, keeper, book);
  for (const p of [helios, ana, ben, cleo]) await claim(w, vault, p, book);
  await w.stopOracleNetwork();
  w.say(`the oracle network stops after ${await w.batches()} co-signed batches`);

  return summarize(w, { vault, book, escrowWasFresh, holders: [helios, ana, ben, cleo], later });
}

async function summarize(
  w: World,
  s: {
    vault: import("../../typechain-types").RevenueSplitVault;
    book: VaultBook;
    escrowWasFresh: boolean;
    holders: import("./world").Persona[];
    later: LaterResult;
  },
): Promise<DemoSummary> {
  const { escrow, nft, usdc, oracle } = w.c;
  const token = await usdc.getAddress();
  const vaultAddr = await s.vault.getAddress();
  const h100 = w.servers[0].assetId;
  const checks: Check[] = [];
  const settled = await escrow.queryFilter(escrow.filters.LeaseSettled(), 0);
  const closed = await escrow.queryFilter(escrow.filters.LeaseClosed(), 0);
  const resolved = await escrow.queryFilter(escrow.filters.DisputeResolved(), 0);
  const revenueOf = new Map<bigint, bigint>();
  const leaseRows: DemoSummary["leases"] = [];
  for (const l of w.leases) {
    const acc = await escrow.accountingOf(l.id);
    const lease = await escrow.leaseOf(l.id);
    const mine = <T extends { args: { leaseId: bigint } }>(logs: T[]) => logs.filter((e) => e.args.leaseId === l.id);
    const disputes = mine(resolved);
    const bills = mine(settled);
    const last = bills[bills.length - 1]?.args.bill;
    checks.push(
      ...checkLease({
        leaseId: l.id.toString(),
        paidIn: l.paidIn,
        deposited: acc.deposited,
        charged: acc.charged,
        refunded: acc.refunded,
        held: acc.held,
        chargedByEvents:
          bills.reduce((t, e) => t + e.args.charged, 0n) + disputes.reduce((t, e) => t + e.args.toPayee, 0n),
        refundedByEvents:
          mine(closed).reduce((t, e) => t + e.args.refund, 0n) + disputes.reduce((t, e) => t + e.args.toLessee, 0n),
      }),
    );
    revenueOf.set(l.asset, (revenueOf.get(l.asset) ?? 0n) + acc.charged);
    leaseRows.push({
      leaseId: l.id.toString(),
      assetId: l.asset.toString(),
      lessee: l.lessee.name,
      lesseeAddress: l.lessee.wallet.address,
      openedWith: l.openedWith,
      endReason: END_REASONS[Number(lease.endReason)],
      deposited: acc.deposited.toString(),
      charged: acc.charged.toString(),
      slaCredit: (last?.slaCredit ?? 0n).toString(),
      energyFee: (last?.energyFee ?? 0n).toString(),
      refunded: acc.refunded.toString(),
      held: acc.held.toString(),
      settlements: bills.map((e) => ({
        billedUntil: Number(e.args.billedUntil) - w.t0,
        availabilityBps: Number(e.args.bill.availabilityBps),
        total: e.args.bill.total.toString(),
        charged: e.args.charged.toString(),
      })),
    });
  }

  // Escrow: every lease it has, every account the story touched.
  let held = 0n;
  for (let id = 1n; id <= (await escrow.leaseCount()); id++) held += (await escrow.accountingOf(id)).held;
  let withdrawable = 0n;
  const accounts = [
    ...w.people.map((p) => p.wallet.address),
    vaultAddr,
    ...w.feeders.map((f) => f.address),
    ...s.later.custodies,
  ];
  for (const a of accounts) withdrawable += await escrow.withdrawable(a, token);
  checks.push(
    checkEscrow({ tokenBalance: await usdc.balanceOf(escrow.target), held, withdrawable, fresh: s.escrowWasFresh }),
  );

  // Vault.
  let claimable = 0n;
  let accrued = 0n;
  for (const p of s.holders) {
    claimable += await s.vault.claimable(p.wallet.address);
    accrued += await s.vault.accruedScaled(p.wallet.address);
  }
  const totalHarvested = await s.vault.totalHarvested();
  const totalClaimed = await s.vault.totalClaimed();
  checks.push(
    ...checkVault({
      totalHarvested,
      totalClaimed,
      claimable,
      accruedScaled: accrued,
      undistributedScaled: await s.vault.undistributedScaled(),
      precision: await s.vault.PRECISION(),
      tokenBalance: await usdc.balanceOf(vaultAddr),
      holders: s.holders.length,
      claims: s.book.claims,
      revenueCredited: revenueOf.get(h100) ?? 0n,
      owedByEscrow: await escrow.withdrawable(vaultAddr, token),
    }),
  );

  const history = await w.meterHistory();
  const assetRows: DemoSummary["assets"] = [];
  for (const srv of w.servers) {
    const m = history.latest(srv.assetId)!.meter;
    const owner = await nft.ownerOf(srv.assetId);
    assetRows.push({
      assetId: srv.assetId.toString(),
      name: srv.name,
      gpuModel: srv.gpuModel,
      gpuCount: srv.gpuCount,
      owner: w.nameOf(owner),
      availableGpuSeconds: m.availableGpuSeconds.toString(),
      busyGpuSeconds: m.busyGpuSeconds.toString(),
      utilizationBps: m.availableGpuSeconds === 0n ? 0 : Number((m.busyGpuSeconds * 10_000n) / m.availableGpuSeconds),
      energyJ: m.energyJ.toString(),
      energyKwh: Number(m.energyJ) / Number(JOULES_PER_KWH),
      revenue: (revenueOf.get(srv.assetId) ?? 0n).toString(),
    });
  }
  const holderRows = await Promise.all(
    s.holders.map(async (p) => ({
      name: p.name,
      address: p.wallet.address,
      shares: (await s.vault.balanceOf(p.wallet.address)).toString(),
      claimed: (s.book.claimed.get(p.wallet.address) ?? 0n).toString(),
      claimable: (await s.vault.claimable(p.wallet.address)).toString(),
    })),
  );

  // The oracle network's batches, from the chain.
  let readings = 0;
  let oracleGas = 0n;
  const accepted = await oracle.queryFilter(oracle.filters.BatchAccepted(), 0);
  for (const e of accepted) {
    readings += Number(e.args.readingCount);
    oracleGas += (await e.getTransactionReceipt()).gasUsed;
  }
  w.addGas("oracle operators post (co-signed submit)", oracleGas, accepted.length);

  for (const c of s.later.grid.checks) checks.push({ name: `grid emergency: ${c.name}`, ok: c.ok, detail: c.detail });
  for (const c of s.later.credit.checks) checks.push({ name: `credit: ${c.name}`, ok: c.ok, detail: c.detail });

  const summary: DemoSummary = {
    network: w.hre.network.name,
    chainId: w.chainId.toString(),
    token: { address: token, symbol: w.symbol, decimals: w.decimals },
    contracts: {
      nft: await nft.getAddress(),
      oracle: await oracle.getAddress(),
      escrow: await escrow.getAddress(),
      vaultFactory: await w.c.factory.getAddress(),
      vault: vaultAddr,
      stablecoin: token,
      creditFacility: await s.later.facility.getAddress(),
      demandResponse: await s.later.programme.getAddress(),
    },
    simulatedHours: Math.round((w.since() / 3600) * 10) / 10,
    oracle: {
      operators: w.feeders.map((f) => f.address),
      threshold: Number(await oracle.threshold()),
      polls: w.polls,
      batches: accepted.length,
      readings,
      gasUsed: oracleGas.toString(),
    },
    leases: leaseRows,
    assets: assetRows,
    vault: {
      address: vaultAddr,
      assetId: h100.toString(),
      totalShares: (await s.vault.totalSupply()).toString(),
      totalHarvested: totalHarvested.toString(),
      totalClaimed: totalClaimed.toString(),
      claimable: claimable.toString(),
      dust: (totalHarvested - totalClaimed - claimable).toString(),
      harvests: s.book.harvests.map(String),
    },
    holders: holderRows,
    grid: {
      ...s.later.grid,
      // Unix seconds → the story's clock.
      notice: clock(Number(s.later.grid.notice) - w.t0),
      start: clock(Number(s.later.grid.start) - w.t0),
      end: clock(Number(s.later.grid.end) - w.t0),
    },
    credit: { ...s.later.credit, loans: s.later.credit.loans.map((l) => ({ ...l, nftOwner: w.nameOf(l.nftOwner) })) },
    gas: [...w.gas.entries()].map(([step, g]) => ({ step, txs: g.txs, gasUsed: g.gasUsed.toString() })),
    checks,
    ok: checks.every((x) => x.ok),
  };
  return summary;
}

/** The summary tables, as printed. Amounts are rounded half up to cents, consistently. */
export function renderSummary(s: DemoSummary): string {
  const d = s.token.decimals;
  const a = (v: string) => amount(BigInt(v), d);
  const hours = (gpuSeconds: string) => (Number(gpuSeconds) / Number(SECONDS_PER_HOUR)).toFixed(1);
  const parts = [
    table(`Leases (${s.token.symbol})`, [
      [
        "lease",
        "asset",
        "lessee",
        "opened",
        "ended",
        "deposited",
        "charged",
        "energy",
        "SLA credit",
        "refunded",
        "held",
      ],
      ...s.leases.map((l) => [
        `#${l.leaseId}`,
        `#${l.assetId}`,
        l.lessee,
        l.openedWith,
        l.endReason,
        a(l.deposited),
        a(l.charged),
        a(l.energyFee),
        a(l.slaCredit),
        a(l.refunded),
        a(l.held),
      ]),
    ]),
    table("Assets (oracle meters since the first report)", [
      ["asset", "server", "GPUs", "owner", "available GPU-h", "busy GPU-h", "utilization", "energy", "revenue"],
      ...s.assets.map((x) => [
        `#${x.assetId}`,
        x.name,
        String(x.gpuCount),
        x.owner,
        hours(x.availableGpuSeconds),
        hours(x.busyGpuSeconds),
        percent(x.utilizationBps),
        `${x.energyKwh.toFixed(1)} kWh`,
        a(x.revenue),
      ]),
    ]),
    table(
      `Vault holders of asset #${s.vault.assetId} (harvested ${a(s.vault.totalHarvested)} in ${s.vault.harvests.length} harvests, dust ${s.vault.dust} units)`,
      [
        ["holder", "shares", "claimed", "claimable"],
        ...s.holders.map((h) => [h.name, amount(BigInt(h.shares), 18, 0), a(h.claimed), a(h.claimable)]),
      ],
    ),
    table(
      `Grid emergency (programme ${s.grid.programmeId}, event ${s.grid.eventIndex}: notice ${s.grid.notice}, ${s.grid.start} to ${s.grid.end})`,
      [
        [
          "lease",
          "asset",
          "terms",
          "energy",
          "kWh/busy GPU-h",
          "kWh/avail GPU-h",
          "energy charge",
          "reservation not billed",
          "outcome",
          "credit",
          "to owner",
          "to lessee",
        ],
        ...s.grid.rows.map((r) => [
          `#${r.leaseId}`,
          `#${r.assetId}`,
          r.terms,
          `${r.energyKWh} kWh`,
          r.kwhPerBusyGpuHour,
          r.kwhPerAvailableGpuHour,
          r.energyCharge,
          r.reservationNotBilled,
          r.outcome,
          r.credit,
          r.toOwner,
          r.toLessee,
        ]),
      ],
    ),
    table(`Loans (${s.token.symbol})`, [
      [
        "loan",
        "asset",
        "principal",
        "status",
        "harvested",
        "interest paid",
        "principal repaid",
        "to operator",
        "written off",
        "NFT owner",
      ],
      ...s.credit.loans.map((l) => [
        `#${l.loanId}`,
        `#${l.assetId}`,
        a(l.principal),
        l.status,
        a(l.harvested),
        a(l.interestPaid),
        a(l.principalRepaid),
        a(l.toBorrower),
        a((BigInt(l.principalWrittenOff) + BigInt(l.interestWrittenOff)).toString()),
        l.nftOwner,
      ]),
    ]),
    table("Gas per step", [
      ["step", "txs", "gas"],
      ...s.gas.map((g) => [g.step, String(g.txs), amount(BigInt(g.gasUsed), 0, 0)]),
    ]),
    ["Accounting checks", ...s.checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`)].join("\n"),
  ];
  return parts.join("\n\n");
}
