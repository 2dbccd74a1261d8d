import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePolicy } from './engine.js';
import { generateResources, generatedItems, GenerateError } from './generate.js';
import { runTests } from './test-runner.js';
import type { Policy, Resource } from './types.js';

const ns: Resource = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } };
const sources: Resource[] = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'staging', labels: { allowedToBeCloned: 'true' }, uid: 'u1', resourceVersion: '7' }, data: { k: 'dg==' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's2', namespace: 'staging' }, data: { k: 'dw==' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: 'staging', labels: { allowedToBeCloned: 'true' } }, data: { a: 'b' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c2', namespace: 'other', labels: { allowedToBeCloned: 'true' } }, data: { a: 'c' } },
];
const ctxFor = (object: Resource) => ({ request: { operation: 'CREATE', object, namespace: '' } });

describe('generate cloneList', () => {
  it('clones every source of the listed kinds in the namespace whose labels match the selector, under its own name', () => {
    const out = generateResources(
      { namespace: '{{request.object.metadata.name}}', cloneList: { namespace: 'staging', kinds: ['v1/Secret', 'v1/ConfigMap'], selector: { matchLabels: { allowedToBeCloned: 'true' } } } },
      ctxFor(ns),
      sources,
    );
    expect(out).toEqual([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'team-a', labels: { allowedToBeCloned: 'true' } }, data: { k: 'dg==' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: 'team-a', labels: { allowedToBeCloned: 'true' } }, data: { a: 'b' } },
    ]);
  });

  it('without a selector takes every source of the kind; kinds may omit the version; bad specs are errors', () => {
    expect(generateResources({ namespace: 'x', cloneList: { namespace: 'staging', kinds: ['Secret'] } }, ctxFor(ns), sources).map((r) => r.metadata?.name)).toEqual(['s1', 's2']);
    expect(generateResources({ namespace: 'x', cloneList: { namespace: 'staging', kinds: ['apps/v1/Secret'] } }, ctxFor(ns), sources)).toEqual([]);
    expect(() => generateResources({ namespace: 'x', cloneList: { namespace: 'staging' } }, ctxFor(ns), sources)).toThrow(GenerateError);
  });
});

describe('generate data', () => {
  it('resolves $(...) references in the generate spec before variables', () => {
    const out = generateResources({ apiVersion: 'v1', kind: 'ConfigMap', name: '$(./../data/data/owner)-copy', namespace: 'ops', data: { data: { owner: '{{request.object.metadata.name}}' } } }, ctxFor(ns), []);
    expect(out).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'team-a-copy', namespace: 'ops' }, data: { owner: 'team-a' } }]);
  });

  it('without data, clone or cloneList generates the bare resource', () => {
    expect(generateResources({ apiVersion: 'example.io/v1', kind: 'Widget', name: 'w-{{request.object.metadata.name}}', namespace: 'ops' }, ctxFor(ns), [])).toEqual([
      { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'w-team-a', namespace: 'ops' } },
    ]);
  });
});

describe('generate foreach', () => {
  const cm: Resource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'default-deny', namespace: 'default' }, data: { namespaces: 'foreach-ns-1,foreach-ns-2' } };

  it('generates data per element with element/elementIndex, per-element context and preconditions (the documented example)', () => {
    const out = generateResources(
      {
        foreach: [
          {
            list: "request.object.data.namespaces | split(@, ',')",
            context: [{ name: 'ns', variable: { jmesPath: 'element' } }],
            preconditions: { any: [{ key: '{{ ns }}', operator: 'AnyIn', value: ['foreach-ns-1'] }] },
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            name: 'my-networkpolicy-{{element}}-{{ elementIndex }}',
            namespace: '{{ element }}',
            data: { metadata: { labels: { 'request.namespace': '{{ request.object.metadata.name }}', element: '{{ element }}', elementIndex: '{{ elementIndex }}' } }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
          },
        ],
      },
      ctxFor(cm),
    );
    expect(out).toEqual([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'my-networkpolicy-foreach-ns-1-0', namespace: 'foreach-ns-1', labels: { 'request.namespace': 'default-deny', element: 'foreach-ns-1', elementIndex: 0 } },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
    ]);
  });

  it('clones and clone-lists per element', () => {
    const secret: Resource = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'source-secret', namespace: 'default' }, data: { a: 'Yg==' } };
    const out = generateResources(
      { foreach: [{ list: "request.object.data.namespaces | split(@, ',')", apiVersion: 'v1', kind: 'Secret', name: 'cloned-secret-{{ elementIndex }}-{{ element }}', namespace: '{{ element }}', clone: { namespace: 'default', name: 'source-secret' } }] },
      ctxFor(cm),
      [secret],
    );
    expect(out.map((r) => `${r.metadata?.namespace}/${r.metadata?.name}`)).toEqual(['foreach-ns-1/cloned-secret-0-foreach-ns-1', 'foreach-ns-2/cloned-secret-1-foreach-ns-2']);
    const list = generateResources({ foreach: [{ list: "request.object.data.namespaces | split(@, ',')", namespace: '{{ element }}', cloneList: { namespace: 'staging', kinds: ['v1/ConfigMap'] } }] }, ctxFor(cm), sources);
    expect(list.map((r) => `${r.metadata?.namespace}/${r.metadata?.name}`)).toEqual(['foreach-ns-1/c1', 'foreach-ns-2/c1']);
    expect(() => generateResources({ foreach: [{ apiVersion: 'v1' }] }, ctxFor(cm))).toThrow(/list is required/);
  });

  it('the engine reports several generated resources as one pass with a List of them', async () => {
    const policy = {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'multi' },
      spec: { rules: [{ name: 'clone-all', match: { any: [{ resources: { kinds: ['Namespace'] } }] }, generate: { namespace: '{{request.object.metadata.name}}', cloneList: { namespace: 'staging', kinds: ['v1/Secret'] } } }] },
    } as unknown as Policy;
    const r = await generatePolicy(policy, ns, { cloneSources: sources });
    expect(r.rules[0]).toMatchObject({ status: 'pass' });
    expect(generatedItems(r.generatedResources['clone-all']).map((x) => x.metadata?.name)).toEqual(['s1', 's2']);
  });
});

describe('kyverno test with cloneList and foreach generate rules', () => {
  it('compares every generated resource with the generatedResource file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kgen-'));
    await writeFile(join(dir, 'policy.yaml'), `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: sync-secret-with-multi-clone}
spec:
  rules:
    - name: sync-secret
      match:
        any:
          - resources: {kinds: [Namespace]}
      exclude:
        any:
          - resources: {namespaces: [kube-system, default, kube-public, kyverno]}
      generate:
        namespace: "{{request.object.metadata.name}}"
        synchronize: true
        cloneList:
          namespace: staging
          kinds: [v1/Secret, v1/ConfigMap]
          selector:
            matchLabels: {allowedToBeCloned: "true"}
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: foreach-generate-data}
spec:
  rules:
    - name: k-kafka-address
      match:
        any:
          - resources: {kinds: [ConfigMap]}
      generate:
        foreach:
          - list: "request.object.data.namespaces | split(@, ',')"
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            name: "np-{{ element }}"
            namespace: "{{ element }}"
            data:
              spec: {podSelector: {}}
`);
    await writeFile(join(dir, 'resources.yaml'), `apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: trigger, namespace: default}
data: {namespaces: "ns-1,ns-2"}
`);
    await writeFile(join(dir, 'sources.yaml'), `apiVersion: v1
kind: Secret
metadata: {name: s1, namespace: staging, labels: {allowedToBeCloned: "true"}}
data: {k: dg==}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c1, namespace: staging, labels: {allowedToBeCloned: "true"}}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c2, namespace: staging}
data: {a: c}
`);
    await writeFile(join(dir, 'cloned.yaml'), `apiVersion: v1
kind: Secret
metadata: {name: s1, namespace: team-a, labels: {allowedToBeCloned: "true"}}
data: {k: dg==}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c1, namespace: team-a, labels: {allowedToBeCloned: "true"}}
data: {a: WRONG}
`);
    await writeFile(join(dir, 'netpols.yaml'), `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np-ns-1, namespace: ns-1}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np-ns-2, namespace: ns-2}
spec: {podSelector: {}}
`);
    await writeFile(join(dir, 'kyverno-test.yaml'), `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: generate-many}
policies: [policy.yaml]
resources: [resources.yaml]
results:
  - policy: sync-secret-with-multi-clone
    rule: sync-secret
    resources: [team-a]
    kind: Namespace
    cloneSourceResource: sources.yaml
    generatedResource: cloned.yaml
    result: pass
  - policy: foreach-generate-data
    rule: k-kafka-address
    resources: [trigger]
    kind: ConfigMap
    generatedResource: netpols.yaml
    result: pass
`);
    const r = await runTests([dir]);
    expect(r.tests[0]!.rows.map((x) => [x.resource, x.outcome, x.reason])).toEqual([
      ['Secret/team-a/s1', 'pass', 'Ok'],
      ['ConfigMap/team-a/c1', 'fail', 'Resource diff'],
      ['NetworkPolicy/ns-1/np-ns-1', 'pass', 'Ok'],
      ['NetworkPolicy/ns-2/np-ns-2', 'pass', 'Ok'],
    ]);
  });
});
