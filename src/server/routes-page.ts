import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './build-server.js';
import { listAlerts } from './alerts-store.js';
import { requireLane } from './auth.js';
import { toHandoffView } from './handoff-view.js';
import { renderHandoffPage } from './web-page.js';

/**
 * GET / : the handoff overview for people. Same authentication as the API; a browser answers the
 * Basic challenge with the token as password. Every response carries the script-free CSP (build-server).
 */
export function registerPageRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/', async (req, reply) => {
    const p = requireLane(await ctx.auth(req));
    // Newest first.
    const handoffs = ctx.redact((await ctx.actions.list({ lane: p.lane, limit: 500 })).map(toHandoffView).reverse());
    const alerts = await listAlerts(ctx.ledger, { lane: p.lane, limit: 20 });
    return reply.type('text/html; charset=utf-8').send(renderHandoffPage({ handoffs, alerts, viewer: p.lane, now: new Date() }));
  });
}
