/**
 * `npm test`: runs every test runner of the project in turn (mocha, forge, the indexer + dashboard
 * end-to-end tests) and ends with one line of totals,
 * `N passed, N failed`, across all of them. Exits non-zero when any runner fails or any test fails.
 *
 * Runners are listed in RUNNERS; each streams its own output and is parsed for its counts.
 *
 * `npm run test:deep` (`--deep`): only the forge fuzz and invariant suites, under the `deep` profile
 * of foundry.toml (at least 10x the runs) and a fresh random seed, printed so a failure replays with
 * `FOUNDRY_PROFILE=deep npm run test:forge -- --fuzz-seed <seed>`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Runner {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Extracts the counts from the runner's complete output. */
  parse: (output: string) => Counts;
}

/** Mocha (hardhat test) summary lines: "  12 passing (3s)", "  1 failing", "  2 pending". */
function parseMocha(output: string): Counts {
  const count = (word: string) => {
    const matches = [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, "gm"))];
    return matches.reduce((sum, m) => sum + Number(m[1]), 0);
  };
  return { passed: count("passing"), failed: count("failing"), skipped: count("pending") };
}

/** forge test summary: "Ran 3 test suites in 1.2s (...): 10 tests passed, 0 failed, 0 skipped (10 total tests)". */
export function parseForge(output: string): Counts {
  const m = [...output.matchAll(/(\d+) tests passed, (\d+) failed, (\d+) skipped/g)].pop();
  return m
    ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) }
    : { passed: 0, failed: 0, skipped: 0 };
}

/**
 * node:test summary (TAP when not on a terminal): "# pass 11", "# fail 0", "# cancelled 0", "# skipped 0".
 * A cancelled test (a hook that failed before it) counts as a failure.
 */
export function parseNodeTest(output: string): Counts {
  const last = (word: string) => {
    const m = [...output.matchAll(new RegExp(`^# ${word} (\\d+)$`, "gm"))].pop();
    return m ? Number(m[1]) : 0;
  };
  return { passed: last("pass"), failed: last("fail") + last("cancelled"), skipped: last("skipped") + last("todo") };
}

/**
 * The indexer and dashboard end-to-end tests (dashboard/test/): anvil, the deploy scripts, the demo
 * story, the Ponder indexer on PGlite and on PostgreSQL, the page in Chromium. Their own package, so
 * `npm ci --prefix indexer` and `npm ci --prefix dashboard` must have run (.ci/run does).
 */
const STACK_RUNNER: Runner = {
  name: "indexer + dashboard (anvil, PGlite, PostgreSQL, Chromium)",
  command: "npm",
  args: ["--prefix", "dashboard", "test"],
  parse: parseNodeTest,
};

/** forge is run pinned from the npm registry, never installed as a dependency (see DESIGN.md). */
export const FORGE = ["-y", "@foundry-rs/forge@1.7.1"];

const FORGE_RUNNER: Runner = {
  name: "forge (fuzz + invariants, fixed seed)",
  command: "npx",
  args: [...FORGE, "test"],
  parse: parseForge,
};

function deepForgeRunner(): Runner {
  const seed = `0x${randomBytes(16).toString("hex")}`;
  return {
    name: `forge deep profile (fresh seed ${seed})`,
    command: "npx",
    args: [...FORGE, "test", "--fuzz-seed", seed],
    env: { FOUNDRY_PROFILE: "deep" },
    parse: parseForge,
  };
}

const RUNNERS: Runner[] = process.argv.includes("--deep")
  ? [deepForgeRunner()]
  : [
      { name: "hardhat (mocha)", command: "npx", args: ["hardhat", "test"], parse: parseMocha },
      FORGE_RUNNER,
      STACK_RUNNER,
    ];

function run(runner: Runner): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(runner.command, runner.args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...runner.env },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function main(): Promise<void> {
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  let runnerFailed = false;
  for (const runner of RUNNERS) {
    console.log(`\n=== ${runner.name}: ${runner.command} ${runner.args.join(" ")}`);
    const { code, output } = await run(runner);
    const counts = runner.parse(output);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    if (code !== 0) {
      runnerFailed = true;
      // A runner that crashed before reporting still counts as (at least) one failure.
      if (counts.failed === 0) total.failed += 1;
      console.error(`${runner.name} exited with code ${code}`);
    }
  }
  console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  if (runnerFailed || total.failed > 0) process.exitCode = 1;
}

void main();
