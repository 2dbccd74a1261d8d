import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, parseJson, runCli } from '../support/cli.js';
import { gateCommand } from '../support/services.js';
import { GIT_ENV, makeTemplate } from './fixture.js';

const promtool = gateCommand('promtool', 'prometheus');
/** The live exposition the running server answered, for the promtool check below. */
let liveMetrics = '';

// `duallane serve` as a user runs it: the built binary on a real TCP listener, stopped by signals.
let template: { dir: string; cleanup(): void };
let root: string;
let dir: string;
beforeAll(async () => {
  template = await makeTemplate();
  root = mkdtempSync(join(tmpdir(), 'duallane-serve-cli-'));
  dir = join(root, 'repo');
  cpSync(template.dir, dir, { recursive: true });
}, 120_000);
afterAll(() => {
  template?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `duallane serve --port 0 --json` and waits for the one JSON document naming the address. */
function startServe(extra: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', '--dir', dir, ...extra], { env: { ...process.env, ...GIT_ENV, CI: 'true' } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      try {
        const doc = JSON.parse(stdout) as { listening: string };
        clearTimeout(timer);
        resolve({ child, url: doc.listening, stderr: () => stderr, exited });
      } catch {
        /* not complete yet */
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code} before listening: ${stderr}`));
    });
  });
}

describe('duallane serve (built CLI, real listener)', () => {
  it('creates tokens, serves the API on loopback, logs without tokens, stops cleanly on SIGTERM and SIGINT', async () => {
    const created = await runCli(['serve', 'token', 'create', '--lane', 'codex', '--dir', dir, '--json'], { env: GIT_ENV });
    expect(created.code, created.stderr).toBe(0);
    const { token, id, laneKind, file } = parseJson<{ token: string; id: string; laneKind: string; file: string }>(created);
    expect(token).toMatch(/^dlt_[A-Za-z0-9_-]{43}$/);
    expect(laneKind).toBe('propose');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const listed = parseJson<{ tokens: { id: string }[] }>(await runCli(['serve', 'token', 'list', '--dir', dir, '--json']));
    expect(listed.tokens.map((t) => t.id)).toEqual([id]);
    expect(JSON.stringify(listed)).not.toContain(token);
    const unknownLane = await runCli(['serve', 'token', 'create', '--lane', 'nobody', '--dir', dir]);
    expect(unknownLane.code).toBe(2);
    const badPort = await runCli(['serve', '--port', 'eighty', '--dir', dir]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/^duallane: BAD_USAGE: /);
    const badLane = await runCli(['serve', '--lane', 'nobody', '--dir', dir]);
    expect([badLane.code, badLane.stderr.split(':')[1]?.trim()]).toEqual([2, 'LANE_UNKNOWN']);

    const s = await startServe();
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${s.url}/v1/handoffs`)).status).toBe(401);
      const propose = await fetch(`${s.url}/v1/handoffs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'over TCP', patch: 'diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# sample\n+# sample, proposed over HTTP\n' }),
      });
      expect(propose.status, await propose.clone().text()).toBe(201);
      const list = (await (await fetch(`${s.url}/v1/handoffs`, { headers: { authorization: `Bearer ${token}` } })).json()) as { handoffs: { title: string }[] };
      expect(list.handoffs.map((h) => h.title)).toEqual(['over TCP']);
      const metrics = await fetch(`${s.url}/metrics`);
      liveMetrics = await metrics.text();
      // The proposal was signed in this process, so its own /metrics counts it.
      expect(liveMetrics).toMatch(/^duallane_signatures_created_total\{lane="codex",kind="key"\} 1$/m);
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.stderr()).toContain('duallane serve listening');
    expect(s.stderr()).not.toContain(token.slice(4));

    // The ledger was closed cleanly: the next process (CLI, then a second server) sees the proposal.
    const after = await runCli(['handoff', 'list', '--dir', dir, '--json'], { env: GIT_ENV });
    expect(parseJson<{ title: string }[]>(after).map((h) => h.title)).toEqual(['over TCP']);
    const s2 = await startServe();
    s2.child.kill('SIGINT');
    expect(await s2.exited).toEqual({ code: 0, signal: null });
  }, 180_000);

  it.skipIf(!promtool)('its live /metrics passes `promtool check metrics` with zero findings', () => {
    expect(liveMetrics).toContain('# TYPE duallane_alerts_received_total counter');
    expect(liveMetrics).toMatch(/^process_cpu_seconds_total /m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: liveMetrics, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });
});
