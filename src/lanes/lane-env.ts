import picomatch from 'picomatch';
import { resolveConfigPath, type DuallaneConfig, type LaneConfig } from '../config/index.js';
import type { LaneFinding } from './lane-error.js';

/** True when `name` is allowed by a lane allowlist entry (`NAME`, or a prefix pattern `NAME*`). */
export function envAllowed(name: string, allow: readonly string[]): boolean {
  return allow.some((pattern) => (pattern.includes('*') ? picomatch.isMatch(name, pattern) : pattern === name));
}

/**
 * The environment a lane's process gets: only allowlisted variables, plus DUALLANE_LANE.
 * Everything else — another lane's token, a cloud credential inherited from the shell — is dropped.
 */
export function scrubEnv(env: NodeJS.ProcessEnv, lane: LaneConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && envAllowed(name, lane.env.allow)) out[name] = value;
  }
  out.DUALLANE_LANE = lane.name;
  return out;
}

const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|(^|_)AUTH(_|$)|AUTHORIZATION|_PAT$|^PAT_|DATABASE_URL|_DSN$|COOKIE|(^|_)KEY($|_))/i;
const SECRET_VALUE = [
  /^gh[pousr]_[A-Za-z0-9]{20,}/, // GitHub tokens
  /^github_pat_[A-Za-z0-9_]{20,}/,
  /^(sk|rk)-[A-Za-z0-9-_]{16,}/, // model provider API keys
  /^AKIA[0-9A-Z]{16}$/, // AWS access key id
  /^xox[abpr]-/, // Slack
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, // URL with a password
];

/** Whether a variable looks like a credential, by its name or by the shape of its value. */
export function looksSecret(name: string, value: string): boolean {
  return SECRET_NAME.test(name) || SECRET_VALUE.some((re) => re.test(value));
}

/**
 * Reports secret-looking variables outside the lane's allowlist, and any variable (allowed or not)
 * that points at another lane's private key or holds another lane's token variable. Names only:
 * values never appear in findings.
 */
export function checkLaneEnv(config: DuallaneConfig, lane: LaneConfig, env: NodeJS.ProcessEnv): LaneFinding[] {
  const findings: LaneFinding[] = [];
  const others = config.lanes.filter((l) => l.name !== lane.name);
  const otherKeys = others.flatMap((l) => (l.identity.kind === 'key' ? [{ lane: l.name, path: resolveConfigPath(config, l.identity.privateKey), raw: l.identity.privateKey }] : []));
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || value === '') continue;
    const key = otherKeys.find((k) => value.includes(k.path) || value === k.raw || value.endsWith(`/${k.raw}`));
    if (key) {
      findings.push({ code: 'ENV_OTHER_LANE_KEY', message: `$${name} points at lane ${key.lane}'s private key` });
      continue;
    }
    if (!envAllowed(name, lane.env.allow) && looksSecret(name, value)) {
      findings.push({ code: 'ENV_SECRET_OUTSIDE_ALLOWLIST', message: `$${name} looks like a credential and is not in lane ${lane.name}'s env.allow` });
    }
  }
  // Another lane's token variable, when its name differs from ours, must not be present at all.
  for (const other of others) {
    const v = other.github.tokenEnv;
    if (v !== lane.github.tokenEnv && env[v] && !findings.some((f) => f.message.startsWith(`$${v} `))) {
      findings.push({ code: 'ENV_OTHER_LANE_TOKEN', message: `$${v} (lane ${other.name}'s GitHub token) is set in lane ${lane.name}'s environment` });
    }
  }
  return findings;
}
