import type { Ledger } from '../ledger/index.js';
import { recordLedgerSnapshot, type DuallaneMetrics } from '../observability/index.js';

/**
 * Keeps the ledger-backed gauges (pending handoffs per lane, oldest pending age, audit-chain
 * status) current for Prometheus: refreshed on each scrape of /metrics. Counting pending handoffs
 * is one indexed query; re-deriving the audit chain reads every row, so it runs at most once per
 * `auditEveryMs` and its last result is reported in between.
 */
export function ledgerGaugeRefresher(ledger: Ledger, metrics: DuallaneMetrics, opts: { auditEveryMs?: number } = {}): () => Promise<void> {
  const auditEveryMs = opts.auditEveryMs ?? 60_000;
  let lastAudit: { intact: boolean; checkedAt: Date } | undefined;
  return async () => {
    const pending = await ledger.withAdmin(async (tx) => {
      const { rows } = await tx.sql.query<{ lane: string; count: string; oldest: string | null }>(
        `SELECT proposer_lane AS lane, count(*)::text AS count,
                extract(epoch FROM now() - min(created_at))::text AS oldest
           FROM handoffs WHERE state = 'proposed' GROUP BY proposer_lane`,
      );
      return rows.map((r) => ({ lane: r.lane, count: Number(r.count), oldestAgeSeconds: Math.max(0, Number(r.oldest ?? 0)) }));
    });
    if (!lastAudit || Date.now() - lastAudit.checkedAt.getTime() >= auditEveryMs) {
      const report = await ledger.verifyAudit();
      lastAudit = { intact: report.ok, checkedAt: new Date() };
    }
    recordLedgerSnapshot({ ledger: ledger.kind === 'embedded' ? 'pglite' : 'postgres', pending, auditChain: lastAudit }, metrics);
  };
}
