/**
 * `npm run build:package`: builds what the published package ships, into `dist/`:
 * - `dist/src/` and `dist/typechain-types/`: the entry point, the shared modules and the TypeChain
 *   typings, compiled to JS + `.d.ts` (tsconfig.build.json; run `hardhat compile` first);
 * - `dist/abi/<Name>.json`: the plain ABI of every contract of the system.
 * - `dist/deployments/<network>/`: the record of every public network in `deployments/` that passes
 *   `checkRecords` (known network, matching chain id, only listed, well-formed records with their
 *   deployment transaction). Any other file, or a local network's record, never ships: the build
 *   fails naming it, so a stray hand-made record cannot reach integrators.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { checkRecords } from "../src/deployments";

/** Local networks: never shipped. */
const LOCAL_NETWORKS = new Set(["hardhat", "localhost"]);

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
/** Contracts whose ABI is shipped, and where their artifact lives. */
const ABIS: Record<string, string> = {
  GpuAssetNFT: "contracts/GpuAssetNFT.sol/GpuAssetNFT.json",
  UsageOracle: "contracts/UsageOracle.sol/UsageOracle.json",
  SettlementEscrow: "contracts/SettlementEscrow.sol/SettlementEscrow.json",
  RevenueSplitVaultFactory: "contracts/RevenueSplitVaultFactory.sol/RevenueSplitVaultFactory.json",
  RevenueSplitVault: "contracts/RevenueSplitVault.sol/RevenueSplitVault.json",
  CreditFacility: "contracts/credit/CreditFacility.sol/CreditFacility.json",
  LoanNote: "contracts/credit/LoanNote.sol/LoanNote.json",
  DemandResponseProgramme: "contracts/DemandResponseProgramme.sol/DemandResponseProgramme.json",
  IERC20Metadata: "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol/IERC20Metadata.json",
};

function main(): void {
  for (const sub of ["src", "typechain-types", "abi", "deployments"])
    fs.rmSync(path.join(DIST, sub), { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${tsc.status})`);
  fs.mkdirSync(path.join(DIST, "abi"), { recursive: true });
  for (const [name, artifact] of Object.entries(ABIS)) {
    const file = path.join(ROOT, "artifacts", artifact);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npx hardhat compile first`);
    const { abi } = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(path.join(DIST, "abi", `${name}.json`), `${JSON.stringify(abi, null, 2)}\n`);
  }
  const records = path.join(ROOT, "deployments");
  const problems: string[] = [];
  const shipped: string[] = [];
  for (const entry of fs.existsSync(records) ? fs.readdirSync(records, { withFileTypes: true }) : []) {
    if (!entry.isDirectory()) {
      if (entry.name !== ".gitkeep") problems.push(`${entry.name}: not a network folder`);
      continue;
    }
    if (LOCAL_NETWORKS.has(entry.name)) continue;
    const found = checkRecords(records, entry.name);
    if (found.length > 0) {
      problems.push(...found);
      continue;
    }
    fs.cpSync(path.join(records, entry.name), path.join(DIST, "deployments", entry.name), { recursive: true });
    shipped.push(entry.name);
  }
  if (problems.length > 0) {
    throw new Error(`deployments/ holds records that must not ship:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  fs.mkdirSync(path.join(DIST, "deployments"), { recursive: true });
  console.log(`deployments shipped: ${shipped.length ? shipped.join(", ") : "none (no public network recorded yet)"}`);
  console.log(`package built in ${path.relative(process.cwd(), DIST) || DIST}/ (src, typechain-types, abi)`);
}

try {
  main();
} catch (e) {
  console.error(`build:package: ${(e as Error).message}`);
  process.exitCode = 1;
}
