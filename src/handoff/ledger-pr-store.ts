import { localPullRequestUrl, type LocalPullRequestRecord, type PullRequestStore } from '../forge/index.js';
import { LedgerError, type Ledger, type LaneTx } from '../ledger/index.js';

/**
 * The local forge's pull requests, kept in the ledger's pull_requests table (one per handoff,
 * numbered per forge) with comments as `pull_request.commented` audit rows. Written by the execute
 * lane, each change in one transaction with its audit row.
 */
export class LedgerPullRequestStore implements PullRequestStore {
  constructor(
    private readonly ledger: Ledger,
    private readonly lane: string,
    private readonly remote: string,
  ) {}

  findByBranch(branch: string): Promise<LocalPullRequestRecord | null> {
    return this.ledger.withLane(this.lane, (tx) => this.read(tx, 'branch', branch));
  }

  get(number: number): Promise<LocalPullRequestRecord | null> {
    return this.ledger.withLane(this.lane, (tx) => this.read(tx, 'number', number));
  }

  async create(rec: Omit<LocalPullRequestRecord, 'number' | 'url' | 'labels' | 'comments' | 'state'>): Promise<LocalPullRequestRecord> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.ledger.withLane(this.lane, async (tx) => {
          const existing = await this.read(tx, 'branch', rec.branch);
          if (existing) return existing;
          const { rows } = await tx.sql.query<{ n: number }>(`SELECT COALESCE(MAX(number), 0) + 1 AS n FROM pull_requests WHERE forge = 'local'`);
          const number = Number(rows[0]!.n);
          await tx.recordPullRequest({
            handoffId: rec.handoffId,
            forge: 'local',
            number,
            url: localPullRequestUrl(this.remote, number),
            branch: rec.branch,
            headSha: rec.headSha,
            labels: [],
            base: rec.base,
            title: rec.title,
            body: rec.body,
          });
          return (await this.read(tx, 'branch', rec.branch))!;
        });
      } catch (e) {
        // Two executors numbering at once on PostgreSQL: one loses the UNIQUE (forge, number) race; retry.
        if (attempt < 5 && e instanceof LedgerError && e.details?.sqlstate === '23505') continue;
        throw e;
      }
    }
  }

  async update(number: number, change: { labels?: string[]; comments?: { marker: string; body: string }[] }): Promise<void> {
    await this.ledger.withLane(this.lane, async (tx) => {
      const cur = await this.read(tx, 'number', number);
      if (!cur) throw new LedgerError('NOT_FOUND', `no local pull request #${number}`);
      if (change.labels) {
        await tx.recordPullRequest({ handoffId: cur.handoffId, forge: 'local', number, url: cur.url, branch: cur.branch, headSha: cur.headSha, state: cur.state, labels: change.labels });
      }
      for (const c of change.comments ?? []) {
        if (cur.comments.some((x) => x.marker === c.marker)) continue;
        await tx.appendAudit({ action: 'pull_request.commented', subject: cur.handoffId, payload: { forge: 'local', number, marker: c.marker, body: c.body } });
      }
    });
  }

  private async read(tx: LaneTx, by: 'branch' | 'number', value: string | number): Promise<LocalPullRequestRecord | null> {
    const { rows } = await tx.sql.query<Record<string, unknown>>(
      `SELECT p.*, h.title AS handoff_title FROM pull_requests p JOIN handoffs h ON h.id = p.handoff_id WHERE p.forge = 'local' AND p.${by === 'branch' ? 'branch' : 'number'} = $1`,
      [value],
    );
    const r = rows[0];
    if (!r) return null;
    const comments = await tx.auditOf(r.handoff_id as string, { action: 'pull_request.commented' });
    const parse = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
    return {
      handoffId: r.handoff_id as string,
      lane: r.lane as string,
      number: Number(r.number),
      url: r.url as string,
      branch: r.branch as string,
      base: (r.base as string | undefined) ?? '',
      headSha: r.head_sha as string,
      title: (r.title as string | undefined) || ((r.handoff_title as string | undefined) ?? ''),
      body: (r.body as string | undefined) ?? '',
      state: (r.state as LocalPullRequestRecord['state']) ?? 'open',
      labels: parse<string[]>(r.labels) ?? [],
      comments: comments.map(({ payload: p }) => ({ marker: String(p.marker), body: String(p.body) })),
    };
  }
}
