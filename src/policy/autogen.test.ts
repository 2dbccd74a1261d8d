import { describe, expect, it } from 'vitest';
import { autogenControllers, computeRules } from './autogen.js';
import type { Policy } from './types.js';

const policy = (rules: Policy['spec']['rules'], annotations?: Record<string, string>): Policy => ({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p', ...(annotations ? { annotations } : {}) }, spec: { rules } });
const podRule = { name: 'validate-registries', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { failureAction: 'Enforce' as const, message: 'internal registry only', pattern: { spec: { containers: [{ image: 'registry.domain.com/*' }] } } } };

// https://kyverno.io/docs/writing-policies/autogen/
describe('autogen', () => {
  it('generates autogen- for pod controllers and autogen-cronjob- with nested patterns (docs example)', () => {
    const rules = computeRules(policy([podRule]));
    expect(rules.map((r) => r.name)).toEqual(['validate-registries', 'autogen-validate-registries', 'autogen-cronjob-validate-registries']);
    expect(rules[1]!.match!.any![0]!.resources!.kinds).toEqual(['DaemonSet', 'Deployment', 'Job', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);
    expect(rules[1]!.validate!.pattern).toEqual({ spec: { template: { spec: { containers: [{ image: 'registry.domain.com/*' }] } } } });
    expect(rules[2]!.match!.any![0]!.resources!.kinds).toEqual(['CronJob']);
    expect(rules[2]!.validate!.pattern).toEqual({ spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: 'registry.domain.com/*' }] } } } } } });
    expect(rules[1]!.validate!.failureAction).toBe('Enforce');
  });
  it('rewrites request.object.spec / metadata in variables, but not request."object"', () => {
    const rule = { ...podRule, preconditions: { all: [{ key: "{{ request.object.metadata.labels.app || '' }}", operator: 'Equals', value: 'x' }, { key: '{{ request."object".metadata.name }}', operator: 'Equals', value: 'y' }] }, validate: { deny: { conditions: { any: [{ key: '{{ request.object.spec.hostNetwork }}', operator: 'Equals', value: true }] } } } };
    const [, gen, cron] = computeRules(policy([rule]));
    const pre = JSON.stringify(gen!.preconditions);
    expect(pre).toContain('request.object.spec.template.metadata.labels.app');
    expect(pre).toContain('request.\\"object\\".metadata.name');
    expect(JSON.stringify(gen!.validate!.deny)).toContain('request.object.spec.template.spec.hostNetwork');
    expect(JSON.stringify(cron!.validate!.deny)).toContain('request.object.spec.jobTemplate.spec.template.spec.hostNetwork');
  });
  it('is skipped for names, selector, annotations, mixed kinds, and annotation none', () => {
    expect(autogenControllers(policy([{ ...podRule, match: { any: [{ resources: { kinds: ['Pod'], names: ['a'] } }] } }]))).toEqual([]);
    expect(autogenControllers(policy([{ ...podRule, match: { any: [{ resources: { kinds: ['Pod'], selector: { matchLabels: { a: 'b' } } } }] } }]))).toEqual([]);
    expect(autogenControllers(policy([{ ...podRule, exclude: { any: [{ resources: { annotations: { a: 'b' } } }] } }]))).toEqual([]);
    expect(autogenControllers(policy([{ ...podRule, match: { any: [{ resources: { kinds: ['Pod', 'Deployment'] } }] } }]))).toEqual([]);
    expect(autogenControllers(policy([podRule], { 'pod-policies.kyverno.io/autogen-controllers': 'none' }))).toEqual([]);
    expect(autogenControllers(policy([{ ...podRule, match: { any: [{ resources: { kinds: ['Service'] } }] } }]))).toEqual([]);
  });
  it('the annotation narrows the controllers (and may name custom resources)', () => {
    const rules = computeRules(policy([podRule], { 'pod-policies.kyverno.io/autogen-controllers': 'Deployment,Job' }));
    expect(rules.map((r) => r.name)).toEqual(['validate-registries', 'autogen-validate-registries']);
    expect(rules[1]!.match!.any![0]!.resources!.kinds).toEqual(['Deployment', 'Job']);
    expect(autogenControllers(policy([podRule], { 'pod-policies.kyverno.io/autogen-controllers': 'Deployment,CloneSet' }))).toEqual(['Deployment', 'CloneSet']);
  });
});
