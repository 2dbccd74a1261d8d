export { ObservabilityError, OBSERVABILITY_CODES, type ObservabilityErrorCode } from './observability-error.js';
export { loadCatalog, validateCatalog, DEFAULT_CATALOG_PATH, type MetricCatalog, type CatalogMetric, type CatalogLabel, type CatalogProblem } from './metrics-catalog.js';
export {
  METRIC_DECLARATIONS,
  type MetricName,
  type MetricType,
  type CounterName,
  type GaugeName,
  type HistogramName,
  type LabelsOf,
} from './metric-names.js';
export {
  DuallaneMetrics,
  getMetrics,
  renderMetrics,
  metricsHandler,
  boundLabels,
  compareWithDeclarations,
  type MetricsOptions,
  type BoundedCounter,
  type BoundedGauge,
  type BoundedHistogram,
} from './metrics.js';
export { DUALLANE_VERSION } from './version.js';
export { normalizeAlertmanagerPayload, countReceivedAlerts, type AlertmanagerPayload, type AlertRecord, type NormalizedAlerts } from './alerts-webhook.js';
export { buildDashboard, renderDashboard, dashboardIsCurrent, dashboardMetricNames, DASHBOARD_UID, DEFAULT_DASHBOARD_PATH } from './dashboard.js';
export {
  withSpan,
  traceSpans,
  stepSpans,
  SPAN_ATTRIBUTES,
  type DuallaneSpanName,
  type DuallaneSpanAttributes,
  type SpanHandle,
} from './tracing.js';
export { initTracing, selectTraceExporters, type TracingOptions, type TracingSetup, type TraceExporterKind } from './tracing-setup.js';
export { createLogger, scrubSecrets, REDACTED, REDACT_PATHS, type LoggerFactoryOptions } from './logger.js';
export { recordLedgerSnapshot, type LedgerSnapshot } from './ledger-gauges.js';
