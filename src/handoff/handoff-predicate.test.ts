import { describe, expect, it } from 'vitest';
import { parseHandoffPredicate } from './handoff-predicate.js';

const good = {
  handoffId: '01JABCDEFGHJKMNPQRSTVWXYZ0',
  nonce: 'a'.repeat(64),
  proposerLane: 'codex',
  repository: 'file:///tmp/repo',
  baseCommit: 'b'.repeat(40),
  targetBranch: 'main',
  artifact: { digest: `sha256:${'c'.repeat(64)}`, size: 10, mediaType: 'text/x-patch' },
  changedPaths: [{ path: 'a.txt', status: 'modified', digest: `sha256:${'d'.repeat(64)}`, added: 1, removed: 1, binary: false, mode: '100644' }],
  title: 't',
  summary: '',
  createdAt: '2026-01-01T00:00:00Z',
  expiresAt: '2026-01-02T00:00:00Z',
};

describe('handoff predicate', () => {
  it('accepts a well-formed predicate', () => {
    expect(parseHandoffPredicate(good).ok).toBe(true);
  });
  it('returns every problem with its path', () => {
    const r = parseHandoffPredicate({ ...good, handoffId: 'not-a-ulid', nonce: 'x', extra: 1, changedPaths: [] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path).sort()).toEqual(['(root)', 'changedPaths', 'handoffId', 'nonce']);
  });
  it('rejects an expiry before creation', () => {
    const r = parseHandoffPredicate({ ...good, expiresAt: '2025-01-01T00:00:00Z' });
    expect(r.ok).toBe(false);
  });
});
