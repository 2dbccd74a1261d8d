import { isDuallaneError, type DuallaneConfig, type LaneConfig } from '../config/index.js';
import { verifyAuditChain, type AuditReport } from './audit-chain.js';
import { openDriver, type Driver, type LedgerTarget, type SqlTx, type TransactionOptions } from './driver.js';
import { ADMIN_LANE, LaneTx } from './lane-tx.js';
import { LedgerError, sqlState, toLedgerError } from './ledger-error.js';
import { migrate, type MigrateResult } from './migrate.js';
import { AUDIT_CONTENT_SQL, MIGRATIONS, type Migration } from './migrations.js';
import { rolesSql } from './roles.js';

export interface LedgerOptions {
  /** The configured lanes (name -> role); `withLane` refuses any other lane. */
  lanes?: readonly LaneConfig[];
  /** Server mode: connections in the pool (default 10). */
  poolSize?: number;
  /** Embedded mode: how long to wait for another process to release the ledger (default 15 s). */
  lockTimeoutMs?: number;
}

/**
 * The handoff ledger over PGlite (embedded) or PostgreSQL (server): same SQL, same migrations.
 * A stateful collaborator: open it once, run transactions, close it.
 */
export class Ledger {
  private readonly lanes: Map<string, LaneConfig>;
  private readonly sealer = new Debounced(SEAL_DELAY_MS, () => this.sealAudit());

  private constructor(
    private readonly driver: Driver,
    readonly target: LedgerTarget,
    lanes: readonly LaneConfig[],
  ) {
    this.lanes = new Map(lanes.map((l) => [l.name, l]));
  }

  /** Opens (and for server mode, connects to) the ledger. Unreachable -> LedgerError DB_UNAVAILABLE. */
  static async open(target: LedgerTarget, opts: LedgerOptions = {}): Promise<Ledger> {
    const driver = await openDriver(target, { poolSize: opts.poolSize, lockTimeoutMs: opts.lockTimeoutMs });
    return new Ledger(driver, target, opts.lanes ?? []);
  }

  get kind(): LedgerTarget['kind'] {
    return this.driver.kind;
  }

  /** Where the ledger is, with any password redacted. */
  get where(): string {
    return this.driver.where;
  }

  /** Applies pending migrations (one transaction, all or nothing). */
  migrate(migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
    return migrate(this.driver, migrations);
  }

  /** Creates or corrects the lane roles (see roles.ts) in one transaction. */
  async applyRoles(config: Pick<DuallaneConfig, 'lanes'>): Promise<void> {
    await this.withAdmin((tx) => tx.sql.exec(rolesSql(config)));
    for (const lane of config.lanes) this.lanes.set(lane.name, lane);
  }

  /**
   * True when the schema is at the newest migration and the lanes table matches `config` (name,
   * kind, role of every lane): then migrate + applyRoles would change nothing and can be skipped.
   */
  async isPrepared(config: Pick<DuallaneConfig, 'lanes'>): Promise<boolean> {
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    try {
      return await this.withAdmin(async (tx) => {
        const v = await tx.sql.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
        if (v.rows[0]?.v !== latest) return false;
        const { rows } = await tx.sql.query<{ name: string; kind: string; role: string }>('SELECT name, kind, role FROM duallane_lanes');
        const have = new Set(rows.map((r) => `${r.name}/${r.kind}/${r.role}`));
        return config.lanes.every((l) => have.has(`${l.name}/${l.kind}/${l.db.role}`));
      });
    } catch {
      return false;
    }
  }

  /**
   * Runs `fn` in one transaction under `SET LOCAL ROLE <lane role>`: every statement has exactly the
   * lane's privileges and row-level security sees the lane. Commits when fn resolves, rolls back when
   * it throws. In server mode each lane's process logs in as its own role, so it cannot act for
   * another lane; in embedded mode the session is a superuser and SET ROLE is a guard against
   * mistakes, not a boundary against a hostile process.
   *
   * `autocommit`: fn's writes are a single statement (insertHandoff, transitionHandoff,
   * openPullRequest carry their audit row in that statement), so where no role switch is needed
   * (server mode, logged in as the lane) it runs without BEGIN/COMMIT round trips.
   */
  async withLane<T>(laneName: string, fn: (tx: LaneTx) => Promise<T>, opts: { autocommit?: boolean } = {}): Promise<T> {
    const lane = this.lanes.get(laneName);
    if (!lane) throw new LedgerError('LANE_UNKNOWN', `no lane named ${JSON.stringify(laneName)} is configured for this ledger`);
    return this.laneTransaction(lane.name, fn, { role: lane.db.role, autocommit: opts.autocommit });
  }

  /** Runs `fn` in one transaction as the connected user (an administrator; no role switch). */
  withAdmin<T>(fn: (tx: LaneTx) => Promise<T>): Promise<T> {
    return this.laneTransaction(ADMIN_LANE, fn);
  }

  /**
   * Chains every committed audit row not yet sealed (see migration 5) and returns how many. Writes
   * through this Ledger are sealed without asking, within SEAL_DELAY_MS of their commit and before
   * close() returns; rows a crashed process left unsealed are sealed by the next seal from anyone.
   */
  async sealAudit(): Promise<number> {
    return this.transaction((sql) => new LaneTx(sql, ADMIN_LANE).sealAudit(), { autocommit: true });
  }

  private async laneTransaction<T>(laneName: string, fn: (tx: LaneTx) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    let tx: LaneTx | undefined;
    try {
      return await this.transaction((sql) => fn((tx = new LaneTx(sql, laneName))), opts);
    } finally {
      // Also after a failure: an autocommit statement before it may have committed its audit row.
      if (tx?.unsealedAudit) this.sealer.soon();
    }
  }

  /**
   * Runs `fn` as the lane and always rolls back, whatever fn did: for probes (creds check) that
   * must leave nothing behind.
   */
  async rehearseAsLane<T>(laneName: string, fn: (tx: LaneTx) => Promise<T>): Promise<T> {
    const marker = new RollbackMarker<T>();
    try {
      await this.withLane(laneName, async (tx) => {
        marker.value = await fn(tx);
        throw marker;
      });
    } catch (e) {
      if (e === marker) return marker.value as T;
      throw e;
    }
    throw new Error('unreachable');
  }

  /**
   * Seals what is pending, then re-derives the audit hash chain and names every edited, deleted or
   * reordered row. Rows committed after the seal are left for the next check (report.unsealed).
   */
  async verifyAudit(): Promise<AuditReport> {
    // A chain that cannot be extended (its head gone, a row sealed by hand) is reported, not thrown:
    // the findings below name what broke it.
    const sealError = await this.sealAudit().then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    const report = await this.withAdmin(async (tx) => {
      // One snapshot for rows, count and head: a seal committing in between would look like deletions.
      await tx.sql.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const { rows } = await tx.sql.query<{ seq: string; prev_hash: string; hash: string; content: string }>(
        `SELECT a.seq::text AS seq, a.prev_hash, a.hash, ${AUDIT_CONTENT_SQL('a')} AS content FROM audit_log a WHERE a.seq IS NOT NULL ORDER BY a.seq`,
      );
      const unsealed = await tx.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL');
      const head = await tx.sql.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_head WHERE singleton');
      const h = head.rows[0];
      return {
        ...verifyAuditChain(
          rows.map((r) => ({ seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash, content: r.content })),
          h ? { seq: Number(h.seq), hash: h.hash } : null,
        ),
        unsealed: Number(unsealed.rows[0]!.n),
      };
    });
    return sealError === undefined ? report : { ...report, sealError };
  }

  /** Seals what this Ledger wrote (a failure there is not the caller's: the next seal retries), then closes. */
  async close(): Promise<void> {
    await this.sealer.stop();
    await this.sealAudit().catch(() => undefined);
    return this.driver.close();
  }

  private async transaction<T>(fn: (sql: SqlTx) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    try {
      return await this.driver.transaction(fn, opts);
    } catch (e) {
      if (isDuallaneError(e) || e instanceof RollbackMarker) throw e;
      if (sqlState(e) || (e as NodeJS.ErrnoException)?.code) throw toLedgerError(e, `ledger ${this.driver.where}`);
      throw e;
    }
  }
}

/**
 * How long after a write its audit rows wait to be chained. Writes within the window share one
 * sealing transaction (one lock, one flush) instead of each holding the chain until its own flush.
 * Nobody reads the chain in that window without sealing first (verify-audit, listAudit, appendAudit
 * seal themselves); 50 ms instead of 10 ms cut the ledger's CPU per handoff by a tenth.
 */
const SEAL_DELAY_MS = 50;

/**
 * Runs `task` once, `delayMs` after the first soon() since its last run; never two at a time. A
 * failed run is retried with backoff (up to 30 s apart) until one succeeds.
 */
class Debounced {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private again = false;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly delayMs: number,
    private readonly task: () => Promise<unknown>,
  ) {}

  soon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    const delay = this.failures === 0 ? this.delayMs : Math.min(30_000, 100 * 2 ** this.failures);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  /** No further runs; waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private fire(): void {
    this.timer = null;
    this.running = this.task()
      .then(
        () => {
          this.failures = 0;
        },
        () => {
          this.failures++;
          this.again = true;
        },
      )
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.soon();
        }
      });
  }
}

class RollbackMarker<T> {
  value: T | undefined;
}
