import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Codes of the lanes module. CREDENTIAL_VIOLATIONS (exit 1) carries `details.violations`.
 * GITHUB_UNREACHABLE (exit 3) when the token check needs the API and cannot reach it.
 */
export type LaneErrorCode = 'CREDENTIAL_VIOLATIONS' | 'COMMAND_NOT_FOUND' | 'BAD_USAGE' | 'GITHUB_UNREACHABLE';

const outcomes: Record<LaneErrorCode, ErrorOutcome> = {
  CREDENTIAL_VIOLATIONS: 'rejected',
  COMMAND_NOT_FOUND: 'usage',
  BAD_USAGE: 'usage',
  GITHUB_UNREACHABLE: 'environment',
};

export class LaneError extends DuallaneError<LaneErrorCode> {
  get outcome(): ErrorOutcome {
    return outcomes[this.code];
  }
}

/** One problem found while checking a lane's credentials; `code` is stable, `message` never holds a secret. */
export interface LaneFinding {
  code: string;
  message: string;
}
