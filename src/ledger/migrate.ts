import { createHash } from 'node:crypto';
import type { Driver } from './driver.js';
import { LedgerError, toLedgerError } from './ledger-error.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export interface MigrateResult {
  /** Versions applied by this run, in order (empty when already current). */
  applied: number[];
  /** The schema version after the run. */
  current: number;
}

export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}

/**
 * Applies every pending migration in ONE transaction under an advisory lock:
 *  - idempotent: a second run (or a concurrent one, which waits on the lock) applies nothing;
 *  - all or nothing: a migration failing midway rolls back this run entirely, including the
 *    bookkeeping table on a fresh database, so the schema is exactly as it was before the run;
 *  - tamper-evident: an applied migration whose SQL changed since stops the run.
 */
export async function migrate(driver: Driver, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  try {
    return await driver.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(74217300)');
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await tx.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
      const known = new Map(sorted.map((m) => [m.version, m]));
      for (const row of rows) {
        const m = known.get(row.version);
        if (!m) throw new LedgerError('SCHEMA_TOO_NEW', `the ledger has migration ${row.version}, which this duallane does not know; upgrade duallane`);
        if (migrationChecksum(m) !== row.checksum) {
          throw new LedgerError('MIGRATION_CHECKSUM_MISMATCH', `migration ${m.version} (${m.name}) changed after it was applied; add a new migration instead`);
        }
      }
      const done = new Set(rows.map((r) => r.version));
      const applied: number[] = [];
      for (const m of sorted) {
        if (done.has(m.version)) continue;
        try {
          await tx.exec(m.sql);
        } catch (cause) {
          const inner = toLedgerError(cause, `migration ${m.version} (${m.name})`);
          throw new LedgerError('MIGRATION_FAILED', `${inner.message}; nothing was changed`, { cause, details: { version: m.version } });
        }
        await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, migrationChecksum(m)]);
        applied.push(m.version);
      }
      const current = Math.max(0, ...rows.map((r) => r.version), ...applied);
      return { applied, current };
    });
  } catch (e) {
    throw toLedgerError(e, `migrating ${driver.where}`);
  }
}
