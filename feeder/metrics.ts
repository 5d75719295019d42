/**
 * Prometheus `/metrics` and `/health` over node's http. Metrics: last post time per asset, posts by
 * outcome, wallet balance, samples and source errors; health turns 503 after a configured time
 * without a successful post.
 */
import http from "node:http";

export class FeederMetrics {
  readonly lastPostS = new Map<string, number>();
  readonly posts = new Map<string, number>();
  readonly samples = new Map<string, number>();
  readonly sourceErrors = new Map<string, number>();
  balanceWei?: bigint;
  lastSuccessfulPostMs?: number;
  readonly startedAtMs: number;

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

  /** Healthy while a post succeeded (or the feeder started) less than `unhealthyAfterMs` ago. */
  health(nowMs: number, unhealthyAfterMs: number): { healthy: boolean; sinceLastSuccessSeconds: number } {
    const since = nowMs - (this.lastSuccessfulPostMs ?? this.startedAtMs);
    return { healthy: since <= unhealthyAfterMs, sinceLastSuccessSeconds: Math.floor(since / 1000) };
  }

  render(): string {
    const lines: string[] = [];
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    const family = (name: string, type: string, help: string, rows: [string, number | string][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
    };
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
    family(
      "feeder_samples_total",
      "counter",
      "GPU samples read, by source.",
      [...this.samples].map(([s, n]) => [`{source="${esc(s)}"}`, n]),
    );
    family(
      "feeder_source_errors_total",
      "counter",
      "Failed source reads, by source.",
      [...this.sourceErrors].map(([s, n]) => [`{source="${esc(s)}"}`, n]),
    );
    if (this.balanceWei !== undefined)
      family("feeder_wallet_balance_wei", "gauge", "Balance of the transmitting account in wei.", [
        ["", this.balanceWei.toString()],
      ]);
    if (this.lastSuccessfulPostMs !== undefined)
      family("feeder_last_successful_post_timestamp_seconds", "gauge", "When the last posting succeeded.", [
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
  unhealthyAfterMs: number,
  now: () => number = Date.now,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
    } else if (url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
    } else if (url === "/health") {
      const h = metrics.health(now(), unhealthyAfterMs);
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
