import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ServerError } from './server-error.js';

/**
 * API tokens, stored hashed. A token is shown once at creation and never stored: the file keeps its
 * sha256 with the lane it speaks for. Threats handled here:
 *  - a read of tokens.json (backup, mis-set permissions) reveals no usable token (hashes of 256-bit
 *    random values cannot be inverted or guessed);
 *  - comparison runs in constant time over every stored hash, so response timing says nothing about
 *    how much of a guess matched or which entry it was;
 *  - the file is written atomically with mode 0600 in a 0700 directory.
 * A token names a lane; the lane's kind (propose | execute) is read from duallane.yaml at request
 * time, so re-kinding or removing a lane in the config takes effect without re-issuing tokens.
 */
export const DEFAULT_TOKEN_FILE = '.duallane/server/tokens.json';

/** `lane`: acts for a configured lane. `alerts`: may only post Alertmanager webhooks. */
export type TokenKind = 'lane' | 'alerts';

export interface TokenRecord {
  id: string;
  kind: TokenKind;
  /** The lane a `lane` token acts for; null for `alerts` tokens. */
  lane: string | null;
  /** sha256 of the token, hex. */
  sha256: string;
  createdAt: string;
}

export interface IssuedToken {
  /** The secret itself: shown once, never stored. */
  token: string;
  record: TokenRecord;
}

/** The prefix makes leaked tokens recognisable to secret scanners and to our log scrubber. */
export const TOKEN_PREFIX = 'dlt_';
const TOKEN_BYTES = 32;

const recordSchema = z.strictObject({
  id: z.string().regex(/^tok_[0-9a-f]{16}$/),
  kind: z.enum(['lane', 'alerts']),
  lane: z.string().nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
});
const fileSchema = z.strictObject({ version: z.literal(1), tokens: z.array(recordSchema) });

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export class TokenStore {
  private cache: { mtimeMs: number; size: number; records: TokenRecord[] } | undefined;

  constructor(readonly file: string) {}

  /** Creates a token for `lane` (kind `lane`) or an alerts-only token, stores its hash, returns it once. */
  async create(opts: { kind: TokenKind; lane?: string; now?: Date }): Promise<IssuedToken> {
    if (opts.kind === 'lane' && !opts.lane) throw new ServerError('BAD_USAGE', 'a lane token needs --lane');
    if (opts.kind === 'alerts' && opts.lane) throw new ServerError('BAD_USAGE', 'an alerts token names no lane');
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    const record: TokenRecord = {
      id: `tok_${randomBytes(8).toString('hex')}`,
      kind: opts.kind,
      lane: opts.kind === 'lane' ? opts.lane! : null,
      sha256: sha256Hex(token),
      createdAt: (opts.now ?? new Date()).toISOString(),
    };
    const records = await this.list();
    await this.write([...records, record]);
    return { token, record };
  }

  /** Removes a token by id; false when there is none. */
  async revoke(id: string): Promise<boolean> {
    const records = await this.list();
    const kept = records.filter((r) => r.id !== id);
    if (kept.length === records.length) return false;
    await this.write(kept);
    return true;
  }

  /** Every stored record (hashes only). A missing file is an empty store. */
  async list(): Promise<TokenRecord[]> {
    let st;
    try {
      st = await stat(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ServerError('TOKEN_STORE_IO', `cannot read ${this.file}: ${(e as NodeJS.ErrnoException).code}`, { cause: e });
    }
    // Re-read when the file changed, so `serve token create` takes effect in a running server.
    if (this.cache && this.cache.mtimeMs === st.mtimeMs && this.cache.size === st.size) return this.cache.records;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      throw new ServerError('TOKEN_STORE_IO', `cannot read ${this.file}: ${(e as NodeJS.ErrnoException).code}`, { cause: e });
    }
    let parsed;
    try {
      parsed = fileSchema.safeParse(JSON.parse(text));
    } catch (e) {
      throw new ServerError('TOKEN_STORE_CORRUPT', `${this.file} is not JSON`, { cause: e });
    }
    if (!parsed.success) throw new ServerError('TOKEN_STORE_CORRUPT', `${this.file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.cache = { mtimeMs: st.mtimeMs, size: st.size, records: parsed.data.tokens };
    return parsed.data.tokens;
  }

  /**
   * The record whose hash matches `presented`, or null. Compares against every record with
   * timingSafeEqual and no early exit.
   */
  async authenticate(presented: string): Promise<TokenRecord | null> {
    const records = await this.list();
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: TokenRecord | null = null;
    for (const r of records) {
      const stored = Buffer.from(r.sha256, 'hex');
      if (stored.length === digest.length && timingSafeEqual(stored, digest) && found === null) found = r;
    }
    return found;
  }

  private async write(records: TokenRecord[]): Promise<void> {
    const dir = dirname(this.file);
    const tmp = join(dir, `.tokens.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify({ version: 1, tokens: records }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      await chmod(tmp, 0o600);
      await rename(tmp, this.file);
    } catch (e) {
      throw new ServerError('TOKEN_STORE_IO', `cannot write ${this.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    this.cache = undefined;
  }
}
