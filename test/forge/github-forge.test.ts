import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitHubForge } from '../../src/forge/index.js';
import { FakeGitHub } from './fake-github.js';

const TOKEN = 'ghs_secretTOKENvalue123';
let gh: FakeGitHub;
let forge: GitHubForge;

beforeAll(async () => {
  gh = new FakeGitHub();
  await gh.start();
});
afterAll(() => gh.stop());
beforeEach(() => {
  gh.pulls.length = 0;
  gh.comments.clear();
  gh.requests.length = 0;
  gh.branches.clear();
  gh.branches.add('lane/claude/01J');
  forge = new GitHubForge({ owner: 'acme', repo: 'widgets', token: TOKEN, baseUrl: gh.url, remote: 'origin', maxRetryWaitSeconds: 2 });
});
afterEach(() => expect(gh.requests.every((r) => r.auth === `token ${TOKEN}`)).toBe(true));

const input = { handoffId: '01J', lane: 'claude', branch: 'lane/claude/01J', base: 'main', headSha: 'f'.repeat(40), title: 'T', body: 'B' };

describe('GitHubForge against recorded API shapes', () => {
  it('opens a pull request once: a re-run finds the existing one', async () => {
    const first = await forge.openPullRequest(input);
    expect(first).toMatchObject({ number: 1, created: true, branch: 'lane/claude/01J', url: 'https://github.com/acme/widgets/pull/1' });
    const second = await forge.openPullRequest(input);
    expect(second).toMatchObject({ number: 1, created: false });
    expect(gh.pulls).toHaveLength(1);
    expect(gh.requests.filter((r) => r.method === 'POST').length).toBe(1);
    expect(gh.requests[0]!.path).toContain('head=acme%3Alane%2Fclaude%2F01J');
  });

  it('422 "pull request already exists" after a lost race resolves to the existing one', async () => {
    await forge.openPullRequest(input);
    // The list answers empty once (as if our previous, crashed run had not been visible yet).
    gh.inject({ method: 'GET', path: /\/pulls$/, status: 200, body: [] });
    const pr = await forge.openPullRequest(input);
    expect(pr).toMatchObject({ number: 1, created: false });
    expect(gh.pulls).toHaveLength(1);
  });

  it('422 validation failed (head branch missing) is PR_VALIDATION_FAILED', async () => {
    gh.branches.clear();
    await expect(forge.openPullRequest(input)).rejects.toMatchObject({ code: 'PR_VALIDATION_FAILED', outcome: 'rejected' });
  });

  it('403 without rate-limit headers is FORGE_FORBIDDEN, and the token never appears in the error', async () => {
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' } });
    const e = await forge.openPullRequest(input).catch((x) => x);
    expect(e).toMatchObject({ code: 'FORGE_FORBIDDEN', outcome: 'environment' });
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain(TOKEN);
  });

  it('primary rate limit (403, x-ratelimit-remaining: 0, reset far away) is FORGE_RATE_LIMITED', async () => {
    const reset = String(Math.floor(Date.now() / 1000) + 3600);
    gh.inject({
      method: 'GET',
      path: /\/pulls$/,
      status: 403,
      body: { message: 'API rate limit exceeded for installation ID 1.', documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting' },
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
    });
    const e = await forge.openPullRequest(input).catch((x) => x);
    expect(e).toMatchObject({ code: 'FORGE_RATE_LIMITED' });
    expect(e.details.retryAfterSeconds).toBeGreaterThan(3000);
    expect(gh.pulls).toHaveLength(0);
  });

  it('secondary rate limit (429 with retry-after: 1) is waited out once and retried', async () => {
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 429, body: { message: 'You have exceeded a secondary rate limit.' }, headers: { 'retry-after': '1' } });
    const t0 = Date.now();
    const pr = await forge.openPullRequest(input);
    expect(pr.created).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('a retry-after longer than allowed fails fast', async () => {
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 403, body: { message: 'secondary rate limit' }, headers: { 'retry-after': '120' } });
    await expect(forge.openPullRequest(input)).rejects.toMatchObject({ code: 'FORGE_RATE_LIMITED', details: expect.objectContaining({ retryAfterSeconds: 120 }) });
  });

  it('labels and comments; the comment is idempotent by marker', async () => {
    const pr = await forge.openPullRequest(input);
    expect(await forge.addLabels(pr.number, ['lane:codex', 'handoff:verified'])).toEqual(['handoff:verified', 'lane:codex']);
    expect(await forge.comment(pr.number, 'verified', 'handoff:01J')).toEqual({ created: true });
    expect(await forge.comment(pr.number, 'verified', 'handoff:01J')).toEqual({ created: false });
    expect(gh.comments.get(1)).toHaveLength(1);
    expect(gh.comments.get(1)![0]!.body).toContain('<!-- duallane:handoff:01J -->');
  });

  it('an unreachable API is FORGE_UNREACHABLE', async () => {
    const dead = new GitHubForge({ owner: 'acme', repo: 'widgets', token: TOKEN, baseUrl: 'http://127.0.0.1:9', remote: 'origin' });
    await expect(dead.findPullRequest('x')).rejects.toMatchObject({ code: 'FORGE_UNREACHABLE' });
  });
});
