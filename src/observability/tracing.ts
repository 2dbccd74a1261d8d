import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpHttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { isDuallaneError } from '../config/index.js';
import { ObservabilityError } from './observability-error.js';
import { DUALLANE_VERSION } from './version.js';

/** The spans duallane emits. One name per step so traces group the same way in every backend. */
export type DuallaneSpanName =
  | 'duallane.propose'
  | 'duallane.verify'
  | 'duallane.accept'
  | 'duallane.accept.step'
  | 'duallane.policy.evaluate'
  | 'duallane.admission.review';

/** Attribute keys; the handoff id is fine on a span (traces are per-event), never on a metric. */
export const SPAN_ATTRIBUTES = {
  lane: 'duallane.lane',
  handoffId: 'duallane.handoff.id',
  step: 'duallane.step',
  policy: 'duallane.policy',
  result: 'duallane.result',
  reason: 'duallane.reason',
} as const;

export interface DuallaneSpanAttributes {
  lane?: string;
  handoffId?: string;
  /** For duallane.accept.step: verify-signer, verify-subject, single-use, expiry, scope, apply, push, open-pr, label, attest-applied. */
  step?: string;
  policy?: string;
  /** Any further attributes, already namespaced by the caller (never secrets). */
  extra?: Attributes;
}

export interface SpanHandle {
  /** Overrides the result recorded on success (e.g. 'deny' for an admission decision). */
  setResult(result: string, reason?: string): void;
  setAttribute(key: string, value: string | number | boolean): void;
  readonly span: Span;
}

/**
 * Runs `fn` inside a span. On return the span gets result=success (or what `setResult` said); on a
 * throw it gets result=rejected (a DuallaneError whose outcome is rejected) or error, the error code
 * as reason, the exception, and ERROR status, and the error is re-thrown unchanged.
 * Without a registered provider (no initTracing) this costs a no-op span.
 */
export async function withSpan<T>(name: DuallaneSpanName, attrs: DuallaneSpanAttributes, fn: (span: SpanHandle) => Promise<T> | T): Promise<T> {
  const tracer = trace.getTracer('duallane', DUALLANE_VERSION);
  return tracer.startActiveSpan(name, { attributes: toAttributes(attrs) }, async (span) => {
    let result: string | undefined;
    const handle: SpanHandle = {
      span,
      setResult(r, reason) {
        result = r;
        if (reason !== undefined) span.setAttribute(SPAN_ATTRIBUTES.reason, reason);
      },
      setAttribute(k, v) {
        span.setAttribute(k, v);
      },
    };
    try {
      const value = await fn(handle);
      span.setAttribute(SPAN_ATTRIBUTES.result, result ?? 'success');
      return value;
    } catch (e) {
      const rejected = isDuallaneError(e) && e.outcome === 'rejected';
      span.setAttribute(SPAN_ATTRIBUTES.result, rejected ? 'rejected' : 'error');
      if (isDuallaneError(e)) span.setAttribute(SPAN_ATTRIBUTES.reason, e.code);
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: SpanStatusCode.ERROR, message: isDuallaneError(e) ? e.code : 'error' });
      throw e;
    } finally {
      span.end();
    }
  });
}

function toAttributes(a: DuallaneSpanAttributes): Attributes {
  const out: Attributes = { ...(a.extra ?? {}) };
  if (a.lane !== undefined) out[SPAN_ATTRIBUTES.lane] = a.lane;
  if (a.handoffId !== undefined) out[SPAN_ATTRIBUTES.handoffId] = a.handoffId;
  if (a.step !== undefined) out[SPAN_ATTRIBUTES.step] = a.step;
  if (a.policy !== undefined) out[SPAN_ATTRIBUTES.policy] = a.policy;
  return out;
}

/** Named helpers so call sites read as what they trace. */
export const traceSpans = {
  propose: <T>(a: { lane: string; handoffId?: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.propose', a, fn),
  verify: <T>(a: { lane: string; handoffId?: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.verify', a, fn),
  accept: <T>(a: { lane: string; handoffId: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.accept', a, fn),
  acceptStep: <T>(step: string, a: { lane: string; handoffId: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.accept.step', { ...a, step }, fn),
  policy: <T>(a: { policy: string; handoffId?: string; lane?: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.policy.evaluate', a, fn),
  admission: <T>(a: { policy?: string; extra?: Attributes }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.admission.review', a, fn),
};

export type TraceExporterKind = 'otlp-http/protobuf' | 'otlp-http/json' | 'console' | 'custom';

export interface TracingOptions {
  /** Where OTEL_* settings come from (default process.env). */
  env?: Record<string, string | undefined>;
  /** An extra exporter with a synchronous processor (tests pass an InMemorySpanExporter). */
  exporter?: SpanExporter;
}

export interface TracingSetup {
  exporters: TraceExporterKind[];
  forceFlush(): Promise<void>;
  /** Flushes, stops exporting and unregisters the global provider. */
  shutdown(): Promise<void>;
}

/**
 * Chooses exporters from the standard variables, following the OpenTelemetry SDK environment spec,
 * except that nothing is exported unless the variables ask for it (the spec's default of
 * OTEL_TRACES_EXPORTER=otlp would send spans to localhost:4318 on every CLI run):
 *   OTEL_SDK_DISABLED=true                      -> nothing
 *   OTEL_TRACES_EXPORTER=otlp|console|none,...  -> those
 *   unset, but OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT set -> otlp
 *   OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL        -> http/protobuf (default) | http/json; grpc is refused
 * Endpoint, headers, timeout and compression are read by the OTLP exporter itself from the same variables.
 */
export function selectTraceExporters(env: Record<string, string | undefined>): Exclude<TraceExporterKind, 'custom'>[] {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return [];
  const listed = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const wanted = listed.length > 0 ? listed : env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? ['otlp'] : [];
  if (wanted.includes('none')) return [];
  const out: Exclude<TraceExporterKind, 'custom'>[] = [];
  for (const w of wanted) {
    if (w === 'console') out.push('console');
    else if (w === 'otlp') {
      const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
      if (protocol === 'http/protobuf') out.push('otlp-http/protobuf');
      else if (protocol === 'http/json') out.push('otlp-http/json');
      else throw new ObservabilityError('TRACING_CONFIG_INVALID', `OTLP protocol ${JSON.stringify(protocol)} is not supported; use http/protobuf or http/json`);
    } else {
      throw new ObservabilityError('TRACING_CONFIG_INVALID', `OTEL_TRACES_EXPORTER ${JSON.stringify(w)} is not supported; use otlp, console or none`);
    }
  }
  return out;
}

/** Registers the global tracer provider per the OTEL_* variables (see selectTraceExporters). */
export function initTracing(opts: TracingOptions = {}): TracingSetup {
  const env = opts.env ?? process.env;
  const kinds = selectTraceExporters(env);
  const processors: SpanProcessor[] = kinds.map((k) => {
    switch (k) {
      case 'otlp-http/protobuf':
        return new BatchSpanProcessor(new OtlpHttpProtoExporter());
      case 'otlp-http/json':
        return new BatchSpanProcessor(new OtlpHttpJsonExporter());
      case 'console':
        return new SimpleSpanProcessor(new ConsoleSpanExporter());
    }
  });
  if (opts.exporter) processors.push(new SimpleSpanProcessor(opts.exporter));
  const exporters: TraceExporterKind[] = [...kinds, ...(opts.exporter ? (['custom'] as const) : [])];
  if (processors.length === 0) {
    return { exporters, forceFlush: async () => {}, shutdown: async () => {} };
  }
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || 'duallane',
    [ATTR_SERVICE_VERSION]: DUALLANE_VERSION,
  }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  trace.disable();
  provider.register();
  return {
    exporters,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
    },
  };
}
