import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { FAKE_IDENTITY, FAKE_ISSUER, startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';
import { gatePeer, runPeer } from '../support/peers.js';
import { tamper, writeJson } from '../support/bundle-tamper.js';

/**
 * Interop with sigstore-python 4.5 on blobs, both directions, against the loopback fake Sigstore:
 * `sigstore --trust-config trust_config.json` (a ClientTrustConfig naming the fake's Fulcio, Rekor v1,
 * TSA and trusted root) verifies duallane's keyless bundles, online and --offline, and signs and
 * attests against the fake; duallane verifies those. sigstore-python verifies only certificate
 * identities (`verify identity`), so key bundles are cosign's part (cosign-blob.test.ts).
 */
const hasSigstore = gatePeer('sigstore');
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.skipIf(!hasSigstore)('sigstore-python <-> duallane: blobs', { timeout: 300_000 }, () => {
  let dir: string;
  let fake: FakeSigstore;
  let root: string;
  let trustConfig: string;
  let artifact: string;
  let other: string;
  let n = 0;
  const p = (name: string) => join(dir, name);
  const fresh = (name: string) => p(`${n++}-${name}`);
  const otherId = 'https://github.com/acme/widget-evil/.github/workflows/release.yml@refs/tags/v1.0.0';

  const sigstore = (args: string[]) => runPeer('sigstore', ['--trust-config', trustConfig, ...args], { cwd: dir });
  const pyVerify = (bundle: string, file: string, opts: { identity?: string; issuer?: string; offline?: boolean } = {}) =>
    sigstore(['verify', 'identity', ...(opts.offline === false ? [] : ['--offline']), '--bundle', bundle, '--cert-identity', opts.identity ?? FAKE_IDENTITY, '--cert-oidc-issuer', opts.issuer ?? FAKE_ISSUER, file]);
  async function dlVerify(bundle: string, file: string, opts: { identity?: string; issuer?: string; extra?: string[] } = {}): Promise<[number, string]> {
    const r = await runCli(['verify', file, '--bundle', bundle, '--certificate-identity', opts.identity ?? FAKE_IDENTITY, '--certificate-oidc-issuer', opts.issuer ?? FAKE_ISSUER, '--trusted-root', root, ...(opts.extra ?? []), '--json']);
    return [r.code, parseJson<{ error?: { code: string } }>(r).error?.code ?? 'OK'];
  }
  const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Json;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-sigstore-python-'));
    fake = await startFakeSigstore();
    ({ trustedRoot: root, trustConfig } = await fake.writeTrustFiles(dir));
    artifact = p('artifact.txt');
    other = p('other.txt');
    await writeFile(artifact, 'sigstore-python interop artifact\n');
    await writeFile(other, 'another artifact\n');
  });
  afterAll(() => fake?.close());

  it('verify identity (online and --offline) accepts a duallane keyless message signature', async () => {
    const bundle = p('dl-msg.json');
    const r = await runCli(['sign', artifact, '--bundle', bundle, '--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url, '--tsa-url', fake.url]);
    expect(r.code, r.stderr).toBe(0);
    const online = await pyVerify(bundle, artifact, { offline: false });
    expect(online.code, online.stderr).toBe(0);
    const offline = await pyVerify(bundle, artifact);
    expect(offline.code, offline.stderr).toBe(0);
    await refusedByBoth(bundle);
  });

  it('verify identity accepts a duallane keyless SLSA attestation (DSSE)', async () => {
    const bundle = p('dl-att.json');
    const r = await runCli(['attest', artifact, '--bundle', bundle, '--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url]);
    expect(r.code, r.stderr).toBe(0);
    const ok = await pyVerify(bundle, artifact);
    expect(ok.code, ok.stderr).toBe(0);
    await refusedByBoth(bundle);
  });

  it('duallane verifies `sigstore sign` against the fake Fulcio, Rekor and TSA', async () => {
    const bundle = p('py-msg.json');
    const r = await sigstore(['sign', '--identity-token', fake.token(), '--bundle', bundle, artifact]);
    expect(r.code, r.stderr).toBe(0);
    const b = await readJson(bundle);
    expect(b.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect(await dlVerify(bundle, artifact, { extra: ['--timestamp-threshold', '2'] })).toEqual([0, 'OK']);
    await refusedByBoth(bundle);
  });

  it('duallane verifies `sigstore attest` (SLSA v1, a dsse tlog entry)', async () => {
    const bundle = p('py-att.json');
    const pred = await writeJson(p('predicate.json'), { buildDefinition: { buildType: 'https://example.invalid/t', externalParameters: {} }, runDetails: { builder: { id: 'https://example.invalid/builder' } } });
    const r = await sigstore(['attest', '--identity-token', fake.token(), '--predicate-type', 'https://slsa.dev/provenance/v1', '--predicate', pred, '--bundle', bundle, artifact]);
    expect(r.code, r.stderr).toBe(0);
    expect(await dlVerify(bundle, artifact, { extra: ['--predicate-type', 'https://slsa.dev/provenance/v1', '--builder-id', 'https://example.invalid/builder'] })).toEqual([0, 'OK']);
    await refusedByBoth(bundle);
  });

  /** Other artifact, flipped signature, statement subject or signed digest changed, other identity, other issuer. */
  async function refusedByBoth(bundle: string): Promise<void> {
    const original = await readJson(bundle);
    const cases: { name: string; bundle: string; file: string; identity?: string; issuer?: string; code: string }[] = [
      { name: 'other artifact', bundle, file: other, code: 'SUBJECT_MISMATCH' },
      { name: 'flipped signature', bundle: await writeJson(fresh('sig.json'), tamper(original, 'signature')), file: artifact, code: 'SIGNATURE_INVALID' },
      {
        name: 'subject / signed digest names another artifact',
        bundle: await writeJson(fresh('subject.json'), tamper(original, 'subject')),
        file: artifact,
        code: original.dsseEnvelope ? 'SIGNATURE_INVALID' : 'SUBJECT_MISMATCH',
      },
      { name: 'another identity', bundle, file: artifact, identity: otherId, code: 'IDENTITY_MISMATCH' },
      { name: 'another issuer', bundle, file: artifact, issuer: 'https://accounts.google.com', code: 'ISSUER_MISMATCH' },
    ];
    for (const c of cases) {
      const py = await pyVerify(c.bundle, c.file, c);
      expect(py.code, `sigstore-python accepted: ${c.name}`).not.toBe(0);
      expect(await dlVerify(c.bundle, c.file, c), `duallane: ${c.name}`).toEqual([1, c.code]);
    }
  }
});
