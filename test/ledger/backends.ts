import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { defaultConfig, type DuallaneConfig } from '../../src/config/index.js';
import { Ledger } from '../../src/ledger/index.js';

/**
 * The same ledger tests run on two backends:
 *  - embedded: one PGlite directory; lanes act through `withLane` (SET LOCAL ROLE) on one connection;
 *  - postgres: a fresh database on 127.0.0.1:5432 per run, with per-run lane role names (roles are
 *    cluster-global), each lane LOGGED IN as its own role; dropped (database and roles) afterwards.
 */
export interface Backend {
  name: 'embedded' | 'postgres';
  config: DuallaneConfig;
  /** The administrator (schema owner / superuser). */
  admin: Ledger;
  /** The ledger a lane's process would hold (postgres: logged in as the lane's role). */
  lane(name: string, poolSize?: number): Promise<Ledger>;
  /** postgres only: the URL a lane's process would have in $DATABASE_URL. */
  laneUrl?(name: string): string;
  adminUrl?: string;
  dir: string;
  close(): Promise<void>;
}

const host = process.env.PGHOST ?? '127.0.0.1';
const port = Number(process.env.PGPORT ?? 5432);
export const pgUrl = (user: string, db: string) => `postgres://${user}@${host}:${port}/${db}`;

function configFor(dir: string, suffix: string): DuallaneConfig {
  const config = defaultConfig(dir);
  for (const lane of config.lanes) lane.db.role = `duallane_${lane.name}${suffix}`;
  return config;
}

export async function embeddedBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'duallane-ledger-'));
  const config = configFor(dir, '');
  const admin = await Ledger.open({ kind: 'embedded', path: join(dir, '.duallane/ledger') }, { lanes: config.lanes });
  await admin.migrate();
  await admin.applyRoles(config);
  return {
    name: 'embedded',
    config,
    admin,
    dir,
    lane: async () => admin,
    close: async () => {
      await admin.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database and per-run roles; `migrate: false` leaves the database empty. */
export async function postgresBackend(opts: { migrate?: boolean } = {}): Promise<Backend> {
  const run = randomBytes(4).toString('hex');
  const db = `duallane_test_${run}`;
  const suffix = `_t${run}`;
  const dir = await mkdtemp(join(tmpdir(), 'duallane-ledger-'));
  const config = configFor(dir, suffix);
  const root = new pg.Client({ connectionString: pgUrl('postgres', 'postgres') });
  await root.connect();
  await root.query(`CREATE DATABASE ${db}`);
  await root.end();
  const adminUrl = pgUrl('postgres', db);
  const admin = await Ledger.open({ kind: 'server', url: adminUrl }, { lanes: config.lanes, poolSize: 4 });
  if (opts.migrate !== false) {
    await admin.migrate();
    await admin.applyRoles(config);
  }
  const opened: Ledger[] = [];
  const roleOf = (name: string) => config.lanes.find((l) => l.name === name)!.db.role;
  return {
    name: 'postgres',
    config,
    admin,
    dir,
    adminUrl,
    laneUrl: (name) => pgUrl(roleOf(name), db),
    async lane(name, poolSize = 4) {
      const l = await Ledger.open({ kind: 'server', url: pgUrl(roleOf(name), db) }, { lanes: config.lanes, poolSize });
      opened.push(l);
      return l;
    },
    async close() {
      for (const l of opened) await l.close().catch(() => {});
      await admin.close();
      const c = new pg.Client({ connectionString: pgUrl('postgres', 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        for (const lane of config.lanes) await c.query(`DROP ROLE IF EXISTS ${lane.db.role}`);
      } finally {
        await c.end();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function newHandoff(i: number | string, extra: Partial<{ expiresAt: Date }> = {}) {
  return {
    id: `h${String(i).padStart(4, '0')}-${randomBytes(3).toString('hex')}`,
    statementDigest: `sha256:${randomBytes(32).toString('hex')}`,
    artifactDigest: `sha256:${randomBytes(32).toString('hex')}`,
    bundlePath: `.duallane/store/b${i}.json`,
    artifactPath: `.duallane/store/a${i}.patch`,
    baseCommit: randomBytes(20).toString('hex'),
    targetBranch: 'main',
    nonce: randomBytes(16).toString('hex'),
    expiresAt: extra.expiresAt ?? new Date(Date.now() + 3600_000),
  };
}

/** Both backends for `describe.each`: PGlite always, PostgreSQL when `gatePostgres()` found it. */
export function bothBackends(pgOk: boolean): [string, () => Promise<Backend>, boolean][] {
  return [
    ['embedded (PGlite)', embeddedBackend, true],
    ['postgres', () => postgresBackend(), pgOk],
  ];
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message?: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message?: string; details?: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}
