import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signer } from '../../src/attest/index.js';
import { signOciSubject } from '../../src/policy/bundle-cosign.js';
import { RegistryClient } from '../../src/registry/index.js';
import { pushTestImage } from '../registry/images.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';
import { parseJson, runCli } from '../support/cli.js';
import { gateCommand } from '../support/services.js';

const haveRegistry = gateCommand('docker-registry', 'docker-registry');

// `duallane policy test --registry`, like `kyverno test --registry`: verifyImages rules are decided
// against a real OCI registry (Debian's docker-registry on loopback) instead of being offline errors.
describe.skipIf(!haveRegistry)('policy test --registry (real registry)', () => {
  let reg: RunningRegistry;
  let dir: string;

  beforeAll(async () => {
    reg = await startRegistry();
    const client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 3000 });
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer: Signer = { kind: 'key-object', privateKey: k.privateKey };
    const signed = await pushTestImage(client, reg.host, 'apps/signed', 'v1', 'signed');
    await signOciSubject(client, { registry: reg.host, repository: 'apps/signed', digest: signed.digest, mediaType: signed.mediaType, size: signed.size }, signer);
    const unsigned = await pushTestImage(client, reg.host, 'apps/unsigned', 'v1', 'unsigned');
    const pub = k.publicKey.export({ type: 'spki', format: 'pem' }).toString().trim().split('\n').map((l) => `                      ${l}`).join('\n');
    dir = await mkdtemp(join(tmpdir(), 'pt-reg-'));
    await writeFile(
      join(dir, 'policy.yaml'),
      `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: check-signature
spec:
  rules:
    - name: verify
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["${reg.host}/*"]
          failureAction: Enforce
          mutateDigest: false
          attestors:
            - entries:
                - keys:
                    publicKeys: |-
${pub}
                    rekor:
                      ignoreTlog: true
`,
    );
    const pod = (name: string, image: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: c\n      image: ${image}\n`;
    await writeFile(join(dir, 'resources.yaml'), [pod('signed', `${reg.host}/apps/signed@${signed.digest}`), pod('unsigned', `${reg.host}/apps/unsigned@${unsigned.digest}`)].join('---\n'));
    await writeFile(
      join(dir, 'kyverno-test.yaml'),
      `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata:
  name: check-signature
policies: [policy.yaml]
resources: [resources.yaml]
results:
  - {policy: check-signature, rule: verify, kind: Pod, resources: [signed], result: pass}
  - {policy: check-signature, rule: verify, kind: Pod, resources: [unsigned], result: fail}
`,
    );
  }, 60_000);

  afterAll(async () => {
    await reg?.stop();
  });

  it('passes signed and fails unsigned images with --registry; offline both are errors', async () => {
    const online = await runCli(['policy', 'test', dir, '--registry', '--insecure-registry', reg.host, '--registry-timeout', '3000', '--json']);
    expect(online.code, online.stdout + online.stderr).toBe(0);
    expect(parseJson<{ summary: { pass: number; fail: number } }>(online).summary).toMatchObject({ pass: 2, fail: 0 });
    const offline = await runCli(['policy', 'test', dir, '--json']);
    expect(offline.code).toBe(1);
    const rows = parseJson<{ tests: { rows: { actual: string }[] }[] }>(offline).tests[0]!.rows;
    expect(rows.map((r) => r.actual)).toEqual(['error', 'error']);
  }, 60_000);
});
