/**
 * The co-signing messages between feeders: HTTP + JSON, every message signed by its sender.
 *
 * An envelope names the protocol version, the kind, the sender's address and role, the oracle it is
 * about (chain id + address), when it was sent, and a body; the sender signs the keccak-256 of the
 * envelope's canonical JSON (keys sorted, no signature field) as an EIP-191 personal message. A
 * receiver recovers the address, requires it to equal `from` and to be a current on-chain signer
 * (role `signer`), and refuses messages sent too long ago or too far in the future.
 *
 * Kinds: `propose` (a proposer's batch for a round) and `verdict` (a peer's answer: its oracle
 * signature over the batch digest, or per-reading objections). Roles: `signer` (an on-chain signer,
 * its signature counts toward the threshold) and `witness` (reserved: a lessee-side feeder that
 * checks the same readings and returns the same verdict shape with an attestation signature; it is
 * authorized by configuration, never counted on chain). A new role or an extra body field does not
 * change the envelope, so a witness can join without a format change.
 */
import { getAddress, hashMessage, keccak256, recoverAddress, toUtf8Bytes, type SigningKey } from "ethers";
import type { Reading, UsageBatch } from "../../src/eip712";

export const PROTOCOL_VERSION = 1;
export type Role = "signer" | "witness";

/** JSON view of a reading (bigints as decimal strings). */
export interface ReadingJson {
  assetId: string;
  previousBatch: number;
  busyGpuSeconds: string;
  availableGpuSeconds: string;
  energyJ: string;
}

export interface BatchJson {
  configVersion: string;
  batchIndex: number;
  timestamp: number;
  readings: ReadingJson[];
}

export interface ProposeBody {
  /** The batch index this round fills (the oracle's next batch index). */
  round: number;
  /** 0 for the first proposal of a round; +1 per re-proposal after objections. */
  attempt: number;
  /** The proposer slot (see schedule.ts) the sender claims. */
  slot: number;
  batch: BatchJson;
  /** The proposer's view of the digest; receivers recompute it and refuse a mismatch. */
  digest: string;
}

export interface ReadingVerdict {
  assetId: string;
  ok: boolean;
  /** Why not (present when `ok` is false). */
  reason?: string;
}

export interface VerdictBody {
  /** keccak-256 of the proposal envelope being answered. */
  proposal: string;
  round: number;
  digest: string;
  decision: "sign" | "object" | "refuse";
  /** With `sign`: the 65-byte oracle signature over `digest` (for a witness: its attestation). */
  signature?: string;
  /** One per reading of the proposal (with `sign`, all ok). */
  verdicts: ReadingVerdict[];
  /** With `refuse`: why the whole message was refused (not authenticated, stale, wrong round…). */
  reason?: string;
}

export interface Envelope<K extends string = string, B = unknown> {
  v: number;
  kind: K;
  from: string;
  role: Role;
  chainId: string;
  oracle: string;
  sentAtMs: number;
  body: B;
  signature: string;
}

export type Proposal = Envelope<"propose", ProposeBody>;
export type Verdict = Envelope<"verdict", VerdictBody>;

/** Canonical JSON: object keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** keccak-256 of the envelope without its signature: what is signed, and the message's id. */
export function envelopeHash(e: Omit<Envelope, "signature"> & { signature?: string }): string {
  const { signature: _omit, ...rest } = e;
  void _omit;
  return keccak256(toUtf8Bytes(canonicalJson(rest)));
}

/** Signs an envelope with a key (EIP-191 over the envelope hash). */
export function seal<K extends string, B>(key: SigningKey, e: Omit<Envelope<K, B>, "signature">): Envelope<K, B> {
  const signature = key.sign(hashMessage(toBytes32(envelopeHash(e)))).serialized;
  return { ...e, signature };
}

function toBytes32(hex: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

/** The address that sealed an envelope, or undefined when the signature does not parse. */
export function sealer(e: Envelope): string | undefined {
  try {
    return recoverAddress(hashMessage(toBytes32(envelopeHash(e))), e.signature);
  } catch {
    return undefined;
  }
}

export interface AuthContext {
  chainId: bigint;
  oracle: string;
  /** Current on-chain signers. */
  signers: readonly string[];
  nowMs: number;
  /** Messages sent longer ago than this (or this far in the future) are refused. */
  maxMessageAgeMs: number;
}

/** Why an envelope is refused, or undefined when it is authentic, fresh and from a current signer. */
export function authenticate(e: Envelope, ctx: AuthContext): string | undefined {
  if (typeof e !== "object" || e === null || e.v !== PROTOCOL_VERSION) return `unsupported protocol version`;
  if (e.chainId !== ctx.chainId.toString() || getAddress(e.oracle) !== getAddress(ctx.oracle))
    return "message is for another oracle";
  const who = sealer(e);
  if (!who || who !== getAddress(e.from)) return "signature does not match the sender";
  if (e.role !== "signer") return `role ${e.role} is not accepted here`;
  if (!ctx.signers.some((s) => getAddress(s) === who)) return `${who} is not a current signer`;
  const age = ctx.nowMs - e.sentAtMs;
  if (!Number.isFinite(age) || age > ctx.maxMessageAgeMs) return `stale message (sent ${Math.round(age / 1000)} s ago)`;
  if (age < -ctx.maxMessageAgeMs) return `message from the future (${Math.round(-age / 1000)} s ahead)`;
  return undefined;
}

export function readingToJson(r: Reading): ReadingJson {
  return {
    assetId: r.assetId.toString(),
    previousBatch: Number(r.previousBatch),
    busyGpuSeconds: r.busyGpuSeconds.toString(),
    availableGpuSeconds: r.availableGpuSeconds.toString(),
    energyJ: r.energyJ.toString(),
  };
}

export function batchToJson(b: UsageBatch): BatchJson {
  return {
    configVersion: b.configVersion.toString(),
    batchIndex: Number(b.batchIndex),
    timestamp: Number(b.timestamp),
    readings: b.readings.map(readingToJson),
  };
}

const dec = (v: unknown, what: string): bigint => {
  if (typeof v !== "string" || !/^(0|[1-9][0-9]*)$/.test(v)) throw new Error(`${what} is not a decimal integer`);
  return BigInt(v);
};
const int = (v: unknown, what: string): number => {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw new Error(`${what} is not a non-negative integer`);
  return v;
};

/** Parses a batch from JSON, checking every field's type and range (throws on anything else). */
export function batchFromJson(j: BatchJson): UsageBatch {
  if (!j || !Array.isArray(j.readings)) throw new Error("batch has no readings array");
  return {
    configVersion: dec(j.configVersion, "configVersion"),
    batchIndex: BigInt(int(j.batchIndex, "batchIndex")),
    timestamp: BigInt(int(j.timestamp, "timestamp")),
    readings: j.readings.map((r, i) => ({
      assetId: dec(r.assetId, `readings[${i}].assetId`),
      previousBatch: BigInt(int(r.previousBatch, `readings[${i}].previousBatch`)),
      busyGpuSeconds: dec(r.busyGpuSeconds, `readings[${i}].busyGpuSeconds`),
      availableGpuSeconds: dec(r.availableGpuSeconds, `readings[${i}].availableGpuSeconds`),
      energyJ: dec(r.energyJ, `readings[${i}].energyJ`),
    })),
  };
}
