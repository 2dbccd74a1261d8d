import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isDuallaneError, type DuallaneConfig, type DuallaneError } from '../config/index.js';
import { makeContext, type HandoffContext } from '../handoff/index.js';
import type { Ledger } from '../ledger/index.js';
import { ledgerGaugeRefresher } from './ledger-gauges.js';
import { getMetrics, type DuallaneMetrics } from '../observability/index.js';
import { authenticate, type Principal } from './auth.js';
import { handoffActions, type HandoffActions } from './handoff-actions.js';
import { errorBody, httpStatusOf } from './http-status.js';
import { registerAlertRoutes } from './routes-alerts.js';
import { registerHandoffRoutes } from './routes-handoffs.js';
import { registerHealthRoutes } from './routes-health.js';
import { registerMcpRoutes } from './routes-mcp.js';
import { registerPageRoute } from './routes-page.js';
import { ServerError } from './server-error.js';
import { serverPathRedactor, type PathRedactor } from './server-paths.js';
import { PAGE_HEADERS } from './web-page.js';
import type { TokenStore } from './token-store.js';

export interface ServerOptions {
  config: DuallaneConfig;
  ledger: Ledger;
  tokens: TokenStore;
  /**
   * Serve only this lane: tokens of other lanes are FORBIDDEN. With a ledger opened by the lane's
   * own database login (`openLedger(config, { lane })`), the process then holds one lane's
   * privileges, keys and credentials only: the deployment that separates lanes.
   */
  onlyLane?: string;
  /** The git repository proposals apply to (default: the config root). */
  repoDir?: string;
  /** propose/accept/list/show; default: the handoff module's, over `config` and `ledger`. */
  actions?: HandoffActions;
  metrics?: DuallaneMetrics;
  /** A pino logger (createLogger from observability redacts secrets); false: no request logging. */
  logger?: Logger | false;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Largest POST /v1/handoffs body in bytes: it carries the patch (default 8 MiB). */
  handoffBodyLimit?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the onRequest hook for every route but the open ones. */
    principal: Principal | null;
  }
}

const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_HANDOFF_BODY_LIMIT = 8 * 1024 * 1024;

/** What route files get: the options with defaults filled once, and the auth step. */
export interface ServerContext {
  config: DuallaneConfig;
  ledger: Ledger;
  tokens: TokenStore;
  actions: HandoffActions;
  /** The handoff module's context over the server's ledger and repository (the MCP tools use it). */
  handoffContext: HandoffContext;
  metrics: DuallaneMetrics;
  bodyLimit: number;
  handoffBodyLimit: number;
  auth(req: FastifyRequest): Promise<Principal>;
  /** Brings the ledger-backed gauges up to date (called on each /metrics scrape). */
  refreshLedgerGauges(): Promise<void>;
  /** Rewrites server paths (config root, repository) to relative names in anything sent to a client. */
  redact: PathRedactor;
}

/**
 * The `duallane serve` HTTP app. Composition only: it authenticates, validates and maps errors; the
 * work is done by the handoff module (propose/accept), the ledger (reads, alerts) and observability
 * (metrics). Every error answers `{ok:false, error:{code, outcome, message}}` with the same code the
 * CLI prints, and an HTTP status from its outcome (see http-status.ts).
 */
export function buildServer(opts: ServerOptions): FastifyInstance {
  const authenticateRequest = async (req: FastifyRequest): Promise<Principal> => {
    const p = await authenticate(req, opts.tokens, opts.config);
    if (opts.onlyLane !== undefined && p.kind === 'lane' && p.lane !== opts.onlyLane) {
      throw new ServerError('FORBIDDEN', `this server serves lane ${opts.onlyLane} only`);
    }
    return p;
  };
  const ctx: ServerContext = {
    config: opts.config,
    ledger: opts.ledger,
    tokens: opts.tokens,
    actions: opts.actions ?? handoffActions(opts.config, opts.ledger, opts.repoDir ? { repoDir: opts.repoDir } : {}),
    handoffContext: makeContext(opts.config, opts.ledger, opts.repoDir ? { repoDir: opts.repoDir } : {}),
    metrics: opts.metrics ?? getMetrics(),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    handoffBodyLimit: opts.handoffBodyLimit ?? DEFAULT_HANDOFF_BODY_LIMIT,
    auth: async (req) => req.principal ?? authenticateRequest(req),
    refreshLedgerGauges: async () => undefined,
    redact: serverPathRedactor([opts.config.root, opts.repoDir]),
  };
  ctx.refreshLedgerGauges = ledgerGaugeRefresher(opts.ledger, ctx.metrics);
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: ctx.bodyLimit,
    // Prototype-poisoning keys in JSON bodies are refused outright.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // One line per request, written below: path without the query string (queries can carry
    // secrets by mistake), never headers; the logger redacts and scrubs anything else.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

  // Authenticate before the body is read: without a valid token nobody gets to make us parse
  // (up to) the handoff body limit. Probes and metrics are the only open routes.
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    // Every response, errors included, carries the script-free CSP and its companions.
    reply.headers(PAGE_HEADERS);
    if (OPEN_PATHS.has(req.url.split('?')[0]!)) return;
    req.principal = await authenticateRequest(req);
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      { method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, remote: req.ip },
      'request',
    );
  });

  // JSON only: a text/plain body would reach the schemas as a bare string.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: FastifyError | DuallaneError, req: FastifyRequest, reply: FastifyReply) => {
    const e = toDuallaneError(err);
    const status = httpStatusOf(e);
    if (status >= 500) req.log.warn({ code: e.code, err: e.message }, 'request failed');
    if (e.code === 'UNAUTHENTICATED') reply.header('www-authenticate', req.url === '/' ? 'Basic realm="duallane", charset="UTF-8"' : 'Bearer realm="duallane"');
    return reply.code(status).send(ctx.redact(errorBody(e)));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody(new ServerError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`))));

  registerHealthRoutes(app, ctx);
  registerHandoffRoutes(app, ctx);
  registerAlertRoutes(app, ctx);
  registerMcpRoutes(app, ctx);
  registerPageRoute(app, ctx);
  return app;
}

/** Fastify's own errors (body parsing, limits) as the server's codes; anything unknown is INTERNAL. */
function toDuallaneError(err: unknown): DuallaneError {
  if (isDuallaneError(err)) return err;
  const f = err as FastifyError;
  switch (f.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServerError('BODY_TOO_LARGE', 'the request body is larger than this route accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ServerError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ServerError('BAD_REQUEST', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ServerError('BAD_REQUEST', 'content-length does not match the body');
  }
  if (f.statusCode === 400 && (f instanceof SyntaxError || /JSON|proto|constructor/i.test(f.message))) {
    return new ServerError('MALFORMED_JSON', 'the body is not valid JSON');
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) return new ServerError('BAD_REQUEST', f.message);
  return new ServerError('INTERNAL', 'internal error', { cause: err });
}
