import type { DuallaneConfig, LaneConfig, LaneKind } from '../config/index.js';
import type { LedgerTable } from './migrations.js';

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE' | 'REFERENCES' | 'TRIGGER';
export const TABLE_PRIVILEGES: readonly TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

export interface TableGrant {
  /** Whole-table privileges. */
  table: TablePrivilege[];
  /** Column-level UPDATE: only these columns. */
  updateColumns?: string[];
}

const READ: TableGrant = { table: ['SELECT'] };

/**
 * The least privilege of each lane kind: the one source for `db roles apply` (GRANTs) and for
 * `creds check` (what the catalog must show, nothing more, nothing less).
 *  - propose: read everything; INSERT proposals and its own audit rows; no UPDATE, DELETE, TRUNCATE anywhere.
 *  - execute: read everything; move handoff states (column-level UPDATE), consume digests/nonces,
 *    record pull requests, INSERT its own audit rows; may not create proposals.
 * Nobody may UPDATE or DELETE audit_log: not granted, and refused by a trigger even for owners.
 */
export const LANE_PRIVILEGES: Record<LaneKind, Partial<Record<LedgerTable, TableGrant>>> = {
  propose: {
    duallane_lanes: READ,
    handoffs: { table: ['SELECT', 'INSERT'] },
    consumed: READ,
    pull_requests: READ,
    lane_runs: READ,
    alerts: READ,
    audit_log: { table: ['SELECT', 'INSERT'] },
    audit_head: READ,
    schema_migrations: READ,
  },
  execute: {
    duallane_lanes: READ,
    handoffs: {
      table: ['SELECT'],
      updateColumns: ['state', 'executor_lane', 'branch', 'commit_sha', 'pr_number', 'pr_url', 'reject_reason', 'meta', 'updated_at'],
    },
    consumed: { table: ['SELECT', 'INSERT'] },
    pull_requests: { table: ['SELECT', 'INSERT'], updateColumns: ['state', 'labels', 'head_sha', 'url', 'base', 'title', 'body', 'updated_at'] },
    lane_runs: READ,
    alerts: READ,
    audit_log: { table: ['SELECT', 'INSERT'] },
    audit_head: READ,
    schema_migrations: READ,
  },
};

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * The SQL `duallane db roles apply` runs (and `--print-sql` shows). Idempotent: roles are created
 * if absent, stripped of every attribute, membership and grant, then given exactly LANE_PRIVILEGES.
 * Role names come from the schema-validated config (`^[a-z_][a-z0-9_]*$`) and are quoted anyway.
 * Login passwords are not managed here: set them with ALTER ROLE ... PASSWORD out of band.
 */
export function rolesSql(config: Pick<DuallaneConfig, 'lanes'>): string {
  const out: string[] = ['-- duallane lane roles: least privilege, generated from duallane.yaml', 'REVOKE CREATE ON SCHEMA public FROM PUBLIC;'];
  for (const lane of config.lanes) out.push(...laneRoleSql(lane));
  return out.join('\n') + '\n';
}

function laneRoleSql(lane: LaneConfig): string[] {
  const role = quoteIdent(lane.db.role);
  const lit = quoteLiteral(lane.db.role);
  const sql: string[] = [
    '',
    `-- lane ${lane.name} (${lane.kind})`,
    `DO $$
DECLARE m record;
BEGIN
  IF ${lit} = session_user THEN
    RAISE EXCEPTION 'refusing to turn the connected administrator % into a lane role', session_user USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${lit}) THEN
    CREATE ROLE ${role} LOGIN;
  END IF;
  FOR m IN SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles u ON u.oid = a.member WHERE u.rolname = ${lit} LOOP
    EXECUTE format('REVOKE %I FROM %I', m.rolname, ${lit});
  END LOOP;
END $$;`,
    `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role};`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role};`,
    `GRANT USAGE ON SCHEMA public TO ${role};`,
    // Every lane seals the audit rows it wrote (see migration 5); the function is not PUBLIC.
    `DO $$ BEGIN
  IF to_regprocedure('public.duallane_audit_seal()') IS NOT NULL THEN
    GRANT EXECUTE ON FUNCTION public.duallane_audit_seal() TO ${role};
  END IF;
END $$;`,
  ];
  for (const [table, grant] of Object.entries(LANE_PRIVILEGES[lane.kind])) {
    if (grant.table.length > 0) sql.push(`GRANT ${grant.table.join(', ')} ON ${table} TO ${role};`);
    if (grant.updateColumns?.length) sql.push(`GRANT UPDATE (${grant.updateColumns.join(', ')}) ON ${table} TO ${role};`);
  }
  sql.push(
    `INSERT INTO duallane_lanes (name, kind, role) VALUES (${quoteLiteral(lane.name)}, ${quoteLiteral(lane.kind)}, ${lit})
  ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, role = EXCLUDED.role;`,
  );
  return sql;
}
