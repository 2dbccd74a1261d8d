import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ForgeError, git, gitText, resolveCommit } from '../forge/index.js';
import { HandoffError } from './handoff-error.js';

/**
 * A handoff artifact is one patch in `git format-patch` mbox shape with every variable part fixed:
 * the author, date and subject are constants and there is no trailing git version line, and the diff
 * is `git diff-tree -p --binary --full-index --no-renames` between the base commit and the proposed
 * tree, under a configuration that ignores the user's settings. So the same change to the same base
 * gives the same bytes, hence the same digest, however it was produced (worktree or patch file).
 * Title and summary live in the signed statement, not here.
 */
export const PATCH_HEADER =
  'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n' +
  'From: duallane <handoff@duallane.invalid>\n' +
  'Date: Thu, 1 Jan 1970 00:00:00 +0000\n' +
  'Subject: [PATCH] duallane handoff\n' +
  '\n' +
  '---\n';

export const MAX_PATCH_BYTES = 16 * 1024 * 1024;

export interface PatchArtifact {
  bytes: Buffer;
  digest: string;
  baseCommit: string;
  /** The tree the patch produces on the base commit. */
  tree: string;
}

/** The change between BASE and the working tree (tracked and untracked files, .gitignore honoured). */
export async function patchFromWorktree(repoDir: string, base = 'HEAD'): Promise<PatchArtifact> {
  const baseCommit = await resolveCommit(repoDir, base);
  const root = await gitText(['rev-parse', '--show-toplevel'], { cwd: repoDir });
  return withTempIndex(async (env) => {
    await git(['read-tree', baseCommit], { cwd: root, env });
    await git(['add', '-A', '--', '.'], { cwd: root, env });
    const tree = await gitText(['write-tree'], { cwd: root, env });
    return canonicalPatch(root, baseCommit, tree);
  });
}

/**
 * The change a patch file makes to BASE, re-derived by git: the file is applied to BASE in a
 * temporary index (never the working tree) and the result is diffed canonically. A patch that does
 * not apply is refused here, at proposal time.
 */
export async function patchFromFile(repoDir: string, patch: Buffer, base = 'HEAD'): Promise<PatchArtifact> {
  if (patch.length > MAX_PATCH_BYTES) throw new HandoffError('INPUT_TOO_LARGE', `patch is ${patch.length} bytes, more than ${MAX_PATCH_BYTES}`);
  const baseCommit = await resolveCommit(repoDir, base);
  const root = await gitText(['rev-parse', '--show-toplevel'], { cwd: repoDir });
  return withTempIndex(async (env) => {
    await git(['read-tree', baseCommit], { cwd: root, env });
    await applyToIndex(root, env, patch);
    const tree = await gitText(['write-tree'], { cwd: root, env });
    return canonicalPatch(root, baseCommit, tree);
  });
}

/**
 * Applies artifact bytes to BASE in a temporary index and returns the resulting tree, checking that
 * re-deriving the artifact from that tree gives the very same bytes. This is what makes the parsed
 * view (what the scope policy judged) and git's view (what gets committed) the same change.
 */
export async function treeOfArtifact(repoDir: string, baseCommit: string, bytes: Buffer, opts: { quarantine?: boolean } = {}): Promise<string> {
  return withTempIndex(async (indexEnv, tmp) => {
    const env = { ...indexEnv };
    if (opts.quarantine) {
      // Like git's receive-pack quarantine: new objects go to a throw-away directory, the repository's
      // own objects are read through the alternates variable. Verification writes nothing to the repo.
      const objects = resolve(repoDir, await gitText(['rev-parse', '--git-path', 'objects'], { cwd: repoDir }));
      env.GIT_OBJECT_DIRECTORY = join(tmp, 'objects');
      env.GIT_ALTERNATE_OBJECT_DIRECTORIES = objects;
      await mkdir(env.GIT_OBJECT_DIRECTORY);
    }
    await git(['read-tree', baseCommit], { cwd: repoDir, env });
    await applyToIndex(repoDir, env, bytes);
    const tree = await gitText(['write-tree'], { cwd: repoDir, env });
    const again = await canonicalPatch(repoDir, baseCommit, tree, env);
    if (!again.bytes.equals(bytes)) {
      throw new HandoffError('ARTIFACT_NOT_CANONICAL', 'the artifact is not the canonical patch of the change it makes');
    }
    return tree;
  });
}

async function applyToIndex(cwd: string, env: Record<string, string>, patch: Buffer): Promise<void> {
  try {
    // --cached: only the temporary index changes. git apply itself refuses paths with `..`,
    // paths under .git and paths beyond symlinks; the scope policy checks these again before.
    await git(['apply', '--cached', '--binary', '--whitespace=nowarn', '-'], { cwd, env, input: patch });
  } catch (e) {
    if (e instanceof ForgeError && e.code === 'GIT_FAILED') {
      throw new HandoffError('PATCH_DOES_NOT_APPLY', `the patch does not apply to the base commit: ${e.message.replace(/^git apply failed \(exit \d+\): /, '')}`, { cause: e });
    }
    throw e;
  }
}

async function canonicalPatch(cwd: string, baseCommit: string, tree: string, env?: Record<string, string>): Promise<PatchArtifact> {
  const diff = await git(
    ['diff-tree', '-r', '-p', '--binary', '--full-index', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv', '-U3', '--src-prefix=a/', '--dst-prefix=b/', baseCommit, tree],
    { cwd, env, maxBuffer: MAX_PATCH_BYTES * 2 },
  );
  if (diff.stdout.length === 0) throw new HandoffError('EMPTY_CHANGE', `nothing changed relative to ${baseCommit.slice(0, 12)}`);
  const bytes = Buffer.concat([Buffer.from(PATCH_HEADER, 'utf8'), diff.stdout]);
  if (bytes.length > MAX_PATCH_BYTES) throw new HandoffError('INPUT_TOO_LARGE', `the patch is ${bytes.length} bytes, more than ${MAX_PATCH_BYTES}`);
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, baseCommit, tree };
}

async function withTempIndex<T>(fn: (env: Record<string, string>, tmp: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'duallane-index-'));
  try {
    return await fn({ GIT_INDEX_FILE: join(dir, `index-${randomBytes(4).toString('hex')}`) }, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
