/**
 * What the demo puts around the feeder's real code: a scripted telemetry source around the seeded
 * simulator (idle, normal load, full load, partial outage, silence, a curtailed draw), and a logger that keeps
 * what each feeder said. Meters, co-signing, batches and the chain adapter are the feeder's own
 * (`scripts/demo/feederNetwork.ts` wires them).
 */
import type { SimulatorSource } from "../../feeder/sources/simulator";
import type { TelemetrySource } from "../../feeder/sources/source";
import type { GpuSample, Logger } from "../../feeder/types";

export type Condition =
  /** No tenant: GPUs report 0 % and idle power. */
  | { kind: "idle" }
  /** The simulator's seeded load. */
  | { kind: "load" }
  /** The last `silentGpus` GPUs stop reporting (they are down); the others carry on. */
  | { kind: "outage"; silentGpus: number }
  /** Nothing reports at all. */
  | { kind: "silent" }
  /** Curtailed for the grid: every GPU reports but draws idle power and does no work. */
  | { kind: "curtailed" }
  /** A job that keeps every GPU at 100 % and its power limit (a training run). */
  | { kind: "full" };

/** The seeded simulator of one server, with the story's conditions applied to its samples. */
export class ScriptedSource implements TelemetrySource {
  readonly name: string;

  constructor(
    private readonly inner: SimulatorSource,
    private readonly gpus: string[],
    private readonly condition: () => Condition,
    name: string,
    /** The simulator runs this far ahead of the story's clock; samples are stamped back on the clock. */
    private readonly shiftMs = 0,
  ) {
    this.name = name;
  }

  async read(): Promise<GpuSample[]> {
    const c = this.condition();
    if (c.kind === "silent") return [];
    const samples = (await this.inner.read()).map((s) => ({ ...s, timeMs: s.timeMs - this.shiftMs }));
    if (c.kind === "outage") {
      const down = new Set(this.gpus.slice(this.gpus.length - c.silentGpus));
      return samples.filter((s) => !down.has(s.uuid));
    }
    if (c.kind === "idle" || c.kind === "curtailed") {
      return samples.map((s) => ({ ...s, utilizationPct: 0, powerW: this.inner.sim.idleWatts }));
    }
    if (c.kind === "full")
      return samples.map((s) => ({ ...s, utilizationPct: 100, powerW: s.powerLimitW ?? s.powerW }));
    return samples;
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}

/** A logger that keeps the feeder's warnings and errors (the demo shows them and fails on errors). */
export class KeepingLogger implements Logger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  debug(): void {}
  info(): void {}
  warn(obj: object, msg?: string): void {
    this.warnings.push(`${msg ?? ""} ${JSON.stringify(obj, bigintJson)}`);
  }
  error(obj: object, msg?: string): void {
    this.errors.push(`${msg ?? ""} ${JSON.stringify(obj, bigintJson)}`);
  }
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
