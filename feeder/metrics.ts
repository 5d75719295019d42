/**
 * Prometheus `/metrics` and `/health` over node's http. Metrics: last post time per asset, posts by
 * outcome, wallet balance, samples, failed reads and parse errors by source, each configured GPU's
 * sample age and busy-unknown state. `/health` is unhealthy (503, with the reasons) when a
 * configured GPU has had no usable sample for longer than `staleAfterSeconds`, when a GPU's busy
 * time is unknown (its source reports no utilization), or when no batch was accepted for longer
 * than `health.unhealthyAfterSeconds`.
 */
import http from "node:http";

/** What the controller knows about one configured GPU, for metrics and health. */
export interface GpuStatus {
  gpu: string;
  assetId: string;
  /** Newest sample time folded into the meters, unix ms; undefined if none since start. */
  lastSampleMs?: number;
  /** Whether the newest sample reported utilization (undefined: no sample yet). */
  busyKnown?: boolean;
  /** Available seconds whose busy time was unknown, cumulative. */
  busyUnknownSeconds: number;
}

export interface HealthPolicy {
  /** A GPU without a sample for longer than this is unhealthy (the feeder's `staleAfterSeconds`). */
  staleAfterSeconds: number;
  /** No accepted batch for longer than this is unhealthy. */
  unhealthyAfterSeconds: number;
}

export interface Health {
  healthy: boolean;
  sinceLastSuccessSeconds: number;
  reasons: string[];
}

export class FeederMetrics {
  readonly lastPostS = new Map<string, number>();
  readonly posts = new Map<string, number>();
  readonly samples = new Map<string, number>();
  readonly sourceErrors = new Map<string, number>();
  readonly parseErrors = new Map<string, number>();
  /** Counters of anything else worth counting, by name then label value (co-signing, RPC). */
  readonly counters = new Map<string, Map<string, number>>();
  balanceWei?: bigint;
  lastSuccessfulPostMs?: number;
  readonly startedAtMs: number;
  /** Set by the controller: the configured GPUs' status at the time of the call. */
  gpuStatus: () => GpuStatus[] = () => [];

  constructor(now: number) {
    this.startedAtMs = now;
  }

  incPost(outcome: string, by = 1): void {
    this.posts.set(outcome, (this.posts.get(outcome) ?? 0) + by);
  }
  incSamples(source: string, n: number): void {
    this.samples.set(source, (this.samples.get(source) ?? 0) + n);
  }
  incSourceError(source: string): void {
    this.sourceErrors.set(source, (this.sourceErrors.get(source) ?? 0) + 1);
  }
  incParseErrors(source: string, n: number): void {
    this.parseErrors.set(source, (this.parseErrors.get(source) ?? 0) + n);
  }
  inc(name: string, label: string, by = 1): void {
    let m = this.counters.get(name);
    if (!m) this.counters.set(name, (m = new Map()));
    m.set(label, (m.get(label) ?? 0) + by);
  }

  /** Seconds since the GPU's newest sample (since start when it has none yet). */
  private ageSeconds(g: GpuStatus, nowMs: number): number {
    return Math.max(0, (nowMs - (g.lastSampleMs ?? this.startedAtMs)) / 1000);
  }

  health(nowMs: number, policy: HealthPolicy): Health {
    const since = nowMs - (this.lastSuccessfulPostMs ?? this.startedAtMs);
    const reasons: string[] = [];
    if (since > policy.unhealthyAfterSeconds * 1000)
      reasons.push(`no batch accepted for ${Math.floor(since / 1000)} s (limit ${policy.unhealthyAfterSeconds} s)`);
    for (const g of this.gpuStatus()) {
      const age = this.ageSeconds(g, nowMs);
      if (age > policy.staleAfterSeconds)
        reasons.push(`GPU ${g.gpu} (asset ${g.assetId}): no usable sample for ${Math.floor(age)} s`);
      if (g.busyKnown === false)
        reasons.push(`GPU ${g.gpu} (asset ${g.assetId}): busy time unknown (its source reports no utilization)`);
    }
    return { healthy: reasons.length === 0, sinceLastSuccessSeconds: Math.floor(since / 1000), reasons };
  }

  render(nowMs: number = Date.now()): string {
    const lines: string[] = [];
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    const family = (name: string, type: string, help: string, rows: [string, number | string][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
    };
    const bySource = (m: Map<string, number>) => [...m].map(([s, n]): [string, number] => [`{source="${esc(s)}"}`, n]);
    family(
      "feeder_last_post_timestamp_seconds",
      "gauge",
      "Timestamp of the newest reading of the asset known to be on chain.",
      [...this.lastPostS].map(([a, t]) => [`{asset_id="${esc(a)}"}`, t]),
    );
    family(
      "feeder_posts_total",
      "counter",
      "Batch postings by outcome.",
      [...this.posts].map(([o, n]) => [`{outcome="${esc(o)}"}`, n]),
    );
    family("feeder_samples_total", "counter", "GPU samples read, by source.", bySource(this.samples));
    family("feeder_source_errors_total", "counter", "Failed source reads, by source.", bySource(this.sourceErrors));
    family(
      "feeder_parse_errors_total",
      "counter",
      "Lines or fields of telemetry output that could not be used, by source.",
      bySource(this.parseErrors),
    );
    const gpus = this.gpuStatus();
    const gpuLabels = (g: GpuStatus) => `{gpu="${esc(g.gpu)}",asset_id="${esc(g.assetId)}"}`;
    family(
      "feeder_gpu_sample_age_seconds",
      "gauge",
      "Seconds since the GPU's newest usable sample (since the feeder started when it has none).",
      gpus.map((g) => [gpuLabels(g), this.ageSeconds(g, nowMs).toFixed(3)]),
    );
    family(
      "feeder_gpu_busy_unknown",
      "gauge",
      "1 while the GPU's newest sample reported no utilization: no busy time is posted for it.",
      gpus.map((g) => [gpuLabels(g), g.busyKnown === false ? 1 : 0]),
    );
    family(
      "feeder_gpu_busy_unknown_seconds_total",
      "counter",
      "Available GPU-seconds whose busy time was unknown (not billed).",
      gpus.map((g) => [gpuLabels(g), g.busyUnknownSeconds.toFixed(3)]),
    );
    for (const [name, m] of this.counters) {
      family(
        name,
        "counter",
        name.replace(/^feeder_|_total$/g, "").replace(/_/g, " ") + ".",
        [...m].map(([l, n]) => [`{kind="${esc(l)}"}`, n]),
      );
    }
    if (this.balanceWei !== undefined)
      family("feeder_wallet_balance_wei", "gauge", "Balance of the transmitting account in wei.", [
        ["", this.balanceWei.toString()],
      ]);
    if (this.lastSuccessfulPostMs !== undefined)
      family("feeder_last_successful_post_timestamp_seconds", "gauge", "When a batch was last accepted.", [
        ["", Math.floor(this.lastSuccessfulPostMs / 1000)],
      ]);
    return lines.join("\n") + "\n";
  }
}

/** Serves /metrics and /health; resolves with the server once listening. */
export function serveMetrics(
  metrics: FeederMetrics,
  host: string,
  port: number,
  policy: HealthPolicy,
  now: () => number = Date.now,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
    } else if (url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render(now()));
    } else if (url === "/health") {
      const h = metrics.health(now(), policy);
      res
        .writeHead(h.healthy ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: h.healthy ? "ok" : "unhealthy", ...h }));
    } else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
