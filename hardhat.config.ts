import "dotenv/config";
import path from "node:path";
import fs from "node:fs";
import { HardhatUserConfig, subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { NetworkUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-toolbox";
import "hardhat-deploy";
import "./tasks/demo";
import "./tasks/deploy";
import "./tasks/abi";
import "./tasks/system";
import {
  PUBLIC_NETWORKS,
  publicNetworkSetup,
  selectedNetwork,
  setupProblems,
  unknownNetworkMessage,
} from "./scripts/deploy/setup";

/**
 * The one Solidity compiler this project uses: the npm `solc` package, pinned exactly in
 * package.json. Hardhat is told to use its `soljson.js` (the documented custom-compiler recipe),
 * so `hardhat compile` never downloads anything.
 */
export const SOLC_VERSION = "0.8.30";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  const solcPackageDir = path.dirname(require.resolve("solc/package.json"));
  const installed: string = JSON.parse(fs.readFileSync(path.join(solcPackageDir, "package.json"), "utf8")).version;
  if (installed !== SOLC_VERSION) {
    throw new Error(`npm package solc is ${installed}, hardhat.config.ts expects ${SOLC_VERSION}: run npm ci`);
  }
  return {
    compilerPath: path.join(solcPackageDir, "soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: require(path.join(solcPackageDir, "index.js")).version(),
  };
});

/**
 * Public testnets, configured only from the environment (scripts/deploy/setup.ts). A missing or
 * wrong variable never breaks a command that does not use the network: its URL falls back to an
 * unroutable placeholder, and the commands that use it (deploy, the system tasks, verify) report
 * every problem of its settings at once, naming the variables, and exit non-zero.
 */
const selected = selectedNetwork();

function testnet(name: string): NetworkUserConfig {
  const { chainId } = PUBLIC_NETWORKS[name];
  // Decrypting a scrypt keystore takes a second: only for the network this command selected.
  const setup = publicNetworkSetup(name, process.env, name === selected);
  if (name === selected && setup.problems.length > 0) setupProblems.set(name, setup.problems);
  return {
    url: setup.url ?? `http://unset-${PUBLIC_NETWORKS[name].envPrefix.toLowerCase()}-rpc-url.invalid`,
    chainId,
    accounts: name === selected ? setup.accounts : [],
    live: true,
    saveDeployments: true,
    tags: ["public"],
  } as NetworkUserConfig;
}

const localhostKey = process.env.LOCALHOST_PRIVATE_KEY?.trim();

const config: HardhatUserConfig = {
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        settings: {
          // Optimizer on with a runs value for contracts called many times over their life.
          optimizer: { enabled: true, runs: 10_000 },
          // Prague (Pectra) is the newest EVM that solc 0.8.30 targets and that Sepolia, Base Sepolia
          // and Arbitrum Sepolia all execute today; none of our code needs Osaka opcodes.
          evmVersion: "prague",
          viaIR: false,
        },
      },
    ],
    overrides: {
      // The escrow's code at 10,000 runs is over the 24,576-byte limit (EIP-170); at 200 runs it fits,
      // at a cost of a few hundred gas per call (bench/results.json has the figures).
      "contracts/SettlementEscrow.sol": {
        version: SOLC_VERSION,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague", viaIR: false },
      },
      // The same for the demand-response programme (26.7k at 10,000 runs, 22.9k at 200).
      "contracts/DemandResponseProgramme.sol": {
        version: SOLC_VERSION,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague", viaIR: false },
      },
    },
  },
  defaultNetwork: "hardhat",
  networks: {
    hardhat: {
      // Osaka is what Ethereum and Sepolia run today: keep the in-process chain's gas rules
      // (and its 2^24 per-transaction gas cap) the same as theirs.
      hardfork: "osaka",
      saveDeployments: false,
      tags: ["local"],
    },
    localhost: {
      url: process.env.LOCALHOST_RPC_URL?.trim() || "http://127.0.0.1:8545",
      // No key configured: the node's own unlocked dev accounts (anvil, hardhat node).
      accounts: localhostKey ? [localhostKey] : "remote",
      saveDeployments: true,
      tags: ["local"],
    },
    ...Object.fromEntries(Object.keys(PUBLIC_NETWORKS).map((name) => [name, testnet(name)])),
  },
  namedAccounts: {
    deployer: { default: 0 },
  },
  paths: {
    sources: "./contracts",
    tests: "./test",
    cache: "./cache",
    artifacts: "./artifacts",
    deploy: "./deploy",
    // DEPLOYMENTS_DIR lets a test run (or a throw-away local node) record elsewhere than the
    // committed deployments/ folder.
    deployments: process.env.DEPLOYMENTS_DIR?.trim() || "./deployments",
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
  },
  etherscan: {
    // Etherscan API v2: one key for every chain it indexes.
    apiKey: process.env.ETHERSCAN_API_KEY ?? "",
  },
  sourcify: { enabled: false },
  gasReporter: { enabled: false },
  mocha: {
    timeout: 120_000,
  },
};

// A network name the config does not define: one line listing the valid names, exit 1 (Hardhat's
// own HH100 names none, and on CI or a headless Linux it prints a stack trace).
if (selected && !(selected in config.networks!)) {
  console.error(`Error: ${unknownNetworkMessage(selected, Object.keys(config.networks!))}`);
  process.exit(1);
}

export default config;
