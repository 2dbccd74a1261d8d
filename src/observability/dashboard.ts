import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DashboardBuilder, DashboardCursorSync, CustomVariableBuilder, RowBuilder, ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { loadCatalog, type MetricCatalog } from './metrics-catalog.js';
import type { MetricName } from './metric-names.js';
import { ObservabilityError } from './observability-error.js';

export const DASHBOARD_UID = 'duallane-supply-chain';
export const DEFAULT_DASHBOARD_PATH = fileURLToPath(new URL('../../observability/grafana/dashboards/duallane-supply-chain.json', import.meta.url));

/** Panels reference the data source through this import input, as Grafana's "Export for sharing" does. */
const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

interface PanelSpec {
  title: string;
  kind: 'timeseries' | 'stat';
  /** The catalog metric the panel is about; its help text becomes the panel description. */
  metric: MetricName;
  queries: { expr: string; legend: string }[];
  unit?: string;
  w: number;
  /** stat panels: the value at or above which the panel turns red (green below). */
  redAt?: number;
  /** stat panels: red below this value instead (e.g. audit chain intact = 1). */
  redBelow?: number;
}

const LANE = 'lane=~"$lane"';
const rate = (metric: string, by: string, filter = '') => `sum by (${by}) (rate(${metric}${filter ? `{${filter}}` : ''}[$__rate_interval]))`;
const quantile = (q: number, metric: string, by: string, filter = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket${filter ? `{${filter}}` : ''}[$__rate_interval])))`;

/** The dashboard's layout: rows of panels, each panel naming the catalog metric it shows. */
const ROWS: { title: string; panels: PanelSpec[] }[] = [
  {
    title: 'Handoffs',
    panels: [
      { title: 'Pending handoffs', kind: 'stat', metric: 'duallane_handoffs_pending', queries: [{ expr: `sum(duallane_handoffs_pending{${LANE}})`, legend: 'pending' }], w: 4 },
      { title: 'Oldest pending handoff', kind: 'stat', metric: 'duallane_handoff_oldest_pending_age_seconds', unit: 's', redAt: 3600, queries: [{ expr: `max(duallane_handoff_oldest_pending_age_seconds{${LANE}})`, legend: 'age' }], w: 4 },
      { title: 'Replay attempts (24h)', kind: 'stat', metric: 'duallane_replay_attempts_total', redAt: 1, queries: [{ expr: `sum(increase(duallane_replay_attempts_total{${LANE}}[24h]))`, legend: 'replays' }], w: 4 },
      { title: 'Pull requests opened (24h)', kind: 'stat', metric: 'duallane_pull_requests_opened_total', queries: [{ expr: 'sum(increase(duallane_pull_requests_opened_total[24h]))', legend: 'PRs' }], w: 4 },
      { title: 'Handoffs accepted (24h)', kind: 'stat', metric: 'duallane_handoffs_accepted_total', queries: [{ expr: `sum(increase(duallane_handoffs_accepted_total{${LANE}}[24h]))`, legend: 'accepted' }], w: 4 },
      { title: 'Handoffs rejected (24h)', kind: 'stat', metric: 'duallane_handoffs_rejected_total', redAt: 1, queries: [{ expr: `sum(increase(duallane_handoffs_rejected_total{${LANE}}[24h]))`, legend: 'rejected' }], w: 4 },
      { title: 'Proposed per second', kind: 'timeseries', metric: 'duallane_handoffs_proposed_total', unit: 'ops', queries: [{ expr: rate('duallane_handoffs_proposed_total', 'lane', LANE), legend: '{{lane}}' }], w: 8 },
      { title: 'Rejected by reason', kind: 'timeseries', metric: 'duallane_handoffs_rejected_total', unit: 'ops', queries: [{ expr: rate('duallane_handoffs_rejected_total', 'reason', LANE), legend: '{{reason}}' }], w: 8 },
      {
        title: 'Propose to pull request',
        kind: 'timeseries',
        metric: 'duallane_handoff_propose_to_pr_duration_seconds',
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'duallane_handoff_propose_to_pr_duration_seconds', '', LANE), legend: 'p50' },
          { expr: quantile(0.95, 'duallane_handoff_propose_to_pr_duration_seconds', '', LANE), legend: 'p95' },
        ],
        w: 8,
      },
    ],
  },
  {
    title: 'Signing and verification',
    panels: [
      { title: 'Signatures by kind', kind: 'timeseries', metric: 'duallane_signatures_created_total', unit: 'ops', queries: [{ expr: rate('duallane_signatures_created_total', 'lane, kind', LANE), legend: '{{lane}} {{kind}}' }], w: 8 },
      { title: 'Attestations by kind', kind: 'timeseries', metric: 'duallane_attestations_created_total', unit: 'ops', queries: [{ expr: rate('duallane_attestations_created_total', 'kind', LANE), legend: '{{kind}}' }], w: 8 },
      { title: 'Verification failures by reason', kind: 'timeseries', metric: 'duallane_verifications_total', unit: 'ops', queries: [{ expr: rate('duallane_verifications_total', 'reason', 'result="failure"'), legend: '{{reason}}' }], w: 8 },
      {
        title: 'Verifications by result',
        kind: 'timeseries',
        metric: 'duallane_verifications_total',
        unit: 'ops',
        queries: [{ expr: rate('duallane_verifications_total', 'result'), legend: '{{result}}' }],
        w: 8,
      },
      {
        title: 'Verification duration',
        kind: 'timeseries',
        metric: 'duallane_verification_duration_seconds',
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'duallane_verification_duration_seconds', 'result'), legend: 'p50 {{result}}' },
          { expr: quantile(0.95, 'duallane_verification_duration_seconds', 'result'), legend: 'p95 {{result}}' },
        ],
        w: 8,
      },
      { title: 'Policy bundle verifications', kind: 'timeseries', metric: 'duallane_policy_bundle_verifications_total', unit: 'ops', queries: [{ expr: rate('duallane_policy_bundle_verifications_total', 'result, reason'), legend: '{{result}} {{reason}}' }], w: 8 },
    ],
  },
  {
    title: 'Admission',
    panels: [
      { title: 'Admission decisions', kind: 'timeseries', metric: 'duallane_admission_decisions_total', unit: 'reqps', queries: [{ expr: rate('duallane_admission_decisions_total', 'decision'), legend: '{{decision}}' }], w: 8 },
      { title: 'Denials by policy', kind: 'timeseries', metric: 'duallane_admission_decisions_total', unit: 'reqps', queries: [{ expr: rate('duallane_admission_decisions_total', 'policy', 'decision="deny"'), legend: '{{policy}}' }], w: 8 },
      {
        title: 'Admission latency',
        kind: 'timeseries',
        metric: 'duallane_admission_request_duration_seconds',
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'duallane_admission_request_duration_seconds', ''), legend: 'p50' },
          { expr: quantile(0.99, 'duallane_admission_request_duration_seconds', ''), legend: 'p99' },
        ],
        w: 8,
      },
    ],
  },
  {
    title: 'Integrity and credentials',
    panels: [
      { title: 'Audit chain intact', kind: 'stat', metric: 'duallane_audit_chain_intact', redBelow: 1, queries: [{ expr: 'min(duallane_audit_chain_intact)', legend: 'intact' }], w: 4 },
      { title: 'Since last audit-chain check', kind: 'stat', metric: 'duallane_audit_chain_last_check_timestamp_seconds', unit: 's', redAt: 3600, queries: [{ expr: 'time() - max(duallane_audit_chain_last_check_timestamp_seconds)', legend: 'age' }], w: 4 },
      { title: 'Credential violations', kind: 'timeseries', metric: 'duallane_credential_violations_total', unit: 'short', queries: [{ expr: `sum by (lane, kind) (increase(duallane_credential_violations_total{${LANE}}[$__rate_interval]))`, legend: '{{lane}} {{kind}}' }], w: 8 },
      { title: 'Drift findings', kind: 'timeseries', metric: 'duallane_drift_detected_total', unit: 'short', queries: [{ expr: 'sum by (kind) (increase(duallane_drift_detected_total[$__rate_interval]))', legend: '{{kind}}' }], w: 8 },
      { title: 'Alerts received', kind: 'timeseries', metric: 'duallane_alerts_received_total', unit: 'short', queries: [{ expr: 'sum by (severity, status) (increase(duallane_alerts_received_total[$__rate_interval]))', legend: '{{severity}} {{status}}' }], w: 12 },
      { title: 'Running versions', kind: 'stat', metric: 'duallane_build_info', queries: [{ expr: 'count by (version) (duallane_build_info)', legend: '{{version}}' }], w: 12 },
    ],
  },
];

/** Every metric name a panel query uses (for tests and reviewers). */
export function dashboardMetricNames(): MetricName[] {
  return [...new Set(ROWS.flatMap((r) => r.panels.map((p) => p.metric)))];
}

/**
 * Builds the dashboard with the Grafana Foundation SDK. Panel descriptions come from the catalog's
 * help text, the lane variable from the catalog's lane values; a panel naming a metric that the
 * catalog lacks is an error, so the dashboard cannot drift from what we export.
 */
export function buildDashboard(catalog: MetricCatalog = loadCatalog()): Record<string, unknown> {
  const help = new Map(catalog.metrics.map((m) => [m.name, m]));
  const lanes = help.get('duallane_handoffs_proposed_total')?.labels.find((l) => l.name === 'lane')?.values ?? ['codex', 'claude'];

  const builder = new DashboardBuilder('duallane supply chain')
    .uid(DASHBOARD_UID)
    .description('Handoffs, signatures, verification, admission and ledger integrity for duallane. Generated from observability/prometheus/metrics.yaml.')
    .tags(['duallane', 'supply-chain', 'security', 'generated'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(
      new CustomVariableBuilder('lane')
        .label('Lane')
        .values(lanes.join(','))
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    );

  for (const row of ROWS) {
    builder.withRow(new RowBuilder(row.title));
    for (const p of row.panels) {
      const spec = help.get(p.metric);
      if (!spec) throw new ObservabilityError('METRIC_UNKNOWN', `dashboard panel "${p.title}" names ${p.metric}, which is not in the catalog`);
      for (const q of p.queries) {
        if (!q.expr.includes(p.metric)) throw new ObservabilityError('METRIC_UNKNOWN', `dashboard panel "${p.title}" query does not use ${p.metric}`);
      }
      const targets = p.queries.map((q, i) =>
        new DataqueryBuilder()
          .datasource(DS)
          .expr(q.expr)
          .legendFormat(q.legend)
          .refId(String.fromCharCode(65 + i)),
      );
      if (p.kind === 'stat') {
        const steps = [{ value: null as unknown as number, color: p.redBelow !== undefined ? 'red' : 'green' }];
        if (p.redAt !== undefined) steps.push({ value: p.redAt, color: 'red' });
        if (p.redBelow !== undefined) steps.push({ value: p.redBelow, color: 'green' });
        const panel = new StatPanelBuilder()
          .title(p.title)
          .description(spec.help)
          .datasource(DS)
          .height(4)
          .span(p.w)
          .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
        if (p.unit) panel.unit(p.unit);
        for (const t of targets) panel.withTarget(t);
        builder.withPanel(panel);
      } else {
        const panel = new TimeseriesPanelBuilder().title(p.title).description(spec.help).datasource(DS).height(8).span(p.w).min(0);
        if (p.unit) panel.unit(p.unit);
        for (const t of targets) panel.withTarget(t);
        builder.withPanel(panel);
      }
    }
  }

  const dashboard = builder.build() as unknown as Record<string, unknown>;
  return {
    __inputs: [
      { name: 'DS_PROMETHEUS', label: 'Prometheus', description: 'Prometheus that scrapes duallane /metrics', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' },
    ],
    __elements: {},
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      { type: 'panel', id: 'stat', name: 'Stat', version: '' },
      { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
    ],
    ...dashboard,
  };
}

/** The dashboard file's exact text: stable key order, two-space indent, trailing newline. */
export function renderDashboard(catalog?: MetricCatalog): string {
  return JSON.stringify(buildDashboard(catalog), null, 2) + '\n';
}

/** True when the committed dashboard file equals a fresh generation. */
export function dashboardIsCurrent(path: string = DEFAULT_DASHBOARD_PATH): boolean {
  try {
    return readFileSync(path, 'utf8') === renderDashboard();
  } catch {
    return false;
  }
}
