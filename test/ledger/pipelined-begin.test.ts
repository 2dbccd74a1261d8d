import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatePostgres } from '../support/services.js';
import { type Backend, bothBackends, errorOf } from './backends.js';

// On PostgreSQL a transaction's BEGIN travels with its first statement (node-postgres pipelining, one
// socket write). What must not change: a transaction is all or nothing, a failed statement is the
// error reported, and a transaction in which a statement failed never reports success.
const pgOk = await gatePostgres();

const backends = bothBackends(pgOk);

describe.each(backends)('transactions with a pipelined BEGIN on %s', (_name, make, enabled) => {
  let b: Backend;
  const rows = async () => (await b.admin.withAdmin((tx) => tx.sql.query<{ k: string }>('SELECT k FROM pipelined ORDER BY k'))).rows.map((r) => r.k);
  const insert = 'INSERT INTO pipelined (k) VALUES ($1)';
  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    await b.admin.withAdmin((tx) => tx.sql.exec('CREATE TABLE pipelined (k text PRIMARY KEY)'));
  });
  afterAll(async () => {
    if (b) await b.close();
  });

  it.skipIf(!enabled)('keeps every statement of a transaction that succeeds', async () => {
    await b.admin.withAdmin(async (tx) => {
      await tx.sql.query(insert, ['a1']);
      await tx.sql.query(insert, ['a2']);
    });
    expect(await rows()).toEqual(['a1', 'a2']);
  });

  it.skipIf(!enabled)('keeps nothing of a transaction whose first statement fails, and reports that statement', async () => {
    const e = await errorOf(b.admin.withAdmin((tx) => tx.sql.query(insert, ['a1'])));
    expect(e.message).toMatch(/duplicate key|unique/i);
    const f = await errorOf(
      b.admin.withAdmin(async (tx) => {
        await tx.sql.query(insert, ['b1']);
        await tx.sql.query(insert, ['a1']);
      }),
    );
    expect(f.message).toMatch(/duplicate key|unique/i);
    expect(await rows()).toEqual(['a1', 'a2']);
  });

  it.skipIf(!enabled)('a transaction in which a statement failed (and was caught) is rolled back and says so', async () => {
    const e = await errorOf(
      b.admin.withAdmin(async (tx) => {
        await tx.sql.query(insert, ['c1']);
        await tx.sql.query(insert, ['a1']).catch(() => undefined);
      }),
    );
    expect(e).toMatchObject({ code: 'QUERY_FAILED', message: expect.stringMatching(/rolled back/) });
    expect(await rows()).toEqual(['a1', 'a2']);
  });

  it.skipIf(!enabled)('a transaction that sends nothing, and one that only reads, work', async () => {
    expect(await b.admin.withAdmin(async () => 42)).toBe(42);
    expect(await b.admin.withAdmin(async (tx) => (await tx.sql.query<{ n: number }>('SELECT 1 AS n', [])).rows[0]!.n)).toBe(1);
  });
});
