import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildAdmissionApp } from '../../src/admission/index.js';
import { DuallaneMetrics, metricsHandler } from '../../src/observability/index.js';
import { gateCommand } from '../support/services.js';

const ok = gateCommand('promtool', 'prometheus');

/** Serves the exposition over real loopback HTTP, fetches it as a scraper would, and lints it. */
describe.skipIf(!ok)('promtool check metrics on the live /metrics exposition', () => {
  it('has zero findings with every metric exercised', async () => {
    const m = new DuallaneMetrics();
    m.counter('duallane_handoffs_rejected_total').inc({ lane: 'claude', reason: 'replay' });
    m.histogram('duallane_admission_request_duration_seconds').observe({ decision: 'deny' }, 0.004);
    m.gauge('duallane_handoffs_pending').set({ lane: 'codex' }, 3);
    m.gauge('duallane_handoff_oldest_pending_age_seconds').set({ lane: 'codex' }, 120);
    m.gauge('duallane_audit_chain_intact').set({ ledger: 'pglite' }, 1);
    m.gauge('duallane_audit_chain_last_check_timestamp_seconds').set({ ledger: 'pglite' }, Date.now() / 1000);
    const handler = metricsHandler(m);
    const server = http.createServer((req, res) => (req.url === '/metrics' ? handler(req, res) : res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const body = await res.text();
      expect(body).toContain('# TYPE duallane_handoffs_proposed_total counter');
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('the admission webhook app serves the same clean exposition at GET /metrics', async () => {
    const app = buildAdmissionApp({ policies: [], metrics: new DuallaneMetrics() });
    try {
      const review = await app.inject({ method: 'POST', url: '/validate', payload: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE', userInfo: { username: 'a' }, object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } } } } });
      expect(review.statusCode).toBe(200);
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('duallane_admission_request_duration_seconds_count{decision="allow"} 1');
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('promtool does find problems in a bad exposition (the check can fail)', () => {
    const bad = '# HELP duallane_bad_count a counter without the suffix\n# TYPE duallane_bad_count counter\nduallane_bad_count 1\n';
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: bad, encoding: 'utf8' });
    expect(lint.status).not.toBe(0);
    expect(lint.stdout + lint.stderr).toContain('duallane_bad_count');
  });
});
