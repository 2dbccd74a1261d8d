import type { SqlTx } from './driver.js';
import { LedgerError, sqlState, toLedgerError } from './ledger-error.js';
import { AUDIT_SEAL_BATCH, type HANDOFF_STATES } from './migrations.js';

export { ADMIN_LANE } from './migrations.js';

export type HandoffState = (typeof HANDOFF_STATES)[number];

export interface NewHandoff {
  /** ULID chosen by the proposer; also the statement's handoff id. */
  id: string;
  statementDigest: string;
  artifactDigest: string;
  bundlePath: string;
  artifactPath: string;
  baseCommit: string;
  targetBranch: string;
  expiresAt: Date | string;
  title?: string;
  nonce?: string;
  meta?: Record<string, unknown>;
}

export interface Handoff {
  id: string;
  state: HandoffState;
  proposerLane: string;
  executorLane: string | null;
  statementDigest: string;
  artifactDigest: string;
  bundlePath: string;
  artifactPath: string;
  baseCommit: string;
  targetBranch: string;
  title: string;
  nonce: string | null;
  expiresAt: string;
  branch: string | null;
  commit: string | null;
  prNumber: number | null;
  prUrl: string | null;
  rejectReason: string | null;
  meta: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** Fields a transition may set; absent ones keep their value. `meta` is merged, not replaced. */
export interface TransitionFields {
  branch?: string;
  commit?: string;
  prNumber?: number;
  prUrl?: string;
  rejectReason?: string;
  meta?: Record<string, unknown>;
  /** Extra facts for the transition's audit row. */
  audit?: Record<string, unknown>;
}

export interface PullRequestRecord {
  handoffId: string;
  forge: string;
  number: number;
  url: string;
  branch: string;
  headSha: string;
  state?: string;
  labels?: string[];
  /** Branch it merges into, title and description (kept on update when not given). */
  base?: string;
  title?: string;
  body?: string;
}

export interface PullRequest extends Required<PullRequestRecord> {
  lane: string;
  createdAt: string;
  updatedAt: string;
}

export interface LaneRunRecord {
  command: string[];
  exitCode: number | null;
  startedAt: Date | string;
  endedAt: Date | string;
}

export interface LaneRun {
  id: number;
  auditSeq: number;
  lane: string;
  command: string[];
  exitCode: number | null;
  startedAt: string;
  endedAt: string;
}

export interface AuditEntry {
  action: string;
  subject?: string;
  payload?: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  lane: string;
  action: string;
  subject: string;
  payload: Record<string, unknown>;
  createdAt: string;
  prevHash: string;
  hash: string;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));
const json = <T>(v: unknown, fallback: T): T => (v === null || v === undefined ? fallback : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** LaneTx.auditOf's statement (exported for the plan test in test/ledger/plans.test.ts). */
export const AUDIT_OF_SUBJECT = 'SELECT lane, action, payload FROM audit_log WHERE subject = $1 AND ($2::text IS NULL OR action = $2) ORDER BY seq NULLS LAST, id';

/**
 * A handoff sent as one JSON column (`row_to_json`) plus its timestamps as typed columns: on the hot
 * statements this is cheaper for node-postgres than two dozen typed columns (four field descriptions,
 * one JSON.parse). The timestamps are not taken from the JSON: its text form of a timestamp is not
 * always one JavaScript can parse (years past 9999, BC, offsets with seconds), and a row a lane
 * inserted with such a time must not make every take of the queue throw.
 */
const withTimes = (x: string) => `row_to_json(${x}) AS h, ${x}.expires_at, ${x}.created_at, ${x}.updated_at`;
const rowToHandoff = (r: Record<string, unknown>): Handoff => toHandoff({ ...json<Record<string, unknown>>(r.h, {}), expires_at: r.expires_at, created_at: r.created_at, updated_at: r.updated_at });

function toHandoff(r: Record<string, unknown>): Handoff {
  return {
    id: r.id as string,
    state: r.state as HandoffState,
    proposerLane: r.proposer_lane as string,
    executorLane: (r.executor_lane as string | null) ?? null,
    statementDigest: r.statement_digest as string,
    artifactDigest: r.artifact_digest as string,
    bundlePath: r.bundle_path as string,
    artifactPath: r.artifact_path as string,
    baseCommit: r.base_commit as string,
    targetBranch: r.target_branch as string,
    title: r.title as string,
    nonce: (r.nonce as string | null) ?? null,
    expiresAt: iso(r.expires_at),
    branch: (r.branch as string | null) ?? null,
    commit: (r.commit_sha as string | null) ?? null,
    prNumber: r.pr_number === null || r.pr_number === undefined ? null : Number(r.pr_number),
    prUrl: (r.pr_url as string | null) ?? null,
    rejectReason: (r.reject_reason as string | null) ?? null,
    meta: json(r.meta, {}),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

function toPullRequest(r: Record<string, unknown>): PullRequest {
  return {
    handoffId: r.handoff_id as string,
    lane: r.lane as string,
    forge: r.forge as string,
    number: Number(r.number),
    url: r.url as string,
    branch: r.branch as string,
    headSha: r.head_sha as string,
    state: r.state as string,
    labels: json(r.labels, []),
    base: (r.base as string | undefined) ?? '',
    title: (r.title as string | undefined) ?? '',
    body: (r.body as string | undefined) ?? '',
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    seq: Number(r.seq),
    lane: r.lane as string,
    action: r.action as string,
    subject: r.subject as string,
    payload: json(r.payload, {}),
    createdAt: iso(r.created_at),
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
}

/** $1..$10 of both pull-request statements: the record's own columns, then its audit payload (`pull_request.recorded`, or `pullRequest` of `handoff.pr_opened`). */
function prParams(pr: PullRequestRecord, lane: string): unknown[] {
  const audit = { forge: pr.forge, number: pr.number, url: pr.url, headSha: pr.headSha };
  return [pr.handoffId, lane, pr.forge, pr.number, pr.url, pr.branch, pr.headSha, pr.state ?? 'open', JSON.stringify(pr.labels ?? []), JSON.stringify(audit)];
}

/**
 * Everything a lane does inside ONE transaction opened by `Ledger.withLane` (running as the lane's
 * role) or `Ledger.withAdmin`. Each state change writes its audit row in the same transaction, so a
 * state without its audit row (or the reverse) can never be committed.
 */
export class LaneTx {
  /**
   * True once this transaction wrote an audit row it did not seal: the Ledger then has the chain
   * sealed shortly after the commit (see Ledger.sealAudit).
   */
  unsealedAudit = false;

  constructor(
    /** Raw SQL on this transaction's connection; prefer the typed methods. */
    readonly sql: SqlTx,
    /** The lane this transaction acts for (ADMIN_LANE for administrators). */
    readonly lane: string,
  ) {}

  /**
   * Records a proposal (state `proposed`) and its `handoff.proposed` audit row, in ONE statement.
   * Propose lanes only. The same id, statement digest or nonce a second time is a REPLAY
   * (details.which: id, statement_digest or nonce), answered by the unique indexes.
   */
  async insertHandoff(h: NewHandoff): Promise<Handoff> {
    const audit = { statementDigest: h.statementDigest, artifactDigest: h.artifactDigest, baseCommit: h.baseCommit, targetBranch: h.targetBranch };
    this.unsealedAudit = true;
    try {
      const { rows } = await this.sql.query(
        `WITH h AS (
           INSERT INTO handoffs (id, proposer_lane, statement_digest, artifact_digest, bundle_path, artifact_path, base_commit, target_branch, expires_at, title, nonce, meta)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb) RETURNING *),
         a AS (INSERT INTO audit_log (lane, action, subject, payload) SELECT $2, 'handoff.proposed', h.id, $13::jsonb FROM h RETURNING seq)
         SELECT ${withTimes('h')} FROM h`,
        [h.id, this.lane, h.statementDigest, h.artifactDigest, h.bundlePath, h.artifactPath, h.baseCommit, h.targetBranch, iso(h.expiresAt), h.title ?? '', h.nonce ?? null, JSON.stringify(h.meta ?? {}), JSON.stringify(audit)],
      );
      return rowToHandoff(rows[0]!);
    } catch (e) {
      if (sqlState(e) === '23505') {
        const constraint = String((e as { constraint?: string }).constraint ?? (e as Error).message);
        const which = constraint.includes('nonce') ? 'nonce' : constraint.includes('statement_digest') ? 'statement_digest' : 'id';
        const what = which === 'nonce' ? `nonce ${h.nonce}` : which === 'statement_digest' ? `statement ${h.statementDigest}` : `handoff ${h.id}`;
        throw new LedgerError('REPLAY', `${what} is already recorded`, { cause: e, details: { which, id: h.id, statementDigest: h.statementDigest, sqlstate: '23505' } });
      }
      throw toLedgerError(e, 'recording the proposal');
    }
  }

  /**
   * Moves handoff `id` from `from` (one state or any of several) to `to`, exactly once: the UPDATE
   * matches only while the row is still in `from`, so of two racing executors one gets the row and
   * the other gets STATE_CONFLICT (details: expected, actual). Sets executor_lane to this lane;
   * row-level security stops a lane from moving a handoff another executor already holds.
   */
  async transitionHandoff(id: string, from: HandoffState | readonly HandoffState[], to: HandoffState, fields: TransitionFields = {}): Promise<Handoff> {
    return this.move(id, typeof from === 'string' ? [from] : [...from], to, fields);
  }

  /**
   * The single-use check of an acceptance and its state change in ONE statement: inserts the
   * statement digest and nonce into `consumed` (both unique) and moves the handoff from `from` to
   * `to` with its audit row. REPLAY (details.which, details.consumedBy) and nothing written when
   * either was used before; STATE_CONFLICT / NOT_FOUND as transitionHandoff.
   */
  async consumeAndTransition(id: string, use: { statementDigest: string; nonce: string }, from: HandoffState | readonly HandoffState[], to: HandoffState, fields: TransitionFields = {}): Promise<Handoff> {
    return this.move(id, typeof from === 'string' ? [from] : [...from], to, fields, use);
  }

  private async move(id: string, fromList: string[], to: HandoffState, fields: TransitionFields, use?: { statementDigest: string; nonce: string }): Promise<Handoff> {
    const { audit, meta: _meta, ...changed } = fields;
    const params: unknown[] = [
      id,
      to,
      this.lane,
      fields.branch ?? null,
      fields.commit ?? null,
      fields.prNumber ?? null,
      fields.prUrl ?? null,
      fields.rejectReason ?? null,
      JSON.stringify(fields.meta ?? {}),
      fromList,
      `handoff.${to}`,
      JSON.stringify({ from: fromList, to, ...changed, ...(audit ?? {}) }),
    ];
    // With `use`, the handoff row is locked first (FOR UPDATE: waits for a concurrent mover and
    // re-checks the state on its newest version; row-level security hides another executor's row),
    // the consumed row is written only for a row so locked, and the move only if that row was
    // written (no conflict): both or neither.
    const consume = use
      ? `l AS (SELECT id FROM handoffs WHERE id = $1 AND state = ANY($10::text[]) FOR UPDATE),
         c AS (INSERT INTO consumed (statement_digest, nonce, handoff_id, lane)
               SELECT $13, $14, l.id, $3 FROM l
               ON CONFLICT DO NOTHING RETURNING 1),
         `
      : '';
    if (use) params.push(use.statementDigest, use.nonce);
    const { rows } = await this.audited(`moving handoff ${id} to ${to}`, () =>
      this.sql.query(
        `WITH ${consume}u AS (
           UPDATE handoffs SET state = $2, executor_lane = $3, updated_at = now(),
             branch = COALESCE($4, branch), commit_sha = COALESCE($5, commit_sha), pr_number = COALESCE($6, pr_number),
             pr_url = COALESCE($7, pr_url), reject_reason = COALESCE($8, reject_reason), meta = meta || $9::jsonb
           WHERE id = $1 AND state = ANY($10::text[])${use ? ' AND EXISTS (SELECT 1 FROM c)' : ''} RETURNING *),
         a AS (INSERT INTO audit_log (lane, action, subject, payload) SELECT $3, $11, u.id, $12::jsonb FROM u RETURNING seq)
         SELECT ${withTimes('u')} FROM u`,
        params,
      ),
    );
    if (rows.length > 0) return rowToHandoff(rows[0]!);
    // Nothing written. A replay only if the digest or nonce is really recorded as consumed (by
    // another handoff, or by this one earlier); otherwise the state (or another lane) was in the way.
    if (use) {
      const replay = await this.replayError(use.statementDigest, use.nonce);
      if (replay.details?.consumedBy !== undefined) throw replay;
    }
    throw await this.stateConflict(id, fromList);
  }

  /**
   * Moves handoff `id` from `from` to `pr_opened` together with its pull request record, in ONE
   * statement with its one audit row (`handoff.pr_opened`, whose payload carries the pull request as
   * `pullRequest`: forge, number, url, head). Nothing is written unless the handoff is still in one
   * of `from`.
   */
  async openPullRequest(pr: PullRequestRecord, from: HandoffState | readonly HandoffState[], fields: Omit<TransitionFields, 'prNumber' | 'prUrl' | 'rejectReason'> = {}): Promise<{ handoff: Handoff; pullRequest: PullRequest }> {
    const fromList = typeof from === 'string' ? [from] : [...from];
    const { audit, meta: _meta, ...changed } = fields;
    const trAudit = { from: fromList, to: 'pr_opened', ...changed, prNumber: pr.number, prUrl: pr.url, ...(audit ?? {}) };
    const { rows } = await this.audited(`recording the pull request of ${pr.handoffId}`, () =>
      this.sql.query(
        `WITH u AS (
           UPDATE handoffs SET state = 'pr_opened', executor_lane = $2, updated_at = now(), pr_number = $4, pr_url = $5,
             branch = COALESCE($13, branch), commit_sha = COALESCE($14, commit_sha), meta = meta || $11::jsonb
           WHERE id = $1 AND state = ANY($12::text[]) RETURNING *),
         p AS (
           INSERT INTO pull_requests (handoff_id, lane, forge, number, url, branch, head_sha, state, labels, base, title, body)
           SELECT u.id, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, COALESCE($16, ''), COALESCE($17, ''), COALESCE($18, '') FROM u
           ON CONFLICT (handoff_id) DO UPDATE SET state = EXCLUDED.state, labels = EXCLUDED.labels, head_sha = EXCLUDED.head_sha, url = EXCLUDED.url,
             base = COALESCE($16, pull_requests.base), title = COALESCE($17, pull_requests.title), body = COALESCE($18, pull_requests.body), updated_at = now()
           RETURNING *),
         a AS (
           INSERT INTO audit_log (lane, action, subject, payload)
           SELECT $2, 'handoff.pr_opened', u.id, $15::jsonb || jsonb_build_object('pullRequest', $10::jsonb) FROM u RETURNING seq)
         SELECT ${withTimes('u')}, (SELECT row_to_json(p) FROM p) AS pull_request,
           (SELECT p.created_at FROM p) AS pr_created_at, (SELECT p.updated_at FROM p) AS pr_updated_at FROM u`,
        [
          ...prParams(pr, this.lane),
          JSON.stringify(fields.meta ?? {}),
          fromList,
          fields.branch ?? null,
          fields.commit ?? null,
          JSON.stringify(trAudit),
          pr.base ?? null,
          pr.title ?? null,
          pr.body ?? null,
        ],
      ),
    );
    if (rows.length === 0) throw await this.stateConflict(pr.handoffId, fromList);
    const r = rows[0]!;
    return {
      handoff: rowToHandoff(r),
      pullRequest: toPullRequest({ ...json<Record<string, unknown>>(r.pull_request, {}), created_at: r.pr_created_at, updated_at: r.pr_updated_at }),
    };
  }

  /** Why a state change matched no row: NOT_FOUND, or STATE_CONFLICT with the actual state. */
  private async stateConflict(id: string, fromList: readonly string[]): Promise<LedgerError> {
    const current = await this.getHandoff(id);
    if (!current) return new LedgerError('NOT_FOUND', `no handoff ${id}`, { details: { id } });
    return new LedgerError('STATE_CONFLICT', `handoff ${id} is ${current.state}${current.executorLane ? ` (held by lane ${current.executorLane})` : ''}, not ${fromList.join(' or ')}`, {
      details: { id, expected: fromList, actual: current.state, executorLane: current.executorLane },
    });
  }

  /**
   * Locks a `proposed` handoff for this transaction without changing it: the oldest unexpired one
   * (`next`, skipping rows other executors hold: FOR UPDATE SKIP LOCKED), or the one with `id`
   * (waiting for a holder to finish). Null when there is none, or `id` is no longer `proposed`.
   * The executor verifies while it holds the row and moves it on (verified or rejected) in the same
   * transaction; if it dies meanwhile, the row simply stays `proposed`.
   */
  async lockProposed(target: { id: string } | { next: true }): Promise<Handoff | null> {
    const { rows } = await this.run('taking a pending handoff', () =>
      'id' in target
        ? this.sql.query(`SELECT ${withTimes('h')} FROM handoffs h WHERE id = $1 AND state = 'proposed' FOR UPDATE`, [target.id])
        : // duallane_next_pending() (migration 7) walks the queue index in order and stops at the first
          // row it can lock (FOR UPDATE SKIP LOCKED), with no plan that sorts the queue. The empty
          // parameter list prepares the call: it is on every accept's path.
          this.sql.query(`SELECT ${withTimes('h')} FROM duallane_next_pending() h`, []),
    );
    return rows[0] ? rowToHandoff(rows[0]) : null;
  }

  /**
   * Takes the oldest unexpired `proposed` handoff and marks it `claimed` by this lane, skipping rows
   * another executor has locked (FOR UPDATE SKIP LOCKED): two executors never take the same one.
   * Returns null when nothing is pending. Two statements: the take (lockProposed) and the move with
   * its `handoff.claimed` audit row; inside a transaction the row stays locked between them. (In one
   * statement, the take's function reads a newer snapshot than the UPDATE around it, and could lock a
   * row the UPDATE cannot see.) With `autocommit`, a lost race is STATE_CONFLICT, never a double claim.
   */
  async claimNextPending(): Promise<Handoff | null> {
    const next = await this.lockProposed({ next: true });
    return next ? this.transitionHandoff(next.id, 'proposed', 'claimed') : null;
  }

  /**
   * Marks a statement digest and nonce as used, once and forever. A second use of either throws
   * REPLAY (details.which names which, details.consumedBy the handoff that used it). The INSERT does
   * nothing on conflict, so the caller's transaction stays usable (for example to record the rejection).
   */
  async consume(statementDigest: string, nonce: string, handoffId: string): Promise<void> {
    const { rows } = await this.run('consuming the statement', () =>
      this.sql.query('INSERT INTO consumed (statement_digest, nonce, handoff_id, lane) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1', [statementDigest, nonce, handoffId, this.lane]),
    );
    if (rows.length === 0) throw await this.replayError(statementDigest, nonce);
  }

  /** REPLAY naming which of the two was used before, and by which handoff. */
  private async replayError(statementDigest: string, nonce: string): Promise<LedgerError> {
    const { rows: used } = await this.run('reading consumed', () =>
      this.sql.query<{ statement_digest: string; handoff_id: string }>('SELECT statement_digest, handoff_id FROM consumed WHERE statement_digest = $1 OR nonce = $2 LIMIT 1', [statementDigest, nonce]),
    );
    const which = used[0]?.statement_digest === statementDigest ? 'statement_digest' : 'nonce';
    return new LedgerError('REPLAY', `${which === 'nonce' ? `nonce ${nonce}` : `statement ${statementDigest}`} was already consumed${used[0] ? ` by handoff ${used[0].handoff_id}` : ''}`, {
      details: { which, statementDigest, nonce, ...(used[0] ? { consumedBy: used[0].handoff_id } : {}) },
    });
  }

  async isConsumed(statementDigest: string, nonce?: string): Promise<boolean> {
    const { rows } = await this.run('reading consumed', () =>
      this.sql.query('SELECT 1 FROM consumed WHERE statement_digest = $1 OR nonce = $2 LIMIT 1', [statementDigest, nonce ?? null]),
    );
    return rows.length > 0;
  }

  async getHandoff(id: string): Promise<Handoff | null> {
    const { rows } = await this.run('reading the handoff', () => this.sql.query('SELECT * FROM handoffs WHERE id = $1', [id]));
    return rows[0] ? toHandoff(rows[0]) : null;
  }

  async listHandoffs(opts: { state?: HandoffState; limit?: number } = {}): Promise<Handoff[]> {
    const { rows } = await this.run('listing handoffs', () =>
      this.sql.query('SELECT * FROM handoffs WHERE ($1::text IS NULL OR state = $1) ORDER BY created_at, id LIMIT $2', [opts.state ?? null, opts.limit ?? 1000]),
    );
    return rows.map(toHandoff);
  }

  /** Records (or updates) the pull request opened for a handoff, with its audit row. Execute lanes only. */
  async recordPullRequest(pr: PullRequestRecord): Promise<PullRequest> {
    const { rows } = await this.audited('recording the pull request', () =>
      this.sql.query(
        `WITH p AS (
           INSERT INTO pull_requests (handoff_id, lane, forge, number, url, branch, head_sha, state, labels, base, title, body)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, COALESCE($11, ''), COALESCE($12, ''), COALESCE($13, ''))
           ON CONFLICT (handoff_id) DO UPDATE SET state = EXCLUDED.state, labels = EXCLUDED.labels, head_sha = EXCLUDED.head_sha, url = EXCLUDED.url,
             base = COALESCE($11, pull_requests.base), title = COALESCE($12, pull_requests.title), body = COALESCE($13, pull_requests.body), updated_at = now()
           RETURNING *),
         a AS (INSERT INTO audit_log (lane, action, subject, payload) SELECT $2, 'pull_request.recorded', p.handoff_id, $10::jsonb FROM p RETURNING seq)
         SELECT p.* FROM p`,
        [
          ...prParams(pr, this.lane),
          pr.base ?? null,
          pr.title ?? null,
          pr.body ?? null,
        ],
      ),
    );
    return toPullRequest(rows[0]!);
  }

  async getPullRequest(handoffId: string): Promise<PullRequest | null> {
    const { rows } = await this.run('reading the pull request', () => this.sql.query('SELECT * FROM pull_requests WHERE handoff_id = $1', [handoffId]));
    return rows[0] ? toPullRequest(rows[0]) : null;
  }

  async listPullRequests(): Promise<PullRequest[]> {
    const { rows } = await this.run('listing pull requests', () => this.sql.query('SELECT * FROM pull_requests ORDER BY created_at'));
    return rows.map(toPullRequest);
  }

  /**
   * Appends one audit row for this lane and seals the chain up to it inside this transaction, so its
   * seq and hash are known here (for rare writes: the hot-path statements leave sealing to the Ledger,
   * which holds the chain's lock only briefly). Row-level security refuses a row naming another lane.
   */
  async appendAudit(entry: AuditEntry): Promise<{ seq: number; hash: string }> {
    const { rows } = await this.run(`appending audit ${entry.action}`, () =>
      this.sql.query<{ id: string }>('INSERT INTO audit_log (lane, action, subject, payload) VALUES ($1, $2, $3, $4::jsonb) RETURNING id::text AS id', [
        this.lane,
        entry.action,
        entry.subject ?? '',
        JSON.stringify(entry.payload ?? {}),
      ]),
    );
    await this.sealAudit();
    const sealed = await this.run('reading the sealed audit row', () =>
      this.sql.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_log WHERE id = $1', [rows[0]!.id]),
    );
    return { seq: Number(sealed.rows[0]!.seq), hash: sealed.rows[0]!.hash };
  }

  /** Chains every committed (and this transaction's own) unsealed audit row; returns how many. */
  async sealAudit(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await this.run('sealing the audit chain', () => this.sql.query<{ n: number }>('SELECT duallane_audit_seal() AS n', []));
      const n = Number(rows[0]!.n);
      total += n;
      if (n < AUDIT_SEAL_BATCH) return total;
    }
  }

  /** Sealed rows after `afterSeq`, in chain order (rows not yet sealed are sealed first). */
  async listAudit(opts: { afterSeq?: number; limit?: number } = {}): Promise<AuditRow[]> {
    await this.sealAudit();
    const { rows } = await this.run('reading the audit log', () =>
      this.sql.query('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [opts.afterSeq ?? 0, opts.limit ?? 10_000]),
    );
    return rows.map(toAuditRow);
  }

  /**
   * One subject's audit rows (a handoff's: subject = its id), sealed ones in chain order and then the
   * unsealed ones in insert order; with `action`, only rows of that action. Read through
   * audit_log_subject (migration 8), not by scanning the log.
   */
  async auditOf(subject: string, opts: { action?: string } = {}): Promise<Array<Pick<AuditRow, 'lane' | 'action' | 'payload'>>> {
    const { rows } = await this.run(`reading the audit rows of ${subject}`, () => this.sql.query(AUDIT_OF_SUBJECT, [subject, opts.action ?? null]));
    return rows.map((r) => ({ lane: r.lane as string, action: r.action as string, payload: json(r.payload, {}) }));
  }

  /** Records a finished `duallane exec` run as a `lane.run` audit row; sealing it copies it to lane_runs. */
  async recordLaneRun(run: LaneRunRecord): Promise<{ seq: number }> {
    const r = await this.appendAudit({
      action: 'lane.run',
      subject: run.command[0] ?? '',
      payload: { command: run.command, exitCode: run.exitCode, startedAt: iso(run.startedAt), endedAt: iso(run.endedAt) },
    });
    return { seq: r.seq };
  }

  async listLaneRuns(opts: { lane?: string; limit?: number } = {}): Promise<LaneRun[]> {
    const { rows } = await this.run('listing lane runs', () =>
      this.sql.query('SELECT id::text AS id, audit_seq::text AS audit_seq, lane, command, exit_code, started_at, ended_at FROM lane_runs WHERE ($1::text IS NULL OR lane = $1) ORDER BY id LIMIT $2', [
        opts.lane ?? null,
        opts.limit ?? 1000,
      ]),
    );
    return rows.map((r) => ({
      id: Number(r.id),
      auditSeq: Number(r.audit_seq),
      lane: r.lane as string,
      command: json(r.command, []),
      exitCode: r.exit_code === null ? null : Number(r.exit_code),
      startedAt: iso(r.started_at),
      endedAt: isoOrNull(r.ended_at) ?? iso(r.started_at),
    }));
  }

  /** run() for a statement that writes unsealed audit rows. */
  private audited<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.unsealedAudit = true;
    return this.run(what, fn);
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toLedgerError(e, what);
    }
  }
}
