import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_IDENTITY, FAKE_ISSUER, startFakeSigstore, type FakeSigstore } from '../../test/support/fake-sigstore.js';
import { attestStatement, makeStatement, sha256Hex, signBlob, verifyBundle } from './index.js';

describe('keyless signing against @sigstore/mock over loopback HTTP', () => {
  let fake: FakeSigstore;
  beforeAll(async () => {
    fake = await startFakeSigstore();
  });
  afterAll(() => fake.close());

  it('message signature carries a certificate, a tlog entry and a timestamp, and verifies offline', async () => {
    const artifact = Buffer.from('keyless artifact');
    const b = await signBlob(artifact, { kind: 'keyless', identityToken: fake.token({ job_workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/v1.0.0' }), fulcioURL: fake.url, rekorURL: fake.url, tsaURL: fake.url });
    expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(b.verificationMaterial?.certificate).toBeDefined();
    expect(b.verificationMaterial?.tlogEntries?.length).toBe(1);
    expect(b.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps?.length).toBe(1);
    const r = await verifyBundle(b, {
      artifact,
      trust: { kind: 'keyless', trustedRoot: fake.trustedRoot, identity: FAKE_IDENTITY, issuer: FAKE_ISSUER },
      signerWorkflow: 'https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/*',
    });
    expect(r.signer).toMatchObject({ kind: 'certificate', identity: FAKE_IDENTITY, issuer: FAKE_ISSUER });
  });

  it('DSSE attestation verifies with an anchored identity regexp', async () => {
    const artifact = Buffer.from('keyless dsse');
    const st = makeStatement([{ name: 'x', digest: { sha256: sha256Hex(artifact) } }], 'https://example.com/t', {});
    const b = await attestStatement(st, { kind: 'keyless', identityToken: fake.token(), fulcioURL: fake.url, rekorURL: fake.url });
    const r = await verifyBundle(b, {
      artifact,
      trust: { kind: 'keyless', trustedRoot: fake.trustedRoot, identityRegexp: 'https://github\\.com/acme/widget/.*', issuer: FAKE_ISSUER },
    });
    expect(r.kind).toBe('dsse');
  });
});
