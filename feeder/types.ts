/**
 * Types shared by the feeder's pure modules. Units follow DESIGN.md: seconds, GPU-seconds, joules,
 * watts; telemetry is normalized into these units by `sources/normalize.ts` and nowhere else.
 */

/**
 * One observation of one GPU, normalized. Optional fields are absent when the tool did not report
 * them or reported a bracketed "no value" (`[N/A]`, `[Not Supported]`, …): absent is never zero.
 */
export interface GpuSample {
  /**
   * The GPU's key: its UUID (`GPU-…`) when the tool reports one, else `pci:<bus id>`,
   * `serial:<serial>` or `index:<host>/<n>` (see `gpuKeys`). The controller rewrites it to the
   * key the configuration names this GPU by.
   */
  uuid: string;
  /** Every other key this GPU can be named by (PCI bus id, serial, host + index). */
  aliases?: string[];
  /** When the sample was taken, unix milliseconds. */
  timeMs: number;
  /**
   * Percent of the sample period the GPU was busy, 0..100. Absent means **busy unknown** (the tool
   * gave no utilization): no busy time accrues for the interval, and the feeder says so loudly.
   */
  utilizationPct?: number;
  /** Which field the utilization came from (`utilization.gpu`, `DCGM_FI_DEV_GPU_UTIL`, …). */
  utilizationSource?: string;
  /** Power draw in watts. */
  powerW?: number;
  /** Power limit in watts. */
  powerLimitW?: number;
  /** Cumulative energy counter in joules since boot / driver load (DCGM); it can reset. */
  energyCounterJ?: number;
  /** Memory used, MiB. */
  memoryUsedMiB?: number;
  /** Memory total, MiB. */
  memoryTotalMiB?: number;
  /** Temperature, °C. */
  temperatureC?: number;
  /** GPU model name as reported. */
  model?: string;
}

/** How a GPU can be identified; the keys below are what a config's `assets[].gpus` lists. */
export interface GpuIdentity {
  uuid?: string;
  pciBusId?: string;
  serial?: string;
  index?: number;
  /** The host label of the source (config `sources[].host`); index keys need it. */
  host?: string;
}

/** Normalizes a PCI bus id to nvidia-smi's form: 8-digit domain, upper-case hex (`00000000:3B:00.0`). */
export function normalizePciBusId(raw: string): string | undefined {
  const m = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(raw.trim());
  if (!m) return undefined;
  const pad = (v: string, n: number) => v.toUpperCase().padStart(n, "0");
  return `${pad(m[1] ?? "0", 8)}:${pad(m[2], 2)}:${pad(m[3], 2)}.${m[4]}`;
}

/** A GPU's keys, most specific first: UUID, `pci:…`, `serial:…`, `index:<host>/<n>`. */
export function gpuKeys(id: GpuIdentity): string[] {
  const keys: string[] = [];
  if (id.uuid) keys.push(id.uuid);
  if (id.pciBusId) keys.push(`pci:${id.pciBusId}`);
  if (id.serial) keys.push(`serial:${id.serial}`);
  if (id.index !== undefined && id.host) keys.push(`index:${id.host}/${id.index}`);
  return keys;
}

/** What the oracle checks a reading against (from the NFT spec, and the oracle's energy margin). */
export interface AssetLimits {
  gpuCount: number;
  tdpWattsPerGpu: number;
}

/** Minimal structured logger the pure-ish modules and the controller use (pino satisfies it). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
