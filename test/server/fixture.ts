import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type DuallaneConfig } from '../../src/config/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { createLogger, DuallaneMetrics } from '../../src/observability/index.js';
import { buildServer, DEFAULT_TOKEN_FILE, TokenStore, type ServerOptions } from '../../src/server/index.js';
import { runCli } from '../support/cli.js';
import { GIT_ENV } from '../support/git-env.js';
import { publishToLocalForge } from '../support/local-forge.js';

export { GIT_ENV };
/** A sample git repository after `duallane init` (committed); copy it per test with `workspace`. */
export async function makeTemplate(): Promise<{ dir: string; cleanup(): void }> {
  const root = mkdtempSync(join(tmpdir(), 'duallane-server-tpl-'));
  const dir = join(root, 'repo');
  mkdirSync(join(dir, 'src'), { recursive: true });
  const git = (...a: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...a], { cwd: dir, env: { ...process.env, ...GIT_ENV } });
  git('init', '-q');
  writeFileSync(join(dir, 'README.md'), '# sample\n');
  writeFileSync(join(dir, 'src', 'app.js'), 'export const x = 1;\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  const init = await runCli(['init', '--json'], { cwd: dir, env: GIT_ENV });
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  git('add', '-A');
  git('commit', '-q', '-m', 'duallane init');
  // The forge's main is the base every proposal must build on.
  publishToLocalForge(dir);
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export interface Workspace {
  dir: string;
  config: DuallaneConfig;
  ledger: Ledger;
  tokens: TokenStore;
  metrics: DuallaneMetrics;
  app: FastifyInstance;
  /** Every line the server logged. */
  logs: string[];
  git(...args: string[]): string;
  /** A unified diff changing src/app.js to `x = value` (not applied to the working tree). */
  patchFor(value: string | number): string;
  token(lane: string): Promise<string>;
  alertsToken(): Promise<string>;
  close(): Promise<void>;
}

/** A copy of the template with its own ledger, token store, metrics registry and server app. */
export async function workspace(templateDir: string, opts: Partial<ServerOptions> = {}): Promise<Workspace> {
  const root = mkdtempSync(join(tmpdir(), 'duallane-server-'));
  const dir = join(root, 'repo');
  cpSync(templateDir, dir, { recursive: true });
  const config = await loadConfig(dir);
  const ledger = opts.ledger ?? (await openLedger(config, { env: { ...process.env, DATABASE_URL: '' } }));
  const tokens = new TokenStore(join(dir, DEFAULT_TOKEN_FILE));
  const metrics = new DuallaneMetrics({ defaultMetrics: false });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const app = buildServer({ config, ledger, tokens, metrics, logger: createLogger({ name: 'server', level: 'info', destination: sink }), ...opts });
  await app.ready();
  const git = (...a: string[]) => execFileSync('git', ['-c', 'commit.gpgSign=false', ...a], { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' }).trim();
  return {
    dir,
    config,
    ledger,
    tokens,
    metrics,
    app,
    logs,
    git,
    patchFor: (value) =>
      [
        'diff --git a/src/app.js b/src/app.js',
        '--- a/src/app.js',
        '+++ b/src/app.js',
        '@@ -1 +1 @@',
        '-export const x = 1;',
        `+export const x = ${value};`,
        '',
      ].join('\n'),
    token: async (lane) => (await tokens.create({ kind: 'lane', lane })).token,
    alertsToken: async () => (await tokens.create({ kind: 'alerts' })).token,
    async close() {
      await app.close();
      if (!opts.ledger) await ledger.close().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** An Alertmanager webhook v4 body (the shape of test/observability's fixtures). */
export function alertmanagerPayload(status: 'firing' | 'resolved', alerts: { name: string; severity: string; fingerprint: string; summary?: string }[]) {
  const startsAt = '2026-11-24T03:00:00.000Z';
  return {
    version: '4',
    groupKey: '{}:{alertname="x"}',
    truncatedAlerts: 0,
    status,
    receiver: 'duallane-ledger',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.invalid',
    alerts: alerts.map((a) => ({
      status,
      labels: { alertname: a.name, severity: a.severity },
      annotations: { summary: a.summary ?? `${a.name} summary` },
      startsAt,
      endsAt: status === 'resolved' ? '2026-11-24T03:10:00.000Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.invalid/graph',
      fingerprint: a.fingerprint,
    })),
  };
}
