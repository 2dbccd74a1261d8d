import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, MIGRATIONS } from '../../src/ledger/index.js';
import { gatePostgres } from '../support/services.js';
import { embeddedBackend, newHandoff, postgresBackend, type Backend } from './backends.js';

// Audit rows are committed unsealed and chained afterwards by duallane_audit_seal() (migration 5).
// These pin what that must not change: a writer never picks its place or hash, a row is sealed once
// and never edited, everything committed ends up chained in one gapless order, and a forged seal is
// caught by verify-audit.
const pgOk = await gatePostgres();

const backends: [string, () => Promise<Backend>, boolean][] = [
  ['embedded (PGlite)', embeddedBackend, true],
  ['postgres', () => postgresBackend(), pgOk],
];

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message?: string };
  }
  throw new Error('expected a rejection');
}

interface RawRow {
  id: string;
  seq: string | null;
  prev_hash: string | null;
  hash: string | null;
  created_at: Date;
}

describe.each(backends)('sealing the audit chain on %s', (_name, make, enabled) => {
  let b: Backend;
  let codex: Ledger;
  const rowsOf = async (subject: string) =>
    (await b.admin.withAdmin((tx) => tx.sql.query<RawRow>('SELECT id::text AS id, seq::text AS seq, prev_hash, hash, created_at FROM audit_log WHERE subject = $1 ORDER BY id', [subject]))).rows;
  /** A raw insert: nothing schedules a seal for it, as for a process that died after its commit. */
  const rawInsert = (lane: 'codex' | '@admin', subject: string, extra = '') =>
    (lane === 'codex' ? codex.withLane('codex', (tx) => tx.sql.query(`INSERT INTO audit_log (lane, action, subject${extra ? ', seq, prev_hash, hash, created_at' : ''}) VALUES ('codex', 'test.raw', $1${extra}) RETURNING id`, [subject])) : b.admin.withAdmin((tx) => tx.sql.query(`INSERT INTO audit_log (lane, action, subject) VALUES ('@admin', 'test.raw', $1)`, [subject])));

  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    codex = await b.lane('codex');
  });
  afterAll(async () => {
    if (b) await b.close();
  });

  it.skipIf(!enabled)('a writer chooses neither its place, its hashes nor its time: the row is stored unsealed, stamped now()', async () => {
    await rawInsert('codex', 'forged', `, 1, '${'0'.repeat(64)}', '${'f'.repeat(64)}', '2001-01-01T00:00:00Z'`);
    const [row] = await rowsOf('forged');
    expect(row).toMatchObject({ seq: null, prev_hash: null, hash: null });
    expect(Math.abs(row!.created_at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it.skipIf(!enabled)('rows a dead writer left unsealed are chained by the next seal from anyone; verify-audit seals first', async () => {
    await rawInsert('codex', 'orphan-1');
    await rawInsert('@admin', 'orphan-2');
    expect((await rowsOf('orphan-1'))[0]!.seq).toBeNull();
    const sealed = await codex.sealAudit();
    expect(sealed).toBeGreaterThanOrEqual(2);
    const [r1] = await rowsOf('orphan-1');
    const [r2] = await rowsOf('orphan-2');
    expect(Number(r2!.seq)).toBe(Number(r1!.seq) + 1);
    expect(r2!.prev_hash).toBe(r1!.hash);
    await rawInsert('codex', 'orphan-3');
    const report = await b.admin.verifyAudit();
    expect(report).toMatchObject({ ok: true, unsealed: 0 });
    expect((await rowsOf('orphan-3'))[0]!.seq).not.toBeNull();
  });

  it.skipIf(!enabled)('state changes are chained shortly after their commit without anyone asking', async () => {
    const h = newHandoff('auto');
    await codex.withLane('codex', (tx) => tx.insertHandoff(h), { autocommit: true });
    const deadline = Date.now() + 5000;
    while ((await rowsOf(h.id))[0]?.seq === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await rowsOf(h.id))[0]?.seq).not.toBeNull();
  });

  it.skipIf(!enabled)('sealing is the one UPDATE a row ever takes: content edits, re-sealing and deletes are refused, owners included', async () => {
    await rawInsert('@admin', 'guarded');
    const [row] = await rowsOf('guarded');
    const owner = (sql: string) => errorOf(b.admin.withAdmin((tx) => tx.sql.query(sql, [row!.id])));
    // an unsealed row's content cannot change, not even while it is sealed
    expect(await owner(`UPDATE audit_log SET payload = '{"x":1}' WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await owner(`UPDATE audit_log SET seq = 999999, prev_hash = 'a', hash = 'b', subject = 'other' WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    await b.admin.sealAudit();
    // a sealed row cannot be sealed again (or unsealed), nor deleted
    expect(await owner(`UPDATE audit_log SET seq = seq + 1000000 WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await owner(`UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await owner(`DELETE FROM audit_log WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    // a lane has no UPDATE at all
    await rawInsert('codex', 'lane-seal');
    const [mine] = await rowsOf('lane-seal');
    const e = await errorOf(codex.withLane('codex', (tx) => tx.sql.query(`UPDATE audit_log SET seq = 999999, prev_hash = 'a', hash = 'b' WHERE id = $1`, [mine!.id])));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect((await b.admin.verifyAudit()).ok).toBe(true);
  });

  it.skipIf(!enabled)("an owner's forged seal (a hash that is not sha256(prev, content)) is named by verify-audit", async () => {
    await b.admin.sealAudit();
    await rawInsert('@admin', 'forged-seal');
    const [row] = await rowsOf('forged-seal');
    await b.admin.withAdmin(async (tx) => {
      const head = (await tx.sql.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_head')).rows[0]!;
      // sealing-shaped, so the append-only trigger lets it through; the hash is made up
      await tx.sql.query('UPDATE audit_log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1', [row!.id, Number(head.seq) + 1, head.hash, 'e'.repeat(64)]);
    });
    const report = await b.admin.verifyAudit();
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'edited', seq: Number((await rowsOf('forged-seal'))[0]!.seq) })]));
  });
});

describe.each(backends)('lane runs and sealing on %s', (_name, make, enabled) => {
  let b: Backend;
  beforeAll(async () => {
    if (enabled) b = await make();
  });
  afterAll(async () => b && (await b.close()));

  it.skipIf(!enabled)('a recorded lane run is sealed in its own transaction and copied to lane_runs with its seq', async () => {
    const codex = await b.lane('codex');
    const { seq } = await codex.withLane('codex', (tx) => tx.recordLaneRun({ command: ['true'], exitCode: 0, startedAt: new Date(), endedAt: new Date() }));
    expect(seq).toBeGreaterThan(0);
    const runs = await codex.withLane('codex', (tx) => tx.listLaneRuns({ lane: 'codex' }));
    expect(runs).toEqual([expect.objectContaining({ auditSeq: seq, command: ['true'], exitCode: 0 })]);
  });
});

describe.skipIf(!pgOk)('concurrent writers and sealers on postgres', () => {
  let b: Backend;
  beforeAll(async () => {
    b = await postgresBackend();
  });
  afterAll(async () => b && (await b.close()));

  it('every committed row is chained exactly once, in one gapless order, while writers and sealers race', async () => {
    const writers = await Promise.all([b.lane('codex', 4), b.lane('codex', 4)]);
    let stop = false;
    const sealers = [b.admin, writers[0]!, writers[1]!].map(async (l) => {
      while (!stop) await l.sealAudit();
    });
    await Promise.all(
      Array.from({ length: 8 }, (_, w) =>
        (async () => {
          for (let i = 0; i < 40; i++) await writers[w % 2]!.withLane('codex', (tx) => tx.insertHandoff(newHandoff(`c${w}-${i}`)), { autocommit: true });
        })(),
      ),
    );
    stop = true;
    await Promise.all(sealers);
    const report = await b.admin.verifyAudit();
    expect(report).toMatchObject({ ok: true, rows: 320, unsealed: 0, head: { seq: 320 } });
    const seqs = (await b.admin.withAdmin((tx) => tx.sql.query<{ n: number; lo: string; hi: string }>('SELECT count(DISTINCT seq)::int AS n, min(seq)::text AS lo, max(seq)::text AS hi FROM audit_log'))).rows[0]!;
    expect(seqs).toEqual({ n: 320, lo: '1', hi: '320' });
  });
});

describe.skipIf(!pgOk)('migration 5 on a chain written before it', () => {
  it('continues the existing chain: old rows keep their seq and hashes, new rows link to the old head', async () => {
    const b = await postgresBackend({ migrate: false });
    try {
      await b.admin.migrate(MIGRATIONS.filter((m) => m.version < 5));
      await b.admin.applyRoles(b.config);
      const codex = await b.lane('codex');
      // the schema before migration 5 chains in its insert trigger (this code's appendAudit needs id)
      for (let i = 0; i < 3; i++) await codex.withLane('codex', (tx) => tx.sql.query(`INSERT INTO audit_log (lane, action, subject) VALUES ('codex', 'test.old', $1)`, [`old-${i}`]));
      const before = (await b.admin.withAdmin((tx) => tx.sql.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_log ORDER BY seq'))).rows;
      expect(before.map((r) => r.seq)).toEqual(['1', '2', '3']);
      await b.admin.migrate();
      await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff('after')), { autocommit: true });
      const report = await b.admin.verifyAudit();
      expect(report).toMatchObject({ ok: true, rows: 4, head: { seq: 4 } });
      const after = (await b.admin.withAdmin((tx) => tx.sql.query<{ seq: string; prev_hash: string; hash: string }>('SELECT seq::text AS seq, prev_hash, hash FROM audit_log ORDER BY seq'))).rows;
      expect(after.slice(0, 3).map((r) => r.hash)).toEqual(before.map((r) => r.hash));
      expect(after[3]!.prev_hash).toBe(before[2]!.hash);
    } finally {
      await b.close();
    }
  });
});
