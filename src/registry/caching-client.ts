import { RegistryClient, type FetchedManifest, type RegistryClientOptions } from './oci-client.js';
import { isSha256Digest } from './reference.js';
import type { Descriptor } from './oci-types.js';

export interface CachingRegistryClientOptions extends RegistryClientOptions {
  /** Bytes of digest-addressed content kept (default 32 MiB). */
  maxCacheBytes?: number;
  /** How long a tag, referrers list or `.sig`/`.att` tag lookup is reused (default 5 s). */
  mutableTtlMs?: number;
}

/**
 * A RegistryClient that remembers what it read, for a verifier that asks the same registry the same
 * questions for several policies in a row. Content fetched by digest is immutable once its digest
 * was checked, so it is kept (bounded by bytes, oldest first). Answers that can change (a tag, the
 * referrers of a digest) are kept only for a few seconds, so a new signature is seen soon after it
 * is pushed. Errors are never cached. Concurrent identical reads share one request.
 */
export class CachingRegistryClient extends RegistryClient {
  private readonly immutable = new Map<string, { value: Buffer | FetchedManifest; bytes: number }>();
  private immutableBytes = 0;
  private readonly mutable = new Map<string, { value: Promise<unknown>; expires: number }>();
  private readonly maxBytes: number;
  private readonly ttlMs: number;

  constructor(opts: CachingRegistryClientOptions = {}) {
    super(opts);
    this.maxBytes = opts.maxCacheBytes ?? 32 * 1024 * 1024;
    this.ttlMs = opts.mutableTtlMs ?? 5000;
  }

  override async getBlob(registry: string, repo: string, digest: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    const key = `blob ${registry}/${repo}@${digest}`;
    const hit = this.immutable.get(key);
    if (hit && (opts.maxBytes === undefined || hit.bytes <= opts.maxBytes)) return hit.value as Buffer;
    const blob = await super.getBlob(registry, repo, digest, opts);
    this.keep(key, blob, blob.length);
    return blob;
  }

  override async getManifest(registry: string, repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    if (isSha256Digest(reference)) {
      const key = `manifest ${registry}/${repo}@${reference}`;
      const hit = this.immutable.get(key);
      if (hit) return hit.value as FetchedManifest;
      const m = await super.getManifest(registry, repo, reference, signal);
      this.keep(key, m, m.body.length);
      return m;
    }
    return this.shortLived(`manifest ${registry}/${repo}:${reference}`, () => super.getManifest(registry, repo, reference, signal));
  }

  override async referrers(registry: string, repo: string, digest: string, opts: { artifactType?: string; signal?: AbortSignal } = {}): Promise<Descriptor[]> {
    return this.shortLived(`referrers ${registry}/${repo}@${digest}#${opts.artifactType ?? ''}`, () => super.referrers(registry, repo, digest, opts));
  }

  private shortLived<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.mutable.get(key);
    if (hit && hit.expires > now) return hit.value as Promise<T>;
    const value = load();
    this.mutable.set(key, { value, expires: now + this.ttlMs });
    value.catch(() => this.mutable.delete(key));
    if (this.mutable.size > 10_000) {
      for (const [k, v] of this.mutable) if (v.expires <= now) this.mutable.delete(k);
      if (this.mutable.size > 10_000) this.mutable.clear();
    }
    return value;
  }

  private keep(key: string, value: Buffer | FetchedManifest, bytes: number): void {
    if (bytes > this.maxBytes / 4) return;
    this.immutable.set(key, { value, bytes });
    this.immutableBytes += bytes;
    for (const [k, v] of this.immutable) {
      if (this.immutableBytes <= this.maxBytes) break;
      this.immutable.delete(k);
      this.immutableBytes -= v.bytes;
    }
  }
}
