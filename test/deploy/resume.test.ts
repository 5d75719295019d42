/**
 * An interrupted deploy on a network that waits for confirmations, resumed without a terminal.
 * "sepolia" is an anvil node with Sepolia's chain id (so the deploy waits for 2 confirmations per
 * transaction, as on a public network). Mining is off while the first deploy transaction sits in
 * the mempool; the deploy is killed there; mining resumes (one block a second); the same command,
 * run again with stdin closed, waits for the interrupted transaction, says so, records it, and
 * completes — never reaching hardhat-deploy's interactive "pending transaction" prompt. The dry run
 * printed before is checked against what was sent: the same number of transactions and the same gas.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ContractFactory, JsonRpcProvider, Wallet } from "ethers";
import { runBounded, startAnvil, startBounded, type LocalNode } from "./helpers/processes";

const ROOT = path.resolve(__dirname, "../..");
const HARDHAT_CLI = require.resolve("hardhat/internal/cli/cli");
/** anvil account 0 (the deployer) and account 9 (deploys the stablecoin beforehand). */
const DEPLOYER = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const TOKEN_DEPLOYER_KEY = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";

describe("deploy resume after an interruption (anvil, 2 confirmations, no terminal)", function () {
  this.timeout(600_000);

  let node: LocalNode | undefined;
  let provider: JsonRpcProvider;
  let work: string;
  let env: NodeJS.ProcessEnv;

  const deploy = (extra: Record<string, string> = {}) =>
    runBounded(process.execPath, [HARDHAT_CLI, "deploy", "--network", "sepolia", "--no-compile"], {
      cwd: ROOT,
      env: { ...env, ...extra },
      timeoutMs: 400_000,
    });
  const rpc = (method: string, params: unknown[] = []) => provider.send(method, params);

  before(async function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-resume-"));
    node = await startAnvil(90_000, ["--chain-id", "11155111", "--no-mining"]);
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    // The "real" stablecoin of this network, deployed by someone else before the deploy.
    const artifact = JSON.parse(
      fs.readFileSync(path.join(ROOT, "artifacts/contracts/mocks/MockUSDC.sol/MockUSDC.json"), "utf8"),
    );
    const issuer = new Wallet(TOKEN_DEPLOYER_KEY, provider);
    const tx = await new ContractFactory(artifact.abi, artifact.bytecode, issuer).getDeployTransaction();
    const sent = await issuer.sendTransaction({ ...tx, gasLimit: 5_000_000n });
    await rpc("evm_mine");
    const stablecoin = (await provider.getTransactionReceipt(sent.hash))!.contractAddress!;
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, "config/localhost.json"), "utf8"));
    config.stablecoin = stablecoin;
    fs.writeFileSync(path.join(work, "sepolia.json"), JSON.stringify(config));
    env = { ...process.env, CI: "true" };
    for (const key of Object.keys(env)) if (/^(SEPOLIA_|DEPLOYER_|DEPLOY_|HARDHAT_NETWORK$)/.test(key)) delete env[key];
    Object.assign(env, {
      SEPOLIA_RPC_URL: node.url,
      DEPLOYER_PRIVATE_KEY: DEPLOYER.privateKey,
      DEPLOYER_ALLOW_RAW_KEY: "1",
      DEPLOY_CONFIG: path.join(work, "sepolia.json"),
      DEPLOYMENTS_DIR: path.join(work, "deployments"),
      SAFE_BATCH_FILE: path.join(work, "admin-calls.json"),
      DEPLOY_PROGRESS_SECONDS: "2",
    });
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("plans, is interrupted with a transaction in flight, resumes without asking, and sends exactly the plan", async function () {
    const dry = await deploy({ DEPLOY_DRY_RUN: "1" });
    expect(dry.code, dry.output).to.equal(0);
    const planned = Number(/transactions a deploy would send now: (\d+)/.exec(dry.output)![1]);
    const plannedGas = BigInt(/^gas: ([\d,]+)/m.exec(dry.output)![1].replace(/,/g, ""));
    expect(planned).to.be.greaterThan(20);
    expect(await provider.getTransactionCount(DEPLOYER.address, "pending")).to.equal(0);

    // First run: its first transaction reaches the mempool and is never mined; kill it there.
    const first = startBounded(process.execPath, [HARDHAT_CLI, "deploy", "--network", "sepolia", "--no-compile"], {
      cwd: ROOT,
      env,
      timeoutMs: 300_000,
    });
    const pendingFile = path.join(work, "deployments", "sepolia", ".pendingTransactions");
    const deadline = Date.now() + 240_000;
    while (!fs.existsSync(pendingFile) || (await provider.getTransactionCount(DEPLOYER.address, "pending")) < 1) {
      if (Date.now() > deadline) throw new Error(`the first run never sent a transaction:\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // It waits, and says what for.
    while (!/waiting for GpuAssetNFT's deployment transaction to be mined/.test(first.output())) {
      if (Date.now() > deadline) throw new Error(`the first run never said what it waits for:\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    first.kill();
    await first.done.catch(() => undefined);
    expect(await provider.getTransactionCount(DEPLOYER.address, "latest")).to.equal(0);

    // The same command, no terminal: it finds the transaction still in flight and says it waits
    // for it; then blocks come again, one a second.
    const second = startBounded(process.execPath, [HARDHAT_CLI, "deploy", "--network", "sepolia", "--no-compile"], {
      cwd: ROOT,
      env,
      timeoutMs: 400_000,
    });
    while (!/waiting for GpuAssetNFT's deployment from the interrupted run/.test(second.output())) {
      if (Date.now() > deadline + 120_000)
        throw new Error(`the resumed run never said what it waits for:\n${second.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await rpc("evm_setIntervalMining", [1]);
    const resumed = await second.done;
    expect(resumed.code, resumed.output).to.equal(0);
    expect(resumed.output).to.contain("resuming: an earlier run left 1 transaction(s) in flight");
    expect(resumed.output).to.match(
      /waiting for GpuAssetNFT's deployment from the interrupted run \(tx 0x[0-9a-f]{64}\)/,
    );
    expect(resumed.output).to.match(/resuming: recorded GpuAssetNFT at 0x[0-9a-fA-F]{40}/);
    expect(resumed.output).to.match(/of 2 confirmations/);
    expect(resumed.output).to.not.contain("Choose what to do with the pending transaction");
    expect(resumed.output).to.contain("final state verified");
    expect(fs.existsSync(pendingFile)).to.equal(false);

    // Exactly the plan: as many transactions as it counted, and the gas its execution used.
    expect(await provider.getTransactionCount(DEPLOYER.address, "latest")).to.equal(planned);
    let gasUsed = 0n;
    const head = await provider.getBlockNumber();
    for (let n = 1; n <= head; n++) {
      const block = await provider.getBlock(n, true);
      for (const tx of block!.prefetchedTransactions) {
        if (tx.from !== DEPLOYER.address) continue;
        gasUsed += (await provider.getTransactionReceipt(tx.hash))!.gasUsed;
      }
    }
    expect(gasUsed).to.equal(plannedGas);

    const again = await deploy();
    expect(again.code, again.output).to.equal(0);
    expect(again.output).to.contain("roles: nothing to send; final state verified");
    expect(await provider.getTransactionCount(DEPLOYER.address, "latest")).to.equal(planned);
  });
});
