/**
 * The demo's closing audit, as pure functions over numbers read from the chain: every token unit
 * the story moved must be somewhere. Kept apart from the story so a test can feed it a broken
 * snapshot and see it fail.
 */

/** One lease as the audit sees it. */
export interface LeaseFacts {
  leaseId: string;
  /** Opening deposit plus top-ups, as the demo paid them (independent of the escrow's books). */
  paidIn: bigint;
  /** `accountingOf(leaseId)`. */
  deposited: bigint;
  charged: bigint;
  refunded: bigint;
  held: bigint;
  /** Sum of `ChargeReleased` (+ dispute `toPayee`) events for the lease. */
  chargedByEvents: bigint;
  /** Sum of `LeaseEnded.refund` (+ dispute `toLessee`) events for the lease. */
  refundedByEvents: bigint;
}

export interface EscrowFacts {
  tokenBalance: bigint;
  /** Σ held over every lease the escrow has. */
  held: bigint;
  /** Σ withdrawable over every account that could have a balance. */
  withdrawable: bigint;
  /** Whether the escrow held nothing when the demo began (then the balance must match exactly). */
  fresh: boolean;
}

export interface VaultFacts {
  totalHarvested: bigint;
  totalClaimed: bigint;
  /** Σ claimable(holder) over every account that ever held shares. */
  claimable: bigint;
  /** Σ accruedScaled(holder) over the same accounts. */
  accruedScaled: bigint;
  undistributedScaled: bigint;
  precision: bigint;
  tokenBalance: bigint;
  holders: number;
  claims: number;
  /** Σ charged of the leases that paid this vault, and what the escrow still owes it. */
  revenueCredited: bigint;
  owedByEscrow: bigint;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const fmt = (v: bigint) => v.toString();

export function checkLease(l: LeaseFacts): Check[] {
  const sum = l.charged + l.refunded + l.held;
  return [
    {
      name: `lease ${l.leaseId}: paid in = deposited`,
      ok: l.paidIn === l.deposited,
      detail: `paid in ${fmt(l.paidIn)}, escrow says deposited ${fmt(l.deposited)}`,
    },
    {
      name: `lease ${l.leaseId}: deposited = charged + refunded + held`,
      ok: l.deposited === sum,
      detail: `${fmt(l.deposited)} = ${fmt(l.charged)} + ${fmt(l.refunded)} + ${fmt(l.held)}`,
    },
    {
      name: `lease ${l.leaseId}: charged and refunded match the events`,
      ok: l.charged === l.chargedByEvents && l.refunded === l.refundedByEvents,
      detail: `charged ${fmt(l.charged)} vs events ${fmt(l.chargedByEvents)}; refunded ${fmt(l.refunded)} vs events ${fmt(l.refundedByEvents)}`,
    },
  ];
}

export function checkEscrow(e: EscrowFacts): Check {
  const owed = e.held + e.withdrawable;
  return {
    name: e.fresh ? "escrow balance = held + withdrawable" : "escrow balance covers held + withdrawable",
    ok: e.fresh ? e.tokenBalance === owed : e.tokenBalance >= owed,
    detail: `balance ${fmt(e.tokenBalance)}, held ${fmt(e.held)} + withdrawable ${fmt(e.withdrawable)} = ${fmt(owed)}`,
  };
}

export function checkVault(v: VaultFacts): Check[] {
  const dust = v.totalHarvested - v.totalClaimed - v.claimable;
  const dustBound = BigInt(v.holders + v.claims + 1);
  return [
    {
      name: "vault harvested = claimed + claimable + dust (dust ≥ 0, bounded)",
      ok: dust >= 0n && dust <= dustBound,
      detail: `${fmt(v.totalHarvested)} = ${fmt(v.totalClaimed)} + ${fmt(v.claimable)} + ${fmt(dust)} (bound ${fmt(dustBound)})`,
    },
    {
      name: "vault scaled books are exact",
      ok: v.totalClaimed * v.precision + v.accruedScaled + v.undistributedScaled === v.totalHarvested * v.precision,
      detail: `claimed×P + Σ accruedScaled + undistributedScaled vs harvested×P`,
    },
    {
      name: "vault token balance = harvested − claimed",
      ok: v.tokenBalance === v.totalHarvested - v.totalClaimed,
      detail: `balance ${fmt(v.tokenBalance)}, harvested − claimed ${fmt(v.totalHarvested - v.totalClaimed)}`,
    },
    {
      name: "vault revenue = lease charges credited to it",
      ok: v.totalHarvested + v.owedByEscrow === v.revenueCredited,
      detail: `harvested ${fmt(v.totalHarvested)} + still in escrow ${fmt(v.owedByEscrow)} vs charged ${fmt(v.revenueCredited)}`,
    },
  ];
}
