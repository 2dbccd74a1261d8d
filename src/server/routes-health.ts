import type { FastifyInstance } from 'fastify';
import { DUALLANE_VERSION, renderMetrics } from '../observability/index.js';
import type { ServerContext } from './build-server.js';
import { checkReadiness } from './readiness.js';

/**
 * Probes and metrics, without authentication (orchestrators and Prometheus call them): they reveal
 * liveness, schema version and counters, never handoff contents.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/healthz', async () => ({ ok: true, version: DUALLANE_VERSION }));

  app.get('/readyz', async (_req, reply) => {
    const r = await checkReadiness(ctx.ledger);
    return reply.code(r.ready ? 200 : 503).send({ ok: r.ready, ...r });
  });

  app.get('/metrics', async (req, reply) => {
    // A ledger that cannot be read (closed, or a lane login without admin reads) must not cost the
    // scrape: the other metrics still answer, and the gauges keep their last values.
    await ctx.refreshLedgerGauges().catch((e: unknown) => req.log.warn({ err: (e as Error).message }, 'ledger gauges not refreshed'));
    const { contentType, body } = await renderMetrics(ctx.metrics);
    return reply.type(contentType).send(body);
  });
}
