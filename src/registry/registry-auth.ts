/**
 * The distribution spec's token authentication: a 401 with `WWW-Authenticate: Bearer realm=…,
 * service=…,scope=…` is answered by fetching a token from the realm (anonymously, or with the
 * registry's basic credentials) and retrying once with `Authorization: Bearer`. This is how
 * anonymous pulls from Docker Hub, GHCR and most public registries work.
 * The challenge is attacker-controlled: only an https realm is followed (http only for a registry
 * explicitly marked insecure), the token response is size-bounded, and tokens are cached per
 * registry, repository and access with their expiry, in a bounded map.
 */
export interface BearerChallenge {
  realm: string;
  service?: string;
  scope?: string;
}

export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (!header || !/^\s*bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.replace(/^\s*bearer\s+/i, '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  if (!params.realm) return undefined;
  return { realm: params.realm, ...(params.service ? { service: params.service } : {}), ...(params.scope ? { scope: params.scope } : {}) };
}

/** `repository:<name>:pull` style key for a request path, so a token is reused for the same access. */
export function accessKey(registry: string, url: string, method: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // already a path
  }
  const repo = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(path)?.[1] ?? '';
  return `${registry}|${repo}|${method === 'GET' || method === 'HEAD' ? 'pull' : 'push'}`;
}

export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  constructor(private readonly max = 1000) {}

  get(key: string): string | undefined {
    const t = this.tokens.get(key);
    if (!t) return undefined;
    if (t.expires <= Date.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return t.token;
  }

  set(key: string, token: string, expiresInSeconds: number): void {
    // Renew a little early so a token never expires in flight.
    const ttl = Math.max(5, Math.min(expiresInSeconds, 3600) - 10) * 1000;
    this.tokens.delete(key);
    this.tokens.set(key, { token, expires: Date.now() + ttl });
    while (this.tokens.size > this.max) {
      const oldest = this.tokens.keys().next().value;
      if (oldest === undefined) break;
      this.tokens.delete(oldest);
    }
  }
}
