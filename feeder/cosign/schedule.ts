/**
 * Who proposes (pure). Round `n` fills batch index `n`. It is due `postIntervalSeconds` after the
 * previous batch's timestamp; from then on time is cut into slots of `takeoverSeconds`, and slot
 * `k`'s proposer is the current signer at position `(n + k) mod count` of the signer set sorted by
 * address. Every feeder computes the same from the chain and its clock; when a proposer is down or
 * its round fails, the next slot's signer takes over.
 */
export function sortedSigners(signers: readonly string[]): string[] {
  return [...signers].map((s) => s.toLowerCase()).sort();
}

/** The proposer of `slot` in round `round`. */
export function proposerOf(signers: readonly string[], round: number, slot: number): string {
  const s = sortedSigners(signers);
  return s[(((round + slot) % s.length) + s.length) % s.length];
}

/** When round `round` is due, unix ms: the previous batch's timestamp + the interval (0 before any batch). */
export function dueMs(previousBatchTimestampS: number | undefined, postIntervalSeconds: number): number {
  return previousBatchTimestampS === undefined ? 0 : (previousBatchTimestampS + postIntervalSeconds) * 1000;
}

/** The slot at `nowMs`, or -1 before the round is due. */
export function slotAt(due: number, nowMs: number, takeoverSeconds: number): number {
  return nowMs < due ? -1 : Math.floor((nowMs - due) / (takeoverSeconds * 1000));
}
