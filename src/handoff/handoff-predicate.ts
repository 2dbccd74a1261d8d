import { z } from 'zod';
import { branchNameProblem, summaryProblem, titleProblem } from './input-rules.js';

/** Predicate types under the project's own URI namespace. */
export const HANDOFF_PREDICATE_TYPE = 'https://duallane.dev/handoff/v1';
export const APPLIED_PREDICATE_TYPE = 'https://duallane.dev/handoff-applied/v1';

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const SHA_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const LANE_RE = /^[a-z][a-z0-9-]{0,62}$/;
const isoTime = z.iso.datetime({ offset: false });

export const changedPathSchema = z.strictObject({
  path: z.string().min(1).max(4096),
  status: z.enum(['added', 'deleted', 'modified']),
  /** sha256 of this file's section of the patch artifact. */
  digest: z.string().regex(DIGEST_RE),
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
  binary: z.boolean(),
  mode: z.string().regex(/^\d{6}$/).nullable(),
});

/**
 * The handoff predicate: what the propose lane asserts about its artifact (the statement's only
 * subject). Strict: an unknown field is a schema violation, not something to ignore, because the
 * executor must act on exactly what was signed.
 */
export const handoffPredicateSchema = z.strictObject({
  handoffId: z.string().regex(ULID_RE, 'must be a ULID'),
  /** 32 random bytes, hex: single use is enforced on (handoffId, nonce, statement digest). */
  nonce: z.string().regex(/^[0-9a-f]{64}$/),
  proposerLane: z.string().regex(LANE_RE),
  /** Where the change applies: a remote URL or a local identifier of the repository. */
  repository: z.string().min(1).max(2048),
  /** The commit the artifact applies to; accept requires it on targetBranch at the forge (base-on-target.ts). */
  baseCommit: z.string().regex(SHA_RE),
  targetBranch: z.string().min(1).max(255),
  artifact: z.strictObject({ digest: z.string().regex(DIGEST_RE), size: z.number().int().nonnegative(), mediaType: z.literal('text/x-patch') }),
  changedPaths: z.array(changedPathSchema).min(1).max(10_000),
  title: z.string().min(1).max(256),
  summary: z.string().max(20_000),
  createdAt: isoTime,
  expiresAt: isoTime,
});

export type HandoffPredicate = z.infer<typeof handoffPredicateSchema>;
export type ChangedPath = z.infer<typeof changedPathSchema>;

/** The applied attestation's predicate: the execute lane links the proposal to the commit it made. */
export const appliedPredicateSchema = z.strictObject({
  handoffId: z.string().regex(ULID_RE),
  statementDigest: z.string().regex(DIGEST_RE),
  artifactDigest: z.string().regex(DIGEST_RE),
  proposerLane: z.string().regex(LANE_RE),
  executorLane: z.string().regex(LANE_RE),
  proposerSigner: z.string().min(1).max(2048),
  repository: z.string().min(1).max(2048),
  baseCommit: z.string().regex(SHA_RE),
  branch: z.string().min(1).max(255),
  commit: z.string().regex(SHA_RE),
  tree: z.string().regex(SHA_RE),
  pullRequest: z.strictObject({ forge: z.enum(['local', 'github']), number: z.number().int().positive(), url: z.string().max(2048) }).nullable(),
  verification: z.array(z.strictObject({ check: z.string(), ok: z.boolean(), detail: z.string().max(2000).optional() })),
  appliedAt: isoTime,
});

export type AppliedPredicate = z.infer<typeof appliedPredicateSchema>;

/** The longest lifetime a proposal may claim (expiresAt - createdAt). */
export const MAX_LIFETIME_MS = 30 * 24 * 3600 * 1000;
/** How far a proposer's clock may run ahead of the verifier's (createdAt in the future). */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The reason code each kind of problem is rejected with (submit and accept; propose reports INPUT_INVALID). */
export type PredicateProblemCode = 'PREDICATE_INVALID' | 'EXPIRY_TOO_LONG' | 'CREATED_IN_FUTURE' | 'BRANCH_NAME_INVALID' | 'TEXT_INVALID';

export interface PredicateProblem {
  path: string;
  message: string;
  code: PredicateProblemCode;
}

export type PredicateCheck = { ok: true; predicate: HandoffPredicate } | { ok: false; problems: PredicateProblem[] };

/**
 * The one validation of a handoff predicate, run by propose before signing, by submit before
 * anything is stored, and by accept before the repository is touched: the schema, then the rules
 * the schema cannot say (lifetime cap, createdAt not in the future, a safe target branch, no control
 * characters in title or summary). Returns every problem with its path and reason code; the first
 * problem's code is the rejection's.
 */
export function parseHandoffPredicate(value: unknown, opts: { now?: Date } = {}): PredicateCheck {
  const r = handoffPredicateSchema.safeParse(value);
  if (!r.success) {
    return { ok: false, problems: r.error.issues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message, code: 'PREDICATE_INVALID' as const })) };
  }
  const p = r.data;
  const problems: PredicateProblem[] = [];
  const created = Date.parse(p.createdAt);
  const expires = Date.parse(p.expiresAt);
  if (expires <= created) problems.push({ path: 'expiresAt', message: 'must be after createdAt', code: 'PREDICATE_INVALID' });
  else if (expires - created > MAX_LIFETIME_MS) problems.push({ path: 'expiresAt', message: 'more than 30 days after createdAt', code: 'EXPIRY_TOO_LONG' });
  const now = (opts.now ?? new Date()).getTime();
  if (created > now + CLOCK_SKEW_MS) problems.push({ path: 'createdAt', message: 'is in the future', code: 'CREATED_IN_FUTURE' });
  const branch = branchNameProblem(p.targetBranch);
  if (branch) problems.push({ path: 'targetBranch', message: `not a safe branch name: ${branch}`, code: 'BRANCH_NAME_INVALID' });
  const title = titleProblem(p.title);
  if (title) problems.push({ path: 'title', message: title, code: 'TEXT_INVALID' });
  const summary = summaryProblem(p.summary);
  if (summary) problems.push({ path: 'summary', message: summary, code: 'TEXT_INVALID' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, predicate: p };
}

/** One line naming every problem (`path: message; ...`), for error messages. */
export function describeProblems(problems: PredicateProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}
