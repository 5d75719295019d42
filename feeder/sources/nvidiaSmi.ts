/**
 * nvidia-smi CSV, driven by the header: `nvidia-smi --query-gpu=<any fields, any order>
 * --format=csv[,noheader][,nounits] [-l N]`. Values with or without units; header lines may repeat
 * (a restarted `-l` loop appending to a file) and each one sets the column order from there on; a
 * `watch` banner line (`Every 2.0s: nvidia-smi --query-gpu=… host: date`) or a pasted command line
 * is skipped, and its query gives the column order of header-less output that follows. A GPU is identified by `uuid`, else `pci.bus_id`,
 * `serial` or `index` (with the source's host label). Every bracketed value (`[N/A]`,
 * `[Requested functionality has been deprecated]`, …) is missing for that field only; a value that
 * cannot be read is missing too and reported. The parser is pure; `NvidiaSmiSource` runs the
 * command, tails a file, or reads stdin.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import type { Readable } from "node:stream";
import { gpuKeys, normalizePciBusId, type GpuSample } from "../types";
import { parseNvidiaSmiTimestamp, parseQuantity, isMissing, type Quantity } from "./normalize";
import type { TelemetrySource } from "./source";

/** The query the feeder runs itself (DESIGN.md); also the column order when output has no header. */
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

/** Query aliases nvidia-smi accepts, mapped to the names it prints in headers. */
const ALIASES: Record<string, string> = {
  gpu_uuid: "uuid",
  gpu_name: "name",
  gpu_serial: "serial",
  gpu_bus_id: "pci.bus_id",
  "clocks.gr": "clocks.current.graphics",
  "clocks.sm": "clocks.current.sm",
  "clocks.mem": "clocks.current.memory",
  "gpu.power.draw.average": "power.draw.average",
  "gpu.power.draw.instant": "power.draw.instant",
};

/** Fields the feeder reads; at least one of them makes a line a header. */
const KNOWN_FIELDS = new Set([
  ...NVIDIA_SMI_FIELDS,
  "pci.bus_id",
  "serial",
  "power.draw.average",
  "power.draw.instant",
  "enforced.power.limit",
  "driver_version",
]);

/** A header cell without its unit: `power.draw [W]` -> `power.draw`; aliases resolved. */
function headerName(cell: string): string {
  const name = cell.replace(/\s*\[[^\]]*\]\s*$/, "").trim();
  return ALIASES[name] ?? name;
}

const FIELD_NAME = /^[a-z][A-Za-z0-9_.]*(\s*\[[^\]]+\])?$/;

/** A header line: every cell is a field name (optionally with a unit) and one is a field the feeder knows. */
function isHeader(cells: string[]): boolean {
  return cells.every((c) => FIELD_NAME.test(c)) && cells.some((c) => KNOWN_FIELDS.has(headerName(c)));
}

/** `watch`'s first line: `Every 2.0s: <command>   <host>: <date>`. */
const WATCH_BANNER = /^Every\s+\d+(?:\.\d+)?s:\s+(.*)$/;

/** A shell line running nvidia-smi with a query (a prompt and the command, as people paste them). */
const COMMAND_LINE = /\bnvidia-smi(?:\.exe)?\s.*--query-gpu[= ]/;

/** The date at the end of a `watch` banner (`Mon Dec 18 10:34:52 2023`), host-local; unix ms. */
function bannerTimeMs(line: string): number | undefined {
  const m = /(\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})\s*$/.exec(line);
  if (!m) return undefined;
  const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].indexOf(m[2]);
  if (month < 0) return undefined;
  return new Date(+m[7], month, +m[3], +m[4], +m[5], +m[6]).getTime();
}

export interface ParseOptions {
  /** Column order when no header or banner has been seen. Default: the feeder's own query. */
  fields?: readonly string[];
  /** Time to use when a row has no (readable) timestamp, unix ms. */
  fallbackTimeMs?: number;
  /** The source's host label: with it, a GPU can be identified by `index`. */
  host?: string;
}

/** Every field of one data row, parsed into the feeder's units (absent = not reported). */
export interface NvidiaSmiRow {
  line: number;
  timeMs?: number;
  index?: number;
  uuid?: string;
  pciBusId?: string;
  serial?: string;
  name?: string;
  /** `utilization.gpu`, percent. */
  utilizationPct?: number;
  /** `power.draw`, else `power.draw.average`, else `power.draw.instant`; watts. */
  powerW?: number;
  /** `power.limit`, else `enforced.power.limit`; watts. */
  powerLimitW?: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  temperatureC?: number;
}

export interface CsvParseResult {
  /** Samples of the rows that identify their GPU. */
  samples: GpuSample[];
  /** Every data row, identified or not (tests check each field against the capture). */
  rows: NvidiaSmiRow[];
  /** One message per problem (a line that cannot be used, or a field that cannot be read). */
  errors: string[];
  /** The column order in effect after this text (a header or banner line changes it). */
  fields: readonly string[];
  /** The time of the last `watch` banner, if any (rows without a timestamp use it). */
  bannerTimeMs?: number;
}

/** Numeric fields: [row key, header fields in order of preference, quantity, bounds]. */
const NUMERIC: [keyof NvidiaSmiRow, string[], Quantity][] = [
  ["utilizationPct", ["utilization.gpu"], "percent"],
  ["powerW", ["power.draw", "power.draw.average", "power.draw.instant"], "watts"],
  ["powerLimitW", ["power.limit", "enforced.power.limit"], "watts"],
  ["memoryUsedMiB", ["memory.used"], "mib"],
  ["memoryTotalMiB", ["memory.total"], "mib"],
  ["temperatureC", ["temperature.gpu"], "celsius"],
];

/**
 * Parses nvidia-smi CSV text (see the file comment). A line that is neither a header, a banner
 * nor a row of the current columns is reported and skipped; the rest of the output still counts.
 */
export function parseNvidiaSmiCsv(text: string, options: ParseOptions = {}): CsvParseResult {
  let fields: readonly string[] = options.fields ?? NVIDIA_SMI_FIELDS;
  let bannerMs: number | undefined;
  const samples: GpuSample[] = [];
  const rows: NvidiaSmiRow[] = [];
  const errors: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === "") continue;
    // A `watch` banner, or the command line itself pasted above its output: not data, but its
    // query names the columns of header-less output that follows.
    const banner = WATCH_BANNER.exec(line);
    if (banner || COMMAND_LINE.test(line)) {
      const query = /--query-gpu[= ]"?([^\s"]+)/.exec(line);
      if (query) fields = query[1].split(",").map((f) => headerName(f.trim()));
      if (banner) bannerMs = bannerTimeMs(line);
      continue;
    }
    const cells = line.split(",").map((c) => c.trim());
    if (isHeader(cells)) {
      fields = cells.map(headerName);
      continue;
    }
    if (cells.length !== fields.length) {
      errors.push(`line ${n + 1}: expected ${fields.length} fields, got ${cells.length}`);
      continue;
    }
    const row = parseRow(cells, fields, n + 1, errors);
    rows.push(row);
    const keys = gpuKeys({ ...row, host: options.host });
    if (keys.length === 0) {
      errors.push(
        `line ${n + 1}: the GPU is not identified: query uuid, pci.bus_id or serial, or index with a host label`,
      );
      continue;
    }
    const timeMs = row.timeMs ?? bannerMs ?? options.fallbackTimeMs;
    if (timeMs === undefined) {
      errors.push(`line ${n + 1}: no timestamp`);
      continue;
    }
    const sample: GpuSample = { uuid: keys[0], timeMs };
    if (keys.length > 1) sample.aliases = keys.slice(1);
    if (row.utilizationPct !== undefined) {
      sample.utilizationPct = Math.min(100, Math.max(0, row.utilizationPct));
      sample.utilizationSource = "utilization.gpu";
    }
    if (row.powerW !== undefined && row.powerW >= 0) sample.powerW = row.powerW;
    if (row.powerLimitW !== undefined) sample.powerLimitW = row.powerLimitW;
    if (row.memoryUsedMiB !== undefined) sample.memoryUsedMiB = row.memoryUsedMiB;
    if (row.memoryTotalMiB !== undefined) sample.memoryTotalMiB = row.memoryTotalMiB;
    if (row.temperatureC !== undefined) sample.temperatureC = row.temperatureC;
    if (row.name !== undefined) sample.model = row.name;
    samples.push(sample);
  }
  return { samples, rows, errors, fields, bannerTimeMs: bannerMs };
}

/** One data row; a field that cannot be read is left out and reported, the others still count. */
function parseRow(cells: string[], fields: readonly string[], line: number, errors: string[]): NvidiaSmiRow {
  const get = (name: string): string | undefined => {
    const i = fields.indexOf(name);
    return i < 0 || isMissing(cells[i]) ? undefined : cells[i];
  };
  const row: NvidiaSmiRow = { line };
  const ts = get("timestamp");
  if (ts !== undefined) {
    row.timeMs = parseNvidiaSmiTimestamp(ts);
    if (row.timeMs === undefined) errors.push(`line ${line}: timestamp: cannot read "${ts}"`);
  }
  const uuid = get("uuid");
  if (uuid !== undefined) {
    if (/^(GPU|MIG)-[0-9a-fA-F-]+$/.test(uuid)) row.uuid = uuid;
    else errors.push(`line ${line}: uuid: cannot read "${uuid}"`);
  }
  const index = get("index");
  if (index !== undefined) {
    if (/^\d+$/.test(index)) row.index = Number(index);
    else errors.push(`line ${line}: index: cannot read "${index}"`);
  }
  const bus = get("pci.bus_id");
  if (bus !== undefined) {
    row.pciBusId = normalizePciBusId(bus);
    if (row.pciBusId === undefined) errors.push(`line ${line}: pci.bus_id: cannot read "${bus}"`);
  }
  const serial = get("serial");
  if (serial !== undefined && /^[0-9A-Za-z-]+$/.test(serial) && !/^0+$/.test(serial)) row.serial = serial;
  const name = get("name");
  if (name !== undefined) row.name = name;
  for (const [key, names, quantity] of NUMERIC) {
    for (const f of names) {
      const raw = get(f);
      if (raw === undefined) continue;
      try {
        (row as unknown as Record<string, number | undefined>)[key] = parseQuantity(raw, quantity);
        break;
      } catch (err) {
        errors.push(`line ${line}: ${f}: ${(err as Error).message}`);
      }
    }
  }
  return row;
}

export type NvidiaSmiMode = (
  | { mode: "command"; command: string; args: string[]; timeoutMs: number }
  | { mode: "file"; path: string }
  | { mode: "stdin" }
) & {
  /** Host label for index-keyed GPUs (`index:<host>/<n>`). */
  host?: string;
  /** The query's fields in order: the columns of output without a header. Default: the feeder's query. */
  fields?: readonly string[];
};

/** Where a file source stopped reading (kept in the state file so `--once` runs resume there). */
export interface FileCursor {
  offset: number;
  /** The file's inode: a different one means it was rotated (read from the start). */
  ino: number;
  partial: string;
  fields: readonly string[];
}

/**
 * nvidia-smi as a source. `command` runs the query once per `read()`; `file` reads what was
 * appended to a file since the last read (e.g. `nvidia-smi … -l 5 -f gpu.csv`; a truncated or
 * rotated file is read from the start); `stdin` consumes a stream (`nvidia-smi … -l 5 | feeder`).
 */
export class NvidiaSmiSource implements TelemetrySource {
  readonly name: string;
  private fields: readonly string[];
  private offset = 0;
  private ino = 0;
  private partial = "";
  private buffered = "";
  private stream?: Readable;
  lastErrors: string[] = [];

  constructor(
    private readonly spec: NvidiaSmiMode,
    private readonly now: () => number = Date.now,
    input?: Readable,
  ) {
    this.name = spec.mode === "file" ? `nvidia-smi:file:${spec.path}` : `nvidia-smi:${spec.mode}`;
    this.fields = spec.fields ?? NVIDIA_SMI_FIELDS;
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
    const result = parseNvidiaSmiCsv(text, {
      fields: this.fields,
      fallbackTimeMs: this.now(),
      host: this.spec.host,
    });
    this.fields = result.fields;
    this.lastErrors = result.errors;
    return result.samples;
  }

  /** The read position of a file source (undefined for the other modes). */
  cursor(): FileCursor | undefined {
    if (this.spec.mode !== "file") return undefined;
    return { offset: this.offset, ino: this.ino, partial: this.partial, fields: this.fields };
  }

  /** Resumes a file source where a previous process stopped (ignored when the file was rotated since). */
  restoreCursor(c: FileCursor): void {
    if (this.spec.mode !== "file" || !fs.existsSync(this.spec.path)) return;
    const st = fs.statSync(this.spec.path);
    if (st.ino !== c.ino || st.size < c.offset) return;
    this.offset = c.offset;
    this.ino = c.ino;
    this.partial = c.partial;
    this.fields = c.fields;
  }

  private readAppended(path: string): string {
    const st = fs.statSync(path);
    const size = st.size;
    if (size < this.offset || (this.ino !== 0 && st.ino !== this.ino)) {
      this.offset = 0; // truncated or rotated
      this.partial = "";
    }
    this.ino = st.ino;
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
