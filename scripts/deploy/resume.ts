/**
 * Resuming an interrupted deploy without a terminal. hardhat-deploy 1.0.4 records the deploy
 * transactions it sends in `deployments/<network>/.pendingTransactions` and, on the next run, asks
 * on the terminal what to do with each one still listed (with no terminal it gives up and exits 0
 * having sent nothing). This runs first instead, and never asks: every listed transaction is waited
 * for (its deployment recorded once mined), rebroadcast when the node has forgotten it and its
 * nonce is still free, or forgotten when its nonce was used by another transaction; then it waits
 * for anything else the deployer still has in flight. It says what it waits for while it waits.
 */
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Transaction } from "ethers";
import { confirmations, deployerAddress } from "./context";
import { DeployError } from "./errors";
import { waitConfirmed } from "./target";

interface PendingEntry {
  name?: string;
  deployment?: Record<string, unknown>;
  rawTx?: string;
  decoded?: { from?: string; nonce?: number; to?: string | null; data?: string };
}

export function pendingTransactionsFile(hre: HardhatRuntimeEnvironment): string {
  return path.join(hre.config.paths.deployments, hre.network.name, ".pendingTransactions");
}

/** Settles every transaction an earlier run left in flight. Returns how many it waited for. */
export async function settlePendingTransactions(hre: HardhatRuntimeEnvironment): Promise<number> {
  const say = (m: string) => console.log(m);
  const provider = hre.ethers.provider;
  const needed = confirmations(hre);
  const pollMs = hre.network.live ? 3_000 : 250;
  const file = pendingTransactionsFile(hre);
  let waited = 0;
  if (fs.existsSync(file)) {
    let pending: Record<string, PendingEntry>;
    try {
      pending = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      throw new DeployError(`${file} is not valid JSON: delete it after checking the deployer's transactions`);
    }
    const hashes = Object.keys(pending);
    if (hashes.length > 0) say(`resuming: an earlier run left ${hashes.length} transaction(s) in flight`);
    for (const hash of hashes) {
      const entry = pending[hash];
      const what = entry.name ? `${entry.name}'s deployment` : `transaction ${hash}`;
      let known = await provider.getTransaction(hash);
      if (!known) {
        const raw = entry.rawTx ? Transaction.from(entry.rawTx) : undefined;
        const nonce = raw?.nonce ?? entry.decoded?.nonce;
        const from = raw?.from ?? entry.decoded?.from;
        const used = nonce !== undefined && from ? (await provider.getTransactionCount(from, "latest")) > nonce : true;
        if (used || !entry.rawTx) {
          say(
            `resuming: ${what} (tx ${hash}) is unknown to the node${used ? " and its nonce was used by another transaction" : ""}: forgotten; the deploy re-checks the chain`,
          );
          delete pending[hash];
          continue;
        }
        say(`resuming: ${what} (tx ${hash}) is unknown to the node: broadcasting it again`);
        await provider.broadcastTransaction(entry.rawTx);
        known = await provider.getTransaction(hash);
      }
      const mined = await waitConfirmed(provider, hash, needed, `${what} from the interrupted run`, say, pollMs);
      waited++;
      if (entry.name && entry.deployment && mined.contractAddress && mined.status === 1) {
        const receipt = await provider.getTransactionReceipt(hash);
        await hre.deployments.save(entry.name, {
          ...(entry.deployment as object),
          address: mined.contractAddress,
          transactionHash: hash,
          receipt: receipt as never,
        } as never);
        say(`resuming: recorded ${entry.name} at ${mined.contractAddress}`);
      }
      delete pending[hash];
    }
    fs.rmSync(file, { force: true });
  }
  // Anything else the deployer has in flight (wiring and role calls are not listed in that file).
  const deployer = await deployerAddress(hre);
  const started = Date.now();
  let said = -Infinity;
  for (;;) {
    const [latest, inFlight] = await Promise.all([
      provider.getTransactionCount(deployer, "latest"),
      provider.getTransactionCount(deployer, "pending"),
    ]);
    if (inFlight <= latest) break;
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed - said >= 15) {
      say(
        `resuming: waiting for ${inFlight - latest} transaction(s) the deployer ${deployer} already sent ` +
          `(nonces ${latest}..${inFlight - 1}) to be mined (${Math.round(elapsed)} s)`,
      );
      said = elapsed;
    }
    if (elapsed > Number(process.env.DEPLOY_WAIT_TIMEOUT_SECONDS || 1800)) {
      throw new DeployError(
        `gave up after ${Math.round(elapsed)} s waiting for the deployer's transactions with nonces ` +
          `${latest}..${inFlight - 1}: they may be underpriced; replace or wait for them, then run the deploy again`,
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return waited + (said > -Infinity ? 1 : 0);
}
