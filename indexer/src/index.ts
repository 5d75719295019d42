/**
 * One indexing function per event (STYLE 17). Each writes what its event says; where an event carries
 * less than the entity needs (a mint's spec, a holder's claimable revenue), the function reads the
 * contract's own view at the event's block, so every figure is the chain's, never recomputed here.
 */
import { ponder } from "ponder:registry";
import { eq } from "ponder";
import {
  asset,
  drEvent,
  drMember,
  drOutcome,
  drProgramme,
  escrowBalance,
  lease,
  leaseCharge,
  leaseEvent,
  leaseTerms,
  loan,
  loanEvent,
  meterReading,
  oracleBatch,
  vault,
  vaultHarvest,
  vaultHolder,
} from "ponder:schema";
import { decodeFunctionData } from "viem";
import { GpuAssetNFTAbi } from "../abis/GpuAssetNFT";
import { readingsRoot } from "../../src/eip712";
import { decodeSubmitCalldata, type SubmitCall } from "../../src/meterHistory";

const ZERO = "0x0000000000000000000000000000000000000000";

/** AssetStatus by its uint8 value (contracts/types/GpuAssetTypes.sol). */
const STATUS = ["Active", "Maintenance", "Retired"] as const;
/** EndReason by its uint8 value (contracts/types/EscrowTypes.sol). */
const END_REASON = ["None", "Expired", "EndedByLessee", "TerminatedByProvider", "InsufficientFunds"] as const;

/** LoanStatus by its uint8 value (contracts/types/CreditTypes.sol). */
const LOAN_STATUS = ["None", "Requested", "Active", "Repaid", "Foreclosed", "Cancelled"] as const;
/** OutcomeStatus, BaselineRule (contracts/types/DemandResponseTypes.sol). */
const OUTCOME_STATUS = ["None", "Credited", "NoReduction", "Unproven", "Late"] as const;
const BASELINE_RULE = ["PreNotice", "PriorDay"] as const;

const nameOf = (names: readonly string[], value: number): string => names[value] ?? `Unknown(${value})`;
const eventId = (event: { transaction: { hash: string }; log: { logIndex: number } }) =>
  `${event.transaction.hash}-${event.log.logIndex}`;

// ─── GpuAssetNFT ─────────────────────────────────────────────────────────────────────────────────

/**
 * The spec a mint stored. A mint's only event is `Transfer(0, to, id)`: when the transaction called
 * `mint` on the NFT directly, the spec is its calldata (what the contract validated and stored, a
 * mint being one per transaction then); otherwise (a multisig, a batching contract) `specOf` is read
 * at the mint's block.
 */
async function mintedSpec(
  event: { transaction: { to: `0x${string}` | null; input: `0x${string}` } },
  context: { client: any; contracts: any },
  tokenId: bigint,
) {
  const nft = context.contracts.GpuAssetNFT;
  if (event.transaction.to?.toLowerCase() === nft.address.toLowerCase()) {
    try {
      const call = decodeFunctionData({ abi: GpuAssetNFTAbi, data: event.transaction.input });
      if (call.functionName === "mint") return call.args[1];
    } catch {
      // not a call this ABI knows: read the view below
    }
  }
  return (await context.client.readContract({
    abi: nft.abi,
    address: nft.address,
    functionName: "specOf",
    args: [tokenId],
  })) as {
    gpuModel: string;
    datacenter: string;
    serialsHash: `0x${string}`;
    vramMiBPerGpu: number;
    gpuCount: number;
    tdpWattsPerGpu: number;
  };
}

ponder.on("GpuAssetNFT:Transfer", async ({ event, context }) => {
  const { from, to, tokenId } = event.args;
  if (from === ZERO) {
    const spec = await mintedSpec(event, context, tokenId);
    await context.db.insert(asset).values({
      assetId: tokenId,
      owner: to,
      gpuModel: spec.gpuModel,
      datacenter: spec.datacenter,
      serialsHash: spec.serialsHash,
      vramMiBPerGpu: spec.vramMiBPerGpu,
      gpuCount: spec.gpuCount,
      tdpWattsPerGpu: spec.tdpWattsPerGpu,
      status: "Active",
      user: null,
      userExpires: 0n,
      vault: null,
      burned: false,
      mintedAtBlock: event.block.number,
      mintedAt: event.block.timestamp,
    });
    return;
  }
  await context.db.update(asset, { assetId: tokenId }).set({ owner: to, burned: to === ZERO });
});

ponder.on("GpuAssetNFT:StatusChanged", async ({ event, context }) => {
  await context.db.update(asset, { assetId: event.args.assetId }).set({ status: nameOf(STATUS, event.args.newStatus) });
});

ponder.on("GpuAssetNFT:SpecUpdated", async ({ event, context }) => {
  const spec = await context.client.readContract({
    abi: context.contracts.GpuAssetNFT.abi,
    address: context.contracts.GpuAssetNFT.address!,
    functionName: "specOf",
    args: [event.args.assetId],
  });
  await context.db.update(asset, { assetId: event.args.assetId }).set({
    gpuModel: spec.gpuModel,
    datacenter: spec.datacenter,
    serialsHash: spec.serialsHash,
    vramMiBPerGpu: spec.vramMiBPerGpu,
    gpuCount: spec.gpuCount,
    tdpWattsPerGpu: spec.tdpWattsPerGpu,
  });
});

ponder.on("GpuAssetNFT:UpdateUser", async ({ event, context }) => {
  const { tokenId, user, expires } = event.args;
  const row = await context.db.find(asset, { assetId: tokenId });
  if (!row) return; // a burn's closing UpdateUser(id, 0, 0) after the record is gone
  await context.db.update(asset, { assetId: tokenId }).set({ user: user === ZERO ? null : user, userExpires: expires });
});

// ─── UsageOracle ─────────────────────────────────────────────────────────────────────────────────

/** A call frame as the `callTracer` of `debug_traceTransaction` returns it. */
interface CallFrame {
  to?: string;
  input?: string;
  error?: string;
  calls?: CallFrame[];
}

/** Every successful `submit` call to `oracle` in a call tree, in execution order. */
function submitsIn(frame: CallFrame, oracle: string, out: SubmitCall[] = []): SubmitCall[] {
  if (frame.error) return out;
  if (frame.to?.toLowerCase() === oracle && frame.input) {
    const call = decodeSubmitCalldata(frame.input);
    if (call) out.push(call);
  }
  for (const child of frame.calls ?? []) submitsIn(child, oracle, out);
  return out;
}

// The readings are not in the log (gas): they are the `submit` calldata, decoded by src/meterHistory.ts,
// from the transaction itself or, when a contract called the oracle, from the node's call trace. The
// batch's Merkle root is recomputed and must equal the logged one.
ponder.on("UsageOracle:BatchAccepted", async ({ event, context }) => {
  const { batchIndex, configVersion, timestamp, readingsRoot: root, readingCount } = event.args;
  const oracle = context.contracts.UsageOracle.address!.toLowerCase();
  let call = event.transaction.to?.toLowerCase() === oracle ? decodeSubmitCalldata(event.transaction.input) : undefined;
  if (!call || call.batchIndex !== BigInt(batchIndex)) {
    const trace = (await context.client.request({
      method: "debug_traceTransaction",
      params: [event.transaction.hash, { tracer: "callTracer" }],
    } as never)) as CallFrame;
    call = submitsIn(trace, oracle).find((c) => c.batchIndex === BigInt(batchIndex));
    if (!call) throw new Error(`batch ${batchIndex}: no submit found in ${event.transaction.hash}`);
  }
  if (readingsRoot(call.readings) !== root.toLowerCase()) {
    throw new Error(`batch ${batchIndex}: the readings of ${event.transaction.hash} do not match the logged root`);
  }
  await context.db.insert(oracleBatch).values({
    batchIndex: Number(batchIndex),
    configVersion,
    timestamp,
    readingsRoot: root,
    readingCount: Number(readingCount),
    blockNumber: event.block.number,
    acceptedAt: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });
  if (call.readings.length === 0) return;
  await context.db.insert(meterReading).values(
    call.readings.map((r) => ({
      id: `${r.assetId}-${timestamp}`,
      assetId: r.assetId,
      batchIndex: Number(batchIndex),
      previousBatch: Number(r.previousBatch),
      timestamp,
      busyGpuSeconds: r.busyGpuSeconds,
      availableGpuSeconds: r.availableGpuSeconds,
      energyJ: r.energyJ,
      acceptedAt: event.block.timestamp,
    })),
  );
});

// ─── SettlementEscrow ────────────────────────────────────────────────────────────────────────────

ponder.on("SettlementEscrow:LeaseTermsSet", async ({ event, context }) => {
  const { assetId, version, caller, terms } = event.args;
  await context.db.insert(leaseTerms).values({
    assetId,
    version,
    token: terms.token,
    reservationPricePerGpuHour: terms.reservationPricePerGpuHour,
    usagePricePerBusyGpuHour: terms.usagePricePerBusyGpuHour,
    energyPricePerKWh: terms.energyPricePerKWh,
    minDurationSeconds: terms.minDurationSeconds,
    maxDurationSeconds: terms.maxDurationSeconds,
    slaAvailabilityBps: terms.slaAvailabilityBps,
    earlyEndAllowed: terms.earlyEndAllowed,
    setBy: caller,
    setAt: event.block.timestamp,
    removed: false,
  });
});

ponder.on("SettlementEscrow:LeaseTermsRemoved", async ({ event, context }) => {
  const rows = await context.db.sql.select().from(leaseTerms).where(eq(leaseTerms.assetId, event.args.assetId));
  for (const row of rows) {
    if (!row.removed) {
      await context.db.update(leaseTerms, { assetId: row.assetId, version: row.version }).set({ removed: true });
    }
  }
});

ponder.on("SettlementEscrow:LeaseOpened", async ({ event, context }) => {
  const a = event.args;
  await context.db.insert(lease).values({
    leaseId: a.leaseId,
    assetId: a.assetId,
    lessee: a.lessee,
    token: a.token,
    termsVersion: a.termsVersion,
    startTime: a.startTime,
    endTime: a.endTime,
    deposited: a.deposit,
    billed: 0n,
    billedUntil: 0n,
    charged: 0n,
    refunded: 0n,
    disputed: 0n,
    settlements: 0,
    endReason: "None",
    endedBy: null,
    closed: false,
    finalReading: null,
    closedAt: null,
  });
});

/** Adds `amount` (may be negative: a withdrawal) to an account's withdrawable escrow balance. */
async function credit(
  context: { db: { insert: any } },
  account: `0x${string}`,
  token: `0x${string}`,
  amount: bigint,
  withdrawn = 0n,
): Promise<void> {
  if (amount === 0n && withdrawn === 0n) return;
  await context.db
    .insert(escrowBalance)
    .values({ account, token, withdrawable: amount, withdrawn })
    .onConflictDoUpdate((row: { withdrawable: bigint; withdrawn: bigint }) => ({
      withdrawable: row.withdrawable + amount,
      withdrawn: row.withdrawn + withdrawn,
    }));
}

/** One row of a lease's history (top-ups, disputes, resolutions, the end and the close). */
async function leaseHistory(
  context: { db: { insert: any } },
  event: { transaction: { hash: string }; log: { logIndex: number }; block: { timestamp: bigint } },
  row: {
    leaseId: bigint;
    kind: string;
    account: `0x${string}` | null;
    amount: bigint;
    toPayee?: bigint;
    detail?: string;
  },
): Promise<void> {
  await context.db.insert(leaseEvent).values({
    id: eventId(event),
    leaseId: row.leaseId,
    kind: row.kind,
    account: row.account,
    amount: row.amount,
    toPayee: row.toPayee ?? null,
    detail: row.detail ?? null,
    blockTimestamp: event.block.timestamp,
  });
}

ponder.on("SettlementEscrow:LeaseToppedUp", async ({ event, context }) => {
  const { leaseId, payer, amount } = event.args;
  await context.db.update(lease, { leaseId }).set((row) => ({ deposited: row.deposited + amount }));
  await leaseHistory(context, event, { leaseId, kind: "ToppedUp", account: payer, amount });
});

// A settlement bills the lease up to `billedUntil` and credits the increase to the payee at once.
ponder.on("SettlementEscrow:LeaseSettled", async ({ event, context }) => {
  const { leaseId, payee, billedUntil, bill, charged } = event.args;
  const row = await context.db.find(lease, { leaseId });
  // Read before the update below (`find` may hand back the cached row that `update` then changes).
  const fromTimestamp = row ? (row.billedUntil > 0n ? row.billedUntil : row.startTime) : 0n;
  const token = row?.token;
  await context.db.update(lease, { leaseId }).set((r) => ({
    billed: r.billed + charged,
    billedUntil,
    charged: r.charged + charged,
    settlements: r.settlements + 1,
  }));
  if (token) await credit(context, payee, token, charged);
  await context.db.insert(leaseCharge).values({
    id: eventId(event),
    leaseId,
    payee,
    fromTimestamp,
    billedUntil,
    meteredSeconds: bill.meteredSeconds,
    availabilityBps: bill.availabilityBps,
    reservationFee: bill.reservationFee,
    usageFee: bill.usageFee,
    energyFee: bill.energyFee,
    slaCredit: bill.slaCredit,
    total: bill.total,
    charged,
    blockTimestamp: event.block.timestamp,
  });
});

ponder.on("SettlementEscrow:LeaseEnded", async ({ event, context }) => {
  const { leaseId, reason, caller, endTime } = event.args;
  await context.db.update(lease, { leaseId }).set({ endTime, endReason: nameOf(END_REASON, reason), endedBy: caller });
  await leaseHistory(context, event, {
    leaseId,
    kind: "Ended",
    account: caller,
    amount: 0n,
    detail: nameOf(END_REASON, reason),
  });
});

ponder.on("SettlementEscrow:LeaseClosed", async ({ event, context }) => {
  const { leaseId, reason, caller, finalReading, refund } = event.args;
  const row = await context.db.find(lease, { leaseId });
  await context.db.update(lease, { leaseId }).set((r) => ({
    refunded: r.refunded + refund,
    endReason: nameOf(END_REASON, reason),
    closed: true,
    finalReading,
    closedAt: event.block.timestamp,
  }));
  if (row) await credit(context, row.lessee, row.token, refund);
  await leaseHistory(context, event, {
    leaseId,
    kind: "Closed",
    account: caller,
    amount: refund,
    detail: finalReading ? "billed to its end" : "closed without a final reading",
  });
});

// A dispute bills like a settlement, but holds the increase instead of crediting it.
ponder.on("SettlementEscrow:DisputeRaised", async ({ event, context }) => {
  const { leaseId, amount, billedUntil, deadline } = event.args;
  await context.db
    .update(lease, { leaseId })
    .set((r) => ({ billed: r.billed + amount, billedUntil, disputed: r.disputed + amount }));
  await leaseHistory(context, event, {
    leaseId,
    kind: "DisputeRaised",
    account: null,
    amount,
    detail: `deadline ${deadline}`,
  });
});

ponder.on("SettlementEscrow:DisputeResolved", async ({ event, context }) => {
  const { leaseId, resolver, toLessee, toPayee, byTimeout } = event.args;
  const row = await context.db.find(lease, { leaseId });
  const owner = row ? await context.db.find(asset, { assetId: row.assetId }) : null;
  // The payee is the NFT's owner now; when the asset was burned the payee's part goes back to the lessee.
  const burned = owner === null || owner.burned;
  await context.db.update(lease, { leaseId }).set((r) => ({
    disputed: 0n,
    refunded: r.refunded + toLessee + (burned ? toPayee : 0n),
    charged: r.charged + (burned ? 0n : toPayee),
  }));
  if (row) {
    await credit(context, row.lessee, row.token, toLessee + (burned ? toPayee : 0n));
    if (!burned) await credit(context, owner.owner, row.token, toPayee);
  }
  await leaseHistory(context, event, {
    leaseId,
    kind: "DisputeResolved",
    account: resolver,
    amount: toLessee,
    toPayee,
    detail: byTimeout ? "by timeout" : "by the arbiter",
  });
});

ponder.on("SettlementEscrow:Withdrawn", async ({ event, context }) => {
  const { account, token, amount } = event.args;
  await credit(context, account, token, -amount, amount);
});

// ─── RevenueSplitVaultFactory and vaults ─────────────────────────────────────────────────────────

ponder.on("RevenueSplitVaultFactory:VaultCreated", async ({ event, context }) => {
  const a = event.args;
  await context.db.insert(vault).values({
    address: a.vault,
    assetId: a.assetId,
    creator: a.creator,
    revenueToken: a.revenueToken,
    manager: a.manager,
    totalShares: a.totalShares,
    totalHarvested: 0n,
    totalClaimed: 0n,
    revenuePerShareScaled: 0n,
    carryScaled: 0n,
    harvests: 0,
    redeemedBy: null,
    createdAt: event.block.timestamp,
  });
  await context.db.update(asset, { assetId: a.assetId }).set({ vault: a.vault });
});

/** Re-reads a holder's claimable revenue from the vault at the current event's block. */
async function refreshClaimable(
  context: { client: any; contracts: any; db: any },
  vaultAddress: `0x${string}`,
  holder: `0x${string}`,
): Promise<void> {
  const claimable = (await context.client.readContract({
    abi: context.contracts.RevenueSplitVault.abi,
    address: vaultAddress,
    functionName: "claimable",
    args: [holder],
  })) as bigint;
  await context.db
    .insert(vaultHolder)
    .values({ vault: vaultAddress, holder, shares: 0n, claimed: 0n, claimable })
    .onConflictDoUpdate({ claimable });
}

// A share transfer settles both sides' accruals first (RevenueSplitVault._update), so it changes no one's
// claimable revenue: that moves only at a harvest (everyone's) and a claim (the claimer's). The tests
// check the column against the vault's `claimable` view.
ponder.on("RevenueSplitVault:Transfer", async ({ event, context }) => {
  const { from, to, value } = event.args;
  const at = event.log.address;
  if (from !== ZERO) {
    await context.db
      .insert(vaultHolder)
      .values({ vault: at, holder: from, shares: -value, claimed: 0n, claimable: 0n })
      .onConflictDoUpdate((row) => ({ shares: row.shares - value }));
  }
  if (to !== ZERO) {
    await context.db
      .insert(vaultHolder)
      .values({ vault: at, holder: to, shares: value, claimed: 0n, claimable: 0n })
      .onConflictDoUpdate((row) => ({ shares: row.shares + value }));
  }
});

ponder.on("RevenueSplitVault:RevenueHarvested", async ({ event, context }) => {
  const { caller, amount, revenuePerShareScaled, carryScaled } = event.args;
  const at = event.log.address;
  await context.db.update(vault, { address: at }).set((row) => ({
    totalHarvested: row.totalHarvested + amount,
    revenuePerShareScaled,
    carryScaled,
    harvests: row.harvests + 1,
  }));
  await context.db.insert(vaultHarvest).values({
    id: eventId(event),
    vault: at,
    caller,
    amount,
    revenuePerShareScaled,
    blockTimestamp: event.block.timestamp,
  });
  // A harvest raises every holder's claimable revenue.
  const holders = await context.db.sql.select().from(vaultHolder).where(eq(vaultHolder.vault, at));
  for (const h of holders) if (h.shares > 0n) await refreshClaimable(context, at, h.holder);
});

ponder.on("RevenueSplitVault:RevenueClaimed", async ({ event, context }) => {
  const { account, amount } = event.args;
  const at = event.log.address;
  await context.db.update(vault, { address: at }).set((row) => ({ totalClaimed: row.totalClaimed + amount }));
  await context.db
    .insert(vaultHolder)
    .values({ vault: at, holder: account, shares: 0n, claimed: amount, claimable: 0n })
    .onConflictDoUpdate((row) => ({ claimed: row.claimed + amount }));
  await refreshClaimable(context, at, account);
});

ponder.on("RevenueSplitVault:Redeemed", async ({ event, context }) => {
  await context.db.update(vault, { address: event.log.address }).set({ redeemedBy: event.args.account });
  await context.db.update(asset, { assetId: event.args.assetId }).set({ vault: null });
});

// ─── CreditFacility ──────────────────────────────────────────────────────────────────────────────

/** One row of a loan's history. */
async function loanHistory(
  context: { db: { insert: any } },
  event: { transaction: { hash: string }; log: { logIndex: number }; block: { timestamp: bigint } },
  row: {
    loanId: bigint;
    kind: string;
    account: `0x${string}` | null;
    amount: bigint;
    toInterest?: bigint;
    toPrincipal?: bigint;
  },
): Promise<void> {
  await context.db.insert(loanEvent).values({
    id: eventId(event),
    loanId: row.loanId,
    kind: row.kind,
    account: row.account,
    amount: row.amount,
    toInterest: row.toInterest ?? null,
    toPrincipal: row.toPrincipal ?? null,
    blockTimestamp: event.block.timestamp,
  });
}

ponder.on("CreditFacility:AssetPledged", async ({ event, context }) => {
  const { loanId, assetId, borrower, custody, terms } = event.args;
  await context.db.insert(loan).values({
    loanId,
    assetId,
    borrower,
    custody,
    token: terms.token,
    principal: terms.principal,
    reserveTarget: terms.reserveTarget,
    interestRateBpsPerYear: terms.interestRateBpsPerYear,
    periodSeconds: BigInt(terms.periodSeconds),
    periodCount: terms.periodCount,
    amortizationPeriods: terms.amortizationPeriods,
    graceSeconds: BigInt(terms.graceSeconds),
    status: nameOf(LOAN_STATUS, 1),
    lender: null,
    startTime: null,
    maturity: null,
    harvested: 0n,
    harvests: 0,
    recovered: 0n,
    interestPaid: 0n,
    principalRepaid: 0n,
    toInterest: 0n,
    toPrincipal: 0n,
    toReserve: 0n,
    toBorrower: 0n,
    repaidInterest: 0n,
    repaidPrincipal: 0n,
    reserveDrawn: 0n,
    reserveBalance: 0n,
    reserveReleased: 0n,
    borrowerClaimable: 0n,
    borrowerClaimed: 0n,
    lenderClaimed: 0n,
    principalWrittenOff: null,
    interestWrittenOff: null,
    foreclosedTo: null,
    foreclosedBy: null,
    pledgedAt: event.block.timestamp,
    fundedAt: null,
    closedAt: null,
  });
  await loanHistory(context, event, { loanId, kind: "AssetPledged", account: borrower, amount: terms.principal });
});

ponder.on("CreditFacility:PledgeCancelled", async ({ event, context }) => {
  const { loanId, borrower } = event.args;
  await context.db.update(loan, { loanId }).set({ status: nameOf(LOAN_STATUS, 5), closedAt: event.block.timestamp });
  await loanHistory(context, event, { loanId, kind: "PledgeCancelled", account: borrower, amount: 0n });
});

ponder.on("CreditFacility:LoanFunded", async ({ event, context }) => {
  const { loanId, lender, principal, startTime, maturity } = event.args;
  await context.db.update(loan, { loanId }).set({
    status: nameOf(LOAN_STATUS, 2),
    lender,
    startTime,
    maturity,
    fundedAt: event.block.timestamp,
  });
  await loanHistory(context, event, { loanId, kind: "LoanFunded", account: lender, amount: principal });
});

// The waterfall: interest → principal → reserve → borrower (the split sums to the amount).
ponder.on("CreditFacility:RevenueHarvested", async ({ event, context }) => {
  const { loanId, caller, amount, split } = event.args;
  await context.db.update(loan, { loanId }).set((r) => ({
    harvested: r.harvested + amount,
    harvests: r.harvests + 1,
    interestPaid: r.interestPaid + split.toInterest,
    principalRepaid: r.principalRepaid + split.toPrincipal,
    toInterest: r.toInterest + split.toInterest,
    toPrincipal: r.toPrincipal + split.toPrincipal,
    toReserve: r.toReserve + split.toReserve,
    toBorrower: r.toBorrower + split.toBorrower,
    reserveBalance: r.reserveBalance + split.toReserve,
    borrowerClaimable: r.borrowerClaimable + split.toBorrower,
  }));
  await loanHistory(context, event, {
    loanId,
    kind: "RevenueHarvested",
    account: caller,
    amount,
    toInterest: split.toInterest,
    toPrincipal: split.toPrincipal,
  });
});

ponder.on("CreditFacility:RevenueRecovered", async ({ event, context }) => {
  const { loanId, caller, amount } = event.args;
  await context.db.update(loan, { loanId }).set((r) => ({ recovered: r.recovered + amount }));
  await loanHistory(context, event, { loanId, kind: "RevenueRecovered", account: caller, amount });
});

ponder.on("CreditFacility:ReserveDrawn", async ({ event, context }) => {
  const { loanId, toInterest, toPrincipal } = event.args;
  await context.db.update(loan, { loanId }).set((r) => ({
    interestPaid: r.interestPaid + toInterest,
    principalRepaid: r.principalRepaid + toPrincipal,
    reserveDrawn: r.reserveDrawn + toInterest + toPrincipal,
    reserveBalance: r.reserveBalance - toInterest - toPrincipal,
  }));
  await loanHistory(context, event, {
    loanId,
    kind: "ReserveDrawn",
    account: null,
    amount: toInterest + toPrincipal,
    toInterest,
    toPrincipal,
  });
});

ponder.on("CreditFacility:PaymentMade", async ({ event, context }) => {
  const { loanId, payer, toInterest, toPrincipal } = event.args;
  await context.db.update(loan, { loanId }).set((r) => ({
    interestPaid: r.interestPaid + toInterest,
    principalRepaid: r.principalRepaid + toPrincipal,
    repaidInterest: r.repaidInterest + toInterest,
    repaidPrincipal: r.repaidPrincipal + toPrincipal,
  }));
  await loanHistory(context, event, {
    loanId,
    kind: "PaymentMade",
    account: payer,
    amount: toInterest + toPrincipal,
    toInterest,
    toPrincipal,
  });
});

// Repaid in full: the NFT went back to the borrower and the reserve became the borrower's to claim.
ponder.on("CreditFacility:LoanRepaid", async ({ event, context }) => {
  const { loanId, borrower, reserveReleased } = event.args;
  await context.db.update(loan, { loanId }).set((r) => ({
    status: nameOf(LOAN_STATUS, 3),
    reserveReleased,
    reserveBalance: r.reserveBalance - reserveReleased,
    borrowerClaimable: r.borrowerClaimable + reserveReleased,
    closedAt: event.block.timestamp,
  }));
  await loanHistory(context, event, { loanId, kind: "LoanRepaid", account: borrower, amount: reserveReleased });
});

ponder.on("CreditFacility:LoanForeclosed", async ({ event, context }) => {
  const { loanId, to, noteHolder, principalWrittenOff, interestWrittenOff } = event.args;
  await context.db.update(loan, { loanId }).set({
    status: nameOf(LOAN_STATUS, 4),
    principalWrittenOff,
    interestWrittenOff,
    foreclosedTo: to,
    foreclosedBy: noteHolder,
    closedAt: event.block.timestamp,
  });
  await loanHistory(context, event, {
    loanId,
    kind: "LoanForeclosed",
    account: noteHolder,
    amount: principalWrittenOff + interestWrittenOff,
    toInterest: interestWrittenOff,
    toPrincipal: principalWrittenOff,
  });
});

ponder.on("CreditFacility:LenderClaimed", async ({ event, context }) => {
  const { loanId, account, amount } = event.args;
  await context.db.update(loan, { loanId }).set((r) => ({ lenderClaimed: r.lenderClaimed + amount }));
  await loanHistory(context, event, { loanId, kind: "LenderClaimed", account, amount });
});

ponder.on("CreditFacility:BorrowerClaimed", async ({ event, context }) => {
  const { loanId, borrower, amount } = event.args;
  await context.db.update(loan, { loanId }).set((r) => ({
    borrowerClaimable: r.borrowerClaimable - amount,
    borrowerClaimed: r.borrowerClaimed + amount,
  }));
  await loanHistory(context, event, { loanId, kind: "BorrowerClaimed", account: borrower, amount });
});

ponder.on("CreditFacility:TokenCollected", async ({ event, context }) => {
  const { loanId, to, amount } = event.args;
  await loanHistory(context, event, { loanId, kind: "TokenCollected", account: to, amount });
});

// ─── DemandResponseProgramme ─────────────────────────────────────────────────────────────────────

const drEventId = (programmeId: number, eventIndex: number) => `${programmeId}-${eventIndex}`;
const drOutcomeId = (programmeId: number, eventIndex: number, assetId: bigint) =>
  `${programmeId}-${eventIndex}-${assetId}`;

/** An outcome row before anything is known of it (a check-in or a proof creates it). */
const emptyOutcome = (programmeId: number, eventIndex: number, assetId: bigint) => ({
  id: drOutcomeId(programmeId, eventIndex, assetId),
  programmeId,
  eventIndex,
  assetId,
  status: "None",
  baselineJ: null,
  meteredJ: null,
  reductionJ: null,
  credit: 0n,
  participant: null,
  participantShareBps: null,
  ownerPaid: false,
  lesseePaid: false,
  toOwner: 0n,
  ownerPaidTo: null,
  toLessee: 0n,
  returned: 0n,
  provenAt: null,
});

ponder.on("DemandResponseProgramme:ProgrammeCreated", async ({ event, context }) => {
  const { programmeId, sponsor, token } = event.args;
  await context.db.insert(drProgramme).values({
    programmeId,
    sponsor,
    token,
    deposited: 0n,
    withdrawn: 0n,
    eventCount: 0,
    createdAt: event.block.timestamp,
  });
});

ponder.on("DemandResponseProgramme:ProgrammeFunded", async ({ event, context }) => {
  const { programmeId, amount } = event.args;
  await context.db.update(drProgramme, { programmeId }).set((r) => ({ deposited: r.deposited + amount }));
});

ponder.on("DemandResponseProgramme:FundsWithdrawn", async ({ event, context }) => {
  const { programmeId, amount } = event.args;
  await context.db.update(drProgramme, { programmeId }).set((r) => ({ withdrawn: r.withdrawn + amount }));
});

ponder.on("DemandResponseProgramme:AssetEnrolled", async ({ event, context }) => {
  const { programmeId, assetId, firstEvent } = event.args;
  // Enrolled at most once per programme; the lessee share is the member's own (0 until set).
  await context.db
    .insert(drMember)
    .values({ programmeId, assetId, firstEvent, endEvent: null, lesseeShareBps: 0 })
    .onConflictDoUpdate({ firstEvent, endEvent: null });
});

ponder.on("DemandResponseProgramme:AssetRemoved", async ({ event, context }) => {
  const { programmeId, assetId, endEvent } = event.args;
  await context.db.update(drMember, { programmeId, assetId }).set({ endEvent });
});

ponder.on("DemandResponseProgramme:LesseeShareSet", async ({ event, context }) => {
  const { programmeId, assetId, lesseeShareBps } = event.args;
  await context.db.update(drMember, { programmeId, assetId }).set({ lesseeShareBps });
});

ponder.on("DemandResponseProgramme:EventAnnounced", async ({ event, context }) => {
  const { programmeId, eventIndex, params, memberCount, reserved } = event.args;
  await context.db.insert(drEvent).values({
    id: drEventId(programmeId, eventIndex),
    programmeId,
    eventIndex,
    noticeTime: params.noticeTime,
    startTime: params.startTime,
    endTime: params.endTime,
    ratePerKWh: params.ratePerKWh,
    committedReductionJ: params.committedReductionJ,
    baselineRule: nameOf(BASELINE_RULE, params.baselineRule),
    baselineWindowSeconds: params.baselineWindowSeconds,
    memberCount,
    reserved,
    provenCount: 0,
    status: "Announced",
    released: 0n,
    announcedAt: event.block.timestamp,
  });
  await context.db.update(drProgramme, { programmeId }).set({ eventCount: eventIndex });
});

ponder.on("DemandResponseProgramme:EventCancelled", async ({ event, context }) => {
  const { programmeId, eventIndex, released } = event.args;
  await context.db.update(drEvent, { id: drEventId(programmeId, eventIndex) }).set({ status: "Cancelled", released });
});

ponder.on("DemandResponseProgramme:EventReleased", async ({ event, context }) => {
  const { programmeId, eventIndex, released } = event.args;
  await context.db.update(drEvent, { id: drEventId(programmeId, eventIndex) }).set({ status: "Released", released });
});

ponder.on("DemandResponseProgramme:CheckedIn", async ({ event, context }) => {
  const { programmeId, eventIndex, assetId, participant, shareBps } = event.args;
  await context.db
    .insert(drOutcome)
    .values({ ...emptyOutcome(programmeId, eventIndex, assetId), participant, participantShareBps: shareBps })
    .onConflictDoUpdate({ participant, participantShareBps: shareBps });
});

/** Records a proven outcome; an in-window proof (not `Late`) counts in the event's proven assets. */
async function recordOutcome(
  context: { db: any },
  event: { block: { timestamp: bigint } },
  programmeId: number,
  eventIndex: number,
  assetId: bigint,
  outcome: { status: number; baselineJ: bigint; meteredJ: bigint; reductionJ: bigint | null; credit: bigint },
): Promise<void> {
  const values = {
    status: nameOf(OUTCOME_STATUS, outcome.status),
    baselineJ: outcome.baselineJ,
    meteredJ: outcome.meteredJ,
    reductionJ: outcome.reductionJ,
    credit: outcome.credit,
    provenAt: event.block.timestamp,
  };
  await context.db
    .insert(drOutcome)
    .values({ ...emptyOutcome(programmeId, eventIndex, assetId), ...values })
    .onConflictDoUpdate(values);
  if (outcome.status !== OUTCOME_STATUS.indexOf("Late")) {
    await context.db
      .update(drEvent, { id: drEventId(programmeId, eventIndex) })
      .set((r: { provenCount: number }) => ({ provenCount: r.provenCount + 1 }));
  }
}

ponder.on("DemandResponseProgramme:ReductionProven", async ({ event, context }) => {
  const { programmeId, eventIndex, assetId, reduction } = event.args;
  await recordOutcome(context, event, programmeId, eventIndex, assetId, reduction);
});

// NoReduction or Unproven: nothing is owed (the event carries no reduction; the credit is 0).
ponder.on("DemandResponseProgramme:NonCompliance", async ({ event, context }) => {
  const { programmeId, eventIndex, assetId, status, baselineJ, meteredJ } = event.args;
  await recordOutcome(context, event, programmeId, eventIndex, assetId, {
    status,
    baselineJ,
    meteredJ,
    reductionJ: null,
    credit: 0n,
  });
});

ponder.on("DemandResponseProgramme:CreditPaid", async ({ event, context }) => {
  const { programmeId, eventIndex, assetId, to, amount, lesseePart } = event.args;
  await context.db
    .update(drOutcome, { id: drOutcomeId(programmeId, eventIndex, assetId) })
    .set(lesseePart ? { lesseePaid: true, toLessee: amount } : { ownerPaid: true, toOwner: amount, ownerPaidTo: to });
});

// The owner's part of a burned asset's credit went back to the sponsor's funds.
ponder.on("DemandResponseProgramme:CreditReturned", async ({ event, context }) => {
  const { programmeId, eventIndex, assetId, amount } = event.args;
  await context.db
    .update(drOutcome, { id: drOutcomeId(programmeId, eventIndex, assetId) })
    .set({ ownerPaid: true, returned: amount });
});
