import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes of the ledger. Tests assert codes, never messages.
 *   rejected (exit 1): the database understood the request and refused it.
 *   usage (exit 2): the caller asked for something that cannot exist.
 *   environment (exit 3): the database is unreachable, unmigrated, or its roles are missing.
 */
export const LEDGER_REJECTION_CODES = [
  /** The statement digest or nonce was consumed before: a replay. */
  'REPLAY',
  /** The handoff was not in the expected state (another executor moved it first). */
  'STATE_CONFLICT',
  /** The lane's role lacks the privilege, or row-level security refused the row. */
  'PERMISSION_DENIED',
  /** A state move outside the handoff state machine (refused by the database). */
  'INVALID_TRANSITION',
  /** verify-audit found edited, deleted or reordered rows. */
  'AUDIT_CHAIN_BROKEN',
  'NOT_FOUND',
] as const;
export const LEDGER_USAGE_CODES = ['BAD_USAGE', 'LANE_UNKNOWN'] as const;
export const LEDGER_ENVIRONMENT_CODES = [
  'DB_UNAVAILABLE',
  /** The embedded (PGlite) ledger is open in another process. */
  'LEDGER_LOCKED',
  'SCHEMA_MISSING',
  'ROLE_MISSING',
  'MIGRATION_FAILED',
  'MIGRATION_CHECKSUM_MISMATCH',
  'SCHEMA_TOO_NEW',
  'QUERY_FAILED',
] as const;

export type LedgerErrorCode =
  | (typeof LEDGER_REJECTION_CODES)[number]
  | (typeof LEDGER_USAGE_CODES)[number]
  | (typeof LEDGER_ENVIRONMENT_CODES)[number];

const outcomes = new Map<string, ErrorOutcome>([
  ...LEDGER_REJECTION_CODES.map((c) => [c, 'rejected'] as const),
  ...LEDGER_USAGE_CODES.map((c) => [c, 'usage'] as const),
  ...LEDGER_ENVIRONMENT_CODES.map((c) => [c, 'environment'] as const),
]);

export class LedgerError extends DuallaneError<LedgerErrorCode> {
  get outcome(): ErrorOutcome {
    return outcomes.get(this.code) ?? 'environment';
  }
}

/** SQLSTATE of a pg or PGlite error, if it is one. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'ENETUNREACH']);

/**
 * Maps a driver error to a LedgerError. Messages carry the server's one-line text (never parameters,
 * which may hold digests but never secrets; URLs are redacted by the caller).
 */
export function toLedgerError(e: unknown, context: string): LedgerError {
  if (e instanceof LedgerError) return e;
  const state = sqlState(e);
  const msg = (e as Error)?.message?.split('\n')[0] ?? String(e);
  const errno = (e as NodeJS.ErrnoException)?.code;
  if (errno && CONNECT_CODES.has(errno)) return new LedgerError('DB_UNAVAILABLE', `${context}: ${errno}`, { cause: e });
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(msg)) return new LedgerError('DB_UNAVAILABLE', `${context}: ${msg}`, { cause: e });
  switch (state) {
    case '42501':
      return new LedgerError('PERMISSION_DENIED', `${context}: ${msg}`, { cause: e, details: { sqlstate: state } });
    case '23514':
      if (/cannot move from/.test(msg)) return new LedgerError('INVALID_TRANSITION', `${context}: ${msg}`, { cause: e, details: { sqlstate: state } });
      break;
    case '42P01':
    case '42883':
      return new LedgerError('SCHEMA_MISSING', `${context}: ${msg} (run \`duallane db migrate\`)`, { cause: e, details: { sqlstate: state } });
    case '22023':
    case '42704':
      if (/role/i.test(msg)) return new LedgerError('ROLE_MISSING', `${context}: ${msg} (run \`duallane db roles apply\`)`, { cause: e, details: { sqlstate: state } });
      break;
    case '3D000':
    case '28000':
    case '28P01':
    case '57P03':
      return new LedgerError('DB_UNAVAILABLE', `${context}: ${msg}`, { cause: e, details: { sqlstate: state } });
  }
  return new LedgerError('QUERY_FAILED', `${context}: ${msg}`, { cause: e, details: state ? { sqlstate: state } : undefined });
}

/** postgres://user:secret@host/db -> postgres://user:***@host/db */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable database URL>';
  }
}
