import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { initTracing, type TracingSetup } from '../observability/tracing-setup.js';
import { evaluatePolicy } from './engine.js';
import type { Policy, Resource } from './types.js';

let setup: TracingSetup | undefined;
afterEach(async () => {
  await setup?.shutdown();
  setup = undefined;
});

describe('policy evaluation is traced', () => {
  it('one duallane.policy.evaluate span per policy and resource, with the worst rule result', async () => {
    const mem = new InMemorySpanExporter();
    setup = initTracing({ env: {}, exporter: mem });
    const policy: Policy = {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'no-latest' },
      spec: { rules: [{ name: 'r', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { pattern: { spec: { containers: [{ image: '!*:latest' }] } } } }] },
    };
    const pod = (image: string): Resource => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd' }, spec: { containers: [{ name: 'c', image }] } });
    await evaluatePolicy(policy, pod('nginx:1.27'));
    await evaluatePolicy(policy, pod('nginx:latest'));
    const spans = mem.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['duallane.policy'], s.attributes['duallane.result']])).toEqual([
      ['duallane.policy.evaluate', 'no-latest', 'pass'],
      ['duallane.policy.evaluate', 'no-latest', 'fail'],
    ]);
  });
});
