/**
 * The coverage gate: reads `coverage/coverage-summary.json` (written by `npm run coverage`) and
 * fails when line or branch coverage of the non-mock contracts is below the thresholds.
 *
 *   npm run coverage && ts-node --transpile-only scripts/coverage-gate.ts
 *
 * Thresholds: 95 % of lines and 90 % of branches (COVERAGE_MIN_LINES / COVERAGE_MIN_BRANCHES may
 * raise them, never lower them below these defaults: the gate is a floor).
 */
import fs from "node:fs";
import path from "node:path";

export const MIN_LINES_PCT = 95;
export const MIN_BRANCHES_PCT = 90;

interface Metric {
  total: number;
  covered: number;
  pct: number | string;
}

interface FileSummary {
  lines: Metric;
  branches: Metric;
  statements: Metric;
  functions: Metric;
}

export interface GateResult {
  ok: boolean;
  lines: { covered: number; total: number; pct: number };
  branches: { covered: number; total: number; pct: number };
  messages: string[];
}

const pct = (covered: number, total: number) => (total === 0 ? 100 : Math.floor((covered / total) * 10_000) / 100);

/** Judges a coverage summary against the thresholds. Nothing measured is a failure, not a pass. */
export function judge(summary: Record<string, FileSummary>, minLines: number, minBranches: number): GateResult {
  const total = summary.total;
  const messages: string[] = [];
  if (!total || total.lines.total === 0) {
    return {
      ok: false,
      lines: { covered: 0, total: 0, pct: 0 },
      branches: { covered: 0, total: 0, pct: 0 },
      messages: ["no contract code was measured (are all contracts mocks, or did the coverage run fail?)"],
    };
  }
  const lines = {
    covered: total.lines.covered,
    total: total.lines.total,
    pct: pct(total.lines.covered, total.lines.total),
  };
  const branches = {
    covered: total.branches.covered,
    total: total.branches.total,
    pct: pct(total.branches.covered, total.branches.total),
  };
  if (lines.pct < minLines) messages.push(`lines ${lines.pct} % < ${minLines} %`);
  if (branches.pct < minBranches) messages.push(`branches ${branches.pct} % < ${minBranches} %`);
  // Name the files that pull the figures down, weakest first, so the fix is obvious.
  if (messages.length > 0) {
    const weak = Object.entries(summary)
      .filter(([file]) => file !== "total")
      .map(([file, s]) => ({
        file,
        lines: pct(s.lines.covered, s.lines.total),
        branches: pct(s.branches.covered, s.branches.total),
      }))
      .filter((f) => f.lines < minLines || f.branches < minBranches)
      .sort((a, b) => a.branches - b.branches);
    for (const f of weak)
      messages.push(`  ${path.relative(process.cwd(), f.file)}: lines ${f.lines} %, branches ${f.branches} %`);
  }
  return { ok: messages.length === 0, lines, branches, messages };
}

function main(): void {
  const file = path.join(process.cwd(), "coverage", "coverage-summary.json");
  if (!fs.existsSync(file)) {
    console.error(`coverage gate: ${file} not found; run npm run coverage first`);
    process.exit(1);
  }
  const minLines = Math.max(MIN_LINES_PCT, Number(process.env.COVERAGE_MIN_LINES ?? 0));
  const minBranches = Math.max(MIN_BRANCHES_PCT, Number(process.env.COVERAGE_MIN_BRANCHES ?? 0));
  const result = judge(JSON.parse(fs.readFileSync(file, "utf8")), minLines, minBranches);
  console.log(
    `coverage gate: lines ${result.lines.pct} % (${result.lines.covered}/${result.lines.total}, min ${minLines} %), ` +
      `branches ${result.branches.pct} % (${result.branches.covered}/${result.branches.total}, min ${minBranches} %)`,
  );
  for (const m of result.messages) console.log(m);
  console.log(result.ok ? "coverage gate: PASS" : "coverage gate: FAIL");
  if (!result.ok) process.exitCode = 1;
}

if (require.main === module) main();
