import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/index.js';
import type { SqlTx } from '../../src/ledger/driver.js';
import { gatePostgres } from '../support/services.js';
import { type Backend, bothBackends, newHandoff } from './backends.js';

// The ledger's statements are prepared once per connection, and PostgreSQL keeps a prepared
// statement's generic plan until the table's statistics change. On a new ledger (never analysed) a
// plan that reads the whole table is kept while the table grows, so the two statements every handoff
// runs against a growing table must reach their rows through an index in their generic plans too.
const pgOk = await gatePostgres();

const backends = bothBackends(pgOk);

async function genericPlan(sql: SqlTx, statementLike: string, args = ''): Promise<string> {
  const { rows } = await sql.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE statement LIKE '${statementLike}'`);
  expect(rows, `one prepared statement like ${statementLike}`).toHaveLength(1);
  const plan = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${rows[0]!.name}${args}`);
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe.each(backends)('generic plans on a never-analysed ledger on %s', (_name, make, enabled) => {
  let b: Backend;
  let claude: Ledger;
  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    claude = await b.lane('claude', 1);
    const codex = await b.lane('codex', 1);
    for (let i = 0; i < 40; i++) await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff(i)));
  });
  afterAll(async () => {
    if (b) await b.close();
  });

  it.skipIf(!enabled)('the execute lane takes the next pending handoff through the queue index, not a scan and a sort', async () => {
    const plan = await claude.withLane('claude', async (tx) => {
      await tx.sql.exec('SET LOCAL plan_cache_mode = force_generic_plan');
      expect(await tx.lockProposed({ next: true })).not.toBeNull();
      return genericPlan(tx.sql, '%FOR UPDATE SKIP LOCKED');
    });
    expect(plan).toMatch(/Index Scan using handoffs_queue on handoffs/);
    expect(plan).not.toMatch(/Seq Scan on handoffs|Sort/);
  });

  it.skipIf(!enabled)("sealing updates the rows it chained through the unsealed rows' index, not a join over the whole log", async () => {
    await b.admin.sealAudit();
    const plan = await b.admin.withAdmin(async (tx) => {
      const { rows } = await tx.sql.query<{ src: string }>(`SELECT prosrc AS src FROM pg_proc WHERE proname = 'duallane_audit_seal'`);
      const update = /UPDATE public\.audit_log a SET[^;]*/.exec(rows[0]!.src)?.[0];
      expect(update, 'the UPDATE in duallane_audit_seal()').toContain('unnest(ids, seqs, prevs, hashes)');
      await tx.sql.exec('SET LOCAL plan_cache_mode = force_generic_plan');
      await tx.sql.exec(`PREPARE dl_seal_update(bigint[], bigint[], text[], text[]) AS ${update!.replace('unnest(ids, seqs, prevs, hashes)', 'unnest($1, $2, $3, $4)')}`);
      const text = await genericPlan(tx.sql, '%SET seq = u.seq%', '(NULL, NULL, NULL, NULL)');
      await tx.sql.exec('DEALLOCATE dl_seal_update');
      return text;
    });
    expect(plan).toMatch(/audit_log_unsealed/);
    expect(plan).not.toMatch(/Seq Scan on audit_log/);
  });
});
