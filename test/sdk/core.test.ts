/**
 * The SDK's client-free core and the package's record check: the enums match the Solidity enums
 * (read from the sources), the chain check, and which deployment records may ship.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { AssetStatus, ChainMismatchError, EndReason, assertChain, type SystemAddresses } from "../../src/core";
import { checkRecords } from "../../src/deployments";

const ROOT = path.resolve(__dirname, "../..");

/** The member names of `enum <name> { … }` in a Solidity file, in order. */
function solidityEnum(file: string, name: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8").replace(/\/\/\/?[^\n]*/g, "");
  const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(text)![1];
  return body
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
}

const tsEnum = (e: Record<string, string | number>) =>
  Object.entries(e)
    .filter(([, v]) => typeof v === "number")
    .sort(([, a], [, b]) => Number(a) - Number(b))
    .map(([k]) => k);

describe("sdk core", function () {
  describe("enums", function () {
    it("AssetStatus lists GpuAssetTypes.sol's members in order", function () {
      expect(tsEnum(AssetStatus)).to.deep.equal(solidityEnum("contracts/types/GpuAssetTypes.sol", "AssetStatus"));
    });
    it("EndReason lists EscrowTypes.sol's members in order", function () {
      expect(tsEnum(EndReason)).to.deep.equal(solidityEnum("contracts/types/EscrowTypes.sol", "EndReason"));
    });
  });

  describe("assertChain", function () {
    const addresses = { chainId: 11155111, network: "sepolia" } as SystemAddresses;
    it("accepts the record's chain", function () {
      expect(() => assertChain(addresses, 11155111n)).to.not.throw();
    });
    it("throws ChainMismatchError naming both chains", function () {
      expect(() => assertChain(addresses, 1)).to.throw(
        ChainMismatchError,
        "the provider is on chain 1, but the sepolia system is recorded on chain 11155111",
      );
    });
  });

  describe("checkRecords (what the package may ship)", function () {
    let root: string;
    const record = (extra: object = {}) =>
      JSON.stringify({
        address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        abi: [{ type: "function", name: "x", inputs: [], outputs: [], stateMutability: "view" }],
        transactionHash: "0x" + "11".repeat(32),
        receipt: { blockNumber: 7 },
        ...extra,
      });
    beforeEach(function () {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "records-"));
      const dir = path.join(root, "sepolia");
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, ".chainId"), "11155111");
      for (const name of ["GpuAssetNFT", "UsageOracle", "SettlementEscrow", "RevenueSplitVaultFactory"]) {
        fs.writeFileSync(path.join(dir, `${name}.json`), record());
      }
      // A token deployed by its issuer: no deployment transaction of ours.
      fs.writeFileSync(path.join(dir, "Stablecoin.json"), record({ transactionHash: undefined, receipt: undefined }));
    });
    afterEach(function () {
      fs.rmSync(root, { recursive: true, force: true });
    });

    it("passes a complete, well-formed record", function () {
      expect(checkRecords(root, "sepolia")).to.deep.equal([]);
    });
    it("refuses a chain id that is not the network's", function () {
      fs.writeFileSync(path.join(root, "sepolia", ".chainId"), "31337");
      expect(checkRecords(root, "sepolia")).to.deep.equal(["sepolia/.chainId: 31337, but sepolia is chain 11155111"]);
    });
    it("refuses a stray file and a hand-made record without its transaction", function () {
      fs.writeFileSync(path.join(root, "sepolia", "MyVault.json"), record());
      fs.writeFileSync(path.join(root, "sepolia", "UsageOracle.json"), record({ transactionHash: undefined }));
      expect(checkRecords(root, "sepolia")).to.have.members([
        "sepolia/MyVault.json: not a record of the system (GpuAssetNFT, UsageOracle, SettlementEscrow, RevenueSplitVaultFactory, Stablecoin, CreditFacility, DemandResponseProgramme, MockUSDC)",
        "sepolia/UsageOracle.json: no deployment transaction and receipt (hand-made?)",
      ]);
    });
    it("refuses a malformed record and names a missing one", function () {
      fs.writeFileSync(path.join(root, "sepolia", "GpuAssetNFT.json"), "{");
      fs.rmSync(path.join(root, "sepolia", "SettlementEscrow.json"));
      expect(checkRecords(root, "sepolia")).to.have.members([
        "sepolia/GpuAssetNFT.json: not valid JSON",
        "sepolia/SettlementEscrow.json: missing",
      ]);
    });
    it("refuses an unknown network folder", function () {
      fs.renameSync(path.join(root, "sepolia"), path.join(root, "mainnet"));
      expect(checkRecords(root, "mainnet")[0]).to.match(/^mainnet: not a known network/);
    });
  });
});
