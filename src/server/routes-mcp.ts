import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { buildLaneMcpServer } from '../mcp/index.js';
import { requireLane } from './auth.js';
import type { ServerContext } from './build-server.js';
import { ServerError } from './server-error.js';

/**
 * The lane-scoped MCP server over streamable HTTP at /mcp, stateless (a fresh server and transport
 * per request, JSON responses): the bearer token says which lane, and so which tools exist. The
 * token is checked before the body is read, like every other route.
 */
export function registerMcpRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/mcp', { bodyLimit: ctx.handoffBodyLimit }, async (req, reply) => {
    const lane = requireLane(await ctx.auth(req)).lane;
    const server = buildLaneMcpServer({ config: ctx.config, lane, withContext: (fn) => fn(ctx.handoffContext), remote: true });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  });
  const noSessions = async () => {
    throw new ServerError('METHOD_NOT_ALLOWED', 'this MCP endpoint is stateless: POST JSON-RPC requests only');
  };
  app.get('/mcp', noSessions);
  app.delete('/mcp', noSessions);
}
