import { z } from 'zod';
import { isHandoffId, parseDuration, proposeRequestShape } from '../handoff/index.js';
import { HANDOFF_STATES } from '../ledger/index.js';
import { ServerError } from './server-error.js';

/**
 * Request bodies and parameters. Every object is strict (an unknown field is refused, not ignored:
 * a misspelt option must not silently fall back to a default), and ids are checked before any
 * ledger query.
 */
export { parseDuration };

export const proposeBodySchema = z.strictObject(proposeRequestShape);
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

/** A handoff id is a ULID (upper-case Crockford base32); anything else is refused before the ledger sees it. */
export function parseHandoffId(raw: unknown): string {
  if (!isHandoffId(raw)) {
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
