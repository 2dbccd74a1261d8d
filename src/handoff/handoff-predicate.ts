import { z } from 'zod';

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

export interface PredicateProblem {
  path: string;
  message: string;
}

/** Validates a predicate from a verified statement, returning every problem with its path. */
export function parseHandoffPredicate(value: unknown): { ok: true; predicate: HandoffPredicate } | { ok: false; problems: PredicateProblem[] } {
  const r = handoffPredicateSchema.safeParse(value);
  if (r.success) {
    if (Date.parse(r.data.expiresAt) <= Date.parse(r.data.createdAt)) return { ok: false, problems: [{ path: 'expiresAt', message: 'must be after createdAt' }] };
    return { ok: true, predicate: r.data };
  }
  return { ok: false, problems: r.error.issues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })) };
}
