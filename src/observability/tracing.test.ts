import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { ObservabilityError } from './observability-error.js';
import { traceSpans, withSpan } from './tracing.js';
import { initTracing, selectTraceExporters, type TracingSetup } from './tracing-setup.js';

let setup: TracingSetup | undefined;
afterEach(async () => {
  await setup?.shutdown();
  setup = undefined;
});

describe('selectTraceExporters (OTEL_* variables)', () => {
  it('exports nothing unless the variables ask for it', () => {
    expect(selectTraceExporters({})).toEqual([]);
    expect(selectTraceExporters({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual(['otlp-http/protobuf']);
    expect(selectTraceExporters({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual(['otlp-http/json']);
    expect(selectTraceExporters({ OTEL_TRACES_EXPORTER: 'otlp,console' })).toEqual(['otlp-http/protobuf', 'console']);
    expect(selectTraceExporters({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual([]);
    expect(selectTraceExporters({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toEqual([]);
  });

  it('refuses what it cannot honour', () => {
    expect(() => selectTraceExporters({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(ObservabilityError);
    expect(() => selectTraceExporters({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(ObservabilityError);
  });
});

describe('withSpan with the in-memory exporter', () => {
  it('records propose, accept with nested steps, and results', async () => {
    const mem = new InMemorySpanExporter();
    setup = initTracing({ env: {}, exporter: mem });
    expect(setup.exporters).toEqual(['custom']);
    await traceSpans.propose({ lane: 'codex', handoffId: '01HXAMPLE' }, () => 'proposal');
    await traceSpans.accept({ lane: 'claude', handoffId: '01HXAMPLE' }, async () => {
      await traceSpans.acceptStep('verify-signer', { lane: 'claude', handoffId: '01HXAMPLE' }, () => undefined);
      await traceSpans.acceptStep('apply', { lane: 'claude', handoffId: '01HXAMPLE' }, () => undefined);
    });
    await traceSpans.admission({ policy: 'require-signed-images' }, (s) => s.setResult('deny', 'SIGNATURE_MISSING'));
    const spans = mem.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['duallane.propose', 'duallane.accept.step', 'duallane.accept.step', 'duallane.accept', 'duallane.admission.review']);
    const [propose, step1, step2, accept, admission] = spans;
    expect(propose!.attributes).toMatchObject({ 'duallane.lane': 'codex', 'duallane.handoff.id': '01HXAMPLE', 'duallane.result': 'success' });
    expect(step1!.attributes['duallane.step']).toBe('verify-signer');
    expect(step2!.attributes['duallane.step']).toBe('apply');
    expect(step1!.parentSpanContext?.spanId).toBe(accept!.spanContext().spanId);
    expect(step1!.spanContext().traceId).toBe(accept!.spanContext().traceId);
    expect(admission!.attributes).toMatchObject({ 'duallane.policy': 'require-signed-images', 'duallane.result': 'deny', 'duallane.reason': 'SIGNATURE_MISSING' });
    expect(propose!.resource.attributes['service.name']).toBe('duallane');
  });

  it('marks a rejection with its code and ERROR status, and re-throws it unchanged', async () => {
    const mem = new InMemorySpanExporter();
    setup = initTracing({ env: {}, exporter: mem });
    const err = new ObservabilityError('LABEL_VALUE_UNBOUNDED', 'nope');
    await expect(traceSpans.verify({ lane: 'claude', handoffId: 'h1' }, () => Promise.reject(err))).rejects.toBe(err);
    await expect(withSpan('duallane.policy.evaluate', { policy: 'p' }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const [verify, policy] = mem.getFinishedSpans();
    expect(verify!.attributes).toMatchObject({ 'duallane.result': 'rejected', 'duallane.reason': 'LABEL_VALUE_UNBOUNDED' });
    expect(verify!.status.code).toBe(SpanStatusCode.ERROR);
    expect(verify!.events.some((e) => e.name === 'exception')).toBe(true);
    expect(policy!.attributes['duallane.result']).toBe('error');
  });

  it('costs nothing and records nothing without initTracing', async () => {
    expect(await withSpan('duallane.propose', { lane: 'codex' }, () => 42)).toBe(42);
  });
});

describe('OTLP export configured only by OTEL_* variables', () => {
  it('sends protobuf by default when only OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const received: { path: string; type: string; body: Buffer }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const saved = { ...process.env };
    try {
      delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
      delete process.env.OTEL_TRACES_EXPORTER;
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      process.env.OTEL_SERVICE_NAME = 'duallane-test';
      setup = initTracing();
      expect(setup.exporters).toEqual(['otlp-http/protobuf']);
      await traceSpans.admission({ policy: 'require-signed-images' }, (s) => s.setResult('deny'));
      await setup.forceFlush();
      expect(received).toHaveLength(1);
      expect(received[0]!.path).toBe('/v1/traces');
      expect(received[0]!.type).toBe('application/x-protobuf');
      const bytes = received[0]!.body.toString('latin1');
      for (const s of ['duallane.admission.review', 'duallane.policy', 'require-signed-images', 'duallane-test']) expect(bytes).toContain(s);
    } finally {
      process.env = saved;
      await setup?.shutdown();
      setup = undefined;
      await new Promise((r) => server.close(r));
    }
  });


  it('sends spans to OTEL_EXPORTER_OTLP_ENDPOINT over real loopback HTTP (http/json)', async () => {
    const received: { path: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const saved = { ...process.env };
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
      setup = initTracing();
      expect(setup.exporters).toEqual(['otlp-http/json']);
      await traceSpans.propose({ lane: 'codex', handoffId: 'otlp-1' }, () => undefined);
      await setup.forceFlush();
      expect(received).toHaveLength(1);
      expect(received[0]!.path).toBe('/v1/traces');
      const body = JSON.parse(received[0]!.body) as { resourceSpans: { scopeSpans: { spans: { name: string; attributes: { key: string }[] }[] }[] }[] };
      const span = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
      expect(span.name).toBe('duallane.propose');
      expect(span.attributes.map((a) => a.key)).toEqual(expect.arrayContaining(['duallane.lane', 'duallane.handoff.id', 'duallane.result']));
    } finally {
      process.env = saved;
      await setup?.shutdown();
      setup = undefined;
      await new Promise((r) => server.close(r));
    }
  });
});
