import { DuallaneError, type ErrorOutcome } from './duallane-error.js';

/**
 * Codes for reading duallane.yaml. All are usage errors (exit 2): the file is the user's input.
 * CONFIG_INVALID carries `details.errors: [{ file, line, col, path, message }]`. NOT_INITIALIZED:
 * the file is required (`requireFile`) and the directory has none.
 */
export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_UNREADABLE' | 'NOT_INITIALIZED' | 'LANE_UNKNOWN';

export class ConfigError extends DuallaneError<ConfigErrorCode> {
  get outcome(): ErrorOutcome {
    return 'usage';
  }
}
