import { pathToFileURL } from 'node:url';
import { ForgeError } from './forge-error.js';
import type { Forge, LocalPullRequestRecord, OpenPullRequestInput, PullRequestRef, PullRequestStore } from './forge.js';
import { git, pushBranch, remoteBranchContains, type RemoteBranchContains } from './git.js';
import { NO_CREDENTIALS_ENV } from './push-auth.js';

/** A forge on one machine: a bare repository as the remote, pull requests as records in a store. */
export class LocalForge implements Forge {
  readonly kind = 'local' as const;
  readonly where: string;

  constructor(
    private readonly remote: string,
    private readonly store: PullRequestStore,
  ) {
    this.where = `local ${remote}`;
  }

  push(repoDir: string, branch: string, sha: string): Promise<{ pushed: boolean }> {
    return pushBranch(repoDir, this.remote, branch, sha);
  }

  branchContains(repoDir: string, branch: string, sha: string): Promise<RemoteBranchContains> {
    return remoteBranchContains(repoDir, this.remote, branch, sha, { env: { ...NO_CREDENTIALS_ENV } });
  }

  async findPullRequest(branch: string): Promise<PullRequestRef | null> {
    const rec = await this.store.findByBranch(branch);
    return rec ? toRef(rec, false) : null;
  }

  async openPullRequest(input: OpenPullRequestInput): Promise<PullRequestRef> {
    const existing = await this.store.findByBranch(input.branch);
    if (existing) {
      if (existing.headSha !== input.headSha) {
        throw new ForgeError('BRANCH_CONFLICT', `pull request #${existing.number} for ${input.branch} has head ${existing.headSha.slice(0, 12)}, not ${input.headSha.slice(0, 12)}`);
      }
      return toRef(existing, false);
    }
    // The head must really be on the remote: a PR record for a branch that was never pushed is a lie.
    const r = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${input.branch}`], { cwd: this.remote, okCodes: [1, 128] });
    if (r.code !== 0 || r.stdout.toString('utf8').trim() !== input.headSha) {
      throw new ForgeError('PR_VALIDATION_FAILED', `branch ${input.branch} is not at ${input.headSha.slice(0, 12)} on ${this.remote}`);
    }
    const rec = await this.store.create({
      handoffId: input.handoffId,
      lane: input.lane,
      branch: input.branch,
      base: input.base,
      headSha: input.headSha,
      title: input.title,
      body: input.body,
    });
    return toRef(rec, rec.headSha === input.headSha && rec.handoffId === input.handoffId);
  }

  async addLabels(pr: number, labels: string[]): Promise<string[]> {
    const rec = await this.mustGet(pr);
    const all = [...new Set([...rec.labels, ...labels])].sort();
    await this.store.update(pr, { labels: all });
    return all;
  }

  async comment(pr: number, body: string, marker: string): Promise<{ created: boolean }> {
    const rec = await this.mustGet(pr);
    if (rec.comments.some((c) => c.marker === marker)) return { created: false };
    await this.store.update(pr, { comments: [...rec.comments, { marker, body }] });
    return { created: true };
  }

  private async mustGet(pr: number): Promise<LocalPullRequestRecord> {
    const rec = await this.store.get(pr);
    if (!rec) throw new ForgeError('FORGE_NOT_FOUND', `no pull request #${pr} in the local forge`);
    return rec;
  }
}

function toRef(rec: LocalPullRequestRecord, created: boolean): PullRequestRef {
  return { number: rec.number, url: rec.url, branch: rec.branch, base: rec.base, headSha: rec.headSha, state: rec.state, created };
}

/** The URL a local pull request record gets: the remote's file URL plus a fragment. */
export function localPullRequestUrl(remote: string, number: number): string {
  return `${pathToFileURL(remote).href}#pull/${number}`;
}

/** An in-process store (tests, dry runs). Not shared between processes. */
export class MemoryPullRequestStore implements PullRequestStore {
  private readonly recs: LocalPullRequestRecord[] = [];
  constructor(private readonly remote: string) {}

  async findByBranch(branch: string) {
    return structuredClone(this.recs.find((r) => r.branch === branch) ?? null);
  }
  async get(number: number) {
    return structuredClone(this.recs.find((r) => r.number === number) ?? null);
  }
  async create(rec: Omit<LocalPullRequestRecord, 'number' | 'url' | 'labels' | 'comments' | 'state'>) {
    const existing = this.recs.find((r) => r.branch === rec.branch);
    if (existing) return structuredClone(existing);
    const number = this.recs.length + 1;
    const full: LocalPullRequestRecord = { ...rec, number, url: localPullRequestUrl(this.remote, number), state: 'open', labels: [], comments: [] };
    this.recs.push(full);
    return structuredClone(full);
  }
  async update(number: number, change: { labels?: string[]; comments?: { marker: string; body: string }[] }) {
    const r = this.recs.find((x) => x.number === number);
    if (!r) throw new ForgeError('FORGE_NOT_FOUND', `no pull request #${number}`);
    if (change.labels) r.labels = [...change.labels];
    if (change.comments) r.comments = structuredClone(change.comments);
  }
}
