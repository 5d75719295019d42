/**
 * High-level lease helpers for ethers v6 users: open a lease (approve or EIP-2612 permit), build the
 * meter proofs a settlement needs from chain data alone, preview what settling would charge now, and
 * settle or close with those proofs. Every helper takes the connected contracts (`connect(...)`).
 */
import { Contract, Signature, type ContractTransactionReceipt, type Provider, type Signer } from "ethers";
import type { IERC20Metadata } from "../typechain-types/@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata";
import type { SettlementEscrow } from "../typechain-types/contracts/SettlementEscrow";
import type { UsageOracle } from "../typechain-types/contracts/UsageOracle";
import { leaseIdFromReceipt } from "./core";
import { ABSENT_BOUNDARY, MeterHistory, fetchMeterHistory, leaseProofs, type LeaseProofs } from "./meterHistory";

/** What the helpers need of a connected system. */
export interface LeaseContracts {
  escrow: SettlementEscrow;
  oracle: UsageOracle;
}

/** What `openLease` opens. */
export interface OpenLeaseParams {
  assetId: bigint;
  /** The terms version the lessee agreed to; default: the asset's current one (read just before sending). */
  termsVersion?: bigint | number;
  durationSeconds: bigint;
  /** Deposit in the terms' token units; default: `minimumDeposit(assetId)`. */
  deposit?: bigint;
  /**
   * Pay by EIP-2612 permit (one transaction, no standing allowance) instead of approving the escrow
   * first; `deadline` in unix seconds, default one hour from the latest block.
   */
  permit?: boolean | { deadline: bigint };
}

/** An opened lease. */
export interface OpenedLease {
  leaseId: bigint;
  receipt: ContractTransactionReceipt;
  /** The terms version bound. */
  termsVersion: bigint;
  deposit: bigint;
}

async function latestTime(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  if (!block) throw new Error("the provider returned no latest block");
  return BigInt(block.timestamp);
}

function providerOf(escrow: SettlementEscrow): Provider {
  const provider = escrow.runner?.provider;
  if (!provider) throw new Error("the escrow contract is not connected to a provider");
  return provider;
}

/**
 * Opens a lease as `lessee`: binds the terms version (the current one unless given), then pays the
 * deposit by allowance (approving the escrow for exactly the missing amount) or by permit.
 * @throws when the asset has no terms, or the transaction reverts (the escrow's custom error).
 */
export async function openLease(
  escrow: SettlementEscrow,
  token: IERC20Metadata,
  lessee: Signer,
  params: OpenLeaseParams,
): Promise<OpenedLease> {
  const e = escrow.connect(lessee);
  const version = BigInt(params.termsVersion ?? (await e.currentTermsVersion(params.assetId)));
  if (version === 0n) throw new Error(`asset ${params.assetId} has no lease terms (nothing to open)`);
  const terms = await e.leaseTermsAt(params.assetId, version);
  if ((await token.getAddress()).toLowerCase() !== terms.token.toLowerCase()) {
    throw new Error(
      `asset ${params.assetId}'s terms v${version} are in ${terms.token}, not ${await token.getAddress()}`,
    );
  }
  const deposit = params.deposit ?? (await e.minimumDeposit(params.assetId));
  const owner = await lessee.getAddress();
  const spender = await escrow.getAddress();
  let receipt: ContractTransactionReceipt | null;
  if (params.permit) {
    const deadline =
      typeof params.permit === "object" ? params.permit.deadline : (await latestTime(providerOf(escrow))) + 3_600n;
    const signature = await signPermit(lessee, await token.getAddress(), spender, deposit, deadline);
    const tx = await e.openLeaseWithPermit(
      params.assetId,
      version,
      params.durationSeconds,
      deposit,
      deadline,
      signature.v,
      signature.r,
      signature.s,
    );
    receipt = await tx.wait();
  } else {
    const allowance = await token.allowance(owner, spender);
    if (allowance < deposit) await (await token.connect(lessee).approve(spender, deposit)).wait();
    receipt = await (await e.openLease(params.assetId, version, params.durationSeconds, deposit)).wait();
  }
  if (!receipt) throw new Error("openLease: no receipt");
  return { leaseId: leaseIdFromReceipt(receipt, spender), receipt, termsVersion: version, deposit };
}

/**
 * An EIP-2612 permit for `spender` to pull `value` of `token` from `owner` until `deadline`, signed
 * over the token's own EIP-712 domain (EIP-5267 `eip712Domain`) and current nonce.
 */
export async function signPermit(
  owner: Signer,
  token: string,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<Signature> {
  const permitToken = new Contract(
    token,
    [
      "function nonces(address) view returns (uint256)",
      "function eip712Domain() view returns (bytes1, string, string, uint256, address, bytes32, uint256[])",
    ],
    owner,
  );
  const ownerAddress = await owner.getAddress();
  const [, name, version, chainId, verifyingContract] = await permitToken.eip712Domain();
  const nonce: bigint = await permitToken.nonces(ownerAddress);
  return Signature.from(
    await owner.signTypedData(
      { name, version, chainId, verifyingContract },
      {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      },
      { owner: ownerAddress, spender, value, nonce, deadline },
    ),
  );
}

/** Options of the proof helpers. */
export interface ProofOptions {
  /** A history to extend instead of scanning the oracle's logs from `fromBlock` (keep one per process). */
  history?: MeterHistory;
  /** First block to scan (the oracle's deployment block); default 0. */
  fromBlock?: number;
  /** The time to bill at; default: the latest block's time. */
  now?: bigint;
}

/**
 * The proofs that bill a lease as far as readings past the escrow's dispute window allow at `now`,
 * from the oracle's logs and calldata; undefined when nothing is billable yet.
 */
export async function billingProofs(
  contracts: LeaseContracts,
  leaseId: bigint,
  options: ProofOptions = {},
): Promise<LeaseProofs | undefined> {
  const provider = providerOf(contracts.escrow);
  const lease = await contracts.escrow.leaseOf(leaseId);
  if (lease.lessee === "0x0000000000000000000000000000000000000000") throw new Error(`lease ${leaseId} does not exist`);
  const history = await fetchMeterHistory(provider, await contracts.oracle.getAddress(), {
    fromBlock: options.history ? undefined : options.fromBlock,
    into: options.history,
  });
  const now = options.now ?? (await latestTime(provider));
  const window = await contracts.escrow.disputeWindowSeconds();
  return leaseProofs(history, lease, now - window);
}

/** What settling a lease now would do. */
export interface ChargePreview {
  proofs: LeaseProofs;
  /** The lease's whole bill up to the point (reservation, usage, energy, SLA credit, total). */
  bill: Awaited<ReturnType<SettlementEscrow["previewBill"]>>["bill"];
  /** What a settlement would charge now: the bill's increase over what is billed, capped at the balance. */
  chargeable: bigint;
}

/** What `settle` (or `close`, at the end) would charge now; undefined when no reading is billable yet. */
export async function previewCharge(
  contracts: LeaseContracts,
  leaseId: bigint,
  options: ProofOptions = {},
): Promise<ChargePreview | undefined> {
  const proofs = await billingProofs(contracts, leaseId, options);
  if (!proofs) return undefined;
  const [bill, chargeable] = await contracts.escrow.previewBill(leaseId, proofs.start, proofs.point);
  return { proofs, bill, chargeable };
}

/** What `settleLease` did. */
export interface SettleResult {
  action: "settle" | "close";
  receipt: ContractTransactionReceipt;
  proofs?: LeaseProofs;
}

/**
 * Settles a lease with the proofs from chain data as `caller` (anyone may): `close` when the lease has
 * ended and its end is provable (or, without a final reading, once the escrow's grace period is over),
 * else `settle` to the latest billable reading.
 * @throws when the lease is closed, or nothing is billable yet (the message says from when).
 */
export async function settleLease(
  contracts: LeaseContracts,
  leaseId: bigint,
  caller: Signer,
  options: ProofOptions = {},
): Promise<SettleResult> {
  const escrow = contracts.escrow.connect(caller);
  const lease = await escrow.leaseOf(leaseId);
  if (lease.closed) throw new Error(`lease ${leaseId} is already closed`);
  const now = options.now ?? (await latestTime(providerOf(escrow)));
  const proofs = await billingProofs(contracts, leaseId, { ...options, now });
  const ended = now >= lease.endTime;
  const wait = async (tx: Promise<{ wait: () => Promise<ContractTransactionReceipt | null> }>) => {
    const receipt = await (await tx).wait();
    if (!receipt) throw new Error("no receipt");
    return receipt;
  };
  if (proofs?.final && ended) {
    return { action: "close", proofs, receipt: await wait(escrow.close(leaseId, proofs.start, proofs.point)) };
  }
  if (ended && now >= lease.endTime + (await escrow.FINAL_READING_GRACE_SECONDS())) {
    return { action: "close", receipt: await wait(escrow.close(leaseId, ABSENT_BOUNDARY, ABSENT_BOUNDARY)) };
  }
  if (!proofs) {
    const window = await escrow.disputeWindowSeconds();
    throw new Error(
      `lease ${leaseId}: no reading is billable yet (readings become billable ${window} s after the oracle accepts them)`,
    );
  }
  return { action: "settle", proofs, receipt: await wait(escrow.settle(leaseId, proofs.start, proofs.point)) };
}
