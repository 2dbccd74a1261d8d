import { parseBundleText, type VerifiedSigner } from '../attest/index.js';
import { resolveConfigPath } from '../config/index.js';
import { commitExists, gitText } from '../forge/index.js';
import type { Handoff, HandoffState, PullRequest } from '../ledger/index.js';
import type { HandoffContext } from './handoff-context.js';
import { HandoffError } from './handoff-error.js';
import { APPLIED_PREDICATE_TYPE } from './handoff-predicate.js';
import { verifyLaneBundle } from './lane-trust.js';
import { verifyProposal } from './accept.js';
import { isStoreDigest } from './store.js';

export interface HandoffView {
  id: string;
  state: HandoffState;
  proposerLane: string;
  executorLane: string | null;
  title: string;
  statementDigest: string;
  artifactDigest: string;
  artifactPath: string;
  bundlePath: string;
  appliedBundlePath: string | null;
  baseCommit: string;
  targetBranch: string;
  branch: string | null;
  commit: string | null;
  pr: { number: number; url: string; forge: string; labels: string[]; base?: string } | null;
  rejectReason: string | null;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
}

function view(ctx: HandoffContext, h: Handoff, pr: PullRequest | null): HandoffView {
  const applied = typeof h.meta.appliedBundlePath === 'string' ? resolveConfigPath(ctx.config, h.meta.appliedBundlePath) : null;
  return {
    id: h.id,
    state: h.state,
    proposerLane: h.proposerLane,
    executorLane: h.executorLane,
    title: h.title,
    statementDigest: h.statementDigest,
    artifactDigest: h.artifactDigest,
    artifactPath: resolveConfigPath(ctx.config, h.artifactPath),
    bundlePath: resolveConfigPath(ctx.config, h.bundlePath),
    appliedBundlePath: applied,
    baseCommit: h.baseCommit,
    targetBranch: h.targetBranch,
    branch: h.branch,
    commit: h.commit,
    pr: pr ? { number: pr.number, url: pr.url, forge: pr.forge, labels: pr.labels, base: pr.base } : h.prNumber !== null ? { number: h.prNumber, url: h.prUrl ?? '', forge: '', labels: [], base: h.targetBranch } : null,
    rejectReason: h.rejectReason,
    expiresAt: h.expiresAt,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
  };
}

/** Read-only access runs as the first configured lane of the given name, or any lane (all may read). */
function readerLane(ctx: HandoffContext, lane?: string): string {
  return lane ?? ctx.config.lanes[0]!.name;
}

export async function listHandoffs(ctx: HandoffContext, opts: { state?: HandoffState; lane?: string; limit?: number } = {}): Promise<HandoffView[]> {
  return ctx.ledger.withLane(readerLane(ctx, opts.lane), async (tx) => {
    const hs = await tx.listHandoffs({ state: opts.state, limit: opts.limit });
    const prs = new Map((await tx.listPullRequests()).map((p) => [p.handoffId, p]));
    return hs.map((h) => view(ctx, h, prs.get(h.id) ?? null));
  });
}

export async function showHandoff(ctx: HandoffContext, id: string, opts: { lane?: string } = {}): Promise<HandoffView> {
  return ctx.ledger.withLane(readerLane(ctx, opts.lane), async (tx) => {
    const h = await tx.getHandoff(id);
    if (!h) throw new HandoffError('NOT_FOUND', `no handoff ${id}`);
    return view(ctx, h, await tx.getPullRequest(id));
  });
}

export interface TraceLink {
  step: 'statement' | 'signer' | 'verification' | 'commit' | 'pull-request' | 'applied-attestation' | 'audit';
  ok: boolean;
  detail: string;
}

export interface HandoffTrace {
  handoff: HandoffView;
  chain: TraceLink[];
  ok: boolean;
}

/**
 * The whole chain of one handoff, re-verifying every signature on the way: the proposal bundle
 * against the propose lanes (and its artifact), the commit and its trailers, the pull request, and
 * the applied attestation against the execute lanes. A broken link is reported, not thrown.
 */
export async function traceHandoff(ctx: HandoffContext, id: string, opts: { lane?: string } = {}): Promise<HandoffTrace> {
  const hv = await showHandoff(ctx, id, opts);
  const h = await ctx.ledger.withLane(readerLane(ctx, opts.lane), async (tx) => (await tx.getHandoff(id))!);
  const audit = await ctx.ledger.withLane(readerLane(ctx, opts.lane), (tx) => tx.auditOf(id));
  const chain: TraceLink[] = [];
  const attempt = async (step: TraceLink['step'], fn: () => Promise<string>) => {
    try {
      chain.push({ step, ok: true, detail: await fn() });
    } catch (e) {
      chain.push({ step, ok: false, detail: `${(e as { code?: string }).code ?? 'ERROR'}: ${(e as Error).message}` });
    }
  };
  chain.push({ step: 'statement', ok: true, detail: `${h.statementDigest} (artifact ${h.artifactDigest})` });
  let verifiedSigner: VerifiedSigner | undefined;
  await attempt('signer', async () => {
    // The signature chain, read-only; whether the base is on the forge's target was decided at accept.
    const v = await verifyProposal(ctx, { ...h, executorLane: h.executorLane }, { checkExpiry: false, forge: null });
    verifiedSigner = v.proposerSigner;
    return `lane ${v.predicate.proposerLane}: ${verifiedSigner.kind === 'key' ? `key ${verifiedSigner.keyId.slice(0, 16)}` : verifiedSigner.identity}; ${v.checks.length} checks pass`;
  });
  chain.push({
    step: 'verification',
    ok: h.state !== 'rejected',
    detail: h.state === 'rejected' ? `rejected: ${h.rejectReason}` : Array.isArray(h.meta.verification) ? `${(h.meta.verification as unknown[]).length} checks recorded at ${String(h.meta.verifiedAt)}` : `state ${h.state}`,
  });
  if (h.commit) {
    await attempt('commit', async () => {
      if (!(await commitExists(ctx.repoDir, h.commit!))) throw new HandoffError('NOT_FOUND', `commit ${h.commit} is not in the repository`);
      const msg = await gitText(['log', '-1', '--format=%B', h.commit!], { cwd: ctx.repoDir });
      if (!msg.includes(`Handoff-Id: ${h.id}`) || !msg.includes(`Handoff-Statement-Digest: ${h.statementDigest}`)) throw new HandoffError('LEDGER_MISMATCH', 'commit trailers do not name this handoff');
      return `${h.commit} on ${h.branch} (trailers match)`;
    });
  }
  if (hv.pr) chain.push({ step: 'pull-request', ok: true, detail: `#${hv.pr.number} ${hv.pr.url} [${hv.pr.labels.join(', ')}]` });
  if (hv.appliedBundlePath) {
    await attempt('applied-attestation', async () => {
      // By digest from the store, like every stored object; the recorded path is for people.
      if (!isStoreDigest(h.meta.appliedBundleDigest)) throw new HandoffError('LEDGER_MISMATCH', 'the ledger records no applied bundle digest');
      const bundle = parseBundleText((await ctx.store.get(h.meta.appliedBundleDigest, { maxBytes: 4 * 1024 * 1024 })).toString('utf8'));
      const v = await verifyLaneBundle(ctx.config, 'execute', bundle, { digest: h.statementDigest }, APPLIED_PREDICATE_TYPE, { trustedRoot: ctx.trustedRoot });
      const p = v.statement.predicate as { commit?: string; handoffId?: string };
      if (p.commit !== h.commit || p.handoffId !== h.id) throw new HandoffError('LEDGER_MISMATCH', 'applied attestation names another commit or handoff');
      return `signed by lane ${v.lane.name}; links ${h.statementDigest.slice(0, 19)}… to ${h.commit}`;
    });
  }
  chain.push({ step: 'audit', ok: true, detail: audit.map((a) => `${a.action}(${a.lane})`).join(' → ') });
  return { handoff: hv, chain, ok: chain.every((c) => c.ok) };
}
