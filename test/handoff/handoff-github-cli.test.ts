import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../forge/fake-github.js';
import { publishToLocalForge } from '../support/local-forge.js';
import { makeTemplate, workspaceFrom } from './fixture.js';

// The GitHub forge through the CLI: the API is a local server answering recorded GitHub shapes,
// the git remote a real bare repository.
let template: { dir: string; cleanup(): void };
let gh: FakeGitHub;
let remote: string;
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  gh = new FakeGitHub('acme', 'widgets');
  await gh.start();
  gh.requireBranch = false;
  remote = mkdtempSync(join(tmpdir(), 'duallane-gh-remote-'));
  execFileSync('git', ['init', '-q', '--bare', remote]);
  template = await makeTemplate();
}, 120_000);
afterAll(async () => {
  template?.cleanup();
  while (cleanups.length) cleanups.pop()!();
  rmSync(remote, { recursive: true, force: true });
  await gh.stop();
});

describe('duallane handoff with forge.kind: github', () => {
  it('labels the issue on propose; accept pushes, opens the PR, labels it and comments once', async () => {
    const w = workspaceFrom(template.dir, cleanups);
    const cfg = join(w.dir, 'duallane.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/forge:\n {2}kind: local.*\n {2}remote: .*\n/, `forge:\n  kind: github\n  remote: ${remote}\n  repo: acme/widgets\n  apiUrl: ${gh.url}\n`));
    w.git('commit', '-q', '-am', 'use the github forge');
    publishToLocalForge(w.dir, { remote });
    const env = { GITHUB_TOKEN: 'ghs_cli_test', GITHUB_API_URL: '' };
    gh.issueLabels.set(7, ['bug']);
    w.write('src/app.js', 'export const x = 42;\n');
    const { r, data: p } = await w.json(['handoff', 'propose', '--lane', 'codex', '--title', 'answer', '--issue', '7'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(p.issue).toEqual({ number: 7, labels: ['bug', 'handoff:proposed', 'lane:codex'] });
    w.git('checkout', '-q', '--', '.');

    const noToken = await w.json(['handoff', 'accept', p.id, '--lane', 'claude'], { GITHUB_TOKEN: '' });
    expect({ exit: noToken.r.code, code: noToken.data.error?.code }).toEqual({ exit: 3, code: 'FORGE_UNAUTHORIZED' });

    const a = await w.json(['handoff', 'accept', p.id, '--lane', 'claude'], env);
    expect(a.r.code, a.r.stderr).toBe(0);
    expect(a.data.pr).toEqual({ forge: 'github', number: 1, url: 'https://github.com/acme/widgets/pull/1', labels: ['handoff:verified', 'lane:codex', 'provenance:verified'] });
    expect(execFileSync('git', ['rev-parse', `refs/heads/${a.data.branch}`], { cwd: remote, encoding: 'utf8' }).trim()).toBe(a.data.commit);
    expect(gh.pulls[0]).toMatchObject({ title: 'answer', base: { ref: 'main' }, head: { ref: a.data.branch } });
    expect(gh.comments.get(1)).toHaveLength(1);
    expect(gh.requests.filter((x) => x.auth !== undefined).every((x) => x.auth === 'token ghs_cli_test')).toBe(true);

    // GitHub rate-limits the re-run's lookup: exit 3, nothing duplicated; the next re-run finishes.
    gh.inject({ method: 'GET', path: /\/pulls$/, status: 403, body: { message: 'API rate limit exceeded' }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) } });
    const limited = await w.json(['handoff', 'accept', p.id, '--lane', 'claude'], env);
    expect({ exit: limited.r.code, code: limited.data.error?.code }).toEqual({ exit: 3, code: 'FORGE_RATE_LIMITED' });
    const again = await w.json(['handoff', 'accept', p.id, '--lane', 'claude'], env);
    expect(again.data).toMatchObject({ pr: { number: 1 }, resumed: true });
    expect(gh.pulls).toHaveLength(1);
    expect(gh.comments.get(1)).toHaveLength(1);
  }, 400_000);
});
