import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CachingRegistryClient,
  MEDIA_TYPES,
  RegistryClient,
  RegistryError,
  attachCosignAttestation,
  attachCosignSignature,
  attachSigstoreBundle,
  digestTag,
  fetchAttestations,
  fetchCosignSignatures,
  parseImageReference,
  simpleSigningPayload,
} from '../../src/registry/index.js';
import { gateCommand } from '../support/services.js';
import { pushTestImage } from './images.js';
import { startRegistry, type RunningRegistry } from './registry-harness.js';

const haveRegistry = gateCommand('docker-registry', 'docker-registry');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RegistryError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

describe.skipIf(!haveRegistry)('OCI client against a real docker-registry', () => {
  let reg: RunningRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 5000 });
  }, 30_000);
  afterAll(async () => {
    await reg?.stop();
  });

  it('pushes an image and reads it back by tag and by digest, verified', async () => {
    const pushed = await pushTestImage(client, reg.host, 'demo/app', 'v1', 'one');
    const byTag = await client.getManifest(reg.host, 'demo/app', 'v1');
    expect(byTag.digest).toBe(pushed.digest);
    expect(byTag.mediaType).toBe(MEDIA_TYPES.ociManifest);
    const byDigest = await client.getManifest(reg.host, 'demo/app', pushed.digest);
    expect(byDigest.body.equals(pushed.manifest)).toBe(true);
    expect(await client.listTags(reg.host, 'demo/app')).toContain('v1');
    expect(await codeOf(client.getManifest(reg.host, 'demo/app', 'nope'))).toBe('NOT_FOUND');
  });

  it('stores cosign .sig/.att layers and referrers (tag-schema fallback) and reads them back', async () => {
    const img = await pushTestImage(client, reg.host, 'demo/signed', 'v1', 'two');
    const at = { registry: reg.host, repository: 'demo/signed', digest: img.digest };
    const payload = simpleSigningPayload(`${reg.host}/demo/signed`, img.digest);
    await attachCosignSignature(client, at, { payload, signature: 'c2ln', bundle: { fake: 1 } });
    await attachCosignSignature(client, at, { payload: Buffer.from(payload.toString() + ' '), signature: 'c2lnMg==' });
    const sigs = await fetchCosignSignatures(client, at);
    expect(sigs.map((s) => s.signature)).toEqual(['c2ln', 'c2lnMg==']);
    expect(sigs[0]!.payload.equals(payload)).toBe(true);
    expect(sigs[0]!.bundle).toEqual({ fake: 1 });
    expect(await client.listTags(reg.host, 'demo/signed')).toContain(digestTag(img.digest, '.sig'));

    await attachCosignAttestation(client, at, { envelope: { payloadType: 'x', payload: '', signatures: [] }, predicateType: 'https://slsa.dev/provenance/v1' });
    await attachSigstoreBundle(
      client,
      { ...at, subjectMediaType: img.mediaType, subjectSize: img.size },
      { mediaType: MEDIA_TYPES.sigstoreBundleV03, dsseEnvelope: { payloadType: 'y', payload: '', signatures: [] } },
      { content: 'dsse-envelope', predicateType: 'https://slsa.dev/provenance/v1' },
    );
    const refs = await client.referrers(reg.host, 'demo/signed', img.digest);
    expect(refs).toHaveLength(1);
    expect(refs[0]!.artifactType).toBe(MEDIA_TYPES.sigstoreBundleV03);
    const atts = await fetchAttestations(client, at);
    expect(atts.map((a) => a.source)).toEqual(['referrer', 'att-tag']);
    expect((atts[0]!.envelope as { payloadType: string }).payloadType).toBe('y');
  });

  it('reports an unreachable registry as UNREACHABLE', async () => {
    const dead = new RegistryClient({ insecureRegistries: ['127.0.0.1:1'], timeoutMs: 2000 });
    expect(await codeOf(dead.getManifest('127.0.0.1:1', 'x/y', 'latest'))).toBe('UNREACHABLE');
  });
});

describe('OCI client against a hostile registry (loopback HTTP server)', () => {
  let server: http.Server;
  let host: string;
  const routes = new Map<string, (res: http.ServerResponse, req: http.IncomingMessage) => void>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const handler = routes.get(req.url ?? '') ?? routes.get((req.url ?? '').split('?')[0]!);
      if (handler) handler(res, req);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const digestA = `sha256:${'a'.repeat(64)}`;

  it('rejects a manifest whose content does not hash to the requested digest', async () => {
    routes.set(`/v2/x/manifests/${digestA}`, (res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end('{"schemaVersion":2}'));
    const c = new RegistryClient({ insecureRegistries: [host] });
    expect(await codeOf(c.getManifest(host, 'x', digestA))).toBe('DIGEST_MISMATCH');
  });

  it('rejects a lying Docker-Content-Digest on a tag fetch', async () => {
    routes.set('/v2/x/manifests/t', (res) => res.writeHead(200, { 'docker-content-digest': digestA }).end('{"schemaVersion":2}'));
    const c = new RegistryClient({ insecureRegistries: [host] });
    expect(await codeOf(c.getManifest(host, 'x', 't'))).toBe('DIGEST_MISMATCH');
  });

  it('rejects a blob whose content does not match its digest', async () => {
    routes.set(`/v2/x/blobs/${digestA}`, (res) => res.writeHead(200).end('not a'));
    const c = new RegistryClient({ insecureRegistries: [host] });
    expect(await codeOf(c.getBlob(host, 'x', digestA))).toBe('DIGEST_MISMATCH');
  });

  it('stops reading past the size limit, with or without Content-Length', async () => {
    routes.set('/v2/x/manifests/big', (res) => res.writeHead(200).end(Buffer.alloc(2048, 32)));
    routes.set('/v2/x/manifests/chunked', (res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 8; i++) res.write(Buffer.alloc(512, 32));
      res.end();
    });
    const c = new RegistryClient({ insecureRegistries: [host], maxManifestBytes: 1024 });
    expect(await codeOf(c.getManifest(host, 'x', 'big'))).toBe('TOO_LARGE');
    expect(await codeOf(c.getManifest(host, 'x', 'chunked'))).toBe('TOO_LARGE');
  });

  it('gives up on a registry that never answers within the timeout', async () => {
    routes.set('/v2/x/manifests/slow', () => undefined);
    const c = new RegistryClient({ insecureRegistries: [host], timeoutMs: 300 });
    const t0 = Date.now();
    expect(await codeOf(c.getManifest(host, 'x', 'slow'))).toBe('TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('uses the referrers API when the registry implements it, and validates what it returns', async () => {
    const subject = `sha256:${'d'.repeat(64)}`;
    const ref = { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'e'.repeat(64)}`, size: 10, artifactType: MEDIA_TYPES.sigstoreBundleV03 };
    const other = { ...ref, digest: `sha256:${'f'.repeat(64)}`, artifactType: 'application/spdx+json' };
    routes.set(`/v2/x/referrers/${subject}?artifactType=${encodeURIComponent(MEDIA_TYPES.sigstoreBundleV03)}`, (res) =>
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [ref, other] })),
    );
    const c = new RegistryClient({ insecureRegistries: [host] });
    // The registry may ignore the filter; the client applies it again.
    expect(await c.referrers(host, 'x', subject, { artifactType: MEDIA_TYPES.sigstoreBundleV03 })).toEqual([ref]);
    routes.set(`/v2/x/referrers/${subject}`, (res) => res.writeHead(200).end(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: 'sha256:short' }] })));
    expect(await codeOf(c.referrers(host, 'x', subject))).toBe('MANIFEST_INVALID');
  });

  it('follows a Bearer challenge to the token realm, retries once and caches the token', async () => {
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociEmpty, digest: digestA, size: 2 }, layers: [] });
    let tokenCalls = 0;
    routes.set('/v2/private/manifests/v1', (res, req) => {
      if (req.headers.authorization === 'Bearer tok-123') return void res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(manifest);
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test-registry",scope="repository:private:pull"` }).end();
    });
    routes.set('/token', (res, req) => {
      tokenCalls++;
      const q = new URL(req.url!, 'http://x').searchParams;
      expect(q.get('service')).toBe('test-registry');
      expect(q.get('scope')).toBe('repository:private:pull');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok-123', expires_in: 300 }));
    });
    const c = new RegistryClient({ insecureRegistries: [host] });
    expect((await c.getManifest(host, 'private', 'v1')).body.toString()).toBe(manifest);
    await c.getManifest(host, 'private', 'v1');
    expect(tokenCalls).toBe(1);

    // A realm that is not http(s) is never followed; a refused token is UNAUTHORIZED.
    routes.set('/v2/odd/manifests/v1', (res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="file:///etc/passwd"' }).end());
    expect(await codeOf(c.getManifest(host, 'odd', 'v1'))).toBe('UNAUTHORIZED');
    routes.set('/v2/denied/manifests/v1', (res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token-denied"` }).end());
    routes.set('/token-denied', (res) => res.writeHead(403).end());
    expect(await codeOf(c.getManifest(host, 'denied', 'v1'))).toBe('UNAUTHORIZED');
  });

  it('CachingRegistryClient keeps digest-addressed content and reuses mutable answers only briefly', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] });
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const hits = new Map<string, number>();
    const count = (k: string) => hits.set(k, (hits.get(k) ?? 0) + 1);
    routes.set(`/v2/c/manifests/${digest}`, (res) => {
      count('byDigest');
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end(body);
    });
    routes.set(`/v2/c/referrers/${digest}`, (res) => {
      count('referrers');
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end(body);
    });
    routes.set(`/v2/c/manifests/bad`, (res) => {
      count('bad');
      res.writeHead(500).end();
    });
    const c = new CachingRegistryClient({ insecureRegistries: [host], mutableTtlMs: 200 });
    await c.getManifest(host, 'c', digest);
    await c.getManifest(host, 'c', digest);
    await Promise.all([c.referrers(host, 'c', digest), c.referrers(host, 'c', digest)]);
    expect(hits.get('byDigest')).toBe(1);
    expect(hits.get('referrers')).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    await c.referrers(host, 'c', digest);
    expect(hits.get('referrers')).toBe(2);
    // Errors are not remembered.
    expect(await codeOf(c.getManifest(host, 'c', 'bad'))).toBe('PROTOCOL_ERROR');
    expect(await codeOf(c.getManifest(host, 'c', 'bad'))).toBe('PROTOCOL_ERROR');
    expect(hits.get('bad')).toBe(2);
  });

  it('speaks HTTPS to registries not listed as insecure', () => {
    expect(new RegistryClient().baseUrl('ghcr.io')).toBe('https://ghcr.io');
    expect(new RegistryClient({ insecureRegistries: [host] }).baseUrl(host)).toBe(`http://${host}`);
  });
});

describe('image references', () => {
  it('parses registry, repository, tag and digest like Docker', () => {
    expect(parseImageReference('nginx')).toEqual({ registry: 'docker.io', repository: 'library/nginx' });
    expect(parseImageReference('127.0.0.1:5000/a/b:v1')).toEqual({ registry: '127.0.0.1:5000', repository: 'a/b', tag: 'v1' });
    const d = `sha256:${'b'.repeat(64)}`;
    expect(parseImageReference(`ghcr.io/o/r:t@${d}`)).toEqual({ registry: 'ghcr.io', repository: 'o/r', tag: 't', digest: d });
    expect(() => parseImageReference('ghcr.io/o/r@sha256:abc')).toThrow(RegistryError);
    expect(() => parseImageReference('Bad/Upper')).toThrow(RegistryError);
  });
});
