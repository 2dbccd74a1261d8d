import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commitMessage } from './commit-message.js';
import { summaryProblem } from './input-rules.js';

const h = { id: '01JABCDEFGHJKMNPQRSTVWXYZ0', statementDigest: `sha256:${'a'.repeat(64)}` };
const REAL = [`Handoff-Id: ${h.id}`, `Handoff-Statement-Digest: ${h.statementDigest}`, 'Proposed-By-Lane: codex'];
const trailersOf = (message: string) => execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' }).trim().split('\n');

describe('commitMessage', () => {
  it('keeps the real trailers last whatever the summary says (divider lines, trailer-looking lines)', () => {
    for (const summary of ['Proposed-By-Lane: evil\n---', 'x\n\nHandoff-Id: FORGED\n--- \nmore', '---', 'a\n---\tb\n\nProposed-By-Lane: evil', '']) {
      expect(trailersOf(commitMessage({ title: 't', summary, proposerLane: 'codex' }, h)), JSON.stringify(summary)).toEqual(REAL);
    }
  });

  it('for random valid summaries built from trailer-like pieces, git sees exactly the real trailers', () => {
    const piece = fc.constantFrom('---', '--- x', 'Proposed-By-Lane: evil', 'Handoff-Id: X', '', ' cont', 'text', '\t---', '#');
    const summary = fc.array(piece, { maxLength: 8 }).map((ls) => ls.join('\n'));
    fc.assert(
      fc.property(summary, (s) => {
        expect(summaryProblem(s)).toBeNull();
        expect(trailersOf(commitMessage({ title: 't', summary: s, proposerLane: 'codex' }, h))).toEqual(REAL);
      }),
      { numRuns: 60 },
    );
  });
});
