import { Octokit } from '@octokit/rest';
import { ForgeError } from './forge-error.js';
import type { Forge, OpenPullRequestInput, PullRequestRef } from './forge.js';
import { pushBranch, remoteBranchContains, type RemoteAccess, type RemoteBranchContains } from './git.js';
import { NO_CREDENTIALS_ENV, gitPushTarget, tokenPushAccess, type GitPushTarget } from './push-auth.js';

export interface GitHubForgeOptions {
  owner: string;
  repo: string;
  /**
   * The lane's token with contents/pull-requests/issues write. Handed to Octokit and, for pushes, to
   * git through environment-only config (push-auth.ts); never on a command line, in .git/config or
   * in a message.
   */
  token: string;
  /** REST API base: https://api.github.com, a GHES `/api/v3` URL, or a local fake in tests. */
  baseUrl?: string;
  /**
   * Where branches are pushed: the repository's https:// URL; or a remote name (e.g. `origin`), which
   * stands for the HTTPS URL of owner/repo on the API's host (the remote's own URL is not used: it
   * may be SSH); or a local path / file:// URL (no credentials). SSH and git:// remotes are refused.
   */
  remote: string;
  /**
   * A rate-limited call is retried once when GitHub asks to wait at most this long (retry-after or
   * x-ratelimit-reset); longer waits fail with FORGE_RATE_LIMITED. Default 10 seconds.
   */
  maxRetryWaitSeconds?: number;
}

/** GitHub through @octokit/rest. Every operation is idempotent so that a re-run after a crash is safe. */
export class GitHubForge implements Forge {
  readonly kind = 'github' as const;
  readonly where: string;
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;
  private readonly pushTarget: GitPushTarget;
  private readonly token: string;
  private readonly maxWait: number;

  constructor(opts: GitHubForgeOptions) {
    this.owner = opts.owner;
    this.repo = opts.repo;
    this.token = opts.token;
    this.maxWait = opts.maxRetryWaitSeconds ?? 10;
    const baseUrl = (opts.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
    this.pushTarget = gitPushTarget(opts.remote, baseUrl, opts.owner, opts.repo);
    this.where = `github ${opts.owner}/${opts.repo} (${baseUrl})`;
    this.octokit = new Octokit({
      auth: opts.token || undefined,
      baseUrl,
      userAgent: 'duallane-handoff',
      request: { retries: 0 },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
  }

  /**
   * Pushes with the lane's token and nothing else (see push-auth.ts): never forcing, a no-op when the
   * branch is already at sha, BRANCH_CONFLICT when it is elsewhere.
   */
  async push(repoDir: string, branch: string, sha: string): Promise<{ pushed: boolean }> {
    return this.withRemote('push to', (remote, access) => pushBranch(repoDir, remote, branch, sha, access));
  }

  /**
   * Fetches the branch from the repository with the lane's token and nothing else, as push does, and
   * checks ancestry on the fetched tip (see remoteBranchContains).
   */
  async branchContains(repoDir: string, branch: string, sha: string): Promise<RemoteBranchContains> {
    return this.withRemote('fetch from', (remote, access) => remoteBranchContains(repoDir, remote, branch, sha, access));
  }

  /**
   * The one decision push and fetch share: which remote, with which access. A local path gets no
   * credentials at all; HTTPS gets the lane's token and nothing else (see push-auth.ts), and its git
   * errors are reported without the token.
   */
  private async withRemote<T>(what: 'push to' | 'fetch from', fn: (remote: string, access: RemoteAccess) => Promise<T>): Promise<T> {
    const target = this.pushTarget;
    switch (target.kind) {
      case 'invalid':
        throw new ForgeError('BAD_USAGE', target.reason);
      case 'local':
        return fn(target.path, { env: { ...NO_CREDENTIALS_ENV } });
      case 'https': {
        if (!this.token) throw new ForgeError('FORGE_UNAUTHORIZED', `${what} ${target.url}: the lane has no GitHub token`);
        try {
          return await fn(target.url, tokenPushAccess(target.url, this.token));
        } catch (e) {
          throw toPushError(target.url, e, what);
        }
      }
    }
  }

  async findPullRequest(branch: string): Promise<PullRequestRef | null> {
    const list = await this.call(`list pull requests for ${branch}`, () =>
      this.octokit.rest.pulls.list({ owner: this.owner, repo: this.repo, head: `${this.owner}:${branch}`, state: 'all', per_page: 10 }),
    );
    // The head filter is the API's; do not trust it alone (a fake or a fork could answer loosely).
    const pr = list.data.find((p) => p.head?.ref === branch);
    return pr ? toRef(pr, false) : null;
  }

  async openPullRequest(input: OpenPullRequestInput): Promise<PullRequestRef> {
    const existing = await this.findPullRequest(input.branch);
    if (existing) return existing;
    try {
      const r = await this.call(`create pull request for ${input.branch}`, () =>
        this.octokit.rest.pulls.create({ owner: this.owner, repo: this.repo, head: input.branch, base: input.base, title: input.title, body: input.body }),
      );
      return toRef(r.data, true);
    } catch (e) {
      // 422 "A pull request already exists": someone (our crashed previous run) won the race.
      if (e instanceof ForgeError && e.code === 'PR_VALIDATION_FAILED' && /already exists/i.test(JSON.stringify(e.details ?? {}))) {
        const again = await this.findPullRequest(input.branch);
        if (again) return again;
      }
      throw e;
    }
  }

  async addLabels(pr: number, labels: string[]): Promise<string[]> {
    const r = await this.call(`label pull request #${pr}`, () =>
      this.octokit.rest.issues.addLabels({ owner: this.owner, repo: this.repo, issue_number: pr, labels }),
    );
    return r.data.map((l) => l.name).sort();
  }

  async comment(pr: number, body: string, marker: string): Promise<{ created: boolean }> {
    const tag = `<!-- duallane:${marker} -->`;
    const existing = await this.call(`list comments of #${pr}`, () =>
      this.octokit.paginate(this.octokit.rest.issues.listComments, { owner: this.owner, repo: this.repo, issue_number: pr, per_page: 100 }),
    );
    if (existing.some((c) => typeof c.body === 'string' && c.body.includes(tag))) return { created: false };
    await this.call(`comment on #${pr}`, () =>
      this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: pr, body: `${tag}\n${body}` }),
    );
    return { created: true };
  }

  /** Labels an issue (the `--issue N` of propose). */
  async labelIssue(issue: number, labels: string[]): Promise<string[]> {
    return this.addLabels(issue, labels);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const err = toForgeError(what, e);
      const wait = Number(err.details?.retryAfterSeconds);
      if (err.code === 'FORGE_RATE_LIMITED' && Number.isFinite(wait) && wait <= this.maxWait) {
        await new Promise((r) => setTimeout(r, wait * 1000));
        try {
          return await fn();
        } catch (e2) {
          throw toForgeError(what, e2);
        }
      }
      throw err;
    }
  }
}

/**
 * Names the HTTP failures of an authenticated push (or fetch) by what the caller can do about them. git's
 * stderr has been redacted already (the token and its header form are `secrets` of the call).
 */
function toPushError(url: string, e: unknown, what = 'push to'): unknown {
  if (!(e instanceof ForgeError) || (e.code !== 'GIT_FAILED' && e.code !== 'PUSH_REJECTED')) return e;
  const inner = e.code === 'PUSH_REJECTED' && e.cause instanceof ForgeError ? e.cause : e;
  const stderr = String(inner.details?.stderr ?? '');
  const details = { url, stderr: stderr.slice(0, 2000) };
  if (/Authentication failed|returned error: 401|could not read (Username|Password)/i.test(stderr)) {
    return new ForgeError('FORGE_UNAUTHORIZED', `${what} ${url}: the lane's token was refused (401)`, { cause: e, details });
  }
  if (/returned error: 403|Permission to \S+ denied/i.test(stderr)) {
    return new ForgeError('FORGE_FORBIDDEN', `${what} ${url}: the lane's token may not ${what === 'push to' ? 'push' : 'read'} there (403)`, { cause: e, details });
  }
  if (/returned error: 404|Repository not found/i.test(stderr)) {
    return new ForgeError('FORGE_NOT_FOUND', `${what} ${url}: repository not found (404)`, { cause: e, details });
  }
  if (/Could not resolve host|Failed to connect|Connection refused|Connection timed out/i.test(stderr)) {
    return new ForgeError('FORGE_UNREACHABLE', `${what} ${url}: git server unreachable`, { cause: e, details });
  }
  return e;
}

interface GitHubPull {
  number: number;
  html_url: string;
  state: string;
  merged_at?: string | null;
  head: { ref: string; sha: string };
  base: { ref: string };
}

function toRef(p: GitHubPull, created: boolean): PullRequestRef {
  const state = p.merged_at ? 'merged' : p.state === 'closed' ? 'closed' : 'open';
  return { number: p.number, url: p.html_url, branch: p.head.ref, base: p.base.ref, headSha: p.head.sha, state, created };
}

interface OctokitFailure {
  status?: number;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

/**
 * Maps an Octokit RequestError (or a network failure) onto ForgeError codes. GitHub signals a rate
 * limit as 403 or 429 with `x-ratelimit-remaining: 0` (primary) or `retry-after` (secondary); a 403
 * without those is a permission problem.
 */
export function toForgeError(what: string, e: unknown): ForgeError {
  if (e instanceof ForgeError) return e;
  const err = e as OctokitFailure;
  if (!err?.response) return new ForgeError('FORGE_UNREACHABLE', `${what}: GitHub API unreachable`, { cause: e });
  const status = err.status ?? 0;
  const headers = err.response.headers ?? {};
  const data = (err.response.data ?? {}) as { message?: unknown; errors?: { code?: string; field?: string; message?: string }[] };
  const ghMessage = typeof data.message === 'string' ? data.message.slice(0, 200) : `HTTP ${status}`;
  const errors = Array.isArray(data.errors) ? data.errors.slice(0, 5).map((x) => ({ code: x?.code, field: x?.field, message: typeof x?.message === 'string' ? x.message.slice(0, 200) : undefined })) : [];
  const details: Record<string, unknown> = { status, githubMessage: ghMessage, ...(errors.length ? { errors } : {}) };
  if ((status === 403 || status === 429) && (String(headers['x-ratelimit-remaining']) === '0' || headers['retry-after'] !== undefined || status === 429)) {
    const retryAfter = Number(headers['retry-after']);
    const reset = Number(headers['x-ratelimit-reset']);
    const waitSeconds = Number.isFinite(retryAfter) ? retryAfter : Number.isFinite(reset) && reset > 0 ? Math.max(0, Math.ceil(reset - Date.now() / 1000)) : undefined;
    return new ForgeError('FORGE_RATE_LIMITED', `${what}: GitHub rate limit exceeded${waitSeconds !== undefined ? `; retry in ${waitSeconds}s` : ''}`, {
      cause: e,
      details: { ...details, ...(waitSeconds !== undefined ? { retryAfterSeconds: waitSeconds } : {}) },
    });
  }
  if (status === 401) return new ForgeError('FORGE_UNAUTHORIZED', `${what}: GitHub rejected the token (401)`, { cause: e, details });
  if (status === 403) return new ForgeError('FORGE_FORBIDDEN', `${what}: forbidden (403): ${ghMessage}`, { cause: e, details });
  if (status === 404) return new ForgeError('FORGE_NOT_FOUND', `${what}: not found (404)`, { cause: e, details });
  if (status === 422) return new ForgeError('PR_VALIDATION_FAILED', `${what}: validation failed (422): ${errors[0]?.message ?? ghMessage}`, { cause: e, details });
  return new ForgeError('FORGE_REQUEST_FAILED', `${what}: HTTP ${status}: ${ghMessage}`, { cause: e, details });
}
