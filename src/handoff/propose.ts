import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import { ulid } from 'ulid';
import { attestStatement, makeStatement, parseBundleText } from '../attest/index.js';
import { ForgeError, resolveCommit } from '../forge/index.js';
import { LedgerError, type Handoff } from '../ledger/index.js';
import { assertBaseOnTarget, baseNotOnTarget } from './base-on-target.js';
import { forgeFor, repositoryIdentity, type HandoffContext } from './handoff-context.js';
import { HandoffError } from './handoff-error.js';
import { handoffMetrics } from './handoff-metrics.js';
import { describeProblems, HANDOFF_PREDICATE_TYPE, parseHandoffPredicate, type HandoffPredicate, type PredicateProblem } from './handoff-predicate.js';
import { branchNameProblem, summaryProblem, titleProblem } from './input-rules.js';
import { laneOfKind, signerForLane, statementDigestOf, verifyLaneBundle } from './lane-trust.js';
import { parsePatch, type ParsedPatch } from './parse-patch.js';
import { patchFromFile, patchFromWorktree, type PatchArtifact } from './patch-artifact.js';
import { checkScope, type ScopeViolation } from './scope-policy.js';
import { SPAN_ATTRIBUTES, withSpan } from '../observability/tracing.js';

export interface ProposeOptions {
  lane: string;
  title: string;
  summary?: string;
  /** Base ref (default HEAD). */
  base?: string;
  source: { kind: 'worktree' } | { kind: 'patch'; bytes: Buffer };
  /** Lifetime in milliseconds (default 24 h). */
  expiresInMs?: number;
  /** Branch the pull request targets (default: the forge's usual `main`). */
  targetBranch?: string;
  /**
   * Refuse a base that is not on the target branch at the forge (BASE_NOT_ON_TARGET) before the
   * change is derived from it (default false). The HTTP API sets it: its clients do not read the
   * server's repository, so applying their patch to a private ref would answer questions about that
   * ref's content. The forge is read as the execute lane reads it (its token, for GitHub).
   */
  requireBaseOnTarget?: boolean;
}

export interface ProposeResult {
  id: string;
  state: Handoff['state'];
  lane: string;
  statementDigest: string;
  artifactDigest: string;
  artifactPath: string;
  bundlePath: string;
  baseCommit: string;
  targetBranch: string;
  expiresAt: string;
  changedPaths: HandoffPredicate['changedPaths'];
  /** What the lane's own scope policy says (the execute lane decides; this is advice). */
  scopeWarnings: ScopeViolation[];
}

export const DEFAULT_EXPIRY_MS = 24 * 3600 * 1000;

/**
 * Propose lane: turns a change into a deterministic patch artifact, signs an in-toto statement with
 * the handoff predicate, stores both content-addressed, and records the handoff marker (`proposed`)
 * in one ledger transaction with its audit row. Touches neither the working tree nor any ref.
 */
/** Proposes a change as the propose lane, traced as duallane.propose. */
export async function propose(ctx: HandoffContext, opts: ProposeOptions): Promise<ProposeResult> {
  return withSpan('duallane.propose', { lane: opts.lane }, async (span) => {
    const r = await proposeUntraced(ctx, opts);
    span.setAttribute(SPAN_ATTRIBUTES.handoffId, r.id);
    return r;
  });
}

async function proposeUntraced(ctx: HandoffContext, opts: ProposeOptions): Promise<ProposeResult> {
  const lane = laneOfKind(ctx.config, opts.lane, 'propose');
  const title = opts.title.trim();
  if (!title || title.length > 256) throw new HandoffError('BAD_USAGE', '--title must be 1 to 256 characters');
  const targetBranch = opts.targetBranch ?? 'main';
  const summary = opts.summary ?? '';
  // The caller's text and names are checked before any work, so nothing is parsed, stored or signed for bad input.
  const early: PredicateProblem[] = [];
  const problem = (path: string, message: string | null, code: PredicateProblem['code']) => message && early.push({ path, message, code });
  problem('title', titleProblem(title), 'TEXT_INVALID');
  problem('summary', summaryProblem(summary), 'TEXT_INVALID');
  problem('targetBranch', branchNameProblem(targetBranch), 'BRANCH_NAME_INVALID');
  if (early.length > 0) throw invalidInput(early);
  const expiresInMs = opts.expiresInMs ?? DEFAULT_EXPIRY_MS;
  if (!(expiresInMs > 0) || expiresInMs > 30 * 24 * 3600 * 1000) throw new HandoffError('BAD_USAGE', '--expires must be between 1s and 30d');

  let base = opts.base ?? 'HEAD';
  if (opts.requireBaseOnTarget) {
    const executor = ctx.config.lanes.find((l) => l.kind === 'execute');
    if (!executor) throw new HandoffError('BAD_USAGE', 'no execute lane is configured: nobody could accept this proposal');
    const forge = await forgeFor(ctx, executor.name);
    // A name that resolves to nothing gets the same answer as a private ref: which refs exist is not told either.
    // A name that resolves to nothing still costs the forge fetch, and every refusal names what the
    // caller sent: neither the answer nor its timing tells which refs exist or what they point at.
    const label = base;
    const sha = await resolveCommit(ctx.repoDir, base).catch((e: unknown) => {
      if (e instanceof ForgeError && e.code === 'BAD_REF') return null;
      throw e;
    });
    await assertBaseOnTarget(forge, ctx.repoDir, sha ?? '0'.repeat(40), targetBranch, { label });
    if (sha === null) throw baseNotOnTarget(forge, label, targetBranch);
    base = sha;
  }
  let artifact: PatchArtifact;
  let parsed: ParsedPatch;
  try {
    artifact = opts.source.kind === 'worktree' ? await patchFromWorktree(ctx.repoDir, base) : await patchFromFile(ctx.repoDir, opts.source.bytes, base);
    parsed = parsePatch(artifact.bytes);
  } catch (e) {
    // At proposal time a patch that does not parse or apply is the caller's input problem.
    if (e instanceof HandoffError && (e.code === 'PATCH_MALFORMED' || e.code === 'PATCH_DOES_NOT_APPLY')) {
      throw new HandoffError('BAD_USAGE', e.message, { cause: e });
    }
    throw e;
  }
  const id = ulid();
  const created = ctx.now();
  const predicate: HandoffPredicate = {
    handoffId: id,
    nonce: randomBytes(32).toString('hex'),
    proposerLane: lane.name,
    repository: repositoryIdentity(ctx.config),
    baseCommit: artifact.baseCommit,
    targetBranch,
    artifact: { digest: artifact.digest, size: artifact.bytes.length, mediaType: 'text/x-patch' },
    changedPaths: parsed.files.map((f) => ({ path: f.path, status: f.status, digest: f.digest, added: f.added, removed: f.removed, binary: f.binary, mode: f.newMode ?? f.oldMode })),
    title,
    summary,
    createdAt: created.toISOString(),
    expiresAt: new Date(created.getTime() + expiresInMs).toISOString(),
  };
  const checked = parseHandoffPredicate(predicate, { now: created });
  if (!checked.ok) throw invalidInput(checked.problems);
  const stored = await ctx.store.put(artifact.bytes);
  const statement = makeStatement([{ name: `handoff-${id}.patch`, digest: { sha256: artifact.digest.slice(7) } }], HANDOFF_PREDICATE_TYPE, predicate);
  const bundle = await attestStatement(statement, signerForLane(ctx.config, lane, ctx.env), { lane: lane.name, attestationKind: 'proposal' });
  return record(ctx, lane.name, bundle, artifact.bytes, stored.path, checkScope(parsed, lane.scope));
}

export interface SubmitOptions {
  /** The Sigstore bundle's JSON text and the artifact bytes, e.g. received over the API. */
  bundleText: string;
  artifact: Buffer;
}

/**
 * Records a proposal that was signed elsewhere (another machine, the HTTP API). The bundle must
 * verify against a propose lane's identity before anything is stored; the same statement or nonce
 * a second time is a REPLAY.
 */
export async function submit(ctx: HandoffContext, opts: SubmitOptions): Promise<ProposeResult> {
  const bundle = parseBundleText(opts.bundleText);
  const v = await verifyLaneBundle(ctx.config, 'propose', bundle, { artifact: opts.artifact }, HANDOFF_PREDICATE_TYPE, { trustedRoot: ctx.trustedRoot });
  const pred = parseHandoffPredicate(v.statement.predicate, { now: ctx.now() });
  if (!pred.ok) throw new HandoffError(pred.problems[0]!.code, describeProblems(pred.problems), { details: { problems: pred.problems } });
  if (pred.predicate.proposerLane !== v.lane.name) throw new HandoffError('UNTRUSTED_SIGNER', `signed by lane ${v.lane.name} but claims lane ${pred.predicate.proposerLane}`);
  const scopeWarnings = checkScope(parsePatch(opts.artifact), v.lane.scope);
  const stored = await ctx.store.put(opts.artifact);
  return record(ctx, v.lane.name, bundle, opts.artifact, stored.path, scopeWarnings);
}

/** The caller's proposal input is refused (exit 2, HTTP 400), every problem listed with its path. */
function invalidInput(problems: PredicateProblem[]): HandoffError {
  return new HandoffError('INPUT_INVALID', `the proposal is not valid: ${describeProblems(problems)}`, { details: { problems } });
}

async function record(ctx: HandoffContext, laneName: string, bundle: unknown, _artifact: Buffer, artifactPath: string, scopeWarnings: ScopeViolation[]): Promise<ProposeResult> {
  const bundleBytes = Buffer.from(JSON.stringify(bundle, null, 2) + '\n');
  const bundleStored = await ctx.store.put(bundleBytes);
  const statementDigest = statementDigestOf(bundle);
  const payload = JSON.parse(Buffer.from((bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString('utf8')) as { predicate: HandoffPredicate };
  const p = payload.predicate;
  const rel = (x: string) => relative(ctx.config.root, x);
  let h: Handoff;
  try {
    // One statement: the unique id, statement digest and nonce answer a replay (REPLAY); a statement
    // or nonce already consumed belongs to a recorded proposal, so it is caught the same way.
    h = await ctx.ledger.withLane(
      laneName,
      (tx) =>
        tx.insertHandoff({
          id: p.handoffId,
          statementDigest,
          artifactDigest: p.artifact.digest,
          bundlePath: rel(bundleStored.path),
          artifactPath: rel(artifactPath),
          baseCommit: p.baseCommit,
          targetBranch: p.targetBranch,
          expiresAt: p.expiresAt,
          title: p.title,
          nonce: p.nonce,
          meta: { bundleDigest: bundleStored.digest, summary: p.summary.slice(0, 2000), changedPaths: p.changedPaths.length },
        }),
      { autocommit: true },
    );
  } catch (e) {
    if (e instanceof LedgerError && e.code === 'REPLAY') throw new HandoffError('REPLAY', `this proposal is already recorded: ${e.message}`, { cause: e, details: e.details });
    throw e;
  }
  handoffMetrics.proposed(laneName);
  return {
    id: h.id,
    state: h.state,
    lane: laneName,
    statementDigest,
    artifactDigest: p.artifact.digest,
    artifactPath,
    bundlePath: bundleStored.path,
    baseCommit: p.baseCommit,
    targetBranch: p.targetBranch,
    expiresAt: h.expiresAt,
    changedPaths: p.changedPaths,
    scopeWarnings,
  };
}
