import type { HandoffPredicate } from './handoff-predicate.js';

/**
 * The message of a handoff's commit: the title, the summary, then the trailers as the last
 * paragraph. git's trailer parser (`git interpret-trailers --parse`, `%(trailers)`) reads only the
 * last paragraph before the first `---` divider line, so a summary could hide the real trailers and
 * forge its own by containing such a line: every summary line that begins with `---` is indented by
 * one space. Title and summary were validated (no CR, no control characters; the title one line).
 */
export function commitMessage(p: Pick<HandoffPredicate, 'title' | 'summary' | 'proposerLane'>, h: { id: string; statementDigest: string }): string {
  const summary = p.summary
    .trim()
    .split('\n')
    .map((line) => (line.startsWith('---') ? ` ${line}` : line))
    .join('\n');
  return [
    p.title,
    '',
    ...(summary ? [summary, ''] : []),
    `Handoff-Id: ${h.id}`,
    `Handoff-Statement-Digest: ${h.statementDigest}`,
    `Proposed-By-Lane: ${p.proposerLane}`,
    '',
  ].join('\n');
}
