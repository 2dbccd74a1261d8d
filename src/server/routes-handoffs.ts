import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './build-server.js';
import { requireLane, requireLaneKind } from './auth.js';
import { toHandoffView } from './handoff-view.js';
import { acceptBodySchema, listQuerySchema, parseDuration, parseHandoffId, parseOrThrow, proposeBodySchema, submitBodySchema } from './request-schemas.js';
import { ServerError } from './server-error.js';

/**
 * The handoff API. Writes go to the handoff module (the same propose/accept the CLI runs), reads go
 * through the handoff module's list/show as the token's lane. Lane kind is checked here, before any work: a propose token
 * cannot accept and an execute token cannot propose (FORBIDDEN, 403); the domain checks again.
 */
export function registerHandoffRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/handoffs', { bodyLimit: ctx.handoffBodyLimit }, async (req, reply) => {
    const p = requireLaneKind(await ctx.auth(req), 'propose');
    if (typeof req.body === 'object' && req.body !== null && 'bundle' in req.body) {
      const sub = parseOrThrow(submitBodySchema, req.body, 'POST /v1/handoffs body (signed proposal)');
      const bundleText = typeof sub.bundle === 'string' ? sub.bundle : JSON.stringify(sub.bundle);
      const result = await ctx.actions.submit({ bundleText, artifact: decodeBase64(sub.artifact, 'artifact') });
      return reply.code(201).header('location', `/v1/handoffs/${result.id}`).send(ctx.redact({ ok: true, ...result }));
    }
    const body = parseOrThrow(proposeBodySchema, req.body, 'POST /v1/handoffs body');
    const patch = body.patchEncoding === 'base64' ? decodeBase64(body.patch, 'patch') : Buffer.from(body.patch, 'utf8');
    const result = await ctx.actions.propose({
      lane: p.lane,
      title: body.title,
      patch,
      ...(body.summary !== undefined ? { summary: body.summary } : {}),
      ...(body.base !== undefined ? { base: body.base } : {}),
      ...(body.targetBranch !== undefined ? { targetBranch: body.targetBranch } : {}),
      ...(body.expires !== undefined ? { expiresInMs: parseDuration(body.expires)! } : {}),
    });
    return reply.code(201).header('location', `/v1/handoffs/${result.id}`).send(ctx.redact({ ok: true, ...result }));
  });

  app.get('/v1/handoffs', async (req) => {
    const p = requireLane(await ctx.auth(req));
    const q = parseOrThrow(listQuerySchema, req.query, 'query');
    const handoffs = await ctx.actions.list({ lane: p.lane, limit: q.limit, ...(q.state ? { state: q.state } : {}) });
    return ctx.redact({ ok: true, handoffs: handoffs.map(toHandoffView) });
  });

  app.get('/v1/handoffs/:id', async (req) => {
    const p = requireLane(await ctx.auth(req));
    const id = parseHandoffId((req.params as { id?: unknown }).id);
    return ctx.redact({ ok: true, handoff: toHandoffView(await ctx.actions.show({ lane: p.lane, id })) });
  });

  // The CLI's --next: the oldest pending handoff (this lane's unfinished ones first), never one another
  // executor is taking. A static route: Fastify matches it before /:id/accept, and `next` is no ULID.
  app.post('/v1/handoffs/next/accept', async (req) => {
    const p = requireLaneKind(await ctx.auth(req), 'execute');
    parseOrThrow(acceptBodySchema, req.body ?? undefined, 'POST /v1/handoffs/next/accept body');
    const result = await ctx.actions.acceptNext({ lane: p.lane });
    return ctx.redact({ ok: true, ...result });
  });

  app.post('/v1/handoffs/:id/accept', async (req) => {
    const p = requireLaneKind(await ctx.auth(req), 'execute');
    const id = parseHandoffId((req.params as { id?: unknown }).id);
    parseOrThrow(acceptBodySchema, req.body ?? undefined, 'POST /v1/handoffs/:id/accept body');
    const result = await ctx.actions.accept({ lane: p.lane, id });
    return ctx.redact({ ok: true, ...result });
  });
}

/** Strict base64 (standard or url alphabet); anything else is BAD_REQUEST rather than silently truncated. */
function decodeBase64(text: string, what: string): Buffer {
  const t = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(t) || t.length % 4 === 1) throw new ServerError('BAD_REQUEST', `${what} is not base64`);
  return Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
}
