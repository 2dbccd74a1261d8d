import type { Printer } from './output.js';

/**
 * Ends a command that found problems (exit 1) after printing its full report: with --json the
 * report is the one JSON document on stdout; in text mode the lines go to stdout and one
 * `duallane: CODE: summary` line to stderr, like every other rejection.
 */
export function rejectWithReport(out: Printer, data: unknown, text: () => string[], code: string, summary: string): void {
  out.result(data, text);
  if (!out.json) process.stderr.write(`duallane: ${code}: ${summary}\n`);
  process.exitCode = 1;
}
