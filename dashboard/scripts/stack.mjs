/**
 * The one command that shows the suite: indexer + dashboard for a chain and a deployments record.
 *
 *   node scripts/stack.mjs --rpc <url> --deployments <deployments/network dir> [--port 5173] [--indexer-port 42069]
 *   node scripts/stack.mjs --demo [--port 5173]     # also starts anvil, deploys and tells scripts/scenario.ts first
 *
 * Prints `indexer <url>` and `dashboard <url>` once both serve, then runs until interrupted. The
 * `startStack` function does the same for a caller (the demo's `--serve`, the tests, the bench).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startIndexer } from "../../indexer/scripts/start.mjs";
import { deploySystem, run, startAnvil } from "./chain.mjs";
import { DASHBOARD_DIR, buildDashboard, serveDashboard } from "./serve.mjs";

/**
 * Starts the indexer on the chain, then serves the dashboard pointed at it.
 * @param {{ rpcUrl: string, deploymentsDir: string, port?: number, indexerPort?: number, databaseUrl?: string,
 *   build?: boolean, onOutput?: (text: string) => void }} options
 */
export async function startStack(options) {
  const indexer = await startIndexer({
    rpcUrl: options.rpcUrl,
    deploymentsDir: options.deploymentsDir,
    port: options.indexerPort,
    databaseUrl: options.databaseUrl,
    onOutput: options.onOutput,
  });
  try {
    if (options.build) await buildDashboard();
    const dashboard = await serveDashboard({
      indexerUrl: indexer.url,
      rpcUrl: options.rpcUrl,
      deploymentsDir: options.deploymentsDir,
      port: options.port,
    });
    return {
      indexer,
      dashboardUrl: dashboard.url,
      stop: async () => {
        await dashboard.close();
        await indexer.stop();
      },
    };
  } catch (error) {
    await indexer.stop();
    throw error;
  }
}

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stops = [];
  let rpcUrl = flag("rpc", process.env.RPC_URL);
  let deploymentsDir = flag("deployments", process.env.DEPLOYMENTS_DIR);
  if (process.argv.includes("--demo")) {
    const anvil = await startAnvil({ accounts: 20 });
    stops.push(anvil.stop);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "stack-deployments-"));
    console.log(`chain ${anvil.url} (anvil); deploying and telling the story…`);
    deploymentsDir = await deploySystem({ rpcUrl: anvil.url, deploymentsRoot: root });
    // The scenario is TypeScript (it shares src/eip712.ts and src/meterHistory.ts with the root): run it with tsx.
    await run(path.join(DASHBOARD_DIR, "node_modules", ".bin", "tsx"), [
      path.join(DASHBOARD_DIR, "scripts", "scenario.ts"),
      "--rpc",
      anvil.url,
      "--deployments",
      deploymentsDir,
    ]);
    rpcUrl = anvil.url;
  }
  if (!rpcUrl || !deploymentsDir) {
    console.error("usage: node scripts/stack.mjs --rpc <url> --deployments <dir> | --demo");
    process.exit(2);
  }
  const stack = await startStack({
    rpcUrl,
    deploymentsDir: path.resolve(deploymentsDir),
    port: Number(flag("port", "5173")),
    indexerPort: flag("indexer-port") ? Number(flag("indexer-port")) : undefined,
    build: process.argv.includes("--build"),
  });
  stops.unshift(stack.stop);
  console.log(`indexer   ${stack.indexer.url}/graphql`);
  console.log(`dashboard ${stack.dashboardUrl}`);
  const shutdown = async () => {
    for (const stop of stops) await stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
}
