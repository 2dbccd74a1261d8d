import { isValid as isUlid } from 'ulid';
import { z } from 'zod';
import { HANDOFF_STATES } from '../ledger/index.js';
import { ServerError } from './server-error.js';

/**
 * Request bodies and parameters. Every object is strict (an unknown field is refused, not ignored:
 * a misspelt option must not silently fall back to a default), and ids are checked before any
 * ledger query.
 */
const DURATION = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** '90s' | '30m' | '24h' | '7d' -> milliseconds. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}

export const proposeBodySchema = z.strictObject({
  title: z.string().min(1).max(256),
  summary: z.string().max(10_000).optional(),
  /** Base ref or commit the patch applies to (default HEAD of the server's repository). */
  base: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9._/^~@-]+$/, 'must be a git ref or commit')
    .refine((s) => !s.startsWith('-'), 'must not start with -')
    .optional(),
  targetBranch: z.string().min(1).max(256).optional(),
  /** The change, as a unified diff / git format-patch text, or base64 of it. */
  patch: z.string().min(1),
  patchEncoding: z.enum(['text', 'base64']).default('text'),
  /** Lifetime: 90s, 30m, 24h, 7d (default 24h). */
  expires: z.string().regex(DURATION, 'must be a duration like 30m, 24h or 7d').optional(),
});
export type ProposeBody = z.infer<typeof proposeBodySchema>;

/**
 * A proposal signed elsewhere (`duallane handoff submit` over HTTP): the Sigstore bundle (JSON text or
 * object) and the artifact bytes as base64. The signature, not the token, says which lane proposed.
 */
export const submitBodySchema = z.strictObject({
  bundle: z.union([z.string().min(2).max(1024 * 1024), z.record(z.string(), z.unknown())]),
  artifact: z.string().min(1),
});
export type SubmitBody = z.infer<typeof submitBodySchema>;

/** Accept takes no options; an empty body or `{}`. */
export const acceptBodySchema = z.strictObject({}).optional();

export const listQuerySchema = z.strictObject({
  state: z.enum(HANDOFF_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const alertsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

// The first character is 0-7: a ULID's 48-bit time fits 10 base32 digits only so.
const CROCKFORD_ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** A handoff id is a ULID (upper-case Crockford base32); anything else is refused before the ledger sees it. */
export function parseHandoffId(raw: unknown): string {
  if (typeof raw !== 'string' || !CROCKFORD_ULID.test(raw) || !isUlid(raw)) {
    throw new ServerError('INVALID_ID', 'the handoff id must be a ULID (26 characters of Crockford base32)');
  }
  return raw;
}

/** Parses with `schema` or throws BAD_REQUEST listing every problem with its path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  throw new ServerError('BAD_REQUEST', `${what}: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`, { details: { problems } });
}
