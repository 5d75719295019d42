import type { ContractTransactionResponse } from "ethers";

/** One measured operation in `bench/results.json`. */
export interface BenchResult {
  /** The measurement: gas from transaction receipts, or a throughput figure. */
  value: number;
  /** `"gas"` for gas, or the unit of a throughput figure (e.g. `"readings/s"`). */
  unit: string;
  /** The target the issue that added the operation set. */
  target: number;
  /** Whether a lower or a higher value is better. */
  better: "lower" | "higher";
  /** The scenario, in words: what exactly was measured. */
  note: string;
}

/** A benchmark scenario: `run` deploys what it needs on the in-process chain and returns the value. */
export interface BenchScenario {
  /** Operation name, e.g. `"nft.mint"`: the key in results.json. */
  key: string;
  unit?: string;
  target: number;
  better?: "lower" | "higher";
  note: string;
  run: () => Promise<number>;
}

/** Gas used by a transaction, read from its receipt. */
export async function gasOf(tx: Promise<ContractTransactionResponse> | ContractTransactionResponse): Promise<number> {
  const sent = await tx;
  const receipt = await sent.wait();
  if (!receipt) throw new Error(`no receipt for ${sent.hash}`);
  if (receipt.status !== 1) throw new Error(`transaction ${sent.hash} reverted`);
  return Number(receipt.gasUsed);
}
