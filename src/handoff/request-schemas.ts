import { isValid as isUlid } from 'ulid';
import { z } from 'zod';

/**
 * The shape of a proposal request from a remote or agent caller, shared by the HTTP API
 * (src/server) and the MCP tools (src/mcp), so both validate alike. Everything here is attacker
 * input until the proposal is signed.
 */
const DURATION = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** '90s' | '30m' | '24h' | '7d' -> milliseconds. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}

export const proposeRequestShape = {
  title: z.string().min(1).max(256).describe('pull request title'),
  summary: z.string().max(10_000).optional().describe('longer description (pull request body)'),
  /** Base ref or commit the patch applies to (default HEAD of the repository). */
  base: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9._/^~@-]+$/, 'must be a git ref or commit')
    .refine((s) => !s.startsWith('-'), 'must not start with -')
    .optional()
    .describe('base commit the change applies to (default HEAD)'),
  targetBranch: z.string().min(1).max(256).optional().describe('branch the pull request targets (default main)'),
  /** The change, as a unified diff / git format-patch text, or base64 of it. */
  patch: z.string().min(1).describe('the change as a unified diff (git diff / format-patch), or base64 of it'),
  patchEncoding: z.enum(['text', 'base64']).default('text'),
  /** Lifetime: 90s, 30m, 24h, 7d (default 24h). */
  expires: z.string().regex(DURATION, 'must be a duration like 30m, 24h or 7d').optional().describe('lifetime: 90s, 30m, 24h or 7d (default 24h)'),
};

// The first character is 0-7: a ULID's 48-bit time fits 10 base32 digits only so.
const CROCKFORD_ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** A handoff id: a ULID (upper-case Crockford base32). */
export const handoffIdSchema = z
  .string()
  .refine((s) => CROCKFORD_ULID.test(s) && isUlid(s), 'the handoff id must be a ULID (26 characters of Crockford base32)')
  .describe('handoff id (ULID)');

export function isHandoffId(raw: unknown): raw is string {
  return typeof raw === 'string' && CROCKFORD_ULID.test(raw) && isUlid(raw);
}

/** The patch bytes of a request (text or base64). */
export function patchBytes(patch: string, encoding: 'text' | 'base64'): Buffer {
  return encoding === 'base64' ? Buffer.from(patch, 'base64') : Buffer.from(patch, 'utf8');
}
