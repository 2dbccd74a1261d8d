import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SPAN_ATTRIBUTES } from '../../src/observability/index.js';

// No Collector binary is packaged for Debian or npm, so this checks the example's wiring statically:
// every component a pipeline names is defined, the receiver is OTLP over HTTP on loopback (what
// duallane's exporter speaks), and the sampling policy keys on attributes duallane really sets.
const cfg = parseYaml(readFileSync(new URL('../../observability/opentelemetry/collector.yaml', import.meta.url), 'utf8')) as {
  receivers: Record<string, { protocols: Record<string, { endpoint: string }> }>;
  processors: Record<string, { policies?: { string_attribute?: { key: string; values: string[] } }[] }>;
  exporters: Record<string, unknown>;
  service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
};

describe('OpenTelemetry Collector example', () => {
  it('defines every component its traces pipeline uses', () => {
    const p = cfg.service.pipelines.traces!;
    for (const r of p.receivers) expect(cfg.receivers[r], r).toBeDefined();
    for (const x of p.processors) expect(cfg.processors[x], x).toBeDefined();
    for (const e of p.exporters) expect(cfg.exporters[e], e).toBeDefined();
    expect(p.processors[0]).toBe('memory_limiter');
    expect(p.processors.at(-1)).toBe('batch');
  });

  it('receives OTLP/HTTP on loopback and samples on duallane.result', () => {
    expect(cfg.receivers.otlp!.protocols.http!.endpoint).toBe('127.0.0.1:4318');
    expect(cfg.receivers.otlp!.protocols.grpc).toBeUndefined();
    const keep = cfg.processors.tail_sampling!.policies!.find((x) => x.string_attribute)!.string_attribute!;
    expect(keep.key).toBe(SPAN_ATTRIBUTES.result);
    expect(keep.values).toEqual(expect.arrayContaining(['rejected', 'error', 'deny']));
  });
});
