import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { gateCommand } from '../support/services.js';
import { bearer, GIT_ENV, makeTemplate, workspace, type Workspace } from './fixture.js';

// A real Alertmanager (Debian prometheus-alertmanager) delivering to POST /v1/alerts with an
// alerts-only bearer token read from a credentials_file, as observability/alertmanager/alertmanager.yml
// documents: what Alertmanager really sends must pass normalizeAlertmanagerPayload and be stored.
Object.assign(process.env, GIT_ENV);
const ok = gateCommand('prometheus-alertmanager', 'prometheus-alertmanager');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

async function waitFor<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!ok)('Alertmanager -> duallane serve /v1/alerts', () => {
  let template: { dir: string; cleanup(): void };
  let w: Workspace;
  let dir: string;
  let am: ReturnType<typeof spawn> | undefined;
  let amLog = '';

  beforeAll(async () => {
    template = await makeTemplate();
    w = await workspace(template.dir);
    dir = mkdtempSync(join(tmpdir(), 'duallane-am-'));
  }, 120_000);

  afterAll(async () => {
    if (am && am.exitCode === null) {
      am.kill('SIGTERM');
      await new Promise((r) => am!.once('exit', r));
    }
    await w?.close();
    template?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores firing and resolved alerts Alertmanager posts with its bearer token', async () => {
    const url = await w.app.listen({ port: 0, host: '127.0.0.1' });
    const token = await w.alertsToken();
    writeFileSync(join(dir, 'duallane-token'), token, { mode: 0o600 });
    const amPort = await freePort();
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      toYaml({
        route: { receiver: 'duallane-ledger', group_by: ['alertname'], group_wait: '0s', group_interval: '1s', repeat_interval: '1h' },
        receivers: [
          {
            name: 'duallane-ledger',
            webhook_configs: [{ url: `${url}/v1/alerts`, send_resolved: true, max_alerts: 0, http_config: { authorization: { credentials_file: join(dir, 'duallane-token') } } }],
          },
        ],
      }),
    );
    am = spawn(
      'prometheus-alertmanager',
      [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    am.stdout!.on('data', (d) => (amLog += d));
    am.stderr!.on('data', (d) => (amLog += d));
    const amUrl = `http://127.0.0.1:${amPort}`;
    await waitFor(async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined), 30_000, `Alertmanager ready\n${amLog}`);

    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const post = (endsAt?: string) =>
      fetch(`${amUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            labels: { alertname: 'DuallaneReplayAttempts', severity: 'critical', lane: 'claude' },
            annotations: { summary: 'A consumed handoff statement was presented again <b>twice</b>' },
            startsAt,
            ...(endsAt ? { endsAt } : {}),
            generatorURL: 'http://prometheus.invalid/graph',
          },
        ]),
      });
    expect((await post()).status).toBe(200);
    const reader = await w.token('claude');
    type Stored = { name: string; status: string; severity: string; summary: string; resolvedAt: string | null };
    const list = async () => ((await (await fetch(`${url}/v1/alerts`, { headers: bearer(reader) })).json()) as { alerts: Stored[] }).alerts;
    const firing = await waitFor(async () => {
      const a = await list();
      return a.length > 0 ? a : undefined;
    }, 30_000, `the firing alert in the ledger\n${amLog}`);
    expect(firing).toEqual([expect.objectContaining({ name: 'DuallaneReplayAttempts', status: 'firing', severity: 'critical', summary: 'A consumed handoff statement was presented again <b>twice</b>' })]);

    // Resolve it: Alertmanager sends a resolved notification (send_resolved) for the same alert.
    expect((await post(new Date().toISOString())).status).toBe(200);
    const resolved = await waitFor(async () => {
      const a = await list();
      return a[0]?.status === 'resolved' ? a : undefined;
    }, 30_000, `the resolved alert\n${amLog}`);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.resolvedAt).not.toBeNull();

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^duallane_alerts_received_total\{status="firing",severity="critical"\} [1-9]/m);
    expect(metrics).toMatch(/^duallane_alerts_received_total\{status="resolved",severity="critical"\} [1-9]/m);
    // Alertmanager authenticated with the alerts token; no delivery was refused.
    const deliveries = w.logs.filter((l) => l.includes('"method":"POST"') && l.includes('"path":"/v1/alerts"'));
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    expect(deliveries.filter((l) => !l.includes('"status":200'))).toEqual([]);
  }, 120_000);
});
