import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre from "hardhat";
import { DeployConfigError, loadDeployConfig, parseDeployConfig } from "../../config/schema";

const LOCAL = { name: "hardhat", live: false };
const LIVE = { name: "sepolia", live: true };

/** The committed dev defaults, as raw JSON (a fresh copy per call). */
function devConfig(): Record<string, unknown> & { oracle: Record<string, unknown>; escrow: Record<string, unknown> } {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "../../config/hardhat.json"), "utf8"));
}

function problemsOf(raw: unknown, network = LOCAL): string[] {
  try {
    parseDeployConfig(raw, "test.json", network);
  } catch (e) {
    expect(e).to.be.instanceOf(DeployConfigError);
    return (e as DeployConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("deploy config", function () {
  describe("parseDeployConfig", function () {
    it("accepts the committed dev defaults of every local network and checksums addresses", function () {
      for (const name of ["hardhat", "localhost"]) {
        const config = loadDeployConfig({ name, live: false });
        expect(config.oracle.threshold).to.be.at.most(config.oracle.signers.length);
        expect(config.admin).to.equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
      }
      const lower = devConfig();
      lower.admin = (lower.admin as string).toLowerCase();
      expect(parseDeployConfig(lower, "test.json", LOCAL).admin).to.equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    });

    it("names a missing admin", function () {
      const raw = devConfig();
      delete raw.admin;
      expect(problemsOf(raw)).to.deep.equal(["admin: required"]);
    });

    it("refuses the zero address, naming the field", function () {
      const raw = devConfig();
      raw.pauser = "0x0000000000000000000000000000000000000000";
      expect(problemsOf(raw)).to.deep.equal(["pauser: is the zero address"]);
    });

    it("refuses a threshold above the number of signers", function () {
      const raw = devConfig();
      raw.oracle.threshold = 4;
      expect(problemsOf(raw)).to.deep.equal(["oracle.threshold: 4 is above the number of signers (3)"]);
    });

    it("refuses a zero threshold and an empty signer set", function () {
      const raw = devConfig();
      raw.oracle.threshold = 0;
      raw.oracle.signers = [];
      expect(problemsOf(raw)).to.have.members([
        "oracle.signers: needs at least one signer",
        "oracle.threshold: must be at least 1",
      ]);
    });

    it("refuses repeated signers, naming the index", function () {
      const raw = devConfig();
      const signers = raw.oracle.signers as string[];
      signers[2] = signers[0].toLowerCase();
      expect(problemsOf(raw)).to.deep.equal([
        `oracle.signers[2]: ${signers[0]} repeats signers[0]: signers must be distinct`,
      ]);
    });

    it("refuses a malformed address and a bad EIP-55 checksum", function () {
      const raw = devConfig();
      raw.arbiter = "0x1234";
      raw.registrar = "0x3c44CdDdB6a900fa2b585dd299e03d12FA4293BC";
      expect(problemsOf(raw)).to.have.members([
        'arbiter: "0x1234" is not a 20-byte hex address',
        'registrar: "0x3c44CdDdB6a900fa2b585dd299e03d12FA4293BC" has a bad EIP-55 checksum',
      ]);
    });

    it("refuses out-of-range timing and margins", function () {
      const raw = devConfig();
      raw.escrow.disputeWindowSeconds = 3600.5;
      raw.oracle.energyMarginBps = 9_000;
      raw.oracle.maxFutureSkewSeconds = -1;
      expect(problemsOf(raw)).to.have.members([
        "escrow.disputeWindowSeconds: must be a whole number of seconds",
        "oracle.energyMarginBps: must be at most 5000 (50 %)",
        "oracle.maxFutureSkewSeconds: must be at least 0 seconds",
      ]);
    });

    it("refuses unknown fields (a typo is not silently ignored)", function () {
      const raw = devConfig();
      raw.admn = raw.admin;
      raw.escrow.disputeWindow = 5;
      expect(problemsOf(raw)).to.have.members(["(file): unknown field admn", "escrow: unknown field disputeWindow"]);
    });

    it("refuses the mock stablecoin on a public network", function () {
      expect(problemsOf(devConfig(), LIVE)).to.deep.equal([
        'stablecoin: "mock" is refused on public network sepolia: give the real token\'s address',
      ]);
    });

    it("reports every problem at once, one line per field", function () {
      const raw = devConfig();
      delete raw.admin;
      raw.arbiter = "0x0000000000000000000000000000000000000000";
      raw.oracle.threshold = 9;
      const problems = problemsOf(raw);
      expect(problems).to.have.length(3);
      const message = (() => {
        try {
          parseDeployConfig(raw, "config/x.json", LOCAL);
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(message).to.match(/^config\/x\.json is invalid:\n {2}- /);
      expect(message).to.contain("admin: required").and.contain("arbiter: is the zero address");
    });

    it("rejects the committed testnet template until it is filled in", function () {
      const raw = JSON.parse(fs.readFileSync(path.join(__dirname, "../../config/testnet.example.json"), "utf8"));
      expect(problemsOf(raw, LIVE)).to.include.members([
        "admin: is the zero address",
        'stablecoin: must be "mock" (local networks only) or a token address',
      ]);
    });
  });

  describe("deploy with a bad config", function () {
    let dir: string;
    const saved = process.env.DEPLOY_CONFIG;

    beforeEach(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-config-"));
    });

    afterEach(function () {
      if (saved === undefined) delete process.env.DEPLOY_CONFIG;
      else process.env.DEPLOY_CONFIG = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const [what, mutate, field] of [
      ["a missing admin", (raw: ReturnType<typeof devConfig>) => delete raw.admin, "admin: required"],
      [
        "a zero arbiter address",
        (raw: ReturnType<typeof devConfig>) => (raw.arbiter = "0x0000000000000000000000000000000000000000"),
        "arbiter: is the zero address",
      ],
      [
        "a threshold above the signer count",
        (raw: ReturnType<typeof devConfig>) => (raw.oracle.threshold = 5),
        "oracle.threshold: 5 is above the number of signers (3)",
      ],
    ] as const) {
      it(`fails before any transaction on ${what}, naming the field`, async function () {
        const raw = devConfig();
        mutate(raw);
        const file = path.join(dir, "bad.json");
        fs.writeFileSync(file, JSON.stringify(raw));
        process.env.DEPLOY_CONFIG = file;
        const [deployer] = await hre.ethers.getSigners();
        const blockBefore = await hre.ethers.provider.getBlockNumber();
        const nonceBefore = await hre.ethers.provider.getTransactionCount(deployer.address);
        let error: Error | undefined;
        try {
          // run, not fixture: a fixture may be served from a snapshot without running any script.
          await hre.deployments.run(["core"], {
            resetMemory: true,
            deletePreviousDeployments: true,
            writeDeploymentsToFiles: false,
          });
        } catch (e) {
          error = e as Error;
        }
        expect(error, "the deploy must fail").to.not.equal(undefined);
        expect(error!.message).to.contain(field);
        expect(await hre.ethers.provider.getBlockNumber()).to.equal(blockBefore);
        expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(nonceBefore);
      });
    }

    it("fails with one message when the network has no config file", async function () {
      process.env.DEPLOY_CONFIG = path.join(dir, "absent.json");
      expect(() => loadDeployConfig({ name: "sepolia", live: true })).to.throw(
        /not found; copy config\/testnet.example.json to config\/sepolia.json/,
      );
    });
  });
});
