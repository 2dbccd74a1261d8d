import { z } from 'zod';
import { getMetrics, type DuallaneMetrics } from './metrics.js';
import { ObservabilityError } from './observability-error.js';

/**
 * Alertmanager webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
 * The body arrives over the network from whatever can reach POST /v1/alerts: it is untrusted, so it is
 * size-bounded and validated in full before anything is stored. Unknown extra fields are ignored
 * (Alertmanager may add some), missing required ones are refused.
 */
const labelMap = z.record(z.string().max(256), z.string().max(4096));
const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap.refine((l) => typeof l.alertname === 'string' && l.alertname.length > 0, 'labels.alertname is required'),
  annotations: labelMap.default({}),
  startsAt: z.string().datetime({ offset: true }),
  endsAt: z.string().datetime({ offset: true }),
  generatorURL: z.string().max(4096).default(''),
  fingerprint: z.string().regex(/^[0-9a-f]{1,32}$/, 'fingerprint is hex'),
});
const payloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().max(4096),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(256),
  groupLabels: labelMap,
  commonLabels: labelMap,
  commonAnnotations: labelMap,
  externalURL: z.string().max(4096),
  alerts: z.array(alertSchema).max(1000),
});

export type AlertmanagerPayload = z.infer<typeof payloadSchema>;

/** One alert as duallane records it (one ledger row per fingerprint and start time). */
export interface AlertRecord {
  fingerprint: string;
  alertname: string;
  status: 'firing' | 'resolved';
  severity: 'critical' | 'warning' | 'info' | 'none';
  startsAt: string;
  /** null while the alert is firing and Alertmanager does not know its end (it sends 0001-01-01). */
  endsAt: string | null;
  summary: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receiver: string;
  groupKey: string;
  generatorURL: string;
}

export interface NormalizedAlerts {
  receiver: string;
  status: 'firing' | 'resolved';
  /** Alerts Alertmanager left out because of max_alerts. */
  truncatedAlerts: number;
  alerts: AlertRecord[];
}

const SEVERITIES = new Set(['critical', 'warning', 'info']);

/**
 * Validates an Alertmanager webhook v4 body (already JSON-parsed) and returns the records to store.
 * Throws ALERT_PAYLOAD_INVALID listing every problem with its path.
 */
export function normalizeAlertmanagerPayload(body: unknown): NormalizedAlerts {
  const parsed = payloadSchema.safeParse(body);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw new ObservabilityError('ALERT_PAYLOAD_INVALID', `not an Alertmanager webhook v4 payload: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`, {
      details: { errors },
    });
  }
  const p = parsed.data;
  return {
    receiver: p.receiver,
    status: p.status,
    truncatedAlerts: p.truncatedAlerts,
    alerts: p.alerts.map((a) => ({
      fingerprint: a.fingerprint,
      alertname: a.labels.alertname!,
      status: a.status,
      severity: (SEVERITIES.has(a.labels.severity ?? '') ? a.labels.severity : 'none') as AlertRecord['severity'],
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.endsAt.startsWith('0001-01-01') ? null : new Date(a.endsAt).toISOString(),
      summary: a.annotations.summary ?? '',
      labels: a.labels,
      annotations: a.annotations,
      receiver: p.receiver,
      groupKey: p.groupKey,
      generatorURL: a.generatorURL,
    })),
  };
}

/** Counts received alerts in duallane_alerts_received_total{status,severity}; call after storing them. */
export function countReceivedAlerts(n: NormalizedAlerts, metrics: DuallaneMetrics = getMetrics()): void {
  for (const a of n.alerts) metrics.counter('duallane_alerts_received_total').inc({ status: a.status, severity: a.severity });
}
