/* eslint-disable @typescript-eslint/no-explicit-any -- structured tool results are inspected loosely */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTemplate, workspace, type Workspace } from '../server/fixture.js';

/**
 * The same lane-scoped tools over streamable HTTP behind `duallane serve` (/mcp): the bearer token
 * decides the lane and so which tools exist. Driven by the SDK's own HTTP client over real loopback.
 */
let template: { dir: string; cleanup(): void };
let w: Workspace;
let url: URL;
beforeAll(async () => {
  template = await makeTemplate();
  w = await workspace(template.dir);
  await w.app.listen({ port: 0, host: '127.0.0.1' });
  url = new URL(`http://127.0.0.1:${(w.app.server.address() as AddressInfo).port}/mcp`);
}, 120_000);
afterAll(async () => {
  await w?.close();
  template?.cleanup();
});

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'duallane-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

describe('duallane serve: MCP over streamable HTTP', () => {
  it('propose through the codex token, accept through the claude token', { timeout: 180_000 }, async () => {
    const codex = await connect(await w.token('codex'));
    const claude = await connect(await w.token('claude'));
    try {
      expect((await codex.listTools()).tools.map((t) => t.name)).not.toContain('accept_handoff');
      expect((await claude.listTools()).tools.map((t) => t.name)).not.toContain('propose_handoff');
      const p = (await codex.callTool({ name: 'propose_handoff', arguments: { title: 'bump x', patch: w.patchFor(7) } })) as any;
      expect(p.isError, JSON.stringify(p.content)).toBeFalsy();
      const id = p.structuredContent.id;
      // A remote client gets no server paths.
      expect(JSON.stringify(p)).not.toContain(w.dir);
      const crafted = await (claude.callTool({ name: 'propose_handoff', arguments: { title: 'x', patch: w.patchFor(8) } }) as Promise<any>).catch((e: Error) => ({ thrown: e.message }));
      expect(JSON.stringify(crafted)).toMatch(/not found/i);
      const a = (await claude.callTool({ name: 'accept_handoff', arguments: { id } })) as any;
      expect(a.isError, JSON.stringify(a.content)).toBeFalsy();
      expect(a.structuredContent).toMatchObject({ id, state: 'pr_opened' });
      const shown = (await codex.callTool({ name: 'show_handoff', arguments: { id } })) as any;
      expect(shown.structuredContent.handoff.state).toBe('pr_opened');
    } finally {
      await codex.close();
      await claude.close();
    }
  });

  it('refuses requests without a valid lane token before reading the body', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    const none = await post({});
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe('UNAUTHENTICATED');
    expect((await post({ authorization: 'Bearer not-a-token' })).status).toBe(401);
    const alerts = await post({ authorization: `Bearer ${await w.alertsToken()}` });
    expect(alerts.status).toBe(403);
    const get = await fetch(url, { headers: { authorization: `Bearer ${await w.token('codex')}` } });
    expect(get.status).toBe(405);
    expect((await get.json()).error.code).toBe('METHOD_NOT_ALLOWED');
  });
});
