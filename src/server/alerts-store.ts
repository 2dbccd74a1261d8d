import type { AlertRecord, NormalizedAlerts } from '../observability/index.js';
import type { LaneTx, Ledger } from '../ledger/index.js';

export interface StoredAlert {
  id: number;
  name: string;
  severity: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  summary: string;
  firedAt: string;
  resolvedAt: string | null;
  labels: Record<string, string>;
}

/**
 * Records one Alertmanager delivery in the ledger `alerts` table, one row per (fingerprint, start
 * time): a repeated notification updates its row, a `resolved` one sets resolved_at. No lane may
 * write alerts (LANE_PRIVILEGES), so this runs as the ledger's administrator, in one transaction with
 * an `alerts.received` audit row.
 */
export async function storeAlerts(ledger: Ledger, n: NormalizedAlerts): Promise<{ inserted: number; updated: number }> {
  return ledger.withAdmin(async (tx) => {
    let inserted = 0;
    let updated = 0;
    for (const a of n.alerts) {
      const payload = JSON.stringify(alertPayload(a));
      const resolvedAt = a.status === 'resolved' ? (a.endsAt ?? new Date().toISOString()) : null;
      const upd = await tx.sql.query(
        `UPDATE alerts SET severity = $3, payload = $4::jsonb, resolved_at = $5
         WHERE subject = $1 AND fired_at = $2::timestamptz`,
        [a.fingerprint, a.startsAt, a.severity, payload, resolvedAt],
      );
      if (upd.rowCount > 0) {
        updated += 1;
        continue;
      }
      await tx.sql.query(
        'INSERT INTO alerts (name, severity, subject, payload, fired_at, resolved_at) VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz, $6)',
        [a.alertname, a.severity, a.fingerprint, payload, a.startsAt, resolvedAt],
      );
      inserted += 1;
    }
    await tx.appendAudit({
      action: 'alerts.received',
      subject: n.receiver,
      payload: { status: n.status, alerts: n.alerts.length, truncated: n.truncatedAlerts, inserted, updated },
    });
    return { inserted, updated };
  });
}

function alertPayload(a: AlertRecord): Record<string, unknown> {
  return { fingerprint: a.fingerprint, status: a.status, summary: a.summary, labels: a.labels, annotations: a.annotations, receiver: a.receiver, groupKey: a.groupKey, generatorURL: a.generatorURL, endsAt: a.endsAt };
}

/** The newest alerts first; read as `lane` when given (every lane may read alerts). */
export async function listAlerts(ledger: Ledger, opts: { limit?: number; lane?: string } = {}): Promise<StoredAlert[]> {
  const run = <T>(fn: (tx: LaneTx) => Promise<T>) => (opts.lane ? ledger.withLane(opts.lane, fn) : ledger.withAdmin(fn));
  return run(async (tx) => {
    const { rows } = await tx.sql.query<Record<string, unknown>>('SELECT id::text AS id, name, severity, subject, payload, fired_at, resolved_at FROM alerts ORDER BY fired_at DESC, id DESC LIMIT $1', [
      opts.limit ?? 100,
    ]);
    return rows.map((r) => {
      const p = (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { summary?: string; labels?: Record<string, string> };
      const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
      return {
        id: Number(r.id),
        name: r.name as string,
        severity: r.severity as string,
        fingerprint: r.subject as string,
        status: r.resolved_at ? 'resolved' : 'firing',
        summary: p.summary ?? '',
        firedAt: iso(r.fired_at),
        resolvedAt: r.resolved_at ? iso(r.resolved_at) : null,
        labels: p.labels ?? {},
      };
    });
  });
}
