import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuallaneMetrics, metricsHandler, normalizeAlertmanagerPayload, type AlertRecord } from '../../src/observability/index.js';
import { gateCommand } from '../support/services.js';
import { startAlertChain, startRecorder, waitFor, type AlertChain } from './alert-chain-harness.js';

/**
 * The live alert chain with real Prometheus and Alertmanager: a denied admission counted on
 * /metrics -> scraped -> DuallaneAdmissionDenied fires -> Alertmanager routes it -> the ledger
 * webhook receives a v4 payload that normalizeAlertmanagerPayload accepts.
 *
 * Stand-ins until their servers exist: the /metrics target is a node:http server around
 * DuallaneMetrics (what `duallane admission serve` mounts), the deny is counted directly rather than
 * produced by an AdmissionReview of an unsigned image, and the ledger receiver is a recorder rather
 * than `duallane serve` POST /v1/alerts. See docs/observability.md "Live alert chain".
 */
const ok = gateCommand('prometheus', 'prometheus') && gateCommand('prometheus-alertmanager', 'prometheus-alertmanager');

describe.skipIf(!ok)('live alert chain: Prometheus -> Alertmanager -> /v1/alerts', () => {
  let chain: AlertChain | undefined;
  let target: http.Server;
  let ledger: Awaited<ReturnType<typeof startRecorder>>;
  let people: Awaited<ReturnType<typeof startRecorder>>;
  const metrics = new DuallaneMetrics({ defaultMetrics: false });

  beforeAll(async () => {
    const handler = metricsHandler(metrics);
    target = http.createServer((req, res) => (req.url === '/metrics' ? handler(req, res) : res.writeHead(404).end()));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    ledger = await startRecorder();
    people = await startRecorder();
    chain = await startAlertChain({
      scrapeTarget: `127.0.0.1:${(target.address() as AddressInfo).port}`,
      ledgerWebhookUrl: `${ledger.url}/v1/alerts`,
      peopleWebhookUrl: `${people.url}/people`,
    });
  });

  afterAll(async () => {
    await chain?.stop();
    await new Promise((r) => target?.close(r));
    await ledger?.close();
    await people?.close();
  });

  it('a denied admission reaches the ledger webhook as DuallaneAdmissionDenied and people via the warning route', async () => {
    // Let Prometheus take a first sample of the zero-initialised counter, then deny.
    await waitFor(async () => {
      const r = await fetch(`${chain!.prometheusUrl}/api/v1/query?query=duallane_admission_decisions_total`);
      const j = (await r.json()) as { data: { result: unknown[] } };
      return j.data.result.length > 0;
    }, 30_000);
    metrics.counter('duallane_admission_decisions_total').inc({ policy: 'require-signed-images', decision: 'deny' });

    let alert: AlertRecord | undefined;
    try {
      await waitFor(async () => {
        for (const b of ledger.bodies) {
          const n = normalizeAlertmanagerPayload(b.body);
          alert = n.alerts.find((a) => a.alertname === 'DuallaneAdmissionDenied' && a.status === 'firing');
          if (alert) return true;
        }
        return false;
      }, 45_000);
    } catch (e) {
      throw new Error(`${String(e)}\nledger bodies: ${JSON.stringify(ledger.bodies)}\n${chain!.logs()}`);
    }
    expect(ledger.bodies[0]!.path).toBe('/v1/alerts');
    expect(alert).toMatchObject({ severity: 'warning', receiver: 'duallane-ledger', labels: { policy: 'require-signed-images' } });
    expect(alert!.summary).toBe('Admission denied a workload under policy require-signed-images');
    await waitFor(async () => people.bodies.some((b) => b.path === '/people?receiver=security-warning'), 15_000);
    // Nothing else fires on a fresh process: no critical page, and the ledger saw only this alert.
    expect(people.bodies.filter((b) => b.path.includes('security-critical'))).toEqual([]);
    const names = new Set(ledger.bodies.flatMap((b) => normalizeAlertmanagerPayload(b.body).alerts.map((a) => a.alertname)));
    expect([...names]).toEqual(['DuallaneAdmissionDenied']);
  }, 120_000);
});
