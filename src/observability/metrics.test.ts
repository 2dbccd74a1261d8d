import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuallaneMetrics, compareWithDeclarations } from './metrics.js';
import { loadCatalog, validateCatalog } from './metrics-catalog.js';
import { METRIC_DECLARATIONS } from './metric-names.js';
import { ObservabilityError } from './observability-error.js';

const catalog = loadCatalog();

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ObservabilityError ? e.code : `not ObservabilityError: ${String(e)}`;
  }
  return undefined;
}

describe('metric catalog', () => {
  it('has at least 15 duallane_ metrics and agrees with metric-names.ts', () => {
    expect(catalog.metrics.length).toBeGreaterThanOrEqual(15);
    expect(compareWithDeclarations(catalog)).toEqual([]);
  });

  it('detects a catalog that drifted from the code', () => {
    const drifted = structuredClone(catalog);
    drifted.metrics = drifted.metrics.filter((m) => m.name !== 'duallane_replay_attempts_total');
    drifted.metrics[1]!.labels = [];
    const problems = compareWithDeclarations(drifted);
    expect(problems.some((p) => p.startsWith('duallane_replay_attempts_total: declared'))).toBe(true);
    expect(problems.some((p) => p.startsWith(`${drifted.metrics[1]!.name}: catalog labels []`))).toBe(true);
  });

  it('reports every problem with its path', () => {
    const { errors } = validateCatalog({
      version: 1,
      metrics: [
        { name: 'duallane_x', type: 'counter', help: 'a counter without _total', labels: [{ name: 'id', pattern: '.*' }] },
        { name: 'duallane_y_seconds', type: 'histogram', help: 'histogram with no buckets', labels: [{ name: 'l', values: ['a'], fallback: 'b' }] },
      ],
    });
    expect(errors.map((e) => e.path).sort()).toEqual(['metrics[0].labels[0].pattern', 'metrics[0].name', 'metrics[1].buckets', 'metrics[1].labels[0].fallback']);
  });

  it('a catalog file with problems is refused with file:line for each', () => {
    const dir = mkdtempSync(join(tmpdir(), 'duallane-catalog-'));
    const file = join(dir, 'metrics.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'metrics:',
        '  - name: duallane_ok_total',
        '    type: counter',
        '    help: A perfectly good counter.',
        '    labels: []',
        '  - name: duallane_bad',
        '    type: counter',
        '    help: A counter without its suffix.',
        '    labels: []',
      ].join('\n'),
    );
    try {
      loadCatalog(file);
      expect.unreachable();
    } catch (e) {
      expect((e as ObservabilityError).code).toBe('CATALOG_INVALID');
      expect((e as ObservabilityError).message).toContain(`${file}:7: metrics[1].name: counter names end in _total`);
    }
    writeFileSync(file, 'version: 1\nmetrics: [\n');
    expect(code(() => loadCatalog(file))).toBe('CATALOG_INVALID');
    expect(code(() => loadCatalog(join(dir, 'missing.yaml')))).toBe('CATALOG_UNREADABLE');
    rmSync(dir, { recursive: true, force: true });
  });

  it('every registered metric matches the catalog (name, type, help, labels)', async () => {
    const m = new DuallaneMetrics({ defaultMetrics: false });
    const json = await m.registry.getMetricsAsJSON();
    expect(json.map((j) => j.name).sort()).toEqual(catalog.metrics.map((c) => c.name).sort());
    for (const spec of catalog.metrics) {
      const got = json.find((j) => j.name === spec.name)!;
      expect(got.type).toBe(spec.type);
      expect(got.help).toBe(spec.help);
    }
    expect(Object.keys(METRIC_DECLARATIONS).sort()).toEqual(catalog.metrics.map((c) => c.name).sort());
  });
});

describe('bounded accessors', () => {
  it('counts with catalog label values and renders them', async () => {
    const m = new DuallaneMetrics({ defaultMetrics: false, version: '1.2.3' });
    m.counter('duallane_handoffs_proposed_total').inc({ lane: 'codex' });
    m.counter('duallane_handoffs_proposed_total').inc({ lane: 'codex' }, 2);
    m.histogram('duallane_verification_duration_seconds').observe({ result: 'success' }, 0.02);
    m.gauge('duallane_audit_chain_intact').set({ ledger: 'postgres' }, 1);
    const text = await m.render();
    expect(text).toContain('duallane_handoffs_proposed_total{lane="codex"} 3');
    expect(text).toContain('duallane_verification_duration_seconds_bucket{le="0.025",result="success"} 1');
    expect(text).toContain('duallane_audit_chain_intact{ledger="postgres"} 1');
    expect(text).toMatch(/duallane_build_info\{version="1\.2\.3",node_major="\d+"\} 1/);
    // zero-initialised bounded series exist before the first event
    expect(text).toContain('duallane_replay_attempts_total{lane="claude"} 0');
  });

  it('refuses values outside the bounded set, unknown and missing labels, unknown metrics', () => {
    const m = new DuallaneMetrics({ defaultMetrics: false });
    expect(code(() => m.counter('duallane_verifications_total').inc({ result: 'maybe', reason: 'none' }))).toBe('LABEL_VALUE_UNBOUNDED');
    expect(code(() => m.counter('duallane_admission_decisions_total').inc({ policy: 'none', decision: 'sha256:abc' }))).toBe('LABEL_VALUE_UNBOUNDED');
    expect(code(() => m.counter('duallane_handoffs_proposed_total').inc({ lane: 'codex', handoff: '01HX' } as never))).toBe('LABEL_UNKNOWN');
    expect(code(() => m.counter('duallane_handoffs_rejected_total').inc({ lane: 'codex' } as never))).toBe('LABEL_MISSING');
    expect(code(() => m.counter('duallane_nope_total' as never))).toBe('METRIC_UNKNOWN');
    expect(code(() => m.counter('duallane_handoffs_pending' as never))).toBe('METRIC_TYPE_MISMATCH');
  });

  it('the accessor types reject wrong metric kinds and missing labels at compile time', () => {
    const m = new DuallaneMetrics({ defaultMetrics: false });
    const never = (fn: () => void) => expect(fn).toBeTypeOf('function');
    // @ts-expect-error a gauge is not a counter
    never(() => m.counter('duallane_handoffs_pending'));
    // @ts-expect-error the lane label is required
    never(() => m.counter('duallane_handoffs_proposed_total').inc());
    // @ts-expect-error histograms take seconds, not labels only
    never(() => m.histogram('duallane_verification_duration_seconds').observe({ result: 'success' }));
    // @ts-expect-error no such label
    never(() => m.counter('duallane_replay_attempts_total').inc({ lane: 'codex', id: 'x' }));
  });

  it('maps a value outside a set with a fallback to the fallback, never to a new series', async () => {
    const m = new DuallaneMetrics({ defaultMetrics: false });
    m.counter('duallane_handoffs_proposed_total').inc({ lane: 'a-configured-lane-name' });
    m.counter('duallane_admission_decisions_total').inc({ policy: 'some/new/policy', decision: 'deny' });
    const text = await m.render();
    expect(text).toContain('duallane_handoffs_proposed_total{lane="other"} 1');
    expect(text).toContain('duallane_admission_decisions_total{policy="other",decision="deny"} 1');
    expect(text).not.toContain('a-configured-lane-name');
  });

  it('refuses a build_info version that does not match the pattern', () => {
    expect(code(() => new DuallaneMetrics({ defaultMetrics: false, version: 'main/../../etc' }))).toBe('LABEL_VALUE_UNBOUNDED');
  });

  it('keeps the whole exposition bounded (series count)', async () => {
    const m = new DuallaneMetrics({ defaultMetrics: false });
    const series = (await m.render()).split('\n').filter((l) => l.startsWith('duallane_')).length;
    expect(series).toBeLessThan(1500);
  });
});
