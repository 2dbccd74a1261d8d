import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, MIGRATIONS } from '../../src/ledger/index.js';
import { gatePostgres } from '../support/services.js';
import { type Backend, bothBackends, errorOf, newHandoff, postgresBackend } from './backends.js';

// Audit rows are committed unsealed and chained afterwards by duallane_audit_seal() (migration 5).
// These pin what that must not change: a writer never picks its place or hash, a row is sealed once
// and never edited, everything committed ends up chained in one gapless order, and a forged seal is
// caught by verify-audit.
const pgOk = await gatePostgres();

const backends = bothBackends(pgOk);

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

  it.skipIf(!enabled)('a writer chooses neither its place, its hashes nor its time: a row bringing any of them is refused', async () => {
    const forged = [
      `, 1, NULL, NULL, now()`,
      `, NULL, '${'0'.repeat(64)}', NULL, now()`,
      `, NULL, NULL, '${'f'.repeat(64)}', now()`,
      `, NULL, NULL, NULL, '2001-01-01T00:00:00Z'`,
    ];
    for (const extra of forged) expect(await errorOf(rawInsert('codex', 'forged', extra)), extra).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await rowsOf('forged')).toEqual([]);
    await rawInsert('codex', 'plain');
    const [row] = await rowsOf('plain');
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
    expect(await rowsOf(h.id)).toHaveLength(1);
    while ((await rowsOf(h.id))[0]!.seq === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await rowsOf(h.id))[0]!.seq).toMatch(/^\d+$/);
  });

  it.skipIf(!enabled)('sealing is the one UPDATE a row ever takes: content edits, re-sealing and deletes are refused, owners included', async () => {
    await rawInsert('@admin', 'guarded');
    const [row] = await rowsOf('guarded');
    const owner = (sql: string, sealing = false) =>
      errorOf(
        b.admin.withAdmin(async (tx) => {
          if (sealing) await tx.sql.query(`SELECT set_config('duallane.sealing', 'on', true)`);
          return tx.sql.query(sql, [row!.id]);
        }),
      );
    const seal = `seq = 999999, prev_hash = 'a', hash = 'b'`;
    // outside duallane_audit_seal() not even a well-formed seal is accepted
    expect(await owner(`UPDATE audit_log SET ${seal} WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    // an unsealed row's content cannot change, not even while it is sealed: each column, and a payload
    // that is equal as jsonb but not as text (what is hashed)
    expect(await owner(`UPDATE audit_log SET payload = '{"x":1}' WHERE id = $1`, true)).toMatchObject({ code: 'PERMISSION_DENIED' });
    for (const change of [`subject = 'other'`, `lane = 'claude'`, `action = 'other'`, `created_at = created_at - interval '1 day'`]) {
      expect(await owner(`UPDATE audit_log SET ${seal}, ${change} WHERE id = $1`, true), change).toMatchObject({ code: 'PERMISSION_DENIED' });
    }
    await b.admin.withAdmin((tx) => tx.sql.query(`INSERT INTO audit_log (lane, action, subject, payload) VALUES ('@admin', 'test.raw', 'guarded-json', '{"n":1}')`));
    const [json] = await rowsOf('guarded-json');
    expect(
      await errorOf(
        b.admin.withAdmin(async (tx) => {
          await tx.sql.query(`SELECT set_config('duallane.sealing', 'on', true)`);
          await tx.sql.query(`UPDATE audit_log SET payload = '{"n":1.0}', ${seal} WHERE id = $1`, [json!.id]);
        }),
      ),
    ).toMatchObject({ code: 'PERMISSION_DENIED' });
    await b.admin.sealAudit();
    // a sealed row cannot be sealed again (or unsealed), nor deleted
    expect(await owner(`UPDATE audit_log SET seq = seq + 1000000 WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await owner(`UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await owner(`DELETE FROM audit_log WHERE id = $1`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    // a lane has no UPDATE at all (refused by privilege before any trigger)
    await rawInsert('codex', 'lane-seal');
    const [mine] = await rowsOf('lane-seal');
    const e = await errorOf(codex.withLane('codex', (tx) => tx.sql.query(`UPDATE audit_log SET seq = 999999, prev_hash = 'a', hash = 'b' WHERE id = $1`, [mine!.id])));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect((await b.admin.verifyAudit()).ok).toBe(true);
  });

  it.skipIf(!enabled)('only sealers may seal: the function is not PUBLIC, every lane role is granted it', async () => {
    const { rows } = await b.admin.withAdmin((tx) =>
      tx.sql.query<{ role: string; ok: boolean }>(
        `SELECT r.rolname AS role, has_function_privilege(r.oid, 'duallane_audit_seal()', 'EXECUTE') AS ok FROM pg_roles r WHERE r.rolname = ANY($1::text[])`,
        [b.config.lanes.map((l) => l.db.role)],
      ),
    );
    expect(rows.map((r) => r.ok)).toEqual(b.config.lanes.map(() => true));
    const acl = await b.admin.withAdmin((tx) => tx.sql.query<{ acl: string }>(`SELECT proacl::text AS acl FROM pg_proc WHERE proname = 'duallane_audit_seal'`));
    expect(acl.rows[0]!.acl).not.toMatch(/[{,]=X/);
  });

  it.skipIf(!enabled)("an owner's hand-made seal is named by verify-audit, which reports the jammed chain instead of throwing", async () => {
    await b.admin.sealAudit();
    await rawInsert('@admin', 'forged-seal');
    const [row] = await rowsOf('forged-seal');
    await b.admin.withAdmin(async (tx) => {
      const head = (await tx.sql.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_head')).rows[0]!;
      // an owner can pose as the sealer; the hash is made up and the head is not moved
      await tx.sql.query(`SELECT set_config('duallane.sealing', 'on', true)`);
      await tx.sql.query('UPDATE audit_log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1', [row!.id, Number(head.seq) + 1, head.hash, 'e'.repeat(64)]);
    });
    await rawInsert('@admin', 'after-forged-seal');
    const report = await b.admin.verifyAudit();
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'edited', seq: Number((await rowsOf('forged-seal'))[0]!.seq) })]));
    // the next row cannot take the forged row's place, so sealing fails, and says so
    expect(report.sealError).toMatch(/duplicate|unique/i);
    expect(report.unsealed).toBeGreaterThanOrEqual(1);
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

describe.skipIf(!pgOk)('appendAudit sealing inside its transaction while others seal on postgres', () => {
  let b: Backend;
  beforeAll(async () => {
    b = await postgresBackend();
  });
  afterAll(async () => b && (await b.close()));

  it('each appended row gets the seq and hash it is stored with, and the chain stays whole', async () => {
    const codex = await b.lane('codex', 6);
    let stop = false;
    const sealer = (async () => {
      while (!stop) await b.admin.sealAudit();
    })();
    const hot = (async () => {
      for (let i = 0; i < 60; i++) await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff(`a${i}`)), { autocommit: true });
    })();
    const appended = await Promise.all(Array.from({ length: 60 }, (_, i) => codex.withLane('codex', (tx) => tx.appendAudit({ action: 'test.append', subject: `ap-${i}` }))));
    await hot;
    stop = true;
    await sealer;
    const stored = await b.admin.withAdmin((tx) => tx.sql.query<{ subject: string; seq: string; hash: string }>(`SELECT subject, seq::text AS seq, hash FROM audit_log WHERE action = 'test.append'`));
    const bySubject = new Map(stored.rows.map((r) => [r.subject, r]));
    appended.forEach((a, i) => expect(bySubject.get(`ap-${i}`)).toEqual({ subject: `ap-${i}`, seq: String(a.seq), hash: a.hash }));
    expect(await b.admin.verifyAudit()).toMatchObject({ ok: true, rows: 120, unsealed: 0 });
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
      // the lane role applied before the migration may seal without a second `db roles apply`
      await expect(codex.sealAudit()).resolves.toBeGreaterThanOrEqual(0);
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
