import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { Ledger, MIGRATIONS } from '../../src/ledger/index.js';
import { alertmanagerPayload, bearer, GIT_ENV, makeTemplate, workspace, type Workspace } from './fixture.js';

// The HTTP API through app.inject on a real git repository and the embedded PGlite ledger.
Object.assign(process.env, GIT_ENV);
let template: { dir: string; cleanup(): void };
const open: Workspace[] = [];
beforeAll(async () => {
  template = await makeTemplate();
}, 120_000);
afterAll(() => template?.cleanup());
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});
async function ws(opts: Parameters<typeof workspace>[1] = {}): Promise<Workspace> {
  const w = await workspace(template.dir, opts);
  open.push(w);
  return w;
}
const errorCode = (r: { json(): unknown }) => (r.json() as { error?: { code?: string } }).error?.code;

describe('probes and metrics', () => {
  it('healthz, readyz and Prometheus exposition', async () => {
    const w = await ws();
    expect((await w.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await w.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    expect(ready.json()).toMatchObject({ ok: true, ready: true, ledger: { schemaVersion: latest, expectedVersion: latest } });
    const m = await w.app.inject({ url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.body).toContain('# TYPE duallane_alerts_received_total counter');
    expect(m.body).toMatch(/^duallane_build_info\{/m);
  });

  it('readyz answers 503 once the ledger is closed', async () => {
    const w = await ws();
    await w.ledger.close();
    const r = await w.app.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ ok: false, ready: false });
  });

  it('readyz answers 503 for a ledger that was never migrated', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'duallane-unmigrated-'));
    const ledger = await Ledger.open({ kind: 'embedded', path: join(empty, 'ledger') });
    try {
      const w = await ws({ ledger });
      const r = await w.app.inject({ url: '/readyz' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ ready: false, ledger: { schemaVersion: null } });
      expect((await w.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await ledger.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('authentication and lane kinds', () => {
  it('refuses a missing token, a wrong token and a token in the wrong lane kind', async () => {
    const w = await ws();
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const alerts = await w.alertsToken();
    const body = { title: 't', patch: w.patchFor(2) };
    const id = ulid();

    const none = await w.app.inject({ method: 'POST', url: '/v1/handoffs', payload: body });
    expect([none.statusCode, errorCode(none)]).toEqual([401, 'UNAUTHENTICATED']);
    // Authentication comes before the body is read: an anonymous oversized body is a 401, not a 413.
    const anonBig = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ title: 'x', patch: 'x'.repeat(9 * 1024 * 1024) }) });
    expect([anonBig.statusCode, errorCode(anonBig)]).toEqual([401, 'UNAUTHENTICATED']);
    const anonMalformed = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect([anonMalformed.statusCode, errorCode(anonMalformed)]).toEqual([401, 'UNAUTHENTICATED']);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);

    const wrong = await w.app.inject({ method: 'POST', url: '/v1/handoffs', payload: body, headers: bearer(`${codex.slice(0, -2)}xx`) });
    expect([wrong.statusCode, errorCode(wrong)]).toEqual([401, 'UNAUTHENTICATED']);
    const garbage = await w.app.inject({ url: '/v1/handoffs', headers: { authorization: 'Token abc' } });
    expect([garbage.statusCode, errorCode(garbage)]).toEqual([401, 'UNAUTHENTICATED']);

    const proposeOnAccept = await w.app.inject({ method: 'POST', url: `/v1/handoffs/${id}/accept`, headers: bearer(codex) });
    expect([proposeOnAccept.statusCode, errorCode(proposeOnAccept)]).toEqual([403, 'FORBIDDEN']);

    const executeOnPropose = await w.app.inject({ method: 'POST', url: '/v1/handoffs', payload: body, headers: bearer(claude) });
    expect([executeOnPropose.statusCode, errorCode(executeOnPropose)]).toEqual([403, 'FORBIDDEN']);

    for (const [method, url] of [
      ['GET', '/v1/handoffs'],
      ['POST', '/v1/handoffs'],
      ['GET', '/v1/alerts'],
      ['GET', '/'],
    ] as const) {
      const r = await w.app.inject({ method, url, headers: bearer(alerts), ...(method === 'POST' ? { payload: body } : {}) });
      expect([url, r.statusCode, errorCode(r)]).toEqual([url, 403, 'FORBIDDEN']);
    }
    // Nothing was recorded by any refused request.
    const list = await w.app.inject({ url: '/v1/handoffs', headers: bearer(claude) });
    expect(list.json()).toEqual({ ok: true, handoffs: [] });
  });

  it('a token whose lane left duallane.yaml is refused; a revoked token is unknown', async () => {
    const w = await ws();
    const { token, record } = await w.tokens.create({ kind: 'lane', lane: 'codex' });
    w.config.lanes = w.config.lanes.filter((l) => l.name !== 'codex');
    const r = await w.app.inject({ url: '/v1/handoffs', headers: bearer(token) });
    expect([r.statusCode, errorCode(r)]).toEqual([403, 'FORBIDDEN']);
    expect(await w.tokens.revoke(record.id)).toBe(true);
    const after = await w.app.inject({ url: '/v1/handoffs', headers: bearer(token) });
    expect([after.statusCode, errorCode(after)]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('a single-lane server refuses the other lanes\' tokens', async () => {
    const w = await ws({ onlyLane: 'claude' });
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const r = await w.app.inject({ url: '/v1/handoffs', headers: bearer(codex) });
    expect([r.statusCode, errorCode(r)]).toEqual([403, 'FORBIDDEN']);
    expect((await w.app.inject({ url: '/v1/handoffs', headers: bearer(claude) })).statusCode).toBe(200);
  });

  it('the page challenges browsers with Basic and accepts the token as the password', async () => {
    const w = await ws();
    const codex = await w.token('codex');
    const none = await w.app.inject({ url: '/' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="duallane"/);
    expect(none.headers['content-security-policy']).toContain("default-src 'none'");
    const basic = await w.app.inject({ url: '/', headers: { authorization: `Basic ${Buffer.from(`anyone:${codex}`).toString('base64')}` } });
    expect(basic.statusCode).toBe(200);
    expect(basic.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('never logs a token, even on refused requests', async () => {
    const w = await ws();
    const codex = await w.token('codex');
    await w.app.inject({ url: '/v1/handoffs', headers: bearer(codex) });
    await w.app.inject({ url: '/v1/handoffs', headers: bearer(`${codex}x`) });
    await w.app.inject({ url: `/v1/handoffs?token=${codex}`, headers: bearer(codex) });
    const lines = w.logs.map((l) => JSON.parse(l) as { msg: string; path?: string; status?: number });
    expect(lines.filter((l) => l.msg === 'request').map((l) => [l.path, l.status])).toEqual([
      ['/v1/handoffs', 200],
      ['/v1/handoffs', 401],
      // Tokens are never taken from queries; the unknown parameter is refused.
      ['/v1/handoffs', 400],
    ]);
    expect(w.logs.join('\n')).not.toContain(codex.slice(4));
  });
});

describe('request validation', () => {
  it('body too large, malformed JSON, unknown fields, prototype poisoning, wrong media type', async () => {
    const w = await ws({ handoffBodyLimit: 64 * 1024 });
    const codex = await w.token('codex');
    const alerts = await w.alertsToken();
    const big = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: { ...bearer(alerts), 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) });
    expect([big.statusCode, errorCode(big)]).toEqual([413, 'BODY_TOO_LARGE']);
    const bigPatch = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: 'x'.repeat(65 * 1024) } });
    expect([bigPatch.statusCode, errorCode(bigPatch)]).toEqual([413, 'BODY_TOO_LARGE']);

    const malformed = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: { ...bearer(codex), 'content-type': 'application/json' }, payload: '{"title": "t", ' });
    expect([malformed.statusCode, errorCode(malformed)]).toEqual([400, 'MALFORMED_JSON']);
    expect(malformed.json()).toMatchObject({ ok: false, error: { outcome: 'usage' } });

    const unknown = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: w.patchFor(2), lane: 'claude' } });
    expect([unknown.statusCode, errorCode(unknown)]).toEqual([400, 'BAD_REQUEST']);
    expect(JSON.stringify(unknown.json())).toContain('lane');

    const missing = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { patch: w.patchFor(2) } });
    expect([missing.statusCode, errorCode(missing)]).toEqual([400, 'BAD_REQUEST']);

    const badExpiry = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: w.patchFor(2), expires: 'forever' } });
    expect([badExpiry.statusCode, errorCode(badExpiry)]).toEqual([400, 'BAD_REQUEST']);

    const badBase64 = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title: 't', patch: '%%%', patchEncoding: 'base64' } });
    expect([badBase64.statusCode, errorCode(badBase64)]).toEqual([400, 'BAD_REQUEST']);

    const poisoned = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: { ...bearer(codex), 'content-type': 'application/json' }, payload: '{"title":"t","patch":"p","__proto__":{"admin":true}}' });
    expect(poisoned.statusCode).toBe(400);

    const text = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: { ...bearer(codex), 'content-type': 'text/plain' }, payload: 'hello' });
    expect([text.statusCode, errorCode(text)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);

    const badQuery = await w.app.inject({ url: '/v1/handoffs?state=bogus', headers: bearer(codex) });
    expect([badQuery.statusCode, errorCode(badQuery)]).toEqual([400, 'BAD_REQUEST']);
  });

  it('ids are ULIDs, checked before the ledger; an unknown ULID is 404', async () => {
    const w = await ws();
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    for (const bad of ['1', "01J'; DROP TABLE handoffs; --", '01hzzzzzzzzzzzzzzzzzzzzzzz', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ', '%2e%2e%2fetc']) {
      const r = await w.app.inject({ url: `/v1/handoffs/${encodeURIComponent(bad)}`, headers: bearer(codex) });
      expect([bad, r.statusCode, errorCode(r)]).toEqual([bad, 400, 'INVALID_ID']);
      const a = await w.app.inject({ method: 'POST', url: `/v1/handoffs/${encodeURIComponent(bad)}/accept`, headers: bearer(claude) });
      expect([bad, a.statusCode, errorCode(a)]).toEqual([bad, 400, 'INVALID_ID']);
    }
    const missing = await w.app.inject({ url: `/v1/handoffs/${ulid()}`, headers: bearer(codex) });
    expect([missing.statusCode, errorCode(missing)]).toEqual([404, 'NOT_FOUND']);
    const route = await w.app.inject({ url: '/v1/nothing', headers: bearer(codex) });
    expect([route.statusCode, errorCode(route)]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('POST /v1/alerts', () => {
  it('stores Alertmanager v4 alerts once per fingerprint, resolves them, and counts them', async () => {
    const w = await ws();
    const alerts = await w.alertsToken();
    const reader = await w.token('claude');
    const count = async (status: string, severity: string) => {
      const body = (await w.app.inject({ url: '/metrics' })).body;
      const m = new RegExp(`^duallane_alerts_received_total\\{status="${status}",severity="${severity}"\\} (\\d+)$`, 'm').exec(body);
      return Number(m?.[1] ?? NaN);
    };
    expect(await count('firing', 'critical')).toBe(0);
    const firing = alertmanagerPayload('firing', [
      { name: 'DuallaneReplayAttempts', severity: 'critical', fingerprint: 'aa11' },
      { name: 'DuallaneAdmissionDenials', severity: 'warning', fingerprint: 'bb22', summary: '<script>alert(1)</script>' },
    ]);
    const r1 = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: bearer(alerts), payload: firing });
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toMatchObject({ ok: true, received: 2, inserted: 2, updated: 0 });
    // Alertmanager repeats notifications: the same alert is updated, not duplicated.
    const r2 = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: bearer(alerts), payload: firing });
    expect(r2.json()).toMatchObject({ received: 2, inserted: 0, updated: 2 });
    const resolved = alertmanagerPayload('resolved', [{ name: 'DuallaneReplayAttempts', severity: 'critical', fingerprint: 'aa11' }]);
    const r3 = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: bearer(alerts), payload: resolved });
    expect(r3.json()).toMatchObject({ received: 1, inserted: 0, updated: 1 });

    const list = await w.app.inject({ url: '/v1/alerts', headers: bearer(reader) });
    const stored = (list.json() as { alerts: { name: string; status: string; resolvedAt: string | null; severity: string }[] }).alerts;
    expect(stored).toHaveLength(2);
    expect(stored.find((a) => a.name === 'DuallaneReplayAttempts')).toMatchObject({ status: 'resolved', resolvedAt: '2026-11-24T03:10:00.000Z', severity: 'critical' });
    expect(stored.find((a) => a.name === 'DuallaneAdmissionDenials')).toMatchObject({ status: 'firing', resolvedAt: null, severity: 'warning' });
    // Each delivery is one audit row.
    const audit = await w.ledger.withAdmin((tx) => tx.listAudit());
    expect(audit.filter((a) => a.action === 'alerts.received')).toHaveLength(3);

    expect(await count('firing', 'critical')).toBe(2);
    expect(await count('firing', 'warning')).toBe(2);
    expect(await count('resolved', 'critical')).toBe(1);

    const invalid = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: bearer(alerts), payload: { version: '3', alerts: [] } });
    expect([invalid.statusCode, errorCode(invalid)]).toEqual([400, 'ALERT_PAYLOAD_INVALID']);
    const anon = await w.app.inject({ method: 'POST', url: '/v1/alerts', payload: firing });
    expect([anon.statusCode, errorCode(anon)]).toEqual([401, 'UNAUTHENTICATED']);
    expect(await count('firing', 'critical')).toBe(2);
  });
  it('only the alerts token may post alerts: a lane cannot resolve a critical alert about itself', async () => {
    const w = await ws();
    const alerts = await w.alertsToken();
    const codex = await w.token('codex');
    const claude = await w.token('claude');
    const critical = [{ name: 'DuallaneReplayAttempts', severity: 'critical', fingerprint: 'cc33' }];
    const fired = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: bearer(alerts), payload: alertmanagerPayload('firing', critical) });
    expect(fired.statusCode).toBe(200);
    const auditBefore = (await w.ledger.withAdmin((tx) => tx.listAudit())).length;
    for (const token of [codex, claude]) {
      for (const status of ['resolved', 'firing'] as const) {
        const r = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: bearer(token), payload: alertmanagerPayload(status, critical) });
        expect([r.statusCode, errorCode(r)]).toEqual([403, 'ALERTS_TOKEN_REQUIRED']);
      }
      // Refused before the body is read: an oversized or malformed body from a lane is still a 403.
      const big = await w.app.inject({ method: 'POST', url: '/v1/alerts', headers: { ...bearer(token), 'content-type': 'application/json' }, payload: '{' });
      expect([big.statusCode, errorCode(big)]).toEqual([403, 'ALERTS_TOKEN_REQUIRED']);
    }
    const list = await w.app.inject({ url: '/v1/alerts', headers: bearer(claude) });
    expect((list.json() as { alerts: { fingerprint: string; status: string }[] }).alerts).toEqual([expect.objectContaining({ fingerprint: 'cc33', status: 'firing' })]);
    expect((await w.ledger.withAdmin((tx) => tx.listAudit())).length).toBe(auditBefore);
  });
});
