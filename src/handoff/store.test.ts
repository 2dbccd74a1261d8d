import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../attest/index.js';
import { ContentStore } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'duallane-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ContentStore', () => {
  it('stores by sha256, write-once, and verifies on read', async () => {
    const store = new ContentStore(join(root, 's1'));
    const data = Buffer.from('hello patch\n');
    const a = await store.put(data);
    expect(a.digest).toBe(`sha256:${sha256Hex(data)}`);
    expect(a.path).toBe(join(root, 's1', 'sha256', sha256Hex(data)));
    const b = await store.put(data);
    expect(b.path).toBe(a.path);
    expect(readdirSync(join(root, 's1', 'sha256'))).toEqual([sha256Hex(data)]);
    expect((await store.get(a.digest)).equals(data)).toBe(true);
    expect(await store.has(a.digest)).toBe(true);
  });

  it('reports a tampered object instead of serving it, and refuses to overwrite it', async () => {
    const store = new ContentStore(join(root, 's2'));
    const data = Buffer.from('original');
    const { digest, path } = await store.put(data);
    chmodSync(path, 0o644);
    writeFileSync(path, 'tampered');
    await expect(store.get(digest)).rejects.toMatchObject({ code: 'ARTIFACT_TAMPERED' });
    await expect(store.put(data)).rejects.toMatchObject({ code: 'ARTIFACT_TAMPERED' });
  });

  it('rejects a bad digest and reports a missing object', async () => {
    const store = new ContentStore(join(root, 's3'));
    await expect(store.get('sha256:../../etc/passwd')).rejects.toMatchObject({ code: 'BAD_USAGE' });
    await expect(store.get(`sha256:${'a'.repeat(64)}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('never reads a device or FIFO put in place of an object (STORE_CORRUPT), and bounds what it reads', async () => {
    const store = new ContentStore(join(root, 's4'));
    const zero = await store.put(Buffer.from('zero'));
    rmSync(zero.path);
    symlinkSync('/dev/zero', zero.path);
    await expect(store.get(zero.digest)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    const fifo = await store.put(Buffer.from('fifo'));
    rmSync(fifo.path);
    execFileSync('mkfifo', [fifo.path]);
    await expect(store.get(fifo.digest)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    const big = await store.put(Buffer.alloc(4096, 1));
    await expect(store.get(big.digest, { maxBytes: 4095 })).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
  });
});
