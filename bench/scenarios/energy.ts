/**
 * Demand-response gas: announcing an event, checking in, proving a reduction per asset, claiming a
 * credit, and the escrow's settle of a curtailable lease past a recorded event. Every batch the oracle
 * accepts holds 500 readings (the proven assets and 498 others), so each reading proof is 9 hashes
 * deep, as in the escrow scenarios. The feeder posts hourly on the 15-minute grid and adds readings at
 * each event's start and end (`boundaryPostTimes`), so the four meters of a reduction (the baseline
 * window's ends, on the grid, and the event's ends) are each proven by one reading: four proofs.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { gasOf, type BenchScenario } from "../lib";
import type { Values } from "../../test/helpers/oracleRig";
import { DISPUTE_WINDOW, GPUS, HOUR, DAY, USDC, termsFor } from "../../test/escrow/helpers";
import {
  createdProgramme,
  curtailment,
  deployProgramme,
  eventParams,
  MINUTE,
  prove,
  storedEvent,
} from "../../test/energy/helpers";
import { boundaryPostTimes, INTERVAL_SECONDS, reductionProofs } from "../../src/demandResponse";

const BATCH_READINGS = 500;
/** Watts per GPU at full load, and while curtailed. */
const FULL_W = 600n;
const CURTAILED_W = 60n;

/**
 * The programme fixture plus a feeder posting 500-reading batches. Assets 1..`enrolled` exist and are
 * enrolled; the ones in `curtailers` draw the `watts` each post is given, every other asset full load.
 */
async function deployWithFeed(enrolled = 2, curtailers: readonly bigint[] = [1n]) {
  const f = await createdProgramme(await deployProgramme(), 1_000n * USDC, [1n, 2n]);
  for (let id = 3; id <= enrolled; id++) {
    await f.nft.mint(f.provider.address, {
      gpuModel: "NVIDIA H100 80GB HBM3",
      datacenter: "eu-west-fra2",
      serialsHash: ethers.id(`bench-serials-${id}`),
      vramMiBPerGpu: 81_559,
      gpuCount: Number(GPUS),
      tdpWattsPerGpu: 700,
    });
    await f.programme.connect(f.sponsor).enroll(1, BigInt(id));
  }
  const grow = (c: Values, elapsed: bigint, watts: bigint): Values => ({
    busyGpuSeconds: c.busyGpuSeconds + (watts === FULL_W ? GPUS * elapsed : 0n),
    availableGpuSeconds: c.availableGpuSeconds + GPUS * elapsed,
    energyJ: c.energyJ + GPUS * elapsed * watts,
  });
  let curtailing: Values = { busyGpuSeconds: 16_588_800n, availableGpuSeconds: 20_736_000n, energyJ: 13_063_680_000n };
  let steady: Values = { ...curtailing };
  let last = 0n;
  /** Posts a batch at `timestamp`: the curtailers drew `watts` per GPU since the last batch, the others full load. */
  const post = async (timestamp: bigint, watts: bigint) => {
    const elapsed = last === 0n ? 0n : timestamp - last;
    last = timestamp;
    curtailing = grow(curtailing, elapsed, watts);
    steady = grow(steady, elapsed, FULL_W);
    const values = new Map<bigint, Values>();
    for (let id = 1n; id <= BigInt(BATCH_READINGS); id++) {
      const base = curtailers.includes(id) ? curtailing : steady;
      values.set(id, { ...base, energyJ: base.energyJ + id });
    }
    await f.rig.post(timestamp, values);
  };
  return { ...f, post, curtailers };
}

type Run = Awaited<ReturnType<typeof deployWithFeed>> & {
  t0: bigint;
  start: bigint;
  end: bigint;
  announceGas: number;
  checkInGas: number;
};

/**
 * Runs an event on a fed programme: hourly readings from `from` (on the grid); notice 7 minutes past
 * the 5th hour (the baseline window is hours 3–5); the event 45 minutes later for 2 hours; asset 1
 * curtails (its lessee checks in), asset 2 does not. Ends with the reading 30 minutes after the end.
 */
async function runEvent(f: Awaited<ReturnType<typeof deployWithFeed>>, from: bigint, eventIndex: number): Promise<Run> {
  for (let h = 1n; h <= 5n; h++) await f.post(from + h * HOUR, FULL_W);
  const notice = from + 5n * HOUR + 7n * MINUTE;
  const start = notice + 45n * MINUTE;
  const end = start + 2n * HOUR;
  await time.setNextBlockTimestamp(notice);
  const announceGas = await gasOf(f.programme.connect(f.sponsor).announce(1, eventParams(notice, start, end)));
  const boundaries = boundaryPostTimes([await storedEvent(f.programme, 1, eventIndex)], from + 5n * HOUR);
  const times = [from + 6n * HOUR, ...boundaries, from + 7n * HOUR, from + 8n * HOUR, end + 30n * MINUTE].sort(
    (a, b) => (a < b ? -1 : 1),
  );
  let checkInGas = 0;
  for (const t of times) {
    await f.post(t, t > start && t <= end ? CURTAILED_W : FULL_W);
    if (t === start) {
      await time.setNextBlockTimestamp(start + 60n);
      checkInGas = await gasOf(f.programme.connect(f.other).checkIn(1, eventIndex, 1n));
    }
  }
  return { ...f, t0: from, start, end, announceGas, checkInGas };
}

/** A programme with two enrolled assets; asset 1 leased on curtailable terms; one event run. */
async function eventRun(enrolled = 2, curtailers: readonly bigint[] = [1n]): Promise<Run> {
  const f = await deployWithFeed(enrolled, curtailers);
  await f.escrow
    .connect(f.provider)
    .setCurtailableLeaseTerms(1n, termsFor(await f.usdc.getAddress()), await curtailment(f.programme));
  await f.programme.connect(f.provider).setLesseeShare(1, 1n, 3_000);
  const now = BigInt(await time.latest()) + 60n;
  const t0 = now - (now % INTERVAL_SECONDS) + INTERVAL_SECONDS;
  await f.post(t0, FULL_W);
  await time.setNextBlockTimestamp(t0 + 10n);
  await f.escrow.connect(f.lessee).openLease(1n, 1, DAY, 500n * USDC);
  return runEvent(f, t0, 1);
}

export const scenarios: BenchScenario[] = [
  {
    key: "energy.announce",
    target: 80_000,
    note: "announce the programme's second event (PreNotice baseline), 2 enrolled assets: one new slot for the event, the programme's two slots updated (count and end; funds), 2 x the largest credit reserved",
    run: async () => {
      const f = await eventRun();
      return (await runEvent(f, f.end + HOUR - ((f.end + HOUR) % HOUR), 2)).announceGas;
    },
  },
  {
    key: "energy.checkIn",
    target: 70_000,
    note: "checkIn by a keeper during the event: records the asset's NFT user and the owner's lessee share (one new slot); target set by this suite, not the issue",
    run: async () => (await eventRun()).checkInGas,
  },
  {
    key: "energy.proveReduction",
    target: 150_000,
    note: "proveReduction of one asset that curtailed (credited, owed to owner and lessee), alone in its transaction: four depth-9 single-reading proofs re-encoded into four oracle meterAt calls, outcome recorded (one new slot), reservation slice settled",
    run: async () => {
      const f = await eventRun();
      return gasOf(prove(f.programme, f.rig, 1, 1, 1n, f.other));
    },
  },
  {
    key: "energy.proveReductions.perAsset.10",
    target: 150_000,
    note: "proveReductions of 10 assets of one event in one transaction, every one curtailed and credited (owed), gas per asset (the transaction's gas / 10); four depth-9 single-reading proofs per asset",
    run: async () => {
      const assets = Array.from({ length: 10 }, (_, i) => BigInt(i + 1));
      const f = await eventRun(10, assets);
      const ev = await storedEvent(f.programme, 1, 1);
      const history = await f.rig.history();
      const proofs = assets.map((a) => reductionProofs(history, ev, a)!);
      const gas = await gasOf(f.programme.connect(f.other).proveReductions(1, 1, assets, proofs));
      return Math.round(gas / assets.length);
    },
  },
  {
    key: "energy.proveReduction.nonCompliance",
    target: 150_000,
    note: "proveReduction of an asset that did not curtail: non-compliance recorded, its reservation slice back to the sponsor",
    run: async () => {
      const f = await eventRun();
      return gasOf(prove(f.programme, f.rig, 1, 1, 2n, f.other));
    },
  },
  {
    key: "energy.claimOwnerCredit",
    target: 80_000,
    note: "claimOwnerCredit: pays the owner's part (credit less the lessee's share) to the NFT owner, who already holds the token; target set by this suite, not the issue",
    run: async () => {
      const f = await eventRun();
      await prove(f.programme, f.rig, 1, 1, 1n, f.other);
      await f.usdc.mint(f.provider.address, 1n);
      return gasOf(f.programme.connect(f.other).claimOwnerCredit(1, 1, 1n));
    },
  },
  {
    key: "escrow.settle.curtailable",
    target: 120_000,
    note: "settle of a curtailable lease (start meter stored) up to a reading past one recorded event: the escrow reads the programme (binary search, one counted event), depth-9 proof",
    run: async () => {
      const f = await eventRun();
      await prove(f.programme, f.rig, 1, 1, 1n, f.other);
      const history = await f.rig.history();
      const lease = await f.escrow.leaseOf(1n);
      const at1 = f.start + DISPUTE_WINDOW + 10n * MINUTE;
      await time.setNextBlockTimestamp(at1);
      await f.escrow
        .connect(f.other)
        .settle(1n, history.boundaryAt(1n, lease.startTime)!.boundary, history.boundaryAt(1n, f.start)!.boundary);
      for (let h = 10n; h <= 11n; h++) await f.post(f.t0 + h * HOUR, FULL_W);
      const at = f.t0 + 11n * HOUR + DISPUTE_WINDOW + 60n;
      await time.setNextBlockTimestamp(at);
      return gasOf(f.keeper.settle(1n, f.other, at));
    },
  },
];
