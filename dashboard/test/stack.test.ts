/**
 * The indexer and the dashboard against the real stack: anvil (from npm), the system deployed by the
 * project's deploy scripts (`npx hardhat deploy --network localhost`), the story of scripts/scenario.ts
 * told on it (signed oracle batches, leases settled, ended early, disputed, closed; a vault harvested and
 * claimed; a loan funded, harvested and repaid; a demand-response event proven), then
 *
 * 1. the indexer on embedded PGlite: its tables equal the chain's state (views and logs read directly;
 *    loans as `loanOf`, demand-response outcomes as `outcomeOf`);
 * 2. the same on a real PostgreSQL server (Debian's `postgresql`, a throw-away cluster);
 * 3. the dashboard in Debian's Chromium (playwright-core): its figures equal the chain's, the NFT's
 *    on-chain image decodes, parses and renders; a screenshot per page in `test-output/`.
 *
 * Needs `apt-get install -y postgresql chromium` (.ci/run installs both).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startIndexer, waitForBlock } from "../../indexer/scripts/start.mjs";
import { deploySystem, startAnvil } from "../scripts/chain.mjs";
import { runScenario } from "../scripts/scenario";
import { launchChromium } from "../scripts/browser.mjs";
import { buildDashboard, serveDashboard } from "../scripts/serve.mjs";
import { readChainState, type ChainState } from "./chainState";
import { readIndexedState, type IndexedState } from "./indexerState";
import { startPostgres, type Postgres } from "./postgres";

const OUTPUT = path.resolve(import.meta.dirname, "..", "test-output");

let anvil: Awaited<ReturnType<typeof startAnvil>>;
let deploymentsDir: string;
let chain: ChainState;

before(
  async () => {
    anvil = await startAnvil({ accounts: 20 });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "stack-test-"));
    deploymentsDir = await deploySystem({ rpcUrl: anvil.url, deploymentsRoot: root });
    await runScenario(anvil.url, deploymentsDir);
    chain = await readChainState(anvil.url, deploymentsDir);
  },
  { timeout: 600_000 },
);

after(async () => {
  await anvil?.stop();
});

const sortBy = <T>(rows: T[], key: (r: T) => string) => [...rows].sort((a, b) => key(a).localeCompare(key(b)));
const lower = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : v);

/** The table checks, registered for one database. */
function tableChecks(indexed: () => IndexedState) {
  it("has the scenario's data at all (assets, readings, leases, a vault)", () => {
    assert.ok(
      chain.assets.length >= 3 && chain.readings.length > 80 && chain.leases.length >= 2 && chain.vaults.length >= 1,
    );
    assert.ok(chain.leases.some((l) => l.endReason === "EndedByLessee") && chain.leases.every((l) => l.closed));
  });

  it("has every asset as the NFT reports it: owner, spec, status, user right, vault", () => {
    const rows = indexed().assets.map((a) => ({
      assetId: a.assetId,
      owner: lower(a.owner),
      gpuModel: a.gpuModel,
      datacenter: a.datacenter,
      serialsHash: lower(a.serialsHash),
      vramMiBPerGpu: a.vramMiBPerGpu,
      gpuCount: a.gpuCount,
      tdpWattsPerGpu: a.tdpWattsPerGpu,
      status: a.status,
      userExpires: a.userExpires,
      // The table keeps the last user set; the chain's userOf answers zero once it expired.
      liveUser: a.user !== null && BigInt(a.userExpires as string) > chain.timestamp ? lower(a.user) : null,
      vault: lower(a.vault),
    }));
    assert.deepEqual(
      sortBy(rows, (r) => String(r.assetId)),
      sortBy(chain.assets, (r) => r.assetId),
    );
    assert.ok(indexed().assets.every((a) => a.burned === false));
  });

  it("has every batch and every reading the oracle accepted (rebuilt from logs and calldata by src/meterHistory.ts)", () => {
    assert.equal(indexed().batches.length, chain.batches);
    const key = (r: { assetId: unknown; timestamp: unknown }) =>
      `${r.assetId}-${String(r.timestamp).padStart(12, "0")}`;
    const rows = indexed().readings.map((r) => ({
      assetId: r.assetId,
      timestamp: r.timestamp,
      busyGpuSeconds: r.busyGpuSeconds,
      availableGpuSeconds: r.availableGpuSeconds,
      energyJ: r.energyJ,
    }));
    assert.equal(rows.length, chain.readings.length);
    assert.deepEqual(sortBy(rows, key), sortBy(chain.readings, key));
    for (const [assetId, latest] of Object.entries(chain.latest)) {
      const own = sortBy(
        rows.filter((r) => r.assetId === assetId),
        key,
      ).pop();
      assert.deepEqual(own, latest, `asset ${assetId}`);
    }
  });

  it("has every lease with the escrow's accounts (deposited = charged + refunded + held) and end reason", () => {
    const rows = indexed().leases.map((l) => ({
      leaseId: l.leaseId,
      assetId: l.assetId,
      lessee: lower(l.lessee),
      token: lower(l.token),
      termsVersion: l.termsVersion,
      startTime: l.startTime,
      endTime: l.endTime,
      deposited: l.deposited,
      billed: l.billed,
      charged: l.charged,
      refunded: l.refunded,
      held: String(BigInt(l.deposited as string) - BigInt(l.charged as string) - BigInt(l.refunded as string)),
      disputed: l.disputed,
      endReason: l.endReason,
      closed: l.closed,
      settlements: l.settlements,
    }));
    assert.deepEqual(
      sortBy(rows, (r) => String(r.leaseId)),
      sortBy(chain.leases, (r) => r.leaseId),
    );
    // Every settlement is a bill line; the scenario's dispute billed part of lease 1 without a settlement.
    for (const l of indexed().leases) {
      const lines = indexed().charges.filter((c) => c.leaseId === l.leaseId);
      assert.equal(lines.length, l.settlements);
      const settled = lines.reduce((sum, c) => sum + BigInt(c.charged as string), 0n);
      assert.ok(settled <= BigInt(l.billed as string));
    }
    assert.ok(
      indexed().leases.some((l) => BigInt(l.billed as string) > 0n && BigInt(l.refunded as string) > 0n),
      "a lease billed and refunded",
    );
  });

  it("has every account's withdrawable escrow balance", () => {
    const rows = new Map(indexed().balances.map((b) => [`${lower(b.account)}|${lower(b.token)}`, b.withdrawable]));
    for (const b of chain.balances) {
      assert.equal(rows.get(`${b.account}|${b.token}`) ?? "0", b.withdrawable, `${b.account} ${b.token}`);
    }
    assert.ok(chain.balances.length >= 3, "the scenario credits the vault, the provider and the lessees");
    assert.ok(
      chain.balances.some((b) => b.withdrawable !== "0"),
      "a refund is left to withdraw",
    );
  });

  it("has every vault and holder as the vault reports them: shares, claimed, claimable", () => {
    const vaults = indexed().vaults.map((v) => ({
      address: lower(v.address),
      assetId: v.assetId,
      revenueToken: lower(v.revenueToken),
      manager: lower(v.manager),
      totalShares: v.totalShares,
      totalHarvested: v.totalHarvested,
      totalClaimed: v.totalClaimed,
      revenuePerShareScaled: v.revenuePerShareScaled,
    }));
    assert.deepEqual(
      sortBy(vaults, (v) => String(v.address)),
      sortBy(chain.vaults, (v) => v.address),
    );
    const holders = indexed().holders.map((h) => ({
      vault: lower(h.vault),
      holder: lower(h.holder),
      shares: h.shares,
      claimed: h.claimed,
      claimable: h.claimable,
    }));
    const key = (h: { vault: unknown; holder: unknown }) => `${h.vault}|${h.holder}`;
    assert.deepEqual(sortBy(holders, key), sortBy(chain.holders, key));
    assert.ok(chain.holders.filter((h) => h.claimed !== "0").length >= 2, "the scenario's holders claimed");
    assert.ok(
      chain.holders.some((h) => h.claimable !== "0"),
      "a holder has revenue left to claim",
    );
  });

  it("has every loan as the facility's loanOf states it: terms, status, lender, payments, reserve, claims", () => {
    const rows = indexed().loans.map((l) => ({
      loanId: l.loanId,
      assetId: l.assetId,
      borrower: lower(l.borrower),
      custody: lower(l.custody),
      token: lower(l.token),
      principal: l.principal,
      reserveTarget: l.reserveTarget,
      interestRateBpsPerYear: l.interestRateBpsPerYear,
      status: l.status,
      lender: lower(l.lender),
      startTime: l.startTime ?? "0",
      interestPaid: l.interestPaid,
      principalRepaid: l.principalRepaid,
      reserveBalance: l.reserveBalance,
      borrowerClaimable: l.borrowerClaimable,
      lenderClaimed: l.lenderClaimed,
      lenderRecovered: l.recovered,
    }));
    assert.deepEqual(
      sortBy(rows, (r) => String(r.loanId)),
      sortBy(chain.loans, (r) => r.loanId),
    );
    assert.ok(
      chain.loans.some((l) => l.status === "Repaid" && l.interestPaid !== "0" && l.lenderClaimed !== "0"),
      "the scenario repays a loan with interest and its lender claims",
    );
    // The harvests' waterfall parts add up to what was harvested; what paid the debt is the sum of its parts.
    for (const l of indexed().loans) {
      const n = (k: string) => BigInt(l[k] as string);
      assert.equal(n("toInterest") + n("toPrincipal") + n("toReserve") + n("toBorrower"), n("harvested"));
      assert.ok(n("harvests") > 0n, `loan ${l.loanId} harvested`);
      const history = indexed()
        .loanEvents.filter((e) => e.loanId === l.loanId)
        .map((e) => e.kind);
      for (const kind of [
        "AssetPledged",
        "LoanFunded",
        "RevenueHarvested",
        "PaymentMade",
        "LoanRepaid",
        "LenderClaimed",
      ]) {
        assert.ok(history.includes(kind), `loan ${l.loanId}: ${kind}`);
      }
    }
  });

  it("has every demand-response programme, event and outcome as the programme's views state them", () => {
    const programmes = indexed().programmes.map((p) => ({
      programmeId: p.programmeId,
      sponsor: lower(p.sponsor),
      token: lower(p.token),
      eventCount: p.eventCount,
    }));
    assert.deepEqual(
      sortBy(programmes, (p) => String(p.programmeId)),
      sortBy(chain.programmes, (p) => String(p.programmeId)),
    );
    const members = indexed().members.map((m) => ({
      programmeId: m.programmeId,
      assetId: m.assetId,
      firstEvent: m.firstEvent,
      // The table leaves it empty while the asset is enrolled; memberOf answers 0.
      endEvent: m.endEvent ?? 0,
      lesseeShareBps: m.lesseeShareBps,
    }));
    const memberKey = (m: { programmeId: unknown; assetId: unknown }) => `${m.programmeId}-${m.assetId}`;
    assert.deepEqual(sortBy(members, memberKey), sortBy(chain.members, memberKey));
    const events = indexed().drEvents.map((e) => ({
      programmeId: e.programmeId,
      eventIndex: e.eventIndex,
      noticeTime: e.noticeTime,
      startTime: e.startTime,
      endTime: e.endTime,
      ratePerKWh: e.ratePerKWh,
      committedReductionJ: e.committedReductionJ,
      memberCount: e.memberCount,
      provenCount: e.provenCount,
      status: e.status,
    }));
    const eventKey = (e: { programmeId: unknown; eventIndex: unknown }) => `${e.programmeId}-${e.eventIndex}`;
    assert.deepEqual(sortBy(events, eventKey), sortBy(chain.drEvents, eventKey));
    const outcomes = indexed().outcomes.map((o) => ({
      programmeId: o.programmeId,
      eventIndex: o.eventIndex,
      assetId: o.assetId,
      status: o.status,
      credit: o.credit,
      ownerPaid: o.ownerPaid,
      lesseePaid: o.lesseePaid,
      participant: lower(o.participant),
    }));
    const key = (o: { programmeId: unknown; eventIndex: unknown; assetId: unknown }) =>
      `${o.programmeId}-${o.eventIndex}-${o.assetId}`;
    assert.deepEqual(sortBy(outcomes, key), sortBy(chain.outcomes, key));
    assert.ok(chain.outcomes.length >= 2, "the scenario's event calls two servers");
    assert.ok(
      chain.outcomes.some((o) => o.status === "Credited" && o.credit !== "0" && o.ownerPaid),
      "a server is credited and its owner paid",
    );
    assert.ok(
      chain.outcomes.some((o) => o.status !== "Credited"),
      "a server did not reduce",
    );
    // With no lessee checked in, the owner's part is the whole credit.
    for (const o of indexed().outcomes) {
      if (o.ownerPaid && o.participant === null)
        assert.equal(o.toOwner, o.credit, `${o.programmeId}-${o.eventIndex}-${o.assetId}`);
    }
  });
}

describe("indexer on embedded PGlite", () => {
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let state: IndexedState;
  before(
    async () => {
      indexer = await startIndexer({ rpcUrl: anvil.url, deploymentsDir });
      await waitForBlock(indexer.url, chain.blockNumber);
      state = await readIndexedState(indexer.url);
    },
    { timeout: 300_000 },
  );
  after(async () => {
    await indexer?.stop();
  });
  tableChecks(() => state);
});

describe("indexer on PostgreSQL (DATABASE_URL)", () => {
  let postgres: Postgres;
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let state: IndexedState;
  before(
    async () => {
      postgres = await startPostgres();
      indexer = await startIndexer({ rpcUrl: anvil.url, deploymentsDir, databaseUrl: postgres.url });
      await waitForBlock(indexer.url, chain.blockNumber);
      state = await readIndexedState(indexer.url);
    },
    { timeout: 300_000 },
  );
  after(async () => {
    await indexer?.stop();
    postgres?.stop();
  });
  tableChecks(() => state);

  it("keeps the tables in the PostgreSQL server itself", () => {
    assert.equal(Number(postgres.query("SELECT count(*) FROM public.meter_reading")), chain.readings.length);
    assert.equal(Number(postgres.query("SELECT count(*) FROM public.lease")), chain.leases.length);
    assert.equal(Number(postgres.query("SELECT count(*) FROM public.loan")), chain.loans.length);
    assert.equal(Number(postgres.query("SELECT count(*) FROM public.dr_outcome")), chain.outcomes.length);
    assert.match(postgres.query("SELECT version()"), /^PostgreSQL \d+/);
  });
});

describe("dashboard in Chromium", () => {
  let indexer: Awaited<ReturnType<typeof startIndexer>>;
  let dashboard: Awaited<ReturnType<typeof serveDashboard>>;
  let browser: Browser;
  let page: Page;

  before(
    async () => {
      indexer = await startIndexer({ rpcUrl: anvil.url, deploymentsDir });
      await waitForBlock(indexer.url, chain.blockNumber);
      await buildDashboard();
      dashboard = await serveDashboard({ indexerUrl: indexer.url, rpcUrl: anvil.url, deploymentsDir });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      fs.mkdirSync(OUTPUT, { recursive: true });
    },
    { timeout: 300_000 },
  );
  after(async () => {
    await browser?.close();
    await dashboard?.close();
    await indexer?.stop();
  });

  async function open(hash: string, ready: string): Promise<void> {
    await page.goto(`${dashboard.url}${hash}`);
    await page.waitForSelector(`body[data-ready="${ready}"]`, { timeout: 30_000 });
  }

  /** Cents, rounded half up from base units (an independent re-statement of the page's rule). */
  function cents(amount: bigint, decimals: number): string {
    const unit = 10n ** BigInt(decimals - 2);
    const c = (amount + unit / 2n) / unit;
    return `${(c / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${(c % 100n).toString().padStart(2, "0")}`;
  }

  const pct = (part: number, whole: number) => `${((part / whole) * 100).toFixed(1)} %`;
  /** "1,234.56" or "-16.82" as a count of cents. */
  const toCents = (s: string) => BigInt(s.replace(/[,.]/g, ""));

  it("shows each asset's utilization, availability, energy and kWh per GPU-hour as the chain's meters give them", async () => {
    await open("#/", "fleet");
    for (const a of chain.assets) {
      const own = chain.readings
        .filter((r) => r.assetId === a.assetId)
        .sort((x, y) => Number(x.timestamp) - Number(y.timestamp));
      const first = own[0]!;
      const last = own[own.length - 1]!;
      const busy = Number(last.busyGpuSeconds) - Number(first.busyGpuSeconds);
      const available = Number(last.availableGpuSeconds) - Number(first.availableGpuSeconds);
      const seconds = Number(last.timestamp) - Number(first.timestamp);
      const kwh = (Number(last.energyJ) - Number(first.energyJ)) / 3.6e6;
      const row = page.locator(`#fleet tr[data-asset="${a.assetId}"]`);
      assert.equal(await row.locator("td").nth(1).innerText(), a.gpuModel);
      assert.equal(await row.locator("td").nth(2).innerText(), String(a.gpuCount));
      assert.equal(await row.locator('[data-metric="utilization"]').innerText(), pct(busy, available));
      assert.equal(await row.locator('[data-metric="availability"]').innerText(), pct(available, a.gpuCount * seconds));
      assert.equal(await row.locator('[data-metric="energy"]').innerText(), kwh.toFixed(1));
      assert.equal(
        await row.locator('[data-metric="kwhPerGpuHour"]').innerText(),
        (kwh / (available / 3600)).toFixed(3),
      );
    }
    assert.equal(await page.locator('[data-tile="assets"] .value').innerText(), String(chain.assets.length));
    assert.equal(
      await page.locator('[data-tile="gpus"] .value').innerText(),
      String(chain.assets.reduce((s, a) => s + a.gpuCount, 0)),
    );
    const leasedNow = chain.assets.filter((a) => a.liveUser !== null).length;
    assert.equal(
      await page.locator('[data-tile="leased"] .value').innerText(),
      `${leasedNow} of ${chain.assets.length}`,
    );
    await page.screenshot({ path: path.join(OUTPUT, "fleet.png"), fullPage: true });
  });

  it("decodes the NFT's on-chain metadata, parses its SVG card and renders it", async () => {
    const asset = chain.assets[0]!;
    await open(`#/asset/${asset.assetId}`, "asset");
    const uri = chain.tokenURIs[asset.assetId]!;
    const metadata = JSON.parse(
      Buffer.from(uri.slice("data:application/json;base64,".length), "base64").toString("utf8"),
    );
    const img = page.locator("#nft-card");
    // The page shows exactly the image the chain returns.
    assert.equal(await img.getAttribute("src"), metadata.image);
    const rendered = await img.evaluate(async (el: HTMLImageElement) => {
      await el.decode();
      const svg = atob(el.src.slice("data:image/svg+xml;base64,".length));
      const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
      return {
        width: el.naturalWidth,
        height: el.naturalHeight,
        parseErrors: doc.getElementsByTagName("parsererror").length,
        texts: [...doc.querySelectorAll("text")].map((t) => t.textContent),
      };
    });
    assert.equal(rendered.parseErrors, 0);
    assert.equal(rendered.width, 400);
    assert.equal(rendered.height, 400);
    assert.deepEqual(rendered.texts.slice(0, 4), [
      `GPU SERVER #${asset.assetId}`,
      asset.status,
      asset.gpuModel,
      `${asset.gpuCount} GPUs, ${asset.vramMiBPerGpu} MiB each`,
    ]);
    assert.ok(rendered.texts.includes(asset.datacenter));
    assert.equal(await page.locator('[data-trait="Status"]').innerText(), asset.status);
    assert.equal(
      await page.locator('[data-metric="readings"]').innerText(),
      String(chain.readings.filter((r) => r.assetId === asset.assetId).length),
    );
    assert.equal((await page.locator(".chart canvas").count()) >= 2, true);
    await img.screenshot({ path: path.join(OUTPUT, "nft-card.png") });
    await page.screenshot({ path: path.join(OUTPUT, "asset.png"), fullPage: true });
  });

  it("shows every lease's bill with the escrow's accounts, and the rounded parts add up to the deposit", async () => {
    await open("#/leases", "leases");
    for (const l of chain.leases) {
      const { decimals, symbol } = chain.tokens[l.token]!;
      const cells = page.locator(`article[data-lease="${l.leaseId}"] table.totals td`);
      const [deposited, charged, refunded, held] = await Promise.all([0, 1, 2, 3].map((i) => cells.nth(i).innerText()));
      assert.equal(deposited, cents(BigInt(l.deposited), decimals));
      // Exact values in the tooltips.
      assert.equal(
        await cells.nth(1).getAttribute("title"),
        `${(Number(l.charged) / 10 ** decimals).toFixed(decimals)} ${symbol}`,
      );
      assert.equal(toCents(charged!) + toCents(refunded!) + toCents(held!), toCents(deposited!));
      for (const [shown, exact] of [
        [charged!, BigInt(l.charged)],
        [refunded!, BigInt(l.refunded)],
        [held!, BigInt(l.held)],
      ] as const) {
        // Largest-remainder rounding moves a part by at most one cent from its own rounding.
        const diff = toCents(shown) - toCents(cents(exact, decimals));
        assert.ok(diff >= -1n && diff <= 1n, `lease ${l.leaseId}: ${shown} vs ${exact}`);
      }
      const status = await page.locator(`article[data-lease="${l.leaseId}"] h3 .badge`).innerText();
      assert.equal(status, l.closed ? l.endReason : l.endReason === "None" ? "Open" : `${l.endReason}, closing`);
      const lines = page.locator(`article[data-lease="${l.leaseId}"] table.bill tbody tr`);
      assert.equal(await lines.count(), l.settlements);
      for (let i = 0; i < l.settlements; i++) {
        // Each bill line adds up as shown: reservation + usage + energy + (negative) SLA credit = net.
        const [reservation, usage, energy, credit, net] = await Promise.all(
          [3, 4, 5, 6, 7].map(async (c) => toCents(await lines.nth(i).locator("td").nth(c).innerText())),
        );
        assert.equal(reservation! + usage! + energy! + credit!, net, `lease ${l.leaseId} line ${i + 1}`);
      }
    }
    await page.screenshot({ path: path.join(OUTPUT, "leases.png"), fullPage: true });
  });

  it("shows every vault holder's claimed and claimable revenue as the vault reports them", async () => {
    await open("#/vaults", "vaults");
    for (const v of chain.vaults) {
      const decimals = chain.tokens[v.revenueToken]?.decimals ?? 6;
      let claimedShown = 0n;
      for (const h of chain.holders.filter((x) => x.vault === v.address && (x.shares !== "0" || x.claimed !== "0"))) {
        const cells = page.locator(`article[data-vault="${v.address}"] tr[data-holder="${h.holder}"] td`);
        assert.equal(await cells.nth(1).innerText(), pct(Number(h.shares), Number(v.totalShares)));
        const claimed = toCents(await cells.nth(2).innerText());
        const diff = claimed - toCents(cents(BigInt(h.claimed), decimals));
        assert.ok(diff >= -1n && diff <= 1n, `${h.holder} claimed`);
        claimedShown += claimed;
        assert.equal(await cells.nth(3).innerText(), cents(BigInt(h.claimable), decimals));
      }
      // The column adds up to the vault's total, as shown.
      const totals = page.locator(`article[data-vault="${v.address}"] table.totals td`);
      assert.equal(await totals.nth(1).innerText(), cents(BigInt(v.totalClaimed), decimals));
      assert.equal(claimedShown, toCents(cents(BigInt(v.totalClaimed), decimals)));
    }
    await page.screenshot({ path: path.join(OUTPUT, "vaults.png"), fullPage: true });
  });

  it("shows every loan and every demand-response outcome with the chain's status and amounts", async () => {
    await open("#/credit", "credit");
    assert.ok(chain.loans.length > 0 && chain.outcomes.length > 0);
    for (const l of chain.loans) {
      const { decimals } = chain.tokens[l.token]!;
      const row = page.locator(`table.loans tr[data-loan="${l.loanId}"]`);
      assert.equal(await row.locator('[data-field="status"]').innerText(), l.status);
      const cells = row.locator("td");
      assert.equal(await cells.nth(4).innerText(), cents(BigInt(l.principal), decimals));
      assert.equal(await cells.nth(7).innerText(), cents(BigInt(l.interestPaid), decimals));
      assert.equal(await cells.nth(8).innerText(), cents(BigInt(l.principalRepaid), decimals));
    }
    for (const o of chain.outcomes) {
      const token = chain.programmes.find((p) => p.programmeId === o.programmeId)!.token;
      const { decimals } = chain.tokens[token]!;
      const row = page.locator(`article[data-event="${o.programmeId}-${o.eventIndex}"] tr[data-asset="${o.assetId}"]`);
      assert.equal(await row.locator('[data-field="status"]').innerText(), o.status);
      assert.equal(await row.locator("td").nth(3).innerText(), cents(BigInt(o.credit), decimals));
    }
    await page.screenshot({ path: path.join(OUTPUT, "credit.png"), fullPage: true });
  });
});
