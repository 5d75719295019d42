/**
 * Number formatting, one rule for the whole page: token amounts are exact base units (bigint) rounded
 * half up to cents, never through floating point; the parts of a total are rounded so that they add up
 * to the rounded total (largest remainder), so a bill never shows 630.86 + 169.13 for 800.00.
 */

/** Decimal places shown for token amounts. */
export const SHOWN_DECIMALS = 2;

/** Rounds `amount` (base units of a token with `decimals`) half up to `shown` decimals, in units of 10^-shown. */
export function roundToShown(amount: bigint, decimals: number, shown = SHOWN_DECIMALS): bigint {
  if (decimals <= shown) return amount * 10n ** BigInt(shown - decimals);
  const unit = 10n ** BigInt(decimals - shown);
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const rounded = (abs + unit / 2n) / unit;
  return negative ? -rounded : rounded;
}

/** Writes a count of 10^-shown units with thousands separators: 63086n -> "630.86". */
export function writeShown(units: bigint, shown = SHOWN_DECIMALS): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const scale = 10n ** BigInt(shown);
  const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = shown > 0 ? "." + (abs % scale).toString().padStart(shown, "0") : "";
  return `${negative ? "-" : ""}${whole}${frac}`;
}

/** A token amount for display: `formatAmount(630855987n, 6)` -> "630.86". */
export function formatAmount(amount: bigint, decimals: number, shown = SHOWN_DECIMALS): string {
  return writeShown(roundToShown(amount, decimals, shown), shown);
}

/** The exact amount, every decimal (for tooltips): `exactAmount(630855987n, 6)` -> "630.855987". */
export function exactAmount(amount: bigint, decimals: number): string {
  return writeShown(amount, decimals);
}

/**
 * Rounds the parts of a total so that they add up to the rounded total: each part is rounded down, then
 * the units still missing go to the parts with the largest remainders (ties to the earlier part).
 * The parts must be non-negative and sum to `total`.
 * @returns the rounded parts, in 10^-shown units.
 */
export function roundParts(
  total: bigint,
  parts: readonly bigint[],
  decimals: number,
  shown = SHOWN_DECIMALS,
): bigint[] {
  const sum = parts.reduce((a, b) => a + b, 0n);
  if (sum !== total) throw new RangeError(`parts sum to ${sum}, not ${total}`);
  if (parts.some((p) => p < 0n)) throw new RangeError("negative part");
  if (decimals <= shown) return parts.map((p) => roundToShown(p, decimals, shown));
  const unit = 10n ** BigInt(decimals - shown);
  const floors = parts.map((p) => p / unit);
  let missing = roundToShown(total, decimals, shown) - floors.reduce((a, b) => a + b, 0n);
  const order = parts
    .map((p, i) => ({ i, remainder: p % unit }))
    .sort((a, b) => (a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  const out = [...floors];
  for (const { i } of order) {
    if (missing <= 0n) break;
    out[i] = out[i]! + 1n;
    missing -= 1n;
  }
  return out;
}

/** A ratio in basis points as a percentage with one decimal: 9370 -> "93.7 %". */
export function formatBps(bps: number | bigint): string {
  return `${(Number(bps) / 100).toFixed(1)} %`;
}

/** A fraction as a percentage with one decimal: 0.937 -> "93.7 %"; NaN -> "–". */
export function formatPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)} %` : "–";
}

const numberFormats = new Map<number, Intl.NumberFormat>();

/** A number with a fixed count of decimals and thousands separators; NaN -> "–". */
export function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "–";
  let format = numberFormats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    numberFormats.set(digits, format);
  }
  return format.format(value);
}

/** A unix timestamp (seconds) as `YYYY-MM-DD HH:MM` UTC. */
export function formatTime(seconds: bigint | number): string {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace("T", " ");
}

/** A short address: 0x1234…abcd. */
export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}
