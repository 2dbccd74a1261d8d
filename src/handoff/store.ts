import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, NOT_REGULAR_FILE, readBoundedFile } from '../config/index.js';
import { HandoffError } from './handoff-error.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** The default store directory, relative to the config root. */
export const DEFAULT_STORE_DIR = '.duallane/store';

/**
 * A content-addressed, write-once store: `<root>/sha256/<hex>`. Objects are named by the sha256 of
 * their bytes, written through a temporary file and renamed (never partially visible), made
 * read-only, and re-hashed on every read: a file edited on disk is reported, never served.
 */
export class ContentStore {
  constructor(readonly root: string) {}

  pathOf(digest: string): string {
    return join(this.root, 'sha256', hexOf(digest));
  }

  /** Stores bytes; returns their digest and path. Storing the same bytes again is a no-op. */
  async put(data: Buffer): Promise<{ digest: string; path: string; size: number }> {
    const hex = createHash('sha256').update(data).digest('hex');
    const digest = `sha256:${hex}`;
    const dir = join(this.root, 'sha256');
    const path = join(dir, hex);
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      if (await exists(path)) {
        await this.get(digest); // an existing object must be intact; a corrupt one is not silently kept
        return { digest, path, size: data.length };
      }
      const tmp = join(dir, `.tmp-${hex.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await chmod(tmp, 0o444);
      await rename(tmp, path).catch(async (e) => {
        await rm(tmp, { force: true });
        throw e;
      });
    } catch (cause) {
      if (cause instanceof HandoffError) throw cause;
      throw new HandoffError('STORE_IO', `cannot write store object ${digest}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
    }
    return { digest, path, size: data.length };
  }

  /**
   * Reads an object and checks its bytes still hash to its name. The only way the handoff reads a
   * stored bundle or artifact: by digest, never by a path from a ledger row (a propose lane writes its
   * rows, and could name /dev/zero or a FIFO). At most maxBytes are read; an object that is not a
   * regular file (a device or FIFO swapped in) is STORE_CORRUPT, unread.
   */
  async get(digest: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
    const path = this.pathOf(digest);
    const max = opts.maxBytes ?? 64 * 1024 * 1024;
    let data: Buffer;
    try {
      data = await readBoundedFile(path, { maxBytes: max, what: 'store object' });
    } catch (e) {
      const cause = e instanceof InputError ? (e.cause ?? e) : e;
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new HandoffError('NOT_FOUND', `no object ${digest} in the store`, { cause });
      if (e instanceof InputError && e.code === 'INPUT_TOO_LARGE') throw new HandoffError('INPUT_TOO_LARGE', `store object ${digest} is larger than ${max} bytes`, { cause: e });
      if (e instanceof InputError && e.details?.reason === NOT_REGULAR_FILE) throw new HandoffError('STORE_CORRUPT', `store object ${digest} is not a regular file`, { cause: e });
      throw new HandoffError('STORE_IO', `cannot read store object ${digest}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
    }
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== hexOf(digest)) {
      throw new HandoffError('ARTIFACT_TAMPERED', `store object ${digest} hashes to sha256:${actual}, not its name`, { details: { expected: digest, actual: `sha256:${actual}` } });
    }
    return data;
  }

  async has(digest: string): Promise<boolean> {
    return exists(this.pathOf(digest));
  }
}

/** True for a `sha256:<64 hex>` digest, the only names the store answers to. */
export function isStoreDigest(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('sha256:') && HEX64.test(value.slice(7));
}

function hexOf(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : digest;
  if (!HEX64.test(hex)) throw new HandoffError('BAD_USAGE', `not a sha256 digest: ${JSON.stringify(digest.slice(0, 80))}`);
  return hex;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
