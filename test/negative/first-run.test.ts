import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { GIT_ENV } from '../support/git-env.js';

/**
 * The first run in a user's own repository: `duallane init` writes duallane.yaml, .gitignore lines
 * and `.env.<lane>.example` files, and `handoff propose --from-worktree` proposes every uncommitted
 * change, untracked files included. Uncommitted, init's files would be swept into the first
 * proposal and the executor would reject it (PATH_DENIED on .env.*.example). So init says what to
 * commit, propose refuses init's uncommitted files before signing anything, and propose lists each
 * path it includes with why.
 */
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'duallane-first-run-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function freshRepo(name: string): { dir: string; git: (...a: string[]) => string } {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  const git = (...a: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...a], { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  git('init', '-q');
  writeFileSync(join(dir, 'src', 'app.js'), 'export const x = 1;\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  return { dir, git };
}

describe('first run: init, commit, propose --from-worktree, accept', () => {
  it('init names the files to commit; the README first steps end in pr_opened', async () => {
    const { dir, git } = freshRepo('readme-steps');
    const init = await runCli(['init'], { cwd: dir, env: GIT_ENV });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('git add duallane.yaml .gitignore .env.codex.example .env.claude.example && git commit -m "duallane init"');
    const initJson = parseJson<{ commit: string[] }>(await runCli(['init', '--json'], { cwd: dir, env: GIT_ENV }));
    expect(initJson.commit).toEqual(['duallane.yaml', '.gitignore', '.env.codex.example', '.env.claude.example']);

    // README "First run": commit what init created, change something, propose, accept.
    git('add', 'duallane.yaml', '.gitignore', '.env.codex.example', '.env.claude.example');
    git('commit', '-q', '-m', 'duallane init');
    // ... and publish the target branch on the local forge, as init says (the base must be on it).
    expect(init.stdout).toContain('git push .duallane/remote.git HEAD:main');
    git('push', '-q', '.duallane/remote.git', 'HEAD:main');
    writeFileSync(join(dir, 'src', 'app.js'), 'export const x = 2;\n');
    writeFileSync(join(dir, 'src', 'new.js'), 'export const y = 1;\n');
    const p = await runCli(['handoff', 'propose', '--lane', 'codex', '--title', 'bump x', '--from-worktree'], { cwd: dir, env: GIT_ENV });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^ {2}includes {2}src\/app\.js \(modified, tracked\)$/m);
    expect(p.stdout).toMatch(/^ {2}includes {2}src\/new\.js \(added, untracked: not git-ignored\)$/m);
    const id = /^proposed (\S+)/m.exec(p.stdout)![1]!;
    const a = await runCli(['handoff', 'accept', '--next', '--lane', 'claude', '--json'], { cwd: dir, env: GIT_ENV });
    expect(a.code, a.stderr).toBe(0);
    expect(parseJson<{ id: string; state: string }>(a)).toMatchObject({ id, state: 'pr_opened' });
  }, 300_000);

  it("propose refuses init's uncommitted files before signing anything (INIT_UNCOMMITTED)", async () => {
    const { dir } = freshRepo('forgot-commit');
    expect((await runCli(['init'], { cwd: dir, env: GIT_ENV })).code).toBe(0);
    writeFileSync(join(dir, 'src', 'app.js'), 'export const x = 2;\n');
    const before = readdirSync(join(dir, '.duallane')).sort();
    const p = await runCli(['handoff', 'propose', '--lane', 'codex', '--title', 'bump x', '--json'], { cwd: dir, env: GIT_ENV });
    expect(p.code).toBe(2);
    const err = parseJson<{ error: { code: string; details: { uncommitted: string[] } } }>(p).error;
    expect(err.code).toBe('INIT_UNCOMMITTED');
    expect(err.details.uncommitted).toEqual(['duallane.yaml', '.gitignore', '.env.codex.example', '.env.claude.example']);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    // Nothing signed or stored: no content store, no handoff recorded.
    expect(readdirSync(join(dir, '.duallane')).sort()).toEqual(before);
    expect(parseJson<unknown[]>(await runCli(['handoff', 'list', '--json'], { cwd: dir, env: GIT_ENV }))).toEqual([]);
    // --patch proposes exactly the patch, so init's files are not in the way.
    const patch = join(root, 'bump.patch');
    writeFileSync(patch, 'diff --git a/src/app.js b/src/app.js\n--- a/src/app.js\n+++ b/src/app.js\n@@ -1 +1 @@\n-export const x = 1;\n+export const x = 3;\n');
    const viaPatch = await runCli(['handoff', 'propose', '--lane', 'codex', '--title', 'bump x', '--patch', patch], { cwd: dir, env: GIT_ENV });
    expect(viaPatch.code, viaPatch.stderr).toBe(0);
  }, 300_000);

  it('--help says what --from-worktree includes', async () => {
    const h = await runCli(['handoff', 'propose', '--help']);
    expect(h.stdout.replace(/\s+/g, ' ')).toContain('untracked files that are not git-ignored');
  });
});
