import { escapeControl, isDuallaneError, EXIT_CODES } from '../config/index.js';
import { pathErrorToInputError } from './cli-files.js';

/** Where command results go. Text for people, one JSON document for machines. */
export interface Printer {
  json: boolean;
  /** Print a result: `data` as JSON with --json, else the lines `text()` returns. */
  result(data: unknown, text: () => string | string[]): void;
  /** A progress or status line for people: stderr, suppressed in --json and when stderr is not a TTY. */
  info(line: string): void;
}

export function makePrinter(json: boolean): Printer {
  return {
    json,
    result(data, text) {
      if (json) {
        process.stdout.write(JSON.stringify(data, null, 2) + '\n');
      } else {
        const t = text();
        const out = Array.isArray(t) ? t.join('\n') : t;
        if (out.length > 0) process.stdout.write(out + '\n');
      }
    },
    info(line) {
      if (!json && process.stderr.isTTY) process.stderr.write(line + '\n');
    },
  };
}

/** True when a progress bar may be drawn: a TTY, not CI, not --json. */
export function progressAllowed(json: boolean): boolean {
  return !json && Boolean(process.stderr.isTTY) && !process.env.CI;
}

/**
 * The one top-level catch. Known errors print one line (code and message) and map to their exit
 * status; a file system error about a path (ENOENT, EISDIR, ENOTDIR, EACCES, ...) that escaped its
 * call site is the user's input (exit 2, INPUT_UNREADABLE or OUTPUT_UNWRITABLE); anything else is a
 * bug and exits 70 with its stack only under DUALLANE_DEBUG.
 */
export function reportError(thrown: unknown, json: boolean): number {
  const e = pathErrorToInputError(thrown) ?? thrown;
  if (isDuallaneError(e)) {
    const exit = EXIT_CODES[e.outcome];
    if (json) {
      process.stdout.write(
        JSON.stringify({ ok: false, error: { code: e.code, outcome: e.outcome, message: e.message, ...(e.details ? { details: e.details } : {}) } }, null, 2) + '\n',
      );
    }
    process.stderr.write(`duallane: ${e.code}: ${escapeControl(e.message)}\n`);
    if (process.env.DUALLANE_DEBUG && e.cause) process.stderr.write(`${String((e.cause as Error)?.stack ?? e.cause)}\n`);
    return exit;
  }
  const err = e as Error;
  process.stderr.write(`duallane: internal error: ${escapeControl(err?.message ?? String(e))}\n`);
  if (process.env.DUALLANE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  return 70;
}
