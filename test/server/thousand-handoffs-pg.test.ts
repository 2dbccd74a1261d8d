import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/index.js';
import { buildServer } from '../../src/server/index.js';
import { gatePostgres } from '../support/services.js';
import { bearer, GIT_ENV, makeTemplate, workspace, type Workspace } from './fixture.js';

// Issue 4 section 7: N handoffs (default 1,000) proposed and accepted through the API on a real
// PostgreSQL (fresh database and per-run lane roles, dropped afterwards): none lost, none duplicated.
Object.assign(process.env, GIT_ENV);
const ok = await gatePostgres();
const N = Number(process.env.DUALLANE_SERVER_HANDOFFS ?? 1000);
const CONCURRENCY = 4;
const host = process.env.PGHOST ?? '127.0.0.1';
const port = Number(process.env.PGPORT ?? 5432);
const pgUrl = (db: string) => `postgres://postgres@${host}:${port}/${db}`;

/** Runs `fn` over 0..n-1 with at most `limit` in flight; results in index order. */
async function pool<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

describe.skipIf(!ok)(`${N} handoffs through the API on PostgreSQL`, () => {
  const run = randomBytes(4).toString('hex');
  const db = `duallane_server_${run}`;
  let template: { dir: string; cleanup(): void };
  let ledger: Ledger;
  let w: Workspace;
  let roles: string[] = [];

  beforeAll(async () => {
    template = await makeTemplate();
    const root = new pg.Client({ connectionString: pgUrl('postgres') });
    await root.connect();
    await root.query(`CREATE DATABASE ${db}`);
    await root.end();
    // The server connects as the administrator and acts for each request's lane with SET LOCAL ROLE.
    const { loadConfig } = await import('../../src/config/index.js');
    const config = await loadConfig(template.dir);
    for (const lane of config.lanes) lane.db.role = `duallane_${lane.name}_s${run}`;
    roles = config.lanes.map((l) => l.db.role);
    ledger = await Ledger.open({ kind: 'server', url: pgUrl(db) }, { lanes: config.lanes, poolSize: 8 });
    await ledger.migrate();
    await ledger.applyRoles(config);
    w = await workspace(template.dir, { ledger });
    w.config.lanes = config.lanes;
  }, 120_000);

  afterAll(async () => {
    await w?.close();
    await ledger?.close();
    const c = new pg.Client({ connectionString: pgUrl('postgres') });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      for (const r of roles) await c.query(`DROP ROLE IF EXISTS ${r}`);
    } finally {
      await c.end();
    }
    template?.cleanup();
  });

  it('none lost, none duplicated', async () => {
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const started = Date.now();
    const proposed = await pool(N, CONCURRENCY, async (i) => {
      const patch = `diff --git a/notes/n${i}.txt b/notes/n${i}.txt\nnew file mode 100644\n--- /dev/null\n+++ b/notes/n${i}.txt\n@@ -0,0 +1 @@\n+note ${i}\n`;
      const r = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: `note ${i}`, patch } });
      if (r.statusCode !== 201) throw new Error(`propose ${i}: ${r.statusCode} ${r.body}`);
      return r.json() as { id: string; artifactDigest: string };
    });
    const proposeSeconds = (Date.now() - started) / 1000;
    const ids = proposed.map((p) => p.id);
    expect(new Set(ids).size).toBe(N);

    const acceptStarted = Date.now();
    const acceptOne = async (i: number) => {
      const r = await w.app.inject({ method: 'POST', url: `/v1/handoffs/${ids[i]}/accept`, headers: bearer(claude) });
      if (r.statusCode !== 200) throw new Error(`accept ${ids[i]}: ${r.statusCode} ${r.body}`);
      return r.json() as { id: string; state: string; commit: string; branch: string; pr: { number: number } };
    };
    // All accepts concurrent from the first: the first ones race to create the local forge's bare
    // remote, which must be safe (it once failed here with GIT_FAILED on git's config lock).
    const accepted = await pool(N, CONCURRENCY, acceptOne);
    const acceptSeconds = (Date.now() - acceptStarted) / 1000;
    console.log(`server: ${N} handoffs on PostgreSQL, concurrency ${CONCURRENCY}: propose ${(N / proposeSeconds).toFixed(1)}/s, accept ${(N / acceptSeconds).toFixed(1)}/s`);

    expect(accepted.map((a) => a.id)).toEqual(ids);
    expect(accepted.every((a) => a.state === 'pr_opened')).toBe(true);
    expect(new Set(accepted.map((a) => a.commit)).size).toBe(N);
    expect(new Set(accepted.map((a) => a.branch)).size).toBe(N);
    expect(new Set(accepted.map((a) => a.pr.number)).size).toBe(N);

    // The ledger agrees: exactly N handoffs, all opened, each consumed once, one PR each.
    const counts = await ledger.withAdmin(async (tx) => {
      const q = async (sql: string) => Number((await tx.sql.query<{ n: string }>(sql)).rows[0]!.n);
      return {
        handoffs: await q('SELECT count(*)::text AS n FROM handoffs'),
        opened: await q("SELECT count(*)::text AS n FROM handoffs WHERE state = 'pr_opened'"),
        consumed: await q('SELECT count(DISTINCT handoff_id)::text AS n FROM consumed'),
        consumedRows: await q('SELECT count(*)::text AS n FROM consumed'),
        prs: await q('SELECT count(*)::text AS n FROM pull_requests'),
        proposedAudit: await q("SELECT count(*)::text AS n FROM audit_log WHERE action = 'handoff.proposed'"),
      };
    });
    expect(counts).toEqual({ handoffs: N, opened: N, consumed: N, consumedRows: N, prs: N, proposedAudit: N });
    const listed = await w.app.inject({ url: `/v1/handoffs?limit=1000`, headers: bearer(codex) });
    expect((listed.json() as { handoffs: { id: string }[] }).handoffs.map((h) => h.id).sort()).toEqual([...ids].sort().slice(0, 1000));
    // The remote holds one lane branch per handoff, and the audit chain is intact.
    const branches = w.git('--git-dir', '.duallane/remote.git', 'for-each-ref', '--format=%(refname)', 'refs/heads/lane/claude/').split('\n').filter(Boolean);
    expect(branches).toHaveLength(N);
    const audit = await ledger.verifyAudit();
    expect(audit.ok).toBe(true);
  }, 3_600_000);

  it('separated lanes: one server per lane, each logged in to PostgreSQL as its own role', async () => {
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const laneLedger = (role: string) => Ledger.open({ kind: 'server', url: `postgres://${role}@${host}:${port}/${db}` }, { lanes: w.config.lanes, poolSize: 2 });
    const codexLedger = await laneLedger(w.config.lanes.find((l) => l.name === 'codex')!.db.role);
    const claudeLedger = await laneLedger(w.config.lanes.find((l) => l.name === 'claude')!.db.role);
    const proposeApp = buildServer({ config: w.config, ledger: codexLedger, tokens: w.tokens, metrics: w.metrics, onlyLane: 'codex', logger: false });
    const acceptApp = buildServer({ config: w.config, ledger: claudeLedger, tokens: w.tokens, metrics: w.metrics, onlyLane: 'claude', logger: false });
    try {
      expect((await proposeApp.inject({ url: '/readyz' })).statusCode).toBe(200);
      // Each server refuses the other lane's token.
      expect((await proposeApp.inject({ url: '/v1/handoffs?limit=1', headers: bearer(claude) })).statusCode).toBe(403);
      const patch = 'diff --git a/notes/separated.txt b/notes/separated.txt\nnew file mode 100644\n--- /dev/null\n+++ b/notes/separated.txt\n@@ -0,0 +1 @@\n+separated\n';
      const p = await proposeApp.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 'separated', patch } });
      expect(p.statusCode, p.body).toBe(201);
      const id = (p.json() as { id: string }).id;
      const a = await acceptApp.inject({ method: 'POST', url: `/v1/handoffs/${id}/accept`, headers: bearer(claude) });
      expect(a.statusCode, a.body).toBe(200);
      expect(a.json()).toMatchObject({ state: 'pr_opened', pr: { number: N + 1 } });
      // A lane's login may not write alerts: the database refuses it, whatever the server does.
      const alerts = await w.alertsToken();
      const body = { version: '4', groupKey: 'g', truncatedAlerts: 0, status: 'firing', receiver: 'r', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://x', alerts: [] };
      const refused = await proposeApp.inject({ method: 'POST', url: '/v1/alerts', headers: bearer(alerts), payload: body });
      expect([refused.statusCode, (refused.json() as { error: { code: string } }).error.code]).toEqual([403, 'PERMISSION_DENIED']);
    } finally {
      await proposeApp.close();
      await acceptApp.close();
      await codexLedger.close();
      await claudeLedger.close();
    }
  }, 300_000);
});
