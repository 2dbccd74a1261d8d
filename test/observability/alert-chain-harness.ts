import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

/**
 * Real Prometheus and Alertmanager (Debian packages) on loopback with temporary configs built from
 * the shipped ones: Prometheus scrapes a /metrics target every second and evaluates
 * observability/prometheus/alerts.yaml; Alertmanager runs observability/alertmanager/alertmanager.yml
 * with every receiver pointed at loopback webhook URLs (so the routing tree is the real one and no
 * Slack or SMTP traffic can leave the machine). Clustering is disabled. `stop()` kills both and
 * removes their data directories.
 */
export interface AlertChain {
  prometheusUrl: string;
  alertmanagerUrl: string;
  stop(): Promise<void>;
  logs(): string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startAlertChain(opts: {
  /** host:port Prometheus scrapes at /metrics. */
  scrapeTarget: string;
  /** Replaces the duallane-ledger receiver URL (the `duallane serve` POST /v1/alerts stand-in). */
  ledgerWebhookUrl: string;
  /** Receives what Slack and email would have received. */
  peopleWebhookUrl: string;
  /** The bearer-token file the ledger receiver authenticates with (as the shipped config does). */
  ledgerCredentialsFile?: string;
}): Promise<AlertChain> {
  const dir = mkdtempSync(join(tmpdir(), 'duallane-alert-chain-'));
  const [promPort, amPort] = [await freePort(), await freePort()];

  const am = parseYaml(readFileSync(join(ROOT, 'observability/alertmanager/alertmanager.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    receivers: { name: string; webhook_configs?: unknown[]; slack_configs?: unknown; email_configs?: unknown }[];
  };
  for (const k of Object.keys(am.global)) if (k.startsWith('smtp_') || k.startsWith('slack_')) delete am.global[k];
  for (const r of am.receivers) {
    if (r.name === 'duallane-ledger') {
      r.webhook_configs = [
        {
          url: opts.ledgerWebhookUrl,
          send_resolved: true,
          ...(opts.ledgerCredentialsFile ? { http_config: { authorization: { credentials_file: opts.ledgerCredentialsFile } } } : {}),
        },
      ];
    }
    else {
      delete r.slack_configs;
      delete r.email_configs;
      r.webhook_configs = [{ url: `${opts.peopleWebhookUrl}?receiver=${r.name}`, send_resolved: true }];
    }
  }
  writeFileSync(join(dir, 'alertmanager.yml'), toYaml(am));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    toYaml({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(ROOT, 'observability/prometheus/alerts.yaml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [{ job_name: 'duallane', static_configs: [{ targets: [opts.scrapeTarget] }] }],
    }),
  );

  let log = '';
  const children: ChildProcess[] = [];
  const run = (cmd: string, args: string[]) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (log += `[${cmd}] ${d}`));
    c.stderr!.on('data', (d) => (log += `[${cmd}] ${d}`));
    children.push(c);
    return c;
  };
  run('prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'am-data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    `--web.external-url=http://127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  run('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'prom-data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    `--web.external-url=http://127.0.0.1:${promPort}`,
    '--log.level=warn',
  ]);

  const chain: AlertChain = {
    prometheusUrl: `http://127.0.0.1:${promPort}`,
    alertmanagerUrl: `http://127.0.0.1:${amPort}`,
    logs: () => log,
    stop: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 5000);
              c.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => (await fetch(`${chain.prometheusUrl}/-/ready`)).ok, 30_000);
    await waitFor(async () => (await fetch(`${chain.alertmanagerUrl}/-/ready`)).ok, 30_000);
  } catch (e) {
    await chain.stop();
    throw new Error(`alert chain did not start: ${String(e)}\n${log}`);
  }
  return chain;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs}ms${last ? `: ${String(last)}` : ''}`);
}

/** A loopback HTTP server that records JSON bodies POSTed to it. */
export async function startRecorder(): Promise<{ url: string; bodies: { path: string; body: unknown }[]; close(): Promise<void> }> {
  const bodies: { path: string; body: unknown }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      try {
        bodies.push({ path: req.url ?? '', body: JSON.parse(raw) });
      } catch {
        bodies.push({ path: req.url ?? '', body: raw });
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
