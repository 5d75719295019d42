/**
 * What the chain says, read straight from the node (views and logs, with ethers), in the shape the
 * indexer stores: the reference the indexer's tables and the dashboard's figures are checked against.
 */
import fs from "node:fs";
import path from "node:path";
import { Contract, JsonRpcProvider, ZeroAddress, type InterfaceAbi } from "ethers";
import { CreditFacilityAbi } from "../../indexer/abis/CreditFacility";
import { DemandResponseProgrammeAbi } from "../../indexer/abis/DemandResponseProgramme";
import { GpuAssetNFTAbi } from "../../indexer/abis/GpuAssetNFT";
import { RevenueSplitVaultAbi } from "../../indexer/abis/RevenueSplitVault";
import { RevenueSplitVaultFactoryAbi } from "../../indexer/abis/RevenueSplitVaultFactory";
import { SettlementEscrowAbi } from "../../indexer/abis/SettlementEscrow";
import { UsageOracleAbi } from "../../indexer/abis/UsageOracle";
import { fetchMeterHistory } from "../../src/meterHistory";

const STATUS = ["Active", "Maintenance", "Retired"];
const END_REASON = ["None", "Expired", "EndedByLessee", "TerminatedByProvider", "InsufficientFunds"];
const LOAN_STATUS = ["None", "Requested", "Active", "Repaid", "Foreclosed", "Cancelled"];
const OUTCOME_STATUS = ["None", "Credited", "NoReduction", "Unproven", "Late"];
const EVENT_STATUS = ["Announced", "Cancelled", "Released"];

const lower = (a: string) => a.toLowerCase();

export interface ChainAsset {
  assetId: string;
  owner: string;
  gpuModel: string;
  datacenter: string;
  serialsHash: string;
  vramMiBPerGpu: number;
  gpuCount: number;
  tdpWattsPerGpu: number;
  status: string;
  userExpires: string;
  /** The live user (null when none or expired). */
  liveUser: string | null;
  vault: string | null;
}

export interface ChainReading {
  assetId: string;
  timestamp: string;
  busyGpuSeconds: string;
  availableGpuSeconds: string;
  energyJ: string;
}

export interface ChainLease {
  leaseId: string;
  assetId: string;
  lessee: string;
  token: string;
  termsVersion: number;
  startTime: string;
  endTime: string;
  deposited: string;
  billed: string;
  charged: string;
  refunded: string;
  held: string;
  disputed: string;
  endReason: string;
  closed: boolean;
  settlements: number;
}

export interface ChainHolder {
  vault: string;
  holder: string;
  shares: string;
  claimed: string;
  claimable: string;
}

export interface ChainVault {
  address: string;
  assetId: string;
  revenueToken: string;
  manager: string;
  totalShares: string;
  totalHarvested: string;
  totalClaimed: string;
  revenuePerShareScaled: string;
}

/** A loan as `loanOf` states it, with its custody (`custodyOf`) and its lender (the `LoanFunded` log). */
export interface ChainLoan {
  loanId: string;
  assetId: string;
  borrower: string;
  custody: string;
  token: string;
  principal: string;
  reserveTarget: string;
  interestRateBpsPerYear: number;
  status: string;
  lender: string | null;
  startTime: string;
  interestPaid: string;
  principalRepaid: string;
  reserveBalance: string;
  borrowerClaimable: string;
  lenderClaimed: string;
  lenderRecovered: string;
}

/** A demand-response event as `eventOf` stores it. */
export interface ChainDrEvent {
  programmeId: number;
  eventIndex: number;
  noticeTime: string;
  startTime: string;
  endTime: string;
  ratePerKWh: string;
  committedReductionJ: string;
  memberCount: number;
  provenCount: number;
  status: string;
}

/** An asset's outcome for an event as `outcomeOf` states it (every called asset with one recorded). */
export interface ChainOutcome {
  programmeId: number;
  eventIndex: number;
  assetId: string;
  status: string;
  credit: string;
  ownerPaid: boolean;
  lesseePaid: boolean;
  /** `participantOf`'s account (null: none checked in). */
  participant: string | null;
}

export interface ChainState {
  blockNumber: number;
  timestamp: bigint;
  nft: string;
  assets: ChainAsset[];
  readings: ChainReading[];
  /** Each asset's latest reading. */
  latest: Record<string, ChainReading>;
  /** Batches the oracle accepted (`nextBatchIndex() - 1`). */
  batches: number;
  leases: ChainLease[];
  /** Every (account, token) credited by the escrow, with `withdrawable(account, token)`. */
  balances: { account: string; token: string; withdrawable: string }[];
  vaults: ChainVault[];
  holders: ChainHolder[];
  /** `tokenURI(assetId)` per asset. */
  tokenURIs: Record<string, string>;
  /** decimals() and symbol() of the escrow's tokens. */
  tokens: Record<string, { decimals: number; symbol: string }>;
  loans: ChainLoan[];
  programmes: { programmeId: number; sponsor: string; token: string; eventCount: number }[];
  /** Every enrolled asset's `memberOf` (endEvent 0: still enrolled). */
  members: { programmeId: number; assetId: string; firstEvent: number; endEvent: number; lesseeShareBps: number }[];
  drEvents: ChainDrEvent[];
  outcomes: ChainOutcome[];
}

function address(dir: string, name: string): string {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), "utf8")).address as string;
}

/** Reads the whole state of the system at the current head. */
export async function readChainState(rpcUrl: string, deploymentsDir: string): Promise<ChainState> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const head = (await provider.getBlock("latest"))!;
  const tag = { blockTag: head.number };
  const nft = new Contract(address(deploymentsDir, "GpuAssetNFT"), GpuAssetNFTAbi as InterfaceAbi, provider);
  const oracle = new Contract(address(deploymentsDir, "UsageOracle"), UsageOracleAbi as InterfaceAbi, provider);
  const escrow = new Contract(
    address(deploymentsDir, "SettlementEscrow"),
    SettlementEscrowAbi as InterfaceAbi,
    provider,
  );
  const factory = new Contract(
    address(deploymentsDir, "RevenueSplitVaultFactory"),
    RevenueSplitVaultFactoryAbi as InterfaceAbi,
    provider,
  );

  const assets: ChainAsset[] = [];
  const tokenURIs: Record<string, string> = {};
  const lastId = Number(await nft.lastAssetId(tag));
  for (let id = 1; id <= lastId; id++) {
    const spec = await nft.specOf(id, tag);
    const user = (await nft.userOf(id, tag)) as string;
    const vault = (await factory.vaultOf(id, tag)) as string;
    assets.push({
      assetId: String(id),
      owner: lower(await nft.ownerOf(id, tag)),
      gpuModel: spec.gpuModel,
      datacenter: spec.datacenter,
      serialsHash: lower(spec.serialsHash),
      vramMiBPerGpu: Number(spec.vramMiBPerGpu),
      gpuCount: Number(spec.gpuCount),
      tdpWattsPerGpu: Number(spec.tdpWattsPerGpu),
      status: STATUS[Number(await nft.statusOf(id, tag))]!,
      userExpires: String(await nft.userExpires(id, tag)),
      liveUser: user === ZeroAddress ? null : lower(user),
      vault: vault === ZeroAddress ? null : lower(vault),
    });
    tokenURIs[String(id)] = await nft.tokenURI(id, tag);
  }

  // Every accepted reading, rebuilt from the oracle's logs and the submit calldata by src/meterHistory.ts
  // (which checks each batch's Merkle root against the log), and each batch's commitment on chain.
  const history = await fetchMeterHistory(provider as never, await oracle.getAddress(), { toBlock: head.number });
  const readings: ChainReading[] = [];
  const latest: Record<string, ChainReading> = {};
  for (const a of assets) {
    for (const r of history.readingsOf(BigInt(a.assetId))) {
      const row = {
        assetId: a.assetId,
        timestamp: String(r.meter.timestamp),
        busyGpuSeconds: String(r.meter.busyGpuSeconds),
        availableGpuSeconds: String(r.meter.availableGpuSeconds),
        energyJ: String(r.meter.energyJ),
      };
      readings.push(row);
      latest[a.assetId] = row;
    }
  }
  const batches = Number(await oracle.nextBatchIndex(tag)) - 1;

  const leases: ChainLease[] = [];
  const settledCount = new Map<string, number>();
  for (const log of await escrow.queryFilter(escrow.filters.LeaseSettled!(), 0, head.number)) {
    const id = String((log as unknown as { args: { leaseId: bigint } }).args.leaseId);
    settledCount.set(id, (settledCount.get(id) ?? 0) + 1);
  }
  const tokens: ChainState["tokens"] = {};
  const count = Number(await escrow.leaseCount(tag));
  for (let id = 1; id <= count; id++) {
    const l = await escrow.leaseOf(id, tag);
    const [deposited, charged, refunded, held] = (await escrow.accountingOf(id, tag)) as bigint[];
    const opened = (await escrow.queryFilter(escrow.filters.LeaseOpened!(id), 0, head.number))[0] as unknown as {
      args: { token: string };
    };
    leases.push({
      leaseId: String(id),
      assetId: String(l.assetId),
      lessee: lower(l.lessee),
      token: lower(opened.args.token),
      termsVersion: Number(l.termsVersion),
      startTime: String(l.startTime),
      endTime: String(l.endTime),
      deposited: String(deposited),
      billed: String(l.billed),
      charged: String(charged),
      refunded: String(refunded),
      held: String(held),
      disputed: String(l.disputed),
      endReason: END_REASON[Number(l.endReason)]!,
      closed: Boolean(l.closed),
      settlements: settledCount.get(String(id)) ?? 0,
    });
  }
  for (const token of new Set(leases.map((l) => l.token))) {
    const erc20 = new Contract(
      token,
      ["function decimals() view returns (uint8)", "function symbol() view returns (string)"],
      provider,
    );
    tokens[token] = { decimals: Number(await erc20.decimals(tag)), symbol: await erc20.symbol(tag) };
  }

  // Every account the escrow ever credited or paid.
  const accounts = new Set<string>();
  for (const l of leases) accounts.add(`${l.lessee}|${l.token}`);
  for (const log of await escrow.queryFilter(escrow.filters.LeaseSettled!(), 0, head.number)) {
    const a = (log as unknown as { args: { leaseId: bigint; payee: string } }).args;
    const token = leases.find((l) => l.leaseId === String(a.leaseId))!.token;
    accounts.add(`${lower(a.payee)}|${token}`);
  }
  for (const log of await escrow.queryFilter(escrow.filters.Withdrawn!(), 0, head.number)) {
    const a = (log as unknown as { args: { account: string; token: string } }).args;
    accounts.add(`${lower(a.account)}|${lower(a.token)}`);
  }
  const balances: ChainState["balances"] = [];
  for (const key of accounts) {
    const [account, token] = key.split("|") as [string, string];
    balances.push({ account, token, withdrawable: String(await escrow.withdrawable(account, token, tag)) });
  }

  const vaults: ChainVault[] = [];
  const holders: ChainHolder[] = [];
  for (const log of await factory.queryFilter(factory.filters.VaultCreated!(), 0, head.number)) {
    const created = (log as unknown as { args: { vault: string; assetId: bigint } }).args;
    const vault = new Contract(created.vault, RevenueSplitVaultAbi as InterfaceAbi, provider);
    vaults.push({
      address: lower(created.vault),
      assetId: String(created.assetId),
      revenueToken: lower(await vault.revenueToken(tag)),
      manager: lower(await vault.manager(tag)),
      totalShares: String(await vault.totalSupply(tag)),
      totalHarvested: String(await vault.totalHarvested(tag)),
      totalClaimed: String(await vault.totalClaimed(tag)),
      revenuePerShareScaled: String(await vault.revenuePerShareScaled(tag)),
    });
    const claimed = new Map<string, bigint>();
    for (const c of await vault.queryFilter(vault.filters.RevenueClaimed!(), 0, head.number)) {
      const a = (c as unknown as { args: { account: string; amount: bigint } }).args;
      claimed.set(lower(a.account), (claimed.get(lower(a.account)) ?? 0n) + a.amount);
    }
    const seen = new Set<string>();
    for (const t of await vault.queryFilter(vault.filters.Transfer!(), 0, head.number)) {
      const a = (t as unknown as { args: { from: string; to: string } }).args;
      for (const who of [a.from, a.to]) if (who !== ZeroAddress) seen.add(lower(who));
    }
    for (const holder of seen) {
      holders.push({
        vault: lower(created.vault),
        holder,
        shares: String(await vault.balanceOf(holder, tag)),
        claimed: String(claimed.get(holder) ?? 0n),
        claimable: String(await vault.claimable(holder, tag)),
      });
    }
  }
  // Credit: every loan, as the facility's views state it.
  const facility = new Contract(address(deploymentsDir, "CreditFacility"), CreditFacilityAbi as InterfaceAbi, provider);
  const loans: ChainLoan[] = [];
  const loanCount = Number(await facility.loanCount(tag));
  for (let id = 1; id <= loanCount; id++) {
    const l = await facility.loanOf(id, tag);
    const funded = (await facility.queryFilter(facility.filters.LoanFunded!(id), 0, head.number))[0] as unknown as
      { args: { lender: string } } | undefined;
    loans.push({
      loanId: String(id),
      assetId: String(l.assetId),
      borrower: lower(l.borrower),
      custody: lower(await facility.custodyOf(id, tag)),
      token: lower(l.token),
      principal: String(l.principal),
      reserveTarget: String(l.reserveTarget),
      interestRateBpsPerYear: Number(l.interestRateBpsPerYear),
      status: LOAN_STATUS[Number(l.status)]!,
      lender: funded ? lower(funded.args.lender) : null,
      startTime: String(l.startTime),
      interestPaid: String(l.interestPaid),
      principalRepaid: String(l.principalRepaid),
      reserveBalance: String(l.reserveBalance),
      borrowerClaimable: String(l.borrowerClaimable),
      lenderClaimed: String(l.lenderClaimed),
      lenderRecovered: String(l.lenderRecovered),
    });
  }

  // Demand response: every programme, event, and the outcome of every asset an event called.
  const dr = new Contract(
    address(deploymentsDir, "DemandResponseProgramme"),
    DemandResponseProgrammeAbi as InterfaceAbi,
    provider,
  );
  const programmes: ChainState["programmes"] = [];
  const drEvents: ChainDrEvent[] = [];
  const outcomes: ChainOutcome[] = [];
  const members: ChainState["members"] = [];
  const enrolled = new Map<number, Set<bigint>>();
  for (const log of await dr.queryFilter(dr.filters.AssetEnrolled!(), 0, head.number)) {
    const a = (log as unknown as { args: { programmeId: bigint; assetId: bigint } }).args;
    const set = enrolled.get(Number(a.programmeId)) ?? new Set<bigint>();
    set.add(a.assetId);
    enrolled.set(Number(a.programmeId), set);
  }
  const programmeCount = Number(await dr.programmeCount(tag));
  for (let p = 1; p <= programmeCount; p++) {
    const prog = await dr.programmeOf(p, tag);
    programmes.push({
      programmeId: p,
      sponsor: lower(prog.sponsor),
      token: lower(prog.token),
      eventCount: Number(prog.eventCount),
    });
    for (const assetId of enrolled.get(p) ?? []) {
      const m = await dr.memberOf(p, assetId, tag);
      members.push({
        programmeId: p,
        assetId: String(assetId),
        firstEvent: Number(m.firstEvent),
        endEvent: Number(m.endEvent),
        lesseeShareBps: Number(m.lesseeShareBps),
      });
    }
    for (let e = 1; e <= Number(prog.eventCount); e++) {
      const ev = await dr.eventOf(p, e, tag);
      const start = BigInt(ev.startTime);
      drEvents.push({
        programmeId: p,
        eventIndex: e,
        noticeTime: String(start - BigInt(ev.noticeLeadSeconds)),
        startTime: String(start),
        endTime: String(start + BigInt(ev.durationSeconds)),
        ratePerKWh: String(ev.ratePerKWh),
        committedReductionJ: String(ev.committedReductionJ),
        memberCount: Number(ev.memberCount),
        provenCount: Number(ev.provenCount),
        status: EVENT_STATUS[Number(ev.status)]!,
      });
      for (const assetId of enrolled.get(p) ?? []) {
        if (!(await dr.isCalled(p, e, assetId, tag))) continue;
        const o = await dr.outcomeOf(p, e, assetId, tag);
        const who = (await dr.participantOf(p, e, assetId, tag)).account as string;
        if (Number(o.status) === 0 && who === ZeroAddress) continue;
        outcomes.push({
          programmeId: p,
          eventIndex: e,
          assetId: String(assetId),
          status: OUTCOME_STATUS[Number(o.status)]!,
          credit: String(o.credit),
          ownerPaid: Boolean(o.ownerPaid),
          lesseePaid: Boolean(o.lesseePaid),
          participant: who === ZeroAddress ? null : lower(who),
        });
      }
    }
  }
  provider.destroy();
  return {
    blockNumber: head.number,
    timestamp: BigInt(head.timestamp),
    nft: lower(await nft.getAddress()),
    assets,
    readings,
    latest,
    batches,
    leases,
    balances,
    vaults,
    holders,
    tokenURIs,
    tokens,
    loans,
    programmes,
    members,
    drEvents,
    outcomes,
  };
}
