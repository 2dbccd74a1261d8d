import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { loadCatalog, type CatalogLabel, type CatalogMetric, type MetricCatalog } from './metrics-catalog.js';
import {
  METRIC_DECLARATIONS,
  type CounterName,
  type GaugeName,
  type HistogramName,
  type LabelsOf,
  type MetricName,
  type MetricType,
} from './metric-names.js';
import { ObservabilityError } from './observability-error.js';
import { DUALLANE_VERSION } from './version.js';

/** Metrics without labels take no label object; the rest take every declared label first. */
type Args<N extends MetricName, Tail extends unknown[]> = keyof LabelsOf<N> extends never ? Tail : [labels: LabelsOf<N>, ...Tail];

export interface BoundedCounter<N extends CounterName> {
  inc(...args: Args<N, [value?: number]>): void;
}
export interface BoundedGauge<N extends GaugeName> {
  set(...args: Args<N, [value: number]>): void;
  inc(...args: Args<N, [value?: number]>): void;
  dec(...args: Args<N, [value?: number]>): void;
}
export interface BoundedHistogram<N extends HistogramName> {
  observe(...args: Args<N, [seconds: number]>): void;
  /** Starts a timer; call the returned function to observe the elapsed seconds. */
  startTimer(...args: Args<N, []>): () => number;
}

export interface MetricsOptions {
  /** Defaults to the shipped catalog (observability/prometheus/metrics.yaml). */
  catalog?: MetricCatalog;
  /** The version reported by duallane_build_info. */
  version?: string;
  /** Also export prom-client's process_* and nodejs_* metrics. Default true. */
  defaultMetrics?: boolean;
}

/**
 * The duallane metrics of one process: a prom-client registry holding exactly the catalog's metrics,
 * reached through accessors that refuse label values outside the catalog's bounded sets.
 */
export class DuallaneMetrics {
  readonly registry = new Registry();
  private readonly byName = new Map<string, { spec: CatalogMetric; metric: Counter | Gauge | Histogram }>();

  constructor(opts: MetricsOptions = {}) {
    const catalog = opts.catalog ?? loadCatalog();
    for (const spec of catalog.metrics) {
      const config = { name: spec.name, help: spec.help, labelNames: spec.labels.map((l) => l.name), registers: [this.registry] };
      const metric =
        spec.type === 'counter'
          ? new Counter(config)
          : spec.type === 'gauge'
            ? new Gauge(config)
            : new Histogram({ ...config, buckets: spec.buckets ?? [] });
      this.byName.set(spec.name, { spec, metric });
      // Zero-initialise every bounded series so rate() and increase() see the first event.
      if (spec.type !== 'gauge' && spec.labels.every((l) => l.values)) {
        for (const combo of combinations(spec.labels)) {
          if (metric instanceof Counter) metric.inc(combo, 0);
          else if (metric instanceof Histogram) metric.zero(combo);
        }
      }
    }
    if (this.byName.has('duallane_build_info')) {
      this.gauge('duallane_build_info').set(
        { version: opts.version ?? DUALLANE_VERSION, node_major: process.versions.node.split('.')[0] ?? '0' },
        1,
      );
    }
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client exports these gauges with a counter's _total suffix, which `promtool check metrics`
      // flags; the same numbers remain as nodejs_active_{handles,requests,resources} without it.
      for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(n);
      }
    }
  }

  counter<N extends CounterName>(name: N): BoundedCounter<N> {
    const { spec, metric } = this.lookup(name, 'counter');
    const c = metric as Counter;
    return {
      inc: (...args: unknown[]) => {
        const [labels, value] = splitArgs(spec, args);
        c.inc(labels, value ?? 1);
      },
    } as BoundedCounter<N>;
  }

  gauge<N extends GaugeName>(name: N): BoundedGauge<N> {
    const { spec, metric } = this.lookup(name, 'gauge');
    const g = metric as Gauge;
    return {
      set: (...args: unknown[]) => {
        const [labels, value] = splitArgs(spec, args);
        g.set(labels, value ?? 0);
      },
      inc: (...args: unknown[]) => {
        const [labels, value] = splitArgs(spec, args);
        g.inc(labels, value ?? 1);
      },
      dec: (...args: unknown[]) => {
        const [labels, value] = splitArgs(spec, args);
        g.dec(labels, value ?? 1);
      },
    } as BoundedGauge<N>;
  }

  histogram<N extends HistogramName>(name: N): BoundedHistogram<N> {
    const { spec, metric } = this.lookup(name, 'histogram');
    const h = metric as Histogram;
    return {
      observe: (...args: unknown[]) => {
        const [labels, value] = splitArgs(spec, args);
        h.observe(labels, value ?? 0);
      },
      startTimer: (...args: unknown[]) => {
        const [labels] = splitArgs(spec, args);
        return h.startTimer(labels);
      },
    } as BoundedHistogram<N>;
  }

  /** Prometheus text exposition (version 0.0.4) of every registered metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private lookup(name: string, type: MetricType): { spec: CatalogMetric; metric: Counter | Gauge | Histogram } {
    const found = this.byName.get(name);
    if (!found) throw new ObservabilityError('METRIC_UNKNOWN', `metric ${name} is not in the catalog`);
    if (found.spec.type !== type) {
      throw new ObservabilityError('METRIC_TYPE_MISMATCH', `metric ${name} is a ${found.spec.type}, not a ${type}`);
    }
    return found;
  }
}

function splitArgs(spec: CatalogMetric, args: unknown[]): [Record<string, string>, number | undefined] {
  let labels: unknown = {};
  let value: unknown;
  if (typeof args[0] === 'object' && args[0] !== null) [labels, value] = args;
  else [value] = args;
  return [boundLabels(spec, labels as Record<string, unknown>), typeof value === 'number' ? value : undefined];
}

/**
 * Maps caller labels onto the catalog's bounded sets. A value outside the set throws
 * LABEL_VALUE_UNBOUNDED unless the label declares a fallback: an id or path must never become a
 * series, because each distinct value costs memory in every Prometheus that scrapes us.
 */
export function boundLabels(spec: CatalogMetric, given: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(given)) {
    if (!spec.labels.some((l) => l.name === key)) {
      throw new ObservabilityError('LABEL_UNKNOWN', `metric ${spec.name} has no label ${key}`);
    }
  }
  for (const label of spec.labels) {
    const raw = given[label.name];
    if (raw === undefined || raw === null) throw new ObservabilityError('LABEL_MISSING', `metric ${spec.name} needs label ${label.name}`);
    const value = String(raw);
    out[label.name] = boundValue(spec.name, label, value);
  }
  return out;
}

function boundValue(metric: string, label: CatalogLabel, value: string): string {
  if (label.values) {
    if (label.values.includes(value)) return value;
    if (label.fallback !== undefined) return label.fallback;
  } else if (label.pattern && new RegExp(label.pattern).test(value)) {
    return value;
  }
  // The value is not echoed in full: it may be the very id or path we refuse to record.
  throw new ObservabilityError(
    'LABEL_VALUE_UNBOUNDED',
    `metric ${metric} label ${label.name}: value is not in the catalog's bounded set (${JSON.stringify(value.slice(0, 40))})`,
  );
}

function combinations(labels: CatalogLabel[]): Record<string, string>[] {
  let acc: Record<string, string>[] = [{}];
  for (const l of labels) acc = acc.flatMap((partial) => (l.values ?? []).map((v) => ({ ...partial, [l.name]: v })));
  return acc;
}

/** The table in metric-names.ts and the catalog must agree; returns every disagreement. */
export function compareWithDeclarations(catalog: MetricCatalog): string[] {
  const problems: string[] = [];
  const declared = METRIC_DECLARATIONS as Record<string, { type: MetricType; labels: readonly string[] }>;
  for (const m of catalog.metrics) {
    const d = declared[m.name];
    if (!d) {
      problems.push(`${m.name}: in the catalog, not declared in metric-names.ts`);
      continue;
    }
    if (d.type !== m.type) problems.push(`${m.name}: catalog type ${m.type}, declared ${d.type}`);
    const labels = m.labels.map((l) => l.name).join(',');
    if (labels !== d.labels.join(',')) problems.push(`${m.name}: catalog labels [${labels}], declared [${d.labels.join(',')}]`);
  }
  for (const name of Object.keys(declared)) {
    if (!catalog.metrics.some((m) => m.name === name)) problems.push(`${name}: declared in metric-names.ts, not in the catalog`);
  }
  return problems;
}

let processMetrics: DuallaneMetrics | undefined;

/** The process-wide metrics, created from the shipped catalog on first use. */
export function getMetrics(): DuallaneMetrics {
  processMetrics ??= new DuallaneMetrics();
  return processMetrics;
}

/** The exposition body and its content type, for any HTTP framework's /metrics route. */
export async function renderMetrics(m: DuallaneMetrics = getMetrics()): Promise<{ contentType: string; body: string }> {
  return { contentType: m.contentType, body: await m.render() };
}

/** A node:http handler for GET /metrics (Fastify: `reply.hijack(); metricsHandler()(req.raw, reply.raw)`). */
export function metricsHandler(m: DuallaneMetrics = getMetrics()): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    renderMetrics(m).then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  };
}
