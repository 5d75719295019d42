/**
 * End to end against a real node process: anvil on a free loopback port, the deploy command run as
 * a user runs it (`hardhat deploy --network localhost`), the record it writes, every address's
 * code, every role of every contract, an idempotent second run, the dry run, and the example
 * integrator compiled against the packed package and run against the node.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Interface, JsonRpcProvider, ZeroHash, getAddress, id } from "ethers";
import { loadDeployConfig, type DeployConfig } from "../../config/schema";
import { startAnvil, runBounded, type LocalNode } from "./helpers/processes";

const ROOT = path.resolve(__dirname, "../..");
const HARDHAT_CLI = require.resolve("hardhat/internal/cli/cli");
const DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"; // anvil account 0
const REGISTRAR_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"; // anvil account 2
const SYSTEM = [
  "MockUSDC",
  "GpuAssetNFT",
  "UsageOracle",
  "SettlementEscrow",
  "RevenueSplitVaultFactory",
  "CreditFacility",
  "DemandResponseProgramme",
];

const ROLE_EVENTS = new Interface([
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
]);

/** The roles table of docs/deploy.md, for the localhost config: contract → role → exact holders. */
function expectedRoles(
  config: DeployConfig,
  escrow: string,
  programme: string,
): Record<string, Record<string, string[]>> {
  return {
    GpuAssetNFT: {
      DEFAULT_ADMIN_ROLE: [config.admin],
      REGISTRAR_ROLE: [config.registrar],
      PAUSER_ROLE: [config.pauser],
      LEASE_MANAGER_ROLE: [escrow],
    },
    UsageOracle: {
      DEFAULT_ADMIN_ROLE: [config.admin],
      ORACLE_ADMIN_ROLE: [config.admin],
      PAUSER_ROLE: [config.pauser],
    },
    SettlementEscrow: {
      DEFAULT_ADMIN_ROLE: [config.admin],
      TOKEN_ADMIN_ROLE: [config.admin],
      ARBITER_ROLE: [config.arbiter],
      PAUSER_ROLE: [config.pauser],
      PROGRAMME_ROLE: [programme],
    },
    CreditFacility: {
      DEFAULT_ADMIN_ROLE: [config.admin],
      PAUSER_ROLE: [config.pauser],
    },
    DemandResponseProgramme: {
      DEFAULT_ADMIN_ROLE: [config.admin],
      SPONSOR_ROLE: [config.admin],
      PAUSER_ROLE: [config.pauser],
    },
  };
}

const roleHash = (name: string) => (name === "DEFAULT_ADMIN_ROLE" ? ZeroHash : id(name));

/** Holders per role hash, replayed from every RoleGranted/RoleRevoked the contract ever emitted. */
async function holdersByEvents(provider: JsonRpcProvider, address: string): Promise<Map<string, Set<string>>> {
  const logs = await provider.getLogs({
    address,
    fromBlock: 0,
    toBlock: "latest",
    topics: [[ROLE_EVENTS.getEvent("RoleGranted")!.topicHash, ROLE_EVENTS.getEvent("RoleRevoked")!.topicHash]],
  });
  const out = new Map<string, Set<string>>();
  for (const log of logs) {
    const parsed = ROLE_EVENTS.parseLog(log)!;
    const set = out.get(parsed.args.role) ?? new Set<string>();
    if (parsed.name === "RoleGranted") set.add(getAddress(parsed.args.account));
    else set.delete(getAddress(parsed.args.account));
    out.set(parsed.args.role, set);
  }
  for (const [k, v] of out) if (v.size === 0) out.delete(k);
  return out;
}

describe("deploy end to end (anvil node process)", function () {
  this.timeout(600_000);

  let node: LocalNode | undefined;
  let provider: JsonRpcProvider;
  let work: string;
  let deploymentsDir: string;
  let env: NodeJS.ProcessEnv;
  let firstRunOutput = "";
  let tarball = "";
  let planned = -1;
  const config = loadDeployConfig({ name: "localhost", live: false });

  const hardhat = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runBounded(process.execPath, [HARDHAT_CLI, ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      timeoutMs: 240_000,
    });
  const recorded = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(deploymentsDir, "localhost", `${name}.json`), "utf8"));

  before(async function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-e2e-"));
    deploymentsDir = path.join(work, "deployments");
    node = await startAnvil();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    env = { ...process.env, LOCALHOST_RPC_URL: node.url, DEPLOYMENTS_DIR: deploymentsDir };
    delete env.HARDHAT_NETWORK;
    delete env.LOCALHOST_PRIVATE_KEY;
    delete env.DEPLOY_CONFIG;
    delete env.DEPLOY_DRY_RUN;
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("prints the plan in a dry run and sends nothing", async function () {
    const run = await hardhat(["deploy", "--network", "localhost", "--no-compile"], { DEPLOY_DRY_RUN: "1" });
    expect(run.code, run.output).to.equal(0);
    expect(run.output).to.contain("DRY RUN — nothing is sent");
    expect(run.output).to.match(/GpuAssetNFT\s+deploy\s+0x[0-9a-fA-F]{40} \(predicted\)/);
    expect(run.output).to.contain(`GpuAssetNFT.renounceRole(DEFAULT_ADMIN_ROLE, deployer ${DEPLOYER})`);
    expect(await provider.getTransactionCount(DEPLOYER)).to.equal(0);
    expect(await provider.getBlockNumber()).to.equal(0);
    planned = Number(/transactions a deploy would send now: (\d+)/.exec(run.output)![1]);
    expect(run.output).to.match(
      /^cost: about [\d.]+ ETH at the current base fee and tip; at most [\d.]+ ETH at the max fee$/m,
    );
    expect(fs.existsSync(path.join(deploymentsDir, "localhost"))).to.equal(false);
  });

  it("deploys the whole system, records it, and every address has code", async function () {
    const run = await hardhat(["deploy", "--network", "localhost", "--no-compile"]);
    firstRunOutput = run.output;
    expect(run.code, run.output).to.equal(0);
    expect(fs.readFileSync(path.join(deploymentsDir, "localhost", ".chainId"), "utf8").trim()).to.equal("31337");
    for (const name of [...SYSTEM, "Stablecoin"]) {
      const { address } = recorded(name);
      expect(await provider.getCode(address), `${name} at ${address}`).to.not.equal("0x");
    }
    expect(recorded("Stablecoin").address).to.equal(recorded("MockUSDC").address);
    expect(run.output).to.contain("final state verified");
    // The dry run counted exactly what the deploy sent.
    expect(await provider.getTransactionCount(DEPLOYER)).to.equal(planned);
  });

  it("grants every role exactly as planned and leaves the deployer no power", async function () {
    const escrow = getAddress(recorded("SettlementEscrow").address);
    const programme = getAddress(recorded("DemandResponseProgramme").address);
    for (const [contract, roles] of Object.entries(expectedRoles(config, escrow, programme))) {
      const address = recorded(contract).address;
      const actual = await holdersByEvents(provider, address);
      const expected = new Map(Object.entries(roles).map(([r, holders]) => [roleHash(r), new Set(holders)]));
      expect([...actual.keys()].sort(), `${contract} roles in use`).to.deep.equal([...expected.keys()].sort());
      for (const [role, holders] of expected) {
        expect([...actual.get(role)!].sort(), `${contract} ${role}`).to.deep.equal([...holders].sort());
      }
      for (const role of Object.keys(roles)) {
        const hasRole = (account: string) =>
          provider
            .call({ to: address, data: ROLE_EVENTS.encodeFunctionData("hasRole", [roleHash(role), account]) })
            .then((r) => BigInt(r) === 1n);
        for (const holder of roles[role]) expect(await hasRole(holder), `${contract} ${role} ${holder}`).to.equal(true);
        expect(await hasRole(DEPLOYER), `deployer keeps ${contract} ${role}`).to.equal(false);
      }
    }
  });

  it("sends no transaction when run again", async function () {
    expect(firstRunOutput, "the first run must have deployed").to.contain("deploying");
    const nonce = await provider.getTransactionCount(DEPLOYER);
    const block = await provider.getBlockNumber();
    const run = await hardhat(["deploy", "--network", "localhost", "--no-compile"]);
    expect(run.code, run.output).to.equal(0);
    expect(run.output).to.match(/GpuAssetNFT: already deployed at 0x[0-9a-fA-F]{40}, nothing sent/);
    expect(run.output).to.contain("roles: nothing to send; final state verified");
    expect(await provider.getTransactionCount(DEPLOYER)).to.equal(nonce);
    expect(await provider.getBlockNumber()).to.equal(block);
  });

  it("has nothing to send in a dry run after the deploy", async function () {
    const run = await hardhat(["deploy", "--network", "localhost", "--no-compile"], { DEPLOY_DRY_RUN: "1" });
    expect(run.code, run.output).to.equal(0);
    expect(run.output).to.match(/GpuAssetNFT\s+reuse/);
    expect(run.output).to.contain("transactions a deploy would send now: 0");
  });

  it("packs only what an integrator needs", async function () {
    const build = await runBounded("npm", ["run", "--silent", "build:package"], { cwd: ROOT, timeoutMs: 300_000 });
    expect(build.code, build.output).to.equal(0);
    const pack = await runBounded("npm", ["pack", "--ignore-scripts", "--pack-destination", work, "--json"], {
      cwd: ROOT,
      timeoutMs: 120_000,
    });
    expect(pack.code, pack.output).to.equal(0);
    const [result] = JSON.parse(pack.output.slice(pack.output.indexOf("[")));
    tarball = path.join(work, result.filename);
    const files: string[] = result.files.map((f: { path: string }) => f.path);
    const allowed = [
      /^package\.json$/,
      /^README\.md$/,
      /^LICENSE$/,
      /^docs\/integrate\.md$/,
      /^dist\/src\/[\w/]+\.(js|d\.ts)$/,
      /^dist\/typechain-types\/[\w/@.-]+\.(js|d\.ts)$/,
      /^dist\/abi\/\w+\.json$/,
      /^dist\/deployments\/(?!localhost\/|hardhat\/)\w+\/(\.chainId|\w+\.json)$/,
    ];
    expect(
      files.filter((f) => !allowed.some((re) => re.test(f))),
      "unexpected files in the package",
    ).to.deep.equal([]);
    expect(files.filter((f) => /mocks|\.test\./i.test(f))).to.deep.equal([]);
    for (const needed of [
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/viem/index.js",
      "dist/src/abi/index.d.ts",
      "dist/src/core/index.js",
      "dist/abi/GpuAssetNFT.json",
      "docs/integrate.md",
    ]) {
      expect(files).to.include(needed);
    }
  });

  it("installs the packed tarball into a fresh TypeScript app that runs a typed ethers program and a typed viem program", async function () {
    expect(tarball, "the pack step must have run").to.not.equal("");

    // An outside project, installed the way an integrator installs: npm, from the tarball, with the
    // client libraries at the versions this repository pins (served from npm's cache when present).
    const project = path.join(work, "integrator");
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "integrator", private: true }));
    const version = (dep: string) =>
      JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", dep, "package.json"), "utf8")).version;
    const install = await runBounded(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        tarball,
        `ethers@${version("ethers")}`,
        `viem@${version("viem")}`,
        `typescript@${version("typescript")}`,
        `@types/node@${version("@types/node")}`,
      ],
      { cwd: project, timeoutMs: 300_000 },
    );
    expect(install.code, install.output).to.equal(0);
    // The package brings no dependency of its own: nothing of the feeder's (pino, yaml, zod) or the
    // contracts' (OpenZeppelin) reaches an integrator's app.
    const installed = JSON.parse(
      fs.readFileSync(path.join(project, "node_modules", "compute-rwa", "package.json"), "utf8"),
    );
    expect(installed.dependencies ?? {}).to.deep.equal({});
    for (const dep of ["pino", "yaml", "zod", "@openzeppelin/contracts-upgradeable", "@openzeppelin/contracts"]) {
      expect(fs.existsSync(path.join(project, "node_modules", dep)), `${dep} installed`).to.equal(false);
    }

    for (const file of ["integrator.ts", "viem.mts", "tsconfig.json"]) {
      fs.copyFileSync(path.join(ROOT, "examples", file), path.join(project, file));
    }
    const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
    const compile = await runBounded(process.execPath, [tsc, "-p", project], { cwd: project, timeoutMs: 180_000 });
    expect(compile.code, compile.output).to.equal(0);

    // The listener's last argument is typed as what ethers passes: a payload whose log is `.log`.
    fs.writeFileSync(
      path.join(project, "listener-mistake.ts"),
      [
        'import type { ComputeRwa } from "compute-rwa";',
        "export function watch(rwa: ComputeRwa): void {",
        "  void rwa.nft.on(rwa.nft.filters.Transfer(), (_f, _t, _id, ev) => console.log(ev.blockNumber));",
        "}",
        "",
      ].join("\n"),
    );
    const mistake = await runBounded(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--module",
        "node16",
        "--moduleResolution",
        "node16",
        path.join(project, "listener-mistake.ts"),
      ],
      { cwd: project, timeoutMs: 180_000 },
    );
    expect(mistake.code).to.not.equal(0);
    expect(mistake.output).to.match(/Property 'blockNumber' does not exist on type 'TypedContractEventPayload/);

    const env = {
      PATH: process.env.PATH,
      RPC_URL: node!.url,
      DEPLOYMENTS_DIR: deploymentsDir,
      REGISTRAR_PRIVATE_KEY: REGISTRAR_KEY,
    };
    const ethersRun = await runBounded(process.execPath, [path.join(project, "out", "integrator.js")], {
      cwd: project,
      env,
      timeoutMs: 90_000,
    });
    expect(ethersRun.code, ethersRun.output).to.equal(0);
    const summary = JSON.parse(ethersRun.output);
    expect(summary.system.nft.address).to.equal(getAddress(recorded("GpuAssetNFT").address));
    expect(summary.system.stablecoin.decimals).to.equal(6);
    expect(summary.system.escrowIsLeaseManager).to.equal(true);
    expect(summary.chainCheck).to.equal("ChainMismatchError");
    expect(summary.registered).to.deep.include({ assetId: "1", gpuCount: 8, status: "Active", heardInBlock: true });

    const viemRun = await runBounded(process.execPath, [path.join(project, "out", "viem.mjs")], {
      cwd: project,
      env,
      timeoutMs: 90_000,
    });
    expect(viemRun.code, viemRun.output).to.equal(0);
    const viemSummary = JSON.parse(viemRun.output);
    expect(viemSummary.system.nft.address).to.equal(getAddress(recorded("GpuAssetNFT").address));
    expect(viemSummary.system.stablecoin.decimals).to.equal(6);
    expect(viemSummary.system.escrowIsLeaseManager).to.equal(true);
    expect(viemSummary.chainCheck).to.equal("ChainMismatchError");
    expect(viemSummary.registered).to.deep.equal({ assetId: "2", gpuCount: 4, status: "Active" });
  });
});
