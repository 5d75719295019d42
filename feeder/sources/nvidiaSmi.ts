/**
 * nvidia-smi CSV: `nvidia-smi --query-gpu=timestamp,index,uuid,name,utilization.gpu,power.draw,
 * power.limit,memory.used,memory.total,temperature.gpu --format=csv[,noheader][,nounits] [-l N]`.
 * The parser is pure; `NvidiaSmiSource` runs the command, tails a file, or reads stdin.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import type { Readable } from "node:stream";
import type { GpuSample } from "../types";
import { parseNvidiaSmiTimestamp, parseQuantity, isMissing } from "./normalize";
import type { TelemetrySource } from "./source";

/** The query's field order (DESIGN.md); used when the output has no header. */
export const NVIDIA_SMI_FIELDS = [
  "timestamp",
  "index",
  "uuid",
  "name",
  "utilization.gpu",
  "power.draw",
  "power.limit",
  "memory.used",
  "memory.total",
  "temperature.gpu",
] as const;

export const NVIDIA_SMI_ARGS = [`--query-gpu=${NVIDIA_SMI_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];

/** Strips a header cell's unit suffix: `power.draw [W]` -> `power.draw`. */
function headerName(cell: string): string {
  return cell.replace(/\s*\[[^\]]*\]\s*$/, "").trim();
}

export interface ParseOptions {
  /** Field order when no header line is present. Default: the DESIGN.md query. */
  fields?: readonly string[];
  /** Time to use when a row's timestamp is missing, unix ms. */
  fallbackTimeMs?: number;
}

export interface CsvParseResult {
  samples: GpuSample[];
  /** One message per line that could not be used (the rest of the output still counts). */
  errors: string[];
  /** The field order in effect after this text (a header line changes it). */
  fields: readonly string[];
}

/**
 * Parses nvidia-smi CSV text: any mix of header lines (which set the column order) and data rows,
 * with or without units. A malformed row is reported in `errors` and skipped.
 */
export function parseNvidiaSmiCsv(text: string, options: ParseOptions = {}): CsvParseResult {
  let fields: readonly string[] = options.fields ?? NVIDIA_SMI_FIELDS;
  const samples: GpuSample[] = [];
  const errors: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === "") continue;
    const cells = line.split(",").map((c) => c.trim());
    if (
      cells.some((c) => headerName(c) === "uuid") &&
      cells.some((c) => headerName(c) === "timestamp" || headerName(c) === "index")
    ) {
      fields = cells.map(headerName);
      continue;
    }
    if (cells.length !== fields.length) {
      errors.push(`line ${n + 1}: expected ${fields.length} fields, got ${cells.length}`);
      continue;
    }
    const get = (name: string) => {
      const i = fields.indexOf(name);
      return i < 0 ? undefined : cells[i];
    };
    try {
      const uuid = get("uuid");
      if (isMissing(uuid) || !/^GPU-[0-9a-fA-F-]+$/.test(uuid as string)) {
        errors.push(`line ${n + 1}: no GPU UUID`);
        continue;
      }
      const timeMs = parseNvidiaSmiTimestamp(get("timestamp")) ?? options.fallbackTimeMs;
      if (timeMs === undefined) {
        errors.push(`line ${n + 1}: no timestamp`);
        continue;
      }
      const sample: GpuSample = { uuid: uuid as string, timeMs };
      const util = parseQuantity(get("utilization.gpu"), "percent");
      if (util !== undefined) sample.utilizationPct = Math.min(100, Math.max(0, util));
      const power = parseQuantity(get("power.draw"), "watts");
      if (power !== undefined && power >= 0) sample.powerW = power;
      const limit = parseQuantity(get("power.limit"), "watts");
      if (limit !== undefined) sample.powerLimitW = limit;
      const used = parseQuantity(get("memory.used"), "mib");
      if (used !== undefined) sample.memoryUsedMiB = used;
      const total = parseQuantity(get("memory.total"), "mib");
      if (total !== undefined) sample.memoryTotalMiB = total;
      const temp = parseQuantity(get("temperature.gpu"), "celsius");
      if (temp !== undefined) sample.temperatureC = temp;
      const name = get("name");
      if (!isMissing(name)) sample.model = name;
      samples.push(sample);
    } catch (err) {
      errors.push(`line ${n + 1}: ${(err as Error).message}`);
    }
  }
  return { samples, errors, fields };
}

export type NvidiaSmiMode =
  | { mode: "command"; command: string; args: string[]; timeoutMs: number }
  | { mode: "file"; path: string }
  | { mode: "stdin" };

/**
 * nvidia-smi as a source. `command` runs the query once per `read()`; `file` reads what was
 * appended to a file since the last read (e.g. `nvidia-smi … -l 5 -f gpu.csv`; a truncated or
 * rotated file is read from the start); `stdin` consumes a stream (`nvidia-smi … -l 5 | feeder`).
 */
export class NvidiaSmiSource implements TelemetrySource {
  readonly name: string;
  private fields: readonly string[] = NVIDIA_SMI_FIELDS;
  private offset = 0;
  private partial = "";
  private buffered = "";
  private stream?: Readable;
  lastErrors: string[] = [];

  constructor(
    private readonly spec: NvidiaSmiMode,
    private readonly now: () => number = Date.now,
    input?: Readable,
  ) {
    this.name = `nvidia-smi:${spec.mode}`;
    if (spec.mode === "stdin") {
      this.stream = input ?? process.stdin;
      this.stream.setEncoding("utf8");
      this.stream.on("data", (chunk: string) => {
        this.buffered += chunk;
      });
    }
  }

  async read(): Promise<GpuSample[]> {
    let text: string;
    if (this.spec.mode === "command") text = await runCommand(this.spec.command, this.spec.args, this.spec.timeoutMs);
    else if (this.spec.mode === "file") text = this.readAppended(this.spec.path);
    else {
      text = this.buffered;
      this.buffered = "";
    }
    // Keep an unterminated last line for the next read (streams and growing files).
    if (this.spec.mode !== "command") {
      text = this.partial + text;
      const cut = text.lastIndexOf("\n");
      this.partial = text.slice(cut + 1);
      text = text.slice(0, cut + 1);
    }
    const result = parseNvidiaSmiCsv(text, { fields: this.fields, fallbackTimeMs: this.now() });
    this.fields = result.fields;
    this.lastErrors = result.errors;
    return result.samples;
  }

  private readAppended(path: string): string {
    const size = fs.statSync(path).size;
    if (size < this.offset) {
      this.offset = 0; // truncated or rotated
      this.partial = "";
    }
    if (size === this.offset) return "";
    const fd = fs.openSync(path, "r");
    try {
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      return buf.toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  }

  async close(): Promise<void> {
    this.stream?.removeAllListeners("data");
  }
}

/** Runs a command with a time limit and returns its stdout; a non-zero exit or a timeout throws. */
export function runCommand(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited with ${code}: ${err.trim().slice(0, 200)}`));
    });
  });
}
