/**
 * `npm run coverage`: solidity-coverage over contracts/ (mocks excluded, see .solcover.js) running the
 * Hardhat test suite, then one line with the figures the CI gate judges:
 *
 *   coverage: lines 97.1 % (340/350), branches 91.4 % (128/140)
 *
 * Arguments after `--` go to `hardhat coverage` (e.g. `npm run coverage -- --testfiles "test/escrow/*.ts"`).
 * The gate itself is scripts/coverage-gate.ts (run by .ci/run after this). Afterwards the TypeChain
 * typings are regenerated from the regular (uninstrumented) artifacts.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const run = spawnSync("npx", ["hardhat", "coverage", ...process.argv.slice(2)], { stdio: "inherit" });
// solidity-coverage compiles instrumented contracts and the TypeChain plugin writes their bytecode into
// typechain-types/; regenerate the typings from the regular artifacts so later test runs deploy the
// real contracts again.
spawnSync("npx", ["hardhat", "typechain"], { stdio: "inherit" });
const summaryFile = path.join(process.cwd(), "coverage", "coverage-summary.json");
if (fs.existsSync(summaryFile)) {
  const { total } = JSON.parse(fs.readFileSync(summaryFile, "utf8"));
  if (total) {
    console.log(
      `\ncoverage: lines ${total.lines.pct} % (${total.lines.covered}/${total.lines.total}), ` +
        `branches ${total.branches.pct} % (${total.branches.covered}/${total.branches.total})`,
    );
  }
}
process.exitCode = run.status ?? 1;
