/**
 * How the GitHub forge reaches the repository with git, and with which credentials.
 *
 * Threat: the execute lane runs on a machine that may hold other credentials for the same host — a
 * credential helper or ~/.git-credentials, a global `http.extraHeader`, an SSH key reached through a
 * `url.<ssh>.insteadOf` rewrite. If git were allowed to use any of them, the push would act with an
 * identity the lane was never given, and the lane's token permissions (checked by `creds check`)
 * would mean nothing. So an authenticated push gets the lane's token and nothing else: the token
 * travels as an HTTP Authorization header set through environment-only git config (never argv,
 * never .git/config), every ambient credential source is switched off for that one invocation, and
 * only the HTTP(S) transport is allowed.
 */

/** Where the GitHub forge pushes. A tagged union: see `gitPushTarget`. */
export type GitPushTarget =
  /** The repository's HTTPS URL; pushes carry the lane's token. */
  | { kind: 'https'; url: string }
  /** A local path or file:// URL (tests, mirrors): no transport credentials are involved at all. */
  | { kind: 'local'; path: string }
  /** A remote git cannot reach with the token (SSH, git://, embedded credentials, clear-text HTTP). */
  | { kind: 'invalid'; reason: string };

const REMOTE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The push target for the configured `remote`:
 * - an `https://` URL is used as it is (`http://` only on loopback, for tests);
 * - a remote name (the default `origin`) is not looked up in the clone's config — that URL may be
 *   SSH or a fork — but replaced by the HTTPS URL of owner/repo on the API's host, which is the
 *   repository the pull request is opened on;
 * - a path (`/`, `./`, `../`; relative to the clone, as git reads it) or `file://` URL is a local
 *   repository (no credentials involved);
 * - anything else (ssh://, scp-like `git@host:path`, git://) is refused: git would authenticate
 *   with the machine's SSH keys, not the lane's token.
 */
export function gitPushTarget(remote: string, apiBaseUrl: string, owner: string, repo: string): GitPushTarget {
  if (/^https?:\/\//i.test(remote)) return httpTarget(remote);
  if (/^file:\/\//i.test(remote) || /^(\/|\.\.?\/)/.test(remote)) return { kind: 'local', path: remote };
  if (REMOTE_NAME_RE.test(remote)) {
    const web = gitWebBaseUrl(apiBaseUrl);
    if (!web) return { kind: 'invalid', reason: `cannot derive the repository's git URL from the API URL ${safeUrl(apiBaseUrl)}; set forge.remote to the repository's https:// URL` };
    return httpTarget(`${web}/${owner}/${repo}.git`);
  }
  return {
    kind: 'invalid',
    reason: `the GitHub forge pushes over HTTPS with the lane's token; remote ${JSON.stringify(safeUrl(remote))} would use other credentials (set forge.remote to the repository's https:// URL or a remote name)`,
  };
}

/**
 * The web (and git) base URL of a GitHub API base: https://api.github.com -> https://github.com,
 * GHES https://HOST/api/v3 -> https://HOST, https://api.SUB.ghe.com -> https://SUB.ghe.com; any
 * other URL (a local fake in tests) is its own origin. Null when the URL does not parse.
 */
export function gitWebBaseUrl(apiBaseUrl: string): string | null {
  let u: URL;
  try {
    u = new URL(apiBaseUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  const path = u.pathname.replace(/\/+$/, '');
  if (/\/api\/v3$/.test(path)) return `${u.origin}${path.slice(0, -'/api/v3'.length)}`;
  if (u.hostname.startsWith('api.') && (path === '' || path === '/')) return `${u.protocol}//${u.host.slice('api.'.length)}`;
  return `${u.origin}${path}`;
}

function httpTarget(raw: string): GitPushTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { kind: 'invalid', reason: `remote is not a valid URL: ${JSON.stringify(safeUrl(raw))}` };
  }
  if (u.username || u.password) return { kind: 'invalid', reason: `remote ${safeUrl(raw)} embeds credentials; the GitHub forge pushes with the lane's token only` };
  if (u.search || u.hash) return { kind: 'invalid', reason: `remote ${safeUrl(raw)} has a query or fragment` };
  if (u.protocol === 'http:' && !isLoopback(u.hostname)) {
    return { kind: 'invalid', reason: `remote ${safeUrl(raw)} is clear-text http://; the token is only sent over https:// (or to loopback, for tests)` };
  }
  return { kind: 'https', url: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}` };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A URL with any userinfo removed, for messages. */
function safeUrl(s: string): string {
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@').slice(0, 300);
}

export interface TokenPushAccess {
  /** Environment for the git invocations that talk to `url` (merged over git()'s scrubbed env). */
  env: Record<string, string>;
  /** Strings that must never appear in an error: the token, and its header forms. */
  secrets: string[];
}

/**
 * Environment that makes git authenticate to `url` with `token` and nothing else (GitHub Actions'
 * checkout uses the same header form). Config entries come last in git's config order (after
 * system, global and the repository's own), so each reset below wins over anything the machine or
 * the clone configured:
 * - `credential.helper=` empties the helper list (credential helpers, ~/.git-credentials via `store`);
 * - `http.<url>.extraHeader=` empties the header list for this URL before adding ours, so a
 *   configured Authorization header cannot ride along (an entry keyed on the exact URL is as specific
 *   as any that can match it, so it is not skipped as a weaker match);
 * - protocols other than https (http only when the URL is http, i.e. loopback) are forbidden, so an
 *   `insteadOf` rewrite cannot divert the push to SSH and the machine's keys;
 * - GIT_ASKPASS=true answers any prompt with nothing (and overrides core.askPass / SSH_ASKPASS);
 *   GIT_TERMINAL_PROMPT=0 keeps git from asking on a terminal.
 */
export function tokenPushAccess(url: string, token: string): TokenPushAccess {
  const basic = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64');
  const isHttp = url.startsWith('http:');
  const config: [string, string][] = [
    ['credential.helper', ''],
    [`http.${url}.extraHeader`, ''],
    [`http.${url}.extraHeader`, `Authorization: Basic ${basic}`],
    ['protocol.allow', 'never'],
    ['protocol.https.allow', 'always'],
    ['protocol.http.allow', isHttp ? 'always' : 'never'],
    ['protocol.ssh.allow', 'never'],
    ['protocol.git.allow', 'never'],
    ['protocol.file.allow', 'never'],
    ['protocol.ext.allow', 'never'],
  ];
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', GIT_CONFIG_COUNT: String(config.length) };
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return { env, secrets: [token, basic] };
}

/** Environment for a push that needs no credentials (a local path): any prompt or helper stays off. */
export const NO_CREDENTIALS_ENV: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: 'true',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'credential.helper',
  GIT_CONFIG_VALUE_0: '',
};

/** `text` with every secret replaced by `***`. Longer secrets first, so a token inside its header form is covered. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
