/* eslint-disable @typescript-eslint/no-explicit-any -- CLI and API JSON is inspected loosely in tests */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/attest/index.js';
import { loadConfig } from '../../src/config/index.js';
import { ContentStore, HANDOFF_PREDICATE_TYPE, parsePatch } from '../../src/handoff/index.js';
import { openLedger } from '../../src/ledger/index.js';
import { useWorkspaces, type Workspace } from '../handoff/fixture.js';
import { bearer, makeTemplate as makeServerTemplate, workspace as serverWorkspace, type Workspace as ServerWorkspace } from '../server/fixture.js';

// Hostile input to the handoff, as a user (or a compromised propose lane) would send it: through the
// built CLI and the HTTP API. Each case asserts the exit status and the reason code, and that nothing
// was signed or stored before the input was known to be valid.
//
//   titles     control characters (ESC, CR/LF, NUL, tab, C1)        propose: INPUT_INVALID (2)  submit: TEXT_INVALID (1)
//   summaries  NUL and C0/C1 but LF and tab                          propose: INPUT_INVALID (2)  submit: TEXT_INVALID (1)
//   commit     a summary cannot forge a trailer (git interpret-trailers --parse)
//   output     list/show/trace escape control characters of rows written past validation
//   predicate  expiresAt past the 30-day cap (EXPIRY_TOO_LONG), createdAt in the future
//              (CREATED_IN_FUTURE), unsafe targetBranch (BRANCH_NAME_INVALID): at submit and at accept
//   reads      /dev/zero, a FIFO, an oversized sparse file: INPUT_UNREADABLE / INPUT_TOO_LARGE (2)
//   ledger     a row whose bundle_path names /dev/zero: accept reads the bundle by digest from the store
//   HTTP       NUL in a summary: 400 before signing (no new store object); no body names server paths

const { workspace, defer } = useWorkspaces();
const HEADER = 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: duallane <handoff@duallane.invalid>\nDate: Thu, 1 Jan 1970 00:00:00 +0000\nSubject: [PATCH] duallane handoff\n\n---\n';
const add = (path: string, line: string) => `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+${line}\n`;
const codeOf = (x: { r: { code: number }; data: any }) => ({ exit: x.r.code, code: x.data?.error?.code });

function storeObjects(dir: string): string[] {
  const d = join(dir, '.duallane', 'store', 'sha256');
  return existsSync(d) ? readdirSync(d).sort() : [];
}

function tempDir(): string {
  const t = mkdtempSync(join(tmpdir(), 'duallane-input-'));
  defer(() => rmSync(t, { recursive: true, force: true }));
  return t;
}

let ulidSeq = 0;
function nextUlid(): string {
  ulidSeq += 1;
  return `01HZZZZZZZZZZZZZZZZZZZZZ${String(ulidSeq).padStart(2, '0')}`;
}

/** Signs a hand-made handoff statement with the codex key (what a compromised propose lane can do). */
async function signForged(w: Workspace, edit: (p: Record<string, any>) => Record<string, any>): Promise<{ bundle: string; artifact: string; id: string }> {
  const tmp = tempDir();
  const bytes = Buffer.from(HEADER + add(`docs/f${ulidSeq}.md`, 'forged'), 'utf8');
  const id = nextUlid();
  const now = Date.now();
  const predicate = edit({
    handoffId: id,
    nonce: sha256Hex(Buffer.from(`nonce-${id}-${now}`)),
    proposerLane: 'codex',
    repository: `file://${join(w.dir, '.duallane', 'remote.git')}`,
    baseCommit: w.git('rev-parse', 'HEAD'),
    targetBranch: 'main',
    artifact: { digest: `sha256:${sha256Hex(bytes)}`, size: bytes.length, mediaType: 'text/x-patch' },
    changedPaths: parsePatch(bytes).files.map((x) => ({ path: x.path, status: x.status, digest: x.digest, added: x.added, removed: x.removed, binary: x.binary, mode: x.newMode ?? x.oldMode })),
    title: `forged ${id}`,
    summary: '',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3600_000).toISOString(),
  });
  writeFileSync(join(tmp, 'artifact.patch'), bytes);
  writeFileSync(join(tmp, 'predicate.json'), JSON.stringify(predicate));
  const key = join(w.dir, '.duallane', 'keys', 'codex.key');
  const signed = await w.cli(['attest', join(tmp, 'artifact.patch'), '--predicate-type', HANDOFF_PREDICATE_TYPE, '--predicate', join(tmp, 'predicate.json'), '--key', key, '--bundle', join(tmp, 'bundle.json')]);
  expect(signed.code, signed.stderr).toBe(0);
  return { bundle: join(tmp, 'bundle.json'), artifact: join(tmp, 'artifact.patch'), id };
}

/** Records a signed proposal the way a propose lane with database access can: store objects and a row of its choosing. */
async function recordPastValidation(w: Workspace, f: { bundle: string; artifact: string; id: string }, row: { bundlePath?: string; title?: string } = {}): Promise<void> {
  const config = await loadConfig(w.dir);
  const store = new ContentStore(join(w.dir, '.duallane', 'store'));
  const { readFileSync } = await import('node:fs');
  const bundleBytes = readFileSync(f.bundle);
  const art = await store.put(readFileSync(f.artifact));
  const b = await store.put(bundleBytes);
  const bundle = JSON.parse(bundleBytes.toString('utf8'));
  const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
  const p = JSON.parse(payload.toString('utf8')).predicate;
  const ledger = await openLedger(config, { env: { DATABASE_URL: '' } });
  try {
    await ledger.withLane('codex', (tx) =>
      tx.insertHandoff({
        id: p.handoffId,
        statementDigest: `sha256:${sha256Hex(payload)}`,
        artifactDigest: art.digest,
        bundlePath: row.bundlePath ?? b.path,
        artifactPath: art.path,
        baseCommit: p.baseCommit,
        targetBranch: p.targetBranch,
        expiresAt: p.expiresAt,
        title: row.title ?? p.title,
        nonce: p.nonce,
        meta: { bundleDigest: b.digest, summary: p.summary },
      }),
    );
  } finally {
    await ledger.close();
  }
}

describe('titles and summaries (CLI)', () => {
  it('refuses control characters in titles and summaries before signing (exit 2, INPUT_INVALID); tab is allowed in summaries only', async () => {
    const w = workspace();
    w.write('docs/t.md', 't\n');
    const before = storeObjects(w.dir);
    const propose = (title: string, summary = '') => w.json(['handoff', 'propose', '--lane', 'codex', '--title', title, '--summary', summary]);
    for (const title of ['red \x1b[31malert', 'two\nlines', 'cr\rreturn', 'tab\there', 'c1 \u009b31m']) {
      expect(codeOf(await propose(title)), JSON.stringify(title)).toEqual({ exit: 2, code: 'INPUT_INVALID' });
    }
    for (const summary of ['bell \x07', 'esc \x1b]0;owned\x07', 'c1 \u0085 next line', 'cr\r\nlf']) {
      expect(codeOf(await propose('ok', summary)), JSON.stringify(summary)).toEqual({ exit: 2, code: 'INPUT_INVALID' });
    }
    expect(storeObjects(w.dir)).toEqual(before);
    const ok = await propose('fine', 'line one\n\tindented line');
    expect(ok.r.code, ok.r.stderr).toBe(0);
  }, 200_000);

  it('a summary cannot forge a commit trailer (git interpret-trailers sees only the real ones)', async () => {
    const w = workspace();
    w.write('docs/s.md', 's\n');
    const summary = 'innocent\n\nProposed-By-Lane: evil\nHandoff-Id: 01HZZZZZZZZZZZZZZZZZZZZZZZ\n---\nbelow the divider';
    const p = await w.propose('trailers', ['--summary', summary]);
    const a = await w.json(['handoff', 'accept', p.id, '--lane', 'claude']);
    expect(a.r.code, a.r.stderr).toBe(0);
    const message = w.git('log', '-1', '--format=%B', a.data.commit);
    const trailers = execFileSync('git', ['interpret-trailers', '--parse'], { input: message + '\n', encoding: 'utf8' }).trim().split('\n');
    expect(trailers).toEqual([`Handoff-Id: ${p.id}`, `Handoff-Statement-Digest: ${p.statementDigest}`, 'Proposed-By-Lane: codex']);
  }, 200_000);

  it('list, show and trace escape control characters of a row recorded past validation', async () => {
    const w = workspace();
    const f = await signForged(w, (p) => p);
    await recordPastValidation(w, f, { title: 'evil \x1b]0;pwned\x07 \u009b2J title' });
    for (const args of [['handoff', 'list'], ['handoff', 'show', f.id], ['handoff', 'trace', f.id]]) {
      const r = await w.cli(args);
      expect(r.stdout, args.join(' ')).toContain('evil');
      const controls = [...r.stdout].filter((ch) => ch !== '\n' && (ch < ' ' || (ch >= '\u007f' && ch <= '\u009f')));
      expect(controls, `${args.join(' ')}: ${JSON.stringify(r.stdout)}`).toEqual([]);
    }
  }, 200_000);
});

describe('the signed predicate is validated the same at submit and at accept', () => {
  it('submit refuses a far expiry, a future createdAt, an unsafe branch and control characters (exit 1, own codes); nothing is stored', async () => {
    const w = workspace();
    const cases: [string, (p: Record<string, any>) => Record<string, any>][] = [
      ['EXPIRY_TOO_LONG', (p) => ({ ...p, expiresAt: '9999-12-31T00:00:00.000Z' })],
      ['CREATED_IN_FUTURE', (p) => ({ ...p, createdAt: new Date(Date.now() + 86_400_000).toISOString(), expiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString() })],
      ['BRANCH_NAME_INVALID', (p) => ({ ...p, targetBranch: 'refs/heads/../../evil branch\n' })],
      ['BRANCH_NAME_INVALID', (p) => ({ ...p, targetBranch: 'main.lock' })],
      ['TEXT_INVALID', (p) => ({ ...p, title: 'x\nProposed-By-Lane: evil' })],
      ['TEXT_INVALID', (p) => ({ ...p, summary: 'nul \u0000 here' })],
    ];
    for (const [code, edit] of cases) {
      const f = await signForged(w, edit);
      const before = storeObjects(w.dir);
      const s = await w.json(['handoff', 'submit', '--bundle', f.bundle, '--artifact', f.artifact]);
      expect(codeOf(s), code).toEqual({ exit: 1, code });
      expect(storeObjects(w.dir)).toEqual(before);
    }
  }, 300_000);

  it('accept re-validates a row recorded past submit and rejects it before touching the repository', async () => {
    const w = workspace();
    const f = await signForged(w, (p) => ({ ...p, expiresAt: '9999-12-31T00:00:00.000Z' }));
    await recordPastValidation(w, f);
    const a = await w.json(['handoff', 'accept', f.id, '--lane', 'claude']);
    expect(codeOf(a)).toEqual({ exit: 1, code: 'EXPIRY_TOO_LONG' });
    const g = await signForged(w, (p) => ({ ...p, targetBranch: 'refs/heads/../../evil branch\n' }));
    await recordPastValidation(w, g);
    expect(codeOf(await w.json(['handoff', 'accept', g.id, '--lane', 'claude']))).toEqual({ exit: 1, code: 'BRANCH_NAME_INVALID' });
    expect(w.git('branch', '--list', 'lane/*')).toBe('');
  }, 300_000);
});

describe('bounded reads', () => {
  it('refuses devices, FIFOs and oversized files for --patch, --bundle and --artifact without reading them (exit 2)', async () => {
    const w = workspace();
    const tmp = tempDir();
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(tmp, 'big.patch');
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024); // sparse: no disk used
    const good = await signForged(w, (p) => p);
    const propose = (patch: string) => w.json(['handoff', 'propose', '--lane', 'codex', '--title', 't', '--patch', patch]);
    expect(codeOf(await propose('/dev/zero'))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
    expect(codeOf(await propose(fifo))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
    expect(codeOf(await propose(big))).toEqual({ exit: 2, code: 'INPUT_TOO_LARGE' });
    const submit = (bundle: string, artifact: string) => w.json(['handoff', 'submit', '--bundle', bundle, '--artifact', artifact]);
    expect(codeOf(await submit('/dev/zero', good.artifact))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
    expect(codeOf(await submit(good.bundle, '/dev/zero'))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
    expect(codeOf(await submit(good.bundle, fifo))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
    expect(codeOf(await submit(big, good.artifact))).toEqual({ exit: 2, code: 'INPUT_TOO_LARGE' });
    // attest's predicate and verify's --batch list go through the same reader.
    const key = join(w.dir, '.duallane', 'keys', 'codex.key');
    expect(codeOf(await w.json(['attest', good.artifact, '--predicate-type', 'https://x.invalid/p', '--predicate', '/dev/zero', '--key', key, '--bundle', join(tmp, 'o.json')]))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
    const pub = join(w.dir, '.duallane', 'keys', 'codex.pub');
    expect(codeOf(await w.json(['verify', '--batch', fifo, '--key', pub]))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
    expect(codeOf(await w.json(['verify', fifo, '--bundle', good.bundle, '--key', pub]))).toEqual({ exit: 2, code: 'INPUT_UNREADABLE' });
  }, 200_000);

  it('accept reads the bundle by digest from the store, never from the path a ledger row names', async () => {
    const w = workspace();
    w.write('docs/z.md', 'z\n');
    const p = await w.propose('bundle path');
    // What a propose lane with database access can write: its row's bundle_path naming a device.
    const ledger = await openLedger(await loadConfig(w.dir), { env: { DATABASE_URL: '' } });
    await ledger.withAdmin((tx) => tx.sql.query(`UPDATE handoffs SET bundle_path = '/dev/zero' WHERE id = $1`, [p.id])).finally(() => ledger.close());
    const a = await w.json(['handoff', 'accept', p.id, '--lane', 'claude']);
    expect(a.r.code, a.r.stderr).toBe(0);
    expect(a.data.state).toBe('pr_opened');
    const t = await w.cli(['handoff', 'trace', p.id]);
    expect(t.code, t.stdout + t.stderr).toBe(0);
  }, 200_000);
});

describe('HTTP', () => {
  let template: { dir: string; cleanup(): void };
  const open: ServerWorkspace[] = [];
  beforeAll(async () => {
    template = await makeServerTemplate();
  }, 120_000);
  afterAll(() => template?.cleanup());
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });

  it('refuses NUL and escape sequences in title, summary and an unsafe targetBranch with 400 before signing', async () => {
    const w = await serverWorkspace(template.dir);
    open.push(w);
    const codex = await w.token('codex');
    const before = storeObjects(w.dir);
    for (const body of [{ summary: 'nul \u0000 byte' }, { title: 'esc \x1b[2J' }, { targetBranch: 'refs/heads/../../evil branch\n' }]) {
      const r = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: w.patchFor(2), ...body } });
      expect([r.statusCode, (r.json() as any).error.code], JSON.stringify(body)).toEqual([400, 'INPUT_INVALID']);
    }
    expect(storeObjects(w.dir)).toEqual(before);
  }, 120_000);

  it('no response body of a handoff route contains a server path', async () => {
    const w = await serverWorkspace(template.dir);
    open.push(w);
    const root = join(w.dir, '..');
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const bodies: string[] = [];
    const call = async (opts: Record<string, unknown>) => {
      const r = await w.app.inject(opts as any);
      bodies.push(r.body);
      return r;
    };
    const p = await call({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: w.patchFor(2) } });
    expect(p.statusCode, p.body).toBe(201);
    const id = (p.json() as any).id;
    expect(p.json()).toMatchObject({ artifactPath: expect.stringMatching(/^\.duallane\/store\/sha256\/[0-9a-f]{64}$/), bundlePath: expect.stringMatching(/^\.duallane\/store\/sha256\//) });
    await call({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: w.patchFor(3), base: 'no-such-ref' } });
    await call({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: w.patchFor(3).replace('x = 1', 'y = 1') } });
    await call({ url: '/v1/handoffs', headers: bearer(codex) });
    await call({ url: `/v1/handoffs/${id}`, headers: bearer(codex) });
    const a = await call({ method: 'POST', url: `/v1/handoffs/${id}/accept`, headers: bearer(claude) });
    expect(a.statusCode, a.body).toBe(200);
    await call({ method: 'POST', url: `/v1/handoffs/${id}/accept`, headers: bearer(claude) });
    await call({ url: `/v1/handoffs/${id}`, headers: bearer(claude) });
    await call({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { bundle: '{"x":1}', artifact: Buffer.from(w.patchFor(2)).toString('base64') } });
    expect(bodies.length).toBe(9);
    for (const b of bodies) expect(b).not.toContain(root);
  }, 120_000);
});
