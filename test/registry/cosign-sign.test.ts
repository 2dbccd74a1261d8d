import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLSA_PROVENANCE_V1, signBlob } from '../../src/attest/index.js';
import { attestOciSubject, cosignLegacyAnnotations, signOciSubject, verifyOciAttestation, verifyOciSignature } from '../../src/policy/bundle-cosign.js';
import { pullPolicyBundle, pushPolicyBundle } from '../../src/policy/bundle-oci.js';
import {
  RegistryClient,
  attachCosignSignature,
  digestTag,
  parseImageReference,
  simpleSigningPayload,
} from '../../src/registry/index.js';
import { FAKE_IDENTITY, FAKE_ISSUER, startFakeSigstore } from '../support/fake-sigstore.js';
import { gateCommand } from '../support/services.js';
import { pushTestImage } from './images.js';
import { startRegistry, type RunningRegistry } from './registry-harness.js';

const haveRegistry = gateCommand('docker-registry', 'docker-registry');
const keys = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe.skipIf(!haveRegistry)('cosign-compatible signing and verification in a real registry', () => {
  let reg: RunningRegistry;
  let client: RegistryClient;
  const k = keys();
  const other = keys();
  const signer = { kind: 'key-object' as const, privateKey: k.privateKey };
  const trust = { kind: 'key-object' as const, publicKey: k.publicKey };
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 5000 });
  }, 30_000);
  afterAll(async () => {
    await reg?.stop();
  });

  const subjectOf = (img: { digest: string; mediaType: string; size: number }, repository: string) => ({ registry: reg.host, repository, ...img });

  it('signs an image (.sig + v3 referrer) and verifies it only with the right key', async () => {
    const img = await pushTestImage(client, reg.host, 'app/signed', 'v1', 'signed');
    const out = await signOciSubject(client, subjectOf(img, 'app/signed'), signer);
    expect(out.sigTag).toBe(digestTag(img.digest, '.sig'));
    const at = { registry: reg.host, repository: 'app/signed', digest: img.digest };
    const ok = await verifyOciSignature(client, at, trust);
    expect(ok.ok).toBe(true);
    const bad = await verifyOciSignature(client, at, { kind: 'key-object', publicKey: other.publicKey });
    expect(bad).toMatchObject({ ok: false, reason: 'SIGNATURE_INVALID' });
  });

  it('reports NO_SIGNATURES for an unsigned image', async () => {
    const img = await pushTestImage(client, reg.host, 'app/unsigned', 'v1', 'unsigned');
    const r = await verifyOciSignature(client, { registry: reg.host, repository: 'app/unsigned', digest: img.digest }, trust);
    expect(r).toMatchObject({ ok: false, reason: 'NO_SIGNATURES', checked: 0 });
  });

  it('accepts a bare cosign .sig layer (signature annotation only) with the right key', async () => {
    const img = await pushTestImage(client, reg.host, 'app/bare', 'v1', 'bare');
    const payload = simpleSigningPayload(`${reg.host}/app/bare`, img.digest);
    const b = (await signBlob(payload, signer)) as unknown as { messageSignature: { signature: string } };
    const at = { registry: reg.host, repository: 'app/bare', digest: img.digest };
    await attachCosignSignature(client, at, { payload, signature: b.messageSignature.signature });
    expect((await verifyOciSignature(client, at, trust)).ok).toBe(true);
  });

  it('verifies a cosign v2 keyless .sig layer (certificate + legacy Rekor bundle, no Sigstore bundle)', async () => {
    const fake = await startFakeSigstore();
    try {
      const img = await pushTestImage(client, reg.host, 'app/legacy-keyless', 'v1', 'legacy-keyless');
      const at = { registry: reg.host, repository: 'app/legacy-keyless', digest: img.digest };
      const payload = simpleSigningPayload(`${reg.host}/app/legacy-keyless`, img.digest);
      const b = await signBlob(payload, { kind: 'keyless', identityToken: fake.token(), fulcioURL: fake.url, rekorURL: fake.url });
      const legacy = cosignLegacyAnnotations(b);
      expect(legacy.certificatePem).toContain('BEGIN CERTIFICATE');
      expect(legacy.rekorBundle).toBeDefined();
      const signature = (b as unknown as { messageSignature: { signature: string } }).messageSignature.signature;
      await attachCosignSignature(client, at, { payload, signature, ...legacy });
      const trust = { kind: 'keyless' as const, trustedRoot: fake.trustedRoot, identity: FAKE_IDENTITY, issuer: FAKE_ISSUER };
      expect(await verifyOciSignature(client, at, trust)).toMatchObject({ ok: true, via: 'sig-tag' });
      expect(await verifyOciSignature(client, at, { ...trust, identity: 'https://github.com/evil/x/.github/workflows/r.yml@refs/heads/main' })).toMatchObject({
        ok: false,
        reason: 'IDENTITY_MISMATCH',
      });
      // A forged SET: the transparency-log promise no longer verifies.
      const img2 = await pushTestImage(client, reg.host, 'app/legacy-keyless', 'v2', 'legacy-keyless-2');
      const at2 = { ...at, digest: img2.digest };
      const payload2 = simpleSigningPayload(`${reg.host}/app/legacy-keyless`, img2.digest);
      const b2 = await signBlob(payload2, { kind: 'keyless', identityToken: fake.token(), fulcioURL: fake.url, rekorURL: fake.url });
      const l2 = cosignLegacyAnnotations(b2) as { certificatePem: string; rekorBundle: { SignedEntryTimestamp: string } };
      const forged = { ...l2.rekorBundle, SignedEntryTimestamp: Buffer.from('forged').toString('base64') };
      const sig2 = (b2 as unknown as { messageSignature: { signature: string } }).messageSignature.signature;
      await attachCosignSignature(client, at2, { payload: payload2, signature: sig2, certificatePem: l2.certificatePem, rekorBundle: forged });
      expect((await verifyOciSignature(client, at2, trust)).ok).toBe(false);
    } finally {
      await fake.close();
    }
  });

  it('refuses a valid signature copied from another image (payload names another digest)', async () => {
    const a = await pushTestImage(client, reg.host, 'app/copy', 'a', 'copy-a');
    const b = await pushTestImage(client, reg.host, 'app/copy', 'b', 'copy-b');
    const payload = simpleSigningPayload(`${reg.host}/app/copy`, a.digest);
    const bundle = await signBlob(payload, signer);
    const sig = (bundle as unknown as { messageSignature: { signature: string } }).messageSignature.signature;
    const atB = { registry: reg.host, repository: 'app/copy', digest: b.digest };
    await attachCosignSignature(client, atB, { payload, signature: sig, bundle });
    expect(await verifyOciSignature(client, atB, trust)).toMatchObject({ ok: false, reason: 'SUBJECT_MISMATCH' });
  });

  it('attests SLSA provenance and checks the builder id', async () => {
    const img = await pushTestImage(client, reg.host, 'app/attested', 'v1', 'attested');
    const predicate = { buildDefinition: { buildType: 'https://example/t', externalParameters: {} }, runDetails: { builder: { id: 'https://builder.example/good@v1' } } };
    await attestOciSubject(client, subjectOf(img, 'app/attested'), SLSA_PROVENANCE_V1, predicate, signer);
    const at = { registry: reg.host, repository: 'app/attested', digest: img.digest };
    const ok = await verifyOciAttestation(client, at, trust, { predicateType: SLSA_PROVENANCE_V1, builderId: 'https://builder.example/good@v1' });
    expect(ok).toMatchObject({ ok: true, via: 'referrer' });
    const wrong = await verifyOciAttestation(client, at, trust, { predicateType: SLSA_PROVENANCE_V1, builderId: 'https://builder.example/other@v1' });
    expect(wrong).toMatchObject({ ok: false, reason: 'BUILDER_MISMATCH' });
    const none = await verifyOciAttestation(client, at, trust, { predicateType: 'https://spdx.dev/Document' });
    expect(none).toMatchObject({ ok: false, reason: 'NO_ATTESTATIONS' });
  });

  it('pushes a signed policy bundle as a Flux artifact and pulls it back verified', async () => {
    const data = Buffer.from('pretend tar.gz');
    const ref = parseImageReference(`${reg.host}/policies/kyverno:v1`);
    const pushed = await pushPolicyBundle(client, ref, data, { signer });
    expect(pushed.signature?.sigTag).toBe(digestTag(pushed.digest, '.sig'));
    const pulled = await pullPolicyBundle(client, ref, { trust });
    expect(pulled.data.equals(data)).toBe(true);
    expect(pulled.digest).toBe(pushed.digest);
    await expect(pullPolicyBundle(client, ref, { trust: { kind: 'key-object', publicKey: other.publicKey } })).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    const unsigned = parseImageReference(`${reg.host}/policies/kyverno:unsigned`);
    await pushPolicyBundle(client, unsigned, Buffer.from('other'));
    await expect(pullPolicyBundle(client, unsigned, { trust })).rejects.toMatchObject({ code: 'UNTRUSTED_SIGNER' });
  });
});
