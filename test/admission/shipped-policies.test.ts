import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdmissionApp, RegistryImageVerifier } from '../../src/admission/index.js';
import { SLSA_PROVENANCE_V1, type Signer } from '../../src/attest/index.js';
import { attestOciSubject, signOciSubject } from '../../src/policy/bundle-cosign.js';
import { loadPolicies } from '../../src/policy/load.js';
import { RegistryClient } from '../../src/registry/index.js';
import { pushTestImage } from '../registry/images.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';
import { startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';
import { gateCommand } from '../support/services.js';
import { podReview } from './fixtures.js';

const haveRegistry = gateCommand('docker-registry', 'docker-registry');
const SHIPPED = fileURLToPath(new URL('../../policies/kyverno/', import.meta.url));
const RELEASE_IDENTITY = 'https://github.com/duallane/duallane/.github/workflows/release.yml@refs/tags/v1.2.0';

/**
 * The policies exactly as shipped in policies/kyverno, with two deployment-time substitutions a
 * user makes too: the lane public key, and the registry (ghcr.io/duallane -> the loopback one).
 */
async function shippedPolicies(dir: string, pubPem: string, host: string) {
  for (const f of (await readdir(SHIPPED)).filter((n) => n.endsWith('.yaml'))) {
    let text = await readFile(join(SHIPPED, f), 'utf8');
    text = text.replace(/^( *)-----BEGIN PUBLIC KEY-----\n(?:\1.*\n)*?\1-----END PUBLIC KEY-----/gm, (_m, indent: string) =>
      pubPem
        .trim()
        .split('\n')
        .map((l) => indent + l)
        .join('\n'),
    );
    text = text.replaceAll('ghcr.io/duallane/', `${host}/duallane/`);
    await writeFile(join(dir, f), text);
  }
  return (await loadPolicies([dir])).policies;
}

interface Resp {
  allowed: boolean;
  status?: { message: string };
  warnings?: string[];
}

describe.skipIf(!haveRegistry)('the shipped policies enforced by the webhook (key and keyless)', () => {
  let reg: RunningRegistry;
  let fake: FakeSigstore;
  let dir: string;
  let client: RegistryClient;
  let app: ReturnType<typeof buildAdmissionApp>;
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keySigner: Signer = { kind: 'key-object', privateKey: k.privateKey };
  const images: Record<string, string> = {};

  const provenance = (builder: string) => ({
    buildDefinition: { buildType: 'https://duallane.dev/buildtypes/local/v1', externalParameters: { source: { uri: 'git+https://github.com/duallane/duallane@refs/heads/main' } } },
    runDetails: { builder: { id: builder } },
  });

  beforeAll(async () => {
    reg = await startRegistry();
    fake = await startFakeSigstore();
    dir = await mkdtemp(join(tmpdir(), 'duallane-shipped-'));
    client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 3000 });
    const keyless = (sub: string): Signer => ({ kind: 'keyless', identityToken: fake.token({ sub }), fulcioURL: fake.url, rekorURL: fake.url });
    const make = async (name: string, repo: string, sign: Signer | undefined, builder: string | undefined) => {
      const p = await pushTestImage(client, reg.host, repo, 'v1', name);
      const subject = { registry: reg.host, repository: repo, digest: p.digest, mediaType: p.mediaType, size: p.size };
      if (sign) await signOciSubject(client, subject, sign);
      if (builder) await attestOciSubject(client, subject, SLSA_PROVENANCE_V1, provenance(builder), keySigner);
      images[name] = `${reg.host}/${repo}@${p.digest}`;
    };
    await make('good', 'shop/good', keySigner, 'https://duallane.dev/builders/local@v1');
    await make('unsigned', 'shop/unsigned', undefined, 'https://duallane.dev/builders/local@v1');
    await make('evilBuilder', 'shop/evil', keySigner, 'https://builder.evil.test/x@v1');
    await make('release', 'duallane/duallane', keyless(RELEASE_IDENTITY), 'https://duallane.dev/builders/local@v1');
    await make('forkRelease', 'duallane/fork', keyless('https://github.com/attacker/duallane/.github/workflows/release.yml@refs/tags/v1.2.0'), 'https://duallane.dev/builders/local@v1');
    const policies = await shippedPolicies(dir, k.publicKey.export({ type: 'spki', format: 'pem' }) as string, reg.host);
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(['require-image-digest', 'require-signed-images', 'require-slsa-provenance']);
    app = buildAdmissionApp({ policies, imageVerifier: new RegistryImageVerifier({ client, trustedRoot: fake.trustedRoot }) });
  }, 60_000);

  afterAll(async () => {
    await reg?.stop();
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const review = async (image: string): Promise<Resp> => (await app.inject({ method: 'POST', url: '/validate', payload: podReview('u', [image]) })).json().response as Resp;

  it('admits a key-signed image with trusted provenance', async () => {
    expect(await review(images.good!)).toMatchObject({ allowed: true });
  });

  it('admits a keyless-signed release image whose certificate names the release workflow', async () => {
    expect(await review(images.release!)).toMatchObject({ allowed: true });
  });

  it('denies keyless signatures from another identity, unsigned images, untrusted builders and tags', async () => {
    const fork = await review(images.forkRelease!);
    expect(fork.allowed).toBe(false);
    expect(fork.status?.message).toContain('policy require-signed-images rule verify-signature-keyless');
    expect(fork.status?.message).toMatch(/identity|IDENTITY/);

    const unsigned = await review(images.unsigned!);
    expect(unsigned.allowed).toBe(false);
    expect(unsigned.status?.message).toContain('policy require-signed-images rule verify-signature-key');

    const evil = await review(images.evilBuilder!);
    expect(evil.allowed).toBe(false);
    expect(evil.status?.message).toContain('policy require-slsa-provenance rule check-slsa-provenance');
    expect(evil.status?.message).toContain('not built by a trusted builder');

    const tag = await review(`${reg.host}/shop/good:v1`);
    expect(tag.allowed).toBe(false);
    expect(tag.status?.message).toContain('policy require-image-digest rule require-image-digest');
  });

  it('metrics name the shipped policies', async () => {
    const m = await app.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/duallane_admission_decisions_total\{policy="require-signed-images",decision="deny"\} [1-9]/);
  });
});
