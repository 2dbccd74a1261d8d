import { relative } from 'node:path';
import { attestStatement, makeStatement, parseBundleText, type VerifiedSigner } from '../attest/index.js';
import { resolveConfigPath, type LaneConfig } from '../config/index.js';
import { commitExists, ForgeError, git, localBranchSha, type Forge, type PullRequestRef } from '../forge/index.js';
import { LedgerError, type Handoff, type LaneTx } from '../ledger/index.js';
import { forgeFor, repositoryIdentity, type AcceptStep, type HandoffContext } from './handoff-context.js';
import { HandoffError, type HandoffErrorCode } from './handoff-error.js';
import { handoffMetrics } from './handoff-metrics.js';
import { SPAN_ATTRIBUTES, stepSpans, withSpan } from '../observability/tracing.js';
import { APPLIED_PREDICATE_TYPE, describeProblems, HANDOFF_PREDICATE_TYPE, parseHandoffPredicate, type AppliedPredicate, type HandoffPredicate } from './handoff-predicate.js';
import { commitMessage } from './commit-message.js';
import { isStoreDigest } from './store.js';
import { laneOfKind, signerForLane, verifyLaneBundle } from './lane-trust.js';
import { parsePatch } from './parse-patch.js';
import { treeOfArtifact } from './patch-artifact.js';
import { checkScope, type ScopeViolation } from './scope-policy.js';
import { assertBaseOnTarget } from './base-on-target.js';

export const PR_LABELS = (proposer: string) => [`lane:${proposer}`, 'handoff:verified', 'provenance:verified'];

export interface AcceptOptions {
  lane: string;
  /** A handoff id, or 'next' for the oldest pending one (claimed with SKIP LOCKED). */
  target: { id: string } | { next: true };
}

export interface VerificationCheck {
  check: string;
  ok: boolean;
  detail?: string;
}

export interface AcceptResult {
  id: string;
  state: Handoff['state'];
  lane: string;
  proposerLane: string;
  branch: string;
  commit: string;
  pr: { forge: Forge['kind']; number: number; url: string; labels: string[] };
  appliedBundlePath: string;
  verification: VerificationCheck[];
  /** False when this run found everything already done (a re-run). */
  resumed: boolean;
}

/** Codes that reject a proposal for good (recorded as `rejected`); anything else leaves it to a re-run. */
const REJECTING: ReadonlySet<HandoffErrorCode> = new Set<HandoffErrorCode>([
  'PATCH_MALFORMED',
  'ARTIFACT_TAMPERED',
  'ARTIFACT_NOT_CANONICAL',
  'PREDICATE_INVALID',
  'EXPIRY_TOO_LONG',
  'CREATED_IN_FUTURE',
  'BRANCH_NAME_INVALID',
  'TEXT_INVALID',
  'UNTRUSTED_SIGNER',
  'SIGNATURE_INVALID',
  'PREDICATE_TYPE_MISMATCH',
  'SUBJECT_MISMATCH',
  'EXPIRED',
  'REPLAY',
  'LEDGER_MISMATCH',
  'REPOSITORY_MISMATCH',
  'BASE_COMMIT_MISSING',
  'BASE_NOT_ON_TARGET',
  'SCOPE_VIOLATION',
  'PATCH_DOES_NOT_APPLY',
  'INPUT_TOO_LARGE',
]);

interface Verified {
  predicate: HandoffPredicate;
  proposerSigner: VerifiedSigner;
  tree: string;
  checks: VerificationCheck[];
}

/**
 * Execute lane: verify a proposal before touching the repository, then apply it on
 * `lane/<lane>/<id>`, push, open the pull request, label it, comment, and sign the applied
 * attestation. States: proposed → claimed → verified → applied → pr_opened, or rejected with a
 * reason code; each move is one ledger transaction with its audit row. Every step is idempotent
 * (deterministic commit, never-forced push, forge lookups before creation), so re-running after a
 * crash at any point finishes the work exactly once.
 */
/** Accepts one handoff (by id, or the oldest pending with --next), traced as duallane.accept with a span per step. */
export async function accept(ctx: HandoffContext, opts: AcceptOptions): Promise<AcceptResult> {
  const lane = laneOfKind(ctx.config, opts.lane, 'execute');
  const id = 'id' in opts.target ? opts.target.id : undefined;
  return withSpan('duallane.accept', { lane: lane.name, ...(id ? { handoffId: id } : {}) }, async (span) => {
    const r = await acceptTraced(ctx, lane, opts);
    if (!id) span.setAttribute(SPAN_ATTRIBUTES.handoffId, r.id);
    span.setResult(r.resumed ? 'resumed' : 'success');
    return r;
  });
}

async function acceptTraced(ctx: HandoffContext, lane: LaneConfig, opts: AcceptOptions): Promise<AcceptResult> {
  // The forge first: a missing token or unusable remote fails before any handoff is taken.
  const forge = await forgeFor(ctx, lane.name);

  if ('id' in opts.target) {
    const id = opts.target.id;
    const r = await withHandoffLock(ctx, lane.name, id, async () => {
      const cur = await ctx.ledger.withLane(lane.name, (tx) => tx.getHandoff(id));
      if (!cur) throw new HandoffError('NOT_FOUND', `no handoff ${id}`);
      if (cur.state !== 'proposed') return finish(ctx, lane, forge, cur); // resume what is there, or report why not
      const taken = await takeAndVerify(ctx, lane, forge, { id });
      if (taken) return finish(ctx, lane, forge, taken.handoff, taken.verified);
      // No longer proposed (another executor moved it meanwhile): resume from where it is now.
      const now = await ctx.ledger.withLane(lane.name, (tx) => tx.getHandoff(id));
      return finish(ctx, lane, forge, now!);
    });
    if (r === LOCKED) throw new HandoffError('STATE_CONFLICT', `handoff ${id} is being accepted by another executor right now`, { details: { id } });
    return r;
  }
  // --next: first finish what this lane holds but nobody is working on (a crashed run: its lock died
  // with its connection), then take the oldest pending handoff.
  for (let round = 0; round < 50; round++) {
    const inflight = await ctx.ledger.withLane(lane.name, async (tx) => {
      const { rows } = await tx.sql.query<{ id: string }>(
        `SELECT id FROM handoffs WHERE executor_lane = $1 AND state IN ('claimed', 'verified', 'applied') ORDER BY created_at, id LIMIT 20`,
        [lane.name],
      );
      return rows.map((r) => r.id);
    });
    for (const id of inflight) {
      const r = await withHandoffLock(ctx, lane.name, id, async () => {
        const h = await ctx.ledger.withLane(lane.name, (tx) => tx.getHandoff(id));
        return h && ['claimed', 'verified', 'applied'].includes(h.state) ? finish(ctx, lane, forge, h) : null;
      });
      if (r !== LOCKED && r !== null) return r;
    }
    const taken = await takeAndVerify(ctx, lane, forge, { next: true });
    if (!taken) throw new HandoffError('NOTHING_PENDING', 'no pending handoff to accept');
    const r = await withHandoffLock(ctx, lane.name, taken.handoff.id, async () => {
      const h = await ctx.ledger.withLane(lane.name, (tx) => tx.getHandoff(taken.handoff.id));
      // Another executor of this lane may have finished it between our commit and our lock.
      return h!.state === 'verified' ? finish(ctx, lane, forge, h!, taken.verified) : finish(ctx, lane, forge, h!);
    });
    // LOCKED: another executor of this lane picked it up between our commit and our lock; take the next.
    if (r !== LOCKED) return r;
  }
  throw new HandoffError('STATE_CONFLICT', 'could not take a handoff: every candidate is being worked on');
}

/**
 * Takes a `proposed` handoff and verifies it in ONE ledger transaction: the row is locked (FOR
 * UPDATE; SKIP LOCKED for --next, so two executors never take the same one), verified while held,
 * its statement and nonce consumed, and moved to `verified` — or to `rejected` with the reason code.
 * Dying anywhere in between leaves it `proposed`, exactly as it was. Null when nothing is pending
 * (or the handoff is no longer `proposed`).
 */
async function takeAndVerify(ctx: HandoffContext, lane: LaneConfig, forge: Forge, target: { id: string } | { next: true }): Promise<{ handoff: Handoff; verified: Verified } | null> {
  const outcome = await ctx.ledger.withLane(lane.name, async (tx) => {
    const h = await tx.lockProposed(target);
    if (!h) return null;
    const step = stepper(ctx, lane, h.id);
    step('claimed');
    let v: Verified;
    try {
      v = await verifyProposal(ctx, { ...h, executorLane: lane.name }, { checkExpiry: true, singleUse: false, forge });
    } catch (e) {
      if (e instanceof HandoffError && REJECTING.has(e.code)) {
        await rejectIn(tx, h, e);
        return e;
      }
      throw e;
    }
    // The unique insert into consumed (markVerified) is the single-use check.
    v.checks.push({ check: 'single-use', ok: true });
    const moved = await markVerified(ctx, tx, h, v, 'proposed');
    return moved instanceof HandoffError ? moved : { handoff: moved, verified: v };
  });
  if (outcome instanceof HandoffError) throw outcome;
  return outcome;
}

const LOCKED = Symbol('locked');

/**
 * Runs fn while holding the handoff's advisory lock (server mode: a transaction-scoped
 * pg_try_advisory_xact_lock held open for the whole accept, released by PostgreSQL if this process
 * dies). Two executors of one lane never work on the same handoff at once. Embedded PGlite is a
 * single process with one connection, so there is nobody to exclude (and an open transaction would
 * block the work's own transactions): fn runs directly.
 */
async function withHandoffLock<T>(ctx: HandoffContext, laneName: string, id: string, fn: () => Promise<T>): Promise<T | typeof LOCKED> {
  if (ctx.ledger.kind !== 'server') return fn();
  let result: T | typeof LOCKED = LOCKED;
  await ctx.ledger.withLane(laneName, async (tx) => {
    const { rows } = await tx.sql.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok', [`duallane:handoff:${id}`]);
    if (rows[0]?.ok) result = await fn();
  });
  return result;
}

function stepper(ctx: HandoffContext, lane: LaneConfig, id: string): (s: AcceptStep) => void {
  const traceStep = stepSpans('duallane.accept.step', { lane: lane.name, handoffId: id });
  return (s: AcceptStep) => {
    traceStep(s);
    ctx.onStep?.(s);
  };
}

/**
 * Finishes a handoff from wherever it stands. `verified` is passed when this run has just taken and
 * verified it (takeAndVerify); otherwise this is a re-run resuming earlier work, and the proposal is
 * verified again (read-only) before anything more is done with it.
 */
async function finish(ctx: HandoffContext, lane: LaneConfig, forge: Forge, handoff: Handoff, verified?: Verified): Promise<AcceptResult> {
  const step = stepper(ctx, lane, handoff.id);
  let h = handoff;
  if (h.state === 'rejected') {
    const code = REJECTING.has(h.rejectReason as HandoffErrorCode) ? (h.rejectReason as HandoffErrorCode) : 'STATE_CONFLICT';
    throw new HandoffError(code, `handoff ${h.id} was rejected earlier: ${h.rejectReason}`, { details: { id: h.id, state: h.state, reason: h.rejectReason } });
  }
  if (h.executorLane && h.executorLane !== lane.name) throw new HandoffError('STATE_CONFLICT', `handoff ${h.id} is held by lane ${h.executorLane}`, { details: { id: h.id, state: h.state } });
  if (h.state === 'expired') throw new HandoffError('EXPIRED', `handoff ${h.id} expired`);
  if (h.state === 'proposed') throw new HandoffError('STATE_CONFLICT', `handoff ${h.id} is still proposed (another executor is verifying it)`, { details: { id: h.id, state: h.state } });
  const resumed = verified === undefined;
  if (resumed) step('claimed');

  // 2. Verify (read-only: the bundle, the artifact, the ledger and the object database).
  let v: Verified;
  if (verified) {
    v = verified;
  } else {
    try {
      v = await verifyProposal(ctx, h, { checkExpiry: h.state === 'claimed', forge });
    } catch (e) {
      if (e instanceof HandoffError && REJECTING.has(e.code) && h.state === 'claimed') await reject(ctx, lane.name, h, e);
      throw e;
    }
  }
  if (h.state === 'claimed') {
    const claimed = h;
    const outcome = await ctx.ledger.withLane(lane.name, (tx) => markVerified(ctx, tx, claimed, v, 'claimed'));
    if (outcome instanceof HandoffError) throw outcome;
    h = outcome;
  }
  step('verified');

  // 3. Apply: a deterministic commit on lane/<lane>/<id>, made without touching the working tree.
  const branch = `lane/${lane.name}/${h.id}`;
  const commit = await commitFor(ctx, h, v, lane.name, branch);
  step('committed');
  if (h.state === 'verified') {
    h = await ctx.ledger.withLane(lane.name, (tx) => tx.transitionHandoff(h.id, 'verified', 'applied', { branch, commit, audit: { tree: v.tree } }), { autocommit: true });
  }
  step('applied');

  // 4. Forge: push, pull request, labels, comment — each idempotent.
  await forge.push(ctx.repoDir, branch, commit);
  step('pushed');
  const pr: PullRequestRef = await forge.openPullRequest({
    handoffId: h.id,
    lane: lane.name,
    branch,
    base: v.predicate.targetBranch,
    headSha: commit,
    title: v.predicate.title,
    body: prBody(h, v),
  });
  step('pr-created');
  const labels = await forge.addLabels(pr.number, PR_LABELS(v.predicate.proposerLane));
  await forge.comment(pr.number, verificationSummary(h, v, commit), `handoff:${h.id}`);
  step('labeled');

  // 5. The applied attestation, then the final transition (with the PR record) in one transaction.
  let appliedBundlePath = typeof h.meta.appliedBundlePath === 'string' ? resolveConfigPath(ctx.config, h.meta.appliedBundlePath) : '';
  if (h.state !== 'pr_opened') {
    const applied: AppliedPredicate = {
      handoffId: h.id,
      statementDigest: h.statementDigest,
      artifactDigest: h.artifactDigest,
      proposerLane: v.predicate.proposerLane,
      executorLane: lane.name,
      proposerSigner: signerName(v.proposerSigner),
      repository: v.predicate.repository,
      baseCommit: v.predicate.baseCommit,
      branch,
      commit,
      tree: v.tree,
      pullRequest: { forge: forge.kind, number: pr.number, url: pr.url },
      verification: v.checks,
      appliedAt: ctx.now().toISOString(),
    };
    const statement = makeStatement(
      [
        { name: `handoff-statement-${h.id}`, digest: { sha256: h.statementDigest.slice(7) } },
        { name: branch, digest: { gitCommit: commit } },
      ],
      APPLIED_PREDICATE_TYPE,
      applied,
    );
    const bundle = await attestStatement(statement, signerForLane(ctx.config, lane, ctx.env), { lane: lane.name, attestationKind: 'applied' });
    const stored = await ctx.store.put(Buffer.from(JSON.stringify(bundle, null, 2) + '\n'));
    appliedBundlePath = stored.path;
    step('attested');
    const opened = await ctx.ledger.withLane(
      lane.name,
      async (tx) =>
        (
          await tx.openPullRequest({ handoffId: h.id, forge: forge.kind, number: pr.number, url: pr.url, branch, headSha: commit, state: pr.state, labels }, 'applied', {
            meta: { appliedBundlePath: relative(ctx.config.root, stored.path), appliedBundleDigest: stored.digest, labels },
            audit: { appliedBundleDigest: stored.digest },
          })
        ).handoff,
      { autocommit: true },
    );
    h = opened;
    handoffMetrics.accepted(lane.name, h.createdAt, forge.kind);
  }
  step('pr_opened');
  return {
    id: h.id,
    state: h.state,
    lane: lane.name,
    proposerLane: h.proposerLane,
    branch,
    commit,
    pr: { forge: forge.kind, number: pr.number, url: pr.url, labels },
    appliedBundlePath,
    verification: v.checks,
    resumed,
  };
}

export interface VerifyProposalOptions {
  checkExpiry: boolean;
  singleUse?: boolean;
  /**
   * The forge whose target branch the base must be on (see base-on-target.ts). Null only for a
   * read-only re-check that decides nothing (trace); accept always passes its forge.
   */
  forge: Forge | null;
}

/**
 * Every check a proposal must pass before the repository is touched. The bundle and artifact are
 * attacker-controlled; the ledger row is only the index that points at them, and must agree.
 */
export async function verifyProposal(ctx: HandoffContext, h: Handoff, opts: VerifyProposalOptions): Promise<Verified> {
  const checks: VerificationCheck[] = [];
  // By digest from the store only: the row's bundle_path is the proposer's to write and is never opened.
  if (!isStoreDigest(h.meta.bundleDigest)) throw new HandoffError('LEDGER_MISMATCH', `handoff ${h.id} records no bundle digest`);
  const bundleText = (await ctx.store.get(h.meta.bundleDigest, { maxBytes: 4 * 1024 * 1024 })).toString('utf8');
  checks.push({ check: 'bundle-intact', ok: true });
  const artifact = await ctx.store.get(h.artifactDigest);
  checks.push({ check: 'artifact-intact', ok: true, detail: h.artifactDigest });
  let bundle: unknown;
  try {
    bundle = parseBundleText(bundleText);
  } catch (cause) {
    throw new HandoffError('SIGNATURE_INVALID', 'the bundle is not a Sigstore bundle', { cause });
  }
  const lv = await verifyLaneBundle(ctx.config, 'propose', bundle, { artifact }, HANDOFF_PREDICATE_TYPE, { trustedRoot: ctx.trustedRoot });
  checks.push({ check: 'signature', ok: true, detail: `lane ${lv.lane.name}: ${signerName(lv.signer)}` });
  checks.push({ check: 'predicate-type', ok: true, detail: HANDOFF_PREDICATE_TYPE });
  checks.push({ check: 'subject-digest', ok: true, detail: h.artifactDigest });
  const parsed = parseHandoffPredicate(lv.statement.predicate, { now: ctx.now() });
  if (!parsed.ok) throw new HandoffError(parsed.problems[0]!.code, describeProblems(parsed.problems), { details: { problems: parsed.problems } });
  const p = parsed.predicate;
  if (p.proposerLane !== lv.lane.name || h.proposerLane !== lv.lane.name) throw new HandoffError('UNTRUSTED_SIGNER', `signed by lane ${lv.lane.name}, but the proposal names lane ${p.proposerLane} and the ledger ${h.proposerLane}`);
  const mismatch = [
    ['id', p.handoffId, h.id],
    ['statement digest', lv.statementDigest, h.statementDigest],
    ['artifact digest', p.artifact.digest, h.artifactDigest],
    ['nonce', p.nonce, h.nonce],
    ['base commit', p.baseCommit, h.baseCommit],
    ['target branch', p.targetBranch, h.targetBranch],
  ].find(([, a, b]) => a !== b);
  if (mismatch) throw new HandoffError('LEDGER_MISMATCH', `the signed ${mismatch[0]} differs from the ledger's`);
  checks.push({ check: 'ledger-binding', ok: true });
  // Expiry is judged when the executor takes the proposal; a re-run finishing verified work is not a new acceptance.
  if (opts.checkExpiry && Date.parse(p.expiresAt) <= ctx.now().getTime()) throw new HandoffError('EXPIRED', `proposal expired at ${p.expiresAt}`);
  checks.push({ check: 'not-expired', ok: true, detail: p.expiresAt });
  // Single use: read here for a re-verification; an acceptance consumes instead (the unique insert,
  // in the transaction that holds the proposal, is the check — see takeAndVerify).
  if (opts.singleUse !== false) {
    await ctx.ledger.withLane(h.executorLane ?? lane0(ctx), async (tx: LaneTx) => {
      const { rows } = await tx.sql.query<{ handoff_id: string }>('SELECT handoff_id FROM consumed WHERE statement_digest = $1 OR nonce = $2', [h.statementDigest, p.nonce]);
      if (rows.some((r) => r.handoff_id !== h.id)) throw new HandoffError('REPLAY', `statement or nonce of ${h.id} was consumed by handoff ${rows[0]!.handoff_id}`);
    });
    checks.push({ check: 'single-use', ok: true });
  }
  if (p.repository !== repositoryIdentity(ctx.config)) throw new HandoffError('REPOSITORY_MISMATCH', `proposal is for ${p.repository}, this repository is ${repositoryIdentity(ctx.config)}`);
  checks.push({ check: 'repository', ok: true, detail: p.repository });
  // Before anything reads the base's tree (scope, applying): the base must be on the forge's target.
  // First, so that a commit missing here is refused like one off the target (no oracle of what the
  // executor's object store holds).
  let moved: { paths: string[]; truncated: boolean } = { paths: [], truncated: false };
  if (opts.forge) {
    const { tip, movedPaths, movedTruncated } = await assertBaseOnTarget(opts.forge, ctx.repoDir, p.baseCommit, p.targetBranch);
    moved = { paths: movedPaths, truncated: movedTruncated };
    checks.push({ check: 'base-on-target', ok: true, detail: `${p.targetBranch} at ${tip} on the forge contains ${p.baseCommit}` });
  }
  if (!(await commitExists(ctx.repoDir, p.baseCommit))) throw new HandoffError('BASE_COMMIT_MISSING', `base commit ${p.baseCommit} is not in the executor's repository`);
  checks.push({ check: 'base-commit', ok: true, detail: p.baseCommit });
  const patch = parsePatch(artifact);
  const changed = patch.files.map((f) => `${f.path}\0${f.digest}`).sort().join('\n');
  const signed = p.changedPaths.map((f) => `${f.path}\0${f.digest}`).sort().join('\n');
  if (changed !== signed) throw new HandoffError('LEDGER_MISMATCH', 'the changed paths and digests in the predicate differ from the artifact');
  const execLane = ctx.config.lanes.find((l) => l.name === (h.executorLane ?? lane0(ctx)))!;
  // What is pushed differs from the forge's tip by the patch AND by every path the target changed since
  // the base (the branch carries the base's version of those): an old workflow or CI file would run on
  // push. Those paths are judged by the path rules too (not the size limits: they are the target's own).
  const violations: ScopeViolation[] = [...checkScope(patch, execLane.scope), ...checkMovedPaths(moved, execLane.scope)];
  if (violations.length > 0) {
    throw new HandoffError('SCOPE_VIOLATION', `${violations.length} scope violation(s): ${violations.map((x) => `${x.code}${x.path ? ` ${x.path}` : ''}`).join(', ')}`, { details: { violations } });
  }
  checks.push({ check: 'scope-policy', ok: true, detail: `${patch.files.length} files, +${patch.added} -${patch.removed}` });
  const tree = await treeOfArtifact(ctx.repoDir, p.baseCommit, artifact, { quarantine: true });
  checks.push({ check: 'applies-canonically', ok: true, detail: `tree ${tree}` });
  return { predicate: p, proposerSigner: lv.signer, tree, checks };
}

/**
 * Consumes the proposal's statement digest and nonce and moves it from `from` to `verified`, one
 * statement (the unique insert is the single-use check). A digest or nonce used before is recorded
 * as a REPLAY rejection in the same transaction, and that error is returned for the caller to throw
 * after the commit.
 */
async function markVerified(ctx: HandoffContext, tx: LaneTx, h: Handoff, v: Verified, from: 'proposed' | 'claimed'): Promise<Handoff | HandoffError> {
  try {
    return await tx.consumeAndTransition(h.id, { statementDigest: h.statementDigest, nonce: v.predicate.nonce }, from, 'verified', {
      meta: { verifiedAt: ctx.now().toISOString(), verification: v.checks },
      audit: { checks: v.checks.length },
    });
  } catch (e) {
    if (!(e instanceof LedgerError && e.code === 'REPLAY')) throw e;
    const err = new HandoffError('REPLAY', e.message, { cause: e, details: e.details });
    await rejectIn(tx, h, err);
    return err;
  }
}

function lane0(ctx: HandoffContext): string {
  return ctx.config.lanes.find((l) => l.kind === 'execute')!.name;
}

async function reject(ctx: HandoffContext, laneName: string, h: Handoff, e: HandoffError): Promise<void> {
  await ctx.ledger.withLane(laneName, (tx) => rejectIn(tx, h, e)).catch((x) => {
    if (x instanceof LedgerError && x.code === 'STATE_CONFLICT') return; // someone else decided first
    throw x;
  });
}

async function rejectIn(tx: LaneTx, h: Handoff, e: HandoffError): Promise<void> {
  handoffMetrics.rejected(tx.lane, e.code);
  await tx.transitionHandoff(h.id, ['proposed', 'claimed'], 'rejected', {
    rejectReason: e.code,
    meta: { rejection: { code: e.code, message: e.message.slice(0, 500), ...(e.details ? { details: e.details } : {}) } },
    audit: { reason: e.code },
  });
}

/**
 * The commit for a handoff: tree from the verified artifact, parent the base commit, message with
 * trailers, author and dates fixed from the ledger (verifiedAt), so the same handoff always yields
 * the same SHA and a re-run after a crash finds it instead of making a second one.
 */
async function commitFor(ctx: HandoffContext, h: Handoff, v: Verified, laneName: string, branch: string): Promise<string> {
  const verifiedAt = typeof h.meta.verifiedAt === 'string' ? h.meta.verifiedAt : ctx.now().toISOString();
  const date = `${Math.floor(Date.parse(verifiedAt) / 1000)} +0000`;
  const message = commitMessage(v.predicate, { id: h.id, statementDigest: h.statementDigest });
  const env = {
    GIT_AUTHOR_NAME: `duallane ${laneName}`,
    GIT_AUTHOR_EMAIL: `${laneName}@lanes.duallane.invalid`,
    GIT_COMMITTER_NAME: `duallane ${laneName}`,
    GIT_COMMITTER_EMAIL: `${laneName}@lanes.duallane.invalid`,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
  // Verification ran quarantined; now (verified) the tree's objects are written into the repository.
  const tree = await treeOfArtifact(ctx.repoDir, v.predicate.baseCommit, await ctx.store.get(h.artifactDigest));
  if (tree !== v.tree) throw new HandoffError('STATE_CONFLICT', `artifact of ${h.id} produced tree ${tree}, verification saw ${v.tree}`);
  const sha = (await git(['commit-tree', v.tree, '-p', v.predicate.baseCommit, '-F', '-'], { cwd: ctx.repoDir, env, input: message })).stdout.toString('utf8').trim();
  const existing = await localBranchSha(ctx.repoDir, branch);
  if (existing === sha) return sha;
  if (existing !== null) throw new ForgeError('BRANCH_CONFLICT', `branch ${branch} exists at ${existing.slice(0, 12)}, not the handoff's commit ${sha.slice(0, 12)}`);
  // The empty old value makes update-ref fail if the branch appeared meanwhile: never overwrite.
  await git(['update-ref', '-m', `duallane: handoff ${h.id}`, `refs/heads/${branch}`, sha, ''], { cwd: ctx.repoDir });
  if (h.commit && h.commit !== sha) throw new HandoffError('STATE_CONFLICT', `ledger records commit ${h.commit} for ${h.id}, git computed ${sha}`);
  return sha;
}

function signerName(s: VerifiedSigner): string {
  return s.kind === 'key' ? `key ${s.keyId.slice(0, 16)}` : `${s.identity} (${s.issuer})`;
}

function prBody(h: Handoff, v: Verified): string {
  return [
    v.predicate.summary || v.predicate.title,
    '',
    `Handoff \`${h.id}\` proposed by lane \`${v.predicate.proposerLane}\`, verified and applied by duallane.`,
    `Statement: \`${h.statementDigest}\``,
  ].join('\n');
}

function verificationSummary(h: Handoff, v: Verified, commit: string): string {
  return [
    `### duallane verification: handoff \`${h.id}\``,
    '',
    '| check | result | detail |',
    '|---|---|---|',
    ...v.checks.map((c) => `| ${c.check} | ${c.ok ? 'ok' : 'FAILED'} | ${(c.detail ?? '').replace(/\|/g, '\\|')} |`),
    '',
    `Commit \`${commit}\` (tree \`${v.tree}\`), base \`${v.predicate.baseCommit}\`.`,
  ].join('\n');
}

/** The path rules over the paths the target branch changed since the base (see verifyProposal). */
function checkMovedPaths(moved: { paths: string[]; truncated: boolean }, scope: LaneConfig['scope']): ScopeViolation[] {
  if (moved.truncated) return [{ code: 'TOO_MANY_FILES', message: 'the target branch changed too many paths since the base: propose on its tip' }];
  if (moved.paths.length === 0) return [];
  const files = moved.paths.map((path) => ({ path, status: 'modified' as const, oldMode: null, newMode: null, oldBlob: null, newBlob: null, binary: false, symlink: false, submodule: false, added: 0, removed: 0, digest: '' }));
  const unlimited = { ...scope, maxFiles: Number.MAX_SAFE_INTEGER, maxChangedLines: Number.MAX_SAFE_INTEGER };
  return checkScope({ files, added: 0, removed: 0 }, unlimited).map((v) => ({ ...v, message: `${v.message} (changed on the target since the base; propose on its tip)` }));
}
