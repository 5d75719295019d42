/**
 * The demo's world: the deployed system, the people, the story's clock, the oracle network (three
 * co-signing feeders) and the keeper. The acts (`scripts/demo/acts/`) only use what is here, so a
 * new act is a new file, not a longer script.
 *
 * Time is simulated: `advanceTo(t)` moves the story's clock in poll steps; at each step every
 * operator samples its telemetry, the chain is brought up to the clock, and the operators run their
 * round engine (the proposer of the round proposes, the others check and co-sign). The keeper builds
 * every proof from the chain's own logs and calldata (`src/meterHistory.ts`).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import {
  HDNodeWallet,
  Mnemonic,
  Wallet,
  id as keccakId,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type JsonRpcProvider,
} from "ethers";
import type {
  GpuAssetNFT,
  MockUSDC,
  RevenueSplitVaultFactory,
  SettlementEscrow,
  UsageOracle,
} from "../../typechain-types";
import { SimulatorSource } from "../../feeder/sources/simulator";
import { ABSENT_BOUNDARY, MeterHistory, fetchMeterHistory, leaseProofs } from "../../src/meterHistory";
import { ScriptedSource, type Condition } from "./feederRig";
import { pollAll, postAll, startFeederNetwork, stopFeederNetwork, type FeederNode } from "./feederNetwork";
import { serveProvider, type RpcBridge } from "./rpcBridge";
import { amount, bar, clock, type Output } from "./render";

/** The standard development mnemonic: Hardhat's in-process accounts, anvil's and `hardhat node`'s. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const HOUR = 3600;
export const DAY = 24 * HOUR;
/** Each operator samples its GPUs every 5 minutes and the network posts a batch every 30 minutes. */
export const POLL_S = 300;
export const POST_S = 30 * 60;
/** Co-signers may disagree about time by up to this much. */
const SKEW_S = 60;
/** A batch is dated this far in the past (`proposalLagSeconds`): every operator has samples past it. */
export const PROPOSAL_LAG_S = SKEW_S + POLL_S + 1;
/** The simulator sees the story as starting here (2026-01-01T00:00Z), so every run meters the same load. */
const SIMULATOR_EPOCH_S = 1_767_225_600;
export const SHARE = 10n ** 18n;

export interface Persona {
  name: string;
  wallet: Wallet;
}

export interface Server {
  name: string;
  gpuModel: string;
  datacenter: string;
  gpuCount: number;
  vram: number;
  tdp: number;
  seed: number;
  assetId: bigint;
  gpus: string[];
}

/** A lease of the story, as the summary reports it. */
export interface StoryLease {
  id: bigint;
  asset: bigint;
  lessee: Persona;
  openedWith: "permit" | "approve";
  paidIn: bigint;
}

export interface Contracts {
  nft: GpuAssetNFT;
  oracle: UsageOracle;
  escrow: SettlementEscrow;
  factory: RevenueSplitVaultFactory;
  usdc: MockUSDC;
}

export class World {
  readonly gas = new Map<string, { txs: number; gasUsed: bigint }>();
  readonly leases: StoryLease[] = [];
  readonly servers: Server[] = [];
  readonly people: Persona[] = [];
  readonly history = new MeterHistory();
  nowS = 0;
  t0 = 0;
  polls = 0;
  feeders: FeederNode[] = [];
  private scannedBlock = -1;
  private readonly conditions = new Map<bigint, () => Condition>();
  private bridge?: RpcBridge;
  private boundaryPosts: number[] = [];
  private progressEvery = 12 * HOUR;

  constructor(
    readonly hre: HardhatRuntimeEnvironment,
    readonly out: Output,
    readonly chainId: bigint,
    readonly c: Contracts,
    readonly decimals: number,
    readonly symbol: string,
  ) {}

  get provider() {
    return this.hre.ethers.provider;
  }

  /** Token base units of `v` whole tokens. */
  usd(v: number): bigint {
    return BigInt(Math.round(v * 10 ** this.decimals));
  }

  /** `v` base units, formatted with the token's symbol. */
  fmt(v: bigint): string {
    return `${amount(v, this.decimals)} ${this.symbol}`;
  }

  /** Seconds since the story began. */
  since(): number {
    return this.nowS - this.t0;
  }

  /** One narrative line, stamped with the story's clock. */
  say(text: string): void {
    this.out.line(`  ${clock(this.since())}  ${text}`);
  }

  /** Sends a transaction and books its gas under `step`. */
  async send(step: string, tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
    const receipt = await (await tx).wait();
    if (!receipt) throw new Error(`${step}: no receipt`);
    this.addGas(step, receipt.gasUsed);
    return receipt;
  }

  addGas(step: string, used: bigint, txs = 1): void {
    const g = this.gas.get(step) ?? { txs: 0, gasUsed: 0n };
    g.txs += txs;
    g.gasUsed += used;
    this.gas.set(step, g);
  }

  /** A persona holding a key of the dev mnemonic (funded with ETH when it has less than 1). */
  async persona(name: string, index: number): Promise<Persona> {
    const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), "m/44'/60'/0'/0");
    const p = { name, wallet: new Wallet(root.deriveChild(index).privateKey, this.provider) };
    await this.fund(p.wallet.address);
    this.people.push(p);
    return p;
  }

  async fund(address: string): Promise<void> {
    const { ethers } = this.hre;
    if ((await this.provider.getBalance(address)) >= ethers.parseEther("1")) return;
    const deployer = await ethers.getSigner((await this.hre.getNamedAccounts()).deployer);
    const r = await (await deployer.sendTransaction({ to: address, value: ethers.parseEther("10") })).wait();
    this.addGas("fund demo accounts (ETH)", r!.gasUsed);
  }

  /** Names of addresses that are not personas (vaults, custody clones). */
  readonly names = new Map<string, string>();

  /** The name of the persona (or named contract) at `address`, else the address. */
  nameOf(address: string): string {
    const p = this.people.find((x) => x.wallet.address.toLowerCase() === address.toLowerCase());
    return p?.name ?? this.names.get(address.toLowerCase()) ?? address;
  }

  /** Stable GPU UUIDs of a server (the simulator keys its load on them). */
  static gpusOf(serverName: string, count: number): string[] {
    return Array.from({ length: count }, (_, g) => {
      const h = keccakId(`${serverName}:${g}`).slice(2);
      return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    });
  }

  /** What an asset's GPUs do from now on (default: idle without a lease, the simulator's load with one). */
  setCondition(assetId: bigint, condition: () => Condition): void {
    this.conditions.set(assetId, condition);
  }

  // ------------------------------------------------------------------ the oracle network

  /**
   * Starts one co-signing feeder per oracle signer whose key is in the dev mnemonic. Each operator
   * reads its own simulator of every server. On the in-process network the chain is served to them
   * over loopback JSON-RPC; on a real node they use its URL.
   */
  async startOracleNetwork(): Promise<{ operators: string[]; threshold: number; signers: number }> {
    const oracle = this.c.oracle;
    const signerSet = (await oracle.signers()).map((s) => s.toLowerCase());
    const threshold = Number(await oracle.threshold());
    const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), "m/44'/60'/0'/0");
    const keys: HDNodeWallet[] = [];
    for (let i = 0; i < 40 && keys.length < signerSet.length; i++) {
      const k = root.deriveChild(i);
      if (signerSet.includes(k.address.toLowerCase())) keys.push(k);
    }
    if (keys.length < threshold)
      throw new Error(
        `the demo runs one feeder per oracle signer with dev-mnemonic keys, but only ${keys.length} of the oracle's signers (${signerSet.join(", ")}) are among them; threshold is ${threshold}`,
      );
    for (const k of keys) await this.fund(k.address);
    const url = (this.hre.network.config as { url?: string }).url;
    if (!url) this.bridge = await serveProvider(this.hre.network.provider);
    const rpcUrl = url ?? this.bridge!.url;
    const shiftMs = (SIMULATOR_EPOCH_S - this.t0) * 1000;
    const nowMs = () => this.nowS * 1000;
    this.feeders = await startFeederNetwork({
      rpcUrl,
      chainId: this.chainId,
      oracle: await oracle.getAddress(),
      nft: await this.c.nft.getAddress(),
      keys,
      assets: this.servers.map((s) => ({ assetId: s.assetId.toString(), gpus: s.gpus })),
      sourcesFor: () =>
        this.servers.map(
          (s) =>
            new ScriptedSource(
              new SimulatorSource(
                { seed: s.seed, gpus: s.gpus, tdpWatts: s.tdp, model: s.gpuModel },
                () => nowMs() + shiftMs,
              ),
              s.gpus,
              () => this.conditions.get(s.assetId)?.() ?? { kind: "idle" },
              `simulator:${s.name}`,
              shiftMs,
            ),
        ),
      pollIntervalSeconds: POLL_S,
      postIntervalSeconds: POST_S,
      nowMs,
    });
    await pollAll(this.feeders);
    this.polls++;
    return { operators: this.feeders.map((f) => f.address), threshold, signers: signerSet.length };
  }

  async stopOracleNetwork(): Promise<void> {
    await stopFeederNetwork(this.feeders);
    await this.bridge?.close();
    const errors = this.feeders.flatMap((f) => f.log.errors);
    if (errors.length > 0) throw new Error(`the feeders reported errors:\n${errors.join("\n")}`);
  }

  /** Batches the oracle accepted (from the chain). */
  async batches(): Promise<number> {
    return Number(await this.c.oracle.nextBatchIndex()) - 1;
  }

  /**
   * The oracle network will post a batch dated exactly at each of `times` (the demand-response
   * boundaries): the clock stops at `time + PROPOSAL_LAG_S`, and no round runs in the post interval
   * before it, so that round is due then.
   */
  postAt(times: readonly bigint[]): void {
    for (const t of times) {
      const at = Number(t) + PROPOSAL_LAG_S;
      if (at > this.nowS + POST_S && !this.boundaryPosts.includes(at)) this.boundaryPosts.push(at);
    }
    this.boundaryPosts.sort((a, b) => a - b);
  }

  /** Brings the chain up to the story's clock (it may run a second or two ahead, never behind). */
  private async syncChain(): Promise<void> {
    const latest = (await this.provider.getBlock("latest"))!.timestamp;
    if (this.nowS > latest) {
      await this.provider.send("evm_setNextBlockTimestamp", [this.nowS]);
      await this.provider.send("evm_mine", []);
    }
  }

  /**
   * Moves the story to `target` (unix seconds): every `POLL_S` the operators sample, the chain
   * follows, and a round runs unless a boundary post is coming within the post interval.
   */
  async advanceTo(target: number, events: { at: number; run: () => Promise<void> }[] = []): Promise<void> {
    const queue = [...events].sort((a, b) => a.at - b.at);
    while (this.nowS < target) {
      let next = Math.min(this.nowS + POLL_S, target);
      const boundary = this.boundaryPosts.find((t) => t > this.nowS && t <= next);
      if (boundary !== undefined) next = boundary;
      const event = queue.find((e) => e.at > this.nowS && e.at <= next);
      if (event && (boundary === undefined || event.at < boundary)) next = event.at;
      this.nowS = next;
      await pollAll(this.feeders);
      this.polls++;
      await this.syncChain();
      const quiet = this.boundaryPosts.some((t) => t > this.nowS && t - this.nowS < POST_S);
      if (!quiet) await postAll(this.feeders);
      if (boundary === this.nowS) this.boundaryPosts = this.boundaryPosts.filter((t) => t !== boundary);
      const milestone = this.since() % this.progressEvery === 0;
      this.out.progress(
        `  ${clock(this.since())}  oracle ${bar(Math.min(1, this.since() / (4 * DAY)))} ${await this.batches()} batches co-signed`,
        milestone,
        false,
      );
      while (queue.length > 0 && queue[0].at <= this.nowS) await queue.shift()!.run();
    }
  }

  // ------------------------------------------------------------------ the keeper

  /** The oracle's history, extended with the blocks since the last call. */
  async meterHistory(): Promise<MeterHistory> {
    const head = await this.provider.getBlockNumber();
    if (head > this.scannedBlock) {
      await fetchMeterHistory(this.provider as unknown as JsonRpcProvider, await this.c.oracle.getAddress(), {
        fromBlock: this.scannedBlock + 1,
        toBlock: head,
        into: this.history,
      });
      this.scannedBlock = head;
    }
    return this.history;
  }

  /**
   * The keeper settles a lease as far as billable readings allow (readings past the escrow's dispute
   * window); returns the LeaseSettled line, or undefined when nothing new is billable.
   */
  async settle(leaseId: bigint, by: Persona): Promise<string | undefined> {
    const { escrow } = this.c;
    const lease = await escrow.leaseOf(leaseId);
    if (lease.closed) return undefined;
    const window = await escrow.disputeWindowSeconds();
    const p = leaseProofs(await this.meterHistory(), lease, BigInt(this.nowS) - window);
    if (!p) return undefined;
    const [, chargeable] = await escrow.previewBill(leaseId, p.start, p.point);
    if (chargeable === 0n && lease.startMetered) return undefined;
    const receipt = await this.send("settle (keeper)", escrow.connect(by.wallet).settle(leaseId, p.start, p.point));
    return this.settledLine(leaseId, receipt);
  }

  /** The keeper closes an ended lease with its final reading (or after the grace period without one). */
  async close(leaseId: bigint, by: Persona): Promise<string> {
    const { escrow } = this.c;
    const lease = await escrow.leaseOf(leaseId);
    const window = await escrow.disputeWindowSeconds();
    const p = leaseProofs(await this.meterHistory(), lease, BigInt(this.nowS) - window);
    const receipt =
      p && p.final
        ? await this.send("close (keeper)", escrow.connect(by.wallet).close(leaseId, p.start, p.point))
        : await this.send("close (keeper)", escrow.connect(by.wallet).close(leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY));
    const refund = receipt.logs
      .map((l) => escrow.interface.parseLog(l))
      .find((e) => e?.name === "LeaseClosed" && e.args.leaseId === leaseId);
    return `${(await this.settledLine(leaseId, receipt)) ?? "nothing more to bill"}; ${this.fmt(refund ? (refund.args.refund as bigint) : 0n)} refunded to the lessee`;
  }

  /** The lease's whole bill so far, as the LeaseSettled event in `receipt` reports it. */
  private async settledLine(leaseId: bigint, receipt: ContractTransactionReceipt): Promise<string | undefined> {
    const { escrow } = this.c;
    for (const l of receipt.logs) {
      const e = escrow.interface.parseLog(l);
      if (e?.name !== "LeaseSettled" || e.args.leaseId !== leaseId) continue;
      const b = e.args.bill;
      return (
        `bill to ${clock(Number(e.args.billedUntil) - this.t0)}: availability ${(Number(b.availabilityBps) / 100).toFixed(1)} %, ` +
        `reservation ${this.fmt(b.reservationFee)} + usage ${this.fmt(b.usageFee)} + energy ${this.fmt(b.energyFee)} − SLA credit ${this.fmt(b.slaCredit)} = ${this.fmt(b.total)}; ` +
        `${this.fmt(e.args.charged)} charged now to ${this.nameOf(e.args.payee)}`
      );
    }
    return undefined;
  }
}
