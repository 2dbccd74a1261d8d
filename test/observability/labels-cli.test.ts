import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { startFakeGitHub, type FakeGitHub } from './fake-github.js';

const TOKEN = 'ghp_fakeTokenForTests0123456789abcdefABCD';
const dir = mkdtempSync(join(tmpdir(), 'duallane-labels-'));
const file = join(dir, 'labels.yml');
writeFileSync(
  file,
  `- name: 'kind:bug'
  color: 'd73a4a'
  description: Something does not work as documented
  aliases: ['bug']
- name: 'lane:codex'
  color: '1d76db'
  description: Proposed by the read-only propose lane
- name: 'area:cli'
  color: 'bfd4f2'
  description: Command-line interface
- name: 'priority:p0'
  color: 'b60205'
  description: Drop everything
`,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

let gh: FakeGitHub | undefined;
afterEach(async () => {
  await gh?.close();
  gh = undefined;
});

const existing = () => [
  { name: 'bug', color: 'd73a4a', description: "Something isn't working" },
  { name: 'lane:codex', color: '000000', description: null },
  { name: 'wontfix', color: 'ffffff', description: 'This will not be worked on' },
  { name: 'question', color: 'd876e3', description: 'Further information is requested' },
];

const sync = (args: string[], env: Record<string, string> = {}) =>
  runCli(['labels', 'sync', '--repo', 'acme/widgets', '--file', file, ...args], { env: { GITHUB_API_URL: gh!.url, GITHUB_TOKEN: TOKEN, ...env } });

describe('duallane labels sync against recorded GitHub REST shapes', () => {
  it('--dry-run prints the diff, pages through the list, and changes nothing', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: existing(), pageSize: 2 });
    const r = await sync(['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('labels acme/widgets (dry run): 2 to create, 2 to update, 0 to delete, 0 unchanged, 2 not in the file');
    expect(r.stdout).toContain('~ kind:bug  rename "bug" -> "kind:bug"');
    expect(r.stdout).toContain('+ area:cli  #bfd4f2');
    expect(r.stdout).toContain('? wontfix  (not in the file; kept, --prune deletes it)');
    expect(gh.requests.filter((q) => q.method === 'GET').map((q) => q.path)).toEqual([
      '/repos/acme/widgets/labels?per_page=100',
      '/repos/acme/widgets/labels?per_page=100&page=2',
    ]);
    expect(gh.requests.every((q) => q.method === 'GET')).toBe(true);
  });

  it('applies creates, updates and alias renames, keeps extras, and is idempotent', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: existing(), pageSize: 3 });
    const r = await sync(['--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = parseJson<{ applied: number; summary: Record<string, number> }>(r);
    expect(out.applied).toBe(4);
    expect(out.summary).toMatchObject({ create: 2, update: 2, delete: 0, extra: 2 });
    const names = gh.labels.map((l) => l.name).sort();
    expect(names).toEqual(['area:cli', 'kind:bug', 'lane:codex', 'priority:p0', 'question', 'wontfix']);
    expect(gh.labels.find((l) => l.name === 'lane:codex')).toMatchObject({ color: '1d76db', description: 'Proposed by the read-only propose lane' });
    expect(gh.requests.find((q) => q.method === 'PATCH' && q.path.endsWith('/labels/bug'))?.body).toMatchObject({ new_name: 'kind:bug' });
    expect(gh.requests.some((q) => q.method === 'DELETE')).toBe(false);
    const again = parseJson<{ applied: number }>(await sync(['--json']));
    expect(again.applied).toBe(0);
  });

  it('--prune deletes labels the file does not list', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: existing() });
    const r = await sync(['--prune']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('- wontfix');
    expect(gh.labels.map((l) => l.name).sort()).toEqual(['area:cli', 'kind:bug', 'lane:codex', 'priority:p0']);
    expect(gh.requests.filter((q) => q.method === 'DELETE').map((q) => q.path).sort()).toEqual([
      '/repos/acme/widgets/labels/question',
      '/repos/acme/widgets/labels/wontfix',
    ]);
  });

  it('syncs the shipped 60+ label taxonomy into an empty repository', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: [] });
    const r = await runCli(['labels', 'sync', '--repo', 'acme/widgets', '--json'], { env: { GITHUB_API_URL: gh.url, GITHUB_TOKEN: TOKEN } });
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<{ applied: number }>(r).applied).toBeGreaterThanOrEqual(60);
    expect(gh.labels.length).toBeGreaterThanOrEqual(60);
  });

  it('422 already_exists on create -> LABEL_CONFLICT, exit 1', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: [], hiddenExisting: ['area:cli'] });
    const r = await sync(['--json']);
    expect(r.code).toBe(1);
    expect(parseJson<{ error: { code: string } }>(r).error.code).toBe('LABEL_CONFLICT');
  });

  it('403 without admin rights -> GITHUB_FORBIDDEN, exit 3; the token never appears in output', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: existing(), mode: 'forbidden' });
    const r = await sync(['--json']);
    expect(r.code).toBe(3);
    expect(parseJson<{ error: { code: string } }>(r).error.code).toBe('GITHUB_FORBIDDEN');
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it('403 with x-ratelimit-remaining: 0 -> GITHUB_RATE_LIMITED with the reset time, exit 3', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: [], mode: 'rate-limited' });
    const r = await sync(['--dry-run', '--json']);
    expect(r.code).toBe(3);
    const err = parseJson<{ error: { code: string; details: { resetAt: string } } }>(r).error;
    expect(err.code).toBe('GITHUB_RATE_LIMITED');
    expect(err.details.resetAt).toBe(new Date(1_790_000_000 * 1000).toISOString());
  });

  it('bad token -> GITHUB_UNAUTHORIZED; no token -> TOKEN_MISSING; bad --repo -> exit 2', async () => {
    gh = await startFakeGitHub({ owner: 'acme', repo: 'widgets', token: TOKEN, labels: [] });
    const bad = await sync(['--json'], { GITHUB_TOKEN: 'ghp_wrong' });
    expect(bad.code).toBe(3);
    expect(parseJson<{ error: { code: string } }>(bad).error.code).toBe('GITHUB_UNAUTHORIZED');
    const none = await sync(['--json'], { GITHUB_TOKEN: '' });
    expect(none.code).toBe(3);
    expect(parseJson<{ error: { code: string } }>(none).error.code).toBe('TOKEN_MISSING');
    const repo = await runCli(['labels', 'sync', '--repo', 'not-a-repo', '--file', file]);
    expect(repo.code).toBe(2);
    expect(repo.stderr).toContain('REPO_INVALID');
    expect(gh.requests.filter((q) => q.method !== 'GET')).toHaveLength(0);
  });
});

describe('duallane labels lint', () => {
  it('passes the shipped file and fails a bad one with file:line', async () => {
    const good = await runCli(['labels', 'lint', '--json']);
    expect(good.code, good.stderr).toBe(0);
    expect(parseJson<{ ok: boolean; labels: number }>(good)).toMatchObject({ ok: true });
    const badFile = join(dir, 'bad.yml');
    writeFileSync(badFile, "- name: a\n  color: 'zzzzzz'\n  description: x\n- name: A\n  color: 'ffffff'\n");
    const bad = await runCli(['labels', 'lint', badFile]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`${badFile}:2:10: color:`);
    expect(bad.stdout).toContain(`${badFile}:4:9: duplicate:`);
    const missing = await runCli(['labels', 'lint', join(dir, 'nope.yml')]);
    expect(missing.code).toBe(2);
  });

  it('sync refuses a file with lint findings before calling GitHub', async () => {
    const badFile = join(dir, 'bad2.yml');
    writeFileSync(badFile, "- name: a\n  color: '#ffffff'\n");
    const r = await runCli(['labels', 'sync', '--repo', 'acme/widgets', '--file', badFile, '--dry-run'], { env: { GITHUB_API_URL: 'http://127.0.0.1:9' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LINT_FAILED');
    expect(r.stderr).toContain(`${badFile}:2:10`);
  });
});
