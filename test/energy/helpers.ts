/**
 * Fixtures for the demand-response suite: the real NFT, a real 2-of-3 UsageOracle fed with signed
 * batches (`OracleRig`), the escrow and a `DemandResponseProgramme`, with a sponsor holding
 * `SPONSOR_ROLE` and the programme holding the escrow's `PROGRAMME_ROLE`. Every proof is built from
 * the chain's logs by `src/meterHistory.ts` and `src/demandResponse.ts`, as a keeper would.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import {
  DemandResponseProgramme__factory,
  MockUSDC__factory,
  type DemandResponseProgramme,
  type MockUSDC,
} from "../../typechain-types";
import { deployCore, DAY, GPUS, HOUR, TDP_WATTS, USDC, termsFor } from "../escrow/helpers";
import type { Values } from "../helpers/oracleRig";
import type { OracleRig } from "../helpers/oracleRig";
import {
  BaselineRule,
  gridTimes,
  INTERVAL_SECONDS,
  reductionProofs,
  toStoredEvent,
  type StoredEvent,
} from "../../src/demandResponse";
import type { MeteringSpec } from "../../src/meterHistory";

export { BaselineRule, INTERVAL_SECONDS };

/** The next multiple of `interval` (default: the 15-minute grid) at least `margin` seconds after the chain's latest block. */
export async function nextGridTime(margin = 60n, interval = INTERVAL_SECONDS): Promise<bigint> {
  const now = BigInt(await time.latest()) + margin;
  return now - (now % interval) + interval;
}
export const MINUTE = 60n;
/** Energy margin of the test oracle (`deployCore`): 10 %. */
export const ENERGY_MARGIN_BPS = 1_000n;
/** The test asset's metering spec (8 × 700 W, 10 % margin). */
export const SPEC: MeteringSpec = { gpuCount: GPUS, tdpWattsPerGpu: TDP_WATTS, energyMarginBps: ENERGY_MARGIN_BPS };
/** 0.50 USDC per kWh reduced. */
export const RATE_PER_KWH = 500_000n;
/** 8 kWh per asset per event. */
export const COMMITTED_J = 8n * 3_600_000n;
/** Largest credit per asset: 8 kWh × 0.50 USDC = 4 USDC. */
export const MAX_CREDIT = (COMMITTED_J * RATE_PER_KWH) / 3_600_000n;

/** Load of one asset over a period: fractions (bps) of its GPUs available and busy, and watts per GPU drawn. */
export interface Load {
  availableBps: bigint;
  busyBps: bigint;
  wattsPerGpu: bigint;
}

export const FULL: Load = { availableBps: 10_000n, busyBps: 10_000n, wattsPerGpu: 600n };
export const IDLE: Load = { availableBps: 10_000n, busyBps: 0n, wattsPerGpu: 60n };

/**
 * A feeder for several assets: keeps each asset's cumulative counters and posts one signed batch per
 * call with every asset's reading at that time (each asset ran `load` since its previous reading).
 */
export class Feeder {
  readonly counters = new Map<bigint, Values & { at: bigint }>();
  constructor(readonly rig: OracleRig) {}

  /** Posts a batch at `timestamp`; `loads` gives each asset's load since its previous reading. */
  async post(timestamp: bigint, loads: Map<bigint, Load>) {
    const values = new Map<bigint, Values>();
    for (const [assetId, load] of loads) {
      const prev = this.counters.get(assetId);
      const next =
        prev === undefined
          ? { busyGpuSeconds: 1_000n, availableGpuSeconds: 5_000n, energyJ: 1_000_000n, at: timestamp }
          : (() => {
              const dt = timestamp - prev.at;
              const gpuSeconds = GPUS * dt;
              return {
                busyGpuSeconds: prev.busyGpuSeconds + (gpuSeconds * load.busyBps) / 10_000n,
                availableGpuSeconds: prev.availableGpuSeconds + (gpuSeconds * load.availableBps) / 10_000n,
                energyJ: prev.energyJ + gpuSeconds * load.wattsPerGpu,
                at: timestamp,
              };
            })();
      this.counters.set(assetId, next);
      values.set(assetId, {
        busyGpuSeconds: next.busyGpuSeconds,
        availableGpuSeconds: next.availableGpuSeconds,
        energyJ: next.energyJ,
      });
    }
    await this.rig.post(timestamp, values);
  }

  /** Posts at each time of `times` with the load `loadAt(time)` gives for the period ending then. */
  async run(times: readonly bigint[], loadAt: (t: bigint) => Map<bigint, Load>) {
    for (const t of times) await this.post(t, loadAt(t));
  }

  /** The latest time posted (0 before the first post). */
  lastPosted(): bigint {
    let last = 0n;
    for (const c of this.counters.values()) if (c.at > last) last = c.at;
    return last;
  }

  /**
   * Posts on the 15-minute grid (or every `step`, a multiple of it) from the last post up to `until`,
   * plus every time of `extra` in between (the event boundaries a feeder adds), each asset of `assets`
   * with the load `loadAt` gives.
   */
  async feed(
    until: bigint,
    assets: readonly bigint[],
    loadAt: (t: bigint, assetId: bigint) => Load,
    extra: readonly bigint[] = [],
    step = INTERVAL_SECONDS,
  ) {
    const from = this.lastPosted();
    const times = new Set<bigint>(gridTimes(from, until).filter((t) => t % step === 0n));
    for (const t of extra) if (t > from && t <= until) times.add(t);
    for (const t of [...times].sort((a, b) => (a < b ? -1 : 1))) {
      await this.post(t, new Map(assets.map((a) => [a, loadAt(t, a)])));
    }
  }
}

/** Every `step` seconds in (from, to], plus the extra times given, sorted and unique. */
export function schedule(from: bigint, to: bigint, step: bigint, extra: readonly bigint[] = []): bigint[] {
  const set = new Set<bigint>();
  for (let t = from + step; t <= to; t += step) set.add(t);
  for (const t of extra) if (t > from && t <= to) set.add(t);
  return [...set].sort((a, b) => (a < b ? -1 : 1));
}

/**
 * Core + a USDC-like token + a programme contract. Asset 1 (from `deployCore`) and asset 2 (minted
 * here, same spec) are owned by `provider`. The sponsor holds SPONSOR_ROLE and USDC; the programme
 * contract holds the escrow's PROGRAMME_ROLE.
 */
export async function deployProgramme() {
  const core = await deployCore();
  const { admin, provider, lessee, escrow, nft, oracle } = core;
  const signers = await ethers.getSigners();
  const sponsor = signers[8];
  const lessee2 = signers[9];
  const usdc = await new MockUSDC__factory(admin).deploy();
  const programme = await new DemandResponseProgramme__factory(admin).deploy(admin.address, await oracle.getAddress());
  await programme.grantRole(await programme.SPONSOR_ROLE(), sponsor.address);
  await programme.grantRole(await programme.PAUSER_ROLE(), admin.address);
  await escrow.grantRole(await escrow.PROGRAMME_ROLE(), await programme.getAddress());
  await escrow.setTokenAllowed(await usdc.getAddress(), true);
  await nft.mint(provider.address, {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: ethers.id("serials-2"),
    vramMiBPerGpu: 81_559,
    gpuCount: Number(GPUS),
    tdpWattsPerGpu: Number(TDP_WATTS),
  });
  for (const who of [sponsor, lessee, lessee2]) {
    await usdc.mint(who.address, 1_000_000n * USDC);
  }
  await usdc.connect(sponsor).approve(await programme.getAddress(), ethers.MaxUint256);
  await usdc.connect(lessee).approve(await escrow.getAddress(), ethers.MaxUint256);
  await usdc.connect(lessee2).approve(await escrow.getAddress(), ethers.MaxUint256);
  const feeder = new Feeder(core.rig);
  return { ...core, sponsor, lessee2, usdc, programme, feeder, asset2: 2n };
}

/** The curtailment terms used by most tests: programme 1, 10 % reservation discount, 2 events, 4 hours. */
export async function curtailment(
  programme: DemandResponseProgramme,
  overrides: Partial<Record<string, unknown>> = {},
) {
  return {
    programme: await programme.getAddress(),
    programmeId: 1,
    reservationDiscountBps: 1_000,
    maxEventsPerLease: 2,
    maxEventSecondsPerLease: Number(4n * HOUR),
    ...overrides,
  };
}

/** An announcement with the suite's defaults: PreNotice over 2 h, 0.50 USDC/kWh, 8 kWh committed. */
export function eventParams(
  noticeTime: bigint,
  startTime: bigint,
  endTime: bigint,
  overrides: Partial<Record<string, unknown>> = {},
) {
  return {
    noticeTime,
    startTime,
    endTime,
    ratePerKWh: RATE_PER_KWH,
    committedReductionJ: COMMITTED_J,
    baselineRule: BaselineRule.PreNotice,
    baselineWindowSeconds: 2n * HOUR,
    ...overrides,
  };
}

/** A programme created, funded with `funds` and with `assets` enrolled. */
export async function createdProgramme(
  f: Awaited<ReturnType<typeof deployProgramme>>,
  funds = 1_000n * USDC,
  assets: bigint[] = [1n, 2n],
) {
  await f.programme.connect(f.sponsor).createProgramme(await f.usdc.getAddress());
  if (funds > 0n) await f.programme.connect(f.sponsor).deposit(1, funds);
  for (const a of assets) await f.programme.connect(f.sponsor).enroll(1, a);
  return f;
}

/** The stored event, as `src/demandResponse.ts` takes it. */
export async function storedEvent(
  programme: DemandResponseProgramme,
  programmeId: bigint | number,
  eventIndex: bigint | number,
): Promise<StoredEvent> {
  return toStoredEvent(await programme.eventOf(programmeId, eventIndex));
}

/** Proves an asset's reduction with proofs built from the chain's history (throws when not provable yet). */
export async function prove(
  programme: DemandResponseProgramme,
  rig: OracleRig,
  programmeId: bigint | number,
  eventIndex: bigint | number,
  assetId: bigint,
  from?: Signer,
) {
  const ev = await storedEvent(programme, programmeId, eventIndex);
  const proofs = reductionProofs(await rig.history(), ev, assetId);
  if (!proofs) throw new Error(`event ${eventIndex}: no reading at or after its end for asset ${assetId}`);
  return (from ? programme.connect(from) : programme).proveReduction(programmeId, eventIndex, assetId, proofs);
}

/** Curtailable terms published for `assetId` (lease terms of the escrow suite, `curtailment` overrides). */
export async function publishCurtailable(
  f: Awaited<ReturnType<typeof deployProgramme>>,
  assetId: bigint,
  overrides: Partial<Record<string, unknown>> = {},
  termOverrides: Partial<Record<string, unknown>> = {},
) {
  await f.escrow
    .connect(f.provider)
    .setCurtailableLeaseTerms(
      assetId,
      termsFor(await f.usdc.getAddress(), termOverrides),
      await curtailment(f.programme, overrides),
    );
}

export { DAY, HOUR, GPUS, USDC, TDP_WATTS, termsFor, time, MockUSDC };
export type { MockUSDC as Usdc };
