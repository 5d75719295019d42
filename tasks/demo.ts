/**
 * `npx hardhat demo [--json <file>]` (`npm run demo`): the end-to-end story of the suite. A task,
 * not a `hardhat run` script, because `hardhat run` takes no arguments of its own.
 * Exits non-zero when the closing audit finds a token unit unaccounted for.
 */
import fs from "node:fs";
import path from "node:path";
import { task, types } from "hardhat/config";

task("demo", "Runs the end-to-end demo: deploy, register, fractionalize, lease, meter, settle, harvest, claim")
  .addOptionalParam("json", "Also write the summary as JSON to this file", undefined, types.string)
  .setAction(async (args: { json?: string }, hre) => {
    const { runDemo, renderSummary } = await import("../scripts/demo/story");
    const { consoleOutput } = await import("../scripts/demo/render");
    const out = consoleOutput();
    const started = Date.now();
    const summary = await runDemo(hre, { out });
    out.line("");
    out.line(renderSummary(summary));
    if (args.json) {
      const file = path.resolve(args.json);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(summary, null, 2) + "\n");
      out.line("");
      out.line(`summary written to ${file}`);
    }
    out.line("");
    out.line(
      `${summary.ok ? "every token unit is accounted for" : "ACCOUNTING FAILED"} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    if (!summary.ok) {
      process.exitCode = 1;
      throw new Error(`demo: ${summary.checks.filter((c) => !c.ok).length} accounting check(s) failed`);
    }
    return summary;
  });
