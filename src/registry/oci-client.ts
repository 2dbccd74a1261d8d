import { createHash, timingSafeEqual } from 'node:crypto';
import { RegistryError } from './registry-error.js';
import { digestTag, isSha256Digest } from './reference.js';
import { accessKey, parseBearerChallenge, TokenCache, type BearerChallenge } from './registry-auth.js';
import { loadDockerCredentials, redactSecrets, secretsOf, type RegistryCredential, type RegistryCredentials } from './docker-config.js';
import {
  MANIFEST_ACCEPT,
  MEDIA_TYPES,
  imageIndexSchema,
  type Descriptor,
  type ImageIndex,
} from './oci-types.js';

export interface RegistryClientOptions {
  /** Bound on every single registry call, body included (default 10 s). */
  timeoutMs?: number;
  /** `host[:port]` values spoken to over plain HTTP; every other registry is HTTPS only. */
  insecureRegistries?: readonly string[];
  /** Largest manifest or index read (default 4 MiB). */
  maxManifestBytes?: number;
  /** Largest blob read (default 64 MiB). */
  maxBlobBytes?: number;
  /**
   * Credentials per registry host (`host[:port]`, Docker Hub as `docker.io`), sent only to that host
   * and its token realm. Absent: read from the Docker config file (see docker-config.ts); pass `{}`
   * for none.
   */
  credentials?: RegistryCredentials;
  fetch?: typeof fetch;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
}

interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: Buffer;
  maxBytes?: number;
  /** Absolute URL (an upload Location) instead of a path under /v2/. */
  url?: string;
  signal?: AbortSignal;
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  url: string;
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Constant-time digest comparison; an attacker must not learn a prefix of the expected digest. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A minimal OCI distribution-spec client: monolithic blob upload, manifests by tag or digest,
 * tag listing and the referrers API with the tag-schema fallback. Every call is bounded by a
 * timeout, every read by a size limit, and every manifest or blob fetched is checked against its
 * digest before anyone sees it. No state beyond options: safe to share.
 */
export class RegistryClient {
  private readonly opts: Required<Omit<RegistryClientOptions, 'credentials'>> & Pick<RegistryClientOptions, 'credentials'>;
  private readonly tokens = new TokenCache();
  /** Every secret the client holds, so that no error message can carry one. */
  private readonly secrets: string[];

  constructor(opts: RegistryClientOptions = {}) {
    this.opts = {
      timeoutMs: opts.timeoutMs ?? 10_000,
      insecureRegistries: opts.insecureRegistries ?? [],
      maxManifestBytes: opts.maxManifestBytes ?? 4 * 1024 * 1024,
      maxBlobBytes: opts.maxBlobBytes ?? 64 * 1024 * 1024,
      fetch: opts.fetch ?? globalThis.fetch,
      credentials: opts.credentials ?? loadDockerCredentials(),
    };
    this.secrets = secretsOf(this.opts.credentials);
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  baseUrl(registry: string): string {
    const scheme = this.opts.insecureRegistries.includes(registry) ? 'http' : 'https';
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    return `${scheme}://${host}`;
  }

  /** True when the registry answers `GET /v2/` at all (200 or 401). */
  async ping(registry: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const r = await this.request(registry, '/v2/', { method: 'GET', maxBytes: 64 * 1024, signal });
      return r.status === 200 || r.status === 401;
    } catch (e) {
      if (e instanceof RegistryError && (e.code === 'UNREACHABLE' || e.code === 'TIMEOUT')) return false;
      if (e instanceof RegistryError && e.code === 'UNAUTHORIZED') return true;
      throw e;
    }
  }

  async blobExists(registry: string, repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const r = await this.request(registry, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD', signal });
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    throw this.statusError(r, `HEAD blob ${digest}`);
  }

  /** Monolithic upload (POST then PUT ?digest=). Skips the upload when the blob already exists. */
  async pushBlob(registry: string, repo: string, data: Buffer, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
    const digest = sha256Digest(data);
    if (await this.blobExists(registry, repo, digest, signal)) return { digest, size: data.length };
    const start = await this.request(registry, `/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' }, signal });
    if (start.status !== 202) throw this.statusError(start, 'start blob upload');
    const location = start.headers.get('location');
    if (!location) throw new RegistryError('PROTOCOL_ERROR', 'blob upload started without a Location header');
    const url = new URL(location, this.baseUrl(registry) + '/');
    if (url.origin !== new URL(this.baseUrl(registry)).origin) {
      throw new RegistryError('PROTOCOL_ERROR', `registry redirected the upload to another origin (${url.origin})`);
    }
    url.searchParams.set('digest', digest);
    const put = await this.request(registry, '', {
      method: 'PUT',
      url: url.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
      signal,
    });
    if (put.status !== 201) throw this.statusError(put, `upload blob ${digest}`);
    const echoed = put.headers.get('docker-content-digest');
    if (echoed && !sameDigest(echoed, digest)) throw new RegistryError('DIGEST_MISMATCH', `registry stored blob as ${echoed}, expected ${digest}`);
    return { digest, size: data.length };
  }

  /** Reads a blob, refusing more than `maxBytes` and content that does not hash to `digest`. */
  async getBlob(registry: string, repo: string, digest: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    if (!isSha256Digest(digest)) throw new RegistryError('MANIFEST_INVALID', `not a sha256 digest: ${digest.slice(0, 80)}`);
    const r = await this.request(registry, `/v2/${repo}/blobs/${digest}`, {
      method: 'GET',
      maxBytes: opts.maxBytes ?? this.opts.maxBlobBytes,
      signal: opts.signal,
    });
    if (r.status !== 200) throw this.statusError(r, `GET blob ${digest}`);
    const actual = sha256Digest(r.body);
    if (!sameDigest(actual, digest)) throw new RegistryError('DIGEST_MISMATCH', `blob ${digest} has content ${actual}`);
    return r.body;
  }

  /**
   * Fetches a manifest by tag or digest. By digest, the content must hash to it; by tag, the digest
   * is computed from the content and a Docker-Content-Digest header, when sent, must agree.
   */
  async getManifest(registry: string, repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const r = await this.request(registry, `/v2/${repo}/manifests/${reference}`, {
      method: 'GET',
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      maxBytes: this.opts.maxManifestBytes,
      signal,
    });
    if (r.status !== 200) throw this.statusError(r, `GET manifest ${repo}:${reference}`);
    const digest = sha256Digest(r.body);
    if (isSha256Digest(reference) && !sameDigest(digest, reference)) {
      throw new RegistryError('DIGEST_MISMATCH', `manifest ${reference} has content ${digest}`);
    }
    const echoed = r.headers.get('docker-content-digest');
    if (echoed && !sameDigest(echoed, digest)) throw new RegistryError('DIGEST_MISMATCH', `registry says ${echoed}, content is ${digest}`);
    let mediaType = (r.headers.get('content-type') ?? '').split(';')[0]!.trim();
    try {
      const parsed = JSON.parse(r.body.toString('utf8')) as { mediaType?: unknown };
      if (typeof parsed.mediaType === 'string') mediaType = parsed.mediaType;
    } catch (cause) {
      throw new RegistryError('MANIFEST_INVALID', `manifest ${repo}:${reference} is not JSON`, { cause });
    }
    return { digest, mediaType, body: r.body };
  }

  /** Resolves a tag (or digest) to the manifest digest, verified against the content. */
  async resolve(registry: string, repo: string, reference: string, signal?: AbortSignal): Promise<string> {
    return (await this.getManifest(registry, repo, reference, signal)).digest;
  }

  /** PUTs a manifest; returns its digest and whether the registry processed `subject` (OCI-Subject). */
  async putManifest(
    registry: string,
    repo: string,
    reference: string,
    body: Buffer,
    mediaType: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string; subjectAccepted: boolean }> {
    const digest = sha256Digest(body);
    if (isSha256Digest(reference) && !sameDigest(reference, digest)) {
      throw new RegistryError('DIGEST_MISMATCH', `manifest content is ${digest}, not ${reference}`);
    }
    const r = await this.request(registry, `/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType, 'content-length': String(body.length) },
      body,
      signal,
    });
    if (r.status !== 201) throw this.statusError(r, `PUT manifest ${repo}:${reference}`);
    const echoed = r.headers.get('docker-content-digest');
    if (echoed && !sameDigest(echoed, digest)) throw new RegistryError('DIGEST_MISMATCH', `registry stored manifest as ${echoed}, expected ${digest}`);
    return { digest, subjectAccepted: r.headers.has('oci-subject') };
  }

  /** Lists tags, following `Link` pagination for at most `maxPages` pages. */
  async listTags(registry: string, repo: string, opts: { maxPages?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list`;
    for (let page = 0; path && page < (opts.maxPages ?? 20); page++) {
      const r = await this.request(registry, path, { method: 'GET', maxBytes: this.opts.maxManifestBytes, signal: opts.signal });
      if (r.status === 404) return tags;
      if (r.status !== 200) throw this.statusError(r, `list tags of ${repo}`);
      const json = parseJson(r.body, `tag list of ${repo}`) as { tags?: unknown };
      if (json.tags !== null && json.tags !== undefined) {
        if (!Array.isArray(json.tags) || !json.tags.every((t) => typeof t === 'string')) {
          throw new RegistryError('MANIFEST_INVALID', `tag list of ${repo} is malformed`);
        }
        tags.push(...(json.tags as string[]));
      }
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(r.headers.get('link') ?? '')?.[1];
      path = next && next.startsWith('/v2/') ? next : undefined;
    }
    return tags;
  }

  /**
   * Manifests that name `digest` as their subject: the referrers API first; when the registry does
   * not implement it (404), the referrers tag schema `sha256-<hex>`. Filtered by `artifactType`.
   */
  async referrers(registry: string, repo: string, digest: string, opts: { artifactType?: string; signal?: AbortSignal } = {}): Promise<Descriptor[]> {
    const q = opts.artifactType ? `?artifactType=${encodeURIComponent(opts.artifactType)}` : '';
    const r = await this.request(registry, `/v2/${repo}/referrers/${digest}${q}`, {
      method: 'GET',
      headers: { accept: MEDIA_TYPES.ociIndex },
      maxBytes: this.opts.maxManifestBytes,
      signal: opts.signal,
    });
    let index: ImageIndex | undefined;
    if (r.status === 200) {
      index = parseIndex(r.body, `referrers of ${digest}`);
    } else if (r.status === 404) {
      index = await this.referrersFromTag(registry, repo, digest, opts.signal);
    } else {
      throw this.statusError(r, `referrers of ${digest}`);
    }
    const all = index?.manifests ?? [];
    return opts.artifactType ? all.filter((d) => d.artifactType === opts.artifactType) : all;
  }

  private async referrersFromTag(registry: string, repo: string, digest: string, signal?: AbortSignal): Promise<ImageIndex | undefined> {
    try {
      const m = await this.getManifest(registry, repo, digestTag(digest), signal);
      return parseIndex(m.body, `referrers tag of ${digest}`);
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /**
   * Pushes an artifact manifest whose `subject` is `subjectDigest` and makes it discoverable: if the
   * registry did not process the subject (no OCI-Subject header), the referrers tag index is
   * updated as the distribution spec's fallback says.
   */
  async pushReferrer(
    registry: string,
    repo: string,
    manifest: { body: Buffer; mediaType: string; artifactType: string; annotations?: Record<string, string> },
    subjectDigest: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string }> {
    const digest = sha256Digest(manifest.body);
    const put = await this.putManifest(registry, repo, digest, manifest.body, manifest.mediaType, signal);
    if (put.subjectAccepted) return { digest };
    const tag = digestTag(subjectDigest);
    const existing = (await this.referrersFromTag(registry, repo, subjectDigest, signal))?.manifests ?? [];
    if (existing.some((d) => sameDigest(d.digest, digest))) return { digest };
    const entry: Descriptor = { mediaType: manifest.mediaType, digest, size: manifest.body.length, artifactType: manifest.artifactType };
    if (manifest.annotations) entry.annotations = manifest.annotations;
    const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [...existing, entry] };
    await this.putManifest(registry, repo, tag, Buffer.from(JSON.stringify(index)), MEDIA_TYPES.ociIndex, signal);
    return { digest };
  }

  private async request(registry: string, path: string, spec: RequestSpec): Promise<RawResponse> {
    const url = spec.url ?? this.baseUrl(registry) + path;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = spec.signal ? AbortSignal.any([timeout, spec.signal]) : timeout;
    const key = accessKey(registry, url, spec.method);
    const send = async (authorization: string | undefined): Promise<Response> => {
      const headers: Record<string, string> = { 'user-agent': 'duallane', ...spec.headers };
      if (authorization) headers.authorization = authorization;
      try {
        return await this.opts.fetch(url, { method: spec.method, headers, body: spec.body ? new Uint8Array(spec.body) : undefined, signal, redirect: 'follow' });
      } catch (cause) {
        throw this.transportError(cause, registry, signal);
      }
    };
    const cred = this.credentialFor(registry);
    const cached = cred?.registryToken ?? this.tokens.get(key);
    let res = await send(cached ? `Bearer ${cached}` : this.basicAuth(registry));
    if (res.status === 401) {
      const challenge = parseBearerChallenge(res.headers.get('www-authenticate'));
      await res.body?.cancel().catch(() => undefined);
      if (challenge && !cred?.registryToken) {
        const token = await this.fetchToken(registry, challenge, key, signal);
        res = await send(`Bearer ${token}`);
      }
    }
    let body: Buffer = Buffer.alloc(0);
    try {
      if (spec.method !== 'HEAD' && spec.maxBytes !== undefined && (res.ok || res.status === 404)) {
        body = await readLimited(res, spec.maxBytes, url);
      } else {
        await res.body?.cancel().catch(() => undefined);
      }
    } catch (cause) {
      if (cause instanceof RegistryError) throw cause;
      throw this.transportError(cause, registry, signal);
    }
    if (res.status === 401 || res.status === 403) throw new RegistryError('UNAUTHORIZED', `${registry} refused access (${res.status}) to ${path || url}`);
    return { status: res.status, headers: res.headers, body, url };
  }

  private credentialFor(registry: string): RegistryCredential | undefined {
    const creds = this.opts.credentials ?? {};
    return Object.prototype.hasOwnProperty.call(creds, registry) ? creds[registry] : undefined;
  }

  private basicAuth(registry: string): string | undefined {
    const cred = this.credentialFor(registry);
    return cred?.password !== undefined ? `Basic ${Buffer.from(`${cred.username ?? ''}:${cred.password}`).toString('base64')}` : undefined;
  }

  /**
   * The OAuth2 refresh-token grant (docker's identity token): POST to the realm, as docker and
   * go-containerregistry do. Undefined when the token service does not implement it (404), so the
   * caller falls back to the GET form.
   */
  private async oauthToken(registry: string, realm: URL, challenge: BearerChallenge, refreshToken: string, signal: AbortSignal): Promise<Response | undefined> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'duallane' });
    if (challenge.service) form.set('service', challenge.service);
    if (challenge.scope) form.set('scope', challenge.scope);
    const url = new URL(realm);
    url.search = '';
    let res: Response;
    try {
      res = await this.opts.fetch(url, { method: 'POST', headers: { 'user-agent': 'duallane', 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), signal, redirect: 'error' });
    } catch (cause) {
      throw this.transportError(cause, registry, signal);
    }
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    return res;
  }

  /** Token from the challenge's realm; the realm must be https unless the registry is marked insecure. */
  private async fetchToken(registry: string, challenge: BearerChallenge, key: string, signal: AbortSignal): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch (cause) {
      throw new RegistryError('UNAUTHORIZED', `${registry} sent an unusable token realm`, { cause });
    }
    const insecureOk = this.opts.insecureRegistries.includes(registry);
    if (realm.protocol !== 'https:' && !(insecureOk && realm.protocol === 'http:')) {
      throw new RegistryError('UNAUTHORIZED', `${registry} points to a non-https token realm (${realm.protocol})`);
    }
    if (realm.username || realm.password) throw new RegistryError('UNAUTHORIZED', `${registry} sent a token realm with embedded credentials`);
    if (challenge.service) realm.searchParams.set('service', challenge.service);
    if (challenge.scope) realm.searchParams.set('scope', challenge.scope);
    const identityToken = this.credentialFor(registry)?.identityToken;
    let res = identityToken ? await this.oauthToken(registry, realm, challenge, identityToken, signal) : undefined;
    if (!res) {
      const headers: Record<string, string> = { 'user-agent': 'duallane' };
      const basic = this.basicAuth(registry);
      if (basic) headers.authorization = basic;
      try {
        res = await this.opts.fetch(realm, { headers, signal, redirect: 'error' });
      } catch (cause) {
        throw this.transportError(cause, registry, signal);
      }
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new RegistryError('UNAUTHORIZED', `token service of ${registry} answered HTTP ${res.status}`);
    }
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = JSON.parse((await readLimited(res, 64 * 1024, realm.origin)).toString('utf8')) as typeof json;
    } catch (cause) {
      if (cause instanceof RegistryError) throw cause;
      throw new RegistryError('UNAUTHORIZED', `token service of ${registry} sent no JSON`, { cause });
    }
    const token = typeof json.token === 'string' ? json.token : typeof json.access_token === 'string' ? json.access_token : undefined;
    if (!token || token.length > 16 * 1024 || /[\r\n]/.test(token)) throw new RegistryError('UNAUTHORIZED', `token service of ${registry} sent no usable token`);
    this.tokens.set(key, token, typeof json.expires_in === 'number' ? json.expires_in : 60);
    return token;
  }

  private transportError(cause: unknown, registry: string, signal: AbortSignal): RegistryError {
    if (signal.aborted) {
      return new RegistryError('TIMEOUT', `registry ${registry} did not answer within ${this.opts.timeoutMs} ms`);
    }
    // The cause is dropped on purpose: a transport error can echo request details, and requests carry credentials.
    return new RegistryError('UNREACHABLE', `cannot reach registry ${registry}: ${redactSecrets((cause as Error)?.message ?? String(cause), this.secrets)}`);
  }

  private statusError(r: RawResponse, what: string): RegistryError {
    if (r.status === 404) return new RegistryError('NOT_FOUND', `${what}: not found`);
    return new RegistryError('PROTOCOL_ERROR', `${what}: unexpected HTTP ${r.status}`);
  }
}

/** Reads a response body, failing as soon as it grows past `max` bytes (Content-Length is not trusted). */
async function readLimited(res: Response, max: number, url: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new RegistryError('TOO_LARGE', `${url} declares ${declared} bytes, limit ${max}`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new RegistryError('TOO_LARGE', `${url} sent more than ${max} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, total);
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new RegistryError('MANIFEST_INVALID', `${what} is not JSON`, { cause });
  }
}

function parseIndex(body: Buffer, what: string): ImageIndex {
  const r = imageIndexSchema.safeParse(parseJson(body, what));
  if (!r.success) throw new RegistryError('MANIFEST_INVALID', `${what} is not an OCI image index: ${r.error.issues[0]?.message ?? ''}`);
  return r.data;
}

