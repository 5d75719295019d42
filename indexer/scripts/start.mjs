/**
 * Starts the indexer (`ponder start`) for a chain and a deployments record, waits until it has caught
 * up (`/ready`), and resolves with its URL. Used by the dashboard's one-command stack, the tests and the
 * bench; as a CLI: `node scripts/start.mjs --rpc <url> --deployments <dir> [--port 42069]`, which prints
 * `indexer http://127.0.0.1:<port>` once ready and runs until interrupted.
 *
 * Without `databaseUrl` (or DATABASE_URL) the data lives in an embedded PGlite under `pgliteDir`
 * (default: a fresh temporary folder, since a local node's chain id is reused by every restart).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const INDEXER_DIR = path.resolve(here, "..");
const PONDER_BIN = path.join(INDEXER_DIR, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js");

/** A TCP port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * @param {{ rpcUrl: string, deploymentsDir: string, port?: number, databaseUrl?: string, schema?: string,
 *   pgliteDir?: string, timeoutMs?: number, onOutput?: (text: string) => void }} options
 * @returns {Promise<{ url: string, port: number, pgliteDir?: string, output: () => string, stop: () => Promise<void> }>}
 */
export async function startIndexer(options) {
  if (!fs.existsSync(PONDER_BIN)) throw new Error(`${PONDER_BIN} is missing: run npm ci in ${INDEXER_DIR}`);
  const port = options.port ?? (await freePort());
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  const pgliteDir = databaseUrl
    ? undefined
    : (options.pgliteDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "indexer-pglite-")));
  const env = {
    ...process.env,
    INDEXER_RPC_URL: options.rpcUrl,
    INDEXER_DEPLOYMENTS_DIR: path.resolve(options.deploymentsDir),
    PONDER_TELEMETRY_DISABLED: "true",
    PONDER_LOG_LEVEL: process.env.PONDER_LOG_LEVEL ?? "info",
  };
  delete env.DATABASE_URL;
  delete env.DATABASE_PRIVATE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  if (pgliteDir) env.INDEXER_PGLITE_DIR = pgliteDir;
  const child = spawn(
    process.execPath,
    [PONDER_BIN, "start", "--schema", options.schema ?? "public", "--port", String(port), "--hostname", "127.0.0.1"],
    { cwd: INDEXER_DIR, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const onData = (chunk) => {
    const text = chunk.toString();
    output += text;
    options.onOutput?.(text);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the indexer exited with code ${child.exitCode}:\n${output.slice(-4000)}`);
    try {
      const res = await fetch(`${url}/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the indexer was not ready within ${options.timeoutMs ?? 120_000} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, port, pgliteDir, output: () => output, stop };
}

/** The block the indexer has indexed up to (Ponder's `/status`). */
export async function indexedBlock(url) {
  const status = await (await fetch(`${url}/status`)).json();
  const chain = Object.values(status)[0];
  return chain?.block?.number ?? 0;
}

/** Resolves once the indexer has indexed `blockNumber` (it follows the chain live after catching up). */
export async function waitForBlock(url, blockNumber, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await indexedBlock(url)) >= blockNumber) return;
    if (Date.now() > deadline) throw new Error(`the indexer did not reach block ${blockNumber} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const indexer = await startIndexer({
    rpcUrl: flag("rpc", process.env.INDEXER_RPC_URL ?? "http://127.0.0.1:8545"),
    deploymentsDir: flag(
      "deployments",
      process.env.INDEXER_DEPLOYMENTS_DIR ?? path.join("..", "deployments", "localhost"),
    ),
    port: Number(flag("port", "42069")),
    onOutput: process.argv.includes("--verbose") ? (t) => process.stderr.write(t) : undefined,
  });
  console.log(`indexer ${indexer.url}  (GraphQL ${indexer.url}/graphql, SQL over HTTP ${indexer.url}/sql)`);
  const shutdown = () => void indexer.stop().then(() => process.exit(0));
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
