export { DuallaneError, InputError, EXIT_CODES, isDuallaneError } from './duallane-error.js';
export type { ErrorOutcome, InputErrorCode } from './duallane-error.js';
