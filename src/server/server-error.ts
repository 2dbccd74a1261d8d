import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes of the HTTP server itself (authentication, request shape, token store). Errors of the
 * domain (handoff, ledger, attest) pass through unchanged with their own codes, so the API answers
 * with the same codes as the CLI. Tests assert codes, never messages.
 */
export const SERVER_CODES = {
  // rejected: the request was understood and refused.
  UNAUTHENTICATED: 'rejected',
  FORBIDDEN: 'rejected',
  /** POST /v1/alerts with a lane token: only the alerts token (`serve token create --alerts`) may write alerts. */
  ALERTS_TOKEN_REQUIRED: 'rejected',
  NOT_FOUND: 'rejected',
  // usage: the request is malformed.
  BAD_REQUEST: 'usage',
  MALFORMED_JSON: 'usage',
  BODY_TOO_LARGE: 'usage',
  UNSUPPORTED_MEDIA_TYPE: 'usage',
  INVALID_ID: 'usage',
  BAD_USAGE: 'usage',
  LANE_UNKNOWN: 'usage',
  METHOD_NOT_ALLOWED: 'usage',
  // environment: the server cannot do its work.
  TOKEN_STORE_CORRUPT: 'environment',
  TOKEN_STORE_IO: 'environment',
  LISTEN_FAILED: 'environment',
  NOT_READY: 'environment',
  INTERNAL: 'environment',
} as const satisfies Record<string, ErrorOutcome>;

export type ServerErrorCode = keyof typeof SERVER_CODES;

export class ServerError extends DuallaneError<ServerErrorCode> {
  get outcome(): ErrorOutcome {
    return SERVER_CODES[this.code];
  }
}
