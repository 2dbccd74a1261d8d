import type { DuallaneConfig, LaneConfig } from '../config/index.js';
import type { LaneTx } from './lane-tx.js';
import type { Ledger } from './ledger.js';
import { sqlState } from './ledger-error.js';
import { LANE_PRIVILEGES, quoteIdent, TABLE_PRIVILEGES } from './roles.js';

/** One problem found by a credential check; `code` is stable, `message` is for people. */
export interface CredentialFinding {
  code: string;
  message: string;
}

export interface DbPrivilegeReport {
  lane: string;
  role: string;
  sessionUser: string;
  mode: 'embedded' | 'server';
  /** Actual table privileges of the role, e.g. { handoffs: ['SELECT', 'UPDATE(state)'] }. */
  privileges: Record<string, string[]>;
  probes: { probe: string; refused: boolean; sqlstate: string | null }[];
  violations: CredentialFinding[];
  warnings: CredentialFinding[];
}

/**
 * Proves a lane's database privileges from inside the lane: reads the catalog (role attributes,
 * memberships, ownership, table, column and sequence privileges) and compares it with
 * LANE_PRIVILEGES exactly, then attempts writes the lane must not be able to make — each in a
 * savepoint of one transaction that is always rolled back, so a lane that CAN write leaves nothing.
 */
export async function checkLaneDbPrivileges(ledger: Ledger, config: Pick<DuallaneConfig, 'lanes'>, lane: LaneConfig): Promise<DbPrivilegeReport> {
  const others = config.lanes.filter((l) => l.name !== lane.name);
  return ledger.rehearseAsLane(lane.name, async (tx) => {
    const violations: CredentialFinding[] = [];
    const warnings: CredentialFinding[] = [];
    const role = lane.db.role;
    const who = (await tx.sql.query<{ session_user: string; super: boolean }>('SELECT session_user, (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS super')).rows[0]!;
    if (ledger.kind === 'embedded') {
      warnings.push({ code: 'EMBEDDED_NOT_ISOLATED', message: `embedded ledger: this process is the superuser ${who.session_user} and only SET ROLE ${role} guards it; run lanes as separate processes against PostgreSQL to separate them` });
    } else if (who.session_user !== role) {
      violations.push({ code: 'DB_LOGIN_NOT_LANE_ROLE', message: `this lane logs in as ${who.session_user}${who.super ? ' (a superuser)' : ''}, not as its own role ${role}` });
    }

    const attrs = (await tx.sql.query<Record<string, boolean>>('SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1', [role])).rows[0];
    if (!attrs) {
      violations.push({ code: 'DB_ROLE_MISSING', message: `role ${role} does not exist (run \`duallane db roles apply\`)` });
    } else {
      for (const [attr, on] of Object.entries(attrs)) if (on) violations.push({ code: 'DB_ROLE_ATTRIBUTE', message: `role ${role} has ${attr.replace(/^rol/, '').toUpperCase()}` });
    }
    const members = await tx.sql.query<{ rolname: string }>(
      'SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles u ON u.oid = a.member WHERE u.rolname = $1',
      [role],
    );
    for (const m of members.rows) violations.push({ code: 'DB_ROLE_MEMBERSHIP', message: `role ${role} is a member of ${m.rolname} and may act with its privileges` });
    const owned = await tx.sql.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = $1`,
      [role],
    );
    for (const o of owned.rows) violations.push({ code: 'DB_OWNS_OBJECT', message: `role ${role} owns ${o.relname} (owners bypass row-level security)` });

    const privileges = await actualPrivileges(tx, role);
    const expected = LANE_PRIVILEGES[lane.kind] as Record<string, { table: string[]; updateColumns?: string[] }>;
    for (const table of new Set([...Object.keys(privileges), ...Object.keys(expected)])) {
      const want = new Set([...(expected[table]?.table ?? []), ...(expected[table]?.updateColumns ?? []).map((c) => `UPDATE(${c})`)]);
      const have = new Set(privileges[table] ?? []);
      for (const p of have) if (!want.has(p)) violations.push({ code: 'DB_PRIVILEGE_EXCESS', message: `role ${role} holds ${p} on ${table}, which a ${lane.kind} lane must not` });
      for (const p of want) if (!have.has(p)) violations.push({ code: 'DB_PRIVILEGE_MISSING', message: `role ${role} lacks ${p} on ${table} (run \`duallane db roles apply\`)` });
    }

    const probes = await probeForbiddenWrites(tx, lane, others, ledger.kind);
    for (const p of probes) if (!p.refused) violations.push({ code: 'DB_FORBIDDEN_WRITE_ALLOWED', message: `lane ${lane.name} was not refused: ${p.probe}${p.sqlstate ? ` (failed with ${p.sqlstate} instead of a permission error)` : ' (it succeeded; rolled back)'}` });
    return { lane: lane.name, role, sessionUser: who.session_user, mode: ledger.kind, privileges, probes, violations, warnings };
  });
}

async function actualPrivileges(tx: LaneTx, role: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const add = (t: string, p: string) => (out[t] ??= []).push(p);
  const tables = await tx.sql.query<{ relname: string; priv: string }>(
    `SELECT c.relname, p.priv FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN unnest($2::text[]) AS p(priv)
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND has_table_privilege($1, c.oid, p.priv)
     ORDER BY c.relname, p.priv`,
    [role, TABLE_PRIVILEGES],
  );
  for (const r of tables.rows) add(r.relname, r.priv);
  // Column-level INSERT/UPDATE not covered by a table-level grant.
  const cols = await tx.sql.query<{ relname: string; attname: string; priv: string }>(
    `SELECT c.relname, a.attname, p.priv FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE']) AS p(priv)
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND has_column_privilege($1, c.oid, a.attnum, p.priv)
       AND NOT has_table_privilege($1, c.oid, p.priv)
     ORDER BY c.relname, p.priv, a.attnum`,
    [role],
  );
  for (const r of cols.rows) add(r.relname, `${r.priv}(${r.attname})`);
  const seqs = await tx.sql.query<{ relname: string; priv: string }>(
    `SELECT c.relname, p.priv FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN unnest(ARRAY['USAGE', 'UPDATE']) AS p(priv)
     WHERE n.nspname = 'public' AND c.relkind = 'S' AND has_sequence_privilege($1, c.oid, p.priv)`,
    [role],
  );
  for (const r of seqs.rows) add(r.relname, r.priv);
  return out;
}

/** Statements the lane must not be able to run. Each must fail with a permission error (42501). */
function forbiddenWrites(lane: LaneConfig, others: readonly LaneConfig[], kind: 'embedded' | 'server'): string[] {
  const other = others[0];
  const probes = [
    'DELETE FROM handoffs WHERE false',
    'TRUNCATE handoffs',
    'UPDATE audit_log SET action = action WHERE false',
    'DELETE FROM audit_log WHERE false',
    'TRUNCATE audit_log',
    'DELETE FROM consumed WHERE false',
    'UPDATE schema_migrations SET name = name WHERE false',
    'INSERT INTO duallane_lanes (name, kind, role) VALUES (\'creds-probe\', \'execute\', \'creds_probe\')',
  ];
  if (lane.kind === 'propose') {
    probes.push(
      'UPDATE handoffs SET state = state WHERE false',
      "INSERT INTO consumed (statement_digest, nonce, handoff_id, lane) VALUES ('creds-probe', 'creds-probe', 'creds-probe', " + `'${lane.name}')`,
    );
  } else {
    probes.push(
      `INSERT INTO handoffs (id, proposer_lane, statement_digest, artifact_digest, bundle_path, artifact_path, base_commit, target_branch, expires_at)
       VALUES ('creds-probe', '${other?.name ?? 'codex'}', 'creds-probe', 'creds-probe', '-', '-', '-', '-', now())`,
      'UPDATE handoffs SET proposer_lane = proposer_lane WHERE false',
    );
  }
  if (other) {
    probes.push(`INSERT INTO audit_log (lane, action) VALUES ('${other.name}', 'creds.probe')`);
    // A superuser session (embedded) may always SET ROLE; only a login role proves this one.
    if (kind === 'server') probes.push(`SET LOCAL ROLE ${quoteIdent(other.db.role)}`, 'SET LOCAL ROLE postgres');
  }
  return probes;
}

async function probeForbiddenWrites(tx: LaneTx, lane: LaneConfig, others: readonly LaneConfig[], kind: 'embedded' | 'server') {
  const results: { probe: string; refused: boolean; sqlstate: string | null }[] = [];
  for (const probe of forbiddenWrites(lane, others, kind)) {
    await tx.sql.query('SAVEPOINT creds_probe');
    let state: string | null = null;
    let refused = false;
    try {
      await tx.sql.query(probe);
    } catch (e) {
      state = sqlState(e) ?? 'error';
      // 42501: insufficient privilege or row-level security; 22023/42704: the target role does not exist.
      refused = state === '42501' || (probe.startsWith('SET LOCAL ROLE') && (state === '22023' || state === '42704'));
    }
    await tx.sql.query('ROLLBACK TO SAVEPOINT creds_probe');
    results.push({ probe: probe.replace(/\s+/g, ' '), refused, sqlstate: state });
  }
  return results;
}
