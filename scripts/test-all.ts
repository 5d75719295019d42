/**
 * `npm test`: runs every test runner of the project in turn and ends with one line of totals,
 * `N passed, N failed`, across all of them. Exits non-zero when any runner fails or any test fails.
 *
 * Runners are listed in RUNNERS; each streams its own output and is parsed for its counts.
 */
import { spawn } from "node:child_process";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Runner {
  name: string;
  command: string;
  args: string[];
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

const RUNNERS: Runner[] = [{ name: "hardhat (mocha)", command: "npx", args: ["hardhat", "test"], parse: parseMocha }];

function run(runner: Runner): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(runner.command, runner.args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
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
