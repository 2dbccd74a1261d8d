import { MIGRATIONS, type Ledger } from '../ledger/index.js';

export interface Readiness {
  ready: boolean;
  ledger: { kind: string; schemaVersion: number | null; expectedVersion: number };
  reason?: string;
}

const EXPECTED = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * Ready when the ledger answers within `timeoutMs` and its schema is at this build's migration
 * version. A closed, unreachable or unmigrated ledger is "not ready" (503), never an exception.
 * The reason is a short category: driver messages may carry hosts and are kept out of the body.
 */
export async function checkReadiness(ledger: Ledger, timeoutMs = 2000): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const base = { kind: ledger.kind, expectedVersion: EXPECTED };
  try {
    const probe = ledger.withAdmin(async (tx) => {
      const { rows } = await tx.sql.query<{ v: number | string | null }>('SELECT max(version) AS v FROM schema_migrations');
      return rows[0]?.v === null || rows[0]?.v === undefined ? null : Number(rows[0].v);
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    const version = await Promise.race([probe, timeout]);
    if (version !== EXPECTED) return { ready: false, ledger: { ...base, schemaVersion: version }, reason: 'ledger schema is not migrated to this version (duallane db migrate)' };
    return { ready: true, ledger: { ...base, schemaVersion: version } };
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { ready: false, ledger: { ...base, schemaVersion: null }, reason: `ledger unreachable${code ? ` (${code})` : ''}` };
  } finally {
    clearTimeout(timer);
  }
}
