/**
 * Verification results by key (image digest + the policy's verification spec), with a long TTL for
 * passes and a short one for failures, so a newly signed image is admitted soon after signing while
 * a flood of requests for a bad image does not reach the registry each time. Errors (registry
 * unreachable) are never cached: the next request retries. Bounded: the oldest entries go first.
 * Concurrent lookups of the same key share one verification (single flight).
 */
export interface DecisionCacheOptions {
  positiveTtlMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export class DecisionCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly opts: Required<DecisionCacheOptions>;
  hits = 0;
  misses = 0;

  constructor(opts: DecisionCacheOptions = {}) {
    this.opts = {
      positiveTtlMs: opts.positiveTtlMs ?? 10 * 60_000,
      negativeTtlMs: opts.negativeTtlMs ?? 30_000,
      maxEntries: opts.maxEntries ?? 10_000,
      now: opts.now ?? Date.now,
    };
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.opts.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, kind: 'positive' | 'negative'): void {
    const ttl = kind === 'positive' ? this.opts.positiveTtlMs : this.opts.negativeTtlMs;
    if (!(ttl > 0)) return; // 0 disables; NaN must never mean "forever"
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.opts.now() + ttl });
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /**
   * The cached value, or the result of `compute` (shared by concurrent callers). `classify` says how
   * to cache it: 'positive', 'negative' or 'none'.
   */
  async getOrCompute(key: string, compute: () => Promise<V>, classify: (v: V) => 'positive' | 'negative' | 'none'): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    const running = this.inflight.get(key);
    if (running) return running;
    this.misses++;
    const p = compute()
      .then((v) => {
        const kind = classify(v);
        if (kind !== 'none') this.set(key, v, kind);
        return v;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  clear(): void {
    this.entries.clear();
  }
}
