import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { FAKE_IDENTITY, FAKE_ISSUER, startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';
import { gatePeer, runPeer } from '../support/peers.js';
import { tamper, writeJson } from '../support/bundle-tamper.js';
import { malformedVariants, signedPair } from '../support/malformed-bundles.js';

/**
 * Interop with cosign v3 on blobs, both directions, against the loopback fake Sigstore (Fulcio,
 * Rekor, TSA). Each accepted bundle is also tampered with (artifact, signature, statement subject or
 * signed digest, key, identity, issuer) and both cosign and duallane must refuse every variant.
 */
const hasCosign = gatePeer('cosign');
const PASSWORD = 'interop-pw';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.skipIf(!hasCosign)('cosign v3 <-> duallane: blobs', { timeout: 240_000 }, () => {
  let dir: string;
  let fake: FakeSigstore;
  let root: string;
  let signingConfig: string;
  let artifact: string;
  let other: string;
  let n = 0;
  const keyless = () => ['--certificate-identity', FAKE_IDENTITY, '--certificate-oidc-issuer', FAKE_ISSUER];
  const p = (name: string) => join(dir, name);
  const fresh = (name: string) => p(`${n++}-${name}`);

  const cosign = (args: string[]) => runPeer('cosign', args, { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
  async function dl(args: string[]): Promise<[number, string]> {
    const r = await runCli([...args, '--json']);
    const out = parseJson<{ ok?: boolean; error?: { code: string } }>(r);
    return [r.code, out.error?.code ?? 'OK'];
  }
  const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Json;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-cosign-blob-'));
    fake = await startFakeSigstore();
    ({ trustedRoot: root, signingConfig } = await fake.writeTrustFiles(dir));
    artifact = p('artifact.txt');
    other = p('other.txt');
    await writeFile(artifact, 'cosign interop artifact\n');
    await writeFile(other, 'another artifact\n');
    expect((await runCli(['keys', 'generate', '--lane', 'codex', '--out', dir])).code).toBe(0);
    expect((await runCli(['keys', 'generate', '--lane', 'intruder', '--out', dir])).code).toBe(0);
    const gen = await cosign(['generate-key-pair']);
    expect(gen.code, gen.stderr).toBe(0);
  });
  afterAll(() => fake?.close());

  describe('cosign verifies what duallane signs', () => {
    // Key bundles carry no tlog entry (duallane signs offline with a key), so cosign needs
    // --insecure-ignore-tlog, exactly as for its own `sign-blob --key --tlog-upload=false` bundles.
    const keyFlags = () => ['--key', p('codex.pub'), '--insecure-ignore-tlog'];

    it('verify-blob --key accepts `duallane sign` (with --insecure-ignore-tlog) and refuses every tampered variant', async () => {
      const bundle = p('key-msg.json');
      expect((await dl(['sign', artifact, '--key', p('codex.key'), '--bundle', bundle]))[0]).toBe(0);
      const ok = await cosign(['verify-blob', '--bundle', bundle, ...keyFlags(), artifact]);
      expect(ok.code, ok.stderr).toBe(0);
      // Without the flag cosign wants a tlog entry the bundle does not have.
      expect((await cosign(['verify-blob', '--bundle', bundle, '--key', p('codex.pub'), '--trusted-root', root, artifact])).code).not.toBe(0);
      await refusedByBoth(bundle, artifact, 'verify-blob', { cosign: keyFlags(), dl: ['--key', p('codex.pub')] }, { wrongKey: true });
    });

    it('verify-blob keyless accepts a duallane keyless bundle from the fake Fulcio and Rekor', async () => {
      const bundle = p('keyless-msg.json');
      expect((await dl(['sign', artifact, '--bundle', bundle, '--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url]))[0]).toBe(0);
      const ok = await cosign(['verify-blob', '--bundle', bundle, ...keyless(), '--trusted-root', root, artifact]);
      expect(ok.code, ok.stderr).toBe(0);
      await refusedByBoth(bundle, artifact, 'verify-blob', { cosign: ['--trusted-root', root], dl: ['--trusted-root', root] }, { identity: true });
    });

    it('verify-blob keyless accepts a duallane bundle timestamped by the TSA only (--use-signed-timestamps)', async () => {
      const bundle = p('keyless-tsa.json');
      expect((await dl(['sign', artifact, '--bundle', bundle, '--identity-token', fake.token(), '--fulcio-url', fake.url, '--tsa-url', fake.url]))[0]).toBe(0);
      const args = ['verify-blob', '--bundle', bundle, ...keyless(), '--trusted-root', root, '--use-signed-timestamps', '--insecure-ignore-tlog'];
      const ok = await cosign([...args, artifact]);
      expect(ok.code, ok.stderr).toBe(0);
      expect((await cosign([...args, other])).code).not.toBe(0);
    });

    it('verify-blob-attestation --type slsaprovenance1 accepts `duallane attest` with a key', async () => {
      const bundle = p('key-att.json');
      expect((await dl(['attest', artifact, '--key', p('codex.key'), '--bundle', bundle]))[0]).toBe(0);
      const ok = await cosign(['verify-blob-attestation', '--bundle', bundle, '--type', 'slsaprovenance1', ...keyFlags(), artifact]);
      expect(ok.code, ok.stderr).toBe(0);
      // the predicate type is checked: the same bundle is not an SPDX attestation
      expect((await cosign(['verify-blob-attestation', '--bundle', bundle, '--type', 'spdxjson', ...keyFlags(), artifact])).code).not.toBe(0);
      await refusedByBoth(bundle, artifact, 'verify-blob-attestation', { cosign: ['--type', 'slsaprovenance1', ...keyFlags()], dl: ['--key', p('codex.pub')] }, { wrongKey: true });
    });

    it('verify-blob-attestation accepts a keyless `duallane attest` bundle', async () => {
      const bundle = p('keyless-att.json');
      expect((await dl(['attest', artifact, '--bundle', bundle, '--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url]))[0]).toBe(0);
      const ok = await cosign(['verify-blob-attestation', '--bundle', bundle, '--type', 'slsaprovenance1', ...keyless(), '--trusted-root', root, artifact]);
      expect(ok.code, ok.stderr).toBe(0);
      await refusedByBoth(bundle, artifact, 'verify-blob-attestation', { cosign: ['--type', 'slsaprovenance1', '--trusted-root', root], dl: ['--trusted-root', root] }, { identity: true });
    });

    it('cosign also refuses the bundles duallane calls BUNDLE_MALFORMED', async () => {
      const pair = await signedPair(dir);
      for (const [name, variant] of Object.entries(malformedVariants)) {
        const b = variant(pair) as Json;
        const cmd = b.dsseEnvelope ? ['verify-blob-attestation', '--type', 'slsaprovenance1'] : ['verify-blob'];
        const r = await cosign([...cmd, '--bundle', await writeJson(fresh('malformed.json'), b), '--key', pair.pubPath, '--insecure-ignore-tlog', pair.artifactPath]);
        expect(r.code, `cosign accepted: ${name}`).not.toBe(0);
      }
    });
  });

  describe('duallane verifies what cosign signs', () => {
    it('sign-blob --key (no tlog): duallane verify --key cosign.pub', async () => {
      const bundle = p('cosign-key.json');
      const r = await cosign(['sign-blob', '--yes', '--key', p('cosign.key'), '--use-signing-config=false', '--tlog-upload=false', '--bundle', bundle, artifact]);
      expect(r.code, r.stderr).toBe(0);
      expect(await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub')])).toEqual([0, 'OK']);
      await refusedByBoth(bundle, artifact, 'verify-blob', { cosign: ['--key', p('cosign.pub'), '--insecure-ignore-tlog'], dl: ['--key', p('cosign.pub')] }, { wrongKey: true });
    });

    it('sign-blob --key through the fake Rekor and TSA: duallane verify --key --trusted-root checks the evidence', async () => {
      const bundle = p('cosign-key-tlog.json');
      const r = await cosign(['sign-blob', '--yes', '--key', p('cosign.key'), '--signing-config', signingConfig, '--trusted-root', root, '--bundle', bundle, artifact]);
      expect(r.code, r.stderr).toBe(0);
      const b = await readJson(bundle);
      expect(b.verificationMaterial.tlogEntries).toHaveLength(1);
      expect(await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub'), '--trusted-root', root])).toEqual([0, 'OK']);
      expect(await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub'), '--trusted-root', root, '--tlog-threshold', '1', '--timestamp-threshold', '2'])).toEqual([0, 'OK']);
      // Evidence nobody can check is refused, not ignored: without a root, or with another instance's.
      expect(await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub')])).toEqual([1, 'TIMESTAMP_INVALID']);
      const stranger = await startFakeSigstore();
      try {
        const { trustedRoot: strangerRoot } = await stranger.writeTrustFiles(await mkdtemp(join(tmpdir(), 'dl-cosign-stranger-')));
        expect((await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub'), '--trusted-root', strangerRoot]))[0]).toBe(1);
      } finally {
        await stranger.close();
      }
      await refusedByBoth(bundle, artifact, 'verify-blob', { cosign: ['--key', p('cosign.pub'), '--trusted-root', root], dl: ['--key', p('cosign.pub'), '--trusted-root', root] }, { wrongKey: true });
    });

    it('attest-blob --key (in-toto Statement v0.1): duallane verify --predicate-type slsa v1', async () => {
      const bundle = p('cosign-key-att.json');
      const pred = await writeJson(p('predicate.json'), { buildDefinition: { buildType: 'https://example.invalid/t', externalParameters: {} }, runDetails: { builder: { id: 'https://example.invalid/builder' } } });
      const r = await cosign(['attest-blob', '--yes', '--key', p('cosign.key'), '--use-signing-config=false', '--tlog-upload=false', '--new-bundle-format', '--type', 'slsaprovenance1', '--predicate', pred, '--bundle', bundle, artifact]);
      expect(r.code, r.stderr).toBe(0);
      expect(await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub'), '--predicate-type', 'https://slsa.dev/provenance/v1', '--builder-id', 'https://example.invalid/builder'])).toEqual([0, 'OK']);
      expect(await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub'), '--builder-id', 'https://example.invalid/other'])).toEqual([1, 'BUILDER_MISMATCH']);
      await refusedByBoth(bundle, artifact, 'verify-blob-attestation', { cosign: ['--type', 'slsaprovenance1', '--key', p('cosign.pub'), '--insecure-ignore-tlog'], dl: ['--key', p('cosign.pub')] }, { wrongKey: true });
    });

    it('sign-blob keyless against the fake (--signing-config --identity-token): duallane verify keyless', async () => {
      const bundle = p('cosign-keyless.json');
      const r = await cosign(['sign-blob', '--yes', '--signing-config', signingConfig, '--trusted-root', root, '--identity-token', fake.token(), '--bundle', bundle, artifact]);
      expect(r.code, r.stderr).toBe(0);
      expect(await dl(['verify', artifact, '--bundle', bundle, ...keyless(), '--trusted-root', root])).toEqual([0, 'OK']);
      await refusedByBoth(bundle, artifact, 'verify-blob', { cosign: ['--trusted-root', root], dl: ['--trusted-root', root] }, { identity: true });
    });

    it('attest-blob keyless against the fake: duallane verify keyless with the predicate type', async () => {
      const bundle = p('cosign-keyless-att.json');
      const pred = await writeJson(p('predicate-keyless.json'), { buildDefinition: { buildType: 'https://example.invalid/t', externalParameters: {} }, runDetails: { builder: { id: 'https://example.invalid/builder' } } });
      const r = await cosign(['attest-blob', '--yes', '--new-bundle-format', '--signing-config', signingConfig, '--trusted-root', root, '--identity-token', fake.token(), '--type', 'slsaprovenance1', '--predicate', pred, '--bundle', bundle, artifact]);
      expect(r.code, r.stderr).toBe(0);
      expect(await dl(['verify', artifact, '--bundle', bundle, ...keyless(), '--trusted-root', root, '--predicate-type', 'https://slsa.dev/provenance/v1'])).toEqual([0, 'OK']);
      await refusedByBoth(bundle, artifact, 'verify-blob-attestation', { cosign: ['--type', 'slsaprovenance1', '--trusted-root', root], dl: ['--trusted-root', root] }, { identity: true });
    });
  });

  /**
   * Both verifiers must refuse: the bundle over another artifact, a flipped signature bit, a statement
   * (or signed digest) naming another artifact, and, as asked, another key or another identity/issuer.
   */
  async function refusedByBoth(
    bundle: string,
    file: string,
    cosignCmd: 'verify-blob' | 'verify-blob-attestation',
    trust: { cosign: string[]; dl: string[] },
    opts: { wrongKey?: boolean; identity?: boolean },
  ): Promise<void> {
    const original = await readJson(bundle);
    const id = opts.identity ? keyless() : [];
    const cases: { name: string; bundle: string; file: string; cosign: string[]; dl: string[]; code: string }[] = [
      { name: 'other artifact', bundle, file: other, cosign: [...id, ...trust.cosign], dl: [...id, ...trust.dl], code: 'SUBJECT_MISMATCH' },
      { name: 'flipped signature', bundle: await writeJson(fresh('sig.json'), tamper(original, 'signature')), file, cosign: [...id, ...trust.cosign], dl: [...id, ...trust.dl], code: 'SIGNATURE_INVALID' },
      {
        name: 'statement subject / signed digest names another artifact',
        bundle: await writeJson(fresh('subject.json'), tamper(original, 'subject')),
        file,
        cosign: [...id, ...trust.cosign],
        dl: [...id, ...trust.dl],
        code: original.dsseEnvelope ? 'SIGNATURE_INVALID' : 'SUBJECT_MISMATCH',
      },
    ];
    if (opts.wrongKey) {
      const swap = (flags: string[]) => flags.map((f) => (f.endsWith('.pub') ? p('intruder.pub') : f));
      cases.push({ name: 'another key', bundle, file, cosign: swap(trust.cosign), dl: swap(trust.dl), code: 'SIGNATURE_INVALID' });
    }
    if (opts.identity) {
      const as = (identity: string, issuer: string) => ['--certificate-identity', identity, '--certificate-oidc-issuer', issuer];
      const otherId = 'https://github.com/acme/widget-evil/.github/workflows/release.yml@refs/tags/v1.0.0';
      cases.push({ name: 'another identity', bundle, file, cosign: [...as(otherId, FAKE_ISSUER), ...trust.cosign], dl: [...as(otherId, FAKE_ISSUER), ...trust.dl], code: 'IDENTITY_MISMATCH' });
      cases.push({ name: 'another issuer', bundle, file, cosign: [...as(FAKE_IDENTITY, 'https://accounts.google.com'), ...trust.cosign], dl: [...as(FAKE_IDENTITY, 'https://accounts.google.com'), ...trust.dl], code: 'ISSUER_MISMATCH' });
    }
    for (const c of cases) {
      const extra = cosignCmd === 'verify-blob-attestation' && !c.cosign.includes('--type') ? ['--type', 'slsaprovenance1'] : [];
      const byCosign = await cosign([cosignCmd, '--bundle', c.bundle, ...extra, ...c.cosign, c.file]);
      expect(byCosign.code, `cosign accepted: ${c.name}`).not.toBe(0);
      expect(await dl(['verify', c.file, '--bundle', c.bundle, ...c.dl]), `duallane: ${c.name}`).toEqual([1, c.code]);
    }
  }
});
