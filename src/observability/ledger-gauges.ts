import { getMetrics, type DuallaneMetrics } from './metrics.js';

/**
 * What the ledger knows that Prometheus should see as gauges. The ledger (or `duallane serve` on a
 * timer) reads it in one query and hands it here; observability never imports the ledger, so the
 * dependency keeps pointing inward.
 */
export interface LedgerSnapshot {
  ledger: 'pglite' | 'postgres';
  /** Pending handoffs per lane, with the age in seconds of the oldest one. Lanes absent here read 0. */
  pending: { lane: string; count: number; oldestAgeSeconds: number }[];
  /** The result of the last audit-chain verification, if one ran. */
  auditChain?: { intact: boolean; checkedAt: Date };
}

const CATALOG_LANES = ['codex', 'claude', 'other'] as const;

/**
 * Sets the pending-handoff and audit-chain gauges from one snapshot. Every catalog lane is written
 * (0 when absent) so a lane whose last handoff was accepted stops showing its old backlog; lanes the
 * catalog does not name are summed into `other` (oldest age: the maximum).
 */
export function recordLedgerSnapshot(s: LedgerSnapshot, metrics: DuallaneMetrics = getMetrics()): void {
  const totals = new Map<string, { count: number; age: number }>(CATALOG_LANES.map((l) => [l, { count: 0, age: 0 }]));
  for (const p of s.pending) {
    const lane = (CATALOG_LANES as readonly string[]).includes(p.lane) ? p.lane : 'other';
    const t = totals.get(lane)!;
    t.count += p.count;
    if (p.count > 0) t.age = Math.max(t.age, p.oldestAgeSeconds);
  }
  for (const [lane, t] of totals) {
    metrics.gauge('duallane_handoffs_pending').set({ lane }, t.count);
    metrics.gauge('duallane_handoff_oldest_pending_age_seconds').set({ lane }, t.age);
  }
  if (s.auditChain) {
    metrics.gauge('duallane_audit_chain_intact').set({ ledger: s.ledger }, s.auditChain.intact ? 1 : 0);
    metrics.gauge('duallane_audit_chain_last_check_timestamp_seconds').set({ ledger: s.ledger }, Math.floor(s.auditChain.checkedAt.getTime() / 1000));
  }
}
