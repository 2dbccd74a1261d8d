import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdmissionApp, RegistryImageVerifier } from '../../src/admission/index.js';
import { DuallaneMetrics } from '../../src/observability/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { enforcementPolicies, podReview } from '../admission/fixtures.js';
import { pushTestImage } from '../registry/images.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';
import { gateCommand } from '../support/services.js';
import { bearer, makeTemplate, workspace, type Workspace } from '../server/fixture.js';
import { startAlertChain, startRecorder, waitFor, type AlertChain } from './alert-chain-harness.js';

/**
 * The live alert chain, end to end with real parts: an unsigned image pushed to a real
 * registry (Debian docker-registry); the real admission webhook app (buildAdmissionApp with the
 * shipped policy kinds and the registry-backed verifier) listening on loopback and denying it; real
 * Prometheus scraping the webhook's own GET /metrics and evaluating alerts.yaml; real Alertmanager
 * routing with alertmanager.yml, delivering to the real `duallane serve` app (POST /v1/alerts with
 * an alerts-only bearer token from a credentials file, stored in its embedded ledger). Only Slack and
 * email are replaced, by a loopback recorder, so nothing leaves the machine.
 */
const ok =
  gateCommand('prometheus', 'prometheus') &&
  gateCommand('prometheus-alertmanager', 'prometheus-alertmanager') &&
  gateCommand('docker-registry', 'docker-registry');

describe.skipIf(!ok)('live alert chain: admission denies an unsigned image -> Prometheus -> Alertmanager -> /v1/alerts', () => {
  let reg: RunningRegistry;
  let app: FastifyInstance;
  let chain: AlertChain | undefined;
  let template: { dir: string; cleanup(): void };
  let serve: Workspace;
  let serveUrl = '';
  let people: Awaited<ReturnType<typeof startRecorder>>;
  let unsigned = '';

  beforeAll(async () => {
    reg = await startRegistry();
    const client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 3000 });
    const pushed = await pushTestImage(client, reg.host, 'shop/unsigned', 'v1', 'unsigned-for-alert-chain');
    unsigned = `${reg.host}/shop/unsigned@${pushed.digest}`;
    const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    app = buildAdmissionApp({
      policies: enforcementPolicies(pub),
      imageVerifier: new RegistryImageVerifier({ client }),
      metrics: new DuallaneMetrics({ defaultMetrics: false }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    template = await makeTemplate();
    serve = await workspace(template.dir);
    await serve.app.listen({ host: '127.0.0.1', port: 0 });
    serveUrl = `http://127.0.0.1:${(serve.app.server.address() as AddressInfo).port}`;
    const tokenFile = join(serve.dir, 'alerts-token');
    writeFileSync(tokenFile, await serve.alertsToken(), { mode: 0o600 });
    people = await startRecorder();
    chain = await startAlertChain({
      scrapeTarget: `127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      ledgerWebhookUrl: `${serveUrl}/v1/alerts`,
      ledgerCredentialsFile: tokenFile,
      peopleWebhookUrl: `${people.url}/people`,
    });
  }, 90_000);

  afterAll(async () => {
    await chain?.stop();
    await app?.close();
    await reg?.stop();
    await serve?.close();
    template?.cleanup();
    await people?.close();
  });

  it('the denial of the unsigned image arrives at /v1/alerts as DuallaneAdmissionDenied for require-signed-images', async () => {
    // Prometheus must have sampled the zero-initialised counter before the deny, or increase() sees one point.
    await waitFor(async () => {
      const r = await fetch(`${chain!.prometheusUrl}/api/v1/query?query=duallane_admission_decisions_total{policy="require-signed-images"}`);
      return ((await r.json()) as { data: { result: unknown[] } }).data.result.length > 0;
    }, 30_000);

    const res = await app.inject({ method: 'POST', url: '/validate', payload: podReview('uid-chain', [unsigned]) });
    const review = res.json() as { response: { allowed: boolean; status?: { message: string } } };
    expect(review.response.allowed).toBe(false);
    expect(review.response.status?.message).toContain('require-signed-images');

    // Alertmanager -> duallane serve: the alert is stored in the ledger and readable through the API.
    const reader = await serve.token('claude');
    type Stored = { name: string; status: string; severity: string; summary: string; labels: Record<string, string> };
    let alert: Stored | undefined;
    try {
      await waitFor(async () => {
        const r = await fetch(`${serveUrl}/v1/alerts`, { headers: bearer(reader) });
        const { alerts } = (await r.json()) as { alerts: Stored[] };
        alert = alerts.find((a) => a.name === 'DuallaneAdmissionDenied' && a.status === 'firing' && a.labels.policy === 'require-signed-images');
        return alert !== undefined;
      }, 45_000);
    } catch (e) {
      throw new Error(`${String(e)}\nserve log: ${serve.logs.join('\n')}\n${chain!.logs()}`);
    }
    expect(alert).toMatchObject({ severity: 'warning', summary: 'Admission denied a workload under policy require-signed-images', labels: expect.objectContaining({ policy: 'require-signed-images' }) });
    expect(serve.logs.some((l) => l.includes('"path":"/v1/alerts"') && l.includes('"status":200'))).toBe(true);
    await waitFor(async () => people.bodies.some((b) => b.path === '/people?receiver=security-warning'), 15_000);
  }, 120_000);
});
