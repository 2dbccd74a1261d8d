import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, MIGRATIONS, migrationChecksum, type Migration } from '../../src/ledger/index.js';
import { gatePostgres } from '../support/services.js';
import { postgresBackend, type Backend } from './backends.js';

const pgOk = await gatePostgres();

/** Everything a migration can change that we can see from the catalog. */
async function schemaSnapshot(l: Ledger): Promise<string> {
  return l.withAdmin(async (tx) => {
    const q = async (sql: string) => JSON.stringify((await tx.sql.query(sql)).rows);
    return [
      await q(`SELECT c.relname, c.relkind, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1, 2`),
      await q(`SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`),
      await q(`SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1`),
      await q(`SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1`),
      await q(`SELECT polname FROM pg_policy ORDER BY 1`),
    ].join('\n');
  });
}

const failing: Migration = {
  version: 999,
  name: 'fails midway',
  sql: `CREATE TABLE half_done (x integer);
        ALTER TABLE handoffs ADD COLUMN half_done integer;
        INSERT INTO half_done VALUES (1);
        SELECT this_function_does_not_exist();`,
};

type Make = () => Promise<{ fresh: Ledger; migrated: Ledger; close: () => Promise<void> }>;

const embedded: Make = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'duallane-migrate-'));
  const fresh = await Ledger.open({ kind: 'embedded', path: join(dir, 'fresh') });
  const migrated = await Ledger.open({ kind: 'embedded', path: join(dir, 'migrated') });
  return {
    fresh,
    migrated,
    close: async () => {
      await fresh.close();
      await migrated.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
};

const postgres: Make = async () => {
  const a: Backend = await postgresBackend({ migrate: false });
  const b: Backend = await postgresBackend({ migrate: false });
  return {
    fresh: a.admin,
    migrated: b.admin,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
};

describe.each([
  ['embedded (PGlite)', embedded, true],
  ['postgres', postgres, pgOk],
] as const)('migrations on %s', (_name, make, enabled) => {
  let env: Awaited<ReturnType<Make>>;
  beforeAll(async () => {
    if (enabled) env = await make();
  });
  afterAll(async () => env && (await env.close()));

  it.skipIf(!enabled)('apply once, then are idempotent', async () => {
    expect(await env.migrated.migrate()).toEqual({ applied: MIGRATIONS.map((m) => m.version), current: MIGRATIONS.at(-1)!.version });
    expect(await env.migrated.migrate()).toEqual({ applied: [], current: MIGRATIONS.at(-1)!.version });
    const [a, b] = await Promise.all([env.migrated.migrate(), env.migrated.migrate()]);
    expect([a.applied, b.applied]).toEqual([[], []]);
  });

  it.skipIf(!enabled)('a migration failing midway leaves a migrated schema exactly as it was', async () => {
    await env.migrated.migrate();
    const before = await schemaSnapshot(env.migrated);
    await expect(env.migrated.migrate([...MIGRATIONS, failing])).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
    expect(await schemaSnapshot(env.migrated)).toBe(before);
    expect(before).not.toContain('half_done');
    expect((await env.migrated.migrate()).applied).toEqual([]);
  });

  it.skipIf(!enabled)('a failing run on a fresh database leaves it empty (no partial migration 1 either)', async () => {
    const before = await schemaSnapshot(env.fresh);
    await expect(env.fresh.migrate([...MIGRATIONS, failing])).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
    expect(await schemaSnapshot(env.fresh)).toBe(before);
    expect(before).not.toContain('handoffs');
  });

  it.skipIf(!enabled)('an applied migration that was edited stops the run', async () => {
    await env.migrated.migrate();
    const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: m.sql + '\n-- edited' } : m));
    await expect(env.migrated.migrate(edited)).rejects.toMatchObject({ code: 'MIGRATION_CHECKSUM_MISMATCH' });
    await expect(env.migrated.migrate([])).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW' });
  });
});

describe('released migrations', () => {
  // A released migration's text is recorded by checksum in every ledger it was applied to; changing
  // it (even by a refactor that builds it from shared pieces) makes `db migrate` refuse those ledgers.
  const RELEASED: Record<number, string> = {
    1: '224a24cb194b12588aa5218d2f66815f096280eb78a45b41f88cf598254cecc6',
    2: '8e86d31522af0ee519d9ec6a2fcc1dfe3812bbbc6c6ca68621609ef6b3b3ddc6',
    3: '7139aafa7af10ea617ddebc80be14e968b176f3de7dadadbbb11652bec10adc3',
    4: 'a682c4c01d1d7ed35800fe07ee1166f5b32d051e1433e7d92ae699a2a828a0a6',
    5: 'e4f904062294dd26dfe991ef528a1f6e9f8acdec61a6ea7e5b2c2c0eefa22394',
    6: '60eff2c645e3ce49553219cc00a54d40b1f6624b05ce2560d07d3ba9ce2a4c7a',
    7: '84b50a07ee1756ee047dde8f9fde4ceee6706095d173772d6b192e46086549da',
    8: '5a8bfb6530d248af71108bd0d6b0d655bc59181536de3b280482bdfcd23cf387',
  };
  it('keep their text byte for byte', () => {
    for (const [version, checksum] of Object.entries(RELEASED)) {
      const m = MIGRATIONS.find((x) => x.version === Number(version));
      expect(m && migrationChecksum(m), `migration ${version}`).toBe(checksum);
    }
  });
});
