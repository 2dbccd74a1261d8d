import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Secrets never reach logs (house rule 10). Two layers:
 *  1. field redaction by pino for the keys that carry credentials, at the top level and one or two
 *     levels down (pino's paths are explicit; `*` matches one level);
 *  2. value scrubbing of every string in the log record (message included) for token and key shapes,
 *     so a secret that arrives inside a message, an error or an unexpected field is masked too.
 */
export const REDACTED = '[REDACTED]';

const SECRET_KEYS = [
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'idToken',
  'id_token',
  'password',
  'passphrase',
  'secret',
  'clientSecret',
  'client_secret',
  'apiKey',
  'api_key',
  'privateKey',
  'private_key',
  'authorization',
  'Authorization',
  'cookie',
  'set-cookie',
  'GITHUB_TOKEN',
  'DUALLANE_KEY_PASSWORD',
];

export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
  const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
  return [key, join('*'), join('*.*'), join('headers'), join('req.headers')];
});

/** Shapes of secrets we mask wherever they appear in a string. */
const SECRET_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\b(?:Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{16,}/gi, // Authorization header values
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWTs (OIDC identity tokens)
  /\b(?:postgres(?:ql)?|https?):\/\/[^\s:/@]+:[^\s@/]+@/gi, // credentials in URLs
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, // Slack tokens
];

/** Masks every secret-shaped substring. Exported for error messages and CLI output too. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const re of SECRET_PATTERNS) out = out.replace(re, (m) => (m.includes('://') ? m.replace(/:[^:@/]+@$/, `:${REDACTED}@`) : REDACTED));
  return out;
}

function scrubValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return scrubSecrets(v);
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, depth + 1));
  if (v instanceof Error) return { type: v.name, message: scrubSecrets(v.message), ...(v.stack ? { stack: scrubSecrets(v.stack) } : {}) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrubValue(x, depth + 1);
  return out;
}

export interface LoggerFactoryOptions {
  /** Component name, logged as `component`. */
  name?: string;
  level?: LoggerOptions['level'];
  /** Where lines go (default stderr, so stdout stays for command results). */
  destination?: DestinationStream;
}

/** A pino logger with duallane's redaction; JSON lines to stderr by default. */
export function createLogger(opts: LoggerFactoryOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.DUALLANE_LOG_LEVEL ?? 'info',
    base: { component: opts.name ?? 'duallane' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    formatters: {
      log: (obj) => scrubValue(obj, 0) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
    serializers: { err: (e: unknown) => scrubValue(e, 0) },
  };
  return pino(options, opts.destination ?? pino.destination(2));
}
