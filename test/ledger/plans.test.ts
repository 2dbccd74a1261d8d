import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/index.js';
import type { SqlTx } from '../../src/ledger/driver.js';
import { AUDIT_OF_SUBJECT } from '../../src/ledger/lane-tx.js';
import { gatePostgres } from '../support/services.js';
import { type Backend, bothBackends, newHandoff } from './backends.js';

// The ledger's statements are prepared once per connection, and PostgreSQL keeps a prepared
// statement's generic plan until the table's statistics change. On a new ledger (never analysed) a
// plan that reads the whole table is kept while the table grows, so the two statements every handoff
// runs against a growing table must reach their rows through an index in their generic plans too.
const pgOk = await gatePostgres();

const backends = bothBackends(pgOk);

/** The generic plan of `statement` prepared as `name(types)` and executed with `args`; deallocated after. */
async function genericPlan(sql: SqlTx, name: string, statement: string, types = '', args = ''): Promise<string> {
  await sql.exec('SET LOCAL plan_cache_mode = force_generic_plan');
  await sql.exec(`PREPARE ${name}${types} AS ${statement}`);
  const { rows } = await sql.query(`SELECT 1 FROM pg_prepared_statements WHERE name = '${name}'`);
  expect(rows, `one prepared statement ${name}`).toHaveLength(1);
  const plan = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${name}${args}`);
  await sql.exec(`DEALLOCATE ${name}`);
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/**
 * The generic plan of the query inside duallane_next_pending(), planned as the function plans it
 * (`withFunctionSettings`: under the function's own SET clauses) or as a plain prepared statement.
 */
async function takePlan(sql: SqlTx, withFunctionSettings: boolean): Promise<string> {
  const { rows } = await sql.query<{ src: string; config: string[] | null }>(`SELECT prosrc AS src, proconfig AS config FROM pg_proc WHERE proname = 'duallane_next_pending'`);
  const query = /RETURN QUERY (SELECT[^;]*)/.exec(rows[0]!.src)?.[1];
  expect(query, 'the query in duallane_next_pending()').toContain('FOR UPDATE SKIP LOCKED');
  if (withFunctionSettings) {
    expect(rows[0]!.config).toContain('enable_sort=off');
    for (const c of rows[0]!.config!) {
      const [k, v] = c.split('=');
      await sql.exec(`SET LOCAL ${k} = ${v}`);
    }
  }
  return genericPlan(sql, 'dl_take', query!);
}

describe.each(backends)('generic plans on a never-analysed ledger on %s', (_name, make, enabled) => {
  let b: Backend;
  let claude: Ledger;
  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    // Never analysed for the whole file: an autoanalyze would change the plans under test.
    await b.admin.withAdmin((tx) => tx.sql.exec('ALTER TABLE handoffs SET (autovacuum_enabled = off)'));
    claude = await b.lane('claude', 1);
    const codex = await b.lane('codex', 1);
    for (let i = 0; i < 40; i++) await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff(i)));
  });
  afterAll(async () => {
    if (b) await b.close();
  });

  it.skipIf(!enabled)('the execute lane takes the next pending handoff through the queue index, not a scan and a sort', async () => {
    const plan = await claude.withLane('claude', async (tx) => {
      expect(await tx.lockProposed({ next: true })).not.toBeNull();
      return takePlan(tx.sql, true);
    });
    expect(plan).toMatch(/Index Scan using handoffs_queue on handoffs/);
    expect(plan).not.toMatch(/Seq Scan on handoffs|Sort/);
  });

  // What the handoff benchmark hit: on a never-analysed ledger PostgreSQL sizes the table from its
  // pages when a connection builds its generic plan, and with a queue of a page or two the cheapest
  // plan is a bitmap scan and a sort. A connection that planned then kept that plan while the queue
  // grew to thousands, reading and sorting all of it for every take (half the rate in such runs). The
  // take's function plans without sorting: it walks the index and stops at the first row it can lock.
  it.skipIf(!enabled)('the take walks the queue index even when the plain query, planned on a short queue, would sort it', async () => {
    const first = await claude.withLane('claude', (tx) => tx.lockProposed({ next: true }));
    // Grow the queue 50 rows at a time until the plain query's plan sorts (about 250 rows on
    // PostgreSQL 15; where exactly depends on the server's version and page layout).
    let plain = '';
    let rows = 0;
    while (!/Sort/.test(plain) && rows < 1500) {
      await b.admin.withAdmin((tx) =>
        tx.sql.exec(`INSERT INTO handoffs (id, proposer_lane, statement_digest, artifact_digest, bundle_path, artifact_path, base_commit, target_branch, expires_at, title, nonce)
          SELECT 'z' || g, 'codex', 'sha256:' || md5('s' || g) || md5('t' || g), 'sha256:' || md5('a' || g) || md5('b' || g),
            '.duallane/store/sha256/' || md5('a' || g) || md5('b' || g), '.duallane/store/sha256/' || md5('c' || g) || md5('d' || g),
            md5('c' || g) || 'abcdefgh', 'main', now() + interval '1 hour', 'a handoff title', md5('n' || g)
          FROM generate_series(${rows + 1}, ${rows + 50}) g`),
      );
      rows += 50;
      plain = await claude.withLane('claude', (tx) => takePlan(tx.sql, false));
    }
    expect(plain, `the plain query sorts the queue at some length up to ${rows} rows`).toMatch(/Sort/);
    const { take, taken } = await claude.withLane('claude', async (tx) => ({ take: await takePlan(tx.sql, true), taken: await tx.lockProposed({ next: true }) }));
    expect(take).toMatch(/Index Scan using handoffs_queue on handoffs/);
    expect(take).not.toMatch(/Sort|Seq Scan on handoffs|Bitmap/);
    expect(taken?.id, 'still the oldest pending handoff').toBe(first?.id);
  });

  it.skipIf(!enabled)("sealing updates the rows it chained through the unsealed rows' index, not a join over the whole log", async () => {
    await b.admin.sealAudit();
    const plan = await b.admin.withAdmin(async (tx) => {
      const { rows } = await tx.sql.query<{ src: string }>(`SELECT prosrc AS src FROM pg_proc WHERE proname = 'duallane_audit_seal'`);
      const update = /UPDATE public\.audit_log a SET[^;]*/.exec(rows[0]!.src)?.[0];
      expect(update, 'the UPDATE in duallane_audit_seal()').toContain('unnest(ids, seqs, prevs, hashes)');
      return genericPlan(tx.sql, 'dl_seal_update', update!.replace('unnest(ids, seqs, prevs, hashes)', 'unnest($1, $2, $3, $4)'), '(bigint[], bigint[], text[], text[])', '(NULL, NULL, NULL, NULL)');
    });
    expect(plan).toMatch(/audit_log_unsealed/);
    expect(plan).not.toMatch(/Seq Scan on audit_log/);
  });

  // handoff trace and the local forge's comments read one handoff's audit rows by subject; the
  // log only grows, so that read must not scan it.
  it.skipIf(!enabled)("a handoff's audit rows are read through the subject index, not a scan of the log", async () => {
    await b.admin.withAdmin((tx) =>
      tx.sql.exec(`INSERT INTO audit_log (lane, action, subject, payload) SELECT 'codex', 'handoff.proposed', 'other-' || g, '{}'::jsonb FROM generate_series(1, 3000) g`),
    );
    const plan = await claude.withLane('claude', async (tx) => {
      expect(await tx.auditOf('other-7')).toEqual([{ lane: 'codex', action: 'handoff.proposed', payload: {} }]);
      expect(await tx.auditOf('other-7', { action: 'pull_request.commented' })).toEqual([]);
      return genericPlan(tx.sql, 'dl_audit_of', AUDIT_OF_SUBJECT, '(text, text)', "('other-7', NULL)");
    });
    expect(plan).toMatch(/audit_log_subject/);
    expect(plan).not.toMatch(/Seq Scan on audit_log/);
  });
});
