import type { FastifyRequest } from 'fastify';
import type { DuallaneConfig, LaneKind } from '../config/index.js';
import { ServerError } from './server-error.js';
import type { TokenStore } from './token-store.js';

/** Who a request speaks for, after its token was checked. */
export type Principal = { kind: 'lane'; lane: string; laneKind: LaneKind; tokenId: string } | { kind: 'alerts'; tokenId: string };

/**
 * The token a request carries: `Authorization: Bearer <token>`, or HTTP Basic with the token as the
 * password (so a browser can open the web page; the user name is ignored). Tokens in query strings
 * are never accepted: URLs end up in logs, histories and Referer headers.
 */
export function presentedToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const bearer = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,512})[ ]*$/i.exec(h);
  if (bearer) return bearer[1]!;
  const basic = /^Basic[ ]+([A-Za-z0-9+/=]{1,1024})[ ]*$/i.exec(h);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

/**
 * Authenticates a request: UNAUTHENTICATED (401) without a token or with one that matches no stored
 * hash; FORBIDDEN (403) when the token's lane is no longer in duallane.yaml.
 */
export async function authenticate(req: FastifyRequest, tokens: TokenStore, config: DuallaneConfig): Promise<Principal> {
  const token = presentedToken(req);
  if (token === null) throw new ServerError('UNAUTHENTICATED', 'a bearer token is required (duallane serve token create --lane LANE)');
  const record = await tokens.authenticate(token);
  if (!record) throw new ServerError('UNAUTHENTICATED', 'the bearer token is not valid');
  if (record.kind === 'alerts') return { kind: 'alerts', tokenId: record.id };
  const lane = config.lanes.find((l) => l.name === record.lane);
  if (!lane) throw new ServerError('FORBIDDEN', `the token's lane ${JSON.stringify(record.lane)} is not configured in duallane.yaml`);
  return { kind: 'lane', lane: lane.name, laneKind: lane.kind, tokenId: record.id };
}

/** A lane principal of `kind`, or FORBIDDEN: propose lanes propose, execute lanes accept. */
export function requireLaneKind(p: Principal, kind: LaneKind): Extract<Principal, { kind: 'lane' }> {
  if (p.kind !== 'lane') throw new ServerError('FORBIDDEN', `this needs a ${kind} lane token; an alerts token may only post alerts`);
  if (p.laneKind !== kind) throw new ServerError('FORBIDDEN', `lane ${p.lane} is a ${p.laneKind} lane; this needs a ${kind} lane token`);
  return p;
}

/** Any lane principal (reads); alerts-only tokens read nothing. */
export function requireLane(p: Principal): Extract<Principal, { kind: 'lane' }> {
  if (p.kind !== 'lane') throw new ServerError('FORBIDDEN', 'an alerts token may only post alerts');
  return p;
}

/**
 * The alerts principal, or ALERTS_TOKEN_REQUIRED. Alerts are stored by fingerprint, so whoever may
 * post them may also mark any stored alert resolved: a lane token must not, or the propose lane could
 * silence a critical alert about itself.
 */
export function requireAlerts(p: Principal): Extract<Principal, { kind: 'alerts' }> {
  if (p.kind !== 'alerts') throw new ServerError('ALERTS_TOKEN_REQUIRED', `lane ${p.lane} may not post alerts; Alertmanager posts with the alerts token (duallane serve token create --alerts)`);
  return p;
}
