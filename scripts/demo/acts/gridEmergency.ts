/**
 * Demo act "grid emergency" (issue 17): on day two the grid operator calls a 30-minute-notice
 * curtailment (ERCOT's slower ERS product) through its demand-response programme. The server leased on
 * curtailable terms steps down; the lessee checks in; after the event its reduction is proven from the
 * oracle's meters and paid — split between the owner and the lessee as the owner's enrolment says —
 * and the lease is not billed the reservation of the curtailed time. A server on plain terms keeps
 * running and is recorded as non-compliant, its bill untouched. The act ends with the energy table:
 * energy metered, kWh per busy and per available GPU-hour, the energy charge, the reservation not
 * billed, and the credit.
 *
 * Context the act needs (`GridEmergencyInput`), all deployed and wired by the demo:
 * - `programme`: the DemandResponseProgramme, holding the escrow's PROGRAMME_ROLE;
 * - `escrow`, `nft`: the system's escrow and NFT;
 * - `sponsor`: a signer with the programme's SPONSOR_ROLE holding `funds` of `token` (the act creates
 *   a programme in `token`, deposits `funds` and enrols both servers);
 * - `owner`: the NFT owner of the curtailable server (it sets its lessee's share of credits,
 *   `lesseeShareBps`);
 * - `token`: the stablecoin (the leases' and the programme's);
 * - `curtailable`: an asset leased on curtailable terms naming the programme the act creates (the
 *   contract's next id, `programmeCount() + 1`, known before the act runs, so the demo publishes the
 *   terms and opens the lease first), and the lease id;
 * - `plain`: an asset leased on plain terms, and the lease id (enrolled too: it is called and does
 *   not curtail);
 * - both leases must run past the event (the act announces at the chain's time, for 30 minutes later,
 *   for 2 hours).
 *
 * Ports (`GridEmergencyPorts`), the demo's machinery:
 * - `advance(to, curtailed, boundaries)`: moves the chain to `to` while the oracle keeps metering every
 *   asset (the demo's feeder), posting a reading exactly at each time of `boundaries` as well (the
 *   feeder's demand-response hook, `boundaryPostTimes`); the assets in `curtailed` draw idle power
 *   from the first boundary to the last;
 * - `history()`: the meter history read from the chain (`fetchMeterHistory`), for the proofs;
 * - `keeper`: any signer, sending the check-in, the proofs and the claims;
 * - `log(line)`: one line of narrative or of the table.
 */
import type { Signer } from "ethers";
import type { DemandResponseProgramme, GpuAssetNFT, SettlementEscrow } from "../../../typechain-types";
import { IERC20Metadata__factory, UsageOracle__factory } from "../../../typechain-types";
import {
  BaselineRule,
  OutcomeStatus,
  boundaryPostTimes,
  eventTimes,
  reductionProofs,
  toStoredEvent,
  type StoredEvent,
} from "../../../src/demandResponse";
import { leaseEfficiency, energyCharge, formatKWh } from "../../../src/energy";
import { leaseProofs, type MeterHistory } from "../../../src/meterHistory";

const MINUTE = 60n;
const HOUR = 3_600n;
const JOULES_PER_KWH = 3_600_000n;

export interface LeasedAsset {
  assetId: bigint;
  leaseId: bigint;
}

export interface GridEmergencyInput {
  programme: DemandResponseProgramme;
  escrow: SettlementEscrow;
  nft: GpuAssetNFT;
  token: string;
  sponsor: Signer;
  owner: Signer;
  curtailable: LeasedAsset;
  plain: LeasedAsset;
  /** Deposited into the programme (token base units). */
  funds: bigint;
  /** Pay per kWh reduced (token base units); default 0.50 of a 6-decimal token. */
  ratePerKWh?: bigint;
  /** The most reduction paid per asset, joules; default 8 kWh. */
  committedReductionJ?: bigint;
  /** The lessee's share of the credit, bps; default 3000. */
  lesseeShareBps?: number;
}

export interface GridEmergencyPorts {
  advance(to: bigint, curtailed: ReadonlySet<bigint>, boundaries: readonly bigint[]): Promise<void>;
  history(): Promise<MeterHistory>;
  keeper: Signer;
  log(line: string): void;
}

export interface GridEmergencyRow {
  leaseId: string;
  assetId: string;
  terms: "curtailable" | "plain";
  energyKWh: string;
  kwhPerBusyGpuHour: string;
  kwhPerAvailableGpuHour: string;
  energyCharge: string;
  reservationNotBilled: string;
  outcome: string;
  credit: string;
  toOwner: string;
  toLessee: string;
}

export interface GridEmergencyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GridEmergencySummary {
  programmeId: number;
  eventIndex: number;
  notice: string;
  start: string;
  end: string;
  rows: GridEmergencyRow[];
  checks: GridEmergencyCheck[];
}

async function stored(
  programme: DemandResponseProgramme,
  programmeId: number,
  eventIndex: number,
): Promise<StoredEvent> {
  return toStoredEvent(await programme.eventOf(programmeId, eventIndex));
}

/** Runs the act; returns the table rows and the act's own audit (every check must pass). */
export async function gridEmergencyAct(
  input: GridEmergencyInput,
  ports: GridEmergencyPorts,
): Promise<GridEmergencySummary> {
  const { programme, escrow, nft, sponsor, owner, curtailable, plain } = input;
  const token = IERC20Metadata__factory.connect(input.token, sponsor);
  const decimals = Number(await token.decimals());
  const symbol = await token.symbol();
  const fmt = (v: bigint) => `${(Number(v) / 10 ** decimals).toFixed(decimals > 2 ? 4 : decimals)} ${symbol}`;
  const rate = input.ratePerKWh ?? 500_000n;
  const committed = input.committedReductionJ ?? 8n * JOULES_PER_KWH;
  const assets = [curtailable.assetId, plain.assetId];
  const energyMarginBps = await UsageOracle__factory.connect(await programme.oracle(), sponsor).energyMarginBps();

  // The sponsor's programme: created, funded, both servers enrolled; the owner shares 30 % with its lessee.
  await (await programme.connect(sponsor).createProgramme(input.token)).wait();
  const programmeId = Number(await programme.programmeCount());
  await (await token.approve(await programme.getAddress(), input.funds)).wait();
  await (await programme.connect(sponsor).deposit(programmeId, input.funds)).wait();
  for (const a of assets) await (await programme.connect(sponsor).enroll(programmeId, a)).wait();
  await (
    await programme.connect(owner).setLesseeShare(programmeId, curtailable.assetId, input.lesseeShareBps ?? 3_000)
  ).wait();
  ports.log(
    `grid emergency: programme ${programmeId} funded with ${fmt(input.funds)}, servers #${assets.join(" and #")} enrolled`,
  );

  // The notice: now; the event in 30 minutes, for 2 hours; baseline the 2 h before the notice.
  const chain = programme.runner!.provider!;
  // The latest block's time: a notice may not be after the block it is announced in, and a node's
  // gas estimate (anvil's) runs at the latest block's time, not the next one's.
  const now = BigInt((await chain.getBlock("latest"))!.timestamp);
  const start = now + 30n * MINUTE;
  const end = start + 2n * HOUR;
  const params = {
    noticeTime: now,
    startTime: start,
    endTime: end,
    ratePerKWh: rate,
    committedReductionJ: committed,
    baselineRule: BaselineRule.PreNotice,
    baselineWindowSeconds: 2n * HOUR,
  };
  await (await programme.connect(sponsor).announce(programmeId, params)).wait();
  const eventIndex = Number((await programme.programmeOf(programmeId)).eventCount);
  const ev = await stored(programme, programmeId, eventIndex);
  const times = eventTimes(ev);
  ports.log(
    `grid emergency: event ${eventIndex} announced — curtail 30 min from notice, for 2 h; ${fmt(rate)} per kWh reduced, up to ${formatKWh(committed, 1)} kWh per server`,
  );

  // The feeder posts at the boundaries; the curtailable server steps down; its lessee checks in.
  const boundaries = boundaryPostTimes([ev], 0n);
  const curtailed = new Set([curtailable.assetId]);
  await ports.advance(times.startTime, curtailed, boundaries);
  const checkIn = await programme.connect(ports.keeper).checkIn(programmeId, eventIndex, curtailable.assetId);
  await checkIn.wait();
  await ports.advance(times.endTime + 15n * MINUTE, curtailed, boundaries);

  // Proofs from the chain's history, for both servers.
  const history = await ports.history();
  const reductions = new Map<bigint, { status: number; credit: bigint; toOwner: bigint; toLessee: bigint }>();
  for (const a of assets) {
    const proofs = reductionProofs(history, ev, a);
    if (!proofs) throw new Error(`grid emergency: no reading after the event for server #${a}`);
    await (await programme.connect(ports.keeper).proveReduction(programmeId, eventIndex, a, proofs)).wait();
    const o = await programme.outcomeOf(programmeId, eventIndex, a);
    let toOwner = 0n;
    let toLessee = 0n;
    if (Number(o.status) === OutcomeStatus.Credited) {
      const p = await programme.participantOf(programmeId, eventIndex, a);
      toLessee = p.account === "0x0000000000000000000000000000000000000000" ? 0n : (o.credit * p.shareBps) / 10_000n;
      toOwner = o.credit - toLessee;
      await (await programme.connect(ports.keeper).claimOwnerCredit(programmeId, eventIndex, a)).wait();
      if (toLessee > 0n)
        await (await programme.connect(ports.keeper).claimLesseeCredit(programmeId, eventIndex, a)).wait();
    }
    reductions.set(a, { status: Number(o.status), credit: o.credit, toOwner, toLessee });
  }

  // The energy table: each lease up to its latest reading.
  const after = await ports.history();
  const rows: GridEmergencyRow[] = [];
  const checks: GridEmergencyCheck[] = [];
  for (const [leased, kind] of [
    [curtailable, "curtailable"],
    [plain, "plain"],
  ] as const) {
    const lease = await escrow.leaseOf(leased.leaseId);
    const terms = await escrow.leaseTermsAt(lease.assetId, lease.termsVersion);
    const [gpuCount, tdp] = await nft.meteringLimits(lease.assetId);
    const spec = { gpuCount: BigInt(gpuCount), tdpWattsPerGpu: BigInt(tdp), energyMarginBps: BigInt(energyMarginBps) };
    const eff = leaseEfficiency(after, lease, spec);
    // The escrow's own preview of the bill up to the latest reading (any age).
    const p = leaseProofs(after, lease);
    let reservationNotBilled = 0n;
    let energyFee = eff ? energyCharge(eff.energyJ, terms.energyPricePerKWh) : 0n;
    if (p && eff) {
      const [bill] = await escrow.previewBill(leased.leaseId, p.start, p.point);
      // What the reservation would be on every available GPU-second at the full price.
      const plainReservation = (eff.availableGpuSeconds * terms.reservationPricePerGpuHour) / HOUR;
      reservationNotBilled = plainReservation - bill.reservationFee;
      energyFee = bill.energyFee;
      if (kind === "plain") {
        checks.push({
          name: `lease ${leased.leaseId} on plain terms: the event changed nothing`,
          ok: reservationNotBilled === 0n,
          detail: `reservation billed ${fmt(bill.reservationFee)}`,
        });
      }
    }
    const r = reductions.get(lease.assetId)!;
    rows.push({
      leaseId: leased.leaseId.toString(),
      assetId: lease.assetId.toString(),
      terms: kind,
      energyKWh: eff ? formatKWh(eff.energyJ) : "-",
      kwhPerBusyGpuHour: eff?.kwhPerBusyGpuHour === undefined ? "-" : eff.kwhPerBusyGpuHour.toFixed(3),
      kwhPerAvailableGpuHour: eff?.kwhPerAvailableGpuHour === undefined ? "-" : eff.kwhPerAvailableGpuHour.toFixed(3),
      energyCharge: fmt(energyFee),
      reservationNotBilled: fmt(reservationNotBilled),
      outcome: OutcomeStatus[r.status],
      credit: fmt(r.credit),
      toOwner: fmt(r.toOwner),
      toLessee: fmt(r.toLessee),
    });
  }

  ports.log("grid emergency — energy and demand response per lease (up to the latest reading):");
  ports.log(
    "  lease  server  terms        energy kWh  kWh/busy GPU-h  kWh/avail GPU-h    energy charge  reservation off (event + discount)  outcome      credit (owner / lessee)",
  );
  for (const row of rows) {
    ports.log(
      `  ${row.leaseId.padStart(5)}  ${("#" + row.assetId).padStart(6)}  ${row.terms.padEnd(11)}  ${row.energyKWh.padStart(10)}  ${row.kwhPerBusyGpuHour.padStart(14)}  ${row.kwhPerAvailableGpuHour.padStart(15)}  ${row.energyCharge.padStart(15)}  ${row.reservationNotBilled.padStart(34)}  ${row.outcome.padEnd(11)}  ${row.credit} (${row.toOwner} / ${row.toLessee})`,
    );
  }

  // The act's audit.
  const c1 = reductions.get(curtailable.assetId)!;
  const c2 = reductions.get(plain.assetId)!;
  checks.push({
    name: "the curtailable server's reduction was credited",
    ok: c1.status === OutcomeStatus.Credited && c1.credit > 0n,
    detail: fmt(c1.credit),
  });
  checks.push({
    name: "the plain server was recorded as non-compliant",
    ok: c2.status === OutcomeStatus.NoReduction,
    detail: OutcomeStatus[c2.status],
  });
  const prog = await programme.programmeOf(programmeId);
  const balance = await token.balanceOf(await programme.getAddress());
  const paid = c1.credit + c2.credit;
  checks.push({
    name: "the sponsor paid no more than it deposited, and the programme holds exactly its unreserved funds",
    ok: paid <= input.funds && prog.available === input.funds - paid && balance >= prog.available,
    detail: `deposited ${fmt(input.funds)}, paid ${fmt(paid)}, unreserved ${fmt(prog.available)}`,
  });
  const curtailedRow = rows[0];
  checks.push({
    name: "the curtailable lease was not billed the reservation of the curtailed time",
    ok: curtailedRow.reservationNotBilled !== fmt(0n),
    detail: curtailedRow.reservationNotBilled,
  });
  for (const check of checks) ports.log(`  ${check.ok ? "ok  " : "FAIL"} ${check.name} (${check.detail})`);
  return {
    programmeId,
    eventIndex,
    notice: times.noticeTime.toString(),
    start: times.startTime.toString(),
    end: times.endTime.toString(),
    rows,
    checks,
  };
}
