/**
 * The dashboard: five pages over the indexer's API, routed by the URL hash.
 *
 * - `#/` fleet: per asset utilization, availability, energy and kWh per GPU-hour over its metered history
 * - `#/asset/<id>`: the NFT's on-chain card, its spec, time-series charts of its meters, its leases
 * - `#/leases`: every lease with its bill (one line per settled window) and its accounts
 * - `#/vaults`: every vault with its holders' shares, claimed and claimable revenue
 * - `#/credit`: every loan against an asset (credit facility) and every demand-response event with its outcomes
 *
 * `document.body.dataset.ready` is set to the page's name once its data is on screen (the browser test
 * and the bench wait for it).
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import {
  decodeMetadata,
  fleet,
  graphql,
  graphqlAll,
  loadConfig,
  tokenInfo,
  tokenURI,
  type DashboardConfig,
  type TokenInfo,
} from "./api";
import {
  exactAmount,
  formatAmount,
  formatBps,
  formatNumber,
  formatPercent,
  formatTime,
  roundParts,
  roundToShown,
  shortAddress,
  writeShown,
} from "./format";
import { intervalSeries, spanFigures, type Reading } from "./metrics";

interface AssetRow {
  assetId: string;
  owner: string;
  gpuModel: string;
  datacenter: string;
  vramMiBPerGpu: number;
  gpuCount: number;
  tdpWattsPerGpu: number;
  status: string;
  user: string | null;
  userExpires: string;
  vault: string | null;
  burned: boolean;
}

interface ReadingRow {
  timestamp: string;
  busyGpuSeconds: string;
  availableGpuSeconds: string;
  energyJ: string;
}

interface LeaseRow {
  leaseId: string;
  assetId: string;
  lessee: string;
  token: string;
  termsVersion: number;
  startTime: string;
  endTime: string;
  deposited: string;
  billed: string;
  billedUntil: string;
  charged: string;
  refunded: string;
  disputed: string;
  settlements: number;
  endReason: string;
  closed: boolean;
}

/** One settlement: the lease's whole bill up to `billedUntil` (cumulative) and what it charged. */
interface ChargeRow {
  leaseId: string;
  fromTimestamp: string;
  billedUntil: string;
  meteredSeconds: string;
  availabilityBps: number;
  reservationFee: string;
  usageFee: string;
  energyFee: string;
  slaCredit: string;
  total: string;
  charged: string;
}

interface VaultRow {
  address: string;
  assetId: string;
  revenueToken: string;
  manager: string;
  totalShares: string;
  totalHarvested: string;
  totalClaimed: string;
  harvests: number;
}

interface HolderRow {
  vault: string;
  holder: string;
  shares: string;
  claimed: string;
  claimable: string;
}

const ASSET_FIELDS =
  "assetId owner gpuModel datacenter vramMiBPerGpu gpuCount tdpWattsPerGpu status user userExpires vault burned";
const READING_FIELDS = "timestamp busyGpuSeconds availableGpuSeconds energyJ";
const LEASE_FIELDS =
  "leaseId assetId lessee token termsVersion startTime endTime deposited billed billedUntil charged refunded disputed settlements endReason closed";
const CHARGE_FIELDS =
  "leaseId fromTimestamp billedUntil meteredSeconds availabilityBps reservationFee usageFee energyFee slaCredit total charged";

const app = document.querySelector<HTMLDivElement>("#app")!;

/** Escapes text for innerHTML. */
function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function toReading(r: ReadingRow): Reading {
  return {
    timestamp: BigInt(r.timestamp),
    busyGpuSeconds: BigInt(r.busyGpuSeconds),
    availableGpuSeconds: BigInt(r.availableGpuSeconds),
    energyJ: BigInt(r.energyJ),
  };
}

/** An amount cell: rounded to cents, the exact value in the tooltip. */
function amountCell(amount: bigint, token: TokenInfo, rounded?: bigint): string {
  const shown = rounded === undefined ? formatAmount(amount, token.decimals) : writeShown(rounded);
  return `<td class="num" title="${exactAmount(amount, token.decimals)} ${esc(token.symbol)}">${shown}</td>`;
}

async function chainTime(config: DashboardConfig): Promise<bigint> {
  const res = await fetch(config.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBlockByNumber", params: ["latest", false] }),
  });
  const body = (await res.json()) as { result: { timestamp: string } };
  return BigInt(body.result.timestamp);
}

function nav(active: string): string {
  const link = (href: string, label: string, key: string) =>
    `<a href="${href}" class="${active === key ? "active" : ""}">${label}</a>`;
  return `<nav>${link("#/", "Fleet", "fleet")}${link("#/leases", "Leases", "leases")}${link("#/vaults", "Vaults", "vaults")}${link("#/credit", "Credit & grid", "credit")}</nav>`;
}

function shell(active: string, title: string, body: string, network: string): void {
  app.innerHTML = `
    <header><div class="brand">Compute RWA</div>${nav(active)}<div class="network">${esc(network)}</div></header>
    <main><h1>${esc(title)}</h1>${body}</main>`;
}

// ─── Fleet ───────────────────────────────────────────────────────────────────────────────────────

/** Assets per page of the fleet table (the totals cover the whole fleet). */
const FLEET_PAGE_SIZE = 100;

async function fleetPage(config: DashboardConfig, page = 1): Promise<void> {
  const [assets, now] = await Promise.all([fleet(config), chainTime(config)]);
  performance.mark("fleet:data");
  const live = assets.filter((a) => !a.burned);
  let busy = 0;
  let available = 0;
  let energy = 0;
  let gpuSpanHours = 0;
  let leased = 0;
  const pages = Math.max(1, Math.ceil(live.length / FLEET_PAGE_SIZE));
  const shown = Math.min(Math.max(1, page), pages);
  const firstShown = (shown - 1) * FLEET_PAGE_SIZE;
  const rows = live.map((a, index) => {
    const first = a.first ?? undefined;
    const last = a.last ?? undefined;
    const count = a.readings;
    const f = spanFigures(first && last ? [toReading(first), toReading(last)] : [], a.gpuCount);
    busy += f.busyGpuHours;
    available += f.availableGpuHours;
    energy += f.energyKwh;
    gpuSpanHours += (a.gpuCount * f.seconds) / 3600;
    const isLeased = a.user !== null && BigInt(a.userExpires) > now;
    if (isLeased) leased++;
    if (index < firstShown || index >= firstShown + FLEET_PAGE_SIZE) return "";
    return `<tr data-asset="${a.assetId}">
      <td><a href="#/asset/${a.assetId}">#${a.assetId}</a></td>
      <td>${esc(a.gpuModel)}</td>
      <td class="num">${a.gpuCount}</td>
      <td>${esc(a.datacenter || "(none)")}</td>
      <td><span class="badge ${esc(a.status.toLowerCase())}">${esc(a.status)}</span>${isLeased ? ' <span class="badge leased">Leased</span>' : ""}</td>
      <td>${a.vault ? `vault <code>${shortAddress(a.vault)}</code>` : `<code>${shortAddress(a.owner)}</code>`}</td>
      <td class="num" data-metric="utilization">${formatPercent(f.utilization)}</td>
      <td class="num" data-metric="availability">${formatPercent(f.availability)}</td>
      <td class="num" data-metric="energy">${formatNumber(f.energyKwh, 1)}</td>
      <td class="num" data-metric="kwhPerGpuHour">${formatNumber(f.kwhPerGpuHour, 3)}</td>
      <td class="num">${count}</td>
      <td>${last ? formatTime(BigInt(last.timestamp)) : "–"}</td>
    </tr>`;
  });
  const gpus = live.reduce((s, a) => s + a.gpuCount, 0);
  const tiles = [
    ["Assets", String(live.length), "assets"],
    ["GPUs", String(gpus), "gpus"],
    ["Leased now", `${leased} of ${live.length}`, "leased"],
    ["Utilization", formatPercent(available > 0 ? busy / available : NaN), "utilization"],
    ["Availability", formatPercent(gpuSpanHours > 0 ? available / gpuSpanHours : NaN), "availability"],
    ["Energy", `${formatNumber(energy, 1)} kWh`, "energy"],
  ]
    .map(
      ([label, value, key]) =>
        `<div class="tile" data-tile="${key}"><div class="label">${label}</div><div class="value">${value}</div></div>`,
    )
    .join("");
  shell(
    "fleet",
    "Fleet",
    `<section class="tiles">${tiles}</section>
     <table class="grid" id="fleet">
       <thead><tr><th>Asset</th><th>GPU model</th><th>GPUs</th><th>Datacenter</th><th>Status</th><th>Owner</th>
       <th>Utilization</th><th>Availability</th><th>Energy (kWh)</th><th>kWh per GPU-hour</th><th>Readings</th><th>Last reading (UTC)</th></tr></thead>
       <tbody>${rows.join("")}</tbody>
     </table>
     ${
       pages > 1
         ? `<p class="pager" data-page="${shown}">${shown > 1 ? `<a href="#/page/${shown - 1}">← previous</a>` : ""}
            assets ${firstShown + 1}–${Math.min(firstShown + FLEET_PAGE_SIZE, live.length)} of ${live.length}
            ${shown < pages ? `<a href="#/page/${shown + 1}">next →</a>` : ""}</p>`
         : ""
     }
     <p class="note">Over each asset's metered history (first to last accepted reading). Utilization: busy ÷ available
     GPU-seconds. Availability: available GPU-seconds ÷ (GPUs × elapsed). kWh per GPU-hour: energy ÷ available GPU-hours.</p>`,
    config.network,
  );
}

// ─── Asset ───────────────────────────────────────────────────────────────────────────────────────

async function assetPage(config: DashboardConfig, id: string): Promise<void> {
  const data = await graphql<{ asset: AssetRow | null; leases: { items: LeaseRow[] } }>(
    config,
    `{ asset(assetId: "${id}") { ${ASSET_FIELDS} }
       leases(where: { assetId: "${id}" }, orderBy: "leaseId", orderDirection: "asc", limit: 1000) { items { ${LEASE_FIELDS} } } }`,
  );
  const a = data.asset;
  if (!a) {
    shell("fleet", `Asset #${id}`, `<p>No such asset.</p>`, config.network);
    return;
  }
  const [rows, metadata] = await Promise.all([
    graphqlAll<ReadingRow>(
      config,
      "meterReadings",
      `where: { assetId: "${id}" }, orderBy: "timestamp", orderDirection: "asc"`,
      READING_FIELDS,
    ),
    a.burned ? Promise.resolve(null) : tokenURI(config, BigInt(id)).then(decodeMetadata),
  ]);
  const readings = rows.map(toReading);
  const f = spanFigures(readings, a.gpuCount);
  const leaseRows = await leaseTable(config, data.leases.items, false);
  shell(
    "fleet",
    `Asset #${a.assetId}: ${a.gpuCount} x ${a.gpuModel}`,
    `<section class="asset">
       <figure class="card">${metadata ? `<img id="nft-card" alt="${esc(metadata.name)}" src="${esc(metadata.image)}" width="300" height="300"/>` : "burned"}
         <figcaption>${metadata ? esc(metadata.name) : ""}</figcaption></figure>
       <table class="spec">
         ${(metadata?.attributes ?? [])
           .map(
             (t) => `<tr><th>${esc(t.trait_type)}</th><td data-trait="${esc(t.trait_type)}">${esc(t.value)}</td></tr>`,
           )
           .join("")}
         <tr><th>Owner</th><td><code>${esc(a.owner)}</code></td></tr>
         <tr><th>Utilization</th><td data-metric="utilization">${formatPercent(f.utilization)}</td></tr>
         <tr><th>Availability</th><td data-metric="availability">${formatPercent(f.availability)}</td></tr>
         <tr><th>Energy</th><td data-metric="energy">${formatNumber(f.energyKwh, 1)} kWh</td></tr>
         <tr><th>kWh per GPU-hour</th><td data-metric="kwhPerGpuHour">${formatNumber(f.kwhPerGpuHour, 3)}</td></tr>
         <tr><th>Readings</th><td data-metric="readings">${readings.length}</td></tr>
       </table>
     </section>
     <h2>Meters</h2>
     <div class="chart" id="chart-ratio"></div>
     <div class="chart" id="chart-power"></div>
     <h2>Leases</h2>${leaseRows}`,
    config.network,
  );
  const series = intervalSeries(readings, a.gpuCount);
  const width = Math.min(1100, app.clientWidth - 40);
  const axes = [
    { stroke: "#8aa0c8", grid: { stroke: "#1f2a44" } },
    { stroke: "#8aa0c8", grid: { stroke: "#1f2a44" } },
  ];
  new uPlot(
    {
      title: "Utilization and availability per interval (%)",
      width,
      height: 240,
      scales: { y: { range: [0, 100] } },
      axes,
      series: [
        {},
        { label: "Utilization %", stroke: "#3b82f6", width: 2 },
        { label: "Availability %", stroke: "#22c55e", width: 2 },
      ],
    },
    [series.time, series.utilizationPct, series.availabilityPct] as uPlot.AlignedData,
    document.getElementById("chart-ratio")!,
  );
  new uPlot(
    {
      title: "Mean power per interval (kW) and cumulative energy (kWh)",
      width,
      height: 240,
      axes: [...axes, { scale: "kwh", side: 1, stroke: "#f59e0b", grid: { show: false } }],
      series: [
        {},
        { label: "Power kW", stroke: "#f59e0b", width: 2 },
        { label: "Energy kWh", stroke: "#a78bfa", width: 2, scale: "kwh" },
      ],
    },
    [series.time, series.powerKw, series.energyKwh] as uPlot.AlignedData,
    document.getElementById("chart-power")!,
  );
}

// ─── Leases ──────────────────────────────────────────────────────────────────────────────────────

/** "Open" while running, the end reason once closed, "<reason>, closing" between an early end and the close. */
function leaseStatus(l: { endReason: string; closed: boolean }): string {
  if (l.closed) return l.endReason;
  return l.endReason === "None" ? "Open" : `${l.endReason}, closing`;
}

async function leaseTable(config: DashboardConfig, leases: LeaseRow[], withAsset: boolean): Promise<string> {
  if (leases.length === 0) return "<p>No leases.</p>";
  const charges = await graphqlAll<ChargeRow>(
    config,
    "leaseCharges",
    `where: { leaseId_in: [${leases.map((l) => `"${l.leaseId}"`).join(",")}] }, orderBy: "billedUntil", orderDirection: "asc"`,
    CHARGE_FIELDS,
  );
  const out: string[] = [];
  for (const l of leases) {
    const token = await tokenInfo(config, l.token);
    const deposited = BigInt(l.deposited);
    const charged = BigInt(l.charged);
    const refunded = BigInt(l.refunded);
    const held = deposited - charged - refunded;
    // The three parts of the deposit, rounded so that they add up to the rounded deposit.
    const [c, r, h] = roundParts(deposited, [charged, refunded, held], token.decimals);
    // Each settlement's line is the increase of the (cumulative) bill since the previous one.
    const own = charges.filter((x) => x.leaseId === l.leaseId);
    const lines = own
      .map((x, i) => {
        const prev = own[i - 1];
        const delta = (field: "reservationFee" | "usageFee" | "energyFee" | "slaCredit" | "total" | "meteredSeconds") =>
          BigInt(x[field]) - (prev ? BigInt(prev[field]) : 0n);
        const fees = [delta("reservationFee"), delta("usageFee"), delta("energyFee")];
        const net = delta("total");
        // The line adds up as shown: the three fees split their rounded sum, and the SLA credit is what
        // separates that sum from the rounded net (net = fees - credit, exactly).
        const feesShown = fees.every((f) => f >= 0n)
          ? roundParts(fees[0]! + fees[1]! + fees[2]!, fees, token.decimals)
          : fees.map((f) => roundToShown(f, token.decimals));
        const netShown = roundToShown(net, token.decimals);
        const creditShown = netShown - feesShown[0]! - feesShown[1]! - feesShown[2]!;
        return `<tr>
          <td>${formatTime(prev ? BigInt(prev.billedUntil) : BigInt(l.startTime))} → ${formatTime(BigInt(x.billedUntil))}</td>
          <td class="num">${formatNumber(Number(delta("meteredSeconds")) / 3600, 2)}</td>
          <td class="num">${formatBps(x.availabilityBps)}</td>
          ${fees.map((f, k) => amountCell(f, token, feesShown[k])).join("")}
          ${amountCell(-delta("slaCredit"), token, creditShown)}${amountCell(net, token, netShown)}${amountCell(BigInt(x.charged), token)}
        </tr>`;
      })
      .join("");
    out.push(`<article class="lease" data-lease="${l.leaseId}">
      <h3>Lease #${l.leaseId}${withAsset ? ` · <a href="#/asset/${l.assetId}">asset #${l.assetId}</a>` : ""}
        <span class="badge ${l.closed ? "ended" : "open"}">${esc(leaseStatus(l))}</span></h3>
      <p class="meta">lessee <code>${esc(l.lessee)}</code> · ${formatTime(BigInt(l.startTime))} → ${formatTime(BigInt(l.endTime))} UTC ·
        terms v${l.termsVersion} · ${esc(token.symbol)}</p>
      <table class="grid totals"><thead><tr><th>Deposited</th><th>Charged</th><th>Refunded</th><th>Held</th><th>Settlements</th></tr></thead>
        <tbody><tr>${amountCell(deposited, token)}${amountCell(charged, token, c)}${amountCell(refunded, token, r)}${amountCell(held, token, h)}
        <td class="num">${l.settlements}</td></tr></tbody></table>
      ${
        lines
          ? `<table class="grid bill"><thead><tr><th>Metered window (UTC)</th><th>Hours</th><th>Availability (lease to date)</th><th>Reservation</th>
             <th>Usage</th><th>Energy</th><th>SLA credit</th><th>Net</th><th>Charged</th></tr></thead><tbody>${lines}</tbody></table>`
          : ""
      }
    </article>`);
  }
  return out.join("");
}

async function leasesPage(config: DashboardConfig): Promise<void> {
  const leases = await graphqlAll<LeaseRow>(
    config,
    "leases",
    `orderBy: "leaseId", orderDirection: "asc"`,
    LEASE_FIELDS,
  );
  shell("leases", "Leases", await leaseTable(config, leases, true), config.network);
}

// ─── Vaults ──────────────────────────────────────────────────────────────────────────────────────

async function vaultsPage(config: DashboardConfig): Promise<void> {
  const [vaults, holders] = await Promise.all([
    graphqlAll<VaultRow>(
      config,
      "vaults",
      `orderBy: "assetId", orderDirection: "asc"`,
      "address assetId revenueToken manager totalShares totalHarvested totalClaimed harvests",
    ),
    graphqlAll<HolderRow>(config, "vaultHolders", "", "vault holder shares claimed claimable"),
  ]);
  const out: string[] = [];
  for (const v of vaults) {
    const token = await tokenInfo(config, v.revenueToken);
    const total = BigInt(v.totalShares);
    const own = holders
      .filter((h) => h.vault === v.address && (BigInt(h.shares) > 0n || BigInt(h.claimed) > 0n))
      .sort((a, b) => (BigInt(b.shares) > BigInt(a.shares) ? 1 : BigInt(b.shares) < BigInt(a.shares) ? -1 : 0));
    // The claimed column adds up to the vault's rounded total claimed.
    const claimedShown = roundParts(
      BigInt(v.totalClaimed),
      own.map((h) => BigInt(h.claimed)),
      token.decimals,
    );
    const rows = own
      .map(
        (h, i) => `<tr data-holder="${h.holder}">
          <td><code>${esc(h.holder)}</code></td>
          <td class="num">${formatPercent(Number((BigInt(h.shares) * 1_000_000n) / total) / 1_000_000)}</td>
          ${amountCell(BigInt(h.claimed), token, claimedShown[i])}${amountCell(BigInt(h.claimable), token)}
        </tr>`,
      )
      .join("");
    out.push(`<article class="vault" data-vault="${v.address}">
      <h3>Vault of <a href="#/asset/${v.assetId}">asset #${v.assetId}</a> <code>${esc(v.address)}</code></h3>
      <table class="grid totals"><thead><tr><th>Harvested</th><th>Claimed</th><th>Harvests</th><th>Token</th></tr></thead>
        <tbody><tr>${amountCell(BigInt(v.totalHarvested), token)}${amountCell(BigInt(v.totalClaimed), token)}
        <td class="num">${v.harvests}</td><td>${esc(token.symbol)}</td></tr></tbody></table>
      <table class="grid holders"><thead><tr><th>Holder</th><th>Share</th><th>Claimed</th><th>Claimable</th></tr></thead>
        <tbody>${rows}</tbody></table>
    </article>`);
  }
  shell("vaults", "Vaults", out.join("") || "<p>No vaults.</p>", config.network);
}

// ─── Credit & grid ───────────────────────────────────────────────────────────────────────────────

interface LoanRow {
  loanId: string;
  assetId: string;
  borrower: string;
  token: string;
  status: string;
  lender: string | null;
  principal: string;
  interestRateBpsPerYear: number;
  harvested: string;
  interestPaid: string;
  principalRepaid: string;
  toBorrower: string;
  reserveBalance: string;
  principalWrittenOff: string | null;
  foreclosedTo: string | null;
}

interface DrEventRow {
  programmeId: number;
  eventIndex: number;
  noticeTime: string;
  startTime: string;
  endTime: string;
  ratePerKWh: string;
  committedReductionJ: string;
  memberCount: number;
  status: string;
  reserved: string;
}

interface DrOutcomeRow {
  programmeId: number;
  eventIndex: number;
  assetId: string;
  status: string;
  reductionJ: string | null;
  credit: string;
  toOwner: string;
  toLessee: string;
  ownerPaid: boolean;
  lesseePaid: boolean;
}

/** Joules as kWh, three decimals. */
const kWh = (joules: string | null) => (joules === null ? "—" : formatNumber(Number(joules) / 3.6e6, 3));

async function creditPage(config: DashboardConfig): Promise<void> {
  const [loans, programmes, events, outcomes] = await Promise.all([
    graphqlAll<LoanRow>(
      config,
      "loans",
      `orderBy: "loanId", orderDirection: "asc"`,
      "loanId assetId borrower token status lender principal interestRateBpsPerYear harvested interestPaid principalRepaid toBorrower reserveBalance principalWrittenOff foreclosedTo",
    ),
    graphqlAll<{ programmeId: number; token: string; sponsor: string }>(
      config,
      "drProgrammes",
      "",
      "programmeId token sponsor",
    ),
    graphqlAll<DrEventRow>(
      config,
      "drEvents",
      "",
      "programmeId eventIndex noticeTime startTime endTime ratePerKWh committedReductionJ memberCount status reserved",
    ),
    graphqlAll<DrOutcomeRow>(
      config,
      "drOutcomes",
      "",
      "programmeId eventIndex assetId status reductionJ credit toOwner toLessee ownerPaid lesseePaid",
    ),
  ]);
  const loanRows: string[] = [];
  for (const l of loans) {
    const token = await tokenInfo(config, l.token);
    loanRows.push(`<tr data-loan="${l.loanId}">
      <td class="num">${l.loanId}</td><td><a href="#/asset/${l.assetId}">#${l.assetId}</a></td>
      <td><code title="${esc(l.borrower)}">${esc(shortAddress(l.borrower))}</code></td>
      <td data-field="status">${esc(l.status)}</td>
      ${amountCell(BigInt(l.principal), token)}<td class="num">${formatBps(l.interestRateBpsPerYear)}</td>
      ${amountCell(BigInt(l.harvested), token)}${amountCell(BigInt(l.interestPaid), token)}
      ${amountCell(BigInt(l.principalRepaid), token)}${amountCell(BigInt(l.toBorrower), token)}
      ${amountCell(BigInt(l.reserveBalance), token)}
      <td>${l.lender ? `<code title="${esc(l.lender)}">${esc(shortAddress(l.lender))}</code>` : "—"}</td>
      <td>${l.foreclosedTo ? `<code title="${esc(l.foreclosedTo)}">${esc(shortAddress(l.foreclosedTo))}</code>` : "—"}</td>
    </tr>`);
  }
  const loanTable = loans.length
    ? `<table class="grid loans"><thead><tr><th>Loan</th><th>Asset</th><th>Borrower</th><th>Status</th><th>Principal</th>
        <th>Rate / yr</th><th>Harvested</th><th>Interest paid</th><th>Principal repaid</th><th>To borrower</th>
        <th>Reserve</th><th>Lender</th><th>Foreclosed to</th></tr></thead><tbody>${loanRows.join("")}</tbody></table>`
    : "<p>No loans.</p>";
  const eventArticles: string[] = [];
  const sorted = [...events].sort((a, b) => a.programmeId - b.programmeId || a.eventIndex - b.eventIndex);
  for (const e of sorted) {
    const programme = programmes.find((p) => p.programmeId === e.programmeId);
    if (!programme) continue;
    const token = await tokenInfo(config, programme.token);
    const own = outcomes
      .filter((o) => o.programmeId === e.programmeId && o.eventIndex === e.eventIndex)
      .sort((a, b) => Number(BigInt(a.assetId) - BigInt(b.assetId)));
    const rows = own
      .map(
        (o) => `<tr data-asset="${o.assetId}">
          <td><a href="#/asset/${o.assetId}">#${o.assetId}</a></td><td data-field="status">${esc(o.status)}</td>
          <td class="num">${kWh(o.reductionJ)}</td>${amountCell(BigInt(o.credit), token)}
          ${amountCell(BigInt(o.toOwner), token)}${amountCell(BigInt(o.toLessee), token)}
          <td>${o.ownerPaid ? "owner" : ""}${o.ownerPaid && o.lesseePaid ? ", " : ""}${o.lesseePaid ? "lessee" : ""}</td>
        </tr>`,
      )
      .join("");
    eventArticles.push(`<article class="dr-event" data-event="${e.programmeId}-${e.eventIndex}">
      <h3>Programme ${e.programmeId}, event ${e.eventIndex} <span class="status">${esc(e.status)}</span></h3>
      <table class="grid totals"><thead><tr><th>Notice</th><th>Start</th><th>End</th><th>Rate / kWh</th>
        <th>Committed kWh</th><th>Assets called</th><th>Reserved</th></tr></thead>
        <tbody><tr><td>${formatTime(BigInt(e.noticeTime))}</td><td>${formatTime(BigInt(e.startTime))}</td>
        <td>${formatTime(BigInt(e.endTime))}</td>${amountCell(BigInt(e.ratePerKWh), token)}
        <td class="num">${kWh(e.committedReductionJ)}</td><td class="num">${e.memberCount}</td>
        ${amountCell(BigInt(e.reserved), token)}</tr></tbody></table>
      <table class="grid outcomes"><thead><tr><th>Asset</th><th>Outcome</th><th>Reduction kWh</th><th>Credit</th>
        <th>To owner</th><th>To lessee</th><th>Paid</th></tr></thead><tbody>${rows}</tbody></table>
    </article>`);
  }
  shell(
    "credit",
    "Credit & grid",
    `<h2>Loans</h2>${loanTable}<h2>Demand-response events</h2>${eventArticles.join("") || "<p>No events.</p>"}`,
    config.network,
  );
}

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────

let configPromise: Promise<DashboardConfig> | null = null;

async function route(): Promise<void> {
  delete document.body.dataset.ready;
  const config = await (configPromise ??= loadConfig());
  const hash = location.hash.replace(/^#/, "") || "/";
  const asset = /^\/asset\/(\d+)$/.exec(hash);
  const fleetPageNumber = /^\/page\/(\d+)$/.exec(hash);
  try {
    if (asset) await assetPage(config, asset[1]!);
    else if (hash === "/leases") await leasesPage(config);
    else if (hash === "/vaults") await vaultsPage(config);
    else if (hash === "/credit") await creditPage(config);
    else await fleetPage(config, fleetPageNumber ? Number(fleetPageNumber[1]) : 1);
    performance.mark("page:ready");
    document.body.dataset.ready = asset ? "asset" : hash === "/" || fleetPageNumber ? "fleet" : hash.slice(1);
  } catch (error) {
    app.innerHTML = `<main><h1>Error</h1><pre class="error">${esc((error as Error).message)}</pre></main>`;
    document.body.dataset.ready = "error";
  }
}

window.addEventListener("hashchange", () => void route());
void route();
