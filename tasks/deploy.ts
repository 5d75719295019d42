/**
 * `hardhat deploy`, as a deployer meets it: every problem the checks find is reported at once as
 * one message, without a stack trace, with a non-zero exit (hardhat-deploy would wrap it as
 * "ERROR processing …" with the stack, and Hardhat prints stacks on CI and on headless Linux);
 * transactions an interrupted run left in flight are settled first, without ever asking on a
 * terminal. `--show-stack-traces` still shows the original error.
 */
import { task } from "hardhat/config";

task("deploy").setAction(async (args, hre, runSuper) => {
  const { userMessage } = await import("../scripts/deploy/errors");
  const { assertReady } = await import("../scripts/deploy/preflight");
  const { isDryRun } = await import("../scripts/deploy/context");
  const { settlePendingTransactions } = await import("../scripts/deploy/resume");
  try {
    if (hre.network.name !== "hardhat") {
      await assertReady(hre);
      if (!isDryRun()) await settlePendingTransactions(hre);
    }
    await runSuper(args);
  } catch (error) {
    if (hre.hardhatArguments.showStackTraces) throw error;
    console.error(`Error: ${userMessage(error)}`);
    process.exitCode = 1;
  }
});
