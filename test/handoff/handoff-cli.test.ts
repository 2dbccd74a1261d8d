import { chmodSync, appendFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useWorkspaces, type Workspace } from './fixture.js';

// End to end through the built CLI (bin/duallane) on real git repositories and the embedded ledger.
const { workspace: ws } = useWorkspaces();

async function expectRejected(w: Workspace, id: string, code: string) {
  const { r, data } = await w.json(['handoff', 'accept', id, '--lane', 'claude']);
  expect({ exit: r.code, code: data.error?.code }).toEqual({ exit: 1, code });
  const show = await w.json(['handoff', 'show', id]);
  expect(show.data).toMatchObject({ state: 'rejected', rejectReason: code, branch: null, commit: null, pr: null });
  // Nothing touched the repository: no lane branch exists.
  expect(w.git('branch', '--list', 'lane/*')).toBe('');
  return data;
}

describe('duallane handoff (CLI)', () => {
  it('proposes, accepts, shows and traces; a re-run changes nothing', async () => {
    const w = ws();
    w.write('src/app.js', 'export const x = 2;\n');
    const p = await w.propose('bump x', ['--summary', 'x goes to 2']);
    expect(p).toMatchObject({ state: 'proposed', lane: 'codex', changedPaths: [expect.objectContaining({ path: 'src/app.js', added: 1, removed: 1 })] });
    const a = await w.json(['handoff', 'accept', p.id, '--lane', 'claude']);
    expect(a.r.code).toBe(0);
    expect(a.data).toMatchObject({ state: 'pr_opened', branch: `lane/claude/${p.id}`, pr: { forge: 'local', number: 1, labels: ['handoff:verified', 'lane:codex', 'provenance:verified'] }, resumed: false });
    const msg = w.git('log', '-1', '--format=%B', a.data.commit);
    expect(msg).toContain(`Handoff-Id: ${p.id}`);
    expect(msg).toContain(`Handoff-Statement-Digest: ${p.statementDigest}`);
    expect(msg).toContain('Proposed-By-Lane: codex');
    expect(w.git('show', `${a.data.commit}:src/app.js`)).toBe('export const x = 2;');
    expect(w.git('rev-parse', `${a.data.commit}^`)).toBe(p.baseCommit);
    expect(w.git('--git-dir', '.duallane/remote.git', 'rev-parse', `refs/heads/${a.data.branch}`)).toBe(a.data.commit);
    // The working tree of the executor was never touched.
    expect(w.git('status', '--porcelain')).toBe('');

    const show = await w.json(['handoff', 'show', p.id]);
    expect(show.data).toMatchObject({ id: p.id, state: 'pr_opened', artifactPath: p.artifactPath, bundlePath: p.bundlePath, branch: a.data.branch, commit: a.data.commit, pr: { number: 1 } });
    const trace = await w.json(['handoff', 'trace', p.id]);
    expect(trace.r.code).toBe(0);
    expect(trace.data.chain.map((c: { step: string; ok: boolean }) => `${c.step}:${c.ok}`)).toEqual([
      'statement:true',
      'signer:true',
      'verification:true',
      'commit:true',
      'pull-request:true',
      'applied-attestation:true',
      'audit:true',
    ]);

    const again = await w.json(['handoff', 'accept', p.id, '--lane', 'claude']);
    expect(again.data).toMatchObject({ commit: a.data.commit, pr: { number: 1 }, resumed: true });
    expect(w.git('branch', '--list', 'lane/*').split('\n')).toHaveLength(1);
    const list = await w.json(['handoff', 'list']);
    expect(list.data).toHaveLength(1);
  }, 400_000);

  it('the same change proposed twice gives the same artifact digest; --patch gives it too', async () => {
    const w = ws();
    w.write('src/app.js', 'export const x = 3;\n');
    w.git('add', '-A');
    // Outside the repository: an untracked file inside would be part of the worktree change.
    const patchFile = join(w.dir, '..', 'change.patch');
    writeFileSync(patchFile, w.git('diff', '--cached', '-U7') + '\n');
    w.git('reset', '-q');
    const p1 = await w.propose('one');
    w.write('src/app.js', 'export const x = 3;\n');
    const p2 = await w.propose('two');
    const p3 = await w.json(['handoff', 'propose', '--lane', 'codex', '--title', 'three', '--patch', patchFile]);
    expect(p3.r.code).toBe(0);
    expect(new Set([p1.artifactDigest, p2.artifactDigest, p3.data.artifactDigest]).size).toBe(1);
    expect(new Set([p1.statementDigest, p2.statementDigest, p3.data.statementDigest]).size).toBe(3);
  }, 400_000);

  it('rejects a scope violation with every violation listed, before touching the repository', async () => {
    const w = ws();
    w.write('.github/workflows/ci.yml', 'on: push\n');
    w.write('assets/logo.bin', Buffer.from([0, 1, 2, 0, 255]));
    symlinkSync('../../../etc/passwd', join(w.dir, 'src', 'passwd'));
    const p = await w.propose('sneaky');
    expect(p.scopeWarnings.map((x: { code: string }) => x.code).sort()).toEqual(['BINARY_FILE', 'SYMLINK', 'SYMLINK_ESCAPES', 'WORKFLOW_CHANGE']);
    const err = await expectRejected(w, p.id, 'SCOPE_VIOLATION');
    expect(err.error.details.violations.map((v: { code: string }) => v.code).sort()).toEqual(['BINARY_FILE', 'SYMLINK', 'SYMLINK_ESCAPES', 'WORKFLOW_CHANGE']);
    // A rejected handoff stays rejected with the same code.
    const again = await w.json(['handoff', 'accept', p.id, '--lane', 'claude']);
    expect(again.data.error.code).toBe('SCOPE_VIOLATION');
  }, 400_000);

  it('rejects an expired proposal', async () => {
    const w = ws();
    w.write('src/app.js', 'export const x = 4;\n');
    const p = await w.propose('short-lived', ['--expires', '1s']);
    await new Promise((r) => setTimeout(r, 1500));
    await expectRejected(w, p.id, 'EXPIRED');
  }, 400_000);

  it('rejects a tampered artifact and a tampered bundle', async () => {
    const w = ws();
    w.write('src/app.js', 'export const x = 5;\n');
    const p = await w.propose('artifact');
    chmodSync(p.artifactPath, 0o644);
    appendFileSync(p.artifactPath, '\n');
    await expectRejected(w, p.id, 'ARTIFACT_TAMPERED');

    w.write('README.md', '# changed\n');
    const q = await w.propose('bundle');
    chmodSync(q.bundlePath, 0o644);
    const b = JSON.parse(readFileSync(q.bundlePath, 'utf8'));
    writeFileSync(q.bundlePath, JSON.stringify({ ...b, mediaType: b.mediaType }) + ' ');
    await expectRejected(w, q.id, 'ARTIFACT_TAMPERED');
  }, 400_000);

  it('submit: replay, a forged payload, a swapped artifact and a foreign signer are refused', async () => {
    const w = ws();
    w.write('src/app.js', 'export const x = 6;\n');
    const p = await w.propose('original');
    // Replay of a recorded proposal.
    const replay = await w.json(['handoff', 'submit', '--bundle', p.bundlePath, '--artifact', p.artifactPath]);
    expect({ exit: replay.r.code, code: replay.data.error?.code }).toEqual({ exit: 1, code: 'REPLAY' });
    // Payload edited (title changed) without re-signing.
    const b = JSON.parse(readFileSync(p.bundlePath, 'utf8'));
    const stmt = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
    stmt.predicate.title = 'something else';
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(stmt)).toString('base64');
    const forgedPath = join(w.dir, '..', 'forged.json');
    writeFileSync(forgedPath, JSON.stringify(b));
    const forged = await w.json(['handoff', 'submit', '--bundle', forgedPath, '--artifact', p.artifactPath]);
    expect({ exit: forged.r.code, code: forged.data.error?.code }).toEqual({ exit: 1, code: 'SIGNATURE_INVALID' });
    // The right bundle with another artifact.
    const otherPath = join(w.dir, '..', 'other.patch');
    writeFileSync(otherPath, readFileSync(p.artifactPath, 'utf8').replace('x = 6', 'x = 7'));
    const swapped = await w.json(['handoff', 'submit', '--bundle', p.bundlePath, '--artifact', otherPath]);
    expect({ exit: swapped.r.code, code: swapped.data.error?.code }).toEqual({ exit: 1, code: 'SUBJECT_MISMATCH' });
    // A proposal signed by a key no propose lane holds (another installation's codex key).
    const stranger = ws();
    rmSync(join(stranger.dir, '.duallane', 'keys'), { recursive: true, force: true });
    rmSync(join(stranger.dir, '.duallane', 'ledger'), { recursive: true, force: true });
    expect((await stranger.cli(['init'])).code).toBe(0);
    stranger.write('src/app.js', 'export const x = 8;\n');
    const s = await stranger.propose('from a stranger');
    const foreign = await w.json(['handoff', 'submit', '--bundle', s.bundlePath, '--artifact', s.artifactPath]);
    expect({ exit: foreign.r.code, code: foreign.data.error?.code }).toEqual({ exit: 1, code: 'UNTRUSTED_SIGNER' });
  }, 400_000);

  it('rejects a base commit nobody published, and a proposal for another repository', async () => {
    const w = ws();
    // The proposer works in a clone with a commit the executor's repository lacks.
    const clone = join(w.dir, '..', 'clone');
    w.git('clone', '-q', w.dir, clone);
    const g = (...a: string[]) => w.git('-C', clone, ...a);
    writeFileSync(join(clone, 'local.txt'), 'only here\n');
    g('add', '-A');
    g('commit', '-q', '-m', 'local only');
    writeFileSync(join(clone, 'src', 'app.js'), 'export const x = 9;\n');
    const p = await w.json(['handoff', 'propose', '--lane', 'codex', '--title', 'from clone', '--repo', clone]);
    expect(p.r.code).toBe(0);
    // Not on the forge's target either: refused as off-target, before the executor's own object store
    // is consulted (no oracle of what it holds).
    await expectRejected(w, p.data.id, 'BASE_NOT_ON_TARGET');

    w.write('src/app.js', 'export const x = 10;\n');
    const q = await w.propose('elsewhere');
    const cfgPath = join(w.dir, 'duallane.yaml');
    writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace('remote: .duallane/remote.git', 'remote: .duallane/other.git'));
    await expectRejected(w, q.id, 'REPOSITORY_MISMATCH');
  }, 400_000);

  it('usage errors exit 2; nothing pending exits 1; --next takes the oldest', async () => {
    const w = ws();
    const wrongLane = await w.json(['handoff', 'accept', '--next', '--lane', 'codex']);
    expect({ exit: wrongLane.r.code, code: wrongLane.data.error?.code }).toEqual({ exit: 2, code: 'LANE_KIND_MISMATCH' });
    const proposeAsExecutor = await w.cli(['handoff', 'propose', '--lane', 'claude', '--title', 't']);
    expect(proposeAsExecutor.code).toBe(2);
    expect((await w.cli(['handoff', 'accept', '--lane', 'claude'])).code).toBe(2);
    expect((await w.cli(['handoff', 'propose', '--lane', 'codex', '--title', 't', '--expires', 'soon'])).code).toBe(2);
    const empty = await w.json(['handoff', 'propose', '--lane', 'codex', '--title', 'nothing']);
    expect({ exit: empty.r.code, code: empty.data.error?.code }).toEqual({ exit: 2, code: 'EMPTY_CHANGE' });
    const none = await w.json(['handoff', 'accept', '--next', '--lane', 'claude']);
    expect({ exit: none.r.code, code: none.data.error?.code }).toEqual({ exit: 1, code: 'NOTHING_PENDING' });
    const missing = await w.json(['handoff', 'show', '01ARZ3NDEKTSV4RRFFQ69G5FAV']);
    expect({ exit: missing.r.code, code: missing.data.error?.code }).toEqual({ exit: 1, code: 'NOT_FOUND' });

    w.write('src/app.js', 'export const x = 11;\n');
    const first = await w.propose('first');
    w.write('README.md', '# second\n');
    const second = await w.propose('second');
    const a1 = await w.json(['handoff', 'accept', '--next', '--lane', 'claude']);
    expect(a1.data.id).toBe(first.id);
    const a2 = await w.json(['handoff', 'accept', '--next', '--lane', 'claude']);
    expect(a2.data.id).toBe(second.id);
    expect(a2.data.pr.number).toBe(2);
  }, 400_000);
});
