/**
 * A real story on a local chain, for the indexer and dashboard tests and the README screenshot: three
 * GPU servers registered, one fractionalized into a vault, two leases, 31 signed oracle batches, a
 * settlement, an early end, a dispute resolved by the arbiter, closes with refunds, a harvest, claims,
 * a share transfer and withdrawals; a loan against the second (leased) server, funded, harvested from
 * its lease revenue and repaid; a demand-response event that the first server curtails for (credited)
 * and the third does not (no reduction). Every call is a real transaction against the system deployed by the
 * project's deploy scripts; oracle batches are EIP-712 signed by the configured signers (2 of 3) and
 * every settle/close/dispute proof is built from chain logs by `src/meterHistory.ts`.
 *
 *   tsx scripts/scenario.ts --rpc <url> --deployments <deployments/localhost dir>
 *
 * Accounts are anvil's (the standard test mnemonic, unlocked; at least 15: `--accounts 20`), in the
 * roles config/localhost.json gives them. Chain time moves with `evm_setNextBlockTimestamp`.
 */
import fs from "node:fs";
import path from "node:path";
import { Contract, HDNodeWallet, JsonRpcProvider, Mnemonic, type InterfaceAbi, type Signer } from "ethers";
import { CreditFacilityAbi } from "../../indexer/abis/CreditFacility";
import { DemandResponseProgrammeAbi } from "../../indexer/abis/DemandResponseProgramme";
import { GpuAssetNFTAbi } from "../../indexer/abis/GpuAssetNFT";
import { RevenueSplitVaultAbi } from "../../indexer/abis/RevenueSplitVault";
import { RevenueSplitVaultFactoryAbi } from "../../indexer/abis/RevenueSplitVaultFactory";
import { SettlementEscrowAbi } from "../../indexer/abis/SettlementEscrow";
import { UsageOracleAbi } from "../../indexer/abis/UsageOracle";
import { makeBatch, oracleDomain, signBatch, submitArgs, type Reading } from "../../src/eip712";
import { ABSENT_BOUNDARY, fetchMeterHistory, leaseProofs } from "../../src/meterHistory";
import {
  BaselineRule,
  boundaryPostTimes,
  eventTimes,
  reductionProofs,
  type StoredEvent,
} from "../../src/demandResponse";

const MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
const ROLE = {
  keeper: 0,
  /** config/localhost.json's admin: holds the demand-response programme's SPONSOR_ROLE. */
  sponsor: 1,
  registrar: 2,
  arbiter: 4,
  signers: [5, 6],
  operator: 8,
  ana: 9,
  ben: 10,
  lumen: 11,
  quark: 12,
  cleo: 13,
  lender: 14,
};
const HOUR = 3_600n;
const USDC = 1_000_000n;
const SHARE = 10n ** 18n;

interface Spec {
  gpuModel: string;
  datacenter: string;
  gpuCount: number;
  tdpWattsPerGpu: number;
  vramMiBPerGpu: number;
}

const SERVERS: Spec[] = [
  {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-central/fra-1",
    gpuCount: 8,
    tdpWattsPerGpu: 700,
    vramMiBPerGpu: 81_559,
  },
  {
    gpuModel: "NVIDIA A100-SXM4-80GB",
    datacenter: "eu-west/ams-2",
    gpuCount: 4,
    tdpWattsPerGpu: 400,
    vramMiBPerGpu: 81_920,
  },
  {
    gpuModel: "NVIDIA L40S",
    datacenter: "ap-southeast/sin-1",
    gpuCount: 2,
    tdpWattsPerGpu: 350,
    vramMiBPerGpu: 46_068,
  },
];

/** The demand-response event: hours (after t0) of its start and end, on the hourly batches. */
const EVENT_START_HOUR = 16;
const EVENT_END_HOUR = 18;

/** Hour `h`'s metering of server `i`: GPUs available, busy fraction, watts per GPU; null = no reading.
 *  Server 1 curtails to 150 W per GPU during the demand-response event (hours 17 and 18). */
function hourOf(i: number, h: number): { available: number; busy: number; watts: number } | null {
  if (i === 0) {
    const curtailed = h > EVENT_START_HOUR && h <= EVENT_END_HOUR;
    return { available: h >= 6 && h < 9 ? 4 : 8, busy: 0.55 + 0.05 * Math.sin(h), watts: curtailed ? 150 : 520 };
  }
  if (i === 1) return h >= 14 && h < 18 ? null : { available: 4, busy: 0.25 + 0.1 * Math.cos(h), watts: 260 };
  return { available: 2, busy: 0, watts: 60 };
}

export interface ScenarioResult {
  assets: bigint[];
  vault: string;
  leases: bigint[];
  batches: number;
  loans: bigint[];
  /** The demand-response programme and its event. */
  programmeId: number;
  eventIndex: number;
}

export async function runScenario(rpcUrl: string, deploymentsDir: string, log: (line: string) => void = () => {}) {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const address = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(deploymentsDir, `${name}.json`), "utf8")).address as string;
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  if (accounts.length < 15) throw new Error("the scenario needs 15 unlocked accounts (anvil --accounts 20)");
  const as = async (i: number): Promise<Signer> => provider.getSigner(accounts[i]);
  const contract = (name: string, abi: unknown, signer: Signer) =>
    new Contract(address(name), abi as InterfaceAbi, signer);
  const keeper = await as(ROLE.keeper);
  const nft = contract("GpuAssetNFT", GpuAssetNFTAbi, keeper);
  const oracle = contract("UsageOracle", UsageOracleAbi, keeper);
  const escrow = contract("SettlementEscrow", SettlementEscrowAbi, keeper);
  const factory = contract("RevenueSplitVaultFactory", RevenueSplitVaultFactoryAbi, keeper);
  const facility = contract("CreditFacility", CreditFacilityAbi, keeper);
  const programme = contract("DemandResponseProgramme", DemandResponseProgrammeAbi, keeper);
  const usdc = new Contract(
    address("Stablecoin"),
    ["function mint(address,uint256)", "function approve(address,uint256) returns (bool)"],
    keeper,
  );
  const signers = ROLE.signers.map((i) => HDNodeWallet.fromMnemonic(MNEMONIC, `m/44'/60'/0'/0/${i}`));
  const domain = oracleDomain(31337n, await oracle.getAddress());
  const send = async (promise: Promise<{ wait: () => Promise<unknown> }>) => (await promise).wait();
  let now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const at = async (time: bigint) => {
    if (time <= now) throw new Error(`time goes forward only (${time} <= ${now})`);
    await provider.send("evm_setNextBlockTimestamp", [`0x${time.toString(16)}`]);
    now = time;
  };
  const tick = async () => at(now + 12n);

  // Registration and the vault.
  const operator = await as(ROLE.operator);
  const assets: bigint[] = [];
  for (const [i, s] of SERVERS.entries()) {
    await tick();
    await send(
      (nft.connect(await as(ROLE.registrar)) as Contract).mint(accounts[ROLE.operator], {
        ...s,
        serialsHash: `0x${(0xa110 + i).toString(16).padStart(64, "0")}`,
      }),
    );
    assets.push(BigInt(i + 1));
  }
  log(`registered ${assets.length} servers`);
  await tick();
  await send((nft.connect(operator) as Contract).setApprovalForAll(await factory.getAddress(), true));
  await tick();
  await send(
    (factory.connect(operator) as Contract).createVault(
      1n,
      await usdc.getAddress(),
      accounts[ROLE.operator],
      [accounts[ROLE.operator], accounts[ROLE.ana], accounts[ROLE.ben]],
      [400n * SHARE, 350n * SHARE, 250n * SHARE],
    ),
  );
  const vaultAddress = (await factory.vaultOf(1n)) as string;
  const vault = new Contract(vaultAddress, RevenueSplitVaultAbi as InterfaceAbi, operator);
  const terms = (reservation: bigint, usage: bigint, energy: bigint, sla: number, earlyEnd: boolean) => ({
    token: "0x0000000000000000000000000000000000000000",
    reservationPricePerGpuHour: reservation,
    usagePricePerBusyGpuHour: usage,
    energyPricePerKWh: energy,
    minDurationSeconds: HOUR,
    maxDurationSeconds: 30n * 24n * HOUR,
    slaAvailabilityBps: sla,
    earlyEndAllowed: earlyEnd,
  });
  const token = await usdc.getAddress();
  await tick();
  await send(vault.setLeaseTerms({ ...terms(1_200_000n, 1_100_000n, 200_000n, 9_900, false), token }));
  await tick();
  await send(
    (escrow.connect(operator) as Contract).setLeaseTerms(2n, {
      ...terms(900_000n, 800_000n, 150_000n, 8_000, true),
      token,
    }),
  );
  log(`vault ${vaultAddress} holds asset 1; terms published`);

  // The oracle's baseline, then the leases.
  const values = SERVERS.map(() => ({ busy: 0n, available: 0n, energy: 0n }));
  let batches = 0;
  const post = async (h: number, time: bigint) => {
    const history = await fetchMeterHistory(provider as never, await oracle.getAddress());
    const readings: Reading[] = [];
    for (const [i, s] of SERVERS.entries()) {
      const m = h === 0 ? { available: 0, busy: 0, watts: 0 } : hourOf(i, h);
      if (!m) continue;
      const v = values[i]!;
      v.available += BigInt(Math.round(m.available * 3600));
      v.busy += BigInt(Math.round(m.available * m.busy * 3600));
      v.energy += BigInt(Math.round(m.watts * m.available * 3600 + 20 * (s.gpuCount - m.available) * 3600));
      readings.push({
        assetId: BigInt(i + 1),
        previousBatch: history.previousBatchOf(BigInt(i + 1)),
        busyGpuSeconds: v.busy,
        availableGpuSeconds: v.available,
        energyJ: v.energy,
      });
    }
    const batch = makeBatch(
      BigInt(await oracle.configVersion()),
      BigInt(await oracle.nextBatchIndex()),
      time,
      readings,
    );
    const signatures = await Promise.all(signers.map((s) => signBatch(s, domain, batch)));
    await at(time);
    await send(oracle.submit(...submitArgs(batch, signatures)));
    batches++;
  };
  const t0 = now + 60n;
  await post(0, t0);
  const lumen = await as(ROLE.lumen);
  const quark = await as(ROLE.quark);
  for (const who of [ROLE.lumen, ROLE.quark]) {
    await tick();
    await send(usdc.mint(accounts[who], 1_000n * USDC));
    await tick();
    await send((usdc.connect(await as(who)) as Contract).approve(await escrow.getAddress(), 2n ** 255n));
  }
  await tick();
  await send(
    (escrow.connect(lumen) as Contract).openLease(1n, await escrow.currentTermsVersion(1n), 24n * HOUR, 400n * USDC),
  );
  await tick();
  await send(
    (escrow.connect(quark) as Contract).openLease(2n, await escrow.currentTermsVersion(2n), 48n * HOUR, 300n * USDC),
  );
  log("two leases open");

  // The operator borrows against server 2 (its own, leased to Quark): pledged, funded by the lender.
  const lender = await as(ROLE.lender);
  const principal = 200n * USDC;
  await tick();
  await send(usdc.mint(accounts[ROLE.lender], principal));
  await tick();
  await send((usdc.connect(lender) as Contract).approve(await facility.getAddress(), principal));
  await tick();
  await send((nft.connect(operator) as Contract).setApprovalForAll(await facility.getAddress(), true));
  await tick();
  await send(
    (facility.connect(operator) as Contract).pledge(2n, {
      token,
      principal,
      reserveTarget: 5n * USDC,
      interestRateBpsPerYear: 1_200,
      periodSeconds: 3n * 24n * HOUR,
      periodCount: 1,
      amortizationPeriods: 1,
      graceSeconds: 12n * HOUR,
    }),
  );
  const loanId = BigInt(await facility.loanCount());
  await tick();
  await send((facility.connect(lender) as Contract).fund(loanId));
  log(`loan ${loanId} against server 2 funded`);

  // The sponsor's demand-response programme: funded, servers 1 and 3 enrolled.
  const sponsor = await as(ROLE.sponsor);
  await tick();
  await send(usdc.mint(accounts[ROLE.sponsor], 10n * USDC));
  await tick();
  await send((usdc.connect(sponsor) as Contract).approve(await programme.getAddress(), 10n * USDC));
  await tick();
  await send((programme.connect(sponsor) as Contract).createProgramme(token));
  const programmeId = Number(await programme.programmeCount());
  await tick();
  await send((programme.connect(sponsor) as Contract).deposit(programmeId, 10n * USDC));
  for (const assetId of [1n, 3n]) {
    await tick();
    await send((programme.connect(sponsor) as Contract).enroll(programmeId, assetId));
  }

  // 30 hourly batches; the grid event is announced after 14 h; Quark ends its lease early after 20 h.
  let eventIndex = 0;
  let event: StoredEvent | undefined;
  for (let h = 1; h <= 30; h++) {
    await post(h, t0 + BigInt(h) * HOUR);
    if (h === EVENT_START_HOUR - 2) {
      // Notice now, curtail from hour 16 to 18; baseline: the 2 h before the notice. 2 USDC per kWh
      // reduced, up to 1 kWh per server.
      await tick();
      await send(
        (programme.connect(sponsor) as Contract).announce(programmeId, {
          noticeTime: now,
          startTime: t0 + BigInt(EVENT_START_HOUR) * HOUR,
          endTime: t0 + BigInt(EVENT_END_HOUR) * HOUR,
          ratePerKWh: 2n * USDC,
          committedReductionJ: 3_600_000n,
          baselineRule: BaselineRule.PreNotice,
          baselineWindowSeconds: 2n * HOUR,
        }),
      );
      eventIndex = Number((await programme.programmeOf(programmeId)).eventCount);
      event = (await programme.eventOf(programmeId, eventIndex)) as StoredEvent;
      // The feeder's demand-response hook: the boundaries must be readings; here they are hourly batches.
      for (const time of boundaryPostTimes([event], now)) {
        if ((time - t0) % HOUR !== 0n) throw new Error(`event boundary ${time} is not an hourly batch`);
      }
    }
    if (h === EVENT_END_HOUR) {
      // The event is over and its end is metered: prove both servers' reductions from the chain's meters.
      // (Up to the head as the node reports it now: ethers may answer getBlockNumber from its cache.)
      const head = Number(await provider.send("eth_blockNumber", []));
      const history = await fetchMeterHistory(provider as never, await oracle.getAddress(), { toBlock: head });
      if (now !== eventTimes(event!).endTime) throw new Error("the last batch is not at the event end");
      for (const assetId of [1n, 3n]) {
        const proofs = reductionProofs(history, event!, assetId);
        if (!proofs) throw new Error(`server ${assetId}: no reading at the event end`);
        await tick();
        await send(programme.proveReduction(programmeId, eventIndex, assetId, proofs));
      }
      await tick();
      await send(programme.claimOwnerCredit(programmeId, eventIndex, 1n));
      log(`grid event ${programmeId}-${eventIndex}: reductions proven, server 1's credit paid to its vault`);
    }
    if (h === 20) {
      await tick();
      await send((escrow.connect(quark) as Contract).endByLessee(2n));
    }
  }
  log(`${batches} oracle batches accepted`);

  const proofsFor = async (leaseId: bigint, forDispute = false) => {
    const lease = await escrow.leaseOf(leaseId);
    const history = await fetchMeterHistory(provider as never, await oracle.getAddress());
    const billableBy = forDispute ? undefined : now + 12n - BigInt(await escrow.disputeWindowSeconds());
    return leaseProofs(history, lease, billableBy);
  };

  // A day later the first readings are billable: settle lease 1, close lease 2.
  await at(t0 + 46n * HOUR);
  const settle = await proofsFor(1n);
  if (!settle) throw new Error("lease 1: nothing billable");
  await tick();
  await send(escrow.settle(1n, settle.start, settle.point));
  const close2 = await proofsFor(2n);
  await tick();
  await send(
    close2?.final ? escrow.close(2n, close2.start, close2.point) : escrow.close(2n, ABSENT_BOUNDARY, ABSENT_BOUNDARY),
  );
  log("lease 1 settled, lease 2 closed");

  // The loan: lease 2's revenue reached the custody; harvest it, the operator repays the rest, the
  // lender claims.
  await tick();
  await send(facility.harvest(loanId));
  await tick();
  await send((usdc.connect(operator) as Contract).approve(await facility.getAddress(), principal));
  await tick();
  await send((facility.connect(operator) as Contract).repay(loanId, principal));
  await tick();
  await send((facility.connect(lender) as Contract).claimAsLender(loanId, accounts[ROLE.lender]));
  log(`loan ${loanId} harvested, repaid, claimed`);

  // Lumen disputes the rest of its bill (readings of any age); the arbiter refunds a quarter.
  const dispute = await proofsFor(1n, true);
  if (!dispute) throw new Error("lease 1: nothing to dispute");
  await tick();
  await send((escrow.connect(lumen) as Contract).dispute(1n, dispute.start, dispute.point));
  const disputed = BigInt((await escrow.leaseOf(1n)).disputed);
  await tick();
  await send((escrow.connect(await as(ROLE.arbiter)) as Contract).resolveDispute(1n, disputed / 4n));
  log(`dispute of ${disputed} resolved`);

  // Lease 1 expired; close it with its final reading once billable.
  await at(t0 + 56n * HOUR);
  const close1 = await proofsFor(1n);
  await tick();
  await send(
    close1?.final ? escrow.close(1n, close1.start, close1.point) : escrow.close(1n, ABSENT_BOUNDARY, ABSENT_BOUNDARY),
  );

  // Revenue: the vault harvests, Helios and Ana claim, Ana sells 100 shares to Cleo; withdrawals.
  await tick();
  await send(vault.harvest());
  await tick();
  await send((vault.connect(operator) as Contract).claim(accounts[ROLE.operator]));
  await tick();
  await send((vault.connect(await as(ROLE.ana)) as Contract).claim(accounts[ROLE.ana]));
  await tick();
  await send((vault.connect(await as(ROLE.ana)) as Contract).transfer(accounts[ROLE.cleo], 100n * SHARE));
  await tick();
  await send((escrow.connect(operator) as Contract).withdraw(token, accounts[ROLE.operator]));
  await tick();
  await send((escrow.connect(quark) as Contract).withdraw(token, accounts[ROLE.quark]));
  log("harvested, claimed, withdrawn");
  provider.destroy();
  return {
    assets,
    vault: vaultAddress,
    leases: [1n, 2n],
    batches,
    loans: [loanId],
    programmeId,
    eventIndex,
  } satisfies ScenarioResult;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const rpc = flag("rpc");
  const deployments = flag("deployments");
  if (!rpc || !deployments) {
    console.error("usage: tsx scripts/scenario.ts --rpc <url> --deployments <dir>");
    process.exit(2);
  }
  runScenario(rpc, path.resolve(deployments), (line) => console.log(line)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
