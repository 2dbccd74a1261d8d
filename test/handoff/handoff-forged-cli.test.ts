/* eslint-disable @typescript-eslint/no-explicit-any -- CLI JSON output is inspected loosely in tests */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/attest/index.js';
import { HANDOFF_PREDICATE_TYPE, parsePatch } from '../../src/handoff/index.js';
import type { CliResult } from '../support/cli.js';
import { useWorkspaces, type Workspace } from './fixture.js';

// A compromised propose lane signs whatever it likes. These proposals are built by hand (artifact
// bytes git would never produce, predicates that lie), signed with `duallane attest` and the codex
// key, recorded with `handoff submit`, and must be refused by `handoff accept` with their code.

const { workspace, defer } = useWorkspaces();

const ULIDS = ['01HZZZZZZZZZZZZZZZZZZZZZZ1', '01HZZZZZZZZZZZZZZZZZZZZZZ2', '01HZZZZZZZZZZZZZZZZZZZZZZ3', '01HZZZZZZZZZZZZZZZZZZZZZZ4', '01HZZZZZZZZZZZZZZZZZZZZZZ5', '01HZZZZZZZZZZZZZZZZZZZZZZ6'];
const HEADER = 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: duallane <handoff@duallane.invalid>\nDate: Thu, 1 Jan 1970 00:00:00 +0000\nSubject: [PATCH] duallane handoff\n\n---\n';

interface Forgery {
  artifact: string;
  predicate?: (p: Record<string, unknown>) => Record<string, unknown>;
  key?: 'codex' | 'claude';
  predicateType?: string;
}

async function forge(w: Workspace, n: number, f: Forgery): Promise<{ submit: { r: CliResult; data: Record<string, any> }; id: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'duallane-forged-'));
  defer(() => rmSync(tmp, { recursive: true, force: true }));
  const bytes = Buffer.from(f.artifact, 'utf8');
  const files = parsePatch(bytes).files;
  const base = w.git('rev-parse', 'HEAD');
  const remote = `file://${join(w.dir, '.duallane', 'remote.git')}`;
  const now = Date.now();
  let predicate: Record<string, unknown> = {
    handoffId: ULIDS[n],
    nonce: sha256Hex(Buffer.from(`nonce-${n}-${now}`)),
    proposerLane: 'codex',
    repository: remote,
    baseCommit: base,
    targetBranch: 'main',
    artifact: { digest: `sha256:${sha256Hex(bytes)}`, size: bytes.length, mediaType: 'text/x-patch' },
    changedPaths: files.map((x) => ({ path: x.path, status: x.status, digest: x.digest, added: x.added, removed: x.removed, binary: x.binary, mode: x.newMode ?? x.oldMode })),
    title: `forged ${n}`,
    summary: '',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3600_000).toISOString(),
  };
  if (f.predicate) predicate = f.predicate(predicate);
  writeFileSync(join(tmp, 'artifact.patch'), bytes);
  writeFileSync(join(tmp, 'predicate.json'), JSON.stringify(predicate));
  const signed = await w.cli([
    'attest',
    join(tmp, 'artifact.patch'),
    '--predicate-type',
    f.predicateType ?? HANDOFF_PREDICATE_TYPE,
    '--predicate',
    join(tmp, 'predicate.json'),
    '--key',
    join(w.dir, '.duallane', 'keys', `${f.key ?? 'codex'}.key`),
    '--bundle',
    join(tmp, 'bundle.json'),
  ]);
  expect(signed.code, signed.stderr).toBe(0);
  const submit = await w.json(['handoff', 'submit', '--bundle', join(tmp, 'bundle.json'), '--artifact', join(tmp, 'artifact.patch')]);
  return { submit, id: ULIDS[n]! };
}

const appJs = 'export const x = 1;'; // src/app.js in the fixture
const edit = (path: string, from: string, to: string) =>
  `diff --git a/${path} b/${path}\nindex 0000000000000000000000000000000000000000..1111111111111111111111111111111111111111 100644\n--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-${from}\n+${to}\n`;
const add = (path: string, line: string) => `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+${line}\n`;

async function expectAcceptRejected(w: Workspace, id: string, code: string) {
  const a = await w.json(['handoff', 'accept', id, '--lane', 'claude']);
  expect({ exit: a.r.code, code: a.data.error?.code }).toEqual({ exit: 1, code });
  const show = await w.json(['handoff', 'show', id]);
  expect(show.data).toMatchObject({ state: 'rejected', rejectReason: code, commit: null });
  expect(w.git('branch', '--list', 'lane/*')).toBe('');
  return a.data;
}

describe('hand-made proposals signed by the propose lane', () => {
  it('are refused at submit when the signer, predicate type or predicate is wrong', async () => {
    const w = workspace();
    const art = HEADER + add('docs/a.md', 'a');
    const byExecutor = await forge(w, 0, { artifact: art, key: 'claude' });
    expect({ exit: byExecutor.submit.r.code, code: byExecutor.submit.data.error?.code }).toEqual({ exit: 1, code: 'UNTRUSTED_SIGNER' });
    const otherType = await forge(w, 1, { artifact: art, predicateType: 'https://slsa.dev/provenance/v1' });
    expect({ exit: otherType.submit.r.code, code: otherType.submit.data.error?.code }).toEqual({ exit: 1, code: 'PREDICATE_TYPE_MISMATCH' });
    const bad = await forge(w, 2, { artifact: art, predicate: (p) => ({ ...p, nonce: 'short', extra: true }) });
    expect({ exit: bad.submit.r.code, code: bad.submit.data.error?.code }).toEqual({ exit: 1, code: 'PREDICATE_INVALID' });
    const spoof = await forge(w, 3, { artifact: art, predicate: (p) => ({ ...p, proposerLane: 'claude' }) });
    expect({ exit: spoof.submit.r.code, code: spoof.submit.data.error?.code }).toEqual({ exit: 1, code: 'UNTRUSTED_SIGNER' });
  }, 400_000);

  it('are refused at accept: traversal, non-canonical bytes, lying predicate, patch that does not apply', async () => {
    const w = workspace();
    const traversal = await forge(w, 0, { artifact: HEADER + add('../outside.txt', 'pwned') });
    expect(traversal.submit.r.code, traversal.submit.r.stderr).toBe(0);
    const t = await expectAcceptRejected(w, traversal.id, 'SCOPE_VIOLATION');
    expect(t.error.details.violations.map((v: { code: string }) => v.code)).toEqual(['PATH_TRAVERSAL']);

    // Applies cleanly, but is not the canonical patch (no header, abbreviated index line).
    const sloppy = await forge(w, 1, { artifact: edit('src/app.js', appJs, 'export const x = 2;') });
    expect(sloppy.submit.r.code, sloppy.submit.r.stderr).toBe(0);
    await expectAcceptRejected(w, sloppy.id, 'ARTIFACT_NOT_CANONICAL');

    const lying = await forge(w, 2, { artifact: HEADER + add('docs/b.md', 'b'), predicate: (p) => ({ ...p, changedPaths: [{ ...(p.changedPaths as object[])[0], path: 'docs/innocent.md' }] }) });
    expect(lying.submit.r.code, lying.submit.r.stderr).toBe(0);
    await expectAcceptRejected(w, lying.id, 'LEDGER_MISMATCH');

    const stale = await forge(w, 3, { artifact: HEADER + edit('src/app.js', 'export const x = 999;', 'export const x = 2;') });
    expect(stale.submit.r.code, stale.submit.r.stderr).toBe(0);
    await expectAcceptRejected(w, stale.id, 'PATCH_DOES_NOT_APPLY');
  }, 400_000);
});
