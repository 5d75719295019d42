/**
 * The dry run: the deploy executed on a throw-away copy of the selected chain (see `target.ts`),
 * so the plan printed is the plan a deploy sends now — every transaction, in order, with the gas
 * its execution used — plus the contracts deployed or reused, every role's final holders, the
 * calls only the admin can make, and what it costs at the network's current fees.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatEther, formatUnits } from "ethers";
import { configPathFor } from "../../config/schema";
import { deployConfig } from "./context";
import { inputsOf, labeler, runAllSteps } from "./execute";
import { describeHolders, desiredHolders } from "./roles";
import { writeSafeBatch, type AdminCall } from "./safe";
import { enabledContracts, type ContractName } from "./system";
import { simulationTarget, type SentTransaction } from "./target";

export interface DeployPlan {
  network: string;
  chainId: bigint;
  deployer: string;
  contracts: { name: ContractName; action: "deploy" | "redeploy" | "reuse"; address: string }[];
  /** Every transaction a deploy sends now, in order, with the gas it used in the simulation. */
  sent: SentTransaction[];
  roles: { contract: ContractName; final: string[] }[];
  /** Calls only the admin can make (the deployer has handed over). */
  adminCalls: AdminCall[];
  /** Transactions a deploy would send now (= sent.length). */
  transactions: number;
  gas: bigint;
  fees: {
    baseFeePerGas: bigint | null;
    maxPriorityFeePerGas: bigint | null;
    maxFeePerGas: bigint | null;
    gasPrice: bigint | null;
  };
  /** ETH the deploy costs at the current base fee plus tip, and the most it can cost at maxFeePerGas. */
  costWei: { expected: bigint; atMost: bigint };
  balanceWei: bigint;
  /** Transactions the deployer sent earlier that are not mined yet (a deploy waits for them first). */
  pendingFromDeployer: number;
}

/** Executes the deploy on a copy of the chain and describes what it did. Sends nothing to the network. */
export async function buildPlan(hre: HardhatRuntimeEnvironment): Promise<DeployPlan> {
  const config = deployConfig(hre);
  const real = hre.ethers.provider;
  const recordedBefore = new Map<ContractName, boolean>();
  for (const spec of enabledContracts(config))
    recordedBefore.set(spec.name, Boolean(await hre.deployments.getOrNull(spec.name)));
  const sim = await simulationTarget(hre);
  try {
    const { blocked } = await runAllSteps(hre, sim.target);
    const inputs = await inputsOf(hre, sim.target);
    const label = labeler(inputs);
    const deployed = new Set(
      sim.target.sent.filter((t) => t.to === null).map((t) => t.description.replace(/^deploy /, "")),
    );
    const contracts: DeployPlan["contracts"] = [];
    for (const spec of enabledContracts(config)) {
      const fresh = deployed.has(spec.name);
      contracts.push({
        name: spec.name,
        action: fresh ? (recordedBefore.get(spec.name) ? "redeploy" : "deploy") : "reuse",
        address: inputs.address(spec.name),
      });
    }
    const roles = enabledContracts(config)
      .filter((spec) => spec.roles)
      .map((spec) => ({ contract: spec.name, final: describeHolders(desiredHolders(spec.roles!(inputs)), label) }));
    const gas = sim.target.sent.reduce((sum, t) => sum + t.gasUsed, 0n);
    const feeData = await real.getFeeData();
    const block = await real.getBlock("latest");
    const baseFeePerGas = block?.baseFeePerGas ?? null;
    const tip = feeData.maxPriorityFeePerGas ?? 0n;
    const expectedPrice = baseFeePerGas !== null ? baseFeePerGas + tip : (feeData.gasPrice ?? 0n);
    const maxPrice = feeData.maxFeePerGas ?? feeData.gasPrice ?? expectedPrice;
    const deployer = sim.target.deployer;
    const [latestNonce, pendingNonce, balanceWei] = await Promise.all([
      real.getTransactionCount(deployer, "latest"),
      real.getTransactionCount(deployer, "pending"),
      real.getBalance(deployer),
    ]);
    return {
      network: hre.network.name,
      chainId: (await real.getNetwork()).chainId,
      deployer,
      contracts,
      sent: sim.target.sent,
      roles,
      adminCalls: blocked,
      transactions: sim.target.sent.length,
      gas,
      fees: {
        baseFeePerGas,
        maxPriorityFeePerGas: feeData.maxPriorityFeePerGas,
        maxFeePerGas: feeData.maxFeePerGas,
        gasPrice: feeData.gasPrice,
      },
      costWei: { expected: gas * expectedPrice, atMost: gas * maxPrice },
      balanceWei,
      pendingFromDeployer: pendingNonce - latestNonce,
    };
  } finally {
    await sim.close();
  }
}

const gwei = (v: bigint | null) => (v === null ? "n/a" : `${formatUnits(v, "gwei")} gwei`);

/** The plan as printed by `npm run deploy:dry-run`. */
export async function printPlan(hre: HardhatRuntimeEnvironment): Promise<DeployPlan> {
  const plan = await buildPlan(hre);
  const lines: string[] = [
    `DRY RUN — nothing is sent. Plan for network ${plan.network} (chainId ${plan.chainId})`,
    `config:   ${configPathFor(plan.network)}`,
    `deployer: ${plan.deployer} (balance ${formatEther(plan.balanceWei)} ETH)`,
    "(every transaction below was executed on a throw-away copy of the chain at its latest block)",
    "",
    "contracts:",
    ...plan.contracts.map(
      (c) =>
        `  ${c.name.padEnd(26)} ${c.action === "reuse" ? "reuse   " : c.action === "redeploy" ? "REDEPLOY" : "deploy  "} ${c.address}${c.action === "reuse" ? "" : " (predicted)"}`,
    ),
    "",
    "transactions, in order (gas used):",
    ...(plan.sent.length
      ? plan.sent.map(
          (t, i) =>
            `  ${String(i + 1).padStart(2)}. ${t.description.replace(/^(wiring|roles): /, "")} (${t.gasUsed.toLocaleString("en-US")})`,
        )
      : ["  (none)"]),
    "",
    "roles — final holders (exactly these; the deployer keeps nothing):",
  ];
  for (const r of plan.roles) lines.push(`  ${r.contract}:`, ...r.final.map((f) => `    ${f}`));
  if (plan.adminCalls.length > 0) {
    const file = await writeSafeBatch(hre, plan.network, plan.adminCalls);
    lines.push(
      "",
      `calls only the admin can make now (Safe Transaction Builder batch written to ${file}):`,
      ...plan.adminCalls.map((c) => `  - ${c.description}`),
    );
  }
  if (plan.pendingFromDeployer > 0) {
    lines.push(
      "",
      `note: ${plan.pendingFromDeployer} transaction(s) the deployer sent earlier are not mined yet; ` +
        `a deploy waits for them first, and the plan above is computed without them`,
    );
  }
  lines.push(
    "",
    `transactions a deploy would send now: ${plan.transactions}`,
    `gas: ${plan.gas.toLocaleString("en-US")} (base fee ${gwei(plan.fees.baseFeePerGas)}, tip ${gwei(plan.fees.maxPriorityFeePerGas)}, max fee ${gwei(plan.fees.maxFeePerGas)})`,
    `cost: about ${formatEther(plan.costWei.expected)} ETH at the current base fee and tip; at most ${formatEther(plan.costWei.atMost)} ETH at the max fee`,
  );
  if (plan.balanceWei < plan.costWei.atMost) {
    lines.push(
      `warning: the deployer's balance (${formatEther(plan.balanceWei)} ETH) is below the most the deploy can cost`,
    );
  }
  console.log(lines.join("\n"));
  return plan;
}
