/**
 * Demo act "credit" (issue 18): an operator borrows against two leased GPU servers through the
 * CreditFacility. Loan A is sized to what its lease earns and is repaid from the lease revenue by the
 * harvest waterfall; the NFT comes back to the operator on its own. Loan B asks for far more than its
 * lease earns, misses its first installment, and the lender forecloses: the NFT goes to the lender
 * while the lessee keeps its user right and keeps computing, and the next settlements pay the lender
 * as the server's new owner.
 *
 * The act is self-contained apart from time and meters, which belong to the demo: `ports.advance`
 * moves the chain while the oracle keeps metering both servers (the demo's feeder), `ports.settle`
 * settles a lease as far as proven meters allow (the demo's keeper). Everything else it reads from
 * the chain: the leases' terms size the loans, so the story holds for any prices.
 *
 * Requirements: the operator owns both assets, each has an open lease with at least four days to run
 * in the facility's token, and the lender holds ~11 days of the first lease's full-availability
 * reservation revenue. Under an SLA target an interim settlement pays only part of what was earned
 * (the escrow measures availability against the whole lease), so give these leases no SLA target or
 * expect loan A to be finished by the operator's own payment (the act does that, and says so).
 */
import { MaxUint256, type ContractTransactionResponse, type Log, type Signer } from "ethers";
import {
  IERC20Metadata__factory,
  type CreditFacility,
  type GpuAssetNFT,
  type SettlementEscrow,
} from "../../../typechain-types";

const HOUR = 3_600n;
const DAY = 24n * HOUR;

/** Loan statuses, as `LoanStatus` in contracts/types/CreditTypes.sol. */
const STATUS = ["None", "Requested", "Active", "Repaid", "Foreclosed", "Cancelled"] as const;

export interface LeasedAsset {
  assetId: bigint;
  leaseId: bigint;
}

export interface CreditActInput {
  facility: CreditFacility;
  nft: GpuAssetNFT;
  escrow: SettlementEscrow;
  /** The operator: owns both assets and borrows. */
  operator: Signer;
  /** The lender: funds both loans and holds their notes. */
  lender: Signer;
  /** Loan A's server: repaid from its lease revenue. */
  repaid: LeasedAsset;
  /** Loan B's server: defaults and is foreclosed. */
  foreclosed: LeasedAsset;
}

export interface CreditActPorts {
  /** Moves the chain `seconds` ahead while the oracle keeps metering both servers. */
  advance(seconds: bigint): Promise<void>;
  /** Settles a lease as far as the proven meters allow; does nothing when nothing is billable. */
  settle(leaseId: bigint): Promise<void>;
  /** One line of narrative. */
  log(line: string): void;
}

export interface CreditActLoan {
  loanId: string;
  assetId: string;
  principal: string;
  status: string;
  harvested: string;
  interestPaid: string;
  principalRepaid: string;
  toBorrower: string;
  principalWrittenOff: string;
  interestWrittenOff: string;
  nftOwner: string;
}

export interface CreditActCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface CreditActSummary {
  loans: CreditActLoan[];
  gas: { step: string; txs: number; gasUsed: string }[];
  checks: CreditActCheck[];
  ok: boolean;
}

export async function creditAct(input: CreditActInput, ports: CreditActPorts): Promise<CreditActSummary> {
  const { facility, nft, escrow, operator, lender } = input;
  const facilityAddress = await facility.getAddress();
  const operatorAddress = await operator.getAddress();
  const lenderAddress = await lender.getAddress();
  const gas = new Map<string, { txs: number; gasUsed: bigint }>();
  const send = async (step: string, tx: Promise<ContractTransactionResponse>) => {
    const receipt = await (await tx).wait();
    const row = gas.get(step) ?? { txs: 0, gasUsed: 0n };
    gas.set(step, { txs: row.txs + 1, gasUsed: row.gasUsed + (receipt?.gasUsed ?? 0n) });
    return receipt!;
  };

  // ------------------------------------------------------------------ size the loans from the leases
  const leaseA = await escrow.leaseOf(input.repaid.leaseId);
  const termsA = await escrow.leaseTermsAt(leaseA.assetId, leaseA.termsVersion);
  const token = IERC20Metadata__factory.connect(termsA.token, operator);
  const [symbol, decimals] = [await token.symbol(), Number(await token.decimals())];
  const fmt = (amount: bigint) => `${(Number(amount) / 10 ** decimals).toFixed(2)} ${symbol}`;
  const { gpuCount } = await nft.specOf(input.repaid.assetId);
  const dayOfReservation = BigInt(gpuCount) * 24n * termsA.reservationPricePerGpuHour;
  const loanTerms = (principal: bigint, reserve: bigint) => ({
    token: termsA.token,
    principal,
    reserveTarget: reserve,
    interestRateBpsPerYear: 1_200n,
    periodSeconds: DAY,
    periodCount: 3n,
    amortizationPeriods: 3n,
    graceSeconds: 6n * HOUR,
  });
  // A: one day of reservation revenue over three daily installments; B: ten days' worth.
  const plans = [
    { name: "A", asset: input.repaid, terms: loanTerms(dayOfReservation, dayOfReservation / 10n) },
    { name: "B", asset: input.foreclosed, terms: loanTerms(10n * dayOfReservation, 0n) },
  ];
  const need = plans.reduce((sum, p) => sum + p.terms.principal, 0n);
  const lenderBalance = await token.balanceOf(lenderAddress);
  if (lenderBalance < need) throw new Error(`credit act: the lender holds ${fmt(lenderBalance)}, needs ${fmt(need)}`);

  // ------------------------------------------------------------------ pledge and fund
  const lesseeBefore = new Map<bigint, { user: string; expires: bigint }>();
  await send("approve the facility (NFT, token)", nft.connect(operator).setApprovalForAll(facilityAddress, true));
  await send("approve the facility (NFT, token)", token.connect(lender).approve(facilityAddress, need));
  const loans: {
    name: string;
    loanId: bigint;
    assetId: bigint;
    leaseId: bigint;
    harvested: bigint;
    toBorrower: bigint;
  }[] = [];
  for (const plan of plans) {
    const { assetId, leaseId } = plan.asset;
    lesseeBefore.set(assetId, { user: await nft.userOf(assetId), expires: await nft.userExpires(assetId) });
    const receipt = await send("pledge", facility.connect(operator).pledge(assetId, plan.terms));
    const pledged = facilityEvents(facility, facilityAddress, receipt.logs).find((e) => e.name === "AssetPledged");
    const loanId: bigint = pledged!.args.loanId;
    await send("fund", facility.connect(lender).fund(loanId));
    loans.push({ name: plan.name, loanId, assetId, leaseId, harvested: 0n, toBorrower: 0n });
    ports.log(
      `loan ${plan.name} (#${loanId}): server #${assetId} pledged, ${fmt(plan.terms.principal)} funded at 12 %/yr, ` +
        `3 daily installments, 6 h grace; the lessee keeps its lease`,
    );
  }

  // ------------------------------------------------------------------ four days of leases paying loans
  const foreclosure = { done: false, principalWrittenOff: 0n, interestWrittenOff: 0n };
  let lenderInEscrowAtForeclosure = 0n;
  for (let step = 1; step <= 16; step++) {
    await ports.advance(6n * HOUR);
    for (const loan of loans) {
      await ports.settle(loan.leaseId);
      const status = Number((await facility.loanOf(loan.loanId)).status);
      if (STATUS[status] === "Foreclosed") continue;
      if ((await facility.pendingRevenue(loan.loanId)) === 0n) continue;
      const receipt = await send("harvest", facility.harvest(loan.loanId));
      for (const event of facilityEvents(facility, facilityAddress, receipt.logs)) {
        if (event.name === "RevenueHarvested") {
          const s = event.args.split;
          loan.harvested += event.args.amount;
          loan.toBorrower += s.toBorrower;
          ports.log(
            `  loan ${loan.name}: harvested ${fmt(event.args.amount)} → interest ${fmt(s.toInterest)}, ` +
              `principal ${fmt(s.toPrincipal)}, reserve ${fmt(s.toReserve)}, operator ${fmt(s.toBorrower)}`,
          );
        }
        if (event.name === "LoanRepaid") {
          ports.log(
            `  loan ${loan.name}: repaid in full from lease revenue; server #${loan.assetId} is back with the operator`,
          );
        }
      }
    }
    const b = loans[1];
    if (!foreclosure.done && (await facility.isInDefault(b.loanId))) {
      const receipt = await send("foreclose", facility.connect(lender).foreclose(b.loanId, lenderAddress));
      const events = facilityEvents(facility, facilityAddress, receipt.logs);
      // A foreclosure first harvests what the escrow holds for the loan.
      for (const e of events.filter((e) => e.name === "RevenueHarvested")) b.harvested += e.args.amount;
      const event = events.find((e) => e.name === "LoanForeclosed");
      foreclosure.done = true;
      foreclosure.principalWrittenOff = event!.args.principalWrittenOff;
      foreclosure.interestWrittenOff = event!.args.interestWrittenOff;
      lenderInEscrowAtForeclosure = await escrow.withdrawable(lenderAddress, termsA.token);
      ports.log(
        `  loan B: installment missed past its grace: the lender forecloses; server #${b.assetId} is the lender's, ` +
          `${fmt(foreclosure.principalWrittenOff)} principal written off; its lessee keeps computing`,
      );
    }
  }
  const a = loans[0];
  if (STATUS[Number((await facility.loanOf(a.loanId)).status)] === "Active") {
    const debt = (await facility.positionOf(a.loanId)).principalOutstanding;
    await send("repay", facility.connect(operator).repay(a.loanId, MaxUint256));
    ports.log(`  loan A: lease revenue fell short; the operator repays the remaining ${fmt(debt)} principal itself`);
  }

  // ------------------------------------------------------------------ claims
  for (const loan of loans) {
    if ((await facility.lenderClaimable(loan.loanId)) !== 0n) {
      await send("claim (lender)", facility.connect(lender).claimAsLender(loan.loanId, lenderAddress));
    }
    if ((await facility.borrowerClaimable(loan.loanId)) !== 0n) {
      await send("claim (operator)", facility.connect(operator).claimAsBorrower(loan.loanId, operatorAddress));
    }
  }

  // ------------------------------------------------------------------ the audit
  const checks: CreditActCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const summaries: CreditActLoan[] = [];
  for (const loan of loans) {
    const l = await facility.loanOf(loan.loanId);
    const owner = await nft.ownerOf(loan.assetId);
    const before = lesseeBefore.get(loan.assetId)!;
    const user = await nft.userOf(loan.assetId);
    const expires = await nft.userExpires(loan.assetId);
    check(
      `loan ${loan.name}: the lessee's user right is untouched`,
      user === before.user && expires === before.expires,
      `user ${user}, expires ${expires}`,
    );
    summaries.push({
      loanId: loan.loanId.toString(),
      assetId: loan.assetId.toString(),
      principal: l.principal.toString(),
      status: STATUS[Number(l.status)],
      harvested: loan.harvested.toString(),
      interestPaid: l.interestPaid.toString(),
      principalRepaid: l.principalRepaid.toString(),
      toBorrower: loan.toBorrower.toString(),
      principalWrittenOff: (loan.name === "B" ? foreclosure.principalWrittenOff : 0n).toString(),
      interestWrittenOff: (loan.name === "B" ? foreclosure.interestWrittenOff : 0n).toString(),
      nftOwner: owner,
    });
  }
  const [la, lb] = [await facility.loanOf(a.loanId), await facility.loanOf(loans[1].loanId)];
  check(
    "loan A is repaid and its server is the operator's",
    STATUS[Number(la.status)] === "Repaid" && (await nft.ownerOf(a.assetId)) === operatorAddress,
    STATUS[Number(la.status)],
  );
  check(
    "loan B is foreclosed and its server is the lender's",
    STATUS[Number(lb.status)] === "Foreclosed" && (await nft.ownerOf(loans[1].assetId)) === lenderAddress,
    STATUS[Number(lb.status)],
  );
  const leaseB = await escrow.leaseOf(loans[1].leaseId);
  check(
    "loan B's lease runs on after the foreclosure",
    !leaseB.closed && leaseB.endReason === 0n,
    `end ${leaseB.endTime}`,
  );
  await ports.settle(loans[1].leaseId);
  const lenderInEscrow = await escrow.withdrawable(lenderAddress, termsA.token);
  check(
    "loan B's lease pays the lender, the server's new owner",
    lenderInEscrow > lenderInEscrowAtForeclosure,
    `${fmt(lenderInEscrow - lenderInEscrowAtForeclosure)} credited since the foreclosure`,
  );
  const held = await token.balanceOf(facilityAddress);
  check("the facility holds nothing once everyone has claimed", held === 0n, fmt(held));
  for (const loan of loans) {
    const l = await facility.loanOf(loan.loanId);
    const split = await harvestSplitTotal(facility, loan.loanId);
    check(
      `loan ${loan.name}: every harvested unit went to exactly one of lender, reserve, operator`,
      split.amount === split.parts && split.amount === loan.harvested,
      `${fmt(split.amount)} harvested, ${fmt(split.parts)} split`,
    );
    check(
      `loan ${loan.name}: lender proceeds = interest + principal repaid`,
      (await lenderProceedsClaimed(facility, loan.loanId)) === l.interestPaid + l.principalRepaid + l.lenderRecovered,
      `${fmt(l.interestPaid)} interest, ${fmt(l.principalRepaid)} principal`,
    );
  }
  return {
    loans: summaries,
    gas: [...gas.entries()].map(([step, row]) => ({ step, txs: row.txs, gasUsed: row.gasUsed.toString() })),
    checks,
    ok: checks.every((c) => c.ok),
  };
}

/** The facility's own events among a receipt's logs. */
function facilityEvents(facility: CreditFacility, address: string, logs: readonly Log[]) {
  return logs
    .filter((l) => l.address.toLowerCase() === address.toLowerCase())
    .map((l) => facility.interface.parseLog(l))
    .filter((e): e is NonNullable<typeof e> => e !== null);
}

/** Σ amount and Σ (interest + principal + reserve + borrower) over a loan's RevenueHarvested events. */
async function harvestSplitTotal(facility: CreditFacility, loanId: bigint) {
  const events = await facility.queryFilter(facility.filters.RevenueHarvested(loanId));
  let amount = 0n;
  let parts = 0n;
  for (const e of events) {
    amount += e.args.amount;
    const s = e.args.split;
    parts += s.toInterest + s.toPrincipal + s.toReserve + s.toBorrower;
  }
  return { amount, parts };
}

/** Σ of a loan's LenderClaimed amounts. */
async function lenderProceedsClaimed(facility: CreditFacility, loanId: bigint): Promise<bigint> {
  const events = await facility.queryFilter(facility.filters.LenderClaimed(loanId));
  return events.reduce((sum, e) => sum + e.args.amount, 0n);
}
