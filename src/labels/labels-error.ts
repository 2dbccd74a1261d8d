import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Codes for label lint and sync. GitHub problems that the caller can only fix in its environment
 * (token, permissions, rate limit, network) map to exit 3; a lint finding or a label conflict is a
 * rejection (exit 1); an unreadable file or a bad --repo is usage (exit 2).
 */
export const LABELS_CODES = {
  FILE_UNREADABLE: 'usage',
  FILE_INVALID: 'usage',
  REPO_INVALID: 'usage',
  LINT_FAILED: 'rejected',
  LABEL_CONFLICT: 'rejected',
  TOKEN_MISSING: 'environment',
  GITHUB_UNAUTHORIZED: 'environment',
  GITHUB_FORBIDDEN: 'environment',
  GITHUB_RATE_LIMITED: 'environment',
  GITHUB_NOT_FOUND: 'environment',
  GITHUB_UNREACHABLE: 'environment',
  GITHUB_REQUEST_FAILED: 'environment',
} as const satisfies Record<string, ErrorOutcome>;

export type LabelsErrorCode = keyof typeof LABELS_CODES;

export class LabelsError extends DuallaneError<LabelsErrorCode> {
  get outcome(): ErrorOutcome {
    return LABELS_CODES[this.code];
  }
}
