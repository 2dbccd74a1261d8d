/**
 * The base of every module's error class. A module defines one subclass with a fixed set of codes;
 * each code belongs to one of three outcomes that the CLI maps to an exit status:
 *   rejected    -> 1  (the input was understood and refused: a bad signature, a policy denial)
 *   usage       -> 2  (bad flags, unreadable or malformed input)
 *   environment -> 3  (database down, registry unreachable, network needed but absent)
 * Messages must never contain secrets; `cause` is kept for debugging but is not printed by the CLI.
 */
export type ErrorOutcome = 'rejected' | 'usage' | 'environment';

export abstract class DuallaneError<Code extends string = string> extends Error {
  readonly code: Code;
  abstract readonly outcome: ErrorOutcome;
  /** Extra, machine-readable facts for --json output (never secrets). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: Code, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details;
    this.name = new.target.name;
  }
}

export const EXIT_CODES: Record<ErrorOutcome, number> = { rejected: 1, usage: 2, environment: 3 };

export function isDuallaneError(e: unknown): e is DuallaneError {
  return e instanceof DuallaneError;
}

/** Input errors raised outside any domain module (CLI flags, files that cannot be read). */
export type InputErrorCode = 'BAD_USAGE' | 'INPUT_UNREADABLE' | 'INPUT_INVALID' | 'INPUT_TOO_LARGE' | 'OUTPUT_UNWRITABLE' | 'INIT_UNCOMMITTED' | 'ALREADY_EXISTS';
export class InputError extends DuallaneError<InputErrorCode> {
  readonly outcome = 'usage' as const;
}
