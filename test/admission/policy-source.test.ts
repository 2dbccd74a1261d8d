import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAdmissionPolicies } from '../../src/admission/index.js';
import { DuallaneMetrics } from '../../src/observability/index.js';
import { createPolicyBundle } from '../../src/policy/bundle.js';
import { pushPolicyBundle } from '../../src/policy/bundle-oci.js';
import { RegistryClient, parseImageReference } from '../../src/registry/index.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';
import { gateCommand } from '../support/services.js';
import { enforcementPolicies } from './fixtures.js';

const haveRegistry = gateCommand('docker-registry', 'docker-registry');

describe.skipIf(!haveRegistry)('webhook policies from a signed policy bundle in a registry (oci://)', () => {
  let reg: RunningRegistry;
  let dir: string;
  let client: RegistryClient;
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 3000 });
    dir = await mkdtemp(join(tmpdir(), 'duallane-policy-source-'));
    const pub = k.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    for (const p of enforcementPolicies(pub)) await writeFile(join(dir, `${p.metadata.name}.yaml`), stringify(p));
    await writeFile(join(dir, 'README.txt'), 'not a policy');
    const bundle = await createPolicyBundle(dir);
    await pushPolicyBundle(client, parseImageReference(`${reg.host}/policies/kyverno:v1`), bundle.data, { signer: { kind: 'key-object', privateKey: k.privateKey } });
    await pushPolicyBundle(client, parseImageReference(`${reg.host}/policies/kyverno:unsigned`), bundle.data.subarray(0), { revision: 'unsigned' });
  }, 30_000);
  afterAll(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the policies only after the bundle signature verifies, and counts the verification', async () => {
    const metrics = new DuallaneMetrics({ defaultMetrics: false });
    const loaded = await loadAdmissionPolicies(`oci://${reg.host}/policies/kyverno:v1`, { client, trust: { kind: 'key-object', publicKey: k.publicKey }, metrics });
    expect(loaded.policies.map((p) => p.metadata.name).sort()).toEqual(['require-image-digest', 'require-signed-images', 'require-slsa-provenance']);
    expect(loaded.origin).toMatchObject({ kind: 'oci', digest: expect.stringMatching(/^sha256:/) });

    await expect(
      loadAdmissionPolicies(`oci://${reg.host}/policies/kyverno:v1`, { client, trust: { kind: 'key-object', publicKey: other.publicKey }, metrics }),
    ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(
      loadAdmissionPolicies(`oci://${reg.host}/policies/kyverno:unsigned`, { client, trust: { kind: 'key-object', publicKey: k.publicKey }, metrics }),
    ).rejects.toMatchObject({ code: 'UNTRUSTED_SIGNER' });
    const text = await metrics.render();
    expect(text).toMatch(/duallane_policy_bundle_verifications_total\{result="success",reason="none"\} 1/);
    expect(text).toMatch(/duallane_policy_bundle_verifications_total\{result="failure",reason="signature_invalid"\} 1/);
    expect(text).toMatch(/duallane_policy_bundle_verifications_total\{result="failure",reason="untrusted_signer"\} 1/);
  });

  it('refuses an oci:// source without trust flags', async () => {
    await expect(loadAdmissionPolicies(`oci://${reg.host}/policies/kyverno:v1`, { client })).rejects.toMatchObject({ code: 'BAD_USAGE' });
  });
});
