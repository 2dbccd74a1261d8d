/**
 * The metric names, types and label names that code may use, for the type checker. The catalog
 * (observability/prometheus/metrics.yaml) carries help text, allowed label values and buckets; a
 * test fails when this table and the catalog disagree, so neither can drift alone.
 */
export const METRIC_DECLARATIONS = {
  duallane_build_info: { type: 'gauge', labels: ['version', 'node_major'] },
  duallane_handoffs_proposed_total: { type: 'counter', labels: ['lane'] },
  duallane_handoffs_accepted_total: { type: 'counter', labels: ['lane'] },
  duallane_handoffs_rejected_total: { type: 'counter', labels: ['lane', 'reason'] },
  duallane_handoff_propose_to_pr_duration_seconds: { type: 'histogram', labels: ['lane'] },
  duallane_pull_requests_opened_total: { type: 'counter', labels: ['forge'] },
  duallane_signatures_created_total: { type: 'counter', labels: ['lane', 'kind'] },
  duallane_attestations_created_total: { type: 'counter', labels: ['lane', 'kind'] },
  duallane_verifications_total: { type: 'counter', labels: ['result', 'reason'] },
  duallane_verification_duration_seconds: { type: 'histogram', labels: ['result'] },
  duallane_replay_attempts_total: { type: 'counter', labels: ['lane'] },
  duallane_admission_decisions_total: { type: 'counter', labels: ['policy', 'decision'] },
  duallane_admission_request_duration_seconds: { type: 'histogram', labels: ['decision'] },
  duallane_policy_bundle_verifications_total: { type: 'counter', labels: ['result', 'reason'] },
  duallane_credential_violations_total: { type: 'counter', labels: ['lane', 'kind'] },
  duallane_handoffs_pending: { type: 'gauge', labels: ['lane'] },
  duallane_handoff_oldest_pending_age_seconds: { type: 'gauge', labels: ['lane'] },
  duallane_audit_chain_intact: { type: 'gauge', labels: ['ledger'] },
  duallane_audit_chain_last_check_timestamp_seconds: { type: 'gauge', labels: ['ledger'] },
  duallane_drift_detected_total: { type: 'counter', labels: ['kind'] },
  duallane_alerts_received_total: { type: 'counter', labels: ['status', 'severity'] },
} as const satisfies Record<string, { type: MetricType; labels: readonly string[] }>;

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type MetricName = keyof typeof METRIC_DECLARATIONS;
type Decl = typeof METRIC_DECLARATIONS;
export type MetricOfType<T extends MetricType> = { [K in MetricName]: Decl[K]['type'] extends T ? K : never }[MetricName];
export type CounterName = MetricOfType<'counter'>;
export type GaugeName = MetricOfType<'gauge'>;
export type HistogramName = MetricOfType<'histogram'>;
/** The label object a metric takes: every declared label, as a string. */
export type LabelsOf<N extends MetricName> = { [L in Decl[N]['labels'][number]]: string };
