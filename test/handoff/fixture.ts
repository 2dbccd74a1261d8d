/* eslint-disable @typescript-eslint/no-explicit-any -- CLI JSON output is inspected loosely in tests */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { parseJson, runCli, type CliResult } from '../support/cli.js';
import { GIT_ENV } from '../support/git-env.js';
import { publishToLocalForge } from '../support/local-forge.js';

export { GIT_ENV };
/** A sample repository after `duallane init` (committed), copied per test so tests do not share state. */
export interface Workspace {
  dir: string;
  git(...args: string[]): string;
  write(path: string, content: string | Buffer): void;
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  json<T = Record<string, any>>(args: string[], env?: NodeJS.ProcessEnv): Promise<{ r: CliResult; data: T }>;
  /** Proposes the current working-tree change as lane codex and resets the working tree. */
  propose(title: string, extra?: string[]): Promise<Record<string, any>>;
}

export async function makeTemplate(): Promise<{ dir: string; cleanup(): void }> {
  const root = mkdtempSync(join(tmpdir(), 'duallane-handoff-tpl-'));
  const dir = join(root, 'repo');
  mkdirSync(dir);
  const git = (...a: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...a], { cwd: dir, env: { ...process.env, ...GIT_ENV } });
  git('init', '-q');
  writeFileSync(join(dir, 'README.md'), '# sample\n');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'app.js'), 'export const x = 1;\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  const init = await runCli(['init', '--json'], { cwd: dir, env: GIT_ENV });
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  git('add', '-A');
  git('commit', '-q', '-m', 'duallane init');
  // The forge's main is the base every proposal must build on.
  publishToLocalForge(dir);
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function workspaceFrom(templateDir: string, cleanups: (() => void)[]): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'duallane-handoff-'));
  const dir = join(root, 'repo');
  cpSync(templateDir, dir, { recursive: true });
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const env = { ...GIT_ENV };
  const ws: Workspace = {
    dir,
    git: (...a) => execFileSync('git', ['-c', 'commit.gpgSign=false', ...a], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' }).trim(),
    write(path, content) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    },
    cli: (args, extra) => runCli(args, { cwd: dir, env: { ...env, ...extra } }),
    async json(args, extra) {
      const r = await ws.cli([...args, '--json'], extra);
      return { r, data: parseJson(r) as any };
    },
    async propose(title, extra = []) {
      const { r, data } = await ws.json(['handoff', 'propose', '--lane', 'codex', '--title', title, ...extra]);
      if (r.code !== 0) throw new Error(`propose failed (${r.code}): ${r.stderr}`);
      ws.git('checkout', '-q', '--', '.');
      ws.git('clean', '-qfd', '--', 'src', 'docs', '.github', 'assets');
      return data;
    },
  };
  return ws;
}

/**
 * The usual hooks of a handoff test file: one template repository for the file (made once), and
 * every workspace, or cleanup handed to `defer`, removed after the test that made it.
 */
export function useWorkspaces(): { workspace(): Workspace; defer(fn: () => void): void } {
  let template: { dir: string; cleanup(): void } | undefined;
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    template = await makeTemplate();
  }, 120_000);
  afterAll(() => template?.cleanup());
  afterEach(() => {
    while (cleanups.length) cleanups.pop()!();
  });
  return {
    workspace: () => workspaceFrom(template!.dir, cleanups),
    defer: (fn) => {
      cleanups.push(fn);
    },
  };
}
