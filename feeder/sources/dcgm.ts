/**
 * DCGM exporter (`:9400/metrics`): Prometheus text exposition. Per GPU (label `UUID`, also `gpu`,
 * `modelName`, `Hostname`): `DCGM_FI_DEV_GPU_UTIL` (%), `DCGM_FI_DEV_POWER_USAGE` (W) and
 * `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION` (counter, mJ since boot/driver load; it can reset).
 * The parser is pure; `DcgmSource` fetches over HTTP or reads a file.
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { GpuSample } from "../types";
import { millijoulesToJoules } from "./normalize";
import type { TelemetrySource } from "./source";

export const DCGM_UTIL = "DCGM_FI_DEV_GPU_UTIL";
export const DCGM_POWER = "DCGM_FI_DEV_POWER_USAGE";
export const DCGM_ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** Parses one label set body `a="x",b="y\"z"` (escapes `\\`, `\"`, `\n`). */
function parseLabels(body: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    while (body[i] === " " || body[i] === ",") i++;
    if (i >= body.length) break;
    const eq = body.indexOf("=", i);
    if (eq < 0 || body[eq + 1] !== '"') throw new Error(`line ${line}: malformed labels`);
    const key = body.slice(i, eq).trim();
    let j = eq + 2;
    let value = "";
    for (; j < body.length && body[j] !== '"'; j++) {
      if (body[j] === "\\" && j + 1 < body.length) {
        const next = body[++j];
        value += next === "n" ? "\n" : next;
      } else value += body[j];
    }
    if (j >= body.length) throw new Error(`line ${line}: unterminated label value`);
    labels[key] = value;
    i = j + 1;
  }
  return labels;
}

const DCGM_WANTED: ReadonlySet<string> = new Set([DCGM_UTIL, DCGM_POWER, DCGM_ENERGY]);

/** Fast path for label sets without escapes (what exporters print): `k="v"` pairs by regex. */
const SIMPLE_LABEL = /([A-Za-z_][A-Za-z0-9_]*)="([^"\\]*)"/g;

/**
 * Parses Prometheus text exposition into samples; comments and HELP/TYPE lines are skipped. With
 * `only`, series of other metric names are skipped before their labels are parsed (scrapes carry
 * dozens of metrics the feeder does not use).
 */
export function parsePrometheusText(
  text: string,
  only?: ReadonlySet<string>,
): { samples: PromSample[]; errors: string[] } {
  const samples: PromSample[] = [];
  const errors: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === "" || line.charCodeAt(0) === 35 /* # */) continue;
    if (only) {
      const end = line.search(/[{\s]/);
      if (!only.has(end < 0 ? line : line.slice(0, end))) continue;
    }
    try {
      let name: string;
      let labels: Record<string, string> = {};
      let rest: string;
      const brace = line.indexOf("{");
      const space = line.search(/\s/);
      if (brace >= 0 && (space < 0 || brace < space)) {
        name = line.slice(0, brace);
        const close = line.lastIndexOf("}");
        if (close < brace) throw new Error(`line ${n + 1}: unterminated label set`);
        const body = line.slice(brace + 1, close);
        if (body.includes("\\")) labels = parseLabels(body, n + 1);
        else {
          for (const m of body.matchAll(SIMPLE_LABEL)) labels[m[1]] = m[2];
        }
        rest = line.slice(close + 1).trim();
      } else {
        if (space < 0) throw new Error(`line ${n + 1}: no value`);
        name = line.slice(0, space);
        rest = line.slice(space).trim();
      }
      const parts = rest.split(/\s+/);
      const value = parts[0] === "+Inf" ? Infinity : parts[0] === "-Inf" ? -Infinity : Number(parts[0]);
      if (parts[0] === "" || (Number.isNaN(value) && parts[0] !== "NaN"))
        throw new Error(`line ${n + 1}: bad value "${parts[0]}"`);
      const sample: PromSample = { name, labels, value };
      if (parts[1] !== undefined) {
        const ts = Number(parts[1]);
        if (!Number.isFinite(ts)) throw new Error(`line ${n + 1}: bad timestamp "${parts[1]}"`);
        sample.timestampMs = ts;
      }
      samples.push(sample);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return { samples, errors };
}

/**
 * Turns a DCGM exporter scrape into one GpuSample per GPU UUID. `scrapeTimeMs` is the sample time
 * unless the exposition carries explicit timestamps (the newest one per GPU wins). NaN values (DCGM
 * prints them for blank fields) count as missing.
 */
export function parseDcgm(text: string, scrapeTimeMs: number): { samples: GpuSample[]; errors: string[] } {
  const { samples: prom, errors } = scanDcgmSeries(text);
  const byUuid = new Map<string, GpuSample>();
  for (const s of prom) {
    if (s.name !== DCGM_UTIL && s.name !== DCGM_POWER && s.name !== DCGM_ENERGY) continue;
    const uuid = s.labels.UUID ?? s.labels.uuid;
    if (!uuid) {
      errors.push(`${s.name}{gpu="${s.labels.gpu ?? "?"}"} has no UUID label`);
      continue;
    }
    let g = byUuid.get(uuid);
    if (!g) {
      g = { uuid, timeMs: s.timestampMs ?? scrapeTimeMs };
      if (s.labels.modelName) g.model = s.labels.modelName;
      byUuid.set(uuid, g);
    } else if (s.timestampMs !== undefined && s.timestampMs > g.timeMs) g.timeMs = s.timestampMs;
    if (!Number.isFinite(s.value) || s.value < 0) continue;
    if (s.name === DCGM_UTIL) g.utilizationPct = Math.min(100, s.value);
    else if (s.name === DCGM_POWER) g.powerW = s.value;
    else g.energyCounterJ = millijoulesToJoules(s.value);
  }
  return { samples: [...byUuid.values()], errors };
}

/**
 * The DCGM hot path: one pass over the scrape that keeps only the three series the feeder uses and
 * reads just their `UUID` and `modelName` labels with indexOf (no label map). A line with an escape
 * in its labels, or one the fast scan cannot read, goes through the full parser.
 */
function scanDcgmSeries(text: string): { samples: PromSample[]; errors: string[] } {
  const samples: PromSample[] = [];
  const errors: string[] = [];
  let start = 0;
  let n = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    n++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === "" || line.charCodeAt(0) === 35 /* # */) continue;
    const brace = line.indexOf("{");
    const name = brace < 0 ? line.slice(0, line.search(/\s/)) : line.slice(0, brace);
    if (!DCGM_WANTED.has(name)) continue;
    const close = line.lastIndexOf("}");
    if (brace < 0 || close < brace || line.includes("\\", brace)) {
      const full = parsePrometheusText(line);
      samples.push(...full.samples);
      errors.push(...full.errors.map((e) => e.replace(/^line 1/, `line ${n}`)));
      continue;
    }
    const labels: Record<string, string> = {};
    for (const key of ["UUID", "gpu", "modelName"]) {
      const at = line.indexOf(`${key}="`, brace);
      if (at < 0 || at > close || (line[at - 1] !== "{" && line[at - 1] !== "," && line[at - 1] !== " ")) continue;
      const from = at + key.length + 2;
      labels[key] = line.slice(from, line.indexOf('"', from));
    }
    const parts = line
      .slice(close + 1)
      .trim()
      .split(/\s+/);
    const value = Number(parts[0]);
    if (parts[0] === "" || (Number.isNaN(value) && parts[0] !== "NaN")) {
      errors.push(`line ${n}: bad value "${parts[0]}"`);
      continue;
    }
    const sample: PromSample = { name, labels, value };
    if (parts[1] !== undefined && Number.isFinite(Number(parts[1]))) sample.timestampMs = Number(parts[1]);
    samples.push(sample);
  }
  return { samples, errors };
}

export type DcgmSpec = { mode: "http"; url: string; timeoutMs: number } | { mode: "file"; path: string };

/** DCGM exporter as a source: one scrape per `read()`. */
export class DcgmSource implements TelemetrySource {
  readonly name: string;
  lastErrors: string[] = [];

  constructor(
    private readonly spec: DcgmSpec,
    private readonly now: () => number = Date.now,
  ) {
    this.name = `dcgm:${spec.mode}`;
  }

  async read(): Promise<GpuSample[]> {
    const text =
      this.spec.mode === "file"
        ? fs.readFileSync(this.spec.path, "utf8")
        : await httpGet(this.spec.url, this.spec.timeoutMs);
    const { samples, errors } = parseDcgm(text, this.now());
    this.lastErrors = errors;
    return samples;
  }

  async close(): Promise<void> {}
}

/** GET with a time limit; non-2xx throws. */
export function httpGet(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    const req = client.get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(body);
        else reject(new Error(`GET ${new URL(url).host}: HTTP ${res.statusCode}`));
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${new URL(url).host}: timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
