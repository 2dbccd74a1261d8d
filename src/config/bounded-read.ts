import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from './duallane-error.js';

export interface BoundedReadOptions {
  /** Largest accepted size in bytes; one byte more is INPUT_TOO_LARGE. */
  maxBytes: number;
  /** What the file is, for messages: `patch`, `bundle`, `policy` (default `file`). */
  what?: string;
}

const CHUNK = 64 * 1024;

/** `details.reason` of the INPUT_UNREADABLE thrown for a device, FIFO, socket or directory. */
export const NOT_REGULAR_FILE = 'NOT_REGULAR_FILE';

/**
 * Reads a whole input file in bounded memory. Every file a command takes from its caller (a patch,
 * bundle, artifact, predicate, batch list, policy, trusted root) is read here, because a path is
 * attacker-chosen: `/dev/zero` or a growing file must not fill memory, and a FIFO must not hang.
 *
 * - The file is opened non-blocking (a FIFO without a writer does not block the open) and checked
 *   with fstat on the open descriptor, so what is checked is what is read (no stat-then-open race).
 * - Anything but a regular file (device, FIFO, socket, directory) is INPUT_UNREADABLE, unread.
 * - At most maxBytes + 1 bytes are ever read: a file that is, or grows, larger is INPUT_TOO_LARGE.
 * Errors are InputError (usage, exit 2) with the code names attest uses: INPUT_UNREADABLE, INPUT_TOO_LARGE.
 */
export async function readBoundedFile(path: string, opts: BoundedReadOptions): Promise<Buffer> {
  const what = opts.what ?? 'file';
  const max = opts.maxBytes;
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (cause) {
    throw new InputError('INPUT_UNREADABLE', `cannot read ${what} ${path}: ${errCode(cause)}`, { cause });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputError('INPUT_UNREADABLE', `${what} ${path} is not a regular file`, { details: { reason: NOT_REGULAR_FILE } });
    if (st.size > max) throw new InputError('INPUT_TOO_LARGE', `${what} ${path} is ${st.size} bytes; the limit is ${max}`, { details: { limit: max } });
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(CHUNK, max + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) throw new InputError('INPUT_TOO_LARGE', `${what} ${path} is larger than ${max} bytes`, { details: { limit: max } });
    }
    return Buffer.concat(chunks, total);
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError('INPUT_UNREADABLE', `cannot read ${what} ${path}: ${errCode(cause)}`, { cause });
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** The same, decoded as UTF-8 text. */
export async function readBoundedText(path: string, opts: BoundedReadOptions): Promise<string> {
  return (await readBoundedFile(path, opts)).toString('utf8');
}

function errCode(cause: unknown): string {
  return (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
}
