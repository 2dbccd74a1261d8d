import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A real temporary git repository with one commit, for tests. Call `cleanup()` in afterEach/afterAll. */
export interface TempRepo {
  dir: string;
  git(...args: string[]): string;
  write(path: string, content: string | Buffer): void;
  commitAll(message: string): string;
  cleanup(): void;
}

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function makeTempRepo(files: Record<string, string> = { 'README.md': '# sample\n', 'src/app.js': 'export const x = 1;\n' }, opts: { bare?: boolean } = {}): TempRepo {
  const root = mkdtempSync(join(tmpdir(), 'duallane-repo-'));
  const dir = join(root, 'repo');
  mkdirSync(dir);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...args], { cwd: dir, env: ENV, encoding: 'utf8' }).trim();
  git('init', '-q', ...(opts.bare ? ['--bare'] : []));
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  const commitAll = (message: string) => {
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  if (!opts.bare) {
    for (const [p, c] of Object.entries(files)) write(p, c);
    commitAll('initial');
  }
  return { dir, git, write, commitAll, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A bare repository next to nothing, for use as a remote. */
export function makeBareRemote(): { dir: string; git(...args: string[]): string; cleanup(): void } {
  const r = makeTempRepo({}, { bare: true });
  return { dir: r.dir, git: r.git, cleanup: r.cleanup };
}
