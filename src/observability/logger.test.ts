import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REDACTED, createLogger, scrubSecrets } from './logger.js';

const GH = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const PAT = 'github_pat_' + '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb2RleCIsImlzcyI6Imh0dHBzOi8vdG9rZW4ifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
const PEM = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkGx0mJ0Q1w5c7Yy3cV8q2aZ3kq\n-----END EC PRIVATE KEY-----';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, log: createLogger({ name: 'test', level: 'debug', destination: stream }) };
}

describe('createLogger redaction', () => {
  it('redacts credential fields at any of the usual depths', () => {
    const { lines, log } = capture();
    log.info({ token: GH, password: 'hunter2hunter2', lane: 'claude', headers: { authorization: `Bearer ${JWT}` } }, 'sync');
    log.info({ github: { token: 'plain-looking-value' }, req: { headers: { cookie: 'session=abc' } }, key: { privateKey: PEM } }, 'nested');
    const text = lines.join('\n');
    for (const secret of [GH, 'hunter2hunter2', JWT, 'plain-looking-value', 'session=abc', 'MHcCAQEEIBkGx0mJ0Q1w5c7Yy3cV8q2aZ3kq']) {
      expect(text).not.toContain(secret);
    }
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ token: REDACTED, password: REDACTED, lane: 'claude', component: 'test', msg: 'sync' });
  });

  it('scrubs secret-shaped values inside messages, errors and unexpected fields', () => {
    const { lines, log } = capture();
    log.warn(`push failed with ${GH} for https://x-access-token:${GH}@github.com/acme/widgets.git`);
    log.error({ err: new Error(`token ${PAT} rejected`), note: PEM, url: 'postgres://lane_claude:s3cretpass@127.0.0.1/duallane' }, 'failure');
    log.info({ oidc: JWT, slack: 'xoxb-123456789012-abcdefghij' }, 'identity');
    const text = lines.join('\n');
    for (const secret of [GH, PAT, 'MHcCAQEEIBkGx0mJ0Q1w5c7Yy3cV8q2aZ3kq', 's3cretpass', JWT, 'xoxb-123456789012-abcdefghij']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('postgres://lane_claude:[REDACTED]@127.0.0.1/duallane');
    expect(text).toContain('push failed with [REDACTED]');
  });

  it('leaves ordinary values alone (the redaction is not a blanket)', () => {
    expect(scrubSecrets('handoff 01HXYZ verified: sha256:abcdef0123456789 by codex')).toBe('handoff 01HXYZ verified: sha256:abcdef0123456789 by codex');
    const { lines, log } = capture();
    log.info({ lane: 'codex', digest: 'sha256:' + 'a'.repeat(64) }, 'ok');
    expect(JSON.parse(lines[0]!)).toMatchObject({ lane: 'codex', digest: 'sha256:' + 'a'.repeat(64) });
  });
});
