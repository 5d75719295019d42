/**
 * A deterministic, seeded GPU simulator for demos and tests. Every value is a pure function of
 * (seed, GPU UUID, time), so a feeder restarted mid-run sees exactly the telemetry it would have
 * seen, and a test can compute the expected energy in closed form. Per GPU it draws a base load,
 * a sinusoidal swing, a power curve between idle and TDP, optional dropout windows (the GPU stops
 * reporting) and optional energy-counter resets (driver reloads).
 */
import type { GpuSample } from "../types";
import type { TelemetrySource } from "./source";

export interface SimulatorOptions {
  seed: number;
  gpus: string[];
  tdpWatts: number;
  idleWatts?: number;
  model?: string;
  /** Whether samples carry a DCGM-style energy counter (else only power, as nvidia-smi). */
  energyCounter?: boolean;
  /** Probability that a GPU is silent during a 60 s window. Default 0. */
  dropoutProbability?: number;
  /** Probability that a GPU's energy counter resets at the start of a 300 s window. Default 0. */
  resetProbability?: number;
}

const ORIGIN_S = 1_600_000_000; // keeps the closed-form integrals small enough for exact-ish floats
const DROPOUT_WINDOW_S = 60;
const RESET_WINDOW_S = 300;

/** 32-bit FNV-1a of a string, then mixed: a stable hash for (seed, uuid, window) keys. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) from a key. */
export function unit(key: string): number {
  return hash32(key) / 2 ** 32;
}

interface GpuModel {
  baseUtil: number;
  swingUtil: number;
  omega: number;
  phase: number;
}

export class GpuSimulator {
  private readonly models = new Map<string, GpuModel>();
  readonly idleWatts: number;

  constructor(readonly options: SimulatorOptions) {
    this.idleWatts = options.idleWatts ?? Math.round(options.tdpWatts * 0.1);
    for (const uuid of options.gpus) {
      const k = `${options.seed}:${uuid}`;
      const baseUtil = 20 + 60 * unit(`${k}:base`);
      const swingUtil = Math.min(baseUtil, 100 - baseUtil) * unit(`${k}:swing`);
      const periodS = 120 + 600 * unit(`${k}:period`);
      this.models.set(uuid, {
        baseUtil,
        swingUtil,
        omega: (2 * Math.PI) / periodS,
        phase: 2 * Math.PI * unit(`${k}:phase`),
      });
    }
  }

  private model(uuid: string): GpuModel {
    const m = this.models.get(uuid);
    if (!m) throw new Error(`simulator has no GPU ${uuid}`);
    return m;
  }

  /** Smooth utilization in percent at time t (seconds). */
  utilizationAt(uuid: string, tS: number): number {
    const m = this.model(uuid);
    return m.baseUtil + m.swingUtil * Math.sin(m.omega * (tS - ORIGIN_S) + m.phase);
  }

  /** Power in watts at time t: idle plus the utilization's share of (TDP − idle). */
  powerAt(uuid: string, tS: number): number {
    return this.idleWatts + ((this.options.tdpWatts - this.idleWatts) * this.utilizationAt(uuid, tS)) / 100;
  }

  /** ∫ power dt from ORIGIN to t, joules (closed form). */
  energyIntegralJ(uuid: string, tS: number): number {
    const m = this.model(uuid);
    const x = tS - ORIGIN_S;
    const span = (this.options.tdpWatts - this.idleWatts) / 100;
    return (
      this.idleWatts * x +
      span * (m.baseUtil * x - (m.swingUtil / m.omega) * (Math.cos(m.omega * x + m.phase) - Math.cos(m.phase)))
    );
  }

  /** Whether the GPU is silent at t (a dropout window). */
  isSilent(uuid: string, tS: number): boolean {
    const p = this.options.dropoutProbability ?? 0;
    return p > 0 && unit(`${this.options.seed}:${uuid}:drop:${Math.floor(tS / DROPOUT_WINDOW_S)}`) < p;
  }

  /** Start of the counter's current life: the newest reset window start at or before t (bounded look-back). */
  counterEpochS(uuid: string, tS: number): number {
    const p = this.options.resetProbability ?? 0;
    const w = Math.floor(tS / RESET_WINDOW_S);
    if (p > 0) {
      for (let back = 0; back < 1000; back++) {
        if (unit(`${this.options.seed}:${uuid}:reset:${w - back}`) < p) return (w - back) * RESET_WINDOW_S;
      }
    }
    return ORIGIN_S;
  }

  /** The DCGM-style counter at t, joules since the counter's last reset. */
  energyCounterJ(uuid: string, tS: number): number {
    return this.energyIntegralJ(uuid, tS) - this.energyIntegralJ(uuid, this.counterEpochS(uuid, tS));
  }

  /** Samples of every non-silent GPU at `timeMs`. Utilization gets a seeded ±2 % jitter per second. */
  sample(timeMs: number): GpuSample[] {
    const tS = timeMs / 1000;
    const out: GpuSample[] = [];
    for (const uuid of this.options.gpus) {
      if (this.isSilent(uuid, tS)) continue;
      const jitter = 4 * unit(`${this.options.seed}:${uuid}:j:${Math.floor(tS)}`) - 2;
      const s: GpuSample = {
        uuid,
        timeMs,
        utilizationPct: Math.min(100, Math.max(0, Math.round(this.utilizationAt(uuid, tS) + jitter))),
        powerW: Math.round(this.powerAt(uuid, tS) * 100) / 100,
        powerLimitW: this.options.tdpWatts,
      };
      if (this.options.model) s.model = this.options.model;
      if (this.options.energyCounter) s.energyCounterJ = Math.floor(this.energyCounterJ(uuid, tS) * 1000) / 1000;
      out.push(s);
    }
    return out;
  }
}

/** The simulator as a source: samples at the clock's current time. */
export class SimulatorSource implements TelemetrySource {
  readonly name = "simulator";
  readonly sim: GpuSimulator;

  constructor(
    options: SimulatorOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.sim = new GpuSimulator(options);
  }

  async read(): Promise<GpuSample[]> {
    return this.sim.sample(this.now());
  }

  async close(): Promise<void> {}
}

/** Renders samples as dcgm-exporter text (for tests, benchmarks and demos). */
export function renderDcgm(samples: GpuSample[], hostname = "gpu-node-1"): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, type: string, pick: (s: GpuSample) => string | undefined) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    samples.forEach((s, i) => {
      const v = pick(s);
      if (v === undefined) return;
      lines.push(
        `${name}{gpu="${i}",UUID="${s.uuid}",pci_bus_id="00000000:${(0x18 + i).toString(16).padStart(2, "0")}:00.0",device="nvidia${i}",modelName="${s.model ?? "NVIDIA H100 80GB HBM3"}",Hostname="${hostname}",DCGM_FI_DRIVER_VERSION="550.90.07"} ${v}`,
      );
    });
  };
  metric("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "gauge", (s) => s.utilizationPct?.toString());
  metric("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "gauge", (s) => s.powerW?.toFixed(6));
  metric("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "Total energy consumption since boot (in mJ).", "counter", (s) =>
    s.energyCounterJ === undefined ? undefined : Math.round(s.energyCounterJ * 1000).toString(),
  );
  return lines.join("\n") + "\n";
}

/** Renders samples as `nvidia-smi --format=csv` text with header and units (for tests and demos). */
export function renderNvidiaSmiCsv(samples: GpuSample[]): string {
  const pad = (n: number) => n.toString().padStart(2, "0");
  const ts = (ms: number) => {
    const d = new Date(ms);
    return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${d.getMilliseconds().toString().padStart(3, "0")}`;
  };
  const rows = samples.map(
    (s, i) =>
      `${ts(s.timeMs)}, ${i}, ${s.uuid}, ${s.model ?? "NVIDIA H100 80GB HBM3"}, ${s.utilizationPct === undefined ? "[N/A]" : `${s.utilizationPct} %`}, ${s.powerW === undefined ? "[N/A]" : `${s.powerW.toFixed(2)} W`}, ${s.powerLimitW === undefined ? "[N/A]" : `${s.powerLimitW.toFixed(2)} W`}, 40536 MiB, 81559 MiB, 54`,
  );
  return (
    "timestamp, index, uuid, name, utilization.gpu [%], power.draw [W], power.limit [W], memory.used [MiB], memory.total [MiB], temperature.gpu\n" +
    rows.join("\n") +
    "\n"
  );
}
