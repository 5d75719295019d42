/**
 * Serves the built dashboard (`dist/`) and its `config.json` (where the indexer and the chain are) on
 * one port. `npm run serve -- --indexer <url> --rpc <url> --deployments <dir> [--port 5173]`; the
 * flags fall back to INDEXER_URL, RPC_URL, DEPLOYMENTS_DIR and PORT. Builds `dist/` first if missing.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_DIR = path.resolve(here, "..");
const DIST = path.join(DASHBOARD_DIR, "dist");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Builds `dist/` with Vite (in-process). */
export async function buildDashboard({ quiet = true } = {}) {
  const { build } = await import("vite");
  await build({ root: DASHBOARD_DIR, logLevel: quiet ? "silent" : "info" });
}

/** The page's config for a deployments record: the NFT's address and the network's name. */
export function dashboardConfig({ indexerUrl, rpcUrl, deploymentsDir }) {
  const record = JSON.parse(fs.readFileSync(path.join(deploymentsDir, "GpuAssetNFT.json"), "utf8"));
  return {
    indexerUrl: indexerUrl.replace(/\/$/, ""),
    rpcUrl,
    nft: record.address,
    network: path.basename(path.resolve(deploymentsDir)),
  };
}

/**
 * Starts the static server. Resolves with `{ url, close }` once it listens.
 * @param {{ indexerUrl: string, rpcUrl: string, deploymentsDir: string, port?: number, host?: string }} options
 */
export async function serveDashboard({ indexerUrl, rpcUrl, deploymentsDir, port = 0, host = "127.0.0.1" }) {
  if (!fs.existsSync(path.join(DIST, "index.html"))) await buildDashboard();
  const config = JSON.stringify(dashboardConfig({ indexerUrl, rpcUrl, deploymentsDir }));
  const indexHtml = fs
    .readFileSync(path.join(DIST, "index.html"), "utf8")
    .replace("<head>", `<head><script>window.__DASHBOARD_CONFIG__ = ${config.replace(/</g, "\\u003c")};</script>`);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/config.json") {
      res.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store" });
      res.end(config);
      return;
    }
    if (url.pathname === "/" || url.pathname === "/index.html") {
      // The config inline, so the first page needs no extra round trip before its queries.
      res.writeHead(200, { "content-type": TYPES[".html"], "cache-control": "no-store" });
      res.end(indexHtml);
      return;
    }
    const file = path.normalize(path.join(DIST, url.pathname));
    if (!file.startsWith(DIST) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${address.port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const indexerUrl = flag("indexer", process.env.INDEXER_URL ?? "http://127.0.0.1:42069");
  const rpcUrl = flag("rpc", process.env.RPC_URL ?? "http://127.0.0.1:8545");
  const deploymentsDir = path.resolve(flag("deployments", process.env.DEPLOYMENTS_DIR ?? "../deployments/localhost"));
  const port = Number(flag("port", process.env.PORT ?? 5173));
  if (process.argv.includes("--build")) await buildDashboard({ quiet: false });
  const { url } = await serveDashboard({ indexerUrl, rpcUrl, deploymentsDir, port });
  console.log(`dashboard ${url}`);
}
