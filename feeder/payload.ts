/**
 * The `submit` calldata of a signed batch (pure): the shared `src/eip712.ts` packs the readings and
 * concatenates the signatures, the oracle's ABI encodes the call.
 */
import { submitArgs, type UsageBatch } from "../src/eip712";
import { IUsageOracle__factory } from "../typechain-types/factories/contracts/interfaces/IUsageOracle__factory";

const oracleInterface = IUsageOracle__factory.createInterface();

/** ABI-encoded `submit(configVersion, batchIndex, timestamp, readings, signatures)`. */
export function submitCalldata(batch: UsageBatch, signatures: readonly string[]): string {
  return oracleInterface.encodeFunctionData("submit", submitArgs(batch, signatures));
}
