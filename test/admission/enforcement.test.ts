import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdmissionApp, RegistryImageVerifier } from '../../src/admission/index.js';
import { SLSA_PROVENANCE_V1 } from '../../src/attest/index.js';
import { attestOciSubject, signOciSubject } from '../../src/policy/bundle-cosign.js';
import { RegistryClient } from '../../src/registry/index.js';
import { pushTestImage } from '../registry/images.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';
import { gateCommand } from '../support/services.js';
import { enforcementPolicies, podReview, TRUSTED_BUILDER } from './fixtures.js';

const haveRegistry = gateCommand('docker-registry', 'docker-registry');

interface ReviewResponse {
  response: { uid: string; allowed: boolean; status?: { code: number; message: string }; warnings?: string[] };
}

describe.skipIf(!haveRegistry)('admission enforcement against a real registry', () => {
  let reg: RunningRegistry;
  let client: RegistryClient;
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pubPem = k.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const signer = { kind: 'key-object' as const, privateKey: k.privateKey };
  const img: Record<'unsigned' | 'signedOnly' | 'wrongBuilder' | 'good', string> = { unsigned: '', signedOnly: '', wrongBuilder: '', good: '' };
  let goodTag = '';

  const provenance = (builder: string) => ({
    buildDefinition: { buildType: 'https://duallane.dev/buildtypes/local/v1', externalParameters: { source: 'git+https://example.test/repo' } },
    runDetails: { builder: { id: builder } },
  });

  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 3000 });
    const push = async (name: keyof typeof img, opts: { sign?: boolean; builder?: string }) => {
      const repo = `shop/${name.toLowerCase()}`;
      const p = await pushTestImage(client, reg.host, repo, 'v1', name);
      const subject = { registry: reg.host, repository: repo, digest: p.digest, mediaType: p.mediaType, size: p.size };
      if (opts.sign) await signOciSubject(client, subject, signer);
      if (opts.builder) await attestOciSubject(client, subject, SLSA_PROVENANCE_V1, provenance(opts.builder), signer);
      img[name] = `${reg.host}/${repo}@${p.digest}`;
    };
    await push('unsigned', {});
    await push('signedOnly', { sign: true });
    await push('wrongBuilder', { sign: true, builder: 'https://builder.evil.test/other@v1' });
    await push('good', { sign: true, builder: TRUSTED_BUILDER });
    goodTag = `${reg.host}/shop/good:v1`;
  }, 60_000);

  afterAll(async () => {
    await reg?.stop();
  });

  function app(opts: { registryHost?: string; timeoutMs?: number; failureAction?: 'Enforce' | 'Audit'; failurePolicy?: 'Fail' | 'Ignore' } = {}) {
    const host = opts.registryHost ?? reg.host;
    const c = new RegistryClient({ insecureRegistries: [host], timeoutMs: opts.timeoutMs ?? 3000 });
    const verifier = new RegistryImageVerifier({ client: c });
    return {
      verifier,
      app: buildAdmissionApp({
        policies: enforcementPolicies(pubPem, opts.failureAction ?? 'Enforce'),
        imageVerifier: verifier,
        ...(opts.failurePolicy ? { failurePolicy: opts.failurePolicy } : {}),
      }),
    };
  }

  async function review(a: ReturnType<typeof app>['app'], images: string[], kind = 'Pod'): Promise<ReviewResponse['response']> {
    const res = await a.inject({ method: 'POST', url: '/validate', payload: podReview('uid-1', images, kind) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as ReviewResponse;
    expect(body.response.uid).toBe('uid-1');
    return body.response;
  }

  it('denies an unsigned image, naming image, policy, rule and reason', async () => {
    const { app: a } = app();
    const r = await review(a, [img.unsigned]);
    expect(r.allowed).toBe(false);
    expect(r.status?.code).toBe(403);
    expect(r.status?.message).toContain(img.unsigned);
    expect(r.status?.message).toContain('policy require-signed-images rule verify-signature');
    expect(r.status?.message).toMatch(/no signature found/);
  });

  it('denies a signed image without provenance', async () => {
    const r = await review(app().app, [img.signedOnly]);
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('policy require-slsa-provenance rule check-provenance');
    expect(r.status?.message).not.toContain('require-signed-images');
    expect(r.status?.message).toMatch(/no https:\/\/slsa\.dev\/provenance\/v1 attestation/);
  });

  it('denies provenance from the wrong builder', async () => {
    const r = await review(app().app, [img.wrongBuilder]);
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('policy require-slsa-provenance rule check-provenance');
    expect(r.status?.message).toMatch(/conditions\[0\] not met/);
  });

  it('denies a tag without a digest even when the image behind it is good', async () => {
    const r = await review(app().app, [goodTag]);
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('policy require-image-digest rule require-digest');
    expect(r.status?.message).toContain(`missing digest for ${goodTag}`);
  });

  it('allows a signed image with trusted provenance pinned by digest, as Pod, Deployment and CronJob', async () => {
    const { app: a, verifier } = app();
    for (const kind of ['Pod', 'Deployment', 'CronJob']) {
      const r = await review(a, [img.good], kind);
      expect(r, kind).toMatchObject({ allowed: true });
      expect(r.warnings ?? []).toEqual([]);
    }
    expect(verifier.cache.hits).toBeGreaterThan(0);
  });

  it('denies a pod controller (StatefulSet) that hides an unsigned image next to a good one', async () => {
    const r = await review(app().app, [img.good, img.unsigned], 'StatefulSet');
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('autogen-verify-signature');
    expect(r.status?.message).toContain(img.unsigned);
  });

  it('applies attestor count over multiple keys and fails closed on settings it cannot honour (count 0, keyless roots)', async () => {
    const wrongKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const verifier = new RegistryImageVerifier({ client: new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 3000 }) });
    const signatureOnly = (attestor: object) => {
      const p = enforcementPolicies(pubPem)[0]!;
      (p.spec.rules[0]!.verifyImages![0] as { attestors: object[] }).attestors = [attestor];
      return buildAdmissionApp({ policies: [p], imageVerifier: verifier });
    };
    const zero = await review(signatureOnly({ count: 0, entries: [{ keys: { publicKeys: wrongKey } }] }), [img.good]);
    expect(zero.allowed).toBe(false);
    // Two keys in one publicKeys are two entries: the right one satisfies count 1, but not count 2.
    const twoKeys = `${wrongKey.trim()}\n${pubPem.trim()}`;
    expect((await review(signatureOnly({ count: 1, entries: [{ keys: { publicKeys: twoKeys } }] }), [img.good])).allowed).toBe(true);
    expect((await review(signatureOnly({ count: 2, entries: [{ keys: { publicKeys: twoKeys } }] }), [img.good])).allowed).toBe(false);
    const roots = await review(signatureOnly({ entries: [{ keyless: { subject: 'x', issuer: 'y', roots: '-----BEGIN CERTIFICATE-----' } }] }), [img.good]);
    expect(roots.allowed).toBe(false);
    expect(roots.status?.message).toContain('not supported');
  });

  it('audit mode admits with warnings instead of denying', async () => {
    const r = await review(app({ failureAction: 'Audit' }).app, [img.unsigned]);
    expect(r.allowed).toBe(true);
    expect(r.warnings?.join('\n')).toContain('audit: policy require-signed-images rule verify-signature');
  });

  it('denies within the timeout when the registry is down (connection refused or silent)', async () => {
    // A listener that accepts and never answers: the worst kind of "down".
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentHost = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      for (const host of [silentHost, '127.0.0.1:1']) {
        const { app: a } = app({ registryHost: host, timeoutMs: 500 });
        const image = img.good.replace(reg.host, host);
        const t0 = Date.now();
        const r = await review(a, [image]);
        const took = Date.now() - t0;
        expect(r.allowed, host).toBe(false);
        expect(r.status?.message).toMatch(/registry error .*(TIMEOUT|UNREACHABLE)/);
        // Two verifyImages policies, each bounded by the 500 ms registry budget, plus scheduling slack.
        expect(took).toBeLessThan(4000);
      }
      // failurePolicy Ignore turns the same error into a warning.
      const { app: lax } = app({ registryHost: '127.0.0.1:1', timeoutMs: 500, failurePolicy: 'Ignore' });
      const r = await review(lax, [img.good.replace(reg.host, '127.0.0.1:1')]);
      expect(r.allowed).toBe(true);
      expect(r.warnings?.join('\n')).toMatch(/ignored error: policy require-signed-images/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('denies once the real registry is stopped (nothing cached for a new webhook)', async () => {
    const { app: a } = app({ timeoutMs: 1000 });
    await reg.stop();
    const t0 = Date.now();
    const r = await review(a, [img.good]);
    expect(r.allowed).toBe(false);
    expect(Date.now() - t0).toBeLessThan(4000);
  });
});
