import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HandoffError } from '../handoff/index.js';
import { LedgerError } from '../ledger/index.js';
import { httpStatusOf } from './http-status.js';
import { parseDuration, parseHandoffId } from './request-schemas.js';
import { ServerError } from './server-error.js';
import { escapeHtml, PAGE_CSP, renderHandoffPage } from './web-page.js';
import type { HandoffView } from './handoff-view.js';

const view = (over: Partial<HandoffView>): HandoffView => ({
  id: '01J00000000000000000000000',
  state: 'pr_opened',
  verification: 'verified',
  proposerLane: 'codex',
  executorLane: 'claude',
  title: 't',
  statementDigest: 'sha256:' + 'a'.repeat(64),
  artifactDigest: 'sha256:' + 'b'.repeat(64),
  bundleDigest: 'sha256:' + 'c'.repeat(64),
  artifactPath: '/x/a',
  bundlePath: '/x/b',
  appliedBundlePath: null,
  baseCommit: 'd'.repeat(40),
  targetBranch: 'main',
  branch: 'lane/claude/x',
  commit: 'e'.repeat(40),
  pr: { number: 7, url: 'https://github.com/o/r/pull/7', forge: 'github', labels: [] },
  rejectReason: null,
  expiresAt: '2026-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('web page', () => {
  it('escapes every character that can open markup or leave an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
  });

  it('renders attacker-controlled fields inert and links only http(s) URLs', () => {
    const html = renderHandoffPage({
      handoffs: [view({ title: '<script>alert(1)</script>', branch: '"><img src=x>' }), view({ id: '01J00000000000000000000001', pr: { number: 8, url: 'javascript:alert(1)', forge: 'x', labels: [] } })],
      alerts: [],
      viewer: 'codex',
      now: new Date(0),
    });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<a href="https://github.com/o/r/pull/7"');
    expect(html).not.toContain('href="javascript:');
    expect(html).not.toMatch(/<script/i);
  });

  it('the CSP admits exactly the page stylesheet by hash', () => {
    const html = renderHandoffPage({ handoffs: [], alerts: [], viewer: 'codex', now: new Date(0) });
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(PAGE_CSP).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(PAGE_CSP).toMatch(/^default-src 'none'/);
    expect(PAGE_CSP).not.toContain('unsafe');
  });
});

describe('error statuses and request parsing', () => {
  it('maps outcomes and codes to HTTP statuses', () => {
    expect(httpStatusOf(new ServerError('UNAUTHENTICATED', ''))).toBe(401);
    expect(httpStatusOf(new ServerError('FORBIDDEN', ''))).toBe(403);
    expect(httpStatusOf(new HandoffError('REPLAY', ''))).toBe(409);
    expect(httpStatusOf(new LedgerError('STATE_CONFLICT', ''))).toBe(409);
    expect(httpStatusOf(new HandoffError('SCOPE_VIOLATION', ''))).toBe(422);
    expect(httpStatusOf(new HandoffError('NOT_FOUND', ''))).toBe(404);
    expect(httpStatusOf(new HandoffError('INPUT_TOO_LARGE', ''))).toBe(413);
    expect(httpStatusOf(new HandoffError('BAD_USAGE', ''))).toBe(400);
    expect(httpStatusOf(new LedgerError('DB_UNAVAILABLE', ''))).toBe(503);
    expect(httpStatusOf(new ServerError('INTERNAL', ''))).toBe(500);
  });

  it('parses durations and ULIDs strictly', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('0h')).toBeNull();
    expect(parseDuration('1w')).toBeNull();
    expect(parseHandoffId('01J00000000000000000000000')).toBe('01J00000000000000000000000');
    for (const bad of ['01j00000000000000000000000', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ', '01J0000000000000000000000I', '01J000', 42]) {
      expect(() => parseHandoffId(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ID' }));
    }
  });
});
