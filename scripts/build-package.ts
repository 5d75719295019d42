/**
 * `npm run build:package`: builds what the published package ships, into `dist/`:
 * - `dist/src/` and `dist/typechain-types/`: the entry point, the shared modules and the TypeChain
 *   typings, compiled to JS + `.d.ts` (tsconfig.build.json; run `hardhat compile` first);
 * - `dist/abi/<Name>.json`: the plain ABI of every contract of the system.
 * The deployments record ships from `deployments/` as hardhat-deploy wrote it (see package.json `files`).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
/** Contracts whose ABI is shipped, and where their artifact lives. */
const ABIS: Record<string, string> = {
  GpuAssetNFT: "contracts/GpuAssetNFT.sol/GpuAssetNFT.json",
  UsageOracle: "contracts/UsageOracle.sol/UsageOracle.json",
  SettlementEscrow: "contracts/SettlementEscrow.sol/SettlementEscrow.json",
  RevenueSplitVaultFactory: "contracts/RevenueSplitVaultFactory.sol/RevenueSplitVaultFactory.json",
  RevenueSplitVault: "contracts/RevenueSplitVault.sol/RevenueSplitVault.json",
  IERC20Metadata: "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol/IERC20Metadata.json",
};

function main(): void {
  for (const sub of ["src", "typechain-types", "abi"])
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
  console.log(`package built in ${path.relative(process.cwd(), DIST) || DIST}/ (src, typechain-types, abi)`);
}

main();
