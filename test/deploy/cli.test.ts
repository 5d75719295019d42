/**
 * Deployer mistakes, through the real command (`hardhat deploy` as a child process, stdin closed,
 * CI=true so Hardhat would print stack traces if we let it): each gives one message naming what to
 * fix, every problem of the run at once, no stack trace, a non-zero exit, and sends nothing.
 * "sepolia" is played by an anvil node started with Sepolia's chain id.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet, encryptKeystoreJsonSync } from "ethers";
import { freePort, runBounded, startAnvil, type LocalNode } from "./helpers/processes";

const ROOT = path.resolve(__dirname, "../..");
const HARDHAT_CLI = require.resolve("hardhat/internal/cli/cli");
const SEPOLIA_CHAIN_ID = "11155111";
/** A key that holds nothing on the node. */
const UNFUNDED = new Wallet("0x" + "42".repeat(32));
const DEV_CONFIG = JSON.parse(fs.readFileSync(path.join(ROOT, "config", "localhost.json"), "utf8"));

const STACK_FRAME = /^\s+at\s/m;

describe("deploy command: deployer mistakes (child process)", function () {
  this.timeout(300_000);

  let sepolia: LocalNode | undefined;
  let other: LocalNode | undefined;
  let work: string;

  /** The environment of a deployer with nothing configured, plus `extra`. */
  function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" };
    for (const key of Object.keys(env)) {
      if (/^(SEPOLIA_|BASE_SEPOLIA_|ARBITRUM_SEPOLIA_|DEPLOYER_|DEPLOY_|HARDHAT_NETWORK$)/.test(key)) delete env[key];
    }
    return { ...env, DEPLOYMENTS_DIR: path.join(work, "deployments"), ...extra };
  }

  const deploy = (args: string[], extra: Record<string, string>) =>
    runBounded(process.execPath, [HARDHAT_CLI, "deploy", "--no-compile", ...args], {
      cwd: ROOT,
      env: envWith(extra),
      timeoutMs: 180_000,
    });

  function configFile(name: string, patch: (raw: Record<string, unknown>) => void): string {
    const raw = JSON.parse(JSON.stringify(DEV_CONFIG));
    patch(raw);
    const file = path.join(work, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(raw));
    return file;
  }

  function expectCleanFailure(run: { code: number | null; output: string }) {
    expect(run.code, run.output).to.equal(1);
    expect(run.output, "no stack trace").to.not.match(STACK_FRAME);
    expect(run.output).to.not.contain("An unexpected error occurred");
    expect(run.output).to.not.contain("ERROR processing");
  }

  before(async function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-cli-"));
    [sepolia, other] = await Promise.all([startAnvil(90_000, ["--chain-id", SEPOLIA_CHAIN_ID]), startAnvil()]);
  });

  after(async function () {
    await Promise.all([sepolia?.stop(), other?.stop()]);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("lists the valid network names for an unknown --network", async function () {
    const run = await deploy(["--network", "sepolai"], {});
    expectCleanFailure(run);
    expect(run.output).to.contain(
      'unknown network "sepolai": choose one of hardhat, localhost, sepolia, baseSepolia, arbitrumSepolia',
    );
  });

  it("reports missing settings and every config problem, the public-network mock included, in one run", async function () {
    const config = configFile("bad", (raw) => {
      delete raw.admin;
      raw.oracle = { ...(raw.oracle as object), threshold: 9 };
      // "mock" on a public network, reported together with the other problems.
      raw.stablecoin = "mock";
    });
    const run = await deploy(["--network", "sepolia"], { DEPLOY_CONFIG: config });
    expectCleanFailure(run);
    for (const line of [
      "SEPOLIA_RPC_URL is not set",
      "no deployer key: set DEPLOYER_PRIVATE_KEY, or DEPLOYER_KEYSTORE + DEPLOYER_KEYSTORE_PASSWORD_FILE",
      "admin: required",
      "oracle.threshold: 9 is above the number of signers (3)",
      'stablecoin: "mock" is refused on public network sepolia',
    ]) {
      expect(run.output).to.contain(line);
    }
    expect(run.output).to.contain("cannot deploy to sepolia: 5 problems to fix first");
  });

  it("refuses a raw DEPLOYER_PRIVATE_KEY on a public network unless DEPLOYER_ALLOW_RAW_KEY=1", async function () {
    const run = await deploy(["--network", "sepolia"], {
      SEPOLIA_RPC_URL: "http://127.0.0.1:9",
      DEPLOYER_PRIVATE_KEY: UNFUNDED.privateKey,
    });
    expectCleanFailure(run);
    expect(run.output).to.contain(
      "DEPLOYER_PRIVATE_KEY is a raw key in the environment, refused for sepolia: use DEPLOYER_KEYSTORE + " +
        "DEPLOYER_KEYSTORE_PASSWORD_FILE, or set DEPLOYER_ALLOW_RAW_KEY=1 for a throw-away testnet key",
    );
  });

  it("names the keystore, the password file and both variables on a wrong password", async function () {
    const wallet = Wallet.createRandom();
    const keystore = path.join(work, "deployer.keystore.json");
    // Light scrypt parameters keep the test fast; the format is the standard JSON keystore.
    fs.writeFileSync(
      keystore,
      encryptKeystoreJsonSync(
        { address: wallet.address, privateKey: wallet.privateKey },
        "right horse battery staple",
        { scrypt: { N: 1 << 10 } },
      ),
    );
    const passwordFile = path.join(work, "wrong-password.txt");
    fs.writeFileSync(passwordFile, "wrong password\n");
    const run = await deploy(["--network", "sepolia"], {
      SEPOLIA_RPC_URL: sepolia!.url,
      DEPLOYER_KEYSTORE: keystore,
      DEPLOYER_KEYSTORE_PASSWORD_FILE: passwordFile,
    });
    expectCleanFailure(run);
    expect(run.output).to.contain(
      `DEPLOYER_KEYSTORE_PASSWORD_FILE (${passwordFile}) does not open DEPLOYER_KEYSTORE (${keystore}): wrong password`,
    );
    expect(run.output).to.not.contain("TypeError");
  });

  it("names a keystore file that does not exist", async function () {
    const run = await deploy(["--network", "sepolia"], {
      SEPOLIA_RPC_URL: sepolia!.url,
      DEPLOYER_KEYSTORE: path.join(work, "missing.json"),
      DEPLOYER_KEYSTORE_PASSWORD_FILE: path.join(work, "missing.txt"),
    });
    expectCleanFailure(run);
    expect(run.output).to.contain(`DEPLOYER_KEYSTORE: no file at ${path.join(work, "missing.json")}`);
    expect(run.output).to.contain(`DEPLOYER_KEYSTORE_PASSWORD_FILE: no file at ${path.join(work, "missing.txt")}`);
  });

  it("refuses an RPC URL that serves another chain", async function () {
    const run = await deploy(["--network", "sepolia"], {
      SEPOLIA_RPC_URL: other!.url,
      DEPLOYER_PRIVATE_KEY: UNFUNDED.privateKey,
      DEPLOYER_ALLOW_RAW_KEY: "1",
    });
    expectCleanFailure(run);
    expect(run.output).to.contain("the RPC in SEPOLIA_RPC_URL serves chain id 31337, but sepolia is chain id 11155111");
  });

  it("says an RPC URL cannot be reached", async function () {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await deploy(["--network", "sepolia"], {
      SEPOLIA_RPC_URL: url,
      DEPLOYER_PRIVATE_KEY: UNFUNDED.privateKey,
      DEPLOYER_ALLOW_RAW_KEY: "1",
    });
    expectCleanFailure(run);
    expect(run.output).to.contain(`cannot reach sepolia's RPC at ${url}`);
  });

  it("reports an unfunded deployer and a stablecoin without code together, and sends nothing", async function () {
    const noCode = "0x000000000000000000000000000000000000dEaD";
    const config = configFile("nocode", (raw) => {
      raw.stablecoin = noCode;
    });
    const run = await deploy(["--network", "sepolia"], {
      SEPOLIA_RPC_URL: sepolia!.url,
      DEPLOYER_PRIVATE_KEY: UNFUNDED.privateKey,
      DEPLOYER_ALLOW_RAW_KEY: "1",
      DEPLOY_CONFIG: config,
    });
    expectCleanFailure(run);
    expect(run.output).to.contain(`stablecoin: no contract at ${noCode} on sepolia`);
    expect(run.output).to.contain(`deployer ${UNFUNDED.address} has no funds on sepolia`);
    const provider = new JsonRpcProvider(sepolia!.url, undefined, { staticNetwork: true });
    expect(await provider.getBlockNumber()).to.equal(0);
    provider.destroy();
  });

  it("reports a missing config file with the command to create it", async function () {
    const run = await deploy(["--network", "sepolia"], {
      SEPOLIA_RPC_URL: sepolia!.url,
      DEPLOYER_PRIVATE_KEY: UNFUNDED.privateKey,
      DEPLOYER_ALLOW_RAW_KEY: "1",
      DEPLOY_CONFIG: path.join(work, "nope.json"),
    });
    expectCleanFailure(run);
    expect(run.output).to.contain("not found; copy config/testnet.example.json to config/sepolia.json");
  });
});
