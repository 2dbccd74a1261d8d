import type { FastifyInstance, FastifyRequest } from 'fastify';
import { normalizeAlertmanagerPayload } from '../observability/index.js';
import type { ServerContext } from './build-server.js';
import { listAlerts, storeAlerts } from './alerts-store.js';
import { requireAlerts, requireLane } from './auth.js';
import { alertsQuerySchema, parseOrThrow } from './request-schemas.js';

/**
 * Alertmanager's webhook receiver (payload version 4). Alertmanager authenticates with
 * `http_config.authorization` (a bearer token) and only the alerts token (`serve token create
 * --alerts`) is accepted: lane tokens get ALERTS_TOKEN_REQUIRED (403) before the body is read. The
 * body is untrusted until normalizeAlertmanagerPayload accepted all of it.
 */
export function registerAlertRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const alertsOnly = async (req: FastifyRequest) => {
    requireAlerts(await ctx.auth(req));
  };
  app.post('/v1/alerts', { onRequest: alertsOnly }, async (req) => {
    const n = normalizeAlertmanagerPayload(req.body);
    const stored = await storeAlerts(ctx.ledger, n);
    for (const a of n.alerts) {
      try {
        ctx.metrics.counter('duallane_alerts_received_total').inc({ status: a.status, severity: a.severity });
      } catch {
        // Counting must never lose a stored alert.
      }
    }
    return { ok: true, received: n.alerts.length, ...stored };
  });

  app.get('/v1/alerts', async (req) => {
    const p = requireLane(await ctx.auth(req));
    const q = parseOrThrow(alertsQuerySchema, req.query, 'query');
    return { ok: true, alerts: await listAlerts(ctx.ledger, { lane: p.lane, limit: q.limit }) };
  });
}
