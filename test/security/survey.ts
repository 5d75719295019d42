import fs from "node:fs";
import path from "node:path";
import { config } from "hardhat";
import type { InterfaceAbi } from "ethers";
import { stateChangingFunctions, type SurfaceFunction } from "./abi-surface";

export interface Surveyed {
  name: string;
  sourceName: string;
  functions: SurfaceFunction[];
}

/**
 * Deployable contracts under `contracts/`, read synchronously from the artifacts (`hardhat test`
 * compiles first) so that mocha can declare one test per function. Interfaces and abstract contracts
 * have no bytecode and are skipped; mocks are test-only and never deployed.
 */
export function surveyArtifacts(): Surveyed[] {
  const root = path.join(config.paths.artifacts, "contracts");
  const found: Surveyed[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".json") && !entry.name.endsWith(".dbg.json")) {
        const artifact = JSON.parse(fs.readFileSync(full, "utf8"));
        const sourceName: string = artifact.sourceName;
        if (sourceName.startsWith("contracts/mocks/")) continue;
        if (artifact.bytecode === "0x") continue;
        const functions = stateChangingFunctions(artifact.contractName, artifact.abi as InterfaceAbi);
        if (functions.length > 0) found.push({ name: artifact.contractName, sourceName, functions });
      }
    }
  };
  walk(root);
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
