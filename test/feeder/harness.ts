/**
 * Integration harness: a real anvil node on a free loopback port, the real GpuAssetNFT and
 * UsageOracle deployed with TypeChain factories, a dropping RPC proxy, and the feeder run as a
 * child process. Every wait is bounded; every child is killed in `stop()`.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { JsonRpcProvider, Network, NonceManager, Wallet, encryptKeystoreJson, keccak256, toUtf8Bytes } from "ethers";
import { GpuAssetNFT__factory, UsageOracle__factory, type GpuAssetNFT, type UsageOracle } from "../../typechain-types";

/** anvil's well-known development keys (mnemonic "test test … junk"): deployer and feeders. */
export const DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
export const FEEDER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/** Three operators' keys for co-signing (anvil accounts 1, 2, 3). */
export const OPERATOR_KEYS = [
  FEEDER_KEY,
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
const ROOT = path.join(__dirname, "..", "..");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (${(lastErr as Error).message})` : ""}`,
  );
}

export class Anvil {
  child?: ChildProcess;
  url = "";
  async start(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      "npx",
      ["-y", "@foundry-rs/anvil@1.7.1", "--host", "127.0.0.1", "--port", String(port), "--silent"],
      {
        stdio: "ignore",
        detached: true, // its own process group, so npx and anvil die together
      },
    );
    const ping = () =>
      fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      }).then((r) => r.ok);
    await waitFor("anvil", ping, 90_000, 300);
  }
  stop(): void {
    if (this.child?.pid) {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

export const GPU_UUIDS = [
  "GPU-5d3b6f1e-8c2a-4f5e-9b1d-2a7c9e4f6b01",
  "GPU-a0f31c77-2b44-91de-07c3-55e1d9b8f2aa",
  "GPU-77e0c2d4-1f3b-4a6c-8d9e-0b1a2c3d4e5f",
];

export interface Deployed {
  provider: JsonRpcProvider;
  nft: GpuAssetNFT;
  oracle: UsageOracle;
  oracleAddress: string;
  assets: { assetId: string; gpus: string[] }[];
}

/** Deploys the NFT and the oracle (default: feeder = the only signer, threshold 1) and mints two assets. */
export async function deploy(url: string, set: { signers?: string[]; threshold?: number } = {}): Promise<Deployed> {
  const network = Network.from(31337);
  const provider = new JsonRpcProvider(url, network, { staticNetwork: network, cacheTimeout: -1 });
  const deployer = new NonceManager(new Wallet(DEPLOYER_KEY, provider));
  const admin = await deployer.getAddress();
  const feeder = new Wallet(FEEDER_KEY).address;
  const nft = await new GpuAssetNFT__factory(deployer).deploy(admin);
  await nft.waitForDeployment();
  await (await nft.grantRole(await nft.REGISTRAR_ROLE(), admin)).wait();
  const oracle = await new UsageOracle__factory(deployer).deploy(
    admin,
    await nft.getAddress(),
    set.signers ?? [feeder],
    set.threshold ?? 1,
    300,
    500,
  );
  await oracle.waitForDeployment();
  const spec = (gpuCount: number, n: number) => ({
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: keccak256(toUtf8Bytes(`serials-${n}`)),
    vramMiBPerGpu: 81559,
    gpuCount,
    tdpWattsPerGpu: 700,
  });
  await (await nft.mint(admin, spec(2, 1))).wait();
  await (await nft.mint(admin, spec(1, 2))).wait();
  return {
    provider,
    nft,
    oracle,
    oracleAddress: await oracle.getAddress(),
    assets: [
      { assetId: "1", gpus: [GPU_UUIDS[0], GPU_UUIDS[1]] },
      { assetId: "2", gpus: [GPU_UUIDS[2]] },
    ],
  };
}

/** A loopback JSON-RPC proxy that forwards, or drops every request (destroys the socket) while `dropping`. */
export class DroppingProxy {
  dropping = false;
  dropped = 0;
  private server?: http.Server;
  url = "";
  constructor(private readonly target: string) {}
  async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = http.createServer((req, res) => {
      if (this.dropping) {
        this.dropped++;
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const up = http.request(
          {
            host: target.hostname,
            port: target.port,
            method: "POST",
            path: "/",
            headers: { "content-type": "application/json" },
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, { "content-type": "application/json" });
            r.pipe(res);
          },
        );
        up.on("error", () => res.destroy());
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }
  stop(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

export interface FeederRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Writes a keystore (light scrypt, for test speed), its password file and a config; returns the config path. */
export async function writeSetup(
  dir: string,
  overrides: Record<string, unknown>,
  key: string = FEEDER_KEY,
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const wallet = new Wallet(key);
  const keystore = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    "correct horse",
    { scrypt: { N: 1024 } },
  );
  fs.writeFileSync(path.join(dir, "keystore.json"), keystore);
  fs.writeFileSync(path.join(dir, "password"), "correct horse\n", { mode: 0o600 });
  const config = {
    signer: { keystore: path.join(dir, "keystore.json"), passwordFile: path.join(dir, "password") },
    sources: [{ type: "simulator", seed: 42, tdpWatts: 700, energyCounter: true }],
    policy: { pollIntervalSeconds: 1, postIntervalSeconds: 2, staleAfterSeconds: 6, heartbeatSeconds: 60 },
    tx: { maxFeePerGasGwei: 100, stuckAfterSeconds: 20, receiptPollSeconds: 0.2 },
    rpc: { timeoutSeconds: 1, maxAttempts: 2, backoffSeconds: 0.2, maxBackoffSeconds: 1 },
    stateFile: path.join(dir, "state.json"),
    log: { level: "info" },
    shutdownGraceSeconds: 20,
    ...overrides,
  };
  const file = path.join(dir, "feeder.yaml");
  fs.writeFileSync(file, YAML.stringify(config));
  return file;
}

let built = false;

/**
 * A preload (`node -r`) that fails the run when Hardhat, solc, ts-node or typechain is loaded: the
 * built feeder must need none of them at run time. Written to a temporary file, since any .js file
 * under test/ would be taken for a test by `hardhat test`.
 */
export const FORBID_TOOLCHAIN = path.join(os.tmpdir(), "compute-rwa-feeder-forbid-toolchain.js");
fs.writeFileSync(
  FORBID_TOOLCHAIN,
  `const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^(hardhat|solc|ts-node|@nomicfoundation\\/|typechain)(\\/|$)/.test(request)) {
    throw new Error("the built feeder loaded " + request + " at run time");
  }
  return load.call(this, request, ...rest);
};
`,
);

/**
 * Builds the feeder's entry point (`tsc -p tsconfig.feeder.json` → dist/feeder/cli.js) once per
 * test process; the contracts' typings exist already (hardhat test compiles first).
 */
export function buildFeeder(): string {
  const entry = path.join(ROOT, "dist", "feeder", "cli.js");
  if (!built) {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.feeder.json"], {
      cwd: ROOT,
      stdio: "inherit",
    });
    built = true;
  }
  return entry;
}

/**
 * Starts the built feeder (plain node, no ts-node) as a child process, with a preload that fails
 * the run if Hardhat, solc or ts-node is loaded: what an operator runs.
 */
export function startFeeder(args: string[], env: NodeJS.ProcessEnv = {}): FeederRun {
  let out = "";
  const child = spawn(process.execPath, ["-r", FORBID_TOOLCHAIN, buildFeeder(), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

export async function stopFeeder(
  run: FeederRun,
  signal: NodeJS.Signals = "SIGTERM",
  timeoutMs = 30_000,
): Promise<number | null> {
  if (run.child.exitCode !== null) return run.child.exitCode;
  run.child.kill(signal);
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs).unref());
  const res = await Promise.race([run.exited, timer]);
  if (res === "timeout") {
    run.child.kill("SIGKILL");
    throw new Error(`feeder did not exit within ${timeoutMs} ms of ${signal}`);
  }
  return res;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
