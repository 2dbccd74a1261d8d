import { describe, expect, it } from 'vitest';
import { kindMatches, parseKindSelector, ruleMatches, selectorMatches } from './match.js';
import type { MatchResources, Resource } from './types.js';

const pod = (ns = 'apps', labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Resource => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: ns, labels, annotations } });
const deploy: Resource = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'apps' } };

// https://kyverno.io/docs/writing-policies/match-exclude/
describe('kinds', () => {
  it('parses Kind, version/Kind, group/version/Kind and Kind/subresource', () => {
    expect(parseKindSelector('Pod')).toEqual({ group: '*', version: '*', kind: 'Pod', subresource: '' });
    expect(parseKindSelector('v1/Pod')).toEqual({ group: '*', version: 'v1', kind: 'Pod', subresource: '' });
    expect(parseKindSelector('apps/v1/Deployment')).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment', subresource: '' });
    expect(parseKindSelector('Pod/exec')).toEqual({ group: '*', version: '*', kind: 'Pod', subresource: 'exec' });
    expect(parseKindSelector('apps/v1/Deployment/scale').subresource).toBe('scale');
  });
  it('matches with wildcards in each part', () => {
    expect(kindMatches(['Pod'], pod())).toBe(true);
    expect(kindMatches(['v1/Pod'], pod())).toBe(true);
    expect(kindMatches(['apps/v1/Deployment'], deploy)).toBe(true);
    expect(kindMatches(['apps/*/Deployment'], deploy)).toBe(true);
    expect(kindMatches(['batch/*/Deployment'], deploy)).toBe(false);
    expect(kindMatches(['*'], deploy)).toBe(true);
    expect(kindMatches(['Deploy*'], deploy)).toBe(true);
    expect(kindMatches(['Pod/exec'], pod())).toBe(false);
  });
});

describe('selectors', () => {
  it('matchLabels (with wildcards) and matchExpressions', () => {
    expect(selectorMatches({ matchLabels: { app: 'web' } }, { app: 'web' })).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'we*' } }, { app: 'web' })).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'db' } }, { app: 'web' })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }] }, { tier: 'fe' })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fe'] }] }, { tier: 'fe' })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, {})).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, {})).toBe(true);
    expect(selectorMatches({}, {})).toBe(true);
  });
});

describe('match / exclude', () => {
  const anyPod: MatchResources = { any: [{ resources: { kinds: ['Pod'] } }] };
  it('any: one filter suffices; all: every filter', () => {
    expect(ruleMatches({ any: [{ resources: { kinds: ['Deployment'] } }, { resources: { kinds: ['Pod'] } }] }, undefined, pod(), {})).toBe(true);
    expect(ruleMatches({ all: [{ resources: { kinds: ['Pod'] } }, { resources: { namespaces: ['prod'] } }] }, undefined, pod(), {})).toBe(false);
    expect(ruleMatches({ all: [{ resources: { kinds: ['Pod'] } }, { resources: { namespaces: ['app*'] } }] }, undefined, pod(), {})).toBe(true);
  });
  it('legacy resources block', () => {
    expect(ruleMatches({ resources: { kinds: ['Pod'], namespaces: ['apps'] } }, undefined, pod(), {})).toBe(true);
    expect(ruleMatches({ resources: { kinds: ['Pod'], namespaces: ['prod'] } }, undefined, pod(), {})).toBe(false);
  });
  it('names, namespaces, annotations, selector, operations', () => {
    expect(ruleMatches({ any: [{ resources: { kinds: ['Pod'], names: ['web-*'] } }] }, undefined, pod(), {})).toBe(true);
    expect(ruleMatches({ any: [{ resources: { kinds: ['Pod'], names: ['db-*'] } }] }, undefined, pod(), {})).toBe(false);
    expect(ruleMatches({ any: [{ resources: { kinds: ['Pod'], annotations: { 'policy.test/skip': 'y*' } } }] }, undefined, pod('apps', {}, { 'policy.test/skip': 'yes' }), {})).toBe(true);
    expect(ruleMatches({ any: [{ resources: { kinds: ['Pod'], selector: { matchLabels: { app: 'web' } } } }] }, undefined, pod('apps', { app: 'web' }), {})).toBe(true);
    expect(ruleMatches({ any: [{ resources: { kinds: ['Pod'], operations: ['UPDATE'] } }] }, undefined, pod(), { operation: 'CREATE' })).toBe(false);
    expect(ruleMatches({ any: [{ resources: { kinds: ['Pod'], operations: ['CREATE', 'UPDATE'] } }] }, undefined, pod(), {})).toBe(true);
  });
  it('namespaceSelector uses the namespace labels; a Namespace matches namespaces by its own name', () => {
    const m: MatchResources = { any: [{ resources: { kinds: ['Pod'], namespaceSelector: { matchLabels: { env: 'prod' } } } }] };
    expect(ruleMatches(m, undefined, pod(), { namespaceLabels: { env: 'prod' } })).toBe(true);
    expect(ruleMatches(m, undefined, pod(), {})).toBe(false);
    const ns: Resource = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } };
    expect(ruleMatches({ any: [{ resources: { kinds: ['Namespace'], namespaces: ['kube-*'] } }] }, undefined, ns, {})).toBe(true);
  });
  it('exclude any / all / legacy', () => {
    expect(ruleMatches(anyPod, { any: [{ resources: { namespaces: ['kube-system'] } }] }, pod('kube-system'), {})).toBe(false);
    expect(ruleMatches(anyPod, { any: [{ resources: { namespaces: ['kube-system'] } }] }, pod('apps'), {})).toBe(true);
    expect(ruleMatches(anyPod, { all: [{ resources: { namespaces: ['apps'] } }, { resources: { names: ['db'] } }] }, pod('apps'), {})).toBe(true);
    expect(ruleMatches(anyPod, { all: [{ resources: { namespaces: ['apps'] } }, { resources: { names: ['web-*'] } }] }, pod('apps'), {})).toBe(false);
    expect(ruleMatches(anyPod, { resources: {} }, pod(), {})).toBe(true);
  });
  it('subjects, roles and clusterRoles', () => {
    const m: MatchResources = { any: [{ resources: { kinds: ['Pod'] }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'build' }] }] };
    expect(ruleMatches(m, undefined, pod(), { userInfo: { username: 'system:serviceaccount:build:ci' } })).toBe(true);
    expect(ruleMatches(m, undefined, pod(), { userInfo: { username: 'alice' } })).toBe(false);
    expect(ruleMatches(anyPod, { any: [{ clusterRoles: ['cluster-admin'] }] }, pod(), { clusterRoles: ['cluster-admin'] })).toBe(false);
    expect(ruleMatches({ any: [{ resources: { kinds: ['Pod'] }, subjects: [{ kind: 'Group', name: 'devs' }] }] }, undefined, pod(), { userInfo: { groups: ['devs'] } })).toBe(true);
  });
  it('an empty match never matches', () => {
    expect(ruleMatches({}, undefined, pod(), {})).toBe(false);
    expect(ruleMatches(undefined, undefined, pod(), {})).toBe(false);
  });
});
