/**
 * DCGM exporter (`:9400/metrics`): Prometheus text exposition. Per GPU (label `UUID`, else
 * `pci_bus_id`, `DCGM_FI_DEV_SERIAL`, or `gpu` with the source's host label): utilization from
 * `DCGM_FI_DEV_GPU_UTIL` (%), else `DCGM_FI_PROF_GR_ENGINE_ACTIVE` (a ratio 0..1; per MIG
 * instance, weighted by the instance's compute slices), else **unknown** (the sample carries no
 * utilization: no busy time accrues and the feeder says so — never 0);
 * `DCGM_FI_DEV_POWER_USAGE` (W); `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION` (counter, mJ since
 * boot/driver load; it can reset). `DCGM_FI_DEV_GPU_UTIL` of a MIG instance series is ignored:
 * the exporter reports it as 0 for MIG instances (NVIDIA/dcgm-exporter#216).
 * The parser is pure; `DcgmSource` fetches over HTTP or reads a file.
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import { gpuKeys, normalizePciBusId, type GpuIdentity, type GpuSample } from "../types";
import { millijoulesToJoules } from "./normalize";
import type { TelemetrySource } from "./source";

export const DCGM_UTIL = "DCGM_FI_DEV_GPU_UTIL";
export const DCGM_POWER = "DCGM_FI_DEV_POWER_USAGE";
export const DCGM_ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";
export const DCGM_GR_ENGINE = "DCGM_FI_PROF_GR_ENGINE_ACTIVE";

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

const DCGM_WANTED: ReadonlySet<string> = new Set([DCGM_UTIL, DCGM_POWER, DCGM_ENERGY, DCGM_GR_ENGINE]);
/** The labels the feeder reads from a DCGM series. */
const DCGM_LABELS = [
  "UUID",
  "uuid",
  "gpu",
  "modelName",
  "pci_bus_id",
  "GPU_I_ID",
  "GPU_I_PROFILE",
  "DCGM_FI_DEV_SERIAL",
];

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

/** Compute slices of a whole GPU, for weighting MIG instances (A30: 4; A100, H100, H200, B200: 7). */
export function migComputeSlices(model: string | undefined): number {
  return model !== undefined && /\bA30\b/.test(model) ? 4 : 7;
}

interface GpuAccumulator {
  id: GpuIdentity;
  timeMs: number;
  model?: string;
  devUtil: number[];
  grWhole: number[];
  /** MIG instance id -> [compute slices, ratios]. */
  grMig: Map<string, { slices?: number; ratios: number[] }>;
  power: number[];
  energyMj: number[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export interface DcgmParseOptions {
  /** The source's host label: with it, a series with only a `gpu` index label is identified. */
  host?: string;
}

/**
 * Turns a DCGM exporter scrape into one GpuSample per GPU. `scrapeTimeMs` is the sample time
 * unless the exposition carries explicit timestamps (the newest one per GPU wins). NaN values (DCGM
 * prints them for blank fields) count as missing. Series repeated for one GPU (per pod, per MIG
 * instance) are averaged; the energy counter takes the largest.
 */
export function parseDcgm(
  text: string,
  scrapeTimeMs: number,
  options: DcgmParseOptions = {},
): { samples: GpuSample[]; errors: string[] } {
  const { samples: prom, errors } = scanDcgmSeries(text);
  const byKey = new Map<string, GpuAccumulator>();
  for (const s of prom) {
    // Any DCGM series shows the GPU is reporting; only the wanted ones carry values the feeder uses.
    if (!s.name.startsWith("DCGM_FI_")) continue;
    const l = s.labels;
    const id: GpuIdentity = { host: options.host };
    if (l.UUID ?? l.uuid) id.uuid = l.UUID ?? l.uuid;
    if (l.pci_bus_id) id.pciBusId = normalizePciBusId(l.pci_bus_id);
    if (l.DCGM_FI_DEV_SERIAL && !/^0+$/.test(l.DCGM_FI_DEV_SERIAL)) id.serial = l.DCGM_FI_DEV_SERIAL;
    if (l.gpu !== undefined && /^\d+$/.test(l.gpu)) id.index = Number(l.gpu);
    const keys = gpuKeys(id);
    if (keys.length === 0) {
      errors.push(
        `${s.name}{gpu="${l.gpu ?? "?"}"} has no UUID, pci_bus_id or serial label (and no host label is configured for gpu)`,
      );
      continue;
    }
    let g = byKey.get(keys[0]);
    if (!g) {
      g = {
        id,
        timeMs: s.timestampMs ?? scrapeTimeMs,
        devUtil: [],
        grWhole: [],
        grMig: new Map(),
        power: [],
        energyMj: [],
      };
      byKey.set(keys[0], g);
    } else if (s.timestampMs !== undefined && s.timestampMs > g.timeMs) g.timeMs = s.timestampMs;
    if (l.modelName && g.model === undefined) g.model = l.modelName;
    if (!DCGM_WANTED.has(s.name) || !Number.isFinite(s.value) || s.value < 0) continue;
    const mig = l.GPU_I_ID;
    switch (s.name) {
      case DCGM_UTIL:
        if (mig === undefined) g.devUtil.push(Math.min(100, s.value));
        break;
      case DCGM_GR_ENGINE: {
        if (s.value > 1.0001) errors.push(`${DCGM_GR_ENGINE}{UUID="${keys[0]}"} is ${s.value}, above the ratio 1`);
        const ratio = Math.min(1, s.value);
        if (mig === undefined) g.grWhole.push(ratio);
        else {
          let inst = g.grMig.get(mig);
          if (!inst) {
            const slices = /^(\d+)g\./.exec(l.GPU_I_PROFILE ?? "");
            inst = { slices: slices ? Number(slices[1]) : undefined, ratios: [] };
            g.grMig.set(mig, inst);
          }
          inst.ratios.push(ratio);
        }
        break;
      }
      case DCGM_POWER:
        g.power.push(s.value);
        break;
      default:
        g.energyMj.push(s.value);
    }
  }
  const samples: GpuSample[] = [];
  for (const [key, g] of byKey) {
    const sample: GpuSample = { uuid: key, timeMs: g.timeMs };
    const aliases = gpuKeys(g.id).slice(1);
    if (aliases.length) sample.aliases = aliases;
    if (g.model !== undefined) sample.model = g.model;
    if (g.devUtil.length) {
      sample.utilizationPct = mean(g.devUtil);
      sample.utilizationSource = DCGM_UTIL;
    } else if (g.grWhole.length) {
      sample.utilizationPct = mean(g.grWhole) * 100;
      sample.utilizationSource = DCGM_GR_ENGINE;
    } else if (g.grMig.size) {
      const instances = [...g.grMig.values()];
      if (instances.every((i) => i.slices !== undefined)) {
        const total = migComputeSlices(g.model);
        const busySlices = instances.reduce((a, i) => a + i.slices! * mean(i.ratios), 0);
        sample.utilizationPct = Math.min(100, (busySlices / total) * 100);
        sample.utilizationSource = `${DCGM_GR_ENGINE} (MIG)`;
      } else errors.push(`${DCGM_GR_ENGINE}{UUID="${key}"}: a MIG instance has no readable GPU_I_PROFILE`);
    }
    if (g.power.length) sample.powerW = mean(g.power);
    if (g.energyMj.length) sample.energyCounterJ = millijoulesToJoules(Math.max(...g.energyMj));
    samples.push(sample);
  }
  return { samples, errors };
}

/**
 * The DCGM hot path: one pass over the scrape that keeps only DCGM series and reads just the labels
 * the feeder uses with indexOf (no label map). A line with an escape
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
    if (!name.startsWith("DCGM_FI_")) continue;
    const close = line.lastIndexOf("}");
    if (brace < 0 || close < brace || line.includes("\\", brace)) {
      const full = parsePrometheusText(line);
      samples.push(...full.samples);
      errors.push(...full.errors.map((e) => e.replace(/^line 1/, `line ${n}`)));
      continue;
    }
    const labels: Record<string, string> = {};
    for (const key of DCGM_LABELS) {
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
    private readonly host?: string,
  ) {
    this.name = `dcgm:${spec.mode}`;
  }

  async read(): Promise<GpuSample[]> {
    const text =
      this.spec.mode === "file"
        ? fs.readFileSync(this.spec.path, "utf8")
        : await httpGet(this.spec.url, this.spec.timeoutMs);
    const { samples, errors } = parseDcgm(text, this.now(), { host: this.host });
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
