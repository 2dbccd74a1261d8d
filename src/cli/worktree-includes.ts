import { join, relative } from 'node:path';
import { CONFIG_FILE_NAME, InputError, type DuallaneConfig } from '../config/index.js';
import { git, gitText } from '../forge/index.js';

/**
 * What `handoff propose --from-worktree` sweeps in besides tracked changes: every untracked file
 * git does not ignore. This module names those files so the CLI can list them, and refuses the
 * files `duallane init` writes while they are still uncommitted: they would land in the first
 * proposal, and the execute lane rejects `.env.<lane>.example` (PATH_DENIED by the default scope).
 */

/** Untracked, not git-ignored paths of the repository, relative to its top level. */
export async function untrackedPaths(repoDir: string): Promise<Set<string>> {
  const top = await gitText(['rev-parse', '--show-toplevel'], { cwd: repoDir });
  const out = (await git(['ls-files', '--others', '--exclude-standard', '-z', '--', '.'], { cwd: top })).stdout.toString('utf8');
  return new Set(out.split('\0').filter(Boolean));
}

/** The files `duallane init` writes for the user to commit, relative to the config root. */
export function initFilesToCommit(config: DuallaneConfig): string[] {
  return [CONFIG_FILE_NAME, '.gitignore', ...config.lanes.map((l) => `.env.${l.name}.example`)];
}

/** INIT_UNCOMMITTED (exit 2) when any file init wrote is untracked in `repoDir`; nothing is signed. */
export async function refuseUncommittedInitFiles(config: DuallaneConfig, repoDir: string, untracked: Set<string>): Promise<void> {
  const top = await gitText(['rev-parse', '--show-toplevel'], { cwd: repoDir });
  const files = initFilesToCommit(config);
  const uncommitted = files.filter((f) => untracked.has(relative(top, join(config.root, f)).split('\\').join('/')));
  if (uncommitted.length === 0) return;
  throw new InputError(
    'INIT_UNCOMMITTED',
    `commit what duallane init created before proposing from the working tree (it would be part of the proposal): git add ${uncommitted.join(' ')} && git commit -m "duallane init"; or propose a --patch`,
    { details: { uncommitted } },
  );
}
