import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes of the handoff: the codes a rejected proposal is recorded with in the ledger
 * (`reject_reason`) and that the CLI and API return. Tests assert codes, never messages.
 */
export const HANDOFF_CODES = {
  // rejected (exit 1): the proposal was read and refused.
  PATCH_MALFORMED: 'rejected',
  ARTIFACT_TAMPERED: 'rejected',
  ARTIFACT_NOT_CANONICAL: 'rejected',
  PREDICATE_INVALID: 'rejected',
  EXPIRY_TOO_LONG: 'rejected',
  CREATED_IN_FUTURE: 'rejected',
  BRANCH_NAME_INVALID: 'rejected',
  TEXT_INVALID: 'rejected',
  UNTRUSTED_SIGNER: 'rejected',
  SIGNATURE_INVALID: 'rejected',
  PREDICATE_TYPE_MISMATCH: 'rejected',
  SUBJECT_MISMATCH: 'rejected',
  EXPIRED: 'rejected',
  REPLAY: 'rejected',
  LEDGER_MISMATCH: 'rejected',
  REPOSITORY_MISMATCH: 'rejected',
  BASE_COMMIT_MISSING: 'rejected',
  BASE_NOT_ON_TARGET: 'rejected',
  SCOPE_VIOLATION: 'rejected',
  PATCH_DOES_NOT_APPLY: 'rejected',
  STATE_CONFLICT: 'rejected',
  NOT_FOUND: 'rejected',
  NOTHING_PENDING: 'rejected',
  // usage (exit 2): the caller asked for something malformed.
  BAD_USAGE: 'usage',
  EMPTY_CHANGE: 'usage',
  INPUT_INVALID: 'usage',
  INPUT_TOO_LARGE: 'usage',
  INPUT_UNREADABLE: 'usage',
  LANE_KIND_MISMATCH: 'usage',
  // environment (exit 3).
  STORE_CORRUPT: 'environment',
  STORE_IO: 'environment',
  CRASH_INJECTED: 'environment',
} as const satisfies Record<string, ErrorOutcome>;

export type HandoffErrorCode = keyof typeof HANDOFF_CODES;

export class HandoffError extends DuallaneError<HandoffErrorCode> {
  get outcome(): ErrorOutcome {
    return HANDOFF_CODES[this.code];
  }
}
