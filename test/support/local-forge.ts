import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Publishes REF of the repository at DIR as BRANCH on its local forge (the bare remote, by default
 * `.duallane/remote.git`; a path relative to DIR or absolute; created when missing) — what `git push origin main` is on a hosted forge.
 * The execute lane accepts only proposals based on the forge's target branch, so tests publish it.
 */
export function publishToLocalForge(dir: string, opts: { ref?: string; branch?: string; remote?: string } = {}): string {
  const remote = resolve(dir, opts.remote ?? join('.duallane', 'remote.git'));
  const git = (cwd: string, ...a: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', ...a], { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' }).trim();
  if (!existsSync(join(remote, 'HEAD'))) git(dir, 'init', '-q', '--bare', remote);
  git(dir, 'push', '-q', remote, `${opts.ref ?? 'HEAD'}:refs/heads/${opts.branch ?? 'main'}`);
  return git(remote, 'rev-parse', `refs/heads/${opts.branch ?? 'main'}`);
}
