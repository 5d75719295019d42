/**
 * Tasks to run a deployed system from the command line, so nobody writes scripts by hand:
 *
 *   npx hardhat rwa:register  --network sepolia --gpu-model "NVIDIA H100 SXM" --gpus 8 --tdp 700 …
 *   npx hardhat rwa:terms     --network sepolia --asset 1 --reservation 2 --usage 1 --min-hours 1 --max-hours 720
 *   npx hardhat rwa:open      --network sepolia --asset 1 --hours 24 [--deposit 600] [--permit]
 *   npx hardhat rwa:preview   --network sepolia --lease 1
 *   npx hardhat rwa:settle    --network sepolia --lease 1      (settles, or closes an ended lease)
 *   npx hardhat rwa:withdraw  --network sepolia [--to 0x…]
 *   npx hardhat rwa:vault     --network sepolia --asset 1 --shares 1000000
 *
 * Contracts come from the network's deployment record (`deployments/<network>/`). The sender is the
 * network's first configured account, or `--account <index>`. Amounts are in token units ("2.5" =
 * 2.5 USDC); a revert is reported as its custom error with arguments, without a stack trace.
 */
import { task, types } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

interface Common {
  account: number;
}

async function system(hre: HardhatRuntimeEnvironment, account: number) {
  const { GpuAssetNFT__factory, UsageOracle__factory, SettlementEscrow__factory } = await import("../src");
  const { RevenueSplitVaultFactory__factory, IERC20Metadata__factory } = await import("../src");
  const signers = await hre.ethers.getSigners();
  const signer = signers[account];
  if (!signer)
    throw new Error(`--account ${account}: the ${hre.network.name} network has ${signers.length} account(s)`);
  const address = async (name: string) => {
    const d = await hre.deployments.getOrNull(name);
    if (!d)
      throw new Error(
        `no ${name} in deployments/${hre.network.name}/ (deploy first: npx hardhat deploy --network ${hre.network.name})`,
      );
    return d.address;
  };
  const escrow = SettlementEscrow__factory.connect(await address("SettlementEscrow"), signer);
  return {
    signer,
    nft: GpuAssetNFT__factory.connect(await address("GpuAssetNFT"), signer),
    oracle: UsageOracle__factory.connect(await address("UsageOracle"), signer),
    escrow,
    vaultFactory: RevenueSplitVaultFactory__factory.connect(await address("RevenueSplitVaultFactory"), signer),
    stablecoin: IERC20Metadata__factory.connect(await address("Stablecoin"), signer),
    token: (at: string) => IERC20Metadata__factory.connect(at, signer),
  };
}

type System = Awaited<ReturnType<typeof system>>;

type ContractKey = "SettlementEscrow" | "GpuAssetNFT" | "RevenueSplitVaultFactory" | "Stablecoin";

/**
 * A revert as `Contract.Error(args)`, named by the contract the transaction was sent to (from the
 * error when the node says, else the task's main contract: errors such as AccessControl's are
 * declared by several).
 */
async function describe(error: unknown, sys: System | undefined, main: ContractKey): Promise<string> {
  const e = error as { data?: string; error?: { data?: string }; transaction?: { to?: string } };
  const data = e.data ?? e.error?.data;
  if (sys && typeof data === "string" && data.length >= 10) {
    const contracts = [
      ["SettlementEscrow", sys.escrow],
      ["GpuAssetNFT", sys.nft],
      ["RevenueSplitVaultFactory", sys.vaultFactory],
      ["Stablecoin", sys.stablecoin],
    ] as const;
    const to = e.transaction?.to?.toLowerCase();
    const addresses = await Promise.all(contracts.map(([, c]) => c.getAddress()));
    const order = contracts
      .map((c, i) => ({ c, first: to ? addresses[i].toLowerCase() === to : c[0] === main }))
      .sort((a, b) => Number(b.first) - Number(a.first));
    for (const {
      c: [name, contract],
    } of order) {
      const parsed = contract.interface.parseError(data);
      if (parsed) return `reverted: ${name}.${parsed.name}(${parsed.args.map(String).join(", ")})`;
    }
  }
  return (error as Error).message ?? String(error);
}

/** Runs a task body with the system; user errors become one line and a non-zero exit. */
function action<A extends Common>(
  main: ContractKey,
  body: (args: A, sys: System, hre: HardhatRuntimeEnvironment) => Promise<void>,
) {
  return async (args: A, hre: HardhatRuntimeEnvironment) => {
    let sys: System | undefined;
    try {
      sys = await system(hre, args.account);
      await body(args, sys, hre);
    } catch (error) {
      if (hre.hardhatArguments.showStackTraces || process.env.RWA_TASK_THROW === "1") throw error;
      console.error(`Error: ${await describe(error, sys, main)}`);
      process.exitCode = 1;
    }
  };
}

async function units(sys: System, token: string, amount: string): Promise<bigint> {
  const { parseUnits } = await import("ethers");
  const decimals = await sys.token(token).decimals();
  try {
    return parseUnits(amount, decimals);
  } catch {
    throw new Error(`"${amount}" is not an amount with at most ${decimals} decimals`);
  }
}

async function show(sys: System, token: string, amount: bigint): Promise<string> {
  const { formatUnits } = await import("ethers");
  const t = sys.token(token);
  return `${formatUnits(amount, await t.decimals())} ${await t.symbol()}`;
}

const account = (t: ReturnType<typeof task>) =>
  t.addOptionalParam("account", "index of the sending account among the network's", 0, types.int);

account(
  task("rwa:register", "Registers (mints) a GPU server; the sender needs REGISTRAR_ROLE")
    .addParam("gpuModel", 'GPU model, e.g. "NVIDIA H100 SXM"')
    .addParam("gpus", "number of GPUs", undefined, types.int)
    .addParam("tdp", "TDP per GPU, watts", undefined, types.int)
    .addParam("vram", "VRAM per GPU, MiB", undefined, types.int)
    .addParam("datacenter", "datacenter code, e.g. eu-west-fra1")
    .addParam("serials", "the GPUs' serial numbers, comma-separated (only their hash is stored)")
    .addOptionalParam("owner", "who receives the NFT; default the sender"),
).setAction(
  action<
    Common & {
      gpuModel: string;
      gpus: number;
      tdp: number;
      vram: number;
      datacenter: string;
      serials: string;
      owner?: string;
    }
  >("GpuAssetNFT", async (a, sys) => {
    const { id } = await import("ethers");
    const owner = a.owner ?? (await sys.signer.getAddress());
    const spec = {
      gpuModel: a.gpuModel,
      datacenter: a.datacenter,
      serialsHash: id(
        a.serials
          .split(",")
          .map((s) => s.trim())
          .sort()
          .join(","),
      ),
      vramMiBPerGpu: a.vram,
      gpuCount: a.gpus,
      tdpWattsPerGpu: a.tdp,
    };
    const receipt = await (await sys.nft.mint(owner, spec)).wait();
    const transfer = receipt!.logs.map((l) => sys.nft.interface.parseLog(l)).find((e) => e?.name === "Transfer");
    console.log(`asset ${transfer!.args.tokenId} registered to ${owner} (tx ${receipt!.hash})`);
  }),
);

account(
  task("rwa:terms", "Publishes lease terms for an asset (a new version); the sender must own the NFT")
    .addParam("asset", "asset id", undefined, types.bigint)
    .addParam("reservation", "reservation price per GPU-hour, token units")
    .addParam("usage", "usage price per busy GPU-hour, token units")
    .addOptionalParam("energy", "energy price per kWh, token units", "0")
    .addOptionalParam("sla", "SLA availability target, basis points (0 = none)", 0, types.int)
    .addParam("minHours", "shortest lease, hours", undefined, types.int)
    .addParam("maxHours", "longest lease, hours", undefined, types.int)
    .addFlag("earlyEnd", "let the lessee end early")
    .addOptionalParam("token", "the lease token; default the deployment's stablecoin"),
).setAction(
  action<
    Common & {
      asset: bigint;
      reservation: string;
      usage: string;
      energy: string;
      sla: number;
      minHours: number;
      maxHours: number;
      earlyEnd: boolean;
      token?: string;
    }
  >("SettlementEscrow", async (a, sys) => {
    const token = a.token ?? (await sys.stablecoin.getAddress());
    const receipt = await (
      await sys.escrow.setLeaseTerms(a.asset, {
        token,
        reservationPricePerGpuHour: await units(sys, token, a.reservation),
        usagePricePerBusyGpuHour: await units(sys, token, a.usage),
        energyPricePerKWh: await units(sys, token, a.energy),
        minDurationSeconds: BigInt(a.minHours) * 3_600n,
        maxDurationSeconds: BigInt(a.maxHours) * 3_600n,
        slaAvailabilityBps: a.sla,
        earlyEndAllowed: a.earlyEnd,
      })
    ).wait();
    const version = await sys.escrow.currentTermsVersion(a.asset);
    const min = await sys.escrow.minimumDeposit(a.asset);
    console.log(
      `asset ${a.asset}: terms v${version} published; minimum deposit ${await show(sys, token, min)} (tx ${receipt!.hash})`,
    );
  }),
);

account(
  task("rwa:open", "Opens a lease on an asset under its current terms, paying the deposit")
    .addParam("asset", "asset id", undefined, types.bigint)
    .addParam("hours", "lease duration, hours", undefined, types.float)
    .addOptionalParam("deposit", "deposit, token units; default the minimum deposit")
    .addOptionalParam("termsVersion", "the terms version agreed to; default the current one", undefined, types.int)
    .addFlag("permit", "pay by EIP-2612 permit instead of an approval"),
).setAction(
  action<Common & { asset: bigint; hours: number; deposit?: string; termsVersion?: number; permit: boolean }>(
    "SettlementEscrow",
    async (a, sys) => {
      const { openLease } = await import("../src/leases");
      const version = a.termsVersion ?? (await sys.escrow.currentTermsVersion(a.asset));
      const terms = await sys.escrow.leaseTermsAt(a.asset, version);
      const opened = await openLease(sys.escrow, sys.token(terms.token), sys.signer, {
        assetId: a.asset,
        termsVersion: version,
        durationSeconds: BigInt(Math.round(a.hours * 3_600)),
        deposit: a.deposit === undefined ? undefined : await units(sys, terms.token, a.deposit),
        permit: a.permit,
      });
      console.log(
        `lease ${opened.leaseId} opened on asset ${a.asset} under terms v${opened.termsVersion}, ` +
          `deposit ${await show(sys, terms.token, opened.deposit)} (tx ${opened.receipt.hash})`,
      );
    },
  ),
);

async function printBill(sys: System, leaseId: bigint, prefix: string) {
  const { previewCharge } = await import("../src/leases");
  const preview = await previewCharge(sys, leaseId);
  const lease = await sys.escrow.leaseOf(leaseId);
  const token = (await sys.escrow.leaseTermsAt(lease.assetId, lease.termsVersion)).token;
  if (!preview) {
    console.log(`${prefix}lease ${leaseId}: no reading is billable yet`);
    return;
  }
  const b = preview.bill;
  console.log(
    `${prefix}lease ${leaseId}: bill to ${new Date(Number(preview.proofs.pointTime) * 1000).toISOString()}` +
      `${preview.proofs.final ? " (the end)" : ""}: reservation ${await show(sys, token, b.reservationFee)}, ` +
      `usage ${await show(sys, token, b.usageFee)}, energy ${await show(sys, token, b.energyFee)}, ` +
      `SLA credit ${await show(sys, token, b.slaCredit)}, total ${await show(sys, token, b.total)}; ` +
      `a settlement now charges ${await show(sys, token, preview.chargeable)}`,
  );
}

account(
  task("rwa:preview", "What settling a lease now would bill and charge (from chain data alone)").addParam(
    "lease",
    "lease id",
    undefined,
    types.bigint,
  ),
).setAction(action<Common & { lease: bigint }>("SettlementEscrow", async (a, sys) => printBill(sys, a.lease, "")));

account(
  task("rwa:settle", "Settles a lease with proofs from chain data, or closes it once ended (anyone may)").addParam(
    "lease",
    "lease id",
    undefined,
    types.bigint,
  ),
).setAction(
  action<Common & { lease: bigint }>("SettlementEscrow", async (a, sys) => {
    const { settleLease } = await import("../src/leases");
    const result = await settleLease(sys, a.lease, sys.signer);
    const { charged, refunded } = await sys.escrow.accountingOf(a.lease);
    const lease = await sys.escrow.leaseOf(a.lease);
    const token = (await sys.escrow.leaseTermsAt(lease.assetId, lease.termsVersion)).token;
    console.log(
      `lease ${a.lease}: ${result.action === "close" ? "closed" : "settled"}; charged so far ${await show(sys, token, charged)}` +
        `${result.action === "close" ? `, refunded ${await show(sys, token, refunded)}` : ""} (tx ${result.receipt.hash})`,
    );
  }),
);

account(
  task("rwa:withdraw", "Withdraws the sender's credited revenue or refunds in a token")
    .addOptionalParam("token", "the token; default the deployment's stablecoin")
    .addOptionalParam("to", "the recipient; default the sender"),
).setAction(
  action<Common & { token?: string; to?: string }>("SettlementEscrow", async (a, sys) => {
    const token = a.token ?? (await sys.stablecoin.getAddress());
    const me = await sys.signer.getAddress();
    const amount = await sys.escrow.withdrawable(me, token);
    if (amount === 0n) {
      console.log(`nothing to withdraw in ${await sys.token(token).symbol()} for ${me}`);
      return;
    }
    const receipt = await (await sys.escrow.withdraw(token, a.to ?? me)).wait();
    console.log(`withdrew ${await show(sys, token, amount)} to ${a.to ?? me} (tx ${receipt!.hash})`);
  }),
);

account(
  task("rwa:vault", "Creates a revenue-split vault for an asset the sender owns (the NFT moves into it)")
    .addParam("asset", "asset id", undefined, types.bigint)
    .addParam("shares", "shares to mint to the sender (whole shares, 18 decimals)")
    .addOptionalParam("manager", "who may publish the vault's lease terms; default the sender")
    .addOptionalParam("token", "the revenue token; default the deployment's stablecoin"),
).setAction(
  action<Common & { asset: bigint; shares: string; manager?: string; token?: string }>(
    "RevenueSplitVaultFactory",
    async (a, sys) => {
      const { parseUnits } = await import("ethers");
      const me = await sys.signer.getAddress();
      const factory = await sys.vaultFactory.getAddress();
      if ((await sys.nft.getApproved(a.asset)) !== factory) await (await sys.nft.approve(factory, a.asset)).wait();
      const token = a.token ?? (await sys.stablecoin.getAddress());
      const receipt = await (
        await sys.vaultFactory.createVault(a.asset, token, a.manager ?? me, [me], [parseUnits(a.shares, 18)])
      ).wait();
      const created = receipt!.logs
        .map((l) => sys.vaultFactory.interface.parseLog(l))
        .find((e) => e?.name === "VaultCreated");
      console.log(
        `vault ${created?.args.vault} created for asset ${a.asset}; ${a.shares} shares to ${me} (tx ${receipt!.hash})`,
      );
    },
  ),
);
