/**
 * The post-deploy tasks (tasks/system.ts) and the lease helpers under them (src/leases.ts), run
 * in-process against the system the deploy scripts put on the hardhat network: register an asset,
 * publish terms, open a lease by approval and by permit, preview, settle, close, withdraw, create a
 * vault, and the one-line errors a user meets.
 */
import { expect } from "chai";
import hre, { deployments, ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { HDNodeWallet, Mnemonic } from "ethers";
import { oracleDomain } from "../../src/eip712";
import { previewCharge } from "../../src/leases";
import {
  GpuAssetNFT__factory,
  MockUSDC__factory,
  SettlementEscrow__factory,
  UsageOracle__factory,
} from "../../typechain-types";
import { OracleRig } from "../helpers/oracleRig";

const USDC = 1_000_000n;
const HOUR = 3_600n;
const DAY = 86_400n;
const MNEMONIC = "test test test test test test test test test test test junk";
const account = (i: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), `m/44'/60'/0'/0/${i}`);

/** Runs a task, returning what it printed and the exit code it set. */
async function run(name: string, args: Record<string, unknown>): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const before = process.exitCode;
  process.exitCode = 0;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    await hre.run(name, { account: 0, ...args });
  } finally {
    console.log = log;
    console.error = error;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { out: out.join("\n"), err: err.join("\n"), code };
}

describe("post-deploy tasks and lease helpers (hardhat network, the deploy scripts' system)", function () {
  this.timeout(120_000);
  const REGISTRAR = 2;
  const OWNER = 8;
  const LESSEE = 9;
  const LESSEE_2 = 10;

  async function setup() {
    await deployments.fixture(["core"]);
    const [signer] = await ethers.getSigners();
    const at = async (name: string) => (await deployments.get(name)).address;
    const oracle = UsageOracle__factory.connect(await at("UsageOracle"), signer);
    const escrow = SettlementEscrow__factory.connect(await at("SettlementEscrow"), signer);
    const nft = GpuAssetNFT__factory.connect(await at("GpuAssetNFT"), signer);
    const usdc = MockUSDC__factory.connect(await at("MockUSDC"), signer);
    const { chainId } = await ethers.provider.getNetwork();
    const rig = new OracleRig(
      oracle,
      [5, 6].map((i) => new ethers.Wallet(account(i).privateKey)),
      oracleDomain(chainId, await oracle.getAddress()),
      signer,
    );
    const signers = await ethers.getSigners();
    for (const i of [LESSEE, LESSEE_2]) await usdc.mint(signers[i].address, 10_000n * USDC);
    return { oracle, escrow, nft, usdc, rig, signers };
  }

  it("runs an asset's life from the command line: register, terms, open (approve and permit), preview, settle, close, withdraw, vault", async function () {
    const { escrow, nft, usdc, rig, signers } = await setup();
    const owner = signers[OWNER].address;

    const reg = await run("rwa:register", {
      account: REGISTRAR,
      gpuModel: "NVIDIA H100 SXM",
      gpus: 8,
      tdp: 700,
      vram: 81_559,
      datacenter: "eu-west-fra1",
      serials: "S2, S1",
      owner,
    });
    expect(reg.code, reg.err).to.equal(0);
    expect(reg.out).to.match(/^asset 1 registered to 0x/);
    expect(await nft.ownerOf(1n)).to.equal(owner);
    expect((await nft.specOf(1n)).serialsHash).to.equal(ethers.id("S1,S2"));

    const terms = await run("rwa:terms", {
      account: OWNER,
      asset: 1n,
      reservation: "2",
      usage: "1",
      energy: "0.30",
      sla: 0,
      minHours: 1,
      maxHours: 720,
      earlyEnd: true,
    });
    expect(terms.code, terms.err).to.equal(0);
    expect(terms.out).to.contain("asset 1: terms v1 published; minimum deposit ");
    const t = await escrow.leaseTermsOf(1n);
    expect([t.reservationPricePerGpuHour, t.usagePricePerBusyGpuHour, t.energyPricePerKWh]).to.deep.equal([
      2n * USDC,
      1n * USDC,
      300_000n,
    ]);

    const t0 = BigInt(await time.latest()) + 60n;
    await rig.post(t0, new Map([[1n, { busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n }]]));
    const open = await run("rwa:open", { account: LESSEE, asset: 1n, hours: 24, deposit: "1000", permit: false });
    expect(open.code, open.err).to.equal(0);
    expect(open.out).to.match(/^lease 1 opened on asset 1 under terms v1, deposit 1000.0 mUSDC/);
    expect((await escrow.accountingOf(1n)).deposited).to.equal(1_000n * USDC);

    // A day of half use on all 8 GPUs, metered every 6 hours.
    const lease = await escrow.leaseOf(1n);
    let values = { busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n };
    let previous = t0;
    for (let at = lease.startTime + 6n * HOUR; at <= lease.endTime + HOUR; at += 6n * HOUR) {
      const dt = at - previous;
      previous = at;
      values = {
        busyGpuSeconds: values.busyGpuSeconds + 4n * dt,
        availableGpuSeconds: values.availableGpuSeconds + 8n * dt,
        energyJ: values.energyJ + 4n * dt * 700n,
      };
      await rig.post(at, new Map([[1n, values]]));
    }
    const none = await run("rwa:preview", { lease: 1n });
    expect(none.out).to.equal("lease 1: no reading is billable yet");
    const tooEarly = await run("rwa:settle", { lease: 1n });
    expect(tooEarly.code).to.equal(1);
    expect(tooEarly.err).to.match(/^Error: lease 1: no reading is billable yet/);

    await time.increase(DAY + 60n);
    const preview = await previewCharge({ escrow, oracle: rig.oracle }, 1n);
    expect(preview?.proofs.final).to.equal(true);
    const shown = await run("rwa:preview", { lease: 1n });
    expect(shown.out).to.contain("(the end)");
    expect(shown.out).to.contain(`total ${ethers.formatUnits(preview!.bill.total, 6)} mUSDC`);

    const closed = await run("rwa:settle", { account: 3, lease: 1n });
    expect(closed.code, closed.err).to.equal(0);
    expect(closed.out).to.match(/^lease 1: closed; charged so far .* refunded /);
    const acc = await escrow.accountingOf(1n);
    expect(acc.charged).to.equal(preview!.bill.total);
    expect(acc.charged + acc.refunded).to.equal(1_000n * USDC);

    const before = await usdc.balanceOf(owner);
    const withdrawn = await run("rwa:withdraw", { account: OWNER });
    expect(withdrawn.code, withdrawn.err).to.equal(0);
    expect(await usdc.balanceOf(owner)).to.equal(before + acc.charged);
    expect((await run("rwa:withdraw", { account: OWNER })).out).to.match(/^nothing to withdraw/);

    // A permit leaves no allowance behind.
    const permitted = await run("rwa:open", { account: LESSEE_2, asset: 1n, hours: 1, permit: true });
    expect(permitted.code, permitted.err).to.equal(0);
    expect(permitted.out).to.match(/^lease 2 opened/);
    expect(await usdc.allowance(signers[LESSEE_2].address, await escrow.getAddress())).to.equal(0n);
    expect((await escrow.accountingOf(2n)).deposited).to.equal(await escrow.minimumDeposit(1n));

    // Lease 2 (1 h, by permit) is still unfinished, in the vault's token: the vault is allowed.
    const vault = await run("rwa:vault", { account: OWNER, asset: 1n, shares: "1000" });
    expect(vault.code, vault.err).to.equal(0);
    expect(vault.out).to.match(/^vault 0x[0-9a-fA-F]{40} created for asset 1; 1000 shares/);
    expect(await nft.ownerOf(1n)).to.equal(/vault (0x[0-9a-fA-F]{40})/.exec(vault.out)![1]);
  });

  it("reports a revert as the contract's custom error with its arguments, in one line, exit code 1", async function () {
    await setup();
    const r = await run("rwa:register", {
      account: LESSEE,
      gpuModel: "NVIDIA L4",
      gpus: 1,
      tdp: 72,
      vram: 23_034,
      datacenter: "eu-west-fra1",
      serials: "X1",
    });
    expect(r.code).to.equal(1);
    expect(r.err).to.match(
      /^Error: reverted: GpuAssetNFT\.AccessControlUnauthorizedAccount\(0x[0-9a-fA-F]{40}, 0x[0-9a-f]{64}\)$/,
    );
    const noTerms = await run("rwa:open", { account: LESSEE, asset: 7n, hours: 1, permit: false });
    expect(noTerms.code).to.equal(1);
    expect(noTerms.err.split("\n")).to.have.length(1);
    const badAccount = await run("rwa:withdraw", { account: 99 });
    expect(badAccount.err).to.match(/^Error: --account 99: the hardhat network has \d+ account\(s\)$/);
    const badAmount = await run("rwa:terms", {
      asset: 1n,
      reservation: "1.0000001",
      usage: "1",
      energy: "0",
      sla: 0,
      minHours: 1,
      maxHours: 2,
      earlyEnd: false,
    });
    expect(badAmount.err).to.equal('Error: "1.0000001" is not an amount with at most 6 decimals');
  });
});
