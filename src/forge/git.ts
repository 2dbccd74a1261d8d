import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ForgeError } from './forge-error.js';
import { redactSecrets } from './push-auth.js';

export interface GitOptions {
  cwd: string;
  /** Extra environment (e.g. GIT_INDEX_FILE); merged over a scrubbed copy of process.env. */
  env?: Record<string, string>;
  input?: Buffer | string;
  /** Output limit in bytes (default 64 MiB); exceeding it fails instead of buffering without bound. */
  maxBuffer?: number;
  /** Exit codes that are answers, not failures (e.g. 1 for `git diff --quiet`). */
  okCodes?: number[];
  /**
   * Values passed through `env` that must never reach an error (a token): redacted from the message,
   * the details (git's stderr) and the cause.
   */
  secrets?: string[];
}

/** Environment and secrets for git calls that talk to a remote (see push-auth.ts). */
export interface RemoteAccess {
  env?: Record<string, string>;
  secrets?: string[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/**
 * Configuration that would make git output depend on the user's setup (and so break
 * "same change -> same bytes") or run user-controlled programs. Applied to every call.
 */
const FIXED_CONFIG = [
  '-c', 'core.quotePath=true',
  '-c', 'core.autocrlf=false',
  '-c', 'core.safecrlf=false',
  '-c', 'core.fsmonitor=false',
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'diff.noprefix=false',
  '-c', 'diff.mnemonicPrefix=false',
  '-c', 'diff.renames=false',
  '-c', 'diff.algorithm=myers',
  '-c', 'diff.external=',
  '-c', 'color.ui=false',
  '-c', 'commit.gpgSign=false',
  '-c', 'tag.gpgSign=false',
  '-c', 'init.defaultBranch=main',
  '-c', 'advice.detachedHead=false',
];

/** Runs the git CLI with fixed, side-effect-free configuration. Output is returned as bytes. */
export function git(args: string[], opts: GitOptions): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A caller's GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE must not redirect us to another repository.
  for (const k of Object.keys(env)) if (k.startsWith('GIT_') && !k.startsWith('GIT_AUTHOR_') && !k.startsWith('GIT_COMMITTER_')) delete env[k];
  Object.assign(env, { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' }, opts.env ?? {});
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...FIXED_CONFIG, ...args],
      { cwd: opts.cwd, env, encoding: 'buffer', maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const secrets = opts.secrets ?? [];
        const errText = secrets.length ? redactSecrets(stderr.toString('utf8'), secrets) : stderr.toString('utf8');
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string };
          if (e.code === 'ENOENT') return reject(new ForgeError('GIT_MISSING', 'git is not installed (not on PATH)', { cause: err }));
          const code = typeof e.code === 'number' ? e.code : -1;
          if (opts.okCodes?.includes(code)) return resolve({ stdout, stderr: errText, code });
          if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            return reject(new ForgeError('GIT_FAILED', `git ${args[0]}: output exceeds the limit`, { cause: err }));
          }
          // The child's error message repeats its stderr; with secrets in play the cause is rebuilt redacted.
          const cause = secrets.length ? new Error(redactSecrets(err.message, secrets)) : err;
          return reject(
            new ForgeError('GIT_FAILED', `git ${args[0]} failed (exit ${code}): ${firstLine(errText)}`, {
              cause,
              details: { exitCode: code, stderr: errText.slice(0, 2000) },
            }),
          );
        }
        resolve({ stdout, stderr: errText, code: 0 });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export async function gitText(args: string[], opts: GitOptions): Promise<string> {
  return (await git(args, opts)).stdout.toString('utf8').trim();
}

function firstLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0] ?? '').slice(0, 300);
}

const REF_RE = /^(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/-]{1,200}$/;

/** True for a branch name we are willing to pass to git (a subset of check-ref-format). */
export function isSafeBranchName(name: string): boolean {
  return REF_RE.test(name) && !name.startsWith('-') && !name.endsWith('.');
}

/** Resolves REF to a full commit SHA, or throws BAD_REF. */
export async function resolveCommit(cwd: string, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw new ForgeError('BAD_REF', `not a ref: ${ref}`);
  const r = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { cwd, okCodes: [1, 128] });
  const sha = r.stdout.toString('utf8').trim();
  if (r.code !== 0 || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw new ForgeError('BAD_REF', `${ref} is not a commit in ${cwd}`);
  return sha;
}

/** True when SHA names a commit object present in the repository at cwd. */
export async function commitExists(cwd: string, sha: string): Promise<boolean> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) return false;
  const r = await git(['cat-file', '-e', `${sha}^{commit}`], { cwd, okCodes: [1, 128] });
  return r.code === 0;
}

/** The SHA a remote branch points at, or null when the branch does not exist there. */
export async function remoteBranchSha(cwd: string, remote: string, branch: string, access: RemoteAccess = {}): Promise<string | null> {
  const out = await gitText(['ls-remote', '--heads', '--end-of-options', remote, `refs/heads/${branch}`], { cwd, ...access });
  const line = out.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
  return line ? line.split('\t')[0]! : null;
}

/** The SHA a local branch points at, or null. */
export async function localBranchSha(cwd: string, branch: string): Promise<string | null> {
  const r = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd, okCodes: [1, 128] });
  return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
}

/**
 * Pushes SHA to refs/heads/BRANCH on REMOTE, never forcing. Idempotent: when the remote branch
 * already points at SHA nothing happens; when it points elsewhere the push is refused (BRANCH_CONFLICT),
 * because someone else wrote that branch and overwriting it would lose their work.
 */
export async function pushBranch(cwd: string, remote: string, branch: string, sha: string, access: RemoteAccess = {}): Promise<{ pushed: boolean }> {
  if (!isSafeBranchName(branch)) throw new ForgeError('BAD_REF', `unsafe branch name ${JSON.stringify(branch)}`);
  const current = await remoteBranchSha(cwd, remote, branch, access);
  if (current === sha) return { pushed: false };
  if (current !== null) throw new ForgeError('BRANCH_CONFLICT', `${remote} already has ${branch} at ${current.slice(0, 12)}, not ${sha.slice(0, 12)}`);
  try {
    await git(['push', '--porcelain', '--end-of-options', remote, `${sha}:refs/heads/${branch}`], { cwd, ...access });
  } catch (e) {
    if (e instanceof ForgeError && e.code === 'GIT_FAILED' && /rejected|denied|hook declined/i.test(String(e.details?.stderr ?? ''))) {
      throw new ForgeError('PUSH_REJECTED', `push of ${branch} to ${remote} was rejected`, { cause: e });
    }
    throw e;
  }
  return { pushed: true };
}

/** The answer of `remoteBranchContains`: the branch's tip as the remote has it (null: no such branch). */
export interface RemoteBranchContains {
  tip: string | null;
  /** True when the commit is the tip or one of its ancestors. */
  contains: boolean;
  /**
   * When contained: the paths that differ between the commit and the tip (what the target gained
   * since), at most MAX_MOVED_PATHS of them; `movedTruncated` says there were more. A branch whose
   * parent is the commit carries the commit's version of each of these paths.
   */
  movedPaths: string[];
  movedTruncated: boolean;
}

export const MAX_MOVED_PATHS = 10_000;

/**
 * Whether COMMIT is on BRANCH as REMOTE has it right now: the tip, or one of its ancestors.
 *
 * Threat: the local repository holds whatever anyone put there (unmerged branches, stashes, dangling
 * commits, a local `main` ahead of the forge). So nothing local is consulted: the branch is fetched
 * from the remote into a throw-away repository that borrows cwd's objects read-only (alternates, so
 * objects cwd already has are not transferred again), and ancestry is walked there from the fetched
 * tip. Objects are content-addressed, so borrowing them cannot change the answer; replace refs and
 * commit-graph files (which could rewrite parents) are switched off. cwd itself is not written: no
 * ref, no FETCH_HEAD, no object.
 */
export async function remoteBranchContains(cwd: string, remote: string, branch: string, commit: string, access: RemoteAccess = {}): Promise<RemoteBranchContains> {
  if (!isSafeBranchName(branch)) throw new ForgeError('BAD_REF', `unsafe branch name ${JSON.stringify(branch)}`);
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new ForgeError('BAD_REF', 'not a full commit id');
  const objects = resolve(cwd, await gitText(['rev-parse', '--git-path', 'objects'], { cwd }));
  const tmp = await mkdtemp(join(tmpdir(), 'duallane-target-'));
  try {
    await git(['init', '--bare', '--quiet', tmp], { cwd: tmp });
    await writeFile(join(tmp, 'objects', 'info', 'alternates'), `${objects}\n`);
    const isolated = { GIT_NO_REPLACE_OBJECTS: '1' };
    const fetched = await git(['-c', 'core.commitGraph=false', 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', remote, `+refs/heads/${branch}:refs/duallane/target`], {
      cwd: tmp,
      ...access,
      env: { ...access.env, ...isolated },
      okCodes: [128],
    });
    if (fetched.code !== 0) {
      if (/couldn't find remote ref/i.test(fetched.stderr)) return { tip: null, contains: false, movedPaths: [], movedTruncated: false };
      throw new ForgeError('GIT_FAILED', `git fetch of ${branch} failed: ${firstLine(fetched.stderr)}`, { details: { exitCode: fetched.code, stderr: fetched.stderr.slice(0, 2000) } });
    }
    const tip = await gitText(['rev-parse', '--verify', 'refs/duallane/target^{commit}'], { cwd: tmp, env: isolated });
    const opts = { cwd: tmp, env: isolated, okCodes: [1, 128] };
    // A commit that is not in either object store cannot be an ancestor of the fetched tip.
    const none = { movedPaths: [], movedTruncated: false };
    if ((await git(['cat-file', '-e', `${commit}^{commit}`], opts)).code !== 0) return { tip, contains: false, ...none };
    const r = await git(['-c', 'core.commitGraph=false', 'merge-base', '--is-ancestor', commit, tip], opts);
    if (r.code === 128) throw new ForgeError('GIT_FAILED', 'git merge-base failed', { details: { stderr: r.stderr.slice(0, 2000) } });
    if (r.code !== 0) return { tip, contains: false, ...none };
    if (tip === commit) return { tip, contains: true, ...none };
    const diff = await git(['diff', '--no-renames', '--no-ext-diff', '--no-textconv', '--name-only', '-z', commit, tip, '--'], { cwd: tmp, env: isolated });
    const paths = diff.stdout.toString('utf8').split('\0').filter((x) => x !== '');
    return { tip, contains: true, movedPaths: paths.slice(0, MAX_MOVED_PATHS), movedTruncated: paths.length > MAX_MOVED_PATHS };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
