/**
 * The only file that talks to the chain. JSON-RPC through ethers v6 providers with a per-request
 * timeout; any number of URLs, tried in order, skipping one that failed in the last minute or whose
 * head lags the others (or the wall clock); bounded retries with exponential backoff and jitter on
 * transient errors; simulation (eth_estimateGas) before every send; explicit nonces; EIP-1559 fees
 * capped by the config; a transaction stuck past `stuckAfterSeconds` replaced at the same nonce
 * with a bumped fee, a bounded number of times.
 */
import { Contract, FetchRequest, JsonRpcProvider, Network, Transaction, Wallet, isError, keccak256 } from "ethers";
import { IGpuAssetNFT__factory } from "../typechain-types/factories/contracts/interfaces/IGpuAssetNFT__factory";
import { IUsageOracle__factory } from "../typechain-types/factories/contracts/interfaces/IUsageOracle__factory";
import { FatalError, TransientError, type AssetInfo, type ChainPort, type Simulation, type TxOutcome } from "./ports";
import { MeterHistory, fetchMeterHistory, type AcceptedBatch } from "../src/meterHistory";
import type { PendingTx } from "./state";
import type { Logger } from "./types";

export interface ChainOptions {
  rpcUrls: string[];
  chainId: bigint;
  oracle: string;
  /** The NFT; when absent it is asked from the oracle (`nft()`). */
  nft?: string;
  rpcTimeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** An endpoint this many blocks behind the best one is skipped while another is in step. */
  maxHeadLagBlocks?: number;
  /** An endpoint whose newest block is older than this (wall clock) is skipped; 0 = no such check. */
  maxHeadAgeSeconds?: number;
  /** How often heads are compared. */
  headCheckMs?: number;
  /** Source of randomness for backoff jitter (tests pin it). */
  random?: () => number;
  /** Called on RPC events (failover, lagging endpoint) for metrics. */
  onEvent?: (kind: string) => void;
  /** First block to scan for `BatchAccepted` (the oracle's deployment block). */
  fromBlock?: number;
  /** Blocks per `eth_getLogs` request. */
  logChunkBlocks?: number;
  maxFeePerGasWei: bigint;
  maxPriorityFeePerGasWei: bigint;
  stuckAfterMs: number;
  feeBumpPercent: number;
  maxReplacements: number;
  gasLimitCap: bigint;
  receiptPollMs: number;
}

const GWEI = 1_000_000_000n;
/** Custom errors the feeder must recognize even if the ABI it was built with lacks them. */
const oracleIface = IUsageOracle__factory.createInterface();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Network-level failures worth retrying (and switching URL for). */
export function isTransient(err: unknown): boolean {
  if (isError(err, "TIMEOUT") || isError(err, "NETWORK_ERROR") || isError(err, "SERVER_ERROR")) return true;
  const e = err as { code?: string; message?: string; info?: { responseStatus?: string } };
  const text = `${e?.code ?? ""} ${e?.message ?? ""} ${e?.info?.responseStatus ?? ""}`;
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EAI_AGAIN|socket hang up|timeout|429|50[0234]|fetch failed|network|bad response|missing response/i.test(
    text,
  );
}

/** The revert data carried by an ethers error, if any. */
export function revertData(err: unknown): string | undefined {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const d of [e?.data, e?.info?.error?.data, e?.error?.data]) {
    if (typeof d === "string" && d.startsWith("0x")) return d;
    if (d && typeof d === "object" && typeof (d as { data?: unknown }).data === "string")
      return (d as { data: string }).data;
  }
  return undefined;
}

/** Describes revert data with the oracle's ABI where possible. */
export function describeRevert(data: string | undefined): string {
  if (!data || data === "0x") return "reverted without data";
  try {
    const parsed = oracleIface.parseError(data);
    if (parsed) return `${parsed.name}(${parsed.args.map((a) => a.toString()).join(", ")})`;
  } catch {
    // fall through
  }
  return `revert ${data.slice(0, 10)}`;
}

/** Backoff before retry `attempt` (1-based): exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return exp / 2 + (exp / 2) * random();
}

interface Endpoint {
  provider: JsonRpcProvider;
  label: string;
  failedAtMs: number;
  lagging: boolean;
  headBlock?: number;
}

export class EthersChain implements ChainPort {
  readonly signerAddress: string;
  readonly oracleAddress: string;
  private readonly endpoints: Endpoint[];
  private headCheckedAtMs = 0;
  private nextNonce?: number;
  private nftAddress?: string;

  constructor(
    private readonly wallet: Wallet,
    private readonly options: ChainOptions,
    private readonly log: Logger,
  ) {
    this.signerAddress = wallet.address;
    this.oracleAddress = options.oracle;
    this.nftAddress = options.nft;
    const network = Network.from(options.chainId);
    this.endpoints = options.rpcUrls.map((url, i) => {
      const req = new FetchRequest(url);
      req.timeout = options.rpcTimeoutMs;
      return {
        provider: new JsonRpcProvider(req, network, { staticNetwork: network, batchMaxCount: 50 }),
        label: `rpc[${i}]`,
        failedAtMs: 0,
        lagging: false,
      };
    });
  }

  /** Endpoints in the order to try: in step and not failed in the last minute first, config order within. */
  private order(): Endpoint[] {
    const now = Date.now();
    const good = (e: Endpoint) => !e.lagging && now - e.failedAtMs >= 60_000;
    return [...this.endpoints.filter(good), ...this.endpoints.filter((e) => !good(e))];
  }

  /**
   * Compares the endpoints' heads (at most every `headCheckMs`): one more than `maxHeadLagBlocks`
   * behind the best, or whose newest block is older than `maxHeadAgeSeconds`, is marked lagging and
   * tried last. With a single endpoint only the age check applies.
   */
  private async checkHeads(): Promise<void> {
    const every = this.options.headCheckMs ?? 30_000;
    if (Date.now() - this.headCheckedAtMs < every) return;
    this.headCheckedAtMs = Date.now();
    const maxAge = this.options.maxHeadAgeSeconds ?? 0;
    const heads = await Promise.all(
      this.endpoints.map(async (e) => {
        try {
          const block = await e.provider.getBlock("latest");
          return block ? { number: block.number, timestamp: block.timestamp } : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    const best = Math.max(...heads.map((h) => h?.number ?? -1));
    this.endpoints.forEach((e, i) => {
      const h = heads[i];
      const behind = h === undefined ? Infinity : best - h.number;
      const ageS = h === undefined ? Infinity : Date.now() / 1000 - h.timestamp;
      const lagging = behind > (this.options.maxHeadLagBlocks ?? 5) || (maxAge > 0 && ageS > maxAge);
      if (lagging && !e.lagging) {
        this.options.onEvent?.("head-lagging");
        this.log.warn(
          { rpc: e.label, blocksBehind: Number.isFinite(behind) ? behind : null, headAgeSeconds: Math.round(ageS) },
          "RPC endpoint's head lags: trying it last",
        );
      }
      e.lagging = lagging;
      e.headBlock = h?.number;
    });
  }

  /** Runs `fn` against the endpoints in order with bounded retries, backoff and jitter. */
  private async rpc<T>(what: string, fn: (p: JsonRpcProvider) => Promise<T>): Promise<T> {
    const { maxAttempts, backoffMs, maxBackoffMs } = this.options;
    if (this.endpoints.length > 1 || (this.options.maxHeadAgeSeconds ?? 0) > 0) await this.checkHeads();
    const order = this.order();
    let lastErr: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const e = order[(attempt - 1) % order.length];
      try {
        return await fn(e.provider);
      } catch (err) {
        if (!isTransient(err)) throw err;
        lastErr = err;
        e.failedAtMs = Date.now();
        this.options.onEvent?.("transient-error");
        this.log.warn({ rpc: e.label, attempt, what, err: shortError(err) }, "transient RPC error");
        if (attempt < maxAttempts)
          await sleep(backoffDelayMs(attempt, backoffMs, maxBackoffMs, this.options.random ?? Math.random));
      }
    }
    throw new TransientError(
      `${what}: RPC unavailable after ${maxAttempts} attempts (${shortError(lastErr)})`,
      lastErr,
    );
  }

  async chainId(): Promise<bigint> {
    const hex = await this.rpc("eth_chainId", (p) => p.send("eth_chainId", []) as Promise<string>);
    return BigInt(hex);
  }

  /** Verifies the chain id and that the oracle has code; fatal otherwise. */
  async verify(): Promise<void> {
    const actual = await this.chainId();
    if (actual !== this.options.chainId)
      throw new FatalError(`RPC serves chain ${actual}, config/deployment expects ${this.options.chainId}`);
    const code = await this.rpc("getCode", (p) => p.getCode(this.oracleAddress));
    if (code === "0x") throw new FatalError(`no contract at oracle address ${this.oracleAddress} on chain ${actual}`);
  }

  async configVersion(): Promise<bigint> {
    return this.rpc("configVersion", (p) => IUsageOracle__factory.connect(this.oracleAddress, p).configVersion());
  }

  private async nft(): Promise<string> {
    if (this.nftAddress) return this.nftAddress;
    const oracle = new Contract(this.oracleAddress, ["function nft() view returns (address)"]);
    try {
      this.nftAddress = (await this.rpc("nft", (p) => (oracle.connect(p) as Contract).nft())) as string;
    } catch (err) {
      if (err instanceof TransientError) throw err;
      throw new FatalError("the oracle has no nft() getter: set chain.nft in the config");
    }
    return this.nftAddress;
  }

  async assetInfo(assetIds: readonly string[]): Promise<Map<string, AssetInfo>> {
    const nft = IGpuAssetNFT__factory.connect(await this.nft());
    const out = new Map<string, AssetInfo>();
    for (const id of assetIds) {
      try {
        const [gpuCount, tdp, status] = await this.rpc("meteringLimits", (p) =>
          nft.connect(p).meteringLimits(BigInt(id)),
        );
        out.set(id, { gpuCount: Number(gpuCount), tdpWattsPerGpu: Number(tdp), status: Number(status) });
      } catch (err) {
        if (err instanceof TransientError) throw err;
        throw new FatalError(`asset ${id} is not a GpuAssetNFT token (${shortError(err)})`);
      }
    }
    return out;
  }

  async oracleParams(): Promise<{ maxReadings: number; energyMarginBps: number }> {
    const oracle = new Contract(this.oracleAddress, [
      "function MAX_READINGS() view returns (uint256)",
      "function energyMarginBps() view returns (uint16)",
    ]);
    const [maxReadings, margin] = await this.rpc("oracleParams", (p) => {
      const o = oracle.connect(p) as Contract;
      return Promise.all([o.MAX_READINGS() as Promise<bigint>, o.energyMarginBps() as Promise<bigint>]);
    });
    return { maxReadings: Number(maxReadings), energyMarginBps: Number(margin) };
  }

  async signerSet(): Promise<{ signers: string[]; threshold: number; configVersion: bigint }> {
    return this.rpc("signerSet", async (p) => {
      const oracle = IUsageOracle__factory.connect(this.oracleAddress, p);
      const [signers, threshold, configVersion] = await Promise.all([
        oracle.signers(),
        oracle.threshold(),
        oracle.configVersion(),
      ]);
      return { signers: [...signers], threshold: Number(threshold), configVersion };
    });
  }

  private scannedToBlock?: number;
  private readonly history = new MeterHistory();

  /**
   * Accepted batches with index ≥ `fromIndex`: `BatchAccepted` logs, with each batch's readings from
   * its `submit` calldata (`src/meterHistory.ts`), scanned once from `fromBlock` in chunks and then
   * only the new blocks.
   */
  async acceptedBatches(fromIndex: number): Promise<AcceptedBatch[]> {
    // eth_blockNumber itself, not ethers' briefly cached block number: a batch just mined must be seen.
    const head = Number(await this.rpc("blockNumber", (p) => p.send("eth_blockNumber", []) as Promise<string>));
    const from = (this.scannedToBlock ?? (this.options.fromBlock ?? 0) - 1) + 1;
    if (from <= head) {
      await this.rpc("history", (p) =>
        fetchMeterHistory(p, this.oracleAddress, {
          fromBlock: from,
          toBlock: head,
          blockRange: this.options.logChunkBlocks ?? 10_000,
          into: this.history,
        }),
      );
      this.scannedToBlock = head;
    }
    const out: AcceptedBatch[] = [];
    for (let i = BigInt(fromIndex); i <= this.history.lastBatchIndex(); i++) {
      const b = this.history.batch(i);
      if (b) out.push(b);
    }
    return out;
  }

  async balanceWei(): Promise<bigint> {
    return this.rpc("getBalance", (p) => p.getBalance(this.signerAddress));
  }

  async simulate(calldata: string): Promise<Simulation> {
    try {
      const gas = await this.rpc("estimateGas", (p) =>
        p.estimateGas({ from: this.signerAddress, to: this.oracleAddress, data: calldata }),
      );
      if (gas > this.options.gasLimitCap) return { kind: "too-large", gas };
      // 20 % headroom over the estimate, never above the cap.
      const limit = (gas * 12n) / 10n;
      return { kind: "ok", gas: limit < this.options.gasLimitCap ? limit : this.options.gasLimitCap };
    } catch (err) {
      if (err instanceof TransientError) throw err;
      const data = revertData(err);
      const reason = data ? describeRevert(data) : shortError(err);
      if (/^BatchIndexTaken\(/.test(reason)) return { kind: "index-taken", reason };
      // Gas above the node's per-transaction cap shows up as an estimation failure without data.
      if (!data && /gas (limit|required)|exceeds|cap/i.test(reason))
        return { kind: "too-large", gas: this.options.gasLimitCap + 1n };
      if (/^StaleConfigVersion\(/.test(reason)) return { kind: "stale-config", reason };
      return { kind: "rejected", reason };
    }
  }

  private async fees(): Promise<{ maxFee: bigint; tip: bigint } | { tooHigh: bigint }> {
    const block = await this.rpc("getBlock", (p) => p.getBlock("latest"));
    const base = block?.baseFeePerGas ?? 0n;
    const cap = this.options.maxFeePerGasWei;
    if (base >= cap) return { tooHigh: base };
    const tip = this.options.maxPriorityFeePerGasWei < cap - base ? this.options.maxPriorityFeePerGasWei : cap - base;
    const want = 2n * base + tip;
    return { maxFee: want < cap ? want : cap, tip };
  }

  private async refreshNonce(): Promise<number> {
    this.nextNonce = await this.rpc("getTransactionCount", (p) => p.getTransactionCount(this.signerAddress, "pending"));
    return this.nextNonce;
  }

  private async broadcast(raw: string): Promise<void> {
    try {
      await this.rpc("sendRawTransaction", (p) => p.send("eth_sendRawTransaction", [raw]));
    } catch (err) {
      const msg = shortError(err);
      // The node already has it (a rebroadcast) or already mined this nonce: waiting will tell.
      if (/already known|known transaction|nonce too low|already imported/i.test(msg)) return;
      throw err;
    }
  }

  async send(
    calldata: string,
    gasLimit: bigint,
    readings: PendingTx["readings"],
    persist: (p: PendingTx) => void,
  ): Promise<TxOutcome> {
    const fees = await this.fees();
    if ("tooHigh" in fees) return { kind: "fee-too-high", baseFeeGwei: formatGwei(fees.tooHigh) };
    const nonce = this.nextNonce ?? (await this.refreshNonce());
    const raw = await this.wallet.signTransaction({
      type: 2,
      chainId: this.options.chainId,
      nonce,
      to: this.oracleAddress,
      data: calldata,
      gasLimit,
      maxFeePerGas: fees.maxFee,
      maxPriorityFeePerGas: fees.tip,
    });
    const pending: PendingTx = {
      nonce,
      rawTxs: [raw],
      hashes: [keccakOfRaw(raw)],
      firstSentAtMs: Date.now(),
      readings,
    };
    persist(pending);
    this.nextNonce = nonce + 1;
    try {
      await this.broadcast(raw);
    } catch (err) {
      // Not accepted by any node: the nonce is still free. The caller keeps `pending` and resumes it.
      this.nextNonce = undefined;
      throw err;
    }
    this.log.info(
      { nonce, hash: pending.hashes[0], gasLimit: gasLimit.toString(), maxFeeGwei: formatGwei(fees.maxFee) },
      "transaction sent",
    );
    return this.waitOrReplace(pending, persist);
  }

  async resume(pending: PendingTx, persist: (p: PendingTx) => void): Promise<TxOutcome> {
    const mined = await this.findReceipt(pending.hashes);
    if (mined) return mined;
    const latest = await this.rpc("getTransactionCount", (p) => p.getTransactionCount(this.signerAddress, "latest"));
    if (latest > pending.nonce) {
      this.nextNonce = undefined;
      return { kind: "nonce-consumed" };
    }
    await this.rebroadcastNewestAccepted(pending, persist);
    this.nextNonce = pending.nonce + 1;
    return this.waitOrReplace(pending, persist);
  }

  /**
   * Rebroadcasts the newest signed version of a pending transaction that the node accepts. A
   * replacement the node refuses (e.g. "replacement transaction underpriced") is dropped from the
   * pending record, so it cannot block the nonce; the version before it is tried next.
   */
  private async rebroadcastNewestAccepted(pending: PendingTx, persist: (p: PendingTx) => void): Promise<void> {
    for (;;) {
      try {
        await this.broadcast(pending.rawTxs[pending.rawTxs.length - 1]);
        return;
      } catch (err) {
        if (pending.rawTxs.length === 1 || !isRefusedReplacement(err)) throw err;
        this.dropNewestVersion(pending, persist, err);
      }
    }
  }

  /** Forgets the newest signed version of `pending` (refused by the node); the previous one stays live. */
  private dropNewestVersion(pending: PendingTx, persist: (p: PendingTx) => void, err: unknown): void {
    pending.rawTxs.pop();
    const dropped = pending.hashes.pop();
    persist(pending);
    this.log.warn(
      { nonce: pending.nonce, hash: dropped, error: shortError(err) },
      "replacement refused by the node; kept the previous transaction",
    );
  }

  private async findReceipt(hashes: string[]): Promise<TxOutcome | undefined> {
    for (const hash of hashes) {
      const r = await this.rpc("getTransactionReceipt", (p) => p.getTransactionReceipt(hash));
      if (!r) continue;
      if (r.status === 1) return { kind: "mined", hash, gasUsed: r.gasUsed, blockNumber: r.blockNumber };
      return { kind: "reverted", hash, reason: "reverted on chain (another transmitter may have posted first)" };
    }
    return undefined;
  }

  /** Polls for a receipt; replaces the transaction with a bumped fee while it is stuck. Bounded. */
  private async waitOrReplace(pending: PendingTx, persist: (p: PendingTx) => void): Promise<TxOutcome> {
    const { stuckAfterMs, receiptPollMs, maxReplacements } = this.options;
    const deadline = Date.now() + stuckAfterMs * (maxReplacements + 2);
    let lastSentAt = Date.now();
    while (Date.now() < deadline) {
      const mined = await this.findReceipt(pending.hashes);
      if (mined) return mined;
      const latest = await this.rpc("getTransactionCount", (p) => p.getTransactionCount(this.signerAddress, "latest"));
      if (latest > pending.nonce) {
        // Mined under a hash we did not see yet, or the nonce was used elsewhere: look once more.
        const again = await this.findReceipt(pending.hashes);
        if (again) return again;
        this.nextNonce = undefined;
        return { kind: "nonce-consumed" };
      }
      if (Date.now() - lastSentAt >= stuckAfterMs && pending.rawTxs.length <= maxReplacements) {
        const replaced = await this.replace(pending);
        if (replaced) {
          persist(pending);
          try {
            await this.broadcast(replaced);
          } catch (err) {
            if (!isRefusedReplacement(err)) throw err;
            this.dropNewestVersion(pending, persist, err);
            lastSentAt = Date.now();
            await sleep(receiptPollMs);
            continue;
          }
          lastSentAt = Date.now();
          this.log.warn(
            {
              nonce: pending.nonce,
              hash: pending.hashes[pending.hashes.length - 1],
              replacement: pending.rawTxs.length - 1,
            },
            "stuck transaction replaced with a bumped fee",
          );
        } else lastSentAt = Date.now();
      }
      await sleep(receiptPollMs);
    }
    return { kind: "not-mined-yet" };
  }

  /** Signs a replacement with fees bumped by `feeBumpPercent` (capped); undefined when the cap leaves no room. */
  private async replace(pending: PendingTx): Promise<string | undefined> {
    const prev = parseRaw(pending.rawTxs[pending.rawTxs.length - 1]);
    const bump = (v: bigint) => (v * BigInt(100 + this.options.feeBumpPercent) + 99n) / 100n;
    const cap = this.options.maxFeePerGasWei;
    let maxFee = bump(prev.maxFeePerGas);
    if (maxFee > cap) maxFee = cap;
    // Nodes refuse a replacement that raises the fee cap by less than 10 %.
    if (maxFee * 100n < prev.maxFeePerGas * 110n) {
      this.log.warn(
        { nonce: pending.nonce, maxFeeGwei: formatGwei(prev.maxFeePerGas) },
        "transaction stuck at the fee cap; waiting",
      );
      return undefined;
    }
    let tip = bump(prev.maxPriorityFeePerGas);
    if (tip > maxFee) tip = maxFee;
    const raw = await this.wallet.signTransaction({
      type: 2,
      chainId: this.options.chainId,
      nonce: pending.nonce,
      to: this.oracleAddress,
      data: prev.data,
      gasLimit: prev.gasLimit,
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: tip,
    });
    pending.rawTxs.push(raw);
    pending.hashes.push(keccakOfRaw(raw));
    return raw;
  }

  async close(): Promise<void> {
    for (const e of this.endpoints) e.provider.destroy();
  }
}

function keccakOfRaw(raw: string): string {
  return keccak256(raw);
}

function parseRaw(raw: string): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; data: string; gasLimit: bigint } {
  const tx = Transaction.from(raw);
  return {
    maxFeePerGas: tx.maxFeePerGas ?? 0n,
    maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
    data: tx.data,
    gasLimit: tx.gasLimit,
  };
}

function formatGwei(wei: bigint): string {
  return `${wei / GWEI}.${(wei % GWEI).toString().padStart(9, "0").replace(/0+$/, "") || "0"}`;
}

/** One line of an error, without URLs (they may hold API keys). */
export function shortError(err: unknown): string {
  const e = err as { shortMessage?: string; message?: string };
  const text = (e?.shortMessage ?? e?.message ?? String(err)).split("\n")[0];
  return text.replace(/https?:\/\/[^\s"')]+/g, "<rpc-url>").slice(0, 300);
}

/** Whether a node refused a transaction outright as a replacement (it will never be mined as sent). */
export function isRefusedReplacement(err: unknown): boolean {
  return /replacement transaction underpriced|replacement fee too low|underpriced|fee too low/i.test(shortError(err));
}
