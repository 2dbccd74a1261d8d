import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdmissionApp } from '../../src/admission/index.js';
import { createLogger } from '../../src/observability/index.js';
import { BIN, parseJson, runCli } from '../support/cli.js';
import { gateCommand } from '../support/services.js';
import { freePort } from '../registry/registry-harness.js';
import { enforcementPolicies, podReview } from './fixtures.js';
import { httpsRequest, makeServingCert } from './tls.js';

const haveOpenssl = gateCommand('openssl', 'openssl');
const DIGEST = `sha256:${'c'.repeat(64)}`;

describe.skipIf(!haveOpenssl)('admission webhook over a real HTTPS listener', () => {
  let dir: string;
  let tls: ReturnType<typeof makeServingCert>;
  const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  // Only the digest policy: these tests need no registry.
  const digestOnly = enforcementPolicies(pub).filter((p) => p.metadata.name === 'require-image-digest');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duallane-admission-'));
    tls = makeServingCert(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers AdmissionReviews, /healthz and /metrics over TLS', async () => {
    const app = buildAdmissionApp({ policies: digestOnly, https: { cert: tls.cert, key: tls.key } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      const post = (images: string[]) =>
        httpsRequest(`${base}/validate`, { ca: tls.cert, method: 'POST', body: JSON.stringify(podReview('u-tls', images)), headers: { 'content-type': 'application/json' } });
      const denied = JSON.parse((await post(['registry.test/app:v1'])).body);
      expect(denied.response).toMatchObject({ uid: 'u-tls', allowed: false, status: { code: 403 } });
      expect(denied.response.status.message).toContain('policy require-image-digest rule require-digest');
      const allowed = JSON.parse((await post([`registry.test/app@${DIGEST}`])).body);
      expect(allowed.response).toMatchObject({ uid: 'u-tls', allowed: true });
      const health = await httpsRequest(`${base}/healthz`, { ca: tls.cert });
      expect(JSON.parse(health.body)).toEqual({ ok: true, policies: ['require-image-digest'] });
      const metrics = await httpsRequest(`${base}/metrics`, { ca: tls.cert });
      expect(metrics.body).toMatch(/duallane_admission_decisions_total\{policy="require-image-digest",decision="deny"\} [1-9]/);
      expect(metrics.body).toContain('duallane_admission_request_duration_seconds_bucket');
      // The listener speaks TLS only.
      await expect(fetch(base.replace('https:', 'http:') + '/healthz', { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    } finally {
      await app.close();
    }
  });

  it('rejects malformed and oversized reviews with 400/413, never a decision', async () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'admission', destination: { write: (l: string) => void lines.push(l) } });
    const app = buildAdmissionApp({ policies: digestOnly, bodyLimit: 64 * 1024, log });
    const bad = await app.inject({ method: 'POST', url: '/validate', payload: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: '' } } });
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { problems: { path: string }[] }).problems.map((p) => p.path)).toContain('request.uid');
    const notJson = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(notJson.statusCode).toBe(400);
    const big = podReview('u-big', [`r.test/a@${DIGEST}`]);
    (big.request as { object: { metadata: Record<string, unknown> } }).object.metadata.annotations = { pad: 'x'.repeat(70 * 1024) };
    const tooBig = await app.inject({ method: 'POST', url: '/validate', payload: big });
    expect(tooBig.statusCode).toBe(413);
    // Kinds the webhook does not govern, and deletes, are allowed untouched.
    const cm = podReview('u-cm', ['r.test/a:latest']);
    (cm.request as { kind: { kind: string } }).kind.kind = 'ConfigMap';
    expect((await app.inject({ method: 'POST', url: '/validate', payload: cm })).json()).toMatchObject({ response: { allowed: true } });
    // The request's kind governs, whatever the object claims to be.
    const spoof = podReview('u-spoof', ['r.test/a:latest']);
    (spoof.request as { object: { kind: string } }).object.kind = 'ConfigMap';
    expect((await app.inject({ method: 'POST', url: '/validate', payload: spoof })).json()).toMatchObject({ response: { allowed: false } });
    // An ephemeral container added by UPDATE (pods/ephemeralcontainers) is checked too.
    const eph = podReview('u-eph', [`r.test/a@${DIGEST}`]);
    const req = eph.request as { operation: string; object: { spec: Record<string, unknown> } };
    req.operation = 'UPDATE';
    req.object.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox:latest' }];
    const ephResp = (await app.inject({ method: 'POST', url: '/validate', payload: eph })).json() as { response: { allowed: boolean; status: { message: string } } };
    expect(ephResp.response.allowed).toBe(false);
    // Each denial is logged once, with the request uid and the reasons.
    const denials = lines.map((l) => JSON.parse(l) as { msg: string; uid: string; reasons: string[]; component: string });
    expect(denials.map((d) => d.uid)).toEqual(['u-spoof', 'u-eph']);
    expect(denials[1]).toMatchObject({ msg: 'denied', component: 'admission' });
    expect(denials[1]!.reasons[0]).toContain('require-image-digest/require-digest');
    // A pod with very many bad images still gets a bounded message.
    const many = podReview('u-many', Array.from({ length: 400 }, (_, i) => `r.test/image-number-${i}:latest`));
    const manyResp = (await app.inject({ method: 'POST', url: '/validate', payload: many })).json() as { response: { status: { message: string } } };
    expect(manyResp.response.status.message.length).toBeLessThanOrEqual(8192);
    await app.close();
  });

  it('runs as `duallane admission serve` and stops on SIGTERM', async () => {
    const policiesDir = join(dir, 'policies');
    await rm(policiesDir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(policiesDir));
    await writeFile(join(policiesDir, 'require-image-digest.yaml'), stringify(digestOnly[0]));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [BIN, 'admission', 'serve', '--tls-cert', tls.certPath, '--tls-key', tls.keyPath, '--port', String(port), '--host', '127.0.0.1', '--policies', policiesDir, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } },
    );
    try {
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 15_000);
        child.stdout.on('data', (d) => {
          stdout += d;
          if (stdout.includes('"listening"')) {
            clearTimeout(t);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
      expect(JSON.parse(stdout)).toMatchObject({ ok: true, policies: ['require-image-digest'] });
      const r = await httpsRequest(`https://127.0.0.1:${port}/validate`, {
        ca: tls.cert,
        method: 'POST',
        body: JSON.stringify(podReview('u-cli', ['r.test/a:v1'])),
        headers: { 'content-type': 'application/json' },
      });
      expect(JSON.parse(r.body).response).toMatchObject({ uid: 'u-cli', allowed: false });
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('refuses bad serve flags with exit 2 and prints the manifests', async () => {
    const noPolicies = await runCli(['admission', 'serve', '--tls-cert', tls.certPath, '--tls-key', tls.keyPath, '--policies', join(dir, 'nope'), '--json']);
    expect(noPolicies.code).toBe(2);
    const badTls = await runCli(['admission', 'serve', '--tls-cert', join(dir, 'missing.crt'), '--tls-key', tls.keyPath, '--policies', join(dir, 'policies')]);
    expect(badTls.code).toBe(2);
    expect(badTls.stderr).toContain('TLS_INVALID');
    const badTtl = await runCli(['admission', 'serve', '--tls-cert', tls.certPath, '--tls-key', tls.keyPath, '--policies', join(dir, 'policies'), '--cache-ttl', 'soon']);
    expect(badTtl.code).toBe(2);
    expect(badTtl.stderr).toContain('--cache-ttl');
    const badPort = await runCli(['admission', 'serve', '--tls-cert', tls.certPath, '--tls-key', tls.keyPath, '--port', '70000']);
    expect(badPort.code).toBe(2);
    const m = await runCli(['admission', 'manifest', '--json', '--ca-file', tls.certPath]);
    expect(m.code).toBe(0);
    const objs = parseJson<{ kind: string; webhooks?: { failurePolicy: string; clientConfig: { caBundle?: string } }[] }[]>(m);
    expect(objs.map((o) => o.kind)).toEqual(['ValidatingWebhookConfiguration', 'Service', 'Deployment']);
    expect(objs[0]!.webhooks![0]!.failurePolicy).toBe('Fail');
    expect(Buffer.from(objs[0]!.webhooks![0]!.clientConfig.caBundle!, 'base64').toString()).toBe(tls.cert);
    const yamlOut = await runCli(['admission', 'manifest']);
    expect(yamlOut.stdout).toContain('kind: ValidatingWebhookConfiguration');
  });
});
