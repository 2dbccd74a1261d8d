import { DuallaneError, type ErrorOutcome } from './duallane-error.js';

/**
 * Codes for reading duallane.yaml. All are usage errors (exit 2): the file is the user's input.
 * CONFIG_INVALID carries `details.errors: [{ file, line, col, path, message }]`.
 */
export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_UNREADABLE' | 'LANE_UNKNOWN';

export class ConfigError extends DuallaneError<ConfigErrorCode> {
  get outcome(): ErrorOutcome {
    return 'usage';
  }
}
