import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
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

/** Streams a file through SHA-256 in large chunks; memory stays flat whatever the file size. */
export async function digestFile(path: string, opts: DigestOptions = {}): Promise<string> {
  let total: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a regular file');
    total = st.size;
  } catch (cause) {
    throw new AttestError('INPUT_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  const hash = createHash('sha256');
  let done = 0;
  const stream = createReadStream(path, { highWaterMark: 4 * 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      opts.onProgress?.(done, total);
    }
  } catch (cause) {
    throw new AttestError('INPUT_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Constant-time comparison of two hex digests (with or without the `sha256:` prefix). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a.replace(/^sha256:/, '').toLowerCase(), 'utf8');
  const y = Buffer.from(b.replace(/^sha256:/, '').toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
