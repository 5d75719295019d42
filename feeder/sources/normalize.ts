/**
 * The one place where telemetry units are normalized. Every parser hands raw text fields here and
 * gets numbers in the feeder's units back: percent, watts, MiB, °C, joules. Missing values
 * (`[N/A]`, `[Not Supported]`, empty, `N/A`) become `undefined`, never zero.
 */

/** Unbracketed spellings of "no value" (older drivers, `-q` output, DCGM's blank fields). */
const MISSING = new Set(["", "n/a", "not supported", "nan", "err!"]);

/**
 * Whether a raw field means "no value". Every bracketed value nvidia-smi prints is one —
 * `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `[Requested functionality has been deprecated]`,
 * `[GPU is lost]`, `[Insufficient Permissions]`, `[Function Not Found]`, … — whatever the words.
 */
export function isMissing(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  const t = raw.trim();
  return (t.startsWith("[") && t.endsWith("]")) || MISSING.has(t.toLowerCase());
}

/** Multipliers from a unit to the feeder's unit for each quantity. */
const UNIT_FACTORS: Record<string, Record<string, number>> = {
  percent: { "%": 1, "": 1 },
  watts: { w: 1, "": 1, mw: 1e-3, kw: 1e3 },
  mib: { mib: 1, "": 1, kib: 1 / 1024, gib: 1024, mb: 1e6 / 1048576, gb: 1e9 / 1048576 },
  celsius: { c: 1, "": 1 },
  joules: { j: 1, "": 1, mj: 1e-3, kj: 1e3, kwh: 3.6e6, wh: 3600 },
};

export type Quantity = keyof typeof UNIT_FACTORS;

/**
 * Parses `"250.12 W"`, `"45 %"`, `"40536 MiB"`, `"45"` into a number in the feeder's unit for the
 * quantity. A unit the quantity does not know throws (a silent wrong unit is worse than an error);
 * missing values return undefined.
 */
export function parseQuantity(raw: string | undefined, quantity: Quantity): number | undefined {
  if (isMissing(raw)) return undefined;
  const text = (raw as string).trim();
  const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%°]*)$/.exec(text);
  if (!m) throw new Error(`cannot parse ${quantity} value "${text}"`);
  const unit = m[2].replace("°", "").toLowerCase();
  // `mJ` vs `MJ` is ambiguous once lowercased; telemetry tools only ever print millijoules.
  const factor = UNIT_FACTORS[quantity][unit];
  if (factor === undefined) throw new Error(`unknown unit "${m[2]}" for ${quantity} in "${text}"`);
  const value = Number(m[1]) * factor;
  if (!Number.isFinite(value)) throw new Error(`non-finite ${quantity} value "${text}"`);
  return value;
}

/** DCGM's energy counter is in millijoules: the conversion to joules lives here. */
export function millijoulesToJoules(mj: number): number {
  return mj / 1000;
}

/**
 * Parses nvidia-smi's timestamp column, `2024/05/01 12:34:56.789`, which is the host's local time
 * with no zone. Returns unix ms, or undefined when missing or unparseable.
 */
export function parseNvidiaSmiTimestamp(raw: string | undefined): number | undefined {
  if (isMissing(raw)) return undefined;
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec((raw as string).trim());
  if (!m) return undefined;
  const ms = m[7] ? Number(m[7].padEnd(3, "0")) : 0;
  const t = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms).getTime();
  return Number.isFinite(t) ? t : undefined;
}
