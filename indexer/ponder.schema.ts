/**
 * One table per entity, mirroring the contracts' events (STYLE 17): no business logic the chain does
 * not have. Amounts are token base units (`bigint`), times unix seconds, meters cumulative as the oracle
 * accepted them; units are in the column names. Derived figures (utilization, availability,
 * kWh per GPU-hour) are computed in queries or in the page.
 */
import { index, onchainTable, primaryKey } from "ponder";

/** A GPU server (GpuAssetNFT token): spec as `specOf` returns it, status, owner, lessee, vault. */
export const asset = onchainTable(
  "asset",
  (t) => ({
    assetId: t.bigint().primaryKey(),
    owner: t.hex().notNull(),
    gpuModel: t.text().notNull(),
    datacenter: t.text().notNull(),
    serialsHash: t.hex().notNull(),
    vramMiBPerGpu: t.integer().notNull(),
    gpuCount: t.integer().notNull(),
    tdpWattsPerGpu: t.integer().notNull(),
    /** "Active" | "Maintenance" | "Retired" (AssetStatus). */
    status: t.text().notNull(),
    /** ERC-4907 user as last set (live while `userExpires` is in the future). */
    user: t.hex(),
    userExpires: t.bigint().notNull(),
    /** The vault holding it, while one does. */
    vault: t.hex(),
    burned: t.boolean().notNull(),
    mintedAtBlock: t.bigint().notNull(),
    mintedAt: t.bigint().notNull(),
  }),
  (table) => ({ ownerIndex: index().on(table.owner) }),
);

/** One accepted oracle batch (UsageOracle `BatchAccepted`). */
export const oracleBatch = onchainTable("oracle_batch", (t) => ({
  batchIndex: t.integer().primaryKey(),
  configVersion: t.bigint().notNull(),
  /** The time every reading of the batch refers to (unix seconds), as signed. */
  timestamp: t.bigint().notNull(),
  readingsRoot: t.hex().notNull(),
  readingCount: t.integer().notNull(),
  blockNumber: t.bigint().notNull(),
  /** When the oracle accepted it (its block's time): readings are billable a dispute window later. */
  acceptedAt: t.bigint().notNull(),
  transactionHash: t.hex().notNull(),
}));

/** Every accepted meter reading (a time series per asset; cumulative counters), id `<assetId>-<timestamp>`. */
export const meterReading = onchainTable(
  "meter_reading",
  (t) => ({
    id: t.text().primaryKey(),
    assetId: t.bigint().notNull(),
    batchIndex: t.integer().notNull(),
    /** The batch of this asset's previous reading (0: its first). */
    previousBatch: t.integer().notNull(),
    /** The batch's timestamp (unix seconds). */
    timestamp: t.bigint().notNull(),
    busyGpuSeconds: t.bigint().notNull(),
    availableGpuSeconds: t.bigint().notNull(),
    energyJ: t.bigint().notNull(),
    acceptedAt: t.bigint().notNull(),
  }),
  (table) => ({ assetTimeIndex: index().on(table.assetId, table.timestamp) }),
);

/** Lease terms as published (one immutable snapshot per asset and version). */
export const leaseTerms = onchainTable(
  "lease_terms",
  (t) => ({
    assetId: t.bigint().notNull(),
    version: t.integer().notNull(),
    token: t.hex().notNull(),
    reservationPricePerGpuHour: t.bigint().notNull(),
    usagePricePerBusyGpuHour: t.bigint().notNull(),
    energyPricePerKWh: t.bigint().notNull(),
    minDurationSeconds: t.bigint().notNull(),
    maxDurationSeconds: t.bigint().notNull(),
    slaAvailabilityBps: t.integer().notNull(),
    earlyEndAllowed: t.boolean().notNull(),
    setBy: t.hex().notNull(),
    setAt: t.bigint().notNull(),
    removed: t.boolean().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.assetId, table.version] }) }),
);

/** A lease and its accounts, as the escrow's `accountingOf` states them: deposited = charged + refunded + held. */
export const lease = onchainTable(
  "lease",
  (t) => ({
    leaseId: t.bigint().primaryKey(),
    assetId: t.bigint().notNull(),
    lessee: t.hex().notNull(),
    token: t.hex().notNull(),
    termsVersion: t.integer().notNull(),
    startTime: t.bigint().notNull(),
    /** The end time (truncated to the ending block when the lease ended early). */
    endTime: t.bigint().notNull(),
    /** Opening deposit plus top-ups. */
    deposited: t.bigint().notNull(),
    /** Taken from the balance by the bill: settlements and disputes. */
    billed: t.bigint().notNull(),
    /** The meter time the bill reaches. */
    billedUntil: t.bigint().notNull(),
    /** Credited to the payee: settlements and disputes resolved for the payee. */
    charged: t.bigint().notNull(),
    /** Credited back to the lessee: the leftover at the close and disputes resolved for the lessee. */
    refunded: t.bigint().notNull(),
    /** Held under an open dispute. */
    disputed: t.bigint().notNull(),
    settlements: t.integer().notNull(),
    /** "None" while running; then "Expired" | "EndedByLessee" | "TerminatedByProvider" | "InsufficientFunds". */
    endReason: t.text().notNull(),
    endedBy: t.hex(),
    closed: t.boolean().notNull(),
    /** Whether the close billed up to the end (false: no reading at or after it within the grace period). */
    finalReading: t.boolean(),
    closedAt: t.bigint(),
  }),
  (table) => ({ assetIndex: index().on(table.assetId), lesseeIndex: index().on(table.lessee) }),
);

/** One settlement of a lease: its whole bill up to `billedUntil` and what it charged (the increase). */
export const leaseCharge = onchainTable(
  "lease_charge",
  (t) => ({
    id: t.text().primaryKey(),
    leaseId: t.bigint().notNull(),
    payee: t.hex().notNull(),
    /** The meter time the previous bill reached (the lease start for the first). */
    fromTimestamp: t.bigint().notNull(),
    billedUntil: t.bigint().notNull(),
    /** The lease's whole bill up to `billedUntil` (LeaseBill, cumulative). */
    meteredSeconds: t.bigint().notNull(),
    availabilityBps: t.integer().notNull(),
    reservationFee: t.bigint().notNull(),
    usageFee: t.bigint().notNull(),
    energyFee: t.bigint().notNull(),
    slaCredit: t.bigint().notNull(),
    total: t.bigint().notNull(),
    /** Credited to the payee now: the bill's increase, capped at the balance. */
    charged: t.bigint().notNull(),
    blockTimestamp: t.bigint().notNull(),
  }),
  (table) => ({ leaseIndex: index().on(table.leaseId) }),
);

/** Every other event of a lease, in order: top-up, dispute, resolution, end, close. */
export const leaseEvent = onchainTable(
  "lease_event",
  (t) => ({
    id: t.text().primaryKey(),
    leaseId: t.bigint().notNull(),
    /** "ToppedUp" | "DisputeRaised" | "DisputeResolved" | "Ended" | "Closed". */
    kind: t.text().notNull(),
    account: t.hex(),
    amount: t.bigint().notNull(),
    /** DisputeResolved: the part credited to the payee (`amount` is the lessee's). */
    toPayee: t.bigint(),
    detail: t.text(),
    blockTimestamp: t.bigint().notNull(),
  }),
  (table) => ({ leaseIndex: index().on(table.leaseId) }),
);

/** An account's withdrawable escrow balance per token (credited by settlements, refunds and resolutions, debited by withdraw). */
export const escrowBalance = onchainTable(
  "escrow_balance",
  (t) => ({
    account: t.hex().notNull(),
    token: t.hex().notNull(),
    withdrawable: t.bigint().notNull(),
    withdrawn: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.account, table.token] }) }),
);

/** A revenue-split vault (one per fractionalized asset). */
export const vault = onchainTable("vault", (t) => ({
  address: t.hex().primaryKey(),
  assetId: t.bigint().notNull(),
  creator: t.hex().notNull(),
  revenueToken: t.hex().notNull(),
  manager: t.hex().notNull(),
  totalShares: t.bigint().notNull(),
  totalHarvested: t.bigint().notNull(),
  totalClaimed: t.bigint().notNull(),
  revenuePerShareScaled: t.bigint().notNull(),
  carryScaled: t.bigint().notNull(),
  harvests: t.integer().notNull(),
  redeemedBy: t.hex(),
  createdAt: t.bigint().notNull(),
}));

/** A vault's share holder: shares, revenue claimed, and claimable (the vault's `claimable` after the
 *  last event that changed it: claimable only moves on a harvest, a claim or a share transfer). */
export const vaultHolder = onchainTable(
  "vault_holder",
  (t) => ({
    vault: t.hex().notNull(),
    holder: t.hex().notNull(),
    shares: t.bigint().notNull(),
    claimed: t.bigint().notNull(),
    claimable: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.vault, table.holder] }), vaultIndex: index().on(table.vault) }),
);

/** One harvest of a vault (a time series of distributed revenue). */
export const vaultHarvest = onchainTable("vault_harvest", (t) => ({
  id: t.text().primaryKey(),
  vault: t.hex().notNull(),
  caller: t.hex().notNull(),
  amount: t.bigint().notNull(),
  revenuePerShareScaled: t.bigint().notNull(),
  blockTimestamp: t.bigint().notNull(),
}));

// ─── CreditFacility ──────────────────────────────────────────────────────────────────────────────

/**
 * A loan against a pledged asset, from the facility's events: the terms of `AssetPledged`, the funding,
 * and the running sums of every harvest split, reserve draw, payment and claim. Each sum is the one the
 * facility keeps in `loanOf` (interestPaid, principalRepaid, reserveBalance, borrowerClaimable,
 * lenderClaimed, lenderRecovered), added up from the events that move it.
 */
export const loan = onchainTable(
  "loan",
  (t) => ({
    loanId: t.bigint().primaryKey(),
    assetId: t.bigint().notNull(),
    borrower: t.hex().notNull(),
    /** The loan's custody account: the asset's owner (and the escrow's payee) while the loan holds it. */
    custody: t.hex().notNull(),
    token: t.hex().notNull(),
    principal: t.bigint().notNull(),
    reserveTarget: t.bigint().notNull(),
    interestRateBpsPerYear: t.integer().notNull(),
    periodSeconds: t.bigint().notNull(),
    periodCount: t.integer().notNull(),
    amortizationPeriods: t.integer().notNull(),
    graceSeconds: t.bigint().notNull(),
    /** "Requested" | "Active" | "Repaid" | "Foreclosed" | "Cancelled" (LoanStatus). */
    status: t.text().notNull(),
    /** Who funded it (the note's first holder; the note may have changed hands since). */
    lender: t.hex(),
    /** When interest started, and the last due date (LoanFunded). */
    startTime: t.bigint(),
    maturity: t.bigint(),
    /** Revenue harvested while the loan was not foreclosed (RevenueHarvested amounts). */
    harvested: t.bigint().notNull(),
    harvests: t.integer().notNull(),
    /** Revenue harvested after foreclosure: all the note holder's (RevenueRecovered). */
    recovered: t.bigint().notNull(),
    /** Interest and principal paid: by the waterfall, the reserve and repayments. */
    interestPaid: t.bigint().notNull(),
    principalRepaid: t.bigint().notNull(),
    /** The waterfall's parts, summed over the harvests. */
    toInterest: t.bigint().notNull(),
    toPrincipal: t.bigint().notNull(),
    toReserve: t.bigint().notNull(),
    toBorrower: t.bigint().notNull(),
    /** Paid by repayments (PaymentMade). */
    repaidInterest: t.bigint().notNull(),
    repaidPrincipal: t.bigint().notNull(),
    /** Paid out of the reserve (ReserveDrawn, interest and principal). */
    reserveDrawn: t.bigint().notNull(),
    /** The reserve held now: harvested into it less drawn and released. */
    reserveBalance: t.bigint().notNull(),
    /** The reserve handed to the borrower at full repayment (LoanRepaid). */
    reserveReleased: t.bigint().notNull(),
    /** The borrower's revenue and released reserve not claimed yet. */
    borrowerClaimable: t.bigint().notNull(),
    borrowerClaimed: t.bigint().notNull(),
    lenderClaimed: t.bigint().notNull(),
    principalWrittenOff: t.bigint(),
    interestWrittenOff: t.bigint(),
    /** Where the NFT went at foreclosure, and the note holder who foreclosed. */
    foreclosedTo: t.hex(),
    foreclosedBy: t.hex(),
    pledgedAt: t.bigint().notNull(),
    fundedAt: t.bigint(),
    /** Repaid, foreclosed or cancelled. */
    closedAt: t.bigint(),
  }),
  (table) => ({ assetIndex: index().on(table.assetId), borrowerIndex: index().on(table.borrower) }),
);

/** Every event of a loan, in order (pledge, funding, harvests, draws, payments, claims, the close). */
export const loanEvent = onchainTable(
  "loan_event",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    /** The event's name: "AssetPledged", "LoanFunded", "RevenueHarvested", "PaymentMade", … */
    kind: t.text().notNull(),
    account: t.hex(),
    /** The event's amount (a harvest's revenue, a payment's total, a claim, a draw). */
    amount: t.bigint().notNull(),
    toInterest: t.bigint(),
    toPrincipal: t.bigint(),
    blockTimestamp: t.bigint().notNull(),
  }),
  (table) => ({ loanIndex: index().on(table.loanId) }),
);

// ─── DemandResponseProgramme ─────────────────────────────────────────────────────────────────────

/** A demand-response programme: its sponsor, token and funds (deposited, withdrawn). */
export const drProgramme = onchainTable("dr_programme", (t) => ({
  programmeId: t.integer().primaryKey(),
  sponsor: t.hex().notNull(),
  token: t.hex().notNull(),
  deposited: t.bigint().notNull(),
  withdrawn: t.bigint().notNull(),
  eventCount: t.integer().notNull(),
  createdAt: t.bigint().notNull(),
}));

/** An asset's membership of a programme: called by events [firstEvent, endEvent) (endEvent null: still enrolled). */
export const drMember = onchainTable(
  "dr_member",
  (t) => ({
    programmeId: t.integer().notNull(),
    assetId: t.bigint().notNull(),
    firstEvent: t.integer().notNull(),
    endEvent: t.integer(),
    lesseeShareBps: t.integer().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.programmeId, table.assetId] }) }),
);

/** A curtailment event as announced (EventParams), with its reservation and what became of it. */
export const drEvent = onchainTable(
  "dr_event",
  (t) => ({
    /** `<programmeId>-<eventIndex>`. */
    id: t.text().primaryKey(),
    programmeId: t.integer().notNull(),
    eventIndex: t.integer().notNull(),
    noticeTime: t.bigint().notNull(),
    startTime: t.bigint().notNull(),
    endTime: t.bigint().notNull(),
    /** Token base units per kWh reduced. */
    ratePerKWh: t.bigint().notNull(),
    committedReductionJ: t.bigint().notNull(),
    /** "PreNotice" | "PriorDay" (BaselineRule). */
    baselineRule: t.text().notNull(),
    baselineWindowSeconds: t.bigint().notNull(),
    memberCount: t.integer().notNull(),
    /** Reserved at the announcement: the largest credit of every asset called. */
    reserved: t.bigint().notNull(),
    provenCount: t.integer().notNull(),
    /** "Announced" | "Cancelled" | "Released" (EventStatus). */
    status: t.text().notNull(),
    /** Returned to the funds by a cancellation or the release. */
    released: t.bigint().notNull(),
    announcedAt: t.bigint().notNull(),
  }),
  (table) => ({ programmeIndex: index().on(table.programmeId) }),
);

/** An asset's outcome for an event: its check-in, its proven reduction and the credit's payment. */
export const drOutcome = onchainTable(
  "dr_outcome",
  (t) => ({
    /** `<programmeId>-<eventIndex>-<assetId>`. */
    id: t.text().primaryKey(),
    programmeId: t.integer().notNull(),
    eventIndex: t.integer().notNull(),
    assetId: t.bigint().notNull(),
    /** "None" (checked in, not proven yet) | "Credited" | "NoReduction" | "Unproven" | "Late" (OutcomeStatus). */
    status: t.text().notNull(),
    baselineJ: t.bigint(),
    meteredJ: t.bigint(),
    reductionJ: t.bigint(),
    credit: t.bigint().notNull(),
    /** The lessee who checked in, and the share promised to it. */
    participant: t.hex(),
    participantShareBps: t.integer(),
    ownerPaid: t.boolean().notNull(),
    lesseePaid: t.boolean().notNull(),
    /** Paid to the owner (and to whom), paid to the lessee, returned to the funds (a burned asset). */
    toOwner: t.bigint().notNull(),
    ownerPaidTo: t.hex(),
    toLessee: t.bigint().notNull(),
    returned: t.bigint().notNull(),
    provenAt: t.bigint(),
  }),
  (table) => ({ eventIndex: index().on(table.programmeId, table.eventIndex), assetIndex: index().on(table.assetId) }),
);
