import { spawn } from 'node:child_process';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '../../src/config/index.js';
import { MIGRATIONS } from '../../src/ledger/index.js';
import { BIN, parseJson } from '../support/cli.js';
import { gatePostgres } from '../support/services.js';
import { postgresBackend, type Backend } from '../ledger/backends.js';
import { fakeGithub, runCliClean } from './clean-cli.js';

const pgOk = await gatePostgres();

describe('bad input and a missing database (no services needed)', () => {
  it('malformed duallane.yaml exits 2 with file:line, one line, no stack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'duallane-badcfg-'));
    const text = DEFAULT_CONFIG_YAML.replace('maxFiles: 50', 'maxFiles: fifty');
    await writeFile(join(dir, 'duallane.yaml'), text);
    const line = text.split('\n').findIndex((l) => l.includes('maxFiles: fifty')) + 1;
    for (const args of [['db', 'migrate'], ['creds', 'check', '--lane', 'codex'], ['exec', '--lane', 'codex']]) {
      const r = await runCliClean([...args, '--dir', dir, ...(args[0] === 'exec' ? ['--', 'true'] : [])], { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`CONFIG_INVALID: ${join(dir, 'duallane.yaml')}:${line}:`);
      expect(r.stderr).toContain('lanes[0].scope.maxFiles');
    }
    await writeFile(join(dir, 'duallane.yaml'), 'version: 1\nlanes: [\n');
    const syntax = await runCliClean(['db', 'migrate', '--dir', dir, '--json']);
    expect(syntax.code).toBe(2);
    const err = parseJson<{ error: { code: string; details: { errors: { line: number }[] } } }>(syntax).error;
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details.errors[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('an unreachable database exits 3 with one clear line and no stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'duallane-nodb-'));
    await writeFile(join(dir, 'duallane.yaml'), DEFAULT_CONFIG_YAML);
    for (const args of [['db', 'migrate'], ['db', 'verify-audit'], ['creds', 'check', '--lane', 'codex', '--offline'], ['exec', '--lane', 'codex']]) {
      const r = await runCliClean([...args, '--dir', dir, ...(args[0] === 'exec' ? ['--', 'true'] : [])], { cwd: dir, env: { DATABASE_URL: 'postgres://duallane:s3cret@127.0.0.1:1/ledger' } });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^duallane: DB_UNAVAILABLE: cannot connect to postgres:\/\/duallane:\*\*\*@127\.0\.0\.1:1\/ledger: ECONNREFUSED$/);
      expect(r.stderr).not.toContain('s3cret');
    }
  });

  it('roles apply --print-sql needs no database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'duallane-sql-'));
    await writeFile(join(dir, 'duallane.yaml'), DEFAULT_CONFIG_YAML);
    const r = await runCliClean(['db', 'roles', 'apply', '--print-sql', '--dir', dir], { env: { DATABASE_URL: 'postgres://x@127.0.0.1:1/none' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('GRANT SELECT, INSERT ON handoffs TO "duallane_codex";');
    expect(r.stdout).toContain('GRANT UPDATE (state, executor_lane');
    expect(r.stdout).not.toMatch(/GRANT[^;]*(DELETE|TRUNCATE)/);
    expect(r.stdout).not.toMatch(/GRANT[^;\n]*UPDATE[^;\n]*ON audit_log/);
  });
});

describe.skipIf(!pgOk)('server mode on a fresh PostgreSQL database, each lane logged in as its own role', () => {
  let b: Backend;
  let gh: Awaited<ReturnType<typeof fakeGithub>>;
  let env: (lane: 'codex' | 'claude' | 'admin', extra?: Record<string, string>) => Record<string, string>;
  const READ = 'ghp_' + 'r'.repeat(36);
  const WRITE = 'ghp_' + 'w'.repeat(36);
  const FINE_PUSH = 'github_pat_' + 'p'.repeat(60);

  beforeAll(async () => {
    b = await postgresBackend({ migrate: false });
    gh = await fakeGithub({
      [READ]: { scopes: 'read:org', permissions: { admin: false, maintain: false, push: false, triage: false, pull: true } },
      [WRITE]: { scopes: 'repo, workflow', permissions: { admin: false, maintain: false, push: true, triage: true, pull: true } },
      [FINE_PUSH]: { permissions: { admin: false, maintain: false, push: true, triage: true, pull: true } },
    });
    const yaml = DEFAULT_CONFIG_YAML.replace('role: duallane_codex', `role: ${b.config.lanes[0]!.db.role}`)
      .replace('role: duallane_claude', `role: ${b.config.lanes[1]!.db.role}`)
      .replace('kind: local                  # local | github (github also needs repo: owner/name)\n  remote: .duallane/remote.git', 'kind: github\n  remote: origin\n  repo: acme/widgets');
    await writeFile(join(b.dir, 'duallane.yaml'), yaml);
    env = (lane, extra = {}) => ({ DATABASE_URL: lane === 'admin' ? b.adminUrl! : b.laneUrl!(lane), GITHUB_API_URL: gh.url, ...extra });
    const init = await runCliClean(['init', '--dir', b.dir, '--no-ledger'], { env: env('admin') });
    expect(init.code, init.stderr).toBe(0);
  });
  /** Runs `fn` with only `lane`'s private key present, as on that lane's own machine. */
  async function asLaneMachine<T>(lane: 'codex' | 'claude', fn: () => Promise<T>): Promise<T> {
    const other = join(b.dir, `.duallane/keys/${lane === 'codex' ? 'claude' : 'codex'}.key`);
    await rename(other, `${other}.elsewhere`);
    try {
      return await fn();
    } finally {
      await rename(`${other}.elsewhere`, other);
    }
  }
  afterAll(async () => {
    await gh?.close();
    await b?.close();
  });

  it('db migrate and db roles apply as the administrator, idempotently', async () => {
    const VERSIONS = MIGRATIONS.map((m) => m.version);
    const m1 = await runCliClean(['db', 'migrate', '--dir', b.dir, '--json'], { env: env('admin') });
    expect(m1.code, m1.stderr).toBe(0);
    expect(parseJson(m1)).toMatchObject({ applied: VERSIONS, current: VERSIONS.at(-1), ledger: { kind: 'server' } });
    const m2 = await runCliClean(['db', 'migrate', '--dir', b.dir, '--json'], { env: env('admin') });
    expect(parseJson(m2)).toMatchObject({ applied: [], current: VERSIONS.at(-1) });
    for (let i = 0; i < 2; i++) {
      const r = await runCliClean(['db', 'roles', 'apply', '--dir', b.dir], { env: env('admin') });
      expect(r.code, r.stderr).toBe(0);
    }
    // a lane cannot run migrations or change roles
    const denied = await runCliClean(['db', 'roles', 'apply', '--dir', b.dir], { env: env('codex') });
    expect(denied.code).not.toBe(0);
  });

  it('creds check passes for each lane holding exactly its credentials', async () => {
    const codex = await asLaneMachine('codex', () => runCliClean(['creds', 'check', '--lane', 'codex', '--dir', b.dir, '--json'], { env: env('codex', { GITHUB_TOKEN: READ }) }));
    expect(codex.code, codex.stdout + codex.stderr).toBe(0);
    const rep = parseJson<{ db: { sessionUser: string; probes: { refused: boolean }[] }; github: { source: string } }>(codex);
    expect(rep.db.sessionUser).toBe(b.config.lanes[0]!.db.role);
    expect(rep.db.probes.every((p) => p.refused)).toBe(true);
    expect(rep.github.source).toBe('classic-scopes');
    const claude = await asLaneMachine('claude', () => runCliClean(['creds', 'check', '--lane', 'claude', '--dir', b.dir, '--json'], { env: env('claude', { GITHUB_TOKEN: FINE_PUSH }) }));
    // Both keys on one machine: each lane could sign as the other.
    const both = await runCliClean(['creds', 'check', '--lane', 'codex', '--dir', b.dir, '--json'], { env: env('codex', { GITHUB_TOKEN: READ }) });
    expect(both.code).toBe(1);
    expect(parseJson<{ violations: { code: string }[] }>(both).violations.map((v) => v.code)).toEqual(['OTHER_LANE_KEY_READABLE']);
    expect(claude.code, claude.stdout + claude.stderr).toBe(0);
    expect(parseJson<{ github: { source: string } }>(claude).github.source).toBe('repository-permissions');
  });

  it('creds check lists each violation and exits 1: a write token, a superuser login, a stray secret', async () => {
    const r = await runCliClean(['creds', 'check', '--lane', 'codex', '--dir', b.dir, '--json'], {
      env: env('admin', { GITHUB_TOKEN: WRITE, DUALLANE_DEPLOY_PASSWORD: 'hunter2' }),
    });
    expect(r.code).toBe(1);
    const v = parseJson<{ violations: { code: string; message: string }[] }>(r).violations;
    const codes = v.map((x) => x.code);
    expect(codes.filter((c) => c === 'GITHUB_PERMISSION_EXCESS')).toHaveLength(4); // contents, pullRequests, issues, workflows
    expect(codes).toContain('DB_LOGIN_NOT_LANE_ROLE');
    expect(codes).toContain('ENV_SECRET_OUTSIDE_ALLOWLIST');
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain(WRITE);
    const text = await runCliClean(['creds', 'check', '--lane', 'codex', '--dir', b.dir], { env: env('codex', { GITHUB_TOKEN: WRITE }) });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^violation GITHUB_PERMISSION_EXCESS: /m);
    expect(text.stderr.trim()).toMatch(/^duallane: CREDENTIAL_VIOLATIONS: /);
  });

  it('--offline skips GitHub with a warning and makes no request', async () => {
    const before = gh.requests.length;
    const r = await asLaneMachine('codex', () => runCliClean(['creds', 'check', '--lane', 'codex', '--dir', b.dir, '--offline', '--json'], { env: env('codex', { GITHUB_TOKEN: WRITE }) }));
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<{ warnings: { code: string }[] }>(r).warnings.map((w) => w.code)).toContain('GITHUB_SKIPPED_OFFLINE');
    expect(gh.requests.length).toBe(before);
  });

  it('exec records the run under the lane that logged in; verify-audit names a superuser edit', async () => {
    const r = await runCliClean(['exec', '--lane', 'claude', '--dir', b.dir, '--json', '--', 'sh', '-c', 'exit 3'], { env: env('claude') });
    expect(r.code).toBe(3);
    expect(parseJson(r)).toMatchObject({ lane: 'claude', exitCode: 3, command: ['sh', '-c', 'exit 3'] });
    const runs = await b.admin.withAdmin((tx) => tx.listLaneRuns());
    expect(runs.at(-1)).toMatchObject({ lane: 'claude', exitCode: 3 });

    const ok = await runCliClean(['db', 'verify-audit', '--dir', b.dir, '--json'], { env: env('codex') });
    expect(ok.code, ok.stderr).toBe(0);
    const seq = runs.at(-1)!.auditSeq;
    await b.admin.withAdmin((tx) => tx.sql.exec(`SET LOCAL session_replication_role = replica; UPDATE audit_log SET payload = jsonb_set(payload, '{exitCode}', '0') WHERE seq = ${seq}`));
    const bad = await runCliClean(['db', 'verify-audit', '--dir', b.dir, '--json'], { env: env('codex') });
    expect(bad.code).toBe(1);
    expect(parseJson<{ findings: unknown[] }>(bad).findings).toEqual([expect.objectContaining({ kind: 'edited', seq })]);
    const text = await runCliClean(['db', 'verify-audit', '--dir', b.dir], { env: env('codex') });
    expect(text.stdout).toContain(`audit row seq ${seq} was edited`);
    expect(text.stderr).toMatch(/^duallane: AUDIT_CHAIN_BROKEN: /);
  });

  it('exec forwards SIGTERM to the command and still records the run (exit 143)', async () => {
    const child = spawn(process.execPath, [BIN, 'exec', '--lane', 'codex', '--dir', b.dir, '--', 'sh', '-c', 'echo started; exec sleep 30'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env('codex') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
      child.once('exit', () => reject(new Error(`exec ended early: ${stderr}`)));
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code, stderr).toBe(143);
    const runs = await b.admin.withAdmin((tx) => tx.listLaneRuns({ lane: 'codex' }));
    expect(runs.at(-1)).toMatchObject({ lane: 'codex', command: ['sh', '-c', 'echo started; exec sleep 30'], exitCode: 143 });
  });
});
