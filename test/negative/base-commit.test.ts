/* eslint-disable @typescript-eslint/no-explicit-any -- CLI and API JSON read loosely in assertions */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attestStatement, makeStatement } from '../../src/attest/index.js';
import { loadConfig } from '../../src/config/index.js';
import { HANDOFF_PREDICATE_TYPE, laneOfKind, parsePatch, patchFromFile, repositoryIdentity, signerForLane } from '../../src/handoff/index.js';
import { useWorkspaces, type Workspace } from '../handoff/fixture.js';
import { bearer, makeTemplate as makeServerTemplate, workspace as serverWorkspace, type Workspace as ServerWorkspace } from '../server/fixture.js';
import { GIT_ENV } from '../support/git-env.js';
import { publishToLocalForge } from '../support/local-forge.js';

// Issue 14 §1: the base commit must be the forge's target branch or one of its ancestors, fetched
// from the forge (never a local ref). Otherwise the pushed branch carries the base's whole history
// past the scope policy, which only judged the patch. Every refusal is BASE_NOT_ON_TARGET, recorded
// in the ledger, with nothing pushed, no pull request, and no word about the private ref's content.
const { workspace: ws } = useWorkspaces();

// What the private ref carries; none of it may appear in any answer.
const PRIVATE = { '.env': 'API_KEY=hunter2-private\n', '.github/workflows/exfil.yml': 'on: push\njobs: { x: { runs-on: ubuntu-latest, steps: [{ run: "curl evil" }] } }\n' };
const LEAKS = ['.env', 'exfil', 'hunter2', '.github', 'workflows'];

function patchFor(value: number): string {
  return ['diff --git a/src/app.js b/src/app.js', '--- a/src/app.js', '+++ b/src/app.js', '@@ -1 +1 @@', '-export const x = 1;', `+export const x = ${value};`, ''].join('\n');
}

/** A patch file outside the repository (inside, it would be part of a worktree change). */
function patchFile(w: Workspace, value: number): string {
  const path = join(w.dir, '..', `change-${value}.patch`);
  writeFileSync(path, patchFor(value));
  return path;
}

/** Commits the private files on a new local branch (never pushed) and returns to main. */
function privateBranch(w: Workspace, name = 'wip-private'): string {
  w.git('checkout', '-q', '-b', name);
  for (const [p, c] of Object.entries(PRIVATE)) w.write(p, c);
  w.git('add', '-A');
  w.git('commit', '-q', '-m', 'private work');
  const sha = w.git('rev-parse', 'HEAD');
  w.git('checkout', '-q', 'main');
  return sha;
}

const forgeRefs = (w: Workspace) => w.git('--git-dir', '.duallane/remote.git', 'for-each-ref', '--format=%(refname)', 'refs/heads/');

function expectNoLeak(...texts: string[]) {
  for (const t of texts) for (const leak of LEAKS) expect(t, `answer mentions ${leak}`).not.toContain(leak);
}

async function proposePatch(w: Workspace, base: string, value: number): Promise<any> {
  const { r, data } = await w.json(['handoff', 'propose', '--lane', 'codex', '--title', `base ${base}`, '--base', base, '--patch', patchFile(w, value)]);
  expect(r.code, r.stderr).toBe(0);
  return data;
}

/** accept refuses with BASE_NOT_ON_TARGET: exit 1, ledger rejected, nothing pushed, no PR, no leak. */
async function expectOffTarget(w: Workspace, id: string) {
  const before = forgeRefs(w);
  const a = await w.json(['handoff', 'accept', id, '--lane', 'claude']);
  expect({ exit: a.r.code, code: a.data.error?.code }).toEqual({ exit: 1, code: 'BASE_NOT_ON_TARGET' });
  const show = await w.json(['handoff', 'show', id]);
  expect(show.data).toMatchObject({ state: 'rejected', rejectReason: 'BASE_NOT_ON_TARGET', branch: null, commit: null, pr: null });
  expect(forgeRefs(w)).toBe(before);
  expect(forgeRefs(w)).toBe('refs/heads/main');
  expect(w.git('branch', '--list', 'lane/*')).toBe('');
  expectNoLeak(a.r.stdout, a.r.stderr, show.r.stdout);
  // A re-run gives the same answer and still pushes nothing.
  const again = await w.json(['handoff', 'accept', id, '--lane', 'claude']);
  expect({ exit: again.r.code, code: again.data.error?.code }).toEqual({ exit: 1, code: 'BASE_NOT_ON_TARGET' });
  expect(forgeRefs(w)).toBe('refs/heads/main');
}

describe('base commit off the forge target (CLI)', () => {
  it('an unmerged local branch carrying a workflow and a .env file', async () => {
    const w = ws();
    privateBranch(w);
    const p = await proposePatch(w, 'wip-private', 2);
    expect(p.scopeWarnings).toEqual([]); // the patch alone is harmless: the base is the attack
    await expectOffTarget(w, p.id);
  }, 400_000);

  it('a stash commit', async () => {
    const w = ws();
    for (const [p, c] of Object.entries(PRIVATE)) w.write(p, c);
    w.git('add', '-A');
    w.git('stash', '-q');
    const p = await proposePatch(w, 'stash@{0}', 3);
    await expectOffTarget(w, p.id);
  }, 400_000);

  it('an unreachable (dangling) commit', async () => {
    const w = ws();
    const sha = privateBranch(w, 'gone');
    w.git('branch', '-q', '-D', 'gone');
    expect(w.git('branch', '--contains', sha)).toBe('');
    const p = await proposePatch(w, sha, 4);
    await expectOffTarget(w, p.id);
  }, 400_000);

  it('the local target ref moved ahead of the forge is not trusted', async () => {
    const w = ws();
    for (const [p, c] of Object.entries(PRIVATE)) w.write(p, c);
    w.git('add', '-A');
    w.git('commit', '-q', '-m', 'local only, never pushed');
    w.write('src/app.js', 'export const x = 5;\n');
    const p = await w.propose('on local main');
    await expectOffTarget(w, p.id);
  }, 400_000);

  it('submit: a signed predicate whose baseCommit is off the target', async () => {
    const w = ws();
    const base = privateBranch(w);
    // Signed elsewhere with the propose lane's key: the base is whatever the signer chose.
    const sub = await signedElsewhere(w, base);
    const bundlePath = join(w.dir, '..', 'elsewhere.sigstore.json');
    const artifactPath = join(w.dir, '..', 'elsewhere.patch');
    writeFileSync(bundlePath, sub.bundle);
    writeFileSync(artifactPath, Buffer.from(sub.artifact, 'base64'));
    const s = await w.json(['handoff', 'submit', '--bundle', bundlePath, '--artifact', artifactPath]);
    expect(s.r.code, s.r.stderr).toBe(0);
    await expectOffTarget(w, s.data.id);
  }, 400_000);

  it('accepts the forge target tip, and an older ancestor whose pull-request diff passes scope', async () => {
    const w = ws();
    const c0 = w.git('rev-parse', 'HEAD');
    w.write('src/app.js', 'export const x = 7;\n');
    const tip = await w.propose('on the tip');
    expect(tip.baseCommit).toBe(c0);
    const a = await w.json(['handoff', 'accept', tip.id, '--lane', 'claude']);
    expect(a.r.code, a.r.stderr).toBe(0);
    expect(a.data.verification).toContainEqual(expect.objectContaining({ check: 'base-on-target', ok: true }));

    // main moves on at the forge; a proposal on the older c0 is still on main.
    w.write('README.md', '# sample, later\n');
    w.git('commit', '-q', '-am', 'readme');
    const c1 = publishToLocalForge(w.dir);
    const old = await proposePatch(w, c0, 8);
    const b = await w.json(['handoff', 'accept', old.id, '--lane', 'claude']);
    expect(b.r.code, b.r.stderr).toBe(0);
    expect(b.data).toMatchObject({ state: 'pr_opened', pr: { labels: ['handoff:verified', 'lane:codex', 'provenance:verified'] } });
    // What the pull request merges (its diff from the merge base with the target tip) is the patch alone.
    const remote = ['--git-dir', '.duallane/remote.git'];
    expect(w.git(...remote, 'merge-base', c1, b.data.commit)).toBe(c0);
    expect(w.git(...remote, 'diff', '--name-only', `${c1}...${b.data.commit}`)).toBe('src/app.js');
  }, 400_000);

  it('an older ancestor whose tree still has a workflow the target has since removed', async () => {
    const w = ws();
    // c0 on the forge carries a workflow that runs on push; main removes it later.
    w.write('.github/workflows/leaky.yml', 'on: push\njobs: { x: { runs-on: ubuntu-latest, steps: [{ run: "echo $SECRET" }] } }\n');
    w.git('add', '-A');
    w.git('commit', '-q', '-m', 'old workflow');
    const c0 = publishToLocalForge(w.dir);
    w.git('rm', '-q', '.github/workflows/leaky.yml');
    w.git('commit', '-q', '-m', 'remove the workflow');
    publishToLocalForge(w.dir);
    // The patch itself is harmless, but the branch pushed on c0 would bring the workflow back.
    const old = await proposePatch(w, c0, 9);
    const a = await w.json(['handoff', 'accept', old.id, '--lane', 'claude']);
    expect(a.r.code, a.r.stderr).toBe(1);
    expect(a.data.error.code).toBe('SCOPE_VIOLATION');
    expect(a.data.error.details.violations).toContainEqual(expect.objectContaining({ code: 'WORKFLOW_CHANGE', path: '.github/workflows/leaky.yml' }));
    expect(forgeRefs(w)).toBe('refs/heads/main');
  }, 400_000);
});

describe('base commit off the forge target (HTTP API)', () => {
  let template: { dir: string; cleanup(): void };
  const open: ServerWorkspace[] = [];
  beforeAll(async () => {
    Object.assign(process.env, GIT_ENV);
    template = await makeServerTemplate();
  }, 120_000);
  afterAll(() => template?.cleanup());
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });

  it('a propose-lane token cannot publish an unpushed local branch, nor probe its content', async () => {
    const w = await serverWorkspace(template.dir);
    open.push(w);
    const base = commitPrivate(w);
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    // Propose on the private branch: refused before the patch is applied to it, so whether a patch
    // applies there (a patch guessing the .env content) cannot be learnt either.
    const guess = ['diff --git a/.env b/.env', '--- a/.env', '+++ b/.env', '@@ -1 +1 @@', '-API_KEY=hunter2-private', '+API_KEY=x', ''].join('\n');
    const wrong = guess.replace('hunter2-private', 'not-the-value');
    const answers = [];
    // ... and a name that resolves to nothing gets the very same answer: which refs exist is not told.
    for (const [ref, patch] of [['wip-private', w.patchFor(2)], ['wip-private', guess], ['wip-private', wrong], [base, w.patchFor(3)], ['no-such-ref', w.patchFor(2)]]) {
      const r = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 'publish', base: ref, patch } });
      answers.push([r.statusCode, (r.json() as any).error?.code]);
      expectNoLeak(r.body);
      // The refusal names what was sent, never the commit a private name resolves to.
      if (ref !== base) expect(r.body).not.toContain(base);
    }
    expect(answers).toEqual(Array(5).fill([422, 'BASE_NOT_ON_TARGET']));
    const listed = await w.app.inject({ url: '/v1/handoffs', headers: bearer(claude) });
    expect((listed.json() as any).handoffs).toEqual([]);

    // The same base in a bundle signed elsewhere and submitted with the propose token: recorded,
    // then refused by the execute lane, rejected in the ledger, nothing pushed.
    const sub = await signedElsewhere(w, base);
    const s = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: sub });
    expect(s.statusCode, s.body).toBe(201);
    const id = (s.json() as any).id;
    const a = await w.app.inject({ method: 'POST', url: `/v1/handoffs/${id}/accept`, headers: bearer(claude) });
    expect([a.statusCode, (a.json() as any).error?.code]).toEqual([422, 'BASE_NOT_ON_TARGET']);
    expectNoLeak(a.body);
    const shown = await w.app.inject({ url: `/v1/handoffs/${id}`, headers: bearer(claude) });
    expect((shown.json() as any).handoff).toMatchObject({ state: 'rejected', rejectReason: 'BASE_NOT_ON_TARGET', branch: null, commit: null });
    expectNoLeak(shown.body);
    expect(w.git('--git-dir', '.duallane/remote.git', 'for-each-ref', '--format=%(refname)', 'refs/heads/')).toBe('refs/heads/main');
    expect(await w.ledger.withLane('claude', async (tx) => (await tx.sql.query('SELECT count(*)::int AS n FROM pull_requests')).rows[0])).toEqual({ n: 0 });
  }, 400_000);
});

function commitPrivate(w: ServerWorkspace): string {
  w.git('checkout', '-q', '-b', 'wip-private');
  for (const [p, c] of Object.entries(PRIVATE)) {
    const full = join(w.dir, p);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, c);
  }
  w.git('add', '-A');
  w.git('commit', '-q', '-m', 'private work');
  const sha = w.git('rev-parse', 'HEAD');
  w.git('checkout', '-q', 'main');
  return sha;
}

/** A proposal on BASE signed with the workspace's codex key (as on another machine): the API's submit body. */
async function signedElsewhere(w: { dir: string }, base: string): Promise<{ bundle: string; artifact: string }> {
  const config = await loadConfig(w.dir);
  const lane = laneOfKind(config, 'codex', 'propose');
  const artifact = await patchFromFile(w.dir, Buffer.from(patchFor(6)), base);
  const id = ulid();
  const now = new Date();
  const predicate = {
    handoffId: id,
    nonce: randomBytes(32).toString('hex'),
    proposerLane: 'codex',
    repository: repositoryIdentity(config),
    baseCommit: base,
    targetBranch: 'main',
    artifact: { digest: artifact.digest, size: artifact.bytes.length, mediaType: 'text/x-patch' },
    changedPaths: parsePatch(artifact.bytes).files.map((f) => ({ path: f.path, status: f.status, digest: f.digest, added: f.added, removed: f.removed, binary: f.binary, mode: f.newMode ?? f.oldMode })),
    title: 'signed elsewhere',
    summary: '',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 3600_000).toISOString(),
  };
  const statement = makeStatement([{ name: `handoff-${id}.patch`, digest: { sha256: artifact.digest.slice(7) } }], HANDOFF_PREDICATE_TYPE, predicate);
  const bundle = await attestStatement(statement, signerForLane(config, lane, { ...process.env, ...GIT_ENV }), { lane: 'codex', attestationKind: 'proposal' });
  return { bundle: JSON.stringify(bundle), artifact: artifact.bytes.toString('base64') };
}
