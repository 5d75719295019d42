/**
 * The deploy scripts in-process, as the demo and other tests load them: `deployments.fixture([...])`
 * on the hardhat network with config/hardhat.json. Covers the states the end-to-end test cannot
 * reach cheaply: an interrupted hand-over, a config changed after hand-over, partial tags.
 * Fixtures are hardhat-deploy's own (`deployments.fixture` snapshots and reverts by tag set), so
 * they are not wrapped in `loadFixture`, whose snapshots would interfere.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre from "hardhat";
import { loadDeployConfig } from "../../config/schema";
import { verifyRoles } from "../../scripts/deploy/execute";
import { GpuAssetNFT__factory, SettlementEscrow__factory, UsageOracle__factory } from "../../typechain-types";

const config = loadDeployConfig({ name: "hardhat", live: false });
const ZERO = "0x0000000000000000000000000000000000000000000000000000000000000000";

/** Run further deploy scripts on top of the current chain state (no snapshot reset). */
async function runDeploy(tags: string[]): Promise<void> {
  await hre.deployments.run(tags, {
    resetMemory: false,
    deletePreviousDeployments: false,
    writeDeploymentsToFiles: false,
  });
}

async function deployedSystemFixture() {
  await hre.deployments.fixture(["core"]);
  const [deployer] = await hre.ethers.getSigners();
  const at = async (name: string) => (await hre.deployments.get(name)).address;
  return {
    deployer,
    nft: GpuAssetNFT__factory.connect(await at("GpuAssetNFT"), hre.ethers.provider),
    oracle: UsageOracle__factory.connect(await at("UsageOracle"), hre.ethers.provider),
    escrow: SettlementEscrow__factory.connect(await at("SettlementEscrow"), hre.ethers.provider),
    stablecoin: await at("Stablecoin"),
  };
}

/** The contracts deployed, nothing wired or handed over yet. */
async function deployedNotHandedOverFixture() {
  await hre.deployments.fixture(["GpuAssetNFT", "UsageOracle", "SettlementEscrow", "RevenueSplitVaultFactory"]);
  const [deployer] = await hre.ethers.getSigners();
  const nft = GpuAssetNFT__factory.connect((await hre.deployments.get("GpuAssetNFT")).address, deployer);
  return { deployer, nft };
}

describe("deploy scripts (in-process fixture)", function () {
  describe("fixture(['core'])", function () {
    it("deploys, wires and hands over the whole system", async function () {
      const { deployer, nft, oracle, escrow, stablecoin } = await deployedSystemFixture();
      expect(await nft.hasRole(ZERO, config.admin)).to.equal(true);
      expect(await nft.hasRole(ZERO, deployer.address)).to.equal(false);
      expect(await nft.hasRole(await nft.LEASE_MANAGER_ROLE(), await escrow.getAddress())).to.equal(true);
      expect(await nft.hasRole(await nft.REGISTRAR_ROLE(), config.registrar)).to.equal(true);
      expect(await oracle.hasRole(await oracle.PAUSER_ROLE(), deployer.address)).to.equal(false);
      expect(await escrow.hasRole(await escrow.ARBITER_ROLE(), config.arbiter)).to.equal(true);
      expect(await escrow.isTokenAllowed(stablecoin)).to.equal(true);
      await verifyRoles(hre);
    });

    it("sends nothing when run again", async function () {
      const { deployer } = await deployedSystemFixture();
      const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
      await runDeploy(["core"]);
      expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
    });
  });

  describe("an interrupted deploy", function () {
    it("completes on the next run after stopping before any wiring", async function () {
      const { deployer } = await deployedNotHandedOverFixture();
      await runDeploy(["core"]);
      await verifyRoles(hre);
      const nft = GpuAssetNFT__factory.connect((await hre.deployments.get("GpuAssetNFT")).address, deployer);
      expect(await nft.hasRole(ZERO, deployer.address)).to.equal(false);
    });

    it("completes on the next run after stopping midway through the hand-over", async function () {
      const { deployer, nft } = await deployedNotHandedOverFixture();
      // What an interrupted run leaves: some grants sent, the deployer still admin.
      await (await nft.grantRole(ZERO, config.admin)).wait();
      await (await nft.grantRole(await nft.PAUSER_ROLE(), config.pauser)).wait();
      await runDeploy(["core"]);
      await verifyRoles(hre);
      expect(await nft.hasRole(ZERO, deployer.address)).to.equal(false);
      expect(await nft.hasRole(await nft.REGISTRAR_ROLE(), config.registrar)).to.equal(true);
    });
  });

  describe("a config changed after the hand-over", function () {
    let dir: string;
    afterEach(function () {
      delete process.env.DEPLOY_CONFIG;
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("fails naming the calls the admin must send, and sends nothing", async function () {
      const { deployer } = await deployedSystemFixture();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-changed-"));
      const raw = JSON.parse(fs.readFileSync(path.join(__dirname, "../../config/hardhat.json"), "utf8"));
      const newPauser = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f";
      raw.pauser = newPauser;
      fs.writeFileSync(path.join(dir, "hardhat.json"), JSON.stringify(raw));
      process.env.DEPLOY_CONFIG = path.join(dir, "hardhat.json");
      const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
      let error: Error | undefined;
      try {
        await runDeploy(["roles"]);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.contain(`the admin (${config.admin}) must send them`);
      expect(error?.message).to.contain(`GpuAssetNFT.grantRole(PAUSER_ROLE, pauser ${newPauser})`);
      expect(error?.message).to.contain(`GpuAssetNFT.revokeRole(PAUSER_ROLE, unknown ${config.pauser})`);
      expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
    });
  });

  describe("dry run", function () {
    afterEach(function () {
      delete process.env.DEPLOY_DRY_RUN;
    });

    it("sends nothing against a fresh chain", async function () {
      await hre.deployments.fixture(["preflight"]);
      const block = await hre.ethers.provider.getBlockNumber();
      process.env.DEPLOY_DRY_RUN = "1";
      await runDeploy(["core"]);
      expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
      expect(await hre.deployments.getOrNull("GpuAssetNFT")).to.not.exist;
    });
  });
});
