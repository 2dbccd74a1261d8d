import type { Forge } from '../forge/index.js';
import { HandoffError } from './handoff-error.js';

/**
 * The base-commit rule: a proposal's base must be its target branch's tip on the forge, or one of
 * that tip's ancestors, as fetched from the forge now (the local forge's bare remote, or GitHub with
 * the execute lane's token) — never as any local ref says.
 *
 * Threat: the executor's object store holds unmerged branches, stashes, dangling commits and a
 * local target branch that may be ahead of the forge. The commit pushed has the base as its parent,
 * so a base off the target would publish its whole history (workflows, `.env` files, large files,
 * private work) past the scope policy, which judges the patch. With the base on the target, what a
 * pull request merges (its diff from the merge base with the target tip, which is the base) is
 * exactly the artifact the scope policy judged.
 *
 * No content oracle: the refusal names the base the proposer chose and the target branch, and says
 * nothing about what the base contains. It comes before anything reads the base's tree (scope,
 * applying the patch), so how a patch fares against a private ref cannot be learnt either.
 */
export async function assertBaseOnTarget(
  forge: Forge,
  repoDir: string,
  baseCommit: string,
  targetBranch: string,
  opts: { label?: string } = {},
): Promise<{ tip: string; movedPaths: string[]; movedTruncated: boolean }> {
  const r = await forge.branchContains(repoDir, targetBranch, baseCommit);
  // A missing target branch is refused in the same words: which branches exist is not told either.
  if (r.tip === null || !r.contains) throw baseNotOnTarget(forge, opts.label ?? baseCommit, targetBranch);
  return { tip: r.tip, movedPaths: r.movedPaths, movedTruncated: r.movedTruncated };
}

/**
 * The refusal, worded the same whether the base is a commit off the target, names nothing at all, or
 * the target branch does not exist. BASE names what the caller gave (never a commit id resolved from
 * it: that would tell a remote caller the ids of private refs).
 */
export function baseNotOnTarget(forge: Forge, base: string, targetBranch: string): HandoffError {
  return new HandoffError('BASE_NOT_ON_TARGET', `base ${base} is neither the tip of ${targetBranch} on the forge (${forge.kind}) nor one of its ancestors`, {
    details: { base, targetBranch },
  });
}
