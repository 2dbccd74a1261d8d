import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ForgeError, GitHubForge } from '../../src/forge/index.js';
import { makeTempRepo, type TempRepo } from '../handoff/temp-repo.js';
import { FakeGitHub } from './fake-github.js';
import { GitHttpServer } from './git-http-server.js';

// The GitHub forge's push at the HTTP level: a real git client talks to a loopback smart-HTTP server
// (git http-backend behind a node:http front that demands GitHub's token form); the pull-request
// API stays the recorded-shape fake. The machine is given its own, different, working credentials
// (a credential helper, a configured Authorization header, an insteadOf rewrite) that the push must
// not use.

const LANE = 'ghs_laneTOKENexecute0123456789';
const WRONG = 'ghs_wrongTOKEN9876543210abcdef';
const MACHINE = 'ghp_machineAMBIENTtoken55555555';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const laneHeader = `Basic ${b64(`x-access-token:${LANE}`)}`;
const machineHeader = `Basic ${b64(`x-access-token:${MACHINE}`)}`;
const run = promisify(execFile);

let root: string;
let server: GitHttpServer;
let gh: FakeGitHub;
let url: string;
let bare: string;
let home: string;
let argvLog: string;
let repo: TempRepo;
const saved = { HOME: process.env.HOME, PATH: process.env.PATH, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'duallane-push-auth-'));
  const projects = join(root, 'srv');
  bare = join(projects, 'acme', 'widgets.git');
  mkdirSync(bare, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', bare]);
  execFileSync('git', ['config', 'http.receivepack', 'true'], { cwd: bare });
  server = new GitHttpServer(projects, new Set([LANE, MACHINE]));
  await server.start();
  url = server.url('acme/widgets.git');
  gh = new FakeGitHub('acme', 'widgets');
  await gh.start();

  // Every git the forge runs goes through this wrapper, which records its argv and then runs git.
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const bin = join(root, 'bin');
  mkdirSync(bin);
  argvLog = join(root, 'argv.log');
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\n{ printf 'ARGV'; for a in "$@"; do printf ' [%s]' "$a"; done; printf ' CONFIG_COUNT=%s\\n' "\${GIT_CONFIG_COUNT:-}"; } >> '${argvLog}'\nexec '${realGit}' "$@"\n`,
  );
  chmodSync(join(bin, 'git'), 0o755);
  // An askpass program that would answer with the machine's token.
  writeFileSync(join(bin, 'askpass'), `#!/bin/sh\ntouch '${join(root, 'askpass-ran')}'\ncase "$1" in Username*) echo x-access-token ;; *) echo ${MACHINE} ;; esac\n`);
  chmodSync(join(bin, 'askpass'), 0o755);

  // The machine's own credentials, as a developer's laptop or a shared runner would have them.
  home = join(root, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, '.gitconfig'),
    `[credential]\n\thelper = "!f() { touch '${join(root, 'global-helper-ran')}'; echo username=x-access-token; echo password=${MACHINE}; }; f"\n` +
      `[credential "${url}"]\n\thelper = "!f() { touch '${join(root, 'url-helper-ran')}'; echo username=x-access-token; echo password=${MACHINE}; }; f"\n`,
  );
  process.env.HOME = home;
  delete process.env.XDG_CONFIG_HOME;
  process.env.PATH = `${bin}:${saved.PATH ?? '/usr/bin:/bin'}`;
});

afterAll(async () => {
  process.env.HOME = saved.HOME;
  process.env.PATH = saved.PATH;
  if (saved.XDG_CONFIG_HOME !== undefined) process.env.XDG_CONFIG_HOME = saved.XDG_CONFIG_HOME;
  await server?.stop();
  await gh?.stop();
  repo?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  repo?.cleanup();
  repo = makeTempRepo();
  // The clone's own config has a helper and an askpass program too: the lane's push must not use them either.
  repo.git('config', 'credential.helper', `!f() { touch '${join(root, 'local-helper-ran')}'; echo username=x-access-token; echo password=${MACHINE}; }; f`);
  repo.git('config', 'core.askPass', join(root, 'bin', 'askpass'));
  server.requests.length = 0;
  writeFileSync(argvLog, '');
  for (const m of ['global-helper-ran', 'url-helper-ran', 'local-helper-ran', 'askpass-ran']) rmSync(join(root, m), { force: true });
});

const forgeWith = (token: string, remote = url) => new GitHubForge({ owner: 'acme', repo: 'widgets', token, baseUrl: gh.url, remote });
const remoteSha = (branch: string) => execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: bare, encoding: 'utf8' }).trim();
const helpersRan = () => ['global-helper-ran', 'url-helper-ran', 'local-helper-ran', 'askpass-ran'].filter((m) => existsSync(join(root, m)));
const sawMachine = () => server.requests.some((r) => r.authorization === machineHeader);

describe('GitHubForge push authenticates with the lane token only', () => {
  it('control: the machine credentials set up here do work for a plain git push', async () => {
    const head = repo.git('rev-parse', 'HEAD');
    await run('git', ['push', '-q', url, `${head}:refs/heads/control`], { cwd: repo.dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    expect(remoteSha('control')).toBe(head);
    expect(sawMachine()).toBe(true);
    expect(helpersRan().length).toBeGreaterThan(0);
  });

  it('lands the branch at the SHA with the lane token, is a no-op on re-run, and the PR goes through the API', async () => {
    const head = repo.git('rev-parse', 'HEAD');
    const forge = forgeWith(LANE);
    expect(await forge.push(repo.dir, 'lane/claude/01J', head)).toEqual({ pushed: true });
    expect(remoteSha('lane/claude/01J')).toBe(head);
    expect(await forge.push(repo.dir, 'lane/claude/01J', head)).toEqual({ pushed: false });

    // Every request carried exactly the lane's header; no machine credential, no helper run.
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.authorization === laneHeader)).toBe(true);
    expect(server.requests.some((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'))).toBe(true);
    expect(helpersRan()).toEqual([]);

    // The token is in no argv and in no config file; the header went through env-only config.
    const log = readFileSync(argvLog, 'utf8');
    const forgeCalls = log.split('\n').filter((l) => / \[(push|ls-remote)\]/.test(l));
    expect(forgeCalls.length).toBe(3); // ls-remote + push, then ls-remote on the re-run
    expect(forgeCalls.every((l) => / CONFIG_COUNT=\d+$/.test(l))).toBe(true);
    for (const secret of [LANE, b64(`x-access-token:${LANE}`)]) {
      expect(log).not.toContain(secret);
      expect(readFileSync(join(repo.dir, '.git', 'config'), 'utf8')).not.toContain(secret);
      expect(readFileSync(join(bare, 'config'), 'utf8')).not.toContain(secret);
    }

    gh.branches.add('lane/claude/01J'); // the fake API's view of the branch the real push created
    const pr = await forge.openPullRequest({ handoffId: '01J', lane: 'claude', branch: 'lane/claude/01J', base: 'main', headSha: head, title: 'T', body: 'B' });
    expect(pr).toMatchObject({ number: 1, created: true, branch: 'lane/claude/01J' });
    expect(gh.requests.every((r) => r.auth === `token ${LANE}`)).toBe(true);
  });

  it('a wrong lane token fails FORGE_UNAUTHORIZED without falling back to the machine credentials or showing the token', async () => {
    const head = repo.git('rev-parse', 'HEAD');
    const e = await forgeWith(WRONG).push(repo.dir, 'lane/claude/wrong', head).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ForgeError);
    expect(e).toMatchObject({ code: 'FORGE_UNAUTHORIZED', outcome: 'environment' });
    expect((e as ForgeError).message).toContain(url);
    // Nothing of the token anywhere in the error: message, details, the cause chain, stacks.
    const dump: string[] = [];
    for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
      const err = c as Error & { details?: unknown };
      dump.push(err.message, String(err.stack), JSON.stringify(err.details ?? null));
    }
    for (const secret of [WRONG, b64(`x-access-token:${WRONG}`)]) expect(dump.join('\n')).not.toContain(secret);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.authorization === `Basic ${b64(`x-access-token:${WRONG}`)}`)).toBe(true);
    expect(sawMachine()).toBe(false);
    expect(helpersRan()).toEqual([]);
    expect(() => remoteSha('lane/claude/wrong')).toThrow();
  });

  it('a configured Authorization header or an insteadOf rewrite cannot substitute other credentials', async () => {
    const head = repo.git('rev-parse', 'HEAD');
    // The clone's config sends the machine's header to this very URL...
    repo.git('config', `http.${url}.extraHeader`, `Authorization: ${machineHeader}`);
    await expect(forgeWith(WRONG).push(repo.dir, 'lane/claude/hdr', head)).rejects.toMatchObject({ code: 'FORGE_UNAUTHORIZED' });
    expect(sawMachine()).toBe(false);
    expect(await forgeWith(LANE).push(repo.dir, 'lane/claude/hdr', head)).toEqual({ pushed: true });
    expect(server.requests.every((r) => r.authorization !== machineHeader)).toBe(true);

    // ...and rewrites it to another transport (as `url."git@github.com:".insteadOf` does for SSH keys).
    const elsewhere = join(root, 'elsewhere.git');
    execFileSync('git', ['init', '-q', '--bare', elsewhere]);
    repo.git('config', `url.file://${elsewhere}.insteadOf`, url);
    const e = await forgeWith(LANE).push(repo.dir, 'lane/claude/rewritten', head).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'GIT_FAILED' });
    expect((e as Error).message).toMatch(/transport 'file' not allowed/);
    expect(execFileSync('git', ['for-each-ref'], { cwd: elsewhere, encoding: 'utf8' })).toBe('');
  });

  it('never forces: a branch already at another commit is BRANCH_CONFLICT and stays where it is', async () => {
    const first = repo.git('rev-parse', 'HEAD');
    const forge = forgeWith(LANE);
    await forge.push(repo.dir, 'lane/claude/taken', first);
    repo.write('b.txt', 'b\n');
    const second = repo.commitAll('second');
    await expect(forge.push(repo.dir, 'lane/claude/taken', second)).rejects.toMatchObject({ code: 'BRANCH_CONFLICT' });
    expect(remoteSha('lane/claude/taken')).toBe(first);
  });

  it('refuses remotes that would push with other credentials, before running git', async () => {
    const head = repo.git('rev-parse', 'HEAD');
    for (const remote of ['git@github.com:acme/widgets.git', 'ssh://git@github.com/acme/widgets.git', 'http://github.com/acme/widgets.git', `http://x-access-token:${MACHINE}@127.0.0.1:1/acme/widgets.git`]) {
      const e = await forgeWith(LANE, remote).push(repo.dir, 'lane/claude/x', head).catch((x: unknown) => x);
      expect(e, remote).toMatchObject({ code: 'BAD_USAGE' });
      expect((e as Error).message).not.toContain(MACHINE);
    }
    expect(readFileSync(argvLog, 'utf8')).toBe('');
    await expect(forgeWith('', url).push(repo.dir, 'lane/claude/x', head)).rejects.toMatchObject({ code: 'FORGE_UNAUTHORIZED' });
  });
});

describe('GitHubForge target-tip check fetches with the lane token only', () => {
  it('answers from the branch as fetched, never a local ref, and writes nothing into the clone', async () => {
    const c0 = repo.git('rev-parse', 'HEAD');
    repo.write('b.txt', 'b\n');
    const c1 = repo.commitAll('on the forge');
    repo.git('push', '-q', bare, `${c1}:refs/heads/main`);
    // Someone else's commit lands on the forge's main; the clone does not have it.
    const other = makeTempRepo();
    other.git('fetch', '-q', bare, 'refs/heads/main');
    other.git('reset', '-q', '--hard', 'FETCH_HEAD');
    other.write('c.txt', 'c\n');
    const c2 = other.commitAll('pushed from elsewhere');
    other.git('push', '-q', bare, `${c2}:refs/heads/main`);
    other.cleanup();
    // The clone's own main moves ahead with a commit the forge never saw.
    repo.write('local.txt', 'local only\n');
    const local = repo.commitAll('local only');
    const refsBefore = repo.git('for-each-ref');
    server.requests.length = 0;

    const forge = forgeWith(LANE);
    const none = { movedPaths: [], movedTruncated: false };
    expect(await forge.branchContains(repo.dir, 'main', c2)).toEqual({ tip: c2, contains: true, ...none });
    // An older ancestor: contained, and the paths the forge's main changed since are named.
    expect(await forge.branchContains(repo.dir, 'main', c0)).toEqual({ tip: c2, contains: true, movedPaths: ['b.txt', 'c.txt'], movedTruncated: false });
    expect(await forge.branchContains(repo.dir, 'main', local)).toEqual({ tip: c2, contains: false, ...none });
    expect(await forge.branchContains(repo.dir, 'no-such-branch', c0)).toEqual({ tip: null, contains: false, ...none });

    expect(repo.git('for-each-ref')).toBe(refsBefore);
    expect(existsSync(join(repo.dir, '.git', 'FETCH_HEAD'))).toBe(false);
    expect(() => repo.git('cat-file', '-e', `${c2}^{commit}`)).toThrow(); // fetched objects stayed out of the clone
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.authorization === laneHeader)).toBe(true);
    expect(helpersRan()).toEqual([]);
    const log = readFileSync(argvLog, 'utf8');
    expect(log).toContain('[fetch]');
    for (const secret of [LANE, b64(`x-access-token:${LANE}`)]) expect(log).not.toContain(secret);
  });

  it('a wrong lane token fails FORGE_UNAUTHORIZED without the token in the error', async () => {
    const e = await forgeWith(WRONG).branchContains(repo.dir, 'main', repo.git('rev-parse', 'HEAD')).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'FORGE_UNAUTHORIZED', outcome: 'environment' });
    const dump: string[] = [];
    for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
      const err = c as Error & { details?: unknown };
      dump.push(err.message, String(err.stack), JSON.stringify(err.details ?? null));
    }
    for (const secret of [WRONG, b64(`x-access-token:${WRONG}`)]) expect(dump.join('\n')).not.toContain(secret);
    expect(sawMachine()).toBe(false);
    expect(helpersRan()).toEqual([]);
  });
});
