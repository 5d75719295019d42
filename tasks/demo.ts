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
  .addFlag("quiet", "Print only the closing line (the JSON file still gets everything)")
  .setAction(async (args: { json?: string; quiet: boolean }, hre) => {
    // A fresh clone has no artifacts or typings yet: build them (a no-op when up to date) before
    // loading the story, which imports the TypeChain factories.
    await hre.run("compile", { quiet: true });
    const { runDemo, renderSummary } = await import("../scripts/demo/story");
    const { consoleOutput, memoryOutput } = await import("../scripts/demo/render");
    const terminal = consoleOutput();
    const out = args.quiet ? memoryOutput() : terminal;
    const started = Date.now();
    const summary = await runDemo(hre, { out });
    out.line("");
    out.line(renderSummary(summary));
    out.line("");
    if (args.json) {
      const file = path.resolve(args.json);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(summary, null, 2) + "\n");
      out.line(`summary written to ${file}`);
    }
    if (!args.quiet) terminal.line("");
    for (const c of summary.checks) if (!c.ok && args.quiet) terminal.line(`FAIL  ${c.name}: ${c.detail}`);
    terminal.line(
      `${summary.ok ? "every token unit is accounted for" : "ACCOUNTING FAILED"} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    if (!summary.ok) {
      process.exitCode = 1;
      throw new Error(`demo: ${summary.checks.filter((c) => !c.ok).length} accounting check(s) failed`);
    }
    return summary;
  });
