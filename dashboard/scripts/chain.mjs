/**
 * A real local chain with the project's system on it, for the one-command stack, the tests and the
 * bench: anvil from npm (never a dependency, see DESIGN.md), the project's deploy scripts
 * (`npx hardhat deploy --network localhost`) and the demo story (`npx hardhat demo --network localhost`),
 * each run in the repository root with the deployments recorded in a folder of the caller's choice.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../indexer/scripts/start.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "..", "..");
export const ANVIL = "@foundry-rs/anvil@1.7.1";

/** Runs a command to completion; rejects with its output on a non-zero exit or after `timeoutMs`. */
export function run(command, args, { cwd = REPO_ROOT, env = process.env, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (c) => (output += c.toString()));
    child.stderr.on("data", (c) => (output += c.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      reject(new Error(`${command} ${args.join(" ")} ran past ${timeoutMs} ms:\n${output.slice(-4000)}`));
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/**
 * Starts anvil on a free loopback port (chain id 31337, the default accounts) and waits for JSON-RPC.
 * @returns {Promise<{ url: string, stop: () => Promise<void> }>}
 */
export async function startAnvil({ port, blockGasLimit, accounts } = {}) {
  const p = port ?? (await freePort());
  const args = ["-y", ANVIL, "--port", String(p), "--host", "127.0.0.1", "--silent"];
  if (blockGasLimit) args.push("--gas-limit", String(blockGasLimit));
  if (accounts) args.push("--accounts", String(accounts));
  const child = spawn("npx", args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (c) => (output += c.toString()));
  child.stderr.on("data", (c) => (output += c.toString()));
  const url = `http://127.0.0.1:${p}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    await exited;
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`anvil did not answer within 120 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, stop };
}

/** The environment that points the root's `--network localhost` at `rpcUrl` and records in `deploymentsRoot`. */
export function localhostEnv(rpcUrl, deploymentsRoot) {
  return { ...process.env, LOCALHOST_RPC_URL: rpcUrl, DEPLOYMENTS_DIR: deploymentsRoot };
}

/** Deploys the system with the project's deploy scripts; resolves with `<deploymentsRoot>/localhost`. */
export async function deploySystem({ rpcUrl, deploymentsRoot }) {
  await run("npx", ["hardhat", "deploy", "--network", "localhost"], { env: localhostEnv(rpcUrl, deploymentsRoot) });
  return path.join(deploymentsRoot, "localhost");
}

/** Tells the demo story on the chain (`npx hardhat demo --network localhost --quiet --json <file>`). */
export async function runDemoStory({ rpcUrl, deploymentsRoot, summaryFile }) {
  return run("npx", ["hardhat", "demo", "--network", "localhost", "--quiet", "--json", summaryFile], {
    env: localhostEnv(rpcUrl, deploymentsRoot),
  });
}
