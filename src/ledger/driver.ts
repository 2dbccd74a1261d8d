import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';
import { acquireEmbeddedLock } from './embedded-lock.js';
import { LedgerError, redactUrl, toLedgerError } from './ledger-error.js';
import { PgliteStatements } from './pglite-statements.js';
import { quoteIdent } from './roles.js';

/** Where the ledger lives: an embedded PGlite directory, or a PostgreSQL server URL. */
export type LedgerTarget = { kind: 'embedded'; path: string } | { kind: 'server'; url: string };

/** One connection inside one transaction. The same SQL runs on PGlite and on PostgreSQL. */
export interface SqlTx {
  /**
   * One statement. With a parameter list (even an empty one) it is prepared once per connection and
   * then only bound and executed; without one it is sent as it is, planned every time (ad-hoc SQL).
   */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /** Several statements without parameters (migrations, role scripts). */
  exec(sql: string): Promise<void>;
}

export interface TransactionOptions {
  /**
   * Run as this role: `SET LOCAL ROLE` right after BEGIN (sent with it, one round trip), unless the
   * connection already logged in as that role (server mode: each lane connects as its own role).
   */
  role?: string;
  /**
   * Each statement commits on its own (no BEGIN/COMMIT round trips). Only for work whose writes are
   * ONE statement (the ledger's state changes carry their audit row in the same statement); reads
   * after it (an error path) see committed data. On PostgreSQL it falls back to a transaction when a
   * role has to be switched (a connection not logged in as the lane); on PGlite the session's role is
   * switched instead (see openPglite).
   */
  autocommit?: boolean;
}

export interface Driver {
  readonly kind: LedgerTarget['kind'];
  /** Human-readable location, secrets redacted. */
  readonly where: string;
  /**
   * BEGIN; fn; COMMIT — or ROLLBACK when fn throws (the error is rethrown unchanged). A transaction
   * whose COMMIT came back as ROLLBACK (fn caught a failed statement and carried on) fails with
   * QUERY_FAILED. On PostgreSQL BEGIN (and the role switch) travels with fn's first statement: work fn
   * does before its first statement runs before a missing role is noticed, and a transaction that
   * sends no statement sends neither BEGIN nor COMMIT.
   */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATE of "cached plan must not change result type". */
const STALE_PLAN = '0A000';

/**
 * Names for statements given a parameter list (even an empty one), so that each pooled connection parses and plans a ledger
 * statement once and then only binds and executes it (node-postgres prepares a named statement on
 * its first use per connection). The ledger's statements are a fixed set; past MAX distinct texts a
 * statement runs unnamed, so ad-hoc SQL cannot grow every connection's prepared statements forever.
 * Plans of statements under row-level security are re-planned by PostgreSQL when the role changes.
 */
class StatementNames {
  private static readonly MAX = 256;
  private readonly byText = new Map<string, string>();
  of(text: string): string | undefined {
    let name = this.byText.get(text);
    if (name === undefined && this.byText.size < StatementNames.MAX) {
      name = `dl_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      this.byText.set(text, name);
    }
    return name;
  }
}

function setLocalRole(role: string): string {
  return `SET LOCAL ROLE ${quoteIdent(role)}`;
}

/** Switching to a lane's role failed (typically: the role does not exist or was not granted). */
function roleError(cause: unknown, role: string): LedgerError {
  return toLedgerError(cause, `acting as role ${role}`);
}

export async function openDriver(target: LedgerTarget, opts: { poolSize?: number; lockTimeoutMs?: number } = {}): Promise<Driver> {
  switch (target.kind) {
    case 'embedded':
      return openPglite(target.path, opts.lockTimeoutMs);
    case 'server':
      return openPg(target.url, opts.poolSize ?? 10);
  }
}

async function openPglite(path: string, lockTimeoutMs?: number): Promise<Driver> {
  const { PGlite } = await import('@electric-sql/pglite');
  let db: PGlite;
  await mkdir(path, { recursive: true, mode: 0o700 }).catch(() => {});
  const release = await acquireEmbeddedLock(path, lockTimeoutMs);
  try {
    db = await PGlite.create(path);
  } catch (cause) {
    release();
    throw new LedgerError('DB_UNAVAILABLE', `cannot open the embedded ledger at ${path}: ${(cause as Error).message}`, { cause });
  }
  const statements = await PgliteStatements.create(db);
  const sql: SqlTx = {
    async query<R>(text: string, params?: unknown[]) {
      if (params) return statements.query<R>(text, params);
      const r = await db.query<R>(text);
      return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length };
    },
    async exec(text: string) {
      // Scripts carry DDL (migrations, role scripts): prepared statements may no longer fit. The
      // script's own error is the one reported; a failed transaction gets no further SQL.
      try {
        await db.exec(text);
      } catch (e) {
        statements.forget();
        throw e;
      }
      await statements.reset();
    },
  };
  // PGlite is one connection: transactions run one at a time, in call order, through this queue
  // (every use of `db` goes through it), so BEGIN and the lane's SET LOCAL ROLE reach the engine in
  // one call. Its session user is a superuser: a lane's role is always switched. Autocommit work (one
  // statement of ours) runs under a session-level SET ROLE, issued only when the lane changes; after
  // any explicit transaction the session role is treated as unknown (lane code in it could have
  // reset it), so the next autocommit sets it again and an administrator's transaction drops it.
  let tail: Promise<unknown> = Promise.resolve();
  const inside = new AsyncLocalStorage<true>();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    // A ledger call from inside one of this ledger's own transactions would wait for itself forever.
    if (inside.getStore()) return Promise.reject(new LedgerError('QUERY_FAILED', 'nested use of the embedded ledger inside one of its own transactions (it has one connection): use the transaction you are in'));
    const run = tail.then(() => inside.run(true, fn));
    tail = run.catch(() => undefined);
    return run;
  };
  const rollback = () => db.exec('ROLLBACK').catch(() => undefined);
  const UNKNOWN = Symbol('unknown');
  let sessionRole: string | null | typeof UNKNOWN = null;
  return {
    kind: 'embedded',
    where: path,
    transaction: (fn, opts) =>
      serial(async () => {
        const role = opts?.role;
        if (opts?.autocommit && role !== undefined) {
          if (sessionRole !== role) {
            sessionRole = UNKNOWN;
            await db.exec(`SET ROLE ${quoteIdent(role)}`).catch((e: unknown) => Promise.reject(roleError(e, role)));
            sessionRole = role;
          }
          return fn(sql);
        }
        const begin = role !== undefined ? `BEGIN; ${setLocalRole(role)}` : sessionRole === null ? 'BEGIN' : 'BEGIN; SET LOCAL ROLE NONE';
        sessionRole = UNKNOWN;
        try {
          await db.exec(begin);
        } catch (e) {
          await rollback();
          throw role !== undefined ? roleError(e, role) : e;
        }
        let result;
        try {
          result = await fn(sql);
        } catch (e) {
          await rollback();
          throw e;
        }
        const [done] = await db.exec('COMMIT');
        // A statement failed inside fn and fn carried on: PostgreSQL turns COMMIT into ROLLBACK.
        if (done?.command === 'ROLLBACK') throw new LedgerError('QUERY_FAILED', 'the transaction was rolled back: a statement in it failed');
        return result;
      }),
    close: async () => {
      try {
        await serial(() => db.close());
      } finally {
        release();
      }
    },
  };
}

/**
 * Sends one statement; in a transaction, after BEGIN when `begin` returns it (the transaction's first
 * statement). BEGIN and the statement leave in ONE socket write (node-postgres writes each pipelined
 * query as it is queued, so the socket is corked around the two; it corks it itself around each query's
 * messages), and BEGIN's answer is awaited first, so a failed BEGIN (a missing role) is the error
 * reported.
 */
async function afterBegin<T>(c: PoolClient, begin: (() => Promise<unknown> | undefined) | undefined, send: () => Promise<T>): Promise<T> {
  if (!begin) return send();
  const stream = (c as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  let begun: Promise<unknown> | undefined;
  let sent: Promise<T>;
  stream?.cork?.();
  try {
    begun = begin();
    sent = send();
  } finally {
    stream?.uncork?.();
  }
  if (begun) await Promise.all([begun, sent.catch(() => undefined)]);
  return sent;
}

async function openPg(url: string, max: number): Promise<Driver> {
  const pg = (await import('pg')).default;
  const where = redactUrl(url);
  // pipeline: a query is sent without waiting for the answer to the one before it (node-postgres'
  // pipelining; each still has its own Sync, so an error stays with its own query).
  const pool: Pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 10_000, pipeline: true });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  let sessionUser: string;
  try {
    const c = await pool.connect();
    try {
      sessionUser = (await c.query<{ u: string }>('SELECT session_user AS u')).rows[0]!.u;
    } finally {
      c.release();
    }
  } catch (cause) {
    await pool.end().catch(() => {});
    throw toLedgerError(cause, `cannot connect to ${where}`);
  }
  const names = new StatementNames();
  // A connection whose cached plan no longer fits the schema (a migration added a column under a
  // running server) is dropped rather than returned to the pool: the next one prepares afresh.
  const stale = new WeakSet<PoolClient>();
  /** `begin` (in a transaction) queues BEGIN ahead of the transaction's first statement (afterBegin). */
  const wrap = (c: PoolClient, begin?: () => Promise<unknown> | undefined): SqlTx => ({
    async query<R>(sql: string, params?: unknown[]) {
      const name = params ? names.of(sql) : undefined;
      try {
        const r = await afterBegin(c, begin, () => c.query(name ? { name, text: sql, values: params } : { text: sql, values: params }));
        return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
      } catch (e) {
        if (!name || (e as { code?: string }).code !== STALE_PLAN) throw e;
        stale.add(c);
        // Outside a transaction nothing was lost with the failed statement: run it once unprepared.
        if (begin) throw e;
        const r = await c.query({ text: sql, values: params });
        return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
      }
    },
    async exec(sql: string) {
      await afterBegin(c, begin, () => c.query(sql));
    },
  });
  return {
    kind: 'server',
    where,
    async transaction(fn, opts) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (cause) {
        throw toLedgerError(cause, `cannot connect to ${where}`);
      }
      // Logged in as the lane's role already: SET ROLE would change nothing.
      const role = opts?.role !== undefined && opts.role !== sessionUser ? opts.role : undefined;
      if (opts?.autocommit && role === undefined) {
        try {
          return await fn(wrap(client));
        } finally {
          client.release(stale.has(client));
        }
      }
      // BEGIN travels with the transaction's first statement (one round trip, not two); a
      // transaction that sends nothing sends neither BEGIN nor COMMIT.
      let begun: Promise<unknown> | undefined;
      const begin = () => {
        if (begun) return undefined;
        begun = role === undefined ? client.query('BEGIN') : client.query(`BEGIN; ${setLocalRole(role)}`).catch((e: unknown) => Promise.reject(roleError(e, role)));
        return begun;
      };
      let broken = false;
      try {
        const result = await fn(wrap(client, begin));
        if (begun) {
          const done = await client.query('COMMIT');
          // A statement failed inside fn and fn carried on: PostgreSQL turns COMMIT into ROLLBACK.
          if (done.command === 'ROLLBACK') throw new LedgerError('QUERY_FAILED', 'the transaction was rolled back: a statement in it failed');
        }
        return result;
      } catch (e) {
        if (begun) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
        }
        throw e;
      } finally {
        // A client whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
        client.release(broken || stale.has(client));
      }
    },
    close: () => pool.end(),
  };
}
