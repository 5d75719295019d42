/**
 * Types shared by the feeder's pure modules. Units follow DESIGN.md: seconds, GPU-seconds, joules,
 * watts; telemetry is normalized into these units by `sources/normalize.ts` and nowhere else.
 */

/** One observation of one GPU, normalized. Optional fields are absent when the tool reported N/A. */
export interface GpuSample {
  /** The GPU's UUID as nvidia-smi and DCGM print it (`GPU-…`). */
  uuid: string;
  /** When the sample was taken, unix milliseconds. */
  timeMs: number;
  /** Percent of the sample period a kernel ran, 0..100. */
  utilizationPct?: number;
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

/** A reading as the oracle takes it (cumulative, integers). */
export interface OracleReading {
  assetId: bigint;
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** The oracle's stored meter as `latestReading` returns it (timestamp 0 = never reported). */
export interface OracleMeter {
  timestamp: bigint;
  busyGpuSeconds: bigint;
  availableGpuSeconds: bigint;
  energyJ: bigint;
}

/** An asset's `latestReading` as the feeder sees it: undefined when the asset was never reported. */
export function readingFromMeter(assetId: string, m: OracleMeter): OracleReading | undefined {
  if (m.timestamp === 0n) return undefined;
  return {
    assetId: BigInt(assetId),
    timestamp: m.timestamp,
    busyGpuSeconds: m.busyGpuSeconds,
    availableGpuSeconds: m.availableGpuSeconds,
    energyJ: m.energyJ,
  };
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
