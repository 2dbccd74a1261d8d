import { Octokit } from '@octokit/rest';
import { LabelsError } from './labels-error.js';
import type { RepoLabel } from './sync-plan.js';

export interface GitHubLabelsClientOptions {
  /** Token with `issues: write` (or `repo`) scope; optional for listing public repositories. */
  token?: string;
  /** REST API base URL: https://api.github.com, a GHES `/api/v3` URL, or a local fake in tests. */
  baseUrl?: string;
}

/**
 * The GitHub REST calls label sync needs, with GitHub's failures mapped to LabelsError codes.
 * The token is handed to Octokit and never appears in an error message.
 */
export class GitHubLabelsClient {
  private readonly octokit: Octokit;

  constructor(opts: GitHubLabelsClientOptions = {}) {
    this.octokit = new Octokit({
      auth: opts.token || undefined,
      baseUrl: (opts.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
      userAgent: 'duallane-labels-sync',
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
  }

  /** Every label of the repository, following the Link header's pages. */
  async list(owner: string, repo: string): Promise<RepoLabel[]> {
    return call(`list labels of ${owner}/${repo}`, async () => {
      const all = await this.octokit.paginate(this.octokit.rest.issues.listLabelsForRepo, { owner, repo, per_page: 100 });
      return all.map((l) => ({ name: l.name, color: l.color, description: l.description ?? null }));
    });
  }

  async create(owner: string, repo: string, label: { name: string; color: string; description: string }): Promise<void> {
    await call(`create label ${JSON.stringify(label.name)}`, () => this.octokit.rest.issues.createLabel({ owner, repo, ...label }));
  }

  /** Updates color and description, renaming when `newName` differs from `name`. */
  async update(owner: string, repo: string, name: string, label: { newName: string; color: string; description: string }): Promise<void> {
    await call(`update label ${JSON.stringify(name)}`, () =>
      this.octokit.rest.issues.updateLabel({ owner, repo, name, new_name: label.newName, color: label.color, description: label.description }),
    );
  }

  async delete(owner: string, repo: string, name: string): Promise<void> {
    await call(`delete label ${JSON.stringify(name)}`, () => this.octokit.rest.issues.deleteLabel({ owner, repo, name }));
  }
}

interface OctokitFailure {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toLabelsError(what, e);
  }
}

/** Maps an Octokit RequestError (or a network failure) onto our codes. */
export function toLabelsError(what: string, e: unknown): LabelsError {
  const err = e as OctokitFailure;
  if (!err.response) return new LabelsError('GITHUB_UNREACHABLE', `${what}: GitHub API unreachable`, { cause: e });
  const status = err.status ?? 0;
  const headers = err.response.headers ?? {};
  const data = (err.response.data ?? {}) as { message?: string; errors?: { code?: string; field?: string }[] };
  const ghMessage = typeof data.message === 'string' ? data.message.slice(0, 200) : `HTTP ${status}`;
  const details = { status, githubMessage: ghMessage };
  if ((status === 403 || status === 429) && (String(headers['x-ratelimit-remaining']) === '0' || headers['retry-after'] !== undefined)) {
    const reset = Number(headers['x-ratelimit-reset']);
    const when = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : undefined;
    return new LabelsError('GITHUB_RATE_LIMITED', `${what}: GitHub rate limit exceeded${when ? `; resets at ${when}` : ''}`, {
      cause: e,
      details: { ...details, ...(when ? { resetAt: when } : {}) },
    });
  }
  if (status === 401) return new LabelsError('GITHUB_UNAUTHORIZED', `${what}: GitHub rejected the token (401)`, { cause: e, details });
  if (status === 403) return new LabelsError('GITHUB_FORBIDDEN', `${what}: forbidden (403): ${ghMessage}`, { cause: e, details });
  if (status === 404) return new LabelsError('GITHUB_NOT_FOUND', `${what}: not found (404); check --repo and the token's access`, { cause: e, details });
  if (status === 422 && data.errors?.some((x) => x.code === 'already_exists')) {
    return new LabelsError('LABEL_CONFLICT', `${what}: a label with that name already exists (422 already_exists)`, { cause: e, details });
  }
  return new LabelsError('GITHUB_REQUEST_FAILED', `${what}: HTTP ${status}: ${ghMessage}`, { cause: e, details });
}
