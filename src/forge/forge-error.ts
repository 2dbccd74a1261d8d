import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes of git and forge operations. Tests assert codes, never messages.
 * A refusal by the remote or forge of a well-formed request is `rejected`; a bad ref or argument is
 * `usage`; anything the caller can only fix in its environment (git missing, network, token,
 * rate limit) is `environment`.
 */
export const FORGE_CODES = {
  BAD_REF: 'usage',
  BAD_USAGE: 'usage',
  PATCH_DOES_NOT_APPLY: 'rejected',
  BRANCH_CONFLICT: 'rejected',
  PUSH_REJECTED: 'rejected',
  PR_VALIDATION_FAILED: 'rejected',
  GIT_FAILED: 'environment',
  GIT_MISSING: 'environment',
  FORGE_FORBIDDEN: 'environment',
  FORGE_UNAUTHORIZED: 'environment',
  FORGE_NOT_FOUND: 'environment',
  FORGE_RATE_LIMITED: 'environment',
  FORGE_UNREACHABLE: 'environment',
  FORGE_REQUEST_FAILED: 'environment',
} as const satisfies Record<string, ErrorOutcome>;

export type ForgeErrorCode = keyof typeof FORGE_CODES;

export class ForgeError extends DuallaneError<ForgeErrorCode> {
  get outcome(): ErrorOutcome {
    return FORGE_CODES[this.code];
  }
}
