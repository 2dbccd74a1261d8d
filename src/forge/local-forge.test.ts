import { afterEach, describe, expect, it } from 'vitest';
import { makeBareRemote, makeTempRepo } from '../../test/handoff/temp-repo.js';
import { LocalForge, MemoryPullRequestStore } from './local-forge.js';
import { commitExists, isSafeBranchName, pushBranch, remoteBranchSha, resolveCommit } from './git.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function setup() {
  const repo = makeTempRepo();
  const remote = makeBareRemote();
  cleanups.push(repo.cleanup, remote.cleanup);
  return { repo, remote };
}

describe('git helpers and the local forge', () => {
  it('resolves refs and rejects option-looking or unknown refs', async () => {
    const { repo } = setup();
    const head = repo.git('rev-parse', 'HEAD');
    expect(await resolveCommit(repo.dir, 'HEAD')).toBe(head);
    await expect(resolveCommit(repo.dir, '--output=/tmp/x')).rejects.toMatchObject({ code: 'BAD_REF' });
    await expect(resolveCommit(repo.dir, 'nope')).rejects.toMatchObject({ code: 'BAD_REF' });
    expect(await commitExists(repo.dir, head)).toBe(true);
    expect(await commitExists(repo.dir, '0'.repeat(40))).toBe(false);
    expect(isSafeBranchName('lane/claude/01J')).toBe(true);
    for (const bad of ['-x', 'a..b', 'a/', '/a', 'a b', 'a.lock', 'a@{1}']) expect(isSafeBranchName(bad)).toBe(false);
  });

  it('pushes idempotently and never overwrites a branch pointing elsewhere', async () => {
    const { repo, remote } = setup();
    const head = repo.git('rev-parse', 'HEAD');
    expect(await pushBranch(repo.dir, remote.dir, 'lane/claude/x', head)).toEqual({ pushed: true });
    expect(await pushBranch(repo.dir, remote.dir, 'lane/claude/x', head)).toEqual({ pushed: false });
    expect(await remoteBranchSha(repo.dir, remote.dir, 'lane/claude/x')).toBe(head);
    repo.write('b.txt', 'b\n');
    const next = repo.commitAll('second');
    await expect(pushBranch(repo.dir, remote.dir, 'lane/claude/x', next)).rejects.toMatchObject({ code: 'BRANCH_CONFLICT' });
    expect(remote.git('rev-parse', 'refs/heads/lane/claude/x')).toBe(head);
  });

  it('opens one pull request per branch, labels and comments once', async () => {
    const { repo, remote } = setup();
    const head = repo.git('rev-parse', 'HEAD');
    const forge = new LocalForge(remote.dir, new MemoryPullRequestStore(remote.dir));
    const input = { handoffId: 'H1', lane: 'claude', branch: 'lane/claude/H1', base: 'main', headSha: head, title: 'T', body: 'B' };
    // Not pushed yet: a PR record for a branch that is not on the remote is refused.
    await expect(forge.openPullRequest(input)).rejects.toMatchObject({ code: 'PR_VALIDATION_FAILED' });
    await forge.push(repo.dir, input.branch, head);
    const pr = await forge.openPullRequest(input);
    expect(pr).toMatchObject({ number: 1, created: true, state: 'open' });
    expect(pr.url).toMatch(/^file:\/\/.*#pull\/1$/);
    expect(await forge.openPullRequest(input)).toMatchObject({ number: 1, created: false });
    expect(await forge.addLabels(1, ['lane:codex', 'handoff:verified'])).toEqual(['handoff:verified', 'lane:codex']);
    expect(await forge.addLabels(1, ['lane:codex'])).toEqual(['handoff:verified', 'lane:codex']);
    expect(await forge.comment(1, 'ok', 'm')).toEqual({ created: true });
    expect(await forge.comment(1, 'ok', 'm')).toEqual({ created: false });
    expect((await forge.findPullRequest(input.branch))?.number).toBe(1);
  });
});
