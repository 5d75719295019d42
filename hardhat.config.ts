import "dotenv/config";
import path from "node:path";
import fs from "node:fs";
import { HardhatUserConfig, subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { NetworkUserConfig, HttpNetworkAccountsUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-toolbox";
import "hardhat-deploy";
import "./tasks/demo";

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
 * Public testnets, configured only from the environment. A missing variable never breaks a
 * command that does not use the network: the URL falls back to a placeholder and the first RPC
 * call made on it fails with the message below (see `assertNetworkConfigured`).
 */
const TESTNETS: Record<string, { envPrefix: string; chainId: number }> = {
  sepolia: { envPrefix: "SEPOLIA", chainId: 11155111 },
  baseSepolia: { envPrefix: "BASE_SEPOLIA", chainId: 84532 },
  arbitrumSepolia: { envPrefix: "ARBITRUM_SEPOLIA", chainId: 421614 },
};

/** Accounts for a public network: a raw key from the environment, or a keystore (see README). */
function deployerAccounts(): HttpNetworkAccountsUserConfig {
  const key = process.env.DEPLOYER_PRIVATE_KEY?.trim();
  if (key) return [key.startsWith("0x") ? key : `0x${key}`];
  const keystore = process.env.DEPLOYER_KEYSTORE?.trim();
  const passwordFile = process.env.DEPLOYER_KEYSTORE_PASSWORD_FILE?.trim();
  if (keystore && passwordFile && fs.existsSync(keystore) && fs.existsSync(passwordFile)) {
    // Decrypting a scrypt keystore takes a second; only done when a public network is selected.
    const selected = process.argv.includes("--network")
      ? process.argv[process.argv.indexOf("--network") + 1]
      : process.env.HARDHAT_NETWORK;
    if (selected && selected in TESTNETS) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Wallet } = require("ethers") as typeof import("ethers");
      const wallet = Wallet.fromEncryptedJsonSync(
        fs.readFileSync(keystore, "utf8"),
        fs.readFileSync(passwordFile, "utf8").trim(),
      );
      return [wallet.privateKey];
    }
  }
  return [];
}

function testnet(name: string): NetworkUserConfig {
  const { envPrefix, chainId } = TESTNETS[name];
  const url = process.env[`${envPrefix}_RPC_URL`]?.trim();
  return {
    // An unroutable placeholder: selecting the network without its URL fails at the first call,
    // and `assertNetworkConfigured` (run by every task below) turns that into one clear message.
    url: url || `http://unset-${envPrefix.toLowerCase()}-rpc-url.invalid`,
    chainId,
    accounts: deployerAccounts(),
    live: true,
    saveDeployments: true,
    tags: ["public"],
  } as NetworkUserConfig;
}

/** Fails fast with one clear message when a public network is selected without its settings. */
export function assertNetworkConfigured(networkName: string): void {
  const entry = TESTNETS[networkName];
  if (!entry) return;
  const missing: string[] = [];
  if (!process.env[`${entry.envPrefix}_RPC_URL`]?.trim()) missing.push(`${entry.envPrefix}_RPC_URL`);
  if (!process.env.DEPLOYER_PRIVATE_KEY?.trim() && !process.env.DEPLOYER_KEYSTORE?.trim()) {
    missing.push("DEPLOYER_PRIVATE_KEY (or DEPLOYER_KEYSTORE + DEPLOYER_KEYSTORE_PASSWORD_FILE)");
  }
  if (missing.length > 0) {
    throw new Error(
      `network "${networkName}" is selected but not configured: set ${missing.join(", ")} in .env (see .env.example)`,
    );
  }
}

const selectedNetwork = (() => {
  const i = process.argv.indexOf("--network");
  return i >= 0 ? process.argv[i + 1] : process.env.HARDHAT_NETWORK;
})();
if (selectedNetwork) assertNetworkConfigured(selectedNetwork);

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
    sepolia: testnet("sepolia"),
    baseSepolia: testnet("baseSepolia"),
    arbitrumSepolia: testnet("arbitrumSepolia"),
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

export default config;
