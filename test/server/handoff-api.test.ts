/* eslint-disable @typescript-eslint/no-explicit-any -- JSON response bodies read in assertions */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { bearer, GIT_ENV, makeTemplate, workspace, type Workspace } from './fixture.js';

// propose -> accept through the API, in-process on a real git repository and the embedded ledger;
// then the built CLI on the same workspace must see the same handoff and refuse the same replay.
Object.assign(process.env, GIT_ENV);
let template: { dir: string; cleanup(): void };
const open: Workspace[] = [];
beforeAll(async () => {
  template = await makeTemplate();
}, 120_000);
afterAll(() => template?.cleanup());
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

describe('handoff API round trip (PGlite)', () => {
  it('proposes and accepts through the API; the CLI agrees; replays are refused with the CLI code', async () => {
    const w = await workspace(template.dir);
    open.push(w);
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const title = '<img src=x onerror=alert(1)> bump "x" & co';

    const p = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title, summary: 'x goes to 2', patch: w.patchFor(2), expires: '2h' } });
    expect(p.statusCode, p.body).toBe(201);
    const proposed = p.json() as Record<string, any>;
    expect(proposed).toMatchObject({ ok: true, state: 'proposed', lane: 'codex', changedPaths: [expect.objectContaining({ path: 'src/app.js', added: 1, removed: 1 })] });
    expect(p.headers.location).toBe(`/v1/handoffs/${proposed.id}`);
    expect(Date.parse(proposed.expiresAt) - Date.now()).toBeGreaterThan(7000_000);

    // The same change as base64 gives the same deterministic artifact, but a new statement.
    const p64 = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 'again', patch: Buffer.from(w.patchFor(2)).toString('base64'), patchEncoding: 'base64' } });
    expect(p64.statusCode, p64.body).toBe(201);
    expect(p64.json()).toMatchObject({ artifactDigest: proposed.artifactDigest });
    expect((p64.json() as { statementDigest: string }).statementDigest).not.toBe(proposed.statementDigest);

    // A patch that does not apply is the caller's input problem: the CLI's BAD_USAGE, 400.
    const bad = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 'bad', patch: w.patchFor(3).replace('x = 1', 'y = 1') } });
    expect([bad.statusCode, (bad.json() as any).error.code]).toEqual([400, 'BAD_USAGE']);

    const listed = await w.app.inject({ url: '/v1/handoffs?state=proposed', headers: bearer(claude) });
    expect((listed.json() as { handoffs: { id: string; verification: string }[] }).handoffs.map((h) => [h.id, h.verification])).toEqual([
      [proposed.id, 'pending'],
      [(p64.json() as { id: string }).id, 'pending'],
    ]);

    const a = await w.app.inject({ method: 'POST', url: `/v1/handoffs/${proposed.id}/accept`, headers: bearer(claude) });
    expect(a.statusCode, a.body).toBe(200);
    const accepted = a.json() as Record<string, any>;
    expect(accepted).toMatchObject({ ok: true, state: 'pr_opened', branch: `lane/claude/${proposed.id}`, pr: { forge: 'local', number: 1 }, resumed: false });
    expect(w.git('show', `${accepted.commit}:src/app.js`)).toBe('export const x = 2;');
    expect(w.git('log', '-1', '--format=%B', accepted.commit)).toContain(`Handoff-Id: ${proposed.id}`);

    const shown = await w.app.inject({ url: `/v1/handoffs/${proposed.id}`, headers: bearer(codex) });
    expect(shown.json()).toMatchObject({
      ok: true,
      handoff: { id: proposed.id, state: 'pr_opened', verification: 'verified', title, branch: accepted.branch, commit: accepted.commit, pr: { number: 1 }, artifactPath: proposed.artifactPath, bundlePath: proposed.bundlePath },
    });
    expect((shown.json() as any).handoff.bundleDigest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // Accepting again finishes nothing twice (the CLI's idempotent re-run).
    const again = await w.app.inject({ method: 'POST', url: `/v1/handoffs/${proposed.id}/accept`, headers: bearer(claude) });
    expect(again.json()).toMatchObject({ ok: true, commit: accepted.commit, pr: { number: 1 }, resumed: true });
    expect(w.git('branch', '--list', 'lane/*').split('\n')).toHaveLength(1);

    // Two executors racing on the second proposal through the API: one commit, one branch, one PR.
    const second = (p64.json() as { id: string }).id;
    const race = await Promise.all([0, 1].map(() => w.app.inject({ method: 'POST', url: `/v1/handoffs/${second}/accept`, headers: bearer(claude) })));
    const statuses = race.map((r) => r.statusCode).sort();
    expect(statuses[0], race.map((r) => r.body).join('\n')).toBe(200);
    for (const r of race) if (r.statusCode !== 200) expect([r.statusCode, (r.json() as any).error.code]).toEqual([409, 'STATE_CONFLICT']);
    const commits = new Set(race.filter((r) => r.statusCode === 200).map((r) => (r.json() as any).commit));
    expect(commits.size).toBe(1);
    expect(w.git('branch', '--list', `lane/claude/${second}`).split('\n')).toHaveLength(1);
    const prs = await w.ledger.withAdmin((tx) => tx.listPullRequests());
    expect(prs.map((pr) => pr.number).sort()).toEqual([1, 2]);

    // Replay: the recorded bundle and artifact submitted again (the API names them relative to the config root).
    const bundleText = readFileSync(join(w.dir, proposed.bundlePath), 'utf8');
    const artifact = readFileSync(join(w.dir, proposed.artifactPath)).toString('base64');
    const replay = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { bundle: bundleText, artifact } });
    expect([replay.statusCode, (replay.json() as any).error.code]).toEqual([409, 'REPLAY']);
    const replayObj = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { bundle: JSON.parse(bundleText), artifact } });
    expect([replayObj.statusCode, (replayObj.json() as any).error.code]).toEqual([409, 'REPLAY']);
    // A swapped artifact under a genuine bundle.
    const swapped = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { bundle: bundleText, artifact: Buffer.from(w.patchFor(9)).toString('base64') } });
    expect(swapped.statusCode).toBe(422);
    expect((swapped.json() as any).error.outcome).toBe('rejected');

    // The embedded ledger is one process's: stop the server, then ask the CLI.
    await w.app.close();
    await w.ledger.close();
    const env = { ...GIT_ENV };
    const show = await runCli(['handoff', 'show', proposed.id, '--json'], { cwd: w.dir, env });
    expect(parseJson(show)).toMatchObject({ id: proposed.id, state: 'pr_opened', commit: accepted.commit, branch: accepted.branch, title });
    const cliReplay = await runCli(['handoff', 'submit', '--bundle', proposed.bundlePath, '--artifact', proposed.artifactPath, '--json'], { cwd: w.dir, env });
    expect({ exit: cliReplay.code, code: parseJson<any>(cliReplay).error?.code }).toEqual({ exit: 1, code: 'REPLAY' });
  }, 240_000);
});

describe('ledger gauges on /metrics', () => {
  it('a scrape reports pending handoffs per lane and an intact audit chain, and follows accepts', async () => {
    const w = await workspace(template.dir);
    open.push(w);
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const gauge = async (re: RegExp) => Number(re.exec((await w.app.inject({ url: '/metrics' })).body)?.[1] ?? NaN);
    const pending = /duallane_handoffs_pending\{lane="codex"\} (\d+)/;
    expect(await gauge(pending)).toBe(0);
    const p = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: w.patchFor(2) } });
    expect(p.statusCode, p.body).toBe(201);
    expect(await gauge(pending)).toBe(1);
    expect(await gauge(/duallane_audit_chain_intact\{ledger="pglite"\} (\d+)/)).toBe(1);
    expect(await gauge(/duallane_audit_chain_last_check_timestamp_seconds\{ledger="pglite"\} (\d+)/)).toBeGreaterThan(Date.now() / 1000 - 600);
    const a = await w.app.inject({ method: 'POST', url: `/v1/handoffs/${(p.json() as { id: string }).id}/accept`, headers: bearer(claude) });
    expect(a.statusCode, a.body).toBe(200);
    expect(await gauge(pending)).toBe(0);
  });
});

describe('POST /v1/handoffs/next/accept (the CLI --next over the API)', () => {
  it('takes the oldest pending handoff first, then the next; NOTHING_PENDING (409) when none is left; propose tokens are refused', async () => {
    const w = await workspace(template.dir);
    open.push(w);
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const ids: string[] = [];
    for (const n of [2, 3]) {
      const p = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: `x=${n}`, patch: w.patchFor(n) } });
      expect(p.statusCode, p.body).toBe(201);
      ids.push((p.json() as { id: string }).id);
    }
    const refused = await w.app.inject({ method: 'POST', url: '/v1/handoffs/next/accept', headers: bearer(codex) });
    expect([refused.statusCode, (refused.json() as any).error.code]).toEqual([403, 'FORBIDDEN']);

    const first = await w.app.inject({ method: 'POST', url: '/v1/handoffs/next/accept', headers: bearer(claude) });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ ok: true, id: ids[0], state: 'pr_opened', resumed: false });
    const second = await w.app.inject({ method: 'POST', url: '/v1/handoffs/next/accept', headers: bearer(claude) });
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toMatchObject({ ok: true, id: ids[1], state: 'pr_opened' });
    const none = await w.app.inject({ method: 'POST', url: '/v1/handoffs/next/accept', headers: bearer(claude) });
    expect([none.statusCode, (none.json() as any).error.code]).toEqual([409, 'NOTHING_PENDING']);
    // An unknown body field is refused like on /:id/accept.
    const extra = await w.app.inject({ method: 'POST', url: '/v1/handoffs/next/accept', headers: bearer(claude), payload: { id: ids[0] } });
    expect(extra.statusCode).toBe(400);
  }, 240_000);
});
