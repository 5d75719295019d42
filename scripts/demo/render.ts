/** Text rendering for the demo: amounts, simulated times, tables, and the feeder's progress line. */
import { formatUnits } from "ethers";

/**
 * Token base units as a decimal string with `shown` decimals, rounded half up (every table rounds the
 * same way, so a deposit split into charged + refunded shows parts that add up to within a cent).
 */
export function amount(units: bigint, decimals: number, shown = 2): string {
  const negative = units < 0n;
  let v = negative ? -units : units;
  if (shown < decimals) {
    const step = 10n ** BigInt(decimals - shown);
    v = ((v + step / 2n) / step) * step;
  }
  const full = formatUnits(v, decimals);
  const [int, frac = ""] = full.split(".");
  const withSep = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const text = shown === 0 ? withSep : `${withSep}.${frac.padEnd(shown, "0").slice(0, shown)}`;
  return negative ? `-${text}` : text;
}

/** Seconds since the story began as `T+hh:mm`. */
export function clock(seconds: number): string {
  const m = Math.max(0, Math.floor(seconds / 60));
  return `T+${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

export function percent(bps: bigint | number, decimals = 1): string {
  return `${(Number(bps) / 100).toFixed(decimals)} %`;
}

/** A plain-text table: first row is the header; numeric-looking cells are right-aligned. */
export function table(title: string, rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const numeric = (s: string) => /^[-+]?[\d,.]+( %| kWh| h)?$/.test(s);
  const line = (r: string[]) =>
    r
      .map((cell, c) => (numeric(cell) && rows.indexOf(r) > 0 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ");
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  return [`${title}`, line(rows[0]), rule, ...rows.slice(1).map(line)].join("\n");
}

/** Where the demo writes: narrative lines, and a progress line that rewrites itself on a terminal. */
export interface Output {
  line(text: string): void;
  /** `milestone`: also worth a line where the output is not a terminal; `done`: the last update. */
  progress(text: string, milestone: boolean, done: boolean): void;
}

export function consoleOutput(stream: NodeJS.WriteStream = process.stdout): Output {
  const tty = Boolean(stream.isTTY);
  return {
    line: (text) => stream.write(`${text}\n`),
    progress: (text, milestone, done) => {
      if (tty) stream.write(`\r${text}\x1b[K${done ? "\n" : ""}`);
      // Not a terminal (CI, a pipe): one line per milestone instead of a rewriting bar.
      else if (milestone || done) stream.write(`${text}\n`);
    },
  };
}

/** Collects everything (tests). */
export function memoryOutput(): Output & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    line: (t) => lines.push(t),
    progress: (t, milestone, done) => void ((milestone || done) && lines.push(t)),
  };
}

export function bar(fraction: number, width = 24): string {
  const n = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(n)}${".".repeat(width - n)}]`;
}
