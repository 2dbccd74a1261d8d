// The OpenTelemetry SDK and exporters: loaded only by processes that export spans (see initTracing).
// Instrumented code imports ./tracing.js, which needs nothing but @opentelemetry/api.
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpHttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { ObservabilityError } from './observability-error.js';
import { DUALLANE_VERSION } from './version.js';

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
