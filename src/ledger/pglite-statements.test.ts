import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteStatements } from './pglite-statements.js';

describe('PgliteStatements (prepared once, one protocol exchange per call)', () => {
  let db: PGlite;
  let st: PgliteStatements;
  beforeAll(async () => {
    db = await PGlite.create();
    st = await PgliteStatements.create(db);
    await db.exec("CREATE TABLE t (id int PRIMARY KEY, doc jsonb NOT NULL, at timestamptz NOT NULL DEFAULT '2026-01-02T03:04:05Z')");
  }, 60_000);
  afterAll(() => db?.close());

  it('returns rows exactly as PGlite query does (types parsed), repeatedly', async () => {
    for (let i = 1; i <= 3; i++) {
      const r = await st.query<{ id: number; doc: unknown; at: Date }>('INSERT INTO t (id, doc) VALUES ($1, $2::jsonb) RETURNING *', [i, JSON.stringify({ n: i })]);
      expect(r.rows).toEqual((await db.query('SELECT * FROM t WHERE id = $1', [i])).rows);
      expect(r.rows[0]).toMatchObject({ id: i, doc: { n: i } });
      expect(r.rowCount).toBe(1);
    }
    expect((await st.query('SELECT count(*)::int AS n FROM t WHERE id > $1', [0])).rows).toEqual([{ n: 3 }]);
    expect((await st.query('SELECT id FROM t WHERE id > $1', [0])).rowCount).toBe(3);
  });

  it('passes NULLs and reports database errors with their SQLSTATE and constraint', async () => {
    expect((await st.query('SELECT $1::text IS NULL AS isnull', [null])).rows).toEqual([{ isnull: true }]);
    const e = await st.query('INSERT INTO t (id, doc) VALUES ($1, $2::jsonb)', [1, '{}']).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: '23505', constraint: 't_pkey' });
    // The session is usable afterwards (Sync went with the failing message).
    expect((await st.query('SELECT $1::int + 1 AS v', [1])).rows).toEqual([{ v: 2 }]);
  });

  it('after reset(), a statement is prepared again and sees DDL that changed its result', async () => {
    const before = (await st.query<Record<string, unknown>>('SELECT * FROM t WHERE id = $1', [1])).rows[0]!;
    expect(Object.keys(before)).not.toContain('extra');
    await db.exec("ALTER TABLE t ADD COLUMN extra text NOT NULL DEFAULT 'x'");
    await st.reset();
    expect((await st.query<Record<string, unknown>>('SELECT * FROM t WHERE id = $1', [1])).rows[0]).toMatchObject({ id: 1, extra: 'x' });
  });

  it('after forget() (a failed script), statements are prepared again under new names', async () => {
    expect((await st.query('SELECT $1::int AS v', [5])).rows).toEqual([{ v: 5 }]);
    st.forget(); // the old statement still exists in the session: a new generation must not collide
    expect((await st.query('SELECT $1::int AS v', [6])).rows).toEqual([{ v: 6 }]);
  });

  it('refuses a parameter count that does not fit the statement', async () => {
    await expect(st.query('SELECT $1::int AS v', [1, 2])).rejects.toThrow(/expects 1 parameters, got 2/);
  });
});
