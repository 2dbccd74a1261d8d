import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attestStatement,
  generateKeyPair,
  makeStatement,
  sha256Hex,
  signBlob,
  SLSA_PROVENANCE_V1,
  type SerializedBundle,
} from '../../src/attest/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { FAKE_IDENTITY, FAKE_ISSUER, startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';

/**
 * Provenance replay and tamper attacks. Each builds a bundle an attacker could present, hands it to
 * the real CLI, and asserts the exact reason code and exit status. Written before the checks they pin.
 */

const WORKFLOW = 'https://github.com/acme/widget/.github/workflows/release.yml';
const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

function slsa(builderId: string, sourceUri: string, ref: string) {
  return {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: { source: { uri: `git+${sourceUri}@${ref}`, ref, commit: 'a'.repeat(40) } },
      resolvedDependencies: [{ uri: `git+${sourceUri}@${ref}`, digest: { gitCommit: 'a'.repeat(40) } }],
    },
    runDetails: { builder: { id: builderId }, metadata: { invocationId: 'run-1', startedOn: '2026-01-01T00:00:00Z', finishedOn: '2026-01-01T00:01:00Z' } },
  };
}

describe('negative suite: provenance replay and tampering', () => {
  let dir: string;
  let fake: FakeSigstore;
  let expiredFake: FakeSigstore;
  let key: string;
  let pub: string;
  let attackerKey: string;
  let rootPath: string;
  const A = Buffer.from('artifact A\n');
  const B = Buffer.from('artifact B\n');
  let aPath: string;
  let bPath: string;
  let n = 0;

  async function put(bundle: unknown): Promise<string> {
    const p = join(dir, `bundle-${n++}.json`);
    await writeFile(p, typeof bundle === 'string' ? bundle : JSON.stringify(bundle));
    return p;
  }

  /** Runs `duallane verify` and returns [exit code, reason code]. */
  async function verify(subject: string, bundle: unknown, flags: string[]): Promise<[number, string]> {
    const r = await runCli(['verify', subject, '--bundle', await put(bundle), '--json', ...flags]);
    const out = parseJson<{ ok: boolean; error?: { code: string } }>(r);
    return [r.code, out.ok ? 'OK' : (out.error?.code ?? '?')];
  }
  const keyFlags = () => ['--key', pub];
  const keylessFlags = (extra: string[] = []) => ['--trusted-root', rootPath, '--certificate-identity', FAKE_IDENTITY, '--certificate-oidc-issuer', FAKE_ISSUER, ...extra];
  const keyless = (f: FakeSigstore, claims: Record<string, unknown> = {}) =>
    ({ kind: 'keyless', identityToken: f.token(claims), fulcioURL: f.url, rekorURL: f.url }) as const;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-negative-'));
    fake = await startFakeSigstore();
    expiredFake = await startFakeSigstore({ caClock: new Date(Date.now() - 3600_000) });
    const k = await generateKeyPair({ lane: 'codex', outDir: dir });
    key = k.keyPath;
    pub = k.pubPath;
    attackerKey = (await generateKeyPair({ lane: 'attacker', outDir: dir })).keyPath;
    rootPath = join(dir, 'trusted_root.json');
    await writeFile(rootPath, JSON.stringify(fake.trustedRoot));
    aPath = join(dir, 'a.bin');
    bPath = join(dir, 'b.bin');
    await writeFile(aPath, A);
    await writeFile(bPath, B);
  });
  afterAll(async () => {
    await fake.close();
    await expiredFake.close();
  });

  const provenanceOf = (buf: Buffer, pred = slsa(`${WORKFLOW}@refs/tags/v1.0.0`, 'https://github.com/acme/widget', 'refs/tags/v1.0.0')) =>
    makeStatement([{ name: 'artifact', digest: { sha256: sha256Hex(buf) } }], SLSA_PROVENANCE_V1, pred);

  it('control: the honest bundles verify (so every rejection below is the attack, not the setup)', async () => {
    expect(await verify(aPath, await signBlob(A, { kind: 'key', keyPath: key }), keyFlags())).toEqual([0, 'OK']);
    expect(await verify(aPath, await attestStatement(provenanceOf(A), { kind: 'key', keyPath: key }), [...keyFlags(), '--builder-id', `${WORKFLOW}@refs/tags/*`, '--source-uri', 'github.com/acme/widget', '--source-ref', 'refs/tags/v1.0.0'])).toEqual([0, 'OK']);
    expect(await verify(aPath, await attestStatement(provenanceOf(A), keyless(fake)), keylessFlags())).toEqual([0, 'OK']);
  });

  it('1. bundle of artifact A presented for B (message signature and DSSE)', async () => {
    expect(await verify(bPath, await signBlob(A, { kind: 'key', keyPath: key }), keyFlags())).toEqual([1, 'SUBJECT_MISMATCH']);
    expect(await verify(bPath, await attestStatement(provenanceOf(A), { kind: 'key', keyPath: key }), keyFlags())).toEqual([1, 'SUBJECT_MISMATCH']);
    expect(await verify(`sha256:${sha256Hex(B)}`, await attestStatement(provenanceOf(A), keyless(fake)), keylessFlags())).toEqual([1, 'SUBJECT_MISMATCH']);
  });

  it('2. subject digest edited to name B', async () => {
    const b = await attestStatement(provenanceOf(A), { kind: 'key', keyPath: key });
    const env = b.dsseEnvelope as { payload: string };
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString());
    st.subject[0].digest.sha256 = sha256Hex(B);
    env.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    expect(await verify(bPath, b, keyFlags())).toEqual([1, 'SIGNATURE_INVALID']);
  });

  it('3. payload edited (builder rewritten), key and keyless', async () => {
    for (const signer of [{ kind: 'key', keyPath: key } as const, keyless(fake)]) {
      const b = await attestStatement(provenanceOf(A), signer);
      const env = b.dsseEnvelope as { payload: string };
      env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('refs/tags/v1.0.0', 'refs/heads/evil')).toString('base64');
      expect(await verify(aPath, b, signer.kind === 'key' ? keyFlags() : keylessFlags())).toEqual([1, 'SIGNATURE_INVALID']);
    }
  });

  it('4. payloadType edited', async () => {
    const b = await attestStatement(provenanceOf(A), { kind: 'key', keyPath: key });
    (b.dsseEnvelope as { payloadType: string }).payloadType = 'application/json';
    expect(await verify(aPath, b, keyFlags())).toEqual([1, 'SIGNATURE_INVALID']);
  });

  it('5. signature by another key (the bundle even names the right key id)', async () => {
    const honest = await signBlob(A, { kind: 'key', keyPath: key });
    const forged = await signBlob(A, { kind: 'key', keyPath: attackerKey });
    forged.verificationMaterial = clone(honest.verificationMaterial);
    expect(await verify(aPath, forged, keyFlags())).toEqual([1, 'SIGNATURE_INVALID']);
    expect(await verify(aPath, await attestStatement(provenanceOf(A), { kind: 'key', keyPath: attackerKey }), keyFlags())).toEqual([1, 'SIGNATURE_INVALID']);
  });

  it('6. wrong identity', async () => {
    const b = await attestStatement(provenanceOf(A), keyless(fake, { sub: 'https://github.com/mallory/tools/.github/workflows/x.yml@refs/heads/main' }));
    expect(await verify(aPath, b, keylessFlags())).toEqual([1, 'IDENTITY_MISMATCH']);
  });

  it('7. wrong issuer', async () => {
    const b = await attestStatement(provenanceOf(A), keyless(fake, { iss: 'https://accounts.evil.example' }));
    expect(await verify(aPath, b, keylessFlags())).toEqual([1, 'ISSUER_MISMATCH']);
  });

  it('8. unanchored-identity bypass: .../acme/widget must not accept .../acme/widget-evil', async () => {
    const b = await attestStatement(provenanceOf(A), keyless(fake, { sub: 'https://github.com/acme/widget-evil/.github/workflows/release.yml@refs/tags/v1.0.0' }));
    const flags = ['--trusted-root', rootPath, '--certificate-identity-regexp', 'https://github\\.com/acme/widget', '--certificate-oidc-issuer', FAKE_ISSUER];
    expect(await verify(aPath, b, flags)).toEqual([1, 'IDENTITY_MISMATCH']);
    const flags2 = ['--trusted-root', rootPath, '--certificate-identity-regexp', 'https://github\\.com/acme/widget/.+', '--certificate-oidc-issuer-regexp', 'https://token\\.actions\\.githubusercontent\\.com'];
    expect(await verify(aPath, b, flags2)).toEqual([1, 'IDENTITY_MISMATCH']);
  });

  it('9. wrong predicate type', async () => {
    const b = await attestStatement(makeStatement([{ name: 'a', digest: { sha256: sha256Hex(A) } }], 'https://example.com/test-result/v1', { passed: true }), { kind: 'key', keyPath: key });
    expect(await verify(aPath, b, [...keyFlags(), '--predicate-type', SLSA_PROVENANCE_V1])).toEqual([1, 'PREDICATE_TYPE_MISMATCH']);
    expect(await verify(aPath, b, [...keyFlags(), '--builder-id', WORKFLOW])).toEqual([1, 'PREDICATE_TYPE_MISMATCH']);
  });

  it('10. builder on a branch ref when a tag is required', async () => {
    const b = await attestStatement(provenanceOf(A, slsa(`${WORKFLOW}@refs/heads/main`, 'https://github.com/acme/widget', 'refs/heads/main')), { kind: 'key', keyPath: key });
    expect(await verify(aPath, b, [...keyFlags(), '--builder-id', `${WORKFLOW}@refs/tags/*`])).toEqual([1, 'BUILDER_MISMATCH']);
    expect(await verify(aPath, b, [...keyFlags(), '--builder-id', `${WORKFLOW}@refs/tags/v1.0.0`])).toEqual([1, 'BUILDER_MISMATCH']);
    expect(await verify(aPath, b, [...keyFlags(), '--builder-id', 'https://github.com/acme/other/.github/workflows/release.yml'])).toEqual([1, 'BUILDER_MISMATCH']);
  });

  it('11. source repository is a fork (or the ref differs)', async () => {
    const b = await attestStatement(provenanceOf(A, slsa(`${WORKFLOW}@refs/tags/v1.0.0`, 'https://github.com/evil/widget', 'refs/tags/v1.0.0')), { kind: 'key', keyPath: key });
    expect(await verify(aPath, b, [...keyFlags(), '--source-uri', 'github.com/acme/widget'])).toEqual([1, 'SOURCE_MISMATCH']);
    const c = await attestStatement(provenanceOf(A), { kind: 'key', keyPath: key });
    expect(await verify(aPath, c, [...keyFlags(), '--source-uri', 'github.com/acme/widget', '--source-ref', 'refs/tags/v2.0.0'])).toEqual([1, 'SOURCE_MISMATCH']);
  });

  it('12. transparency-log entry taken from another signature', async () => {
    const victim = await signBlob(A, keyless(fake));
    const other = await signBlob(B, keyless(fake));
    victim.verificationMaterial!.tlogEntries = clone(other.verificationMaterial!.tlogEntries);
    expect(await verify(aPath, victim, keylessFlags())).toEqual([1, 'TLOG_INVALID']);
  });

  it('13. the same tlog entry twice is not counted as two', async () => {
    const b = await signBlob(A, keyless(fake));
    const e = b.verificationMaterial!.tlogEntries!;
    e.push(clone(e[0]!));
    expect(await verify(aPath, b, keylessFlags(['--tlog-threshold', '2']))).toEqual([1, 'TLOG_INVALID']);
  });

  it('14. zero timestamps when one is required', async () => {
    const b = await signBlob(A, keyless(fake));
    b.verificationMaterial!.tlogEntries = [];
    expect(await verify(aPath, b, keylessFlags(['--tlog-threshold', '0']))).toEqual([1, 'TIMESTAMP_MISSING']);
    const k = await signBlob(A, { kind: 'key', keyPath: key });
    expect(await verify(aPath, k, [...keyFlags(), '--timestamp-threshold', '1'])).toEqual([1, 'TIMESTAMP_MISSING']);
  });

  it('15. certificate expired at signing time', async () => {
    const b = await signBlob(A, keyless(expiredFake));
    const root = join(dir, 'expired_root.json');
    await writeFile(root, JSON.stringify(expiredFake.trustedRoot));
    expect(await verify(aPath, b, ['--trusted-root', root, '--certificate-identity', FAKE_IDENTITY, '--certificate-oidc-issuer', FAKE_ISSUER])).toEqual([1, 'CERTIFICATE_EXPIRED']);
  });

  it('16. certificate from a CA that is not in the trusted root', async () => {
    const b = await signBlob(A, keyless(expiredFake));
    expect(await verify(aPath, b, keylessFlags())).toEqual([1, 'UNTRUSTED_SIGNER']);
  });

  it('17. truncated or non-JSON bundle: exit 2, nothing trusted', async () => {
    const text = JSON.stringify(await signBlob(A, { kind: 'key', keyPath: key }));
    expect(await verify(aPath, text.slice(0, text.length / 2), keyFlags())).toEqual([2, 'BUNDLE_MALFORMED']);
    expect(await verify(aPath, 'not json at all', keyFlags())).toEqual([2, 'BUNDLE_MALFORMED']);
    expect(await verify(aPath, '[]', keyFlags())).toEqual([2, 'BUNDLE_MALFORMED']);
    expect(await verify(aPath, { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }, keyFlags())).toEqual([2, 'BUNDLE_MALFORMED']);
  });

  it('18. oversized bundle is refused before it is parsed', async () => {
    const big = JSON.stringify({ mediaType: 'x', pad: 'A'.repeat(5 * 1024 * 1024) });
    expect(await verify(aPath, big, keyFlags())).toEqual([2, 'INPUT_TOO_LARGE']);
  });

  it('19. build signer workflow differs from the one required', async () => {
    const b = await signBlob(A, keyless(fake, { job_workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/heads/main' }));
    expect(await verify(aPath, b, keylessFlags(['--signer-workflow', `${WORKFLOW}@refs/tags/*`]))).toEqual([1, 'SIGNER_WORKFLOW_MISMATCH']);
    expect(await verify(aPath, b, keylessFlags(['--signer-workflow', `${WORKFLOW}`]))).toEqual([0, 'OK']);
  });

  it('20. a second signature smuggled into the envelope is refused as malformed (v0.3 allows exactly one)', async () => {
    const b = await attestStatement(provenanceOf(A), { kind: 'key', keyPath: key });
    const env = b.dsseEnvelope as { signatures: { sig: string; keyid: string }[] };
    env.signatures.unshift({ keyid: '', sig: Buffer.from('garbage').toString('base64') });
    expect(await verify(aPath, b, keyFlags())).toEqual([2, 'BUNDLE_MALFORMED']);
  });

  it('bundles are written as v0.3 and the CLI honours the conformance digest form', async () => {
    const b: SerializedBundle = await signBlob(A, { kind: 'key', keyPath: key });
    expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(await verify(`sha256:${sha256Hex(A)}`, b, keyFlags())).toEqual([0, 'OK']);
    expect(await readFile(pub, 'utf8')).toMatch(/PUBLIC KEY/);
  });
});
