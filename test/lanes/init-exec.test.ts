import { chmod, mkdtemp, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from '../../src/config/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { parseJson } from '../support/cli.js';
import { runCliClean } from './clean-cli.js';

describe('duallane init and exec (embedded ledger)', () => {
  let dir: string;
  let firstInit: Awaited<ReturnType<typeof runCliClean>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duallane-init-'));
    await writeFile(join(dir, '.gitignore'), 'node_modules/');
    firstInit = await runCliClean(['init', '--dir', dir, '--json']);
  });

  it('scaffolds config, keys (0600), env examples with placeholders only, .gitignore entries and a migrated ledger', async () => {
    expect(firstInit.code, firstInit.stderr).toBe(0);
    const r = parseJson<{ steps: { path: string; action: string }[]; ledger: { kind: string; prepared: boolean } }>(firstInit);
    expect(r.ledger).toMatchObject({ kind: 'embedded', prepared: true });
    const cfg = await loadConfig(dir, { requireFile: true });
    const { root: _a, file: _b, ...loaded } = cfg;
    const { root: _c, file: _d, ...defaults } = defaultConfig(dir);
    expect(loaded).toEqual(defaults);
    for (const lane of ['codex', 'claude']) {
      expect((await stat(join(dir, `.duallane/keys/${lane}.key`))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(dir, `.duallane/keys/${lane}.pub`), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      const example = await readFile(join(dir, `.env.${lane}.example`), 'utf8');
      const assignments = example.split('\n').filter((l) => /^[A-Z_]+=/.test(l));
      expect(assignments.length).toBeGreaterThan(1);
      for (const a of assignments) expect(a).toMatch(/CHANGE_ME/);
    }
    const gitignore = await readFile(join(dir, '.gitignore'), 'utf8');
    expect(gitignore.startsWith('node_modules/\n')).toBe(true);
    expect(gitignore.split('\n')).toEqual(expect.arrayContaining(['.duallane/', '.env.codex', '.env.claude']));
  });

  it('never overwrites: a second init keeps every file and key', async () => {
    const key = await readFile(join(dir, '.duallane/keys/codex.key'), 'utf8');
    const gitignore = await readFile(join(dir, '.gitignore'), 'utf8');
    const again = await runCliClean(['init', '--dir', dir, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const steps = parseJson<{ steps: { action: string }[] }>(again).steps;
    expect(steps.every((s) => s.action === 'kept')).toBe(true);
    expect(await readFile(join(dir, '.duallane/keys/codex.key'), 'utf8')).toBe(key);
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe(gitignore);
  });

  it('exec runs with only the lane allowlist, exits with the command status and records the run', async () => {
    const script = 'process.stdout.write(JSON.stringify(Object.keys(process.env).sort())); process.exit(7)';
    const r = await runCliClean(['exec', '--lane', 'codex', '--dir', dir, '--', process.execPath, '-e', script], {
      cwd: dir,
      env: { AWS_SECRET_ACCESS_KEY: 'x', DUALLANE_CLAUDE_TOKEN: 'ghp_' + 'a'.repeat(36), ANTHROPIC_API_KEY: 'sk-ant-xxxxxxxxxxxxxxxxxxxx', OPENAI_API_KEY: 'sk-allowed-for-codex-xxxxxxxx', LANG: 'C.UTF-8', LC_ALL: 'C' },
    });
    expect(r.code, r.stderr).toBe(7);
    const seen = JSON.parse(r.stdout) as string[];
    expect(seen).toEqual(expect.arrayContaining(['PATH', 'HOME', 'LANG', 'LC_ALL', 'OPENAI_API_KEY', 'DUALLANE_LANE']));
    for (const banned of ['AWS_SECRET_ACCESS_KEY', 'DUALLANE_CLAUDE_TOKEN', 'ANTHROPIC_API_KEY']) expect(seen).not.toContain(banned);

    const ledger = await Ledger.open({ kind: 'embedded', path: join(dir, '.duallane/ledger') });
    try {
      const runs = await ledger.withAdmin((tx) => tx.listLaneRuns());
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ lane: 'codex', command: [process.execPath, '-e', script], exitCode: 7 });
      expect(Date.parse(runs[0]!.endedAt)).toBeGreaterThanOrEqual(Date.parse(runs[0]!.startedAt));
      expect((await ledger.verifyAudit()).ok).toBe(true);
    } finally {
      await ledger.close();
    }
  });

  it('creds check in embedded mode: a lane that can read the other lane\'s private key is a violation, said plainly', async () => {
    for (const [lane, other] of [['codex', 'claude'], ['claude', 'codex']] as const) {
      const r = await runCliClean(['creds', 'check', '--lane', lane, '--dir', dir, '--json']);
      expect(r.code, r.stderr + r.stdout).toBe(1);
      const rep = parseJson<{ ok: boolean; violations: { code: string; message: string }[]; warnings: { code: string }[]; notSeparated: string[] }>(r);
      expect(rep.violations.map((v) => v.code)).toEqual(['OTHER_LANE_KEY_READABLE']);
      expect(rep.violations[0]!.message).toContain(`.duallane/keys/${other}.key`);
      expect(rep.warnings.map((w) => w.code)).toContain('EMBEDDED_NOT_ISOLATED');
      expect(rep.notSeparated.length).toBeGreaterThan(0);
      const text = await runCliClean(['creds', 'check', '--lane', lane, '--dir', dir]);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^violation OTHER_LANE_KEY_READABLE: /m);
      expect(text.stdout).toMatch(/^embedded mode cannot separate: /m);
      expect(text.stdout).not.toContain('credentials are exactly those');
    }
  });

  it('creds check passes only when the other lane\'s key is out of reach, and still names what embedded mode cannot separate', async () => {
    const claudeKey = join(dir, '.duallane/keys/claude.key');
    const away = join(dir, 'claude.key.elsewhere');
    await rename(claudeKey, away);
    try {
      const ok = await runCliClean(['creds', 'check', '--lane', 'codex', '--dir', dir]);
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      expect(ok.stdout).toMatch(/^embedded mode cannot separate: /m);
      expect(ok.stdout).not.toContain('credentials are exactly those');
    } finally {
      await rename(away, claudeKey);
    }
  });

  it('creds check: a loose key and a stray secret fail', async () => {

    await chmod(join(dir, '.duallane/keys/codex.key'), 0o644);
    try {
      const bad = await runCliClean(['creds', 'check', '--lane', 'codex', '--dir', dir, '--json'], {
        env: { ANTHROPIC_API_KEY: 'sk-ant-xxxxxxxxxxxxxxxxxxxx', CLAUDE_SIGNING_KEY: join(dir, '.duallane/keys/claude.key') },
      });
      expect(bad.code).toBe(1);
      const codes = parseJson<{ violations: { code: string; message: string }[] }>(bad).violations.map((v) => v.code);
      expect(codes.sort()).toEqual(['ENV_OTHER_LANE_KEY', 'ENV_SECRET_OUTSIDE_ALLOWLIST', 'KEY_FILE_MODE', 'OTHER_LANE_KEY_READABLE']);
      expect(bad.stdout).not.toContain('sk-ant-');
    } finally {
      await chmod(join(dir, '.duallane/keys/codex.key'), 0o600);
    }
  });

  it('exec with an unknown command exits 2 with one line', async () => {
    const r = await runCliClean(['exec', '--lane', 'codex', '--dir', dir, '--', 'no-such-command-duallane'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('COMMAND_NOT_FOUND');
  });
});
