import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DuallaneMetrics, loadCatalog } from '../../src/observability/index.js';
import { gateCommand } from '../support/services.js';

const dir = fileURLToPath(new URL('../../observability/', import.meta.url));
const rulesFile = `${dir}prometheus/alerts.yaml`;
const rulesTest = `${dir}prometheus/tests/alerts.test.yaml`;
const amConfig = `${dir}alertmanager/alertmanager.yml`;

interface Rule {
  alert: string;
  expr: string;
  labels: { severity: string };
}
const rules = (parseYaml(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const catalogNames = new Set(loadCatalog().metrics.map((m) => m.name));

describe('alert rules (static)', () => {
  it('cover every alert the issue lists and name only catalog metrics', () => {
    const names = rules.map((r) => r.alert);
    for (const want of ['AdmissionDenied', 'VerificationFailures', 'ReplayAttempt', 'CredentialViolation', 'AuditChainBroken', 'HandoffStuck', 'AdmissionWebhookSlow']) {
      expect(names).toContain(`Duallane${want}`);
    }
    for (const r of rules) {
      const used = r.expr.match(/duallane_[a-z0-9_]+/g) ?? [];
      expect(used.length, r.alert).toBeGreaterThan(0);
      for (const u of used) expect(catalogNames.has(u.replace(/_(bucket|sum|count)$/, '')), `${r.alert}: ${u}`).toBe(true);
      expect(['critical', 'warning', 'info']).toContain(r.labels.severity);
    }
  });

  it('every runbook_url points at a heading in docs/observability.md', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/observability.md', import.meta.url)), 'utf8');
    const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const r of rules as (Rule & { annotations: { runbook_url: string } })[]) {
      const anchor = r.annotations.runbook_url.split('#')[1]!;
      expect(anchors.has(anchor), `${r.alert}: #${anchor}`).toBe(true);
    }
  });

  it('every alert has a unit test where it fires and one where it stays quiet', () => {
    const doc = parseYaml(readFileSync(rulesTest, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = doc.tests.flatMap((t) => t.alert_rule_test);
    for (const r of rules) {
      expect(cases.some((c) => c.alertname === r.alert && c.exp_alerts.length > 0), `${r.alert} fires`).toBe(true);
      expect(cases.some((c) => c.alertname === r.alert && c.exp_alerts.length === 0), `${r.alert} quiet`).toBe(true);
    }
  });
});

describe.skipIf(!gateCommand('promtool', 'prometheus'))('promtool', () => {
  it('check rules is clean', () => {
    const r = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('test rules passes', () => {
    const r = spawnSync('promtool', ['test', 'rules', rulesTest], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('no alert fires on the exposition of a freshly started process (two hours of it)', async () => {
    const fresh = await new DuallaneMetrics({ defaultMetrics: false }).render();
    const series = fresh
      .split('\n')
      .filter((l) => l.startsWith('duallane_'))
      .map((l) => {
        const cut = l.lastIndexOf(' ');
        return { series: l.slice(0, cut), values: `${l.slice(cut + 1)}x120` };
      });
    expect(series.length).toBeGreaterThan(50);
    const doc = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: series,
          alert_rule_test: rules.flatMap((r) => ['5m', '90m'].map((t) => ({ eval_time: t, alertname: r.alert, exp_alerts: [] }))),
        },
      ],
    };
    const tmp = mkdtempSync(join(tmpdir(), 'duallane-rules-'));
    writeFileSync(join(tmp, 'fresh.test.yaml'), stringifyYaml(doc));
    const r = spawnSync('promtool', ['test', 'rules', join(tmp, 'fresh.test.yaml')], { encoding: 'utf8' });
    rmSync(tmp, { recursive: true, force: true });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('test rules fails when an expectation is wrong (the harness can fail)', () => {
    const broken = readFileSync(rulesTest, 'utf8')
      .replace('../alerts.yaml', rulesFile)
      .replace("'1 admission request(s)", "'7 admission request(s)");
    const tmp = mkdtempSync(join(tmpdir(), 'duallane-rules-'));
    writeFileSync(join(tmp, 'broken.test.yaml'), broken);
    const r = spawnSync('promtool', ['test', 'rules', join(tmp, 'broken.test.yaml')], { encoding: 'utf8' });
    rmSync(tmp, { recursive: true, force: true });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('DuallaneAdmissionDenied');
  });
});

describe.skipIf(!gateCommand('amtool', 'prometheus-alertmanager'))('alertmanager config', () => {
  it('amtool check-config is clean', () => {
    const r = spawnSync('amtool', ['check-config', amConfig], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('routes every severity: all to the ledger webhook, critical and warning also to people', () => {
    const route = (severity: string) =>
      spawnSync('amtool', ['config', 'routes', 'test', `--config.file=${amConfig}`, `severity=${severity}`, 'alertname=DuallaneX'], { encoding: 'utf8' }).stdout.trim();
    expect(route('critical')).toBe('duallane-ledger,security-critical');
    expect(route('warning')).toBe('duallane-ledger,security-warning');
    expect(route('info')).toBe('duallane-ledger');
    for (const r of rules) expect(route(r.labels.severity)).toMatch(/^duallane-ledger/);
  });

  it('the ledger receiver posts to duallane serve /v1/alerts with resolved notifications', () => {
    const cfg = parseYaml(readFileSync(amConfig, 'utf8')) as { receivers: { name: string; webhook_configs?: { url: string; send_resolved: boolean }[] }[] };
    const hook = cfg.receivers.find((r) => r.name === 'duallane-ledger')!.webhook_configs![0]!;
    expect(new URL(hook.url).pathname).toBe('/v1/alerts');
    expect(hook.send_resolved).toBe(true);
  });
});
