/**
 * The deployed system, as data: which contracts, in which order, with which constructor arguments,
 * which wiring calls, and the exact final holders of every role. The deploy scripts, the dry run and
 * the end-to-end test all read this one description, so the plan printed is the plan executed.
 */
import type { DeployConfig } from "../../config/schema";

export type ContractName =
  | "MockUSDC"
  | "GpuAssetNFT"
  | "UsageOracle"
  | "SettlementEscrow"
  | "RevenueSplitVaultFactory"
  | "CreditFacility"
  | "DemandResponseProgramme";

/** What argument and role builders may read. */
export interface PlanInputs {
  config: DeployConfig;
  /** The account that sends every deploy transaction; temporary admin while wiring. */
  deployer: string;
  /** The (deployed or, in a dry run, predicted) address of a contract of the system. */
  address: (name: ContractName) => string;
}

export interface ContractSpec {
  name: ContractName;
  /** Deploy-script tags beyond the contract's own name. */
  tags: string[];
  /** Contracts whose addresses the constructor needs. */
  dependsOn: ContractName[];
  /** Whether this network gets the contract (the mock stablecoin: only local networks asking for it). */
  enabled: (config: DeployConfig) => boolean;
  /** Constructor arguments. The admin argument is always the deployer: it hands over at the end. */
  args: (inputs: PlanInputs) => unknown[];
  /**
   * Final holders of every role, by the role's getter name (`DEFAULT_ADMIN_ROLE`, `PAUSER_ROLE`, …).
   * Exactly these accounts hold exactly these roles when the deploy ends; absent for contracts
   * without AccessControl.
   */
  roles?: (inputs: PlanInputs) => Record<string, string[]>;
}

/** A configuration call the deployer makes while it still holds admin power. */
export interface WiringStep {
  contract: ContractName;
  /** Human description for logs and the dry run. */
  description: (inputs: PlanInputs) => string;
  /** The role the caller needs; the deployer grants it to itself for the call and gives it up in the hand-over. */
  role: string;
  /** The call. */
  method: string;
  args: (inputs: PlanInputs) => unknown[];
  /** A view call whose result tells whether the step is already done (idempotence). */
  done: { method: string; args: (inputs: PlanInputs) => unknown[]; equals: unknown };
  /** Whether this network needs the step. */
  enabled: (config: DeployConfig) => boolean;
}

export const DEFAULT_ADMIN_ROLE = "DEFAULT_ADMIN_ROLE";

/** The stablecoin the escrow accepts: the configured token, or the mock deployed here. */
export function stablecoinAddress(inputs: PlanInputs): string {
  return inputs.config.stablecoin === "mock" ? inputs.address("MockUSDC") : inputs.config.stablecoin;
}

/** Deploy order (each entry after the contracts it depends on). */
export const CONTRACTS: ContractSpec[] = [
  {
    name: "MockUSDC",
    tags: ["mocks"],
    dependsOn: [],
    enabled: (config) => config.stablecoin === "mock",
    args: () => [],
  },
  {
    name: "GpuAssetNFT",
    tags: ["core"],
    dependsOn: [],
    enabled: () => true,
    args: ({ deployer }) => [deployer],
    roles: ({ config, address }) => ({
      [DEFAULT_ADMIN_ROLE]: [config.admin],
      REGISTRAR_ROLE: [config.registrar],
      PAUSER_ROLE: [config.pauser],
      // The escrow is the only lease manager: nobody else can set or clear an asset's user.
      LEASE_MANAGER_ROLE: [address("SettlementEscrow")],
    }),
  },
  {
    name: "UsageOracle",
    tags: ["core"],
    dependsOn: ["GpuAssetNFT"],
    enabled: () => true,
    args: ({ config, deployer, address }) => [
      deployer,
      address("GpuAssetNFT"),
      config.oracle.signers,
      config.oracle.threshold,
      config.oracle.maxFutureSkewSeconds,
      config.oracle.energyMarginBps,
    ],
    roles: ({ config }) => ({
      [DEFAULT_ADMIN_ROLE]: [config.admin],
      ORACLE_ADMIN_ROLE: [config.admin],
      PAUSER_ROLE: [config.pauser],
    }),
  },
  {
    name: "SettlementEscrow",
    tags: ["core"],
    dependsOn: ["GpuAssetNFT", "UsageOracle"],
    enabled: () => true,
    args: ({ config, deployer, address }) => [
      deployer,
      address("GpuAssetNFT"),
      address("UsageOracle"),
      config.escrow.disputeWindowSeconds,
      config.escrow.arbiterTimeoutSeconds,
    ],
    roles: ({ config, address }) => ({
      [DEFAULT_ADMIN_ROLE]: [config.admin],
      TOKEN_ADMIN_ROLE: [config.admin],
      ARBITER_ROLE: [config.arbiter],
      PAUSER_ROLE: [config.pauser],
      // The one demand-response programme contract whose events curtailable terms may follow.
      PROGRAMME_ROLE: [address("DemandResponseProgramme")],
    }),
  },
  {
    name: "RevenueSplitVaultFactory",
    tags: ["core"],
    dependsOn: ["GpuAssetNFT", "SettlementEscrow"],
    enabled: () => true,
    args: ({ address }) => [address("GpuAssetNFT"), address("SettlementEscrow")],
  },
  {
    // Pledged assets' custody, loans and their notes (docs/credit.md). No role on other contracts.
    name: "CreditFacility",
    tags: ["core"],
    dependsOn: ["GpuAssetNFT", "SettlementEscrow"],
    enabled: () => true,
    args: ({ deployer, address }) => [deployer, address("GpuAssetNFT"), address("SettlementEscrow")],
    roles: ({ config }) => ({
      [DEFAULT_ADMIN_ROLE]: [config.admin],
      PAUSER_ROLE: [config.pauser],
    }),
  },
  {
    // Grid programmes: sponsors fund events, enrolled assets are paid for proven reductions
    // (docs/energy.md). The escrow's PROGRAMME_ROLE lets curtailable terms follow its events.
    name: "DemandResponseProgramme",
    tags: ["core"],
    dependsOn: ["UsageOracle"],
    enabled: () => true,
    args: ({ deployer, address }) => [deployer, address("UsageOracle")],
    roles: ({ config }) => ({
      [DEFAULT_ADMIN_ROLE]: [config.admin],
      // Who may create (and fund) programmes: the admin, who grants the role to grid operators.
      SPONSOR_ROLE: [config.admin],
      PAUSER_ROLE: [config.pauser],
    }),
  },
];

export const WIRING: WiringStep[] = [
  {
    contract: "SettlementEscrow",
    description: (inputs) => `allowlist stablecoin ${stablecoinAddress(inputs)} on SettlementEscrow`,
    role: "TOKEN_ADMIN_ROLE",
    method: "setTokenAllowed",
    args: (inputs) => [stablecoinAddress(inputs), true],
    done: { method: "isTokenAllowed", args: (inputs) => [stablecoinAddress(inputs)], equals: true },
    enabled: () => true,
  },
];

export function specOf(name: ContractName): ContractSpec {
  const spec = CONTRACTS.find((c) => c.name === name);
  if (!spec) throw new Error(`unknown contract ${name}`);
  return spec;
}

/** The contracts this network gets, in deploy order. */
export function enabledContracts(config: DeployConfig): ContractSpec[] {
  return CONTRACTS.filter((c) => c.enabled(config));
}
