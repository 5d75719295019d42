/**
 * The end-to-end demo: the whole suite, deployed by its own deploy scripts, driven through one
 * story with real contracts, real signatures and real transactions, and the feeder's real
 * controller metering simulated GPUs. Returns a summary (the tables and the JSON) and the audit.
 *
 * The story (times are simulated; the chain is moved with evm_increaseTime/evm_mine and the
 * feeder's clock follows it):
 *   setup  deploy; register three servers; fractionalize #1 into a vault with three holders;
 *          publish terms; the feeder posts baselines; open lease A on #1 (permit) and B on #2
 *   0–49 h the feeder meters and posts every 30 min: #1 loses half its GPUs 06:00–09:00 (below
 *          its 99 % SLA), #2 is silent 14:00–18:00 (no readings); 24 h: settle both, top up A;
 *          36 h: B ended early by its lessee; 48 h: A's first charge released, harvest 1, claims,
 *          a share transfer; 49 h: A closed after its expiry
 *   73 h   the final charges leave their dispute windows: release, harvest 2, everyone claims
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { HDNodeWallet, Mnemonic, Signature, Wallet, id as keccakId, type ContractTransactionResponse } from "ethers";
import {
  GpuAssetNFT__factory,
  MockUSDC__factory,
  RevenueSplitVaultFactory__factory,
  RevenueSplitVault__factory,
  SettlementEscrow__factory,
  UsageOracle__factory,
  type RevenueSplitVault,
} from "../../typechain-types";
import { Controller } from "../../feeder/controller";
import { EthersChain } from "../../feeder/chain";
import { FeederMetrics } from "../../feeder/metrics";
import { makeBatchSigner } from "../../feeder/signer";
import { SimulatorSource } from "../../feeder/sources/simulator";
import { MemoryStateStore } from "../../feeder/state";
import type { ChainPort } from "../../feeder/ports";
import { JOULES_PER_KWH, SECONDS_PER_HOUR } from "../../src/units";
import { deployConfig } from "../deploy/context";
import { CoSigningChainPort, KeepingLogger, ProviderChainPort, ScriptedSource, type Condition } from "./feederRig";
import { checkEscrow, checkLease, checkVault, type Check } from "./checks";
import { amount, bar, clock, percent, table, type Output } from "./render";

/** The standard development mnemonic: Hardhat's in-process accounts, anvil's and `hardhat node`'s. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const HOUR = 3600;
const POLL_S = 120;
const POST_S = 30 * 60;
const FEEDER_END_H = 49;
const FINAL_H = 73.5;
const SHARE = 10n ** 18n;
/** The simulator sees the story as starting here (2026-01-01T00:00Z), so every run meters the same load. */
const SIMULATOR_EPOCH_S = 1_767_225_600;

export interface DemoOptions {
  out: Output;
}

export interface GasRow {
  step: string;
  txs: number;
  gasUsed: string;
}

export interface DemoSummary {
  network: string;
  chainId: string;
  token: { address: string; symbol: string; decimals: number };
  contracts: Record<string, string>;
  simulatedHours: number;
  feeder: { signer: string; coSigners: string[]; polls: number; posts: number; readings: number; gasUsed: string };
  leases: {
    leaseId: string;
    assetId: string;
    lessee: string;
    lesseeAddress: string;
    openedWith: "permit" | "approve";
    endReason: string;
    deposited: string;
    charged: string;
    slaCredit: string;
    refunded: string;
    held: string;
    windows: {
      from: number;
      to: number;
      availabilityBps: number;
      reservationFee: string;
      usageFee: string;
      slaCredit: string;
      charged: string;
    }[];
  }[];
  assets: {
    assetId: string;
    name: string;
    gpuModel: string;
    gpuCount: number;
    owner: string;
    availableGpuSeconds: string;
    busyGpuSeconds: string;
    utilizationBps: number;
    energyJ: string;
    energyKwh: number;
    revenue: string;
  }[];
  vault: {
    address: string;
    assetId: string;
    totalShares: string;
    totalHarvested: string;
    totalClaimed: string;
    claimable: string;
    dust: string;
    harvests: string[];
  };
  holders: { name: string; address: string; shares: string; claimed: string; claimable: string }[];
  gas: GasRow[];
  checks: Check[];
  ok: boolean;
}

interface Persona {
  name: string;
  wallet: Wallet;
}

const END_REASONS = ["None", "Expired", "EndedByLessee", "TerminatedByProvider", "InsufficientFunds"];

export async function runDemo(hre: HardhatRuntimeEnvironment, opts: DemoOptions): Promise<DemoSummary> {
  const { out } = opts;
  const { ethers, deployments, network } = hre;
  const provider = ethers.provider;
  const chainId = (await provider.getNetwork()).chainId;
  const gas = new Map<string, { txs: number; gasUsed: bigint }>();
  const addGas = (step: string, used: bigint, txs = 1) => {
    const g = gas.get(step) ?? { txs: 0, gasUsed: 0n };
    g.txs += txs;
    g.gasUsed += used;
    gas.set(step, g);
  };
  const send = async (step: string, tx: Promise<ContractTransactionResponse>) => {
    const receipt = await (await tx).wait();
    if (!receipt) throw new Error(`${step}: no receipt`);
    addGas(step, receipt.gasUsed);
    return receipt;
  };

  // ------------------------------------------------------------------ deploy
  out.line(`Compute RWA demo on ${network.name} (chain ${chainId})`);
  out.line("");
  if (network.name === "hardhat") await deployments.fixture(["core"]);
  else await deployments.run(["core"], { resetMemory: false, writeDeploymentsToFiles: true });
  const all = await deployments.all();
  for (const name of ["MockUSDC", "GpuAssetNFT", "UsageOracle", "SettlementEscrow", "RevenueSplitVaultFactory"]) {
    const used = all[name]?.receipt?.gasUsed;
    if (used) addGas("deploy contracts", BigInt(used.toString()));
  }
  const config = deployConfig(hre);
  const addr = (name: string) => {
    if (!all[name]) throw new Error(`${name} is not in the deployment record of ${network.name}`);
    return all[name].address;
  };
  const nftAddr = addr("GpuAssetNFT");
  const oracleAddr = addr("UsageOracle");
  const escrowAddr = addr("SettlementEscrow");
  const factoryAddr = addr("RevenueSplitVaultFactory");
  const tokenAddr = addr("Stablecoin");
  const nft = GpuAssetNFT__factory.connect(nftAddr, provider);
  const oracle = UsageOracle__factory.connect(oracleAddr, provider);
  const escrow = SettlementEscrow__factory.connect(escrowAddr, provider);
  const factory = RevenueSplitVaultFactory__factory.connect(factoryAddr, provider);
  const usdc = MockUSDC__factory.connect(tokenAddr, provider);
  const decimals = Number(await usdc.decimals());
  const symbol = await usdc.symbol();
  const usd = (v: number) => BigInt(Math.round(v * 10 ** decimals));
  const fmt = (v: bigint) => `${amount(v, decimals)} ${symbol}`;
  const threshold = Number(await oracle.threshold());
  out.line(
    `• deployed by the deploy scripts (tag "core"): NFT ${nftAddr}, oracle ${oracleAddr} (${threshold} of ${(await oracle.signers()).length} signers), escrow ${escrowAddr}, vault factory ${factoryAddr}, ${symbol} ${tokenAddr}`,
  );
  const escrowWasFresh = (await escrow.leaseCount()) === 0n && (await usdc.balanceOf(escrowAddr)) === 0n;

  // ------------------------------------------------------------------ actors
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), "m/44'/60'/0'/0");
  const keyAt = (i: number) => root.deriveChild(i);
  const deployer = await ethers.getSigner((await hre.getNamedAccounts()).deployer);
  const registrar = await ethers.getSigner(config.registrar);
  const persona = (name: string, index: number): Persona => ({
    name,
    wallet: new Wallet(keyAt(index).privateKey, provider),
  });
  const helios = persona("Helios Compute", 10);
  const ana = persona("Ana", 11);
  const ben = persona("Ben", 12);
  const cleo = persona("Cleo", 13);
  const lumen = persona("Lumen AI", 14);
  const quark = persona("Quark Labs", 15);
  const keeper = persona("keeper", 16);
  const people = [helios, ana, ben, cleo, lumen, quark, keeper];
  for (const p of people) {
    if ((await provider.getBalance(p.wallet.address)) < ethers.parseEther("1")) {
      const r = await (await deployer.sendTransaction({ to: p.wallet.address, value: ethers.parseEther("10") })).wait();
      addGas("fund demo accounts (ETH)", r!.gasUsed);
    }
  }
  const nameOf = new Map(people.map((p) => [p.wallet.address.toLowerCase(), p.name]));

  // The oracle's signers are keys of the dev mnemonic (config/<network>.json): the feeder holds the
  // first, a second operator co-signs with the next ones until the threshold is met.
  const signerSet = (await oracle.signers()).map((s) => s.toLowerCase());
  const oracleKeys: HDNodeWallet[] = [];
  for (let i = 0; i < 30 && oracleKeys.length < threshold; i++) {
    const k = keyAt(i);
    if (signerSet.includes(k.address.toLowerCase())) oracleKeys.push(k);
  }
  if (oracleKeys.length < threshold)
    throw new Error(
      `the demo signs oracle batches with dev-mnemonic keys, but only ${oracleKeys.length} of the oracle's signers (${signerSet.join(", ")}) are among them; threshold is ${threshold}`,
    );
  const feederWallet = new Wallet(oracleKeys[0].privateKey, provider);
  const coSigners = oracleKeys.slice(1).map((k) => new Wallet(k.privateKey).signingKey);
  if ((await provider.getBalance(feederWallet.address)) < ethers.parseEther("1")) {
    const r = await (
      await deployer.sendTransaction({ to: feederWallet.address, value: ethers.parseEther("10") })
    ).wait();
    addGas("fund demo accounts (ETH)", r!.gasUsed);
  }

  // ------------------------------------------------------------------ time
  const latestTs = async () => (await provider.getBlock("latest"))!.timestamp;
  const t0 = await latestTs();
  let nowS = t0; // the feeder's and the story's clock (simulated seconds)
  const since = () => nowS - t0;
  const say = (text: string) => out.line(`  ${clock(since())}  ${text}`);
  /** Brings the chain up to the story's clock (it may run a few wall-clock seconds ahead, never behind). */
  const syncChain = async () => {
    const latest = await latestTs();
    if (nowS > latest) {
      await provider.send("evm_increaseTime", [nowS - latest]);
      await provider.send("evm_mine", []);
    }
  };

  // ------------------------------------------------------------------ register servers
  out.line("");
  out.line("Setup");
  const runTag = `${chainId}:${t0}`;
  const servers = [
    {
      name: "fra-1 H100 rack",
      gpuModel: "NVIDIA H100 80GB HBM3",
      datacenter: "eu-central/fra-1",
      gpuCount: 8,
      vram: 81559,
      tdp: 700,
      seed: 11,
    },
    {
      name: "ams-2 A100 node",
      gpuModel: "NVIDIA A100-SXM4-80GB",
      datacenter: "eu-west/ams-2",
      gpuCount: 4,
      vram: 81920,
      tdp: 400,
      seed: 22,
    },
    {
      name: "sin-1 L40S box",
      gpuModel: "NVIDIA L40S",
      datacenter: "ap-southeast/sin-1",
      gpuCount: 2,
      vram: 46068,
      tdp: 350,
      seed: 33,
    },
  ];
  const assetIds: bigint[] = [];
  const gpusOf: string[][] = [];
  for (const [i, s] of servers.entries()) {
    const gpus = Array.from({ length: s.gpuCount }, (_, g) => {
      // Stable per server (the simulator keys its load on the UUID); the serials hash below is per run.
      const h = keccakId(`${s.name}:${g}`).slice(2);
      return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    });
    await send(
      "register GPU servers",
      nft.connect(registrar).mint(helios.wallet.address, {
        gpuModel: s.gpuModel,
        datacenter: s.datacenter,
        serialsHash: keccakId(`${runTag}:serials:${gpus.join(",")}`),
        vramMiBPerGpu: s.vram,
        gpuCount: s.gpuCount,
        tdpWattsPerGpu: s.tdp,
      }),
    );
    assetIds.push(await nft.lastAssetId());
    gpusOf.push(gpus);
    say(
      `registrar mints asset #${assetIds[i]} to Helios Compute: ${s.gpuCount}× ${s.gpuModel}, ${s.tdp} W each, ${s.datacenter}`,
    );
  }
  const [h100, a100, l40s] = assetIds;

  // ------------------------------------------------------------------ fractionalize #1
  await send("fractionalize into a vault", nft.connect(helios.wallet).approve(factoryAddr, h100));
  const holderShares: [Persona, bigint][] = [
    [helios, 400n * SHARE],
    [ana, 350n * SHARE],
    [ben, 250n * SHARE],
  ];
  await send(
    "fractionalize into a vault",
    factory.connect(helios.wallet).createVault(
      h100,
      tokenAddr,
      helios.wallet.address,
      holderShares.map(([p]) => p.wallet.address),
      holderShares.map(([, n]) => n),
    ),
  );
  const vaultAddr = await factory.vaultOf(h100);
  const vault: RevenueSplitVault = RevenueSplitVault__factory.connect(vaultAddr, provider);
  const shareList = holderShares.map(([p, n]) => `${p.name} ${n / SHARE}`).join(", ");
  say(
    `Helios fractionalizes #${h100} into vault ${vaultAddr}: ${((await vault.totalSupply()) / SHARE).toLocaleString("en-US")} shares — ${shareList}`,
  );

  // ------------------------------------------------------------------ terms
  const terms = (reservation: number, usage: number, sla: number, maxH: number, early: boolean) => ({
    token: tokenAddr,
    reservationPricePerGpuHour: usd(reservation),
    usagePricePerBusyGpuHour: usd(usage),
    minDurationSeconds: BigInt(HOUR),
    maxDurationSeconds: BigInt(maxH * HOUR),
    slaAvailabilityBps: sla,
    earlyEndAllowed: early,
  });
  /** Describes published terms from the on-chain record, so the narrative says what the escrow stores. */
  const describeTerms = async (assetId: bigint) => {
    const t = await escrow.leaseTermsOf(assetId);
    const price = (v: bigint) => amount(v, decimals);
    return (
      `${price(t.reservationPricePerGpuHour)} per GPU-h + ${price(t.usagePricePerBusyGpuHour)} per busy GPU-h, ` +
      `SLA ${Number(t.slaAvailabilityBps) / 100} %, ${t.earlyEndAllowed ? "early end allowed" : "no early end"}`
    );
  };
  await send("publish lease terms", vault.connect(helios.wallet).setLeaseTerms(terms(1.2, 1.1, 9900, 7 * 24, false)));
  say(`vault manager publishes terms for #${h100}: ${await describeTerms(h100)}`);
  await send(
    "publish lease terms",
    escrow.connect(helios.wallet).setLeaseTerms(a100, terms(0.7, 0.6, 8000, 7 * 24, true)),
  );
  say(`Helios publishes terms for #${a100}: ${await describeTerms(a100)}`);
  await send(
    "publish lease terms",
    escrow.connect(helios.wallet).setLeaseTerms(l40s, terms(0.4, 0.35, 9500, 7 * 24, true)),
  );
  say(`Helios publishes terms for #${l40s}: ${await describeTerms(l40s)}`);

  // ------------------------------------------------------------------ the feeder
  const leased = new Set<bigint>();
  const outages: { asset: bigint; fromH: number; toH: number; c: Condition }[] = [
    { asset: h100, fromH: 6, toH: 9, c: { kind: "outage", silentGpus: 4 } },
    { asset: a100, fromH: 14, toH: 18, c: { kind: "silent" } },
  ];
  const conditionOf = (asset: bigint) => (): Condition => {
    const h = since() / HOUR;
    const o = outages.find((x) => x.asset === asset && h >= x.fromH && h < x.toH);
    if (o) return o.c;
    return leased.has(asset) ? { kind: "load" } : { kind: "idle" };
  };
  const nowMs = () => nowS * 1000;
  const shiftMs = (SIMULATOR_EPOCH_S - t0) * 1000;
  const sources = servers.map(
    (s, i) =>
      new ScriptedSource(
        new SimulatorSource(
          { seed: s.seed, gpus: gpusOf[i], tdpWatts: s.tdp, model: s.gpuModel },
          () => nowMs() + shiftMs,
        ),
        gpusOf[i],
        conditionOf(assetIds[i]),
        `simulator:${s.name}`,
        shiftMs,
      ),
  );
  const log = new KeepingLogger();
  const url = (network.config as { url?: string }).url;
  const innerPort: ChainPort = url
    ? new EthersChain(
        feederWallet,
        {
          rpcUrls: [url],
          chainId,
          oracle: oracleAddr,
          nft: nftAddr,
          rpcTimeoutMs: 10_000,
          maxAttempts: 3,
          backoffMs: 200,
          maxBackoffMs: 1_000,
          maxFeePerGasWei: ethers.parseUnits("500", "gwei"),
          maxPriorityFeePerGasWei: ethers.parseUnits("1", "gwei"),
          stuckAfterMs: 30_000,
          feeBumpPercent: 15,
          maxReplacements: 2,
          gasLimitCap: 15_000_000n,
          receiptPollMs: 50,
        },
        log,
      )
    : new ProviderChainPort(feederWallet, provider, oracle, nft, oracleAddr);
  const port = new CoSigningChainPort(innerPort, feederWallet.address, coSigners, chainId);
  const controller = new Controller(
    sources,
    port,
    makeBatchSigner(feederWallet, chainId, oracleAddr),
    new MemoryStateStore(),
    new FeederMetrics(nowMs()),
    log,
    {
      assets: assetIds.map((a, i) => ({ assetId: a.toString(), gpus: gpusOf[i] })),
      pollIntervalMs: POLL_S * 1000,
      postIntervalMs: POST_S * 1000,
      heartbeatSeconds: HOUR,
      maxBatchSize: 500,
      maxBatchesPerCycle: 4,
      staleAfterSeconds: 2 * POLL_S + 30,
      chainId,
      shutdownGraceMs: 1_000,
      dryRun: false,
    },
    nowMs,
  );
  await controller.start();
  await controller.pollOnce();
  await syncChain();
  await controller.postCycle();
  say(
    `feeder starts (${url ? "its own JSON-RPC chain adapter" : "in-process chain port"}), signs with ${feederWallet.address}; ` +
      `${threshold - 1} co-signer(s) complete the ${threshold}-of-${signerSet.length} quorum; baseline readings posted for #${h100}, #${a100}, #${l40s}`,
  );

  // ------------------------------------------------------------------ leases
  const leases: { id: bigint; asset: bigint; lessee: Persona; openedWith: "permit" | "approve"; paidIn: bigint }[] = [];
  const depositA = usd(400);
  const depositB = usd(300);
  await send("fund lessees (mint mUSDC)", usdc.connect(lumen.wallet).mint(lumen.wallet.address, usd(1000)));
  await send("fund lessees (mint mUSDC)", usdc.connect(quark.wallet).mint(quark.wallet.address, usd(500)));
  {
    const domain = await usdc.eip712Domain();
    const deadline = BigInt(nowS + HOUR);
    const sig = Signature.from(
      await lumen.wallet.signTypedData(
        {
          name: domain.name,
          version: domain.version,
          chainId: domain.chainId,
          verifyingContract: domain.verifyingContract,
        },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        {
          owner: lumen.wallet.address,
          spender: escrowAddr,
          value: depositA,
          nonce: await usdc.nonces(lumen.wallet.address),
          deadline,
        },
      ),
    );
    await send(
      "open lease with permit",
      escrow.connect(lumen.wallet).openLeaseWithPermit(h100, 48 * HOUR, depositA, deadline, sig.v, sig.r, sig.s),
    );
    leases.push({ id: await escrow.leaseCount(), asset: h100, lessee: lumen, openedWith: "permit", paidIn: depositA });
    leased.add(h100);
    say(
      `Lumen AI leases #${h100} for 48 h with an EIP-2612 permit: deposit ${fmt(depositA)} in one transaction (lease #${leases[0].id})`,
    );
  }
  await send("open lease (approve)", usdc.connect(quark.wallet).approve(escrowAddr, depositB));
  await send("open lease (approve)", escrow.connect(quark.wallet).openLease(a100, 72 * HOUR, depositB));
  leases.push({ id: await escrow.leaseCount(), asset: a100, lessee: quark, openedWith: "approve", paidIn: depositB });
  leased.add(a100);
  say(
    `Quark Labs leases #${a100} for 72 h (approve + open): deposit ${fmt(depositB)} (lease #${leases[1].id}); #${l40s} stays idle`,
  );
  const [leaseA, leaseB] = leases;

  // ------------------------------------------------------------------ the story's events
  const settleLine = async (leaseId: bigint, receipt: { logs: readonly unknown[] }) => {
    for (const l of receipt.logs as { topics: string[]; data: string }[]) {
      const parsed = escrow.interface.parseLog(l);
      if (parsed?.name !== "LeaseSettled" || parsed.args.leaseId !== leaseId) continue;
      const p = parsed.args.priced;
      return `availability ${percent(p.availabilityBps)}: reservation ${fmt(p.reservationFee)} + usage ${fmt(p.usageFee)} − SLA credit ${fmt(p.slaCredit)} = ${fmt(parsed.args.charged)} pending`;
    }
    return "nothing new to bill";
  };
  const harvests: bigint[] = [];
  const claimed = new Map<string, bigint>();
  let claims = 0;
  const harvest = async () => {
    const before = await vault.totalHarvested();
    await send("harvest vault", vault.connect(keeper.wallet).harvest());
    const got = (await vault.totalHarvested()) - before;
    harvests.push(got);
    const shares = ((await vault.totalSupply()) / SHARE).toLocaleString("en-US");
    say(`keeper harvests the vault: ${fmt(got)} withdrawn from the escrow and spread over ${shares} shares`);
  };
  const claim = async (p: Persona) => {
    const c = await vault.claimable(p.wallet.address);
    if (c === 0n) return;
    await send("holders claim", vault.connect(p.wallet).claim(p.wallet.address));
    claims++;
    claimed.set(p.wallet.address, (claimed.get(p.wallet.address) ?? 0n) + c);
    say(`${p.name} claims ${fmt(c)}`);
  };
  let silentFrom = "";
  const lastReadingAt = async (asset: bigint) => clock(Number((await oracle.latestReading(asset)).timestamp) - t0);
  const events: { atH: number; run: () => Promise<void> }[] = [
    { atH: 6, run: async () => say(`4 of #${h100}'s 8 GPUs go down (they stop reporting) until T+09:00`) },
    {
      atH: 9,
      run: async () => say(`#${h100} is whole again: 12 GPU-hours were not available, below its 99 % SLA for the day`),
    },
    {
      atH: 14,
      run: async () => {
        silentFrom = await lastReadingAt(a100);
        say(`#${a100}'s host goes silent: no telemetry, so the feeder posts no reading for it (last: ${silentFrom})`);
      },
    },
    {
      atH: 18,
      run: async () =>
        say(
          `#${a100} reports again: its next reading (${await lastReadingAt(a100)}) follows the one from ${silentFrom}; the GPU-hours between are unproven and never billed`,
        ),
    },
    {
      atH: 24,
      run: async () => {
        for (const l of [leaseA, leaseB]) {
          const r = await send("settle", escrow.connect(keeper.wallet).settle(l.id));
          say(`keeper settles lease #${l.id} (day 1): ${await settleLine(l.id, r)}`);
        }
        const topUp = usd(400);
        await send("top up", usdc.connect(lumen.wallet).approve(escrowAddr, topUp));
        await send("top up", escrow.connect(lumen.wallet).topUp(leaseA.id, topUp));
        leaseA.paidIn += topUp;
        say(`Lumen AI tops up lease #${leaseA.id} with ${fmt(topUp)}`);
      },
    },
    {
      atH: 36,
      run: async () => {
        const r = await send("end lease early", escrow.connect(quark.wallet).endByLessee(leaseB.id));
        leased.delete(a100);
        const refund = (await escrow.leaseOf(leaseB.id)).refunded;
        say(
          `Quark Labs ends lease #${leaseB.id} early (final settlement: ${await settleLine(leaseB.id, r)}); ${fmt(refund)} refundable`,
        );
      },
    },
    {
      atH: 48.5,
      run: async () => {
        await send("release after dispute window", escrow.connect(keeper.wallet).release(leaseA.id));
        const windowH = Number(await escrow.disputeWindowSeconds()) / 3600;
        say(`lease #${leaseA.id}'s day-1 charge leaves its ${windowH} h dispute window: released to the vault`);
        await harvest();
        for (const p of [helios, ana]) await claim(p);
        const sold = 100n * SHARE;
        await send("share transfer", vault.connect(ana.wallet).transfer(cleo.wallet.address, sold));
        say(`Ana sells ${sold / SHARE} shares to Cleo (Ana keeps her accrued revenue; Cleo earns from now on)`);
      },
    },
    {
      atH: 49,
      run: async () => {
        const r = await send("close expired lease", escrow.connect(keeper.wallet).close(leaseA.id));
        leased.delete(h100);
        const refund = (await escrow.leaseOf(leaseA.id)).refunded;
        say(
          `lease #${leaseA.id} expired; keeper closes it (final settlement: ${await settleLine(leaseA.id, r)}); ${fmt(refund)} refundable`,
        );
      },
    },
  ];

  // ------------------------------------------------------------------ run the feeder
  out.line("");
  out.line(
    `Feeder: ${servers.length} servers, a sample every ${POLL_S / 60} min, a signed batch every ${POST_S / 60} min`,
  );
  let polls = 1;
  let lastPostS = nowS;
  const endS = t0 + FEEDER_END_H * HOUR;
  const progress = (done: boolean, milestone: boolean) => {
    const readings = port.posts.reduce((s, p) => s + p.readings, 0);
    out.progress(
      `  ${clock(since())}  feeder ${bar(since() / (FEEDER_END_H * HOUR))} ${port.posts.length} batches, ${readings} readings posted`,
      milestone,
      done,
    );
  };
  while (nowS < endS) {
    nowS += POLL_S;
    await controller.pollOnce();
    polls++;
    if (nowS - lastPostS < POST_S) continue;
    lastPostS = nowS;
    await syncChain();
    await controller.postCycle();
    const due = events.length > 0 && since() >= events[0].atH * HOUR;
    progress(false, due || since() % (12 * HOUR) === 0);
    while (events.length > 0 && since() >= events[0].atH * HOUR) await events.shift()!.run();
  }
  progress(true, true);
  await controller.stop();
  if (log.errors.length > 0) throw new Error(`the feeder reported errors:\n${log.errors.join("\n")}`);
  say(`feeder stops: no lease left to meter`);

  // ------------------------------------------------------------------ after the dispute windows
  out.line("");
  out.line("After the dispute windows");
  nowS = t0 + FINAL_H * HOUR;
  await syncChain();
  for (const l of leases) {
    if ((await escrow.leaseOf(l.id)).pending > 0n) {
      await send("release after dispute window", escrow.connect(keeper.wallet).release(l.id));
      say(`lease #${l.id}'s final charge is released to the owner of #${l.asset}`);
    }
  }
  for (const p of [lumen, quark, helios]) {
    const w = await escrow.withdrawable(p.wallet.address, tokenAddr);
    if (w === 0n) continue;
    await send("withdraw from escrow", escrow.connect(p.wallet).withdraw(tokenAddr, p.wallet.address));
    say(
      `${p.name} withdraws ${fmt(w)} from the escrow${p === helios ? ` (revenue of #${a100}, which it owns directly)` : " (refund)"}`,
    );
  }
  await harvest();
  for (const p of [helios, ana, ben, cleo]) await claim(p);

  // ------------------------------------------------------------------ summary
  const summary = await summarize();
  return summary;

  async function summarize(): Promise<DemoSummary> {
    const checks: Check[] = [];
    const leaseRows: DemoSummary["leases"] = [];
    const settledLogs = await escrow.queryFilter(escrow.filters.LeaseSettled(), 0);
    const releasedLogs = await escrow.queryFilter(escrow.filters.ChargeReleased(), 0);
    const endedLogs = await escrow.queryFilter(escrow.filters.LeaseEnded(), 0);
    const resolvedLogs = await escrow.queryFilter(escrow.filters.DisputeResolved(), 0);
    const revenueOf = new Map<bigint, bigint>();
    for (const l of leases) {
      const acc = await escrow.accountingOf(l.id);
      const lease = await escrow.leaseOf(l.id);
      const mine = <T extends { args: { leaseId: bigint } }>(logs: T[]) => logs.filter((e) => e.args.leaseId === l.id);
      const windows = mine(settledLogs).map((e) => ({
        from: Number(e.args.fromTimestamp) - t0,
        to: Number(e.args.toTimestamp) - t0,
        availabilityBps: Number(e.args.priced.availabilityBps),
        reservationFee: e.args.priced.reservationFee.toString(),
        usageFee: e.args.priced.usageFee.toString(),
        slaCredit: e.args.priced.slaCredit.toString(),
        charged: e.args.charged.toString(),
      }));
      const disputes = mine(resolvedLogs);
      const chargedByEvents =
        mine(releasedLogs).reduce((s, e) => s + e.args.amount, 0n) + disputes.reduce((s, e) => s + e.args.toPayee, 0n);
      const refundedByEvents =
        mine(endedLogs).reduce((s, e) => s + e.args.refund, 0n) + disputes.reduce((s, e) => s + e.args.toLessee, 0n);
      checks.push(
        ...checkLease({
          leaseId: l.id.toString(),
          paidIn: l.paidIn,
          deposited: acc.deposited,
          charged: acc.charged,
          refunded: acc.refunded,
          held: acc.held,
          chargedByEvents,
          refundedByEvents,
        }),
      );
      revenueOf.set(l.asset, (revenueOf.get(l.asset) ?? 0n) + acc.charged);
      leaseRows.push({
        leaseId: l.id.toString(),
        assetId: l.asset.toString(),
        lessee: l.lessee.name,
        lesseeAddress: l.lessee.wallet.address,
        openedWith: l.openedWith,
        endReason: END_REASONS[Number(lease.endReason)],
        deposited: acc.deposited.toString(),
        charged: acc.charged.toString(),
        slaCredit: windows.reduce((s, w) => s + BigInt(w.slaCredit), 0n).toString(),
        refunded: acc.refunded.toString(),
        held: acc.held.toString(),
        windows,
      });
    }

    // Escrow: every lease it has, every account the story touched.
    let held = 0n;
    for (let id = 1n; id <= (await escrow.leaseCount()); id++) held += (await escrow.accountingOf(id)).held;
    let withdrawable = 0n;
    const accounts = [...people.map((p) => p.wallet.address), vaultAddr, deployer.address, feederWallet.address];
    for (const a of accounts) withdrawable += await escrow.withdrawable(a, tokenAddr);
    checks.push(
      checkEscrow({ tokenBalance: await usdc.balanceOf(escrowAddr), held, withdrawable, fresh: escrowWasFresh }),
    );

    // Vault.
    const holderPeople = [helios, ana, ben, cleo];
    let claimable = 0n;
    let accrued = 0n;
    for (const p of holderPeople) {
      claimable += await vault.claimable(p.wallet.address);
      accrued += await vault.accruedScaled(p.wallet.address);
    }
    const totalHarvested = await vault.totalHarvested();
    const totalClaimed = await vault.totalClaimed();
    checks.push(
      ...checkVault({
        totalHarvested,
        totalClaimed,
        claimable,
        accruedScaled: accrued,
        undistributedScaled: await vault.undistributedScaled(),
        precision: await vault.PRECISION(),
        tokenBalance: await usdc.balanceOf(vaultAddr),
        holders: holderPeople.length,
        claims,
        revenueCredited: revenueOf.get(h100) ?? 0n,
        owedByEscrow: await escrow.withdrawable(vaultAddr, tokenAddr),
      }),
    );

    const assetRows: DemoSummary["assets"] = [];
    for (const [i, a] of assetIds.entries()) {
      const m = await oracle.latestReading(a);
      const owner = await nft.ownerOf(a);
      assetRows.push({
        assetId: a.toString(),
        name: servers[i].name,
        gpuModel: servers[i].gpuModel,
        gpuCount: servers[i].gpuCount,
        owner:
          owner.toLowerCase() === vaultAddr.toLowerCase()
            ? `vault ${owner}`
            : (nameOf.get(owner.toLowerCase()) ?? owner),
        availableGpuSeconds: m.availableGpuSeconds.toString(),
        busyGpuSeconds: m.busyGpuSeconds.toString(),
        utilizationBps: m.availableGpuSeconds === 0n ? 0 : Number((m.busyGpuSeconds * 10_000n) / m.availableGpuSeconds),
        energyJ: m.energyJ.toString(),
        energyKwh: Number(m.energyJ) / Number(JOULES_PER_KWH),
        revenue: (revenueOf.get(a) ?? 0n).toString(),
      });
    }
    const holderRows = await Promise.all(
      holderPeople.map(async (p) => ({
        name: p.name,
        address: p.wallet.address,
        shares: (await vault.balanceOf(p.wallet.address)).toString(),
        claimed: (claimed.get(p.wallet.address) ?? 0n).toString(),
        claimable: (await vault.claimable(p.wallet.address)).toString(),
      })),
    );
    addGas(
      "feeder posts (oracle submit)",
      port.posts.reduce((s, p) => s + p.gasUsed, 0n),
      port.posts.length,
    );
    const summary: DemoSummary = {
      network: network.name,
      chainId: chainId.toString(),
      token: { address: tokenAddr, symbol, decimals },
      contracts: {
        nft: nftAddr,
        oracle: oracleAddr,
        escrow: escrowAddr,
        vaultFactory: factoryAddr,
        vault: vaultAddr,
        stablecoin: tokenAddr,
      },
      simulatedHours: FINAL_H,
      feeder: {
        signer: feederWallet.address,
        coSigners: oracleKeys.slice(1).map((k) => k.address),
        polls,
        posts: port.posts.length,
        readings: port.posts.reduce((s, p) => s + p.readings, 0),
        gasUsed: port.posts.reduce((s, p) => s + p.gasUsed, 0n).toString(),
      },
      leases: leaseRows,
      assets: assetRows,
      vault: {
        address: vaultAddr,
        assetId: h100.toString(),
        totalShares: (await vault.totalSupply()).toString(),
        totalHarvested: totalHarvested.toString(),
        totalClaimed: totalClaimed.toString(),
        claimable: claimable.toString(),
        dust: (totalHarvested - totalClaimed - claimable).toString(),
        harvests: harvests.map(String),
      },
      holders: holderRows,
      gas: [...gas.entries()].map(([step, g]) => ({ step, txs: g.txs, gasUsed: g.gasUsed.toString() })),
      checks,
      ok: checks.every((c) => c.ok),
    };
    return summary;
  }
}

/** The summary tables, as printed. */
export function renderSummary(s: DemoSummary): string {
  const d = s.token.decimals;
  const a = (v: string) => amount(BigInt(v), d);
  const hours = (gpuSeconds: string) => (Number(gpuSeconds) / Number(SECONDS_PER_HOUR)).toFixed(1);
  const parts = [
    table(`Leases (${s.token.symbol})`, [
      ["lease", "asset", "lessee", "opened", "ended", "deposited", "charged", "SLA credit", "refunded", "held"],
      ...s.leases.map((l) => [
        `#${l.leaseId}`,
        `#${l.assetId}`,
        l.lessee,
        l.openedWith,
        l.endReason,
        a(l.deposited),
        a(l.charged),
        a(l.slaCredit),
        a(l.refunded),
        a(l.held),
      ]),
    ]),
    table("Assets (oracle meters since the first report)", [
      ["asset", "server", "GPUs", "owner", "available GPU-h", "busy GPU-h", "utilization", "energy", "revenue"],
      ...s.assets.map((x) => [
        `#${x.assetId}`,
        x.name,
        String(x.gpuCount),
        x.owner.startsWith("vault") ? "vault" : x.owner,
        hours(x.availableGpuSeconds),
        hours(x.busyGpuSeconds),
        percent(x.utilizationBps),
        `${x.energyKwh.toFixed(1)} kWh`,
        a(x.revenue),
      ]),
    ]),
    table(
      `Vault holders of asset #${s.vault.assetId} (harvested ${a(s.vault.totalHarvested)} in ${s.vault.harvests.length} harvests, dust ${s.vault.dust} units)`,
      [
        ["holder", "shares", "claimed", "claimable"],
        ...s.holders.map((h) => [h.name, amount(BigInt(h.shares), 18, 0), a(h.claimed), a(h.claimable)]),
      ],
    ),
    table("Gas per step", [
      ["step", "txs", "gas"],
      ...s.gas.map((g) => [g.step, String(g.txs), amount(BigInt(g.gasUsed), 0, 0)]),
    ]),
    ["Accounting checks", ...s.checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`)].join("\n"),
  ];
  return parts.join("\n\n");
}
