import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_TABLES, checkLaneDbPrivileges, type Ledger } from '../../src/ledger/index.js';
import { gatePostgres } from '../support/services.js';
import { type Backend, bothBackends, newHandoff } from './backends.js';

const pgOk = await gatePostgres();

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

const backends = bothBackends(pgOk);

describe.each(backends)('lane roles on %s', (_name, make, enabled) => {
  let b: Backend;
  let codex: Ledger;
  let claude: Ledger;
  let handoffId: string;

  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    codex = await b.lane('codex');
    claude = await b.lane('claude');
    const h = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff(1)));
    handoffId = h.id;
    await claude.withLane('claude', (tx) => tx.appendAudit({ action: 'test.claude', subject: 'x' }));
  });
  afterAll(async () => {
    if (b) await b.close();
  });

  it.skipIf(!enabled)('codex: every UPDATE, DELETE and TRUNCATE on every table is refused', async () => {
    const cols: Record<string, string> = { duallane_lanes: 'name', handoffs: 'state', consumed: 'nonce', pull_requests: 'state', lane_runs: 'lane', alerts: 'name', audit_log: 'action', audit_head: 'hash', schema_migrations: 'name' };
    const outcomes: Record<string, string> = {};
    for (const table of LEDGER_TABLES) {
      for (const sql of [`UPDATE ${table} SET ${cols[table]} = ${cols[table]}`, `DELETE FROM ${table}`, `TRUNCATE ${table}`]) {
        outcomes[sql] = await codeOf(codex.withLane('codex', (tx) => tx.sql.query(sql)));
      }
    }
    expect(Object.values(outcomes).every((c) => c === 'PERMISSION_DENIED'), JSON.stringify(outcomes, null, 1)).toBe(true);
    expect(Object.keys(outcomes)).toHaveLength(LEDGER_TABLES.length * 3);
    // and the rows are still there
    expect(await b.admin.withAdmin((tx) => tx.getHandoff(handoffId))).toMatchObject({ state: 'proposed' });
  });

  it.skipIf(!enabled)("codex: may write its own audit rows, not another lane's", async () => {
    expect(await codeOf(codex.withLane('codex', (tx) => tx.appendAudit({ action: 'test.own' })))).toBe('OK');
    expect(await codeOf(codex.withLane('codex', (tx) => tx.sql.query("INSERT INTO audit_log (lane, action) VALUES ('claude', 'forged')")))).toBe('PERMISSION_DENIED');
    expect(await codeOf(codex.withLane('codex', (tx) => tx.sql.query("INSERT INTO handoffs (id, proposer_lane, statement_digest, artifact_digest, bundle_path, artifact_path, base_commit, target_branch, expires_at) VALUES ('x', 'other', 'd', 'a', 'b', 'p', 'c', 'main', now())")))).toBe(
      'PERMISSION_DENIED',
    );
  });

  it.skipIf(!enabled)('codex: cannot move handoff states or consume digests', async () => {
    expect(await codeOf(codex.withLane('codex', (tx) => tx.transitionHandoff(handoffId, 'proposed', 'applied')))).toBe('PERMISSION_DENIED');
    expect(await codeOf(codex.withLane('codex', (tx) => tx.consume('sha256:x', 'n', handoffId)))).toBe('PERMISSION_DENIED');
  });

  it.skipIf(!enabled || _name !== 'postgres')('codex logged in as its role: SET ROLE to a more privileged role is refused', async () => {
    const claudeRole = b.config.lanes.find((l) => l.name === 'claude')!.db.role;
    expect(await codeOf(codex.withLane('codex', (tx) => tx.sql.query(`SET ROLE ${claudeRole}`)))).toBe('PERMISSION_DENIED');
    expect(await codeOf(codex.withLane('codex', (tx) => tx.sql.query('SET ROLE postgres')))).toBe('PERMISSION_DENIED');
    expect(await codeOf(codex.withLane('codex', (tx) => tx.sql.query('RESET ROLE; UPDATE handoffs SET state = state')))).toBe('PERMISSION_DENIED');
    // and a lane cannot act as another lane through the API either
    expect(await codeOf(codex.withLane('claude', (tx) => tx.claimNextPending()))).toBe('PERMISSION_DENIED');
  });

  it.skipIf(!enabled || _name === 'postgres')('embedded: SET ROLE guards mistakes only — the superuser session can leave it (documented)', async () => {
    expect(await codeOf(codex.withLane('codex', (tx) => tx.sql.exec('RESET ROLE; SELECT 1')))).toBe('OK');
  });

  it.skipIf(!enabled)('claude: inserting a proposal is refused; editing audit_log is refused', async () => {
    expect(await codeOf(claude.withLane('claude', (tx) => tx.insertHandoff(newHandoff(2))))).toBe('PERMISSION_DENIED');
    for (const sql of ["UPDATE audit_log SET action = 'edited'", 'DELETE FROM audit_log', 'TRUNCATE audit_log', "INSERT INTO audit_log (lane, action) VALUES ('codex', 'forged')"]) {
      expect(await codeOf(claude.withLane('claude', (tx) => tx.sql.query(sql))), sql).toBe('PERMISSION_DENIED');
    }
  });

  it.skipIf(!enabled)('claude: moves a handoff exactly once; a replayed digest or nonce is REPLAY', async () => {
    const h = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff(3)));
    await claude.withLane('claude', async (tx) => {
      await tx.consume(h.statementDigest, h.nonce!, h.id);
      await tx.transitionHandoff(h.id, 'proposed', 'verified');
    });
    expect(await codeOf(claude.withLane('claude', (tx) => tx.transitionHandoff(h.id, 'proposed', 'verified')))).toBe('STATE_CONFLICT');
    expect(await codeOf(claude.withLane('claude', (tx) => tx.consume(h.statementDigest, 'fresh-nonce', h.id)))).toBe('REPLAY');
    expect(await codeOf(claude.withLane('claude', (tx) => tx.consume('sha256:fresh', h.nonce!, h.id)))).toBe('REPLAY');
    // REPLAY leaves the transaction usable: the rejection can be recorded in the same transaction.
    await claude.withLane('claude', async (tx) => {
      expect(await codeOf(tx.consume(h.statementDigest, h.nonce!, h.id))).toBe('REPLAY');
      await tx.appendAudit({ action: 'handoff.replay_rejected', subject: h.id });
    });
  });

  it.skipIf(!enabled)('handoff states only move forward, and a proposal starts empty-handed', async () => {
    const h = await codex.withLane('codex', (tx) => tx.insertHandoff(newHandoff(4)));
    await claude.withLane('claude', (tx) => tx.transitionHandoff(h.id, 'proposed', 'claimed'));
    expect(await codeOf(claude.withLane('claude', (tx) => tx.transitionHandoff(h.id, 'claimed', 'pr_opened')))).toBe('INVALID_TRANSITION');
    expect(await codeOf(claude.withLane('claude', (tx) => tx.sql.query(`UPDATE handoffs SET state = 'proposed' WHERE id = $1`, [h.id])))).toBe('INVALID_TRANSITION');
    expect(await codeOf(b.admin.withAdmin((tx) => tx.sql.query(`UPDATE handoffs SET statement_digest = 'sha256:other' WHERE id = $1`, [h.id])))).toBe('PERMISSION_DENIED');
    // The guard binds owners too: no skipping a state, no way back; staying in a state is not a move.
    for (const to of ['pr_opened', 'applied', 'proposed']) {
      expect(await codeOf(b.admin.withAdmin((tx) => tx.sql.query(`UPDATE handoffs SET state = $2 WHERE id = $1`, [h.id, to]))), to).toBe('INVALID_TRANSITION');
    }
    await b.admin.withAdmin((tx) => tx.sql.query(`UPDATE handoffs SET state = 'claimed', title = 'renamed' WHERE id = $1`, [h.id]));
    const prefilled = `INSERT INTO handoffs (id, proposer_lane, statement_digest, artifact_digest, bundle_path, artifact_path, base_commit, target_branch, expires_at, commit_sha)
      VALUES ('prefilled', 'codex', 'sha256:pre', 'a', 'b', 'p', 'c', 'main', now() + interval '1 hour', 'deadbeef')`;
    expect(await codeOf(codex.withLane('codex', (tx) => tx.sql.query(prefilled)))).toBe('PERMISSION_DENIED');
    expect(await b.admin.withAdmin((tx) => tx.getHandoff(h.id))).toMatchObject({ state: 'claimed', executorLane: 'claude' });
  });

  it.skipIf(!enabled)('even the owner cannot UPDATE or DELETE audit_log while the guard trigger is on', async () => {
    expect(await codeOf(b.admin.withAdmin((tx) => tx.sql.query("UPDATE audit_log SET action = 'x' WHERE seq = 1")))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.admin.withAdmin((tx) => tx.sql.query('DELETE FROM audit_log WHERE seq = 1')))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.admin.withAdmin((tx) => tx.sql.query('TRUNCATE audit_log')))).toBe('PERMISSION_DENIED');
  });

  it.skipIf(!enabled)('the catalog check finds each lane exactly least-privileged, and finds an extra grant', async () => {
    for (const lane of b.config.lanes) {
      const ledger = lane.name === 'codex' ? codex : claude;
      const r = await checkLaneDbPrivileges(ledger, b.config, lane);
      expect(r.violations, JSON.stringify(r.violations)).toEqual([]);
      expect(r.probes.length).toBeGreaterThan(8);
      expect(r.probes.every((p) => p.refused)).toBe(true);
    }
    const codexRole = b.config.lanes.find((l) => l.name === 'codex')!.db.role;
    await b.admin.withAdmin((tx) => tx.sql.exec(`GRANT UPDATE ON handoffs TO ${codexRole}`));
    try {
      const r = await checkLaneDbPrivileges(codex, b.config, b.config.lanes.find((l) => l.name === 'codex')!);
      expect(r.violations.map((v) => v.code)).toEqual(expect.arrayContaining(['DB_PRIVILEGE_EXCESS', 'DB_FORBIDDEN_WRITE_ALLOWED']));
      // the probe was rolled back: nothing changed
      expect(await b.admin.withAdmin((tx) => tx.getHandoff(handoffId))).toMatchObject({ state: 'proposed' });
    } finally {
      await b.admin.withAdmin((tx) => tx.sql.exec(`REVOKE UPDATE ON handoffs FROM ${codexRole}`));
    }
  });

  it.skipIf(!enabled)("a superuser's edit of audit_log is named by verify-audit", async () => {
    for (let i = 0; i < 4; i++) await codex.withLane('codex', (tx) => tx.appendAudit({ action: 'test.fill', subject: String(i), payload: { i } }));
    expect((await b.admin.verifyAudit()).ok).toBe(true);
    const superuser = (sql: string) => b.admin.withAdmin((tx) => tx.sql.exec(`SET LOCAL session_replication_role = replica; ${sql}`));

    await superuser(`UPDATE audit_log SET payload = '{"i": 99}' WHERE seq = 3`);
    const r = await b.admin.verifyAudit();
    expect(r.ok).toBe(false);
    expect(r.findings).toEqual([expect.objectContaining({ kind: 'edited', seq: 3 })]);
  });
});

describe.each(backends)('audit chain tampering on %s', (_name, make, enabled) => {
  let b: Backend;
  beforeAll(async () => {
    if (!enabled) return;
    b = await make();
    const codex = await b.lane('codex');
    for (let i = 1; i <= 6; i++) await codex.withLane('codex', (tx) => tx.appendAudit({ action: 'test.fill', subject: String(i), payload: { i } }));
  });
  afterAll(async () => b && (await b.close()));
  const superuser = (sql: string) => b.admin.withAdmin((tx) => tx.sql.exec(`SET LOCAL session_replication_role = replica; ${sql}`));

  it.skipIf(!enabled)('names a deleted middle row, a reordered pair and a deleted newest row', async () => {
    expect((await b.admin.verifyAudit()).ok).toBe(true);
    await superuser('DELETE FROM audit_log WHERE seq = 2');
    expect((await b.admin.verifyAudit()).findings).toEqual([expect.objectContaining({ kind: 'deleted', seq: 2 })]);
    await superuser('UPDATE audit_log SET seq = -4 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = -4');
    const r = await b.admin.verifyAudit();
    expect(r.findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'reordered', seq: 4 }), expect.objectContaining({ kind: 'reordered', seq: 5 })]));
    expect(r.findings.some((f) => f.kind === 'edited')).toBe(false);
    await superuser('DELETE FROM audit_log WHERE seq = 6');
    expect((await b.admin.verifyAudit()).findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'deleted', seq: 6 })]));
  });
});
