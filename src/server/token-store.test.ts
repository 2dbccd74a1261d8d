import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenStore } from './token-store.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function store(): TokenStore {
  const d = mkdtempSync(join(tmpdir(), 'duallane-tokens-'));
  dirs.push(d);
  return new TokenStore(join(d, 'server', 'tokens.json'));
}

describe('TokenStore', () => {
  it('stores only the sha256, mode 0600, and authenticates the token it issued', async () => {
    const s = store();
    const { token, record } = await s.create({ kind: 'lane', lane: 'codex' });
    expect(token).toMatch(/^dlt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    const text = readFileSync(s.file, 'utf8');
    expect(text).not.toContain(token.slice(4));
    expect(record.sha256).toBe(createHash('sha256').update(token).digest('hex'));
    expect(statSync(s.file).mode & 0o777).toBe(0o600);
    expect((await s.authenticate(token))?.id).toBe(record.id);
    expect(await s.authenticate(token + 'x')).toBeNull();
    expect(await s.authenticate('')).toBeNull();
    expect(await s.authenticate(record.sha256)).toBeNull();
  });

  it('tells tokens apart, revokes, and sees changes made by another process', async () => {
    const a = store();
    const t1 = await a.create({ kind: 'lane', lane: 'codex' });
    const t2 = await a.create({ kind: 'alerts' });
    expect((await a.authenticate(t2.token))).toMatchObject({ kind: 'alerts', lane: null });
    const b = new TokenStore(a.file);
    expect(await b.revoke(t1.record.id)).toBe(true);
    expect(await b.revoke(t1.record.id)).toBe(false);
    expect(await a.authenticate(t1.token)).toBeNull();
    expect(await a.authenticate(t2.token)).not.toBeNull();
  });

  it('refuses bad combinations and corrupt files with codes', async () => {
    const s = store();
    await expect(s.create({ kind: 'lane' })).rejects.toMatchObject({ code: 'BAD_USAGE' });
    await expect(s.create({ kind: 'alerts', lane: 'codex' })).rejects.toMatchObject({ code: 'BAD_USAGE' });
    expect(await s.list()).toEqual([]);
    await s.create({ kind: 'lane', lane: 'codex' });
    writeFileSync(s.file, '{"version":1,"tokens":[{"id":"x"}]}');
    await expect(s.authenticate('dlt_x')).rejects.toMatchObject({ code: 'TOKEN_STORE_CORRUPT', outcome: 'environment' });
    writeFileSync(s.file, 'not json');
    await expect(s.list()).rejects.toMatchObject({ code: 'TOKEN_STORE_CORRUPT' });
  });
});
