import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from './registry-error.js';

/**
 * Registry credentials from a Docker config file, as docker, cosign and crane read them:
 * `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. Only inline entries are used:
 * `auths.<server>.auth` (base64 `user:password`, split at the first colon), or `username` and
 * `password`, plus `identitytoken` (an OAuth2 refresh token exchanged at the registry's token realm)
 * and `registrytoken` (sent as the bearer token as is). Credential helpers (`credsStore`,
 * `credHelpers`) are not run: a server known only to a helper gets no credentials.
 *
 * The file holds secrets: nothing read here is ever put in an error message or a log line.
 */
export interface RegistryCredential {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

export type RegistryCredentials = Readonly<Record<string, RegistryCredential>>;

const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com', 'docker.io']);

/** docker's ConvertToHostname, with Docker Hub's names folded into `docker.io` (the client's name for it). */
export function registryHostOf(server: string): string {
  let s = server.trim();
  s = s.replace(/^https?:\/\//i, '');
  s = s.split('/')[0] ?? '';
  s = s.toLowerCase();
  return DOCKER_HUB_ALIASES.has(s) ? 'docker.io' : s;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return env['DOCKER_CONFIG'] ? join(env['DOCKER_CONFIG'], 'config.json') : join(home, '.docker', 'config.json');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Parses a config.json text; a malformed file is a usage error that names the file, never its content. */
export function parseDockerConfig(text: string, path = 'config.json'): Record<string, RegistryCredential> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new RegistryError('CONFIG_INVALID', `${path} is not valid JSON`);
  }
  const out: Record<string, RegistryCredential> = {};
  const auths = (doc as { auths?: unknown } | null)?.auths;
  if (auths === undefined || auths === null) return out;
  if (typeof auths !== 'object' || Array.isArray(auths)) throw new RegistryError('CONFIG_INVALID', `${path}: auths must be an object`);
  for (const [server, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const cred: RegistryCredential = {};
    const auth = str(e['auth']);
    if (auth) {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new RegistryError('CONFIG_INVALID', `${path}: auths entry for ${registryHostOf(server)} has an auth value that is not base64 user:password`);
      cred.username = decoded.slice(0, i);
      if (i + 1 < decoded.length) cred.password = decoded.slice(i + 1);
    } else {
      if (str(e['username'])) cred.username = str(e['username']);
      if (str(e['password'])) cred.password = str(e['password']);
    }
    if (str(e['identitytoken'])) cred.identityToken = str(e['identitytoken']);
    if (str(e['registrytoken'])) cred.registryToken = str(e['registrytoken']);
    if (!cred.password && !cred.identityToken && !cred.registryToken) continue;
    const host = registryHostOf(server);
    // docker keeps the first match for a host; so do we (several spellings of Docker Hub).
    if (host && !out[host]) out[host] = cred;
  }
  return out;
}

/** Reads the Docker config file; a missing file means no credentials. */
export function loadDockerCredentials(opts: { env?: NodeJS.ProcessEnv; home?: string } = {}): Record<string, RegistryCredential> {
  const path = dockerConfigPath(opts.env ?? process.env, opts.home ?? homedir());
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    throw new RegistryError('CONFIG_INVALID', `cannot read ${path}: ${code ?? 'error'}`);
  }
  return parseDockerConfig(text, path);
}

/** Every secret in a credential set, longest first, for redaction. */
export function secretsOf(creds: RegistryCredentials | undefined): string[] {
  const out = new Set<string>();
  for (const c of Object.values(creds ?? {})) {
    for (const v of [c.password, c.identityToken, c.registryToken]) if (v && v.length >= 4) out.add(v);
    if (c.username !== undefined && c.password) out.add(Buffer.from(`${c.username}:${c.password}`).toString('base64'));
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Replaces every known secret in `text` with `[REDACTED]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[REDACTED]');
  return out;
}
