import { describe, expect, it } from 'vitest';
import { countReceivedAlerts, normalizeAlertmanagerPayload } from './alerts-webhook.js';
import { DuallaneMetrics } from './metrics.js';
import { ObservabilityError } from './observability-error.js';

// Shape as sent by Alertmanager 0.25 (captured from a webhook receiver).
const payload = {
  receiver: 'duallane-ledger',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'DuallaneAdmissionDenied', policy: 'require-signed-images', severity: 'warning' },
      annotations: { summary: 'Admission denied a workload under policy require-signed-images', runbook_url: 'docs/observability.md#duallaneadmissiondenied' },
      startsAt: '2026-11-24T04:00:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=sum',
      fingerprint: '3b9e7c1d2a4f5e60',
    },
    {
      status: 'resolved',
      labels: { alertname: 'DuallaneReplayAttempt', lane: 'claude' },
      annotations: {},
      startsAt: '2026-11-24T03:00:00Z',
      endsAt: '2026-11-24T03:30:00+01:00',
      generatorURL: '',
      fingerprint: 'aa01',
    },
  ],
  groupLabels: { alertname: 'DuallaneAdmissionDenied' },
  commonLabels: { alertname: 'DuallaneAdmissionDenied' },
  commonAnnotations: {},
  externalURL: 'http://127.0.0.1:9093',
  version: '4',
  groupKey: '{}/{severity=~"critical|warning|info"}:{alertname="DuallaneAdmissionDenied"}',
  truncatedAlerts: 0,
};

describe('normalizeAlertmanagerPayload', () => {
  it('returns one record per alert with normalized times and severity', () => {
    const n = normalizeAlertmanagerPayload(payload);
    expect(n.receiver).toBe('duallane-ledger');
    expect(n.alerts).toHaveLength(2);
    expect(n.alerts[0]).toMatchObject({
      fingerprint: '3b9e7c1d2a4f5e60',
      alertname: 'DuallaneAdmissionDenied',
      status: 'firing',
      severity: 'warning',
      startsAt: '2026-11-24T04:00:00.123Z',
      endsAt: null,
      summary: 'Admission denied a workload under policy require-signed-images',
    });
    expect(n.alerts[1]).toMatchObject({ severity: 'none', status: 'resolved', endsAt: '2026-11-24T02:30:00.000Z', summary: '' });
  });

  it('counts received alerts by status and severity', async () => {
    const m = new DuallaneMetrics({ defaultMetrics: false });
    countReceivedAlerts(normalizeAlertmanagerPayload(payload), m);
    const text = await m.render();
    expect(text).toContain('duallane_alerts_received_total{status="firing",severity="warning"} 1');
    expect(text).toContain('duallane_alerts_received_total{status="resolved",severity="none"} 1');
  });

  it.each([
    ['wrong version', { ...payload, version: '3' }, 'version'],
    ['alert without alertname', { ...payload, alerts: [{ ...payload.alerts[0], labels: { severity: 'warning' } }] }, 'alerts.0.labels'],
    ['bad time', { ...payload, alerts: [{ ...payload.alerts[0], startsAt: 'yesterday' }] }, 'alerts.0.startsAt'],
    ['non-hex fingerprint', { ...payload, alerts: [{ ...payload.alerts[0], fingerprint: '../../x' }] }, 'alerts.0.fingerprint'],
    ['not an object', 'hello', ''],
  ])('refuses %s with ALERT_PAYLOAD_INVALID and the path', (_name, body, path) => {
    try {
      normalizeAlertmanagerPayload(body);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ObservabilityError);
      expect((e as ObservabilityError).code).toBe('ALERT_PAYLOAD_INVALID');
      const errors = (e as ObservabilityError).details!.errors as { path: string }[];
      expect(errors.map((x) => x.path)).toContain(path);
    }
  });
});
