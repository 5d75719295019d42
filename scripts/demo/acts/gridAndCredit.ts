/**
 * Acts 3 and 4, on two new leases of the servers Helios owns directly. Quark Labs leases the A100 node
 * on curtailable terms (10 % off the reservation, up to 2 events) that follow the grid operator's
 * programme (its inference load varies); Lumen AI leases the L40S box on plain terms for a training
 * run that keeps both GPUs flat out; both for 4.5 days with no SLA target.
 *
 *   act 3  a grid emergency on the leases' first day (`gridEmergencyAct`): the A100 node steps down for
 *          two hours, the reduction is proven from the oracle's meters and paid, the curtailed
 *          reservation is not billed; the L40S box keeps running and is recorded as non-compliant.
 *   act 4  credit against compute (`creditAct`): Helios borrows against both servers from Northwind
 *          Capital; loan A is repaid from the A100's lease revenue, loan B defaults and is
 *          foreclosed while its lessee keeps computing.
 *
 * Both acts run on the demo's machinery: the co-signing feeder network meters every server while the
 * story's clock moves (`World.advanceTo`), the keeper settles from proven meters (`World.settle`).
 */
import type { CreditFacility, DemandResponseProgramme } from "../../../typechain-types";
import type { Condition } from "../feederRig";
import { HOUR, type Persona, type StoryLease, type World } from "../world";
import { creditAct, type CreditActSummary } from "./credit";
import { gridEmergencyAct, type GridEmergencySummary } from "./gridEmergency";
import { describeTerms, terms } from "./setup";

export interface LaterPeople {
  helios: Persona;
  lumen: Persona;
  quark: Persona;
  keeper: Persona;
  /** The grid operator: the programme's sponsor. */
  grid: Persona;
  /** The lender of act 4. */
  lender: Persona;
}

export interface LaterResult {
  grid: GridEmergencySummary;
  credit: CreditActSummary;
  leases: StoryLease[];
  /** The loans' custody accounts (owners of the pledged servers while a loan runs). */
  custodies: string[];
  programme: DemandResponseProgramme;
  facility: CreditFacility;
}

/** How long the acts' leases run. */
const LEASE_HOURS = 108;
/** Load before the grid operator's notice: the baseline window (2 h) must be metered under the lease. */
const LEAD_HOURS = 3;

export async function gridAndCreditActs(
  w: World,
  ppl: LaterPeople,
  programme: DemandResponseProgramme,
  facility: CreditFacility,
  adminAddress: string,
): Promise<LaterResult> {
  const { escrow, usdc, nft } = w.c;
  const { helios, lumen, quark, keeper, grid, lender } = ppl;
  const [, a100, l40s] = w.servers.map((s) => s.assetId);
  const token = await usdc.getAddress();
  const escrowAddr = await escrow.getAddress();

  // The grid operator becomes a sponsor of the programme contract (the admin names sponsors).
  const admin = await w.hre.ethers.getSigner(adminAddress);
  await w.send(
    "grid: sponsor role, programme, funding, enrolment",
    programme.connect(admin).grantRole(await programme.SPONSOR_ROLE(), grid.wallet.address),
  );
  w.say(`the programme contract's admin names ${grid.name} a sponsor (SPONSOR_ROLE)`);

  // Terms: curtailable on the A100 node (following the programme the grid operator is about to
  // create), plain on the L40S box; no SLA target (act 4's loans are sized to the revenue).
  const nextProgramme = Number(await programme.programmeCount()) + 1;
  await w.send(
    "publish lease terms",
    escrow
      .connect(helios.wallet)
      .setCurtailableLeaseTerms(
        a100,
        terms(w, { reservation: 0.7, usage: 0.6, energyPerKWh: 0.2, sla: 0, maxHours: 7 * 24, earlyEnd: false }),
        {
          programme: await programme.getAddress(),
          programmeId: nextProgramme,
          reservationDiscountBps: 1_000,
          maxEventsPerLease: 2,
          maxEventSecondsPerLease: 4 * HOUR,
        },
      ),
  );
  w.say(
    `Helios publishes curtailable terms for #${a100}: ${await describeTerms(w, a100)}; 10 % off the reservation, ` +
      `curtailable by ${grid.name}'s programme ${nextProgramme} (at most 2 events, 4 h per lease)`,
  );
  await w.send(
    "publish lease terms",
    escrow
      .connect(helios.wallet)
      .setLeaseTerms(
        l40s,
        terms(w, { reservation: 0.4, usage: 0.35, energyPerKWh: 0.2, sla: 0, maxHours: 7 * 24, earlyEnd: false }),
      ),
  );
  w.say(`Helios publishes terms for #${l40s}: ${await describeTerms(w, l40s)}`);

  // Two leases, each funded for full use over its whole time; the lessees keep every GPU busy.
  const leases: StoryLease[] = [];
  const ends = new Map<bigint, number>();
  const curtailedBetween = new Map<bigint, [number, number]>();
  const condition = (asset: bigint) => (): Condition => {
    const window = curtailedBetween.get(asset);
    if (window && w.nowS >= window[0] && w.nowS < window[1]) return { kind: "curtailed" };
    if (!(w.nowS < (ends.get(asset) ?? 0))) return { kind: "idle" };
    // Quark's inference load varies; Lumen's training run keeps the L40S box flat out.
    return asset === l40s ? { kind: "full" } : { kind: "load" };
  };
  for (const [asset, lessee] of [
    [a100, quark],
    [l40s, lumen],
  ] as const) {
    const deposit = (await escrow.minimumDeposit(asset)) * BigInt(LEASE_HOURS);
    await w.send("fund lessees (mint test token)", usdc.connect(lessee.wallet).mint(lessee.wallet.address, deposit));
    await w.send("open lease (approve)", usdc.connect(lessee.wallet).approve(escrowAddr, deposit));
    await w.send(
      "open lease (approve)",
      escrow
        .connect(lessee.wallet)
        .openLease(asset, await escrow.currentTermsVersion(asset), LEASE_HOURS * HOUR, deposit),
    );
    const lease: StoryLease = { id: await escrow.leaseCount(), asset, lessee, openedWith: "approve", paidIn: deposit };
    leases.push(lease);
    w.leases.push(lease);
    ends.set(asset, Number((await escrow.leaseOf(lease.id)).endTime));
    w.setCondition(asset, condition(asset));
    w.say(
      `${lessee.name} opens lease #${lease.id} on #${asset} for ${LEASE_HOURS} h with ${w.fmt(deposit)} (full use)`,
    );
  }
  const [leaseC, leaseD] = leases;
  await w.advanceTo(w.nowS + LEAD_HOURS * HOUR);

  // ------------------------------------------------------------------ act 3
  w.out.line("");
  w.out.line("Act 3 — a grid emergency");
  const funds = w.usd(100);
  await w.send(
    "grid: sponsor role, programme, funding, enrolment",
    usdc.connect(grid.wallet).mint(grid.wallet.address, funds),
  );
  const gridSummary = await gridEmergencyAct(
    {
      programme: programme.connect(grid.wallet),
      escrow,
      nft,
      token,
      sponsor: grid.wallet,
      owner: helios.wallet,
      curtailable: { assetId: a100, leaseId: leaseC.id },
      plain: { assetId: l40s, leaseId: leaseD.id },
      funds,
    },
    {
      advance: async (to, curtailed, boundaries) => {
        w.postAt(boundaries);
        for (const asset of curtailed) {
          curtailedBetween.set(asset, [Number(boundaries[0]), Number(boundaries[boundaries.length - 1])]);
        }
        await w.advanceTo(Number(to));
      },
      history: () => w.meterHistory(),
      keeper: keeper.wallet,
      log: (line) => w.say(line),
    },
  );

  // ------------------------------------------------------------------ act 4
  w.out.line("");
  w.out.line("Act 4 — credit against compute");
  w.names.set((await facility.getAddress()).toLowerCase(), "the credit facility");
  // The lender lends up to eleven days of the A100 lease's reservation revenue.
  const dayOfReservation =
    24n * BigInt(w.servers[1].gpuCount) * (await escrow.leaseTermsOf(a100)).reservationPricePerGpuHour;
  await w.send(
    "credit: fund the lender (mint test token)",
    usdc.connect(lender.wallet).mint(lender.wallet.address, 11n * dayOfReservation),
  );
  const credit = await creditAct(
    {
      facility: facility.connect(keeper.wallet),
      nft,
      escrow,
      operator: helios.wallet,
      lender: lender.wallet,
      repaid: { assetId: a100, leaseId: leaseC.id },
      foreclosed: { assetId: l40s, leaseId: leaseD.id },
    },
    {
      advance: (seconds) => w.advanceTo(w.nowS + Number(seconds)),
      settle: async (leaseId) => {
        await nameCustodies();
        const line = await w.settle(leaseId, keeper);
        if (line) w.say(`keeper settles lease #${leaseId}: ${line}`);
      },
      log: (line) => w.say(line),
    },
  );
  for (const g of credit.gas) w.addGas(`credit: ${g.step}`, BigInt(g.gasUsed), g.txs);
  return { grid: gridSummary, credit, leases, custodies: await nameCustodies(), programme, facility };

  /** Names every loan's custody account (the owner of a pledged server) for the story's lines. */
  async function nameCustodies(): Promise<string[]> {
    const custodies: string[] = [];
    for (const e of await facility.queryFilter(facility.filters.AssetPledged(), 0)) {
      custodies.push(e.args.custody);
      w.names.set(e.args.custody.toLowerCase(), `loan #${e.args.loanId}'s custody`);
    }
    return custodies;
  }
}
