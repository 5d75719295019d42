/**
 * Child processes for the end-to-end deploy test: a real JSON-RPC node (anvil from npm) on a free
 * loopback port, and bounded command runs. Every wait has a deadline; every child is killed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

export const ANVIL = "@foundry-rs/anvil@1.7.1";

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command to completion or kills it (its whole process group) after `timeoutMs`. */
export function runBounded(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return startBounded(command, args, options).done;
}

/** A command started in its own process group: its output so far, its end, and a way to kill it. */
export interface Started {
  output: () => string;
  done: Promise<RunResult>;
  kill: () => void;
}

/** Starts a command (stdin closed: no terminal) that is killed after `timeoutMs`. */
export function startBounded(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Started {
  let output = "";
  let child: ChildProcess | undefined;
  const done = new Promise<RunResult>((resolve, reject) => {
    const proc = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child = proc;
    proc.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      killGroup(proc, "SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} ran past ${options.timeoutMs} ms:\n${output}`));
    }, options.timeoutMs);
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  return { output: () => output, done, kill: () => child && killGroup(child, "SIGKILL") };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the group: npx and the anvil binary it started
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** A running anvil node. */
export interface LocalNode {
  url: string;
  port: number;
  stop: () => Promise<void>;
}

async function rpcReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts anvil on a free loopback port and waits (bounded) until it answers JSON-RPC. */
export async function startAnvil(timeoutMs = 90_000, extraArgs: string[] = []): Promise<LocalNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn("npx", ["-y", ANVIL, "--host", "127.0.0.1", "--port", String(port), "--silent", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    killGroup(child, "SIGTERM");
    const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5_000))]);
    if (!gone) killGroup(child, "SIGKILL");
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}:\n${output}`);
    if (await rpcReady(url)) return { url, port, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`anvil did not answer on ${url} within ${timeoutMs} ms:\n${output}`);
}
