import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { getLane, isDuallaneError, lanesOfKind, type DuallaneConfig, type LaneConfig } from '../config/index.js';
import {
  accept,
  checkScope,
  HandoffError,
  isHandoffId,
  listHandoffs,
  parseDuration,
  parsePatch,
  patchFromFile,
  patchBytes,
  propose,
  showHandoff,
  traceHandoff,
  type HandoffContext,
  type HandoffView,
} from '../handoff/index.js';
import { DUALLANE_VERSION } from '../observability/index.js';
import { acceptToolInput, checkScopeToolInput, emptyToolInput, idToolInput, listToolInput, proposeToolInput } from './tool-schemas.js';

/**
 * A Model Context Protocol server for ONE lane. Its tools follow from the lane's kind and are never
 * all of them: a propose lane can propose, inspect and ask whether a patch is in scope; an execute
 * lane can take, accept and inspect. A tool the lane does not have is not registered at all, so a
 * crafted call to it is refused by the protocol layer before any duallane code runs. Every call runs
 * the same handoff functions as the CLI and the HTTP API, as this lane's ledger role.
 */
export interface LaneMcpOptions {
  config: DuallaneConfig;
  lane: string;
  /**
   * Runs one tool call with a handoff context. The embedded ledger allows one process at a time, so
   * the CLI opens it per call there (two lanes' servers then share it); on PostgreSQL it stays open.
   */
  withContext: <T>(fn: (ctx: HandoffContext) => Promise<T>) => Promise<T>;
  /**
   * A remote caller (HTTP): proposals must name a base on the forge's target branch before the patch
   * is even applied, as the HTTP API's propose does, so the server's private refs are no oracle.
   */
  remote?: boolean;
}

export const PROPOSE_TOOLS = ['propose_handoff', 'list_handoffs', 'show_handoff', 'trace_handoff', 'check_scope'] as const;
export const EXECUTE_TOOLS = ['next_handoff', 'accept_handoff', 'list_handoffs', 'show_handoff', 'trace_handoff'] as const;

export function buildLaneMcpServer(opts: LaneMcpOptions): McpServer {
  const { withContext: using } = opts;
  const lane = getLane(opts.config, opts.lane);
  const server = new McpServer(
    { name: `duallane-${lane.name}`, version: DUALLANE_VERSION },
    { instructions: instructionsFor(lane), capabilities: { tools: {}, resources: {} } },
  );
  const readOnly = { readOnlyHint: true, destructiveHint: false, openWorldHint: false } as const;

  server.registerTool(
    'list_handoffs',
    { title: 'List handoffs', description: 'Handoffs in the ledger, newest first, optionally by state.', inputSchema: listToolInput, annotations: readOnly },
    (a) =>
      run(async () => {
        const hs = await using((ctx) => listHandoffs(ctx, { lane: lane.name, ...(a.state ? { state: a.state } : {}), ...(a.limit ? { limit: a.limit } : {}) }));
        const views = hs.map(publicView);
        return { result: { handoffs: views }, text: views.length === 0 ? 'no handoffs' : views.map(oneLine).join('\n') };
      }),
  );
  server.registerTool(
    'show_handoff',
    { title: 'Show a handoff', description: 'One handoff: state, lanes, digests, branch, commit, pull request.', inputSchema: idToolInput, annotations: readOnly },
    (a) =>
      run(async () => {
        const v = publicView(await using((ctx) => showHandoff(ctx, a.id, { lane: lane.name })));
        return { result: { handoff: v }, text: oneLine(v) };
      }),
  );
  server.registerTool(
    'trace_handoff',
    {
      title: 'Trace a handoff',
      description: 'The whole chain of a handoff, re-verifying every signature: statement, signer, verification, commit, pull request, applied attestation, audit rows.',
      inputSchema: idToolInput,
      annotations: readOnly,
    },
    (a) =>
      run(async () => {
        const t = await using((ctx) => traceHandoff(ctx, a.id, { lane: lane.name }));
        const trace = { handoff: publicView(t.handoff), chain: t.chain, ok: t.ok };
        return { result: trace, text: [`${t.ok ? 'ok' : 'BROKEN'} ${t.handoff.id}`, ...t.chain.map((c) => `  ${c.ok ? 'ok ' : 'BAD'} ${c.step}: ${c.detail}`)].join('\n') };
      }),
  );

  if (lane.kind === 'propose') registerProposeTools(server, using, opts.config, lane, opts.remote === true);
  else registerExecuteTools(server, using, lane);

  server.registerResource(
    'handoff',
    new ResourceTemplate('duallane://handoff/{id}', {
      list: async () => ({
        resources: (await using((ctx) => listHandoffs(ctx, { lane: lane.name, limit: 100 }))).map((h) => ({
          uri: `duallane://handoff/${h.id}`,
          name: h.id,
          title: h.title,
          mimeType: 'application/json',
        })),
      }),
    }),
    { title: 'A handoff: its statement, verification and trace', mimeType: 'application/json' },
    async (uri, vars) => {
      const id = String(vars.id);
      if (!isHandoffId(id)) throw new HandoffError('BAD_USAGE', 'the handoff id must be a ULID');
      const t = await using((ctx) => traceHandoff(ctx, id, { lane: lane.name }));
      const body = { handoff: publicView(t.handoff), trace: { chain: t.chain, ok: t.ok } };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
    },
  );
  return server;
}

type Using = LaneMcpOptions['withContext'];

function registerProposeTools(server: McpServer, using: Using, config: DuallaneConfig, lane: LaneConfig, remote: boolean): void {
  server.registerTool(
    'propose_handoff',
    {
      title: 'Propose a change',
      description:
        'Sign a deterministic patch of a change as this propose lane and record it as proposed. Give the change as `patch` (a unified diff) or `fromWorktree: true` (the working tree against `base`). The execute lane verifies and applies it.',
      inputSchema: proposeToolInput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (a) =>
      run(async () => {
        const r = await using((ctx) => propose(ctx, {
          lane: lane.name,
          title: a.title,
          ...(remote ? { requireBaseOnTarget: true } : {}),
          ...(a.summary !== undefined ? { summary: a.summary } : {}),
          ...(a.base !== undefined ? { base: a.base } : {}),
          ...(a.targetBranch !== undefined ? { targetBranch: a.targetBranch } : {}),
          ...(a.expires !== undefined ? { expiresInMs: parseDuration(a.expires)! } : {}),
          source: a.fromWorktree ? { kind: 'worktree' } : { kind: 'patch', bytes: patchBytes(a.patch!, a.patchEncoding) },
        }));
        const result = {
          id: r.id,
          state: r.state,
          lane: r.lane,
          statementDigest: r.statementDigest,
          artifactDigest: r.artifactDigest,
          baseCommit: r.baseCommit,
          targetBranch: r.targetBranch,
          expiresAt: r.expiresAt,
          changedPaths: r.changedPaths,
          scopeWarnings: r.scopeWarnings,
        };
        const warn = r.scopeWarnings.map((w) => `\nwarning ${w.code}${w.path ? ` ${w.path}` : ''} (the execute lane will reject this)`).join('');
        return { result, text: `proposed ${r.id} (${r.changedPaths.length} path(s), expires ${r.expiresAt})${warn}` };
      }),
  );
  server.registerTool(
    'check_scope',
    {
      title: 'Check a patch against the execute lane’s scope policy',
      description: "Would the execute lane's scope policy accept this patch? The same check accept makes; nothing is signed or stored.",
      inputSchema: checkScopeToolInput,
      annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
    },
    (a) =>
      run(async () => {
        const executors = lanesOfKind(config, 'execute');
        const exec = a.executeLane ? executors.find((l) => l.name === a.executeLane) : executors[0];
        if (!exec) throw new HandoffError('LANE_KIND_MISMATCH', a.executeLane ? `${a.executeLane} is not an execute lane` : 'no execute lane is configured');
        // What accept judges: the canonical artifact git derives from the patch on its base, parsed.
        const artifact = await using((ctx) => patchFromFile(ctx.repoDir, patchBytes(a.patch, a.patchEncoding), a.base ?? 'HEAD'));
        const parsed = parsePatch(artifact.bytes);
        const violations = checkScope(parsed, exec.scope);
        const result = { executeLane: exec.name, inScope: violations.length === 0, files: parsed.files.map((f) => f.path), violations };
        return {
          result,
          text: violations.length === 0 ? `in scope for lane ${exec.name} (${parsed.files.length} file(s))` : violations.map((v) => `${v.code}${v.path ? ` ${v.path}` : ''}: ${v.message}`).join('\n'),
        };
      }),
  );
}

function registerExecuteTools(server: McpServer, using: Using, lane: LaneConfig): void {
  server.registerTool(
    'next_handoff',
    {
      title: 'The next pending handoff',
      description: 'The oldest proposal waiting for an execute lane (not taken: accept_handoff takes it). NOTHING_PENDING when there is none.',
      inputSchema: emptyToolInput,
      annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
    },
    () =>
      run(async () => {
        const pending = await using((ctx) => listHandoffs(ctx, { lane: lane.name, state: 'proposed', limit: 1000 }));
        const oldest = pending.reduce<HandoffView | undefined>((a, h) => (!a || h.createdAt < a.createdAt || (h.createdAt === a.createdAt && h.id < a.id) ? h : a), undefined);
        if (!oldest) throw new HandoffError('NOTHING_PENDING', 'no proposal is pending');
        const v = publicView(oldest);
        return { result: { handoff: v }, text: oneLine(v) };
      }),
  );
  server.registerTool(
    'accept_handoff',
    {
      title: 'Accept a handoff',
      description:
        'Verify a proposal (signer, digest, single use, expiry, base, scope) and, only then, apply it on lane/<lane>/<id>, push, open and label the pull request and sign the applied attestation. A rejection is recorded with its reason code.',
      inputSchema: acceptToolInput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    (a) =>
      run(async () => {
        const r = await using((ctx) => accept(ctx, { lane: lane.name, target: { id: a.id } }));
        const result = { id: r.id, state: r.state, lane: r.lane, proposerLane: r.proposerLane, branch: r.branch, commit: r.commit, pr: r.pr, verification: r.verification, resumed: r.resumed };
        return { result, text: `${r.resumed ? 'already applied' : 'applied'} ${r.id}: ${r.commit.slice(0, 12)} on ${r.branch}, PR #${r.pr.number} ${r.pr.url}` };
      }),
  );
}

/** What an agent sees of a handoff: digests and repository-relative names, never server paths. */
export function publicView(h: HandoffView): Omit<HandoffView, 'artifactPath' | 'bundlePath' | 'appliedBundlePath'> & { appliedAttestation: boolean } {
  const { artifactPath: _a, bundlePath: _b, appliedBundlePath, ...rest } = h;
  return { ...rest, appliedAttestation: appliedBundlePath !== null };
}

function oneLine(h: { id: string; state: string; proposerLane: string; title: string }): string {
  return `${h.id} ${h.state} ${h.proposerLane} ${JSON.stringify(h.title)}`;
}

/**
 * Runs a tool body: structured content plus a short text summary; a duallane error becomes a tool
 * error carrying its reason code and outcome (the agent can act on the code), anything else an
 * internal error without details.
 */
async function run(fn: () => Promise<{ result: Record<string, unknown>; text: string }>): Promise<CallToolResult> {
  try {
    const { result, text } = await fn();
    return { content: [{ type: 'text', text }], structuredContent: { ok: true, ...result } };
  } catch (e) {
    const error = isDuallaneError(e) ? { code: e.code, outcome: e.outcome, message: e.message } : { code: 'INTERNAL', outcome: 'internal', message: 'internal error' };
    return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}` }], structuredContent: { ok: false, error } };
  }
}

function instructionsFor(lane: LaneConfig): string {
  return lane.kind === 'propose'
    ? `duallane propose lane "${lane.name}": you can propose changes (propose_handoff), check them against the execute lane's scope policy first (check_scope), and inspect handoffs. You cannot apply, push or merge anything.`
    : `duallane execute lane "${lane.name}": you can take the next pending proposal (next_handoff), verify and apply it (accept_handoff), and inspect handoffs. You cannot create proposals.`;
}
