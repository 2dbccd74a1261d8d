import type { DuallaneError } from '../config/index.js';

/**
 * The HTTP status of a DuallaneError. The body always carries the error's own code (the CLI's), the
 * status only tells HTTP clients and proxies which family it is:
 *   rejected    -> 401 (no valid token), 403 (not allowed for this lane), 404 (no such handoff),
 *                  409 (state conflict, replay), else 422 (understood, refused: bad signature, expired, scope)
 *   usage       -> 413 (too large), 415 (not JSON), else 400
 *   environment -> 503 (database down, store unreadable: retry later)
 */
const BY_CODE: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  ALERTS_TOKEN_REQUIRED: 403,
  PERMISSION_DENIED: 403,
  LANE_KIND_MISMATCH: 403,
  NOT_FOUND: 404,
  STATE_CONFLICT: 409,
  REPLAY: 409,
  NOTHING_PENDING: 409,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  INPUT_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
};

export function httpStatusOf(e: DuallaneError): number {
  const byCode = BY_CODE[e.code];
  if (byCode !== undefined) return byCode;
  switch (e.outcome) {
    case 'rejected':
      return 422;
    case 'usage':
      return 400;
    case 'environment':
      return 503;
  }
}

/** The error body: the same shape as the CLI's `--json` error document. */
export function errorBody(e: DuallaneError): { ok: false; error: { code: string; outcome: string; message: string; details?: Record<string, unknown> } } {
  return { ok: false, error: { code: e.code, outcome: e.outcome, message: e.message, ...(e.details ? { details: e.details } : {}) } };
}
