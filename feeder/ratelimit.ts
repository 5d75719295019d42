/**
 * Rate-limited logging: the first occurrence of a key logs at once; later ones within `intervalMs`
 * are counted and folded into the next line that gets through (`suppressed: n`), so a source that
 * prints garbage every second costs one log line a minute, not sixty.
 */
import type { Logger } from "./types";

export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, obj: object, msg: string): void {
    const t = this.now();
    const seen = this.last.get(key);
    if (seen && t - seen.atMs < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.log.warn(seen?.suppressed ? { ...obj, suppressed: seen.suppressed } : obj, msg);
    this.last.set(key, { atMs: t, suppressed: 0 });
  }
}
