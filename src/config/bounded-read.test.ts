import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NOT_REGULAR_FILE, readBoundedFile } from './bounded-read.js';

const root = mkdtempSync(join(tmpdir(), 'duallane-bounded-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('readBoundedFile', () => {
  it('reads a regular file up to and including the limit', async () => {
    const f = join(root, 'ok');
    writeFileSync(f, Buffer.alloc(200_000, 7));
    expect((await readBoundedFile(f, { maxBytes: 200_000 })).equals(Buffer.alloc(200_000, 7))).toBe(true);
    writeFileSync(join(root, 'empty'), '');
    expect((await readBoundedFile(join(root, 'empty'), { maxBytes: 0 })).length).toBe(0);
  });

  it('refuses one byte past the limit, a sparse giant unread', async () => {
    const f = join(root, 'big');
    writeFileSync(f, Buffer.alloc(1001));
    await expect(readBoundedFile(f, { maxBytes: 1000 })).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
    const sparse = join(root, 'sparse');
    writeFileSync(sparse, '');
    truncateSync(sparse, 8 * 1024 * 1024 * 1024);
    await expect(readBoundedFile(sparse, { maxBytes: 1024 })).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
  });

  it('refuses devices, FIFOs and directories without reading or blocking; a missing file is INPUT_UNREADABLE', async () => {
    const fifo = join(root, 'fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(root, 'dir'));
    for (const p of ['/dev/zero', '/dev/urandom', fifo, join(root, 'dir')]) {
      await expect(readBoundedFile(p, { maxBytes: 1024 }), p).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', details: { reason: NOT_REGULAR_FILE } });
    }
    await expect(readBoundedFile(join(root, 'missing'), { maxBytes: 1024 })).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', cause: { code: 'ENOENT' } });
  });
});
