import type { GithubLaneSettings, PermissionLevel } from '../config/index.js';
import { LaneError, type LaneFinding } from './lane-error.js';

type Permissions = GithubLaneSettings['permissions'];
type PermissionName = keyof Permissions;

export interface GithubTokenReport {
  repo: string;
  /** classic: scopes from x-oauth-scopes; repository: the `permissions` object of GET /repos/{owner}/{repo}. */
  source: 'classic-scopes' | 'repository-permissions';
  scopes: string[] | null;
  effective: Permissions;
  violations: LaneFinding[];
}

const RANK: Record<PermissionLevel, number> = { none: 0, read: 1, write: 2 };

/** What a classic token's scopes grant on a repository. */
export function permissionsFromScopes(scopes: readonly string[]): Permissions {
  const has = (s: string) => scopes.includes(s);
  const repoWrite = has('repo') || has('public_repo');
  return {
    contents: repoWrite ? 'write' : 'read',
    pullRequests: repoWrite ? 'write' : 'read',
    issues: repoWrite ? 'write' : 'read',
    workflows: has('workflow') ? 'write' : 'none',
    administration: has('delete_repo') || has('admin:repo_hook') || has('admin:org') ? 'write' : 'none',
  };
}

/** What GET /repos/{o}/{r}'s `permissions` says the caller may do. */
export function permissionsFromRepository(p: { admin?: boolean; maintain?: boolean; push?: boolean; triage?: boolean; pull?: boolean }): Permissions {
  return {
    contents: p.push ? 'write' : p.pull ? 'read' : 'none',
    pullRequests: p.push ? 'write' : p.triage || p.pull ? 'read' : 'none',
    issues: p.push || p.triage ? 'write' : p.pull ? 'read' : 'none',
    // A token that can push can usually also change workflows unless the workflow permission is absent;
    // the repository view cannot tell, so only admin counts here.
    workflows: p.admin ? 'write' : 'none',
    administration: p.admin || p.maintain ? 'write' : 'none',
  };
}

/**
 * Asks GitHub what `token` may do on `repo` and reports every permission above the lane's ceiling.
 * Classic tokens: the `x-oauth-scopes` response header is authoritative. Fine-grained and app tokens
 * send no scopes header; the repository's `permissions` object (the caller's effective access) is
 * used instead. The API base is `apiUrl` (GITHUB_API_URL overrides it, so tests can point it at a
 * local server replaying recorded responses).
 */
export async function checkGithubToken(opts: { token: string; repo: string; apiUrl: string; allowed: Permissions; fetchImpl?: typeof fetch }): Promise<GithubTokenReport> {
  const url = `${opts.apiUrl.replace(/\/+$/, '')}/repos/${opts.repo}`;
  let res: Response;
  try {
    res = await (opts.fetchImpl ?? fetch)(url, {
      headers: { authorization: `Bearer ${opts.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'duallane' },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new LaneError('GITHUB_UNREACHABLE', `cannot reach ${opts.apiUrl}: ${(cause as Error).message}`, { cause });
  }
  const violations: LaneFinding[] = [];
  if (res.status === 401) {
    return { repo: opts.repo, source: 'repository-permissions', scopes: null, effective: none(), violations: [{ code: 'GITHUB_TOKEN_INVALID', message: 'GitHub rejected the token (401)' }] };
  }
  if (!res.ok) {
    throw new LaneError('GITHUB_UNREACHABLE', `GET /repos/${opts.repo} answered ${res.status}`);
  }
  const body = (await res.json()) as { permissions?: Record<string, boolean> };
  const header = res.headers.get('x-oauth-scopes');
  const scopes = header === null ? null : header.split(',').map((s) => s.trim()).filter(Boolean);
  const effective = scopes ? permissionsFromScopes(scopes) : permissionsFromRepository(body.permissions ?? {});
  for (const name of Object.keys(effective) as PermissionName[]) {
    if (RANK[effective[name]] > RANK[opts.allowed[name]]) {
      violations.push({
        code: 'GITHUB_PERMISSION_EXCESS',
        message: `the GitHub token has ${name}: ${effective[name]} on ${opts.repo}${scopes ? ` (scopes: ${scopes.join(', ') || 'none'})` : ''}; this lane may hold at most ${opts.allowed[name]}`,
      });
    }
  }
  return { repo: opts.repo, source: scopes ? 'classic-scopes' : 'repository-permissions', scopes, effective, violations };
}

function none(): Permissions {
  return { contents: 'none', pullRequests: 'none', issues: 'none', workflows: 'none', administration: 'none' };
}
