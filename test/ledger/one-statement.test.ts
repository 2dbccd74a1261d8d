import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/index.js';
import { gatePostgres } from '../support/services.js';
import { type Backend, bothBackends, errorOf, newHandoff } from './backends.js';

// A state change and its audit row are ONE statement: both or neither, whatever fails. These pin the
// negative cases (replays, wrong states) of the one-statement methods, autocommit included.
const pgOk = await gatePostgres();

const backends = bothBackends(pgOk);

describe.each(backends)('one-statement state changes on %s', (_name, make, enabled) => {
  let b: Backend;
  let codex: Ledger;
  let claude: Ledger;
  const audit = async (subject: string) => (await b.admin.withAdmin((tx) => tx.listAudit())).filter((r) => r.subject === subject).map((r) => r.action);
  const consumedBy = async (handoffId: string) => (await b.admin.withAdmin((tx) => tx.sql.query('SELECT 1 FROM consumed WHERE handoff_id = $1', [handoffId]))).rows.length;

  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    codex = await b.lane('codex');
    claude = await b.lane('claude');
  });
  afterAll(async () => {
    if (b) await b.close();
  });

  it.skipIf(!enabled)('a proposal replayed by id, statement digest or nonce is REPLAY and writes no second audit row', async () => {
    const h = newHandoff('r');
    await codex.withLane('codex', (tx) => tx.insertHandoff(h), { autocommit: true });
    const other = newHandoff('r2');
    for (const [which, replay] of [
      ['id', { ...other, id: h.id }],
      ['statement_digest', { ...other, statementDigest: h.statementDigest }],
      ['nonce', { ...other, nonce: h.nonce }],
    ] as const) {
      const e = await errorOf(codex.withLane('codex', (tx) => tx.insertHandoff(replay), { autocommit: true }));
      expect(e.code, which).toBe('REPLAY');
      expect(e.details?.which, which).toBe(which);
    }
    expect(await audit(h.id)).toEqual(['handoff.proposed']);
    expect(await audit(other.id)).toEqual([]);
  });

  it.skipIf(!enabled)('consumeAndTransition: a used nonce is REPLAY, naming the handoff that used it; nothing of the second is written', async () => {
    const first = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff('c1')));
    const second = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff('c2')));
    await claude.withLane('claude', async (tx) => {
      expect(await tx.lockProposed({ id: first.id })).toMatchObject({ id: first.id });
      return tx.consumeAndTransition(first.id, { statementDigest: first.statementDigest, nonce: first.nonce! }, 'proposed', 'verified');
    });
    // The second handoff presents the first one's nonce.
    const e = await errorOf(
      claude.withLane('claude', (tx) => tx.consumeAndTransition(second.id, { statementDigest: second.statementDigest, nonce: first.nonce! }, 'proposed', 'verified'), { autocommit: true }),
    );
    expect(e).toMatchObject({ code: 'REPLAY', details: { which: 'nonce', consumedBy: first.id } });
    expect(await b.admin.withAdmin((tx) => tx.getHandoff(second.id))).toMatchObject({ state: 'proposed', executorLane: null });
    expect(await consumedBy(second.id)).toBe(0);
    expect(await audit(second.id)).toEqual(['handoff.proposed']);
    expect(await audit(first.id)).toEqual(['handoff.proposed', 'handoff.verified']);
  });

  it.skipIf(!enabled)('consumeAndTransition from the wrong state is STATE_CONFLICT and consumes nothing', async () => {
    const h = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff('w')));
    const e = await errorOf(claude.withLane('claude', (tx) => tx.consumeAndTransition(h.id, { statementDigest: h.statementDigest, nonce: h.nonce! }, 'verified', 'applied'), { autocommit: true }));
    expect(e).toMatchObject({ code: 'STATE_CONFLICT', details: { actual: 'proposed' } });
    expect(await consumedBy(h.id)).toBe(0);
    expect(await audit(h.id)).toEqual(['handoff.proposed']);
  });

  it.skipIf(!enabled)('openPullRequest records the PR and moves to pr_opened together, or neither when the state is wrong', async () => {
    const h = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff('p')));
    const pr = { handoffId: h.id, forge: 'local', number: 7001, url: 'file:///remote#pull/7001', branch: `lane/claude/${h.id}`, headSha: 'a'.repeat(40), base: 'main', title: 'T', body: 'B' };
    const wrong = await errorOf(claude.withLane('claude', (tx) => tx.openPullRequest(pr, 'applied'), { autocommit: true }));
    expect(wrong).toMatchObject({ code: 'STATE_CONFLICT', details: { actual: 'proposed' } });
    expect(await b.admin.withAdmin((tx) => tx.getPullRequest(h.id))).toBeNull();

    await claude.withLane('claude', async (tx) => {
      await tx.consumeAndTransition(h.id, { statementDigest: h.statementDigest, nonce: h.nonce! }, 'proposed', 'verified');
      await tx.transitionHandoff(h.id, 'verified', 'applied', { branch: pr.branch, commit: pr.headSha });
    });
    const opened = await claude.withLane('claude', (tx) => tx.openPullRequest(pr, 'applied', { meta: { labels: ['x'] } }), { autocommit: true });
    expect(opened.handoff).toMatchObject({ state: 'pr_opened', prNumber: 7001, prUrl: pr.url, meta: { labels: ['x'] } });
    expect(opened.pullRequest).toMatchObject({ number: 7001, base: 'main', title: 'T', body: 'B', lane: 'claude' });
    expect(await audit(h.id)).toEqual(['handoff.proposed', 'handoff.verified', 'handoff.applied', 'handoff.pr_opened']);
    // Done once: a second attempt changes nothing.
    expect((await errorOf(claude.withLane('claude', (tx) => tx.openPullRequest(pr, 'applied')))).code).toBe('STATE_CONFLICT');
    expect(await audit(h.id)).toHaveLength(4);
    const row = await b.admin.withAdmin((tx) => tx.sql.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM audit_log WHERE subject = $1 AND action = 'handoff.pr_opened'`, [h.id]));
    expect(row.rows[0]!.payload).toMatchObject({ from: ['applied'], to: 'pr_opened', prNumber: 7001, pullRequest: { forge: 'local', number: 7001, url: pr.url, headSha: pr.headSha } });
    expect((await b.admin.verifyAudit()).ok).toBe(true);
  });

  it.skipIf(!enabled)("a proposal whose times JavaScript cannot read as JSON text (year 10000) is taken like any other, not jamming the queue", async () => {
    const id = `far-${Date.now()}`;
    await codex.withLane('codex', (tx) =>
      tx.sql.query(
        `INSERT INTO handoffs (id, proposer_lane, statement_digest, artifact_digest, bundle_path, artifact_path, base_commit, target_branch, expires_at, created_at, nonce)
         VALUES ($1, 'codex', $2, 'sha256:a', 'b', 'a', 'c', 'main', '10000-01-01T00:00:00Z', '1999-01-01T00:00:00Z', $3)`,
        [id, `sha256:${id}`, `nonce-${id}`],
      ),
    );
    const taken = await claude.withLane('claude', (tx) => tx.lockProposed({ next: true }));
    expect(taken).toMatchObject({ id, expiresAt: '+010000-01-01T00:00:00.000Z', createdAt: '1999-01-01T00:00:00.000Z' });
    const rejected = await claude.withLane('claude', (tx) => tx.transitionHandoff(id, 'proposed', 'rejected', { rejectReason: 'EXPIRED' }));
    expect(rejected).toMatchObject({ state: 'rejected', expiresAt: '+010000-01-01T00:00:00.000Z' });
  });

  it.skipIf(!enabled)('lockProposed({ next }) skips a proposal another executor holds (postgres) and never returns a non-proposed one', async () => {
    const a = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff('n1')));
    if (b.name === 'postgres') {
      const other = await b.lane('claude', 2);
      try {
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let lockedByFirst: string | undefined;
        const first = claude.withLane('claude', async (tx) => {
          lockedByFirst = (await tx.lockProposed({ next: true }))?.id;
          await held;
        });
        while (lockedByFirst === undefined) await new Promise((r) => setTimeout(r, 10));
        const seen = await other.withLane('claude', (tx) => tx.lockProposed({ next: true }));
        expect(seen?.id).not.toBe(lockedByFirst);
        release();
        await first;
      } finally {
        await other.close();
      }
    }
    // Whatever the backend: once moved on, it is not offered again.
    await claude.withLane('claude', (tx) => tx.consumeAndTransition(a.id, { statementDigest: a.statementDigest, nonce: a.nonce! }, 'proposed', 'verified'));
    expect(await claude.withLane('claude', (tx) => tx.lockProposed({ id: a.id }))).toBeNull();
    const pending = await claude.withLane('claude', (tx) => tx.lockProposed({ next: true }));
    expect(pending?.state ?? 'proposed').toBe('proposed');
    expect(pending?.id).not.toBe(a.id);
  });

  it.skipIf(!enabled)('a failing script reports its own error, and parameterized statements keep working afterwards', async () => {
    await expect(b.admin.withAdmin((tx) => tx.sql.exec('SELECT 1/0'))).rejects.toThrow(/division by zero/);
    const h = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff('after-error')), { autocommit: true });
    expect(await b.admin.withAdmin((tx) => tx.getHandoff(h.id))).toMatchObject({ id: h.id, state: 'proposed' });
  });

  it.skipIf(!enabled || _name === 'postgres')('embedded: using the ledger from inside its own transaction is an error, not a hang', async () => {
    const e = await errorOf(b.admin.withAdmin(() => b.admin.withAdmin((tx) => tx.listAudit())));
    expect(String((e as Error).message)).toMatch(/nested use of the embedded ledger/);
    // and the ledger is usable afterwards
    expect(Array.isArray(await b.admin.withAdmin((tx) => tx.listAudit()))).toBe(true);
  });
});
