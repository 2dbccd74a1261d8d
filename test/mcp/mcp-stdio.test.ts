/* eslint-disable @typescript-eslint/no-explicit-any -- structured tool results are inspected loosely */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { useWorkspaces, GIT_ENV, type Workspace } from '../handoff/fixture.js';
import { BIN } from '../support/cli.js';

/**
 * The SDK's own client drives `duallane mcp` over stdio, as Claude Code and Codex do: a whole handoff
 * proposed through the propose lane's server and accepted through the execute lane's, every tool's
 * error path, and a propose-lane server that has no accept tool at all.
 */
const { workspace } = useWorkspaces();
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** Only what a lane's process would have: PATH, HOME and git's identity (no other lane's secrets). */
function laneEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...GIT_ENV, ...extra };
}

async function connect(ws: Workspace, lane: string, env = laneEnv()): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--lane', lane, '--dir', ws.dir], cwd: ws.dir, env, stderr: 'pipe' });
  const client = new Client({ name: 'duallane-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const PATCH = `diff --git a/src/app.js b/src/app.js
--- a/src/app.js
+++ b/src/app.js
@@ -1 +1 @@
-export const x = 1;
+export const x = 2;
`;

const call = (c: Client, name: string, args: Record<string, unknown> = {}) => c.callTool({ name, arguments: args }) as Promise<any>;

describe('duallane mcp over stdio', () => {
  it('lists only the tools of the lane kind', async () => {
    const ws = workspace();
    const codex = await connect(ws, 'codex');
    const claude = await connect(ws, 'claude');
    const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();
    expect(await names(codex)).toEqual(['check_scope', 'list_handoffs', 'propose_handoff', 'show_handoff', 'trace_handoff']);
    expect(await names(claude)).toEqual(['accept_handoff', 'list_handoffs', 'next_handoff', 'show_handoff', 'trace_handoff']);
  });

  it('a whole handoff: propose through codex, accept through claude, trace and the resource', { timeout: 180_000 }, async () => {
    const ws = workspace();
    const codex = await connect(ws, 'codex');
    const claude = await connect(ws, 'claude');

    const scope = await call(codex, 'check_scope', { patch: PATCH });
    expect(scope.isError).toBeFalsy();
    expect(scope.structuredContent).toMatchObject({ ok: true, inScope: true, executeLane: 'claude', files: ['src/app.js'] });

    const p = await call(codex, 'propose_handoff', { title: 'bump x', summary: 'x is 2 now', patch: PATCH });
    expect(p.isError, JSON.stringify(p.content)).toBeFalsy();
    const id = p.structuredContent.id as string;
    expect(p.structuredContent).toMatchObject({ ok: true, state: 'proposed', lane: 'codex' });
    expect(p.content[0].text).toContain(`proposed ${id}`);
    // No server paths reach the agent.
    expect(JSON.stringify(p.structuredContent)).not.toContain(ws.dir);

    const next = await call(claude, 'next_handoff');
    expect(next.structuredContent.handoff.id).toBe(id);

    const a = await call(claude, 'accept_handoff', { id });
    expect(a.isError, JSON.stringify(a.content)).toBeFalsy();
    expect(a.structuredContent).toMatchObject({ ok: true, id, state: 'pr_opened', branch: `lane/claude/${id}` });
    expect(a.structuredContent.commit).toMatch(/^[0-9a-f]{40}$/);

    const t = await call(codex, 'trace_handoff', { id });
    expect(t.structuredContent.ok).toBe(true);
    expect(t.structuredContent.chain.map((c: { step: string }) => c.step)).toEqual(
      expect.arrayContaining(['statement', 'signer', 'verification', 'commit', 'pull-request', 'applied-attestation', 'audit']),
    );

    const listed = await codex.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain(`duallane://handoff/${id}`);
    const res = await codex.readResource({ uri: `duallane://handoff/${id}` });
    const body = JSON.parse((res.contents[0] as { text: string }).text);
    expect(body.handoff).toMatchObject({ id, state: 'pr_opened' });
    expect(body.trace.ok).toBe(true);
    // Digests, not server paths (the local forge's PR URL is the one file URL an agent sees).
    expect(Object.keys(body.handoff)).not.toEqual(expect.arrayContaining(['artifactPath']));
    expect(JSON.stringify({ ...body.handoff, pr: null })).not.toContain(ws.dir);

    const again = await call(claude, 'next_handoff');
    expect(again.isError).toBe(true);
    expect(again.structuredContent.error.code).toBe('NOTHING_PENDING');
  });

  it('a propose-lane server refuses a crafted call to an execute tool', async () => {
    const ws = workspace();
    const codex = await connect(ws, 'codex');
    const p = await call(codex, 'propose_handoff', { title: 'bump x', patch: PATCH });
    const id = p.structuredContent.id as string;
    const crafted = await call(codex, 'accept_handoff', { id }).catch((e: Error) => ({ thrown: e.message }));
    // Refused by the protocol layer (unknown tool): as a thrown protocol error or an error result.
    const text = 'thrown' in crafted ? crafted.thrown : JSON.stringify(crafted);
    expect(text).toMatch(/accept_handoff.*not found|not found.*accept_handoff/i);
    if (!('thrown' in crafted)) expect(crafted.isError).toBe(true);
    // And nothing moved: the handoff is still waiting.
    const show = await call(codex, 'show_handoff', { id });
    expect(show.structuredContent.handoff.state).toBe('proposed');
  });

  it('every tool reports its error with a reason code', { timeout: 180_000 }, async () => {
    const ws = workspace();
    const codex = await connect(ws, 'codex');
    const claude = await connect(ws, 'claude');
    const code = (r: any) => r.structuredContent?.error?.code ?? (r.isError ? 'SCHEMA' : 'OK');

    // Input schema: the HTTP API's. A bad id, an unknown field, both or neither patch source.
    const badId = await call(codex, 'show_handoff', { id: 'not-a-ulid' });
    expect(badId.isError).toBe(true);
    expect(JSON.stringify(badId.content)).toMatch(/ULID/);
    expect((await call(codex, 'list_handoffs', { bogus: 1 })).isError).toBe(true);
    expect((await call(codex, 'propose_handoff', { title: 't' })).isError).toBe(true);
    expect((await call(codex, 'propose_handoff', { title: 't', patch: PATCH, fromWorktree: true })).isError).toBe(true);

    const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    expect(code(await call(codex, 'show_handoff', { id: unknown }))).toBe('NOT_FOUND');
    expect(code(await call(codex, 'trace_handoff', { id: unknown }))).toBe('NOT_FOUND');
    expect(code(await call(claude, 'accept_handoff', { id: unknown }))).toBe('NOT_FOUND');
    expect(code(await call(claude, 'next_handoff'))).toBe('NOTHING_PENDING');
    // Not a patch: refused before anything is signed; check_scope says git cannot apply it.
    expect(code(await call(codex, 'propose_handoff', { title: 't', patch: 'not a patch' }))).toBe('BAD_USAGE');
    expect(code(await call(codex, 'check_scope', { patch: 'not a patch' }))).toBe('PATCH_DOES_NOT_APPLY');
    expect((await call(codex, 'list_handoffs')).structuredContent.handoffs).toEqual([]);
    expect(code(await call(codex, 'check_scope', { patch: PATCH, executeLane: 'codex' }))).toBe('LANE_KIND_MISMATCH');

    // Out of scope: check_scope says so, and accept rejects it with the same code.
    const env = `diff --git a/.env b/.env
new file mode 100644
--- /dev/null
+++ b/.env
@@ -0,0 +1 @@
+SECRET=1
`;
    const scope = await call(codex, 'check_scope', { patch: env });
    expect(scope.structuredContent).toMatchObject({ inScope: false });
    expect(scope.structuredContent.violations.map((v: { code: string }) => v.code)).toContain('PATH_DENIED');
    const p = await call(codex, 'propose_handoff', { title: 'env', patch: env });
    expect(p.structuredContent.scopeWarnings.map((v: { code: string }) => v.code)).toContain('PATH_DENIED');
    const rejected = await call(claude, 'accept_handoff', { id: p.structuredContent.id });
    expect(code(rejected)).toBe('SCOPE_VIOLATION');
    const show = await call(claude, 'show_handoff', { id: p.structuredContent.id });
    expect(show.structuredContent.handoff).toMatchObject({ state: 'rejected', rejectReason: 'SCOPE_VIOLATION' });
  });

  it('refuses to start with another lane’s credentials in its environment', async () => {
    const ws = workspace();
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [BIN, 'mcp', '--lane', 'codex', '--dir', ws.dir, '--json'], {
      cwd: ws.dir,
      env: laneEnv({ ANTHROPIC_API_KEY: 'sk-ant-not-a-real-key-0123456789' }),
      input: '',
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain('FOREIGN_CREDENTIALS');
    expect(r.stdout + r.stderr).not.toContain('sk-ant-not-a-real-key');
    // With a clean environment the same server starts (and ends when stdin closes).
    const ok = spawnSync(process.execPath, [BIN, 'mcp', '--lane', 'codex', '--dir', ws.dir], { cwd: ws.dir, env: laneEnv(), input: '', encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
  });
});
