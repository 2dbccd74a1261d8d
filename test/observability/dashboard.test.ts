import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DASHBOARD_PATH, loadCatalog, renderDashboard } from '../../src/observability/index.js';
import { parseJson, runCli } from '../support/cli.js';

interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource: { uid: string } }[];
}
const committed = readFileSync(DEFAULT_DASHBOARD_PATH, 'utf8');
const dashboard = JSON.parse(committed) as { uid: string; __inputs: { name: string; pluginId: string }[]; panels: Panel[] };
const catalog = loadCatalog();
const names = new Set(catalog.metrics.map((m) => m.name));

describe('Grafana dashboard', () => {
  it('the committed file is exactly what the generator produces', () => {
    expect(renderDashboard()).toBe(committed);
  });

  it('has a stable uid and takes its data source from the DS_PROMETHEUS import input', () => {
    expect(dashboard.uid).toBe('duallane-supply-chain');
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', pluginId: 'prometheus', type: 'datasource' })]);
    const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      for (const t of p.targets ?? []) expect(t.datasource.uid).toBe('${DS_PROMETHEUS}');
    }
  });

  it('every panel query names a catalog metric, and every catalog metric has a panel', () => {
    const used = new Set<string>();
    const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queryPanels.length).toBeGreaterThanOrEqual(15);
    for (const p of queryPanels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        const metrics = (t.expr.match(/duallane_[a-z0-9_]+/g) ?? []).map((m) => m.replace(/_bucket$/, ''));
        expect(metrics.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const m of metrics) {
          expect(names.has(m), `${p.title}: ${m}`).toBe(true);
          used.add(m);
        }
      }
      // descriptions are the catalog's help text
      expect(catalog.metrics.some((m) => m.help === p.description), p.title).toBe(true);
    }
    expect([...names].filter((n) => !used.has(n))).toEqual([]);
  });

  it('duallane dashboard generate --check passes on the committed file and fails on a changed one', async () => {
    const ok = await runCli(['dashboard', 'generate', '--check', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseJson<{ current: boolean }>(ok).current).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'duallane-dash-'));
    const copy = join(dir, 'd.json');
    copyFileSync(DEFAULT_DASHBOARD_PATH, copy);
    writeFileSync(copy, readFileSync(copy, 'utf8').replace('"duallane supply chain"', '"edited by hand"'));
    const bad = await runCli(['dashboard', 'generate', '--check', '--out', copy]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('DASHBOARD_OUT_OF_DATE');
    const regen = await runCli(['dashboard', 'generate', '--out', copy]);
    expect(regen.code).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(committed);
    rmSync(dir, { recursive: true, force: true });
  });
});
