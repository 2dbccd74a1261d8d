import { createHash, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { AttestError } from './attest-error.js';

export interface DigestOptions {
  /** Called with (bytesRead, totalBytes) as the file streams; for progress bars. */
  onProgress?: (done: number, total: number) => void;
}

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

/** `sha256:` followed by 64 lowercase hex digits (the Sigstore conformance CLI's digest form). */
export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const CHUNK = 2 * 1024 * 1024;

/**
 * Streams a file through SHA-256 with two reusable 2 MiB buffers: the next read runs on the thread
 * pool while the current chunk is hashed, so I/O and hashing overlap and memory stays flat
 * (no per-chunk allocation) whatever the file size.
 */
export async function digestFile(path: string, opts: DigestOptions = {}): Promise<string> {
  let fh;
  let total: number;
  try {
    // Non-blocking: opening a FIFO without a writer must not hang (it is refused below, unread).
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    total = st.size;
  } catch (cause) {
    await fh?.close();
    throw new AttestError('INPUT_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  const hash = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] as const;
  let done = 0;
  let turn = 0;
  try {
    let pending = fh.read(buffers[0], 0, CHUNK, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const current = buffers[turn]!;
      turn ^= 1;
      pending = fh.read(buffers[turn]!, 0, CHUNK, null);
      hash.update(bytesRead === CHUNK ? current : current.subarray(0, bytesRead));
      done += bytesRead;
      opts.onProgress?.(done, total);
    }
  } catch (cause) {
    throw new AttestError('INPUT_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  } finally {
    await fh.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Constant-time comparison of two hex digests (with or without the `sha256:` prefix). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a.replace(/^sha256:/, '').toLowerCase(), 'utf8');
  const y = Buffer.from(b.replace(/^sha256:/, '').toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
