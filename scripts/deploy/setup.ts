/**
 * How each network is reached, from the environment only, and every problem with it. Read by
 * hardhat.config.ts when the config loads: a problem never breaks a command that does not use the
 * network; selecting the network reports all of its problems at once, each naming the variable
 * (and file) to fix, without a stack trace (see `tasks/deploy.ts`).
 */
import fs from "node:fs";
import path from "node:path";

/** Public test networks: the variable prefix of their settings and their chain id. */
export const PUBLIC_NETWORKS: Record<string, { envPrefix: string; chainId: number }> = {
  sepolia: { envPrefix: "SEPOLIA", chainId: 11155111 },
  baseSepolia: { envPrefix: "BASE_SEPOLIA", chainId: 84532 },
  arbitrumSepolia: { envPrefix: "ARBITRUM_SEPOLIA", chainId: 421614 },
};

/** The network a command selected (`--network <name>`, `--network=<name>` or HARDHAT_NETWORK). */
export function selectedNetwork(
  argv: string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--network") return argv[i + 1];
    if (argv[i].startsWith("--network=")) return argv[i].slice("--network=".length);
  }
  return env.HARDHAT_NETWORK?.trim() || undefined;
}

export interface NetworkSetup {
  url: string | undefined;
  /** Private keys (0x-prefixed) of the deployer. */
  accounts: string[];
  /** One line per problem, naming the variable; empty when the network is usable. */
  problems: string[];
}

/**
 * Reads a public network's settings. The keystore is only decrypted when `decrypt` is set (it
 * takes a second): hardhat.config.ts sets it for the selected network only.
 */
export function publicNetworkSetup(name: string, env: NodeJS.ProcessEnv, decrypt: boolean): NetworkSetup {
  const { envPrefix } = PUBLIC_NETWORKS[name];
  const problems: string[] = [];
  const urlVar = `${envPrefix}_RPC_URL`;
  const url = env[urlVar]?.trim() || undefined;
  if (!url) problems.push(`${urlVar} is not set: the RPC URL of ${name} (see .env.example)`);
  else if (!/^https?:\/\//.test(url)) problems.push(`${urlVar} (${url}) is not an http(s) URL`);
  const accounts: string[] = [];
  const key = env.DEPLOYER_PRIVATE_KEY?.trim();
  const keystore = env.DEPLOYER_KEYSTORE?.trim();
  const passwordFile = env.DEPLOYER_KEYSTORE_PASSWORD_FILE?.trim();
  if (key) {
    const hex = key.startsWith("0x") ? key : `0x${key}`;
    if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) problems.push("DEPLOYER_PRIVATE_KEY is not a 32-byte hex private key");
    else if (env.DEPLOYER_ALLOW_RAW_KEY?.trim() !== "1") {
      // A raw key in the environment leaks through shells, CI logs and crash reports: public networks
      // take it only when the user says it is a throw-away testnet key.
      problems.push(
        `DEPLOYER_PRIVATE_KEY is a raw key in the environment, refused for ${name}: use DEPLOYER_KEYSTORE + ` +
          "DEPLOYER_KEYSTORE_PASSWORD_FILE, or set DEPLOYER_ALLOW_RAW_KEY=1 for a throw-away testnet key",
      );
    } else accounts.push(hex);
  } else if (keystore || passwordFile) {
    if (!keystore)
      problems.push("DEPLOYER_KEYSTORE is not set (DEPLOYER_KEYSTORE_PASSWORD_FILE is): the keystore's path");
    else if (!fs.existsSync(keystore)) problems.push(`DEPLOYER_KEYSTORE: no file at ${path.resolve(keystore)}`);
    if (!passwordFile)
      problems.push("DEPLOYER_KEYSTORE_PASSWORD_FILE is not set (DEPLOYER_KEYSTORE is): the file holding its password");
    else if (!fs.existsSync(passwordFile))
      problems.push(`DEPLOYER_KEYSTORE_PASSWORD_FILE: no file at ${path.resolve(passwordFile)}`);
    if (decrypt && problems.length === 0 && keystore && passwordFile) {
      const decrypted = decryptKeystore(keystore, passwordFile);
      if (typeof decrypted === "string") accounts.push(decrypted);
      else problems.push(decrypted.problem);
    }
  } else {
    problems.push("no deployer key: set DEPLOYER_PRIVATE_KEY, or DEPLOYER_KEYSTORE + DEPLOYER_KEYSTORE_PASSWORD_FILE");
  }
  return { url, accounts, problems };
}

/** The private key in an encrypted JSON keystore, or the problem, naming both files and variables. */
export function decryptKeystore(keystore: string, passwordFile: string): string | { problem: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Wallet } = require("ethers") as typeof import("ethers");
  let json: string;
  try {
    json = fs.readFileSync(keystore, "utf8");
    JSON.parse(json);
  } catch {
    return { problem: `DEPLOYER_KEYSTORE (${path.resolve(keystore)}) is not a JSON keystore` };
  }
  const password = fs.readFileSync(passwordFile, "utf8").replace(/\r?\n$/, "");
  try {
    return Wallet.fromEncryptedJsonSync(json, password).privateKey;
  } catch (e) {
    const reason = /password/i.test((e as Error).message)
      ? "wrong password"
      : `cannot be decrypted (${(e as Error).message.split("\n")[0]})`;
    return {
      problem:
        `DEPLOYER_KEYSTORE_PASSWORD_FILE (${path.resolve(passwordFile)}) does not open ` +
        `DEPLOYER_KEYSTORE (${path.resolve(keystore)}): ${reason}`,
    };
  }
}

/** Problems of the selected network found while the config loaded (filled by hardhat.config.ts). */
export const setupProblems = new Map<string, string[]>();

/** The message for a network name the config does not define. */
export function unknownNetworkMessage(name: string, known: string[]): string {
  return `unknown network "${name}": choose one of ${known.join(", ")} (--network <name>)`;
}
