import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdmissionApp, RegistryImageVerifier } from '../../src/admission/index.js';
import { DuallaneMetrics, normalizeAlertmanagerPayload, type AlertRecord } from '../../src/observability/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { enforcementPolicies, podReview } from '../admission/fixtures.js';
import { pushTestImage } from '../registry/images.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';
import { gateCommand } from '../support/services.js';
import { startAlertChain, startRecorder, waitFor, type AlertChain } from './alert-chain-harness.js';

/**
 * The live alert chain, end to end with real parts: an unsigned image pushed to a real
 * registry (Debian docker-registry); the real admission webhook app (buildAdmissionApp with the
 * shipped policy kinds and the registry-backed verifier) listening on loopback and denying it; real
 * Prometheus scraping the webhook's own GET /metrics and evaluating alerts.yaml; real Alertmanager
 * routing with alertmanager.yml. The one stand-in is the receiver of POST /v1/alerts: `duallane serve`
 * does not exist yet, so a loopback recorder takes the webhook and the payload goes through
 * normalizeAlertmanagerPayload, the function that handler is to call.
 */
const ok =
  gateCommand('prometheus', 'prometheus') &&
  gateCommand('prometheus-alertmanager', 'prometheus-alertmanager') &&
  gateCommand('docker-registry', 'docker-registry');

describe.skipIf(!ok)('live alert chain: admission denies an unsigned image -> Prometheus -> Alertmanager -> /v1/alerts', () => {
  let reg: RunningRegistry;
  let app: FastifyInstance;
  let chain: AlertChain | undefined;
  let ledger: Awaited<ReturnType<typeof startRecorder>>;
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
    ledger = await startRecorder();
    people = await startRecorder();
    chain = await startAlertChain({
      scrapeTarget: `127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      ledgerWebhookUrl: `${ledger.url}/v1/alerts`,
      peopleWebhookUrl: `${people.url}/people`,
    });
  }, 90_000);

  afterAll(async () => {
    await chain?.stop();
    await app?.close();
    await reg?.stop();
    await ledger?.close();
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

    let alert: AlertRecord | undefined;
    try {
      await waitFor(async () => {
        alert = ledger.bodies
          .flatMap((b) => normalizeAlertmanagerPayload(b.body).alerts)
          .find((a) => a.alertname === 'DuallaneAdmissionDenied' && a.status === 'firing' && a.labels.policy === 'require-signed-images');
        return alert !== undefined;
      }, 45_000);
    } catch (e) {
      throw new Error(`${String(e)}\nledger bodies: ${JSON.stringify(ledger.bodies)}\n${chain!.logs()}`);
    }
    expect(ledger.bodies[0]!.path).toBe('/v1/alerts');
    expect(alert).toMatchObject({ severity: 'warning', receiver: 'duallane-ledger', summary: 'Admission denied a workload under policy require-signed-images' });
    expect(alert!.generatorURL.startsWith(`${chain!.prometheusUrl}/graph?`)).toBe(true);
    await waitFor(async () => people.bodies.some((b) => b.path === '/people?receiver=security-warning'), 15_000);
  }, 120_000);
});
