import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTests } from './test-runner.js';

const policyYaml = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-team-label
spec:
  rules:
    - name: check-team
      match:
        any:
          - resources:
              kinds: [Pod]
      exclude:
        any:
          - resources:
              namespaces: [kube-system]
      preconditions:
        all:
          - key: "{{ request.operation }}"
            operator: AnyIn
            value: [CREATE, UPDATE]
      validate:
        failureAction: Audit
        message: team label required
        pattern:
          metadata:
            labels:
              team: "{{ allowedTeam }}"
`;

const resourcesYaml = `apiVersion: v1
kind: Pod
metadata: {name: good, namespace: apps, labels: {team: blue}}
spec: {containers: [{name: a, image: a}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: apps, labels: {team: red}}
spec: {containers: [{name: a, image: a}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sys, namespace: kube-system}
spec: {containers: [{name: a, image: a}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep, namespace: apps}
spec: {template: {metadata: {labels: {team: blue}}, spec: {containers: [{name: a, image: a}]}}}
`;

const valuesYaml = `apiVersion: cli.kyverno.io/v1alpha1
kind: Values
metadata: {name: values}
policies:
  - name: require-team-label
    rules:
      - name: check-team
        values:
          allowedTeam: blue
    resources:
      - name: deleted
        values:
          request.operation: DELETE
`;

async function fixture(results: string, hidden = false, extraResources = '') {
  const root = await mkdtemp(join(tmpdir(), 'kt-'));
  const dir = hidden ? join(root, 'pol', '.kyverno-test') : join(root, 'pol');
  await mkdir(dir, { recursive: true });
  const polPath = hidden ? join(root, 'pol', 'policy.yaml') : join(dir, 'policy.yaml');
  await writeFile(polPath, policyYaml);
  await writeFile(join(dir, 'resources.yaml'), resourcesYaml + extraResources);
  await writeFile(join(dir, 'values.yaml'), valuesYaml);
  await writeFile(
    join(dir, 'kyverno-test.yaml'),
    `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: team}
policies: [${hidden ? '../policy.yaml' : 'policy.yaml'}]
resources: [resources.yaml]
variables: values.yaml
results:
${results}`,
  );
  return root;
}

// Semantics of `kyverno test`: https://kyverno.io/docs/kyverno-cli/usage/test/
describe('policy test runner', () => {
  it('passes when every expectation holds; autogen rules answer for controllers; excluded resources count as skip', async () => {
    const root = await fixture(`  - {policy: require-team-label, rule: check-team, kind: Pod, resources: [good], result: pass}
  - {policy: require-team-label, rule: check-team, kind: Pod, resources: [bad], result: fail}
  - {policy: require-team-label, rule: check-team, kind: Pod, resources: [sys], result: skip}
  - {policy: require-team-label, rule: check-team, kind: Deployment, resources: [dep], result: pass}
`);
    const r = await runTests([root]);
    expect(r.summary).toMatchObject({ pass: 3, fail: 0, skip: 1 });
    expect(r.tests[0]!.rows.find((x) => x.resource.endsWith('sys'))!.reason).toBe('Excluded');
  });

  it('finds tests inside .kyverno-test/ and resolves paths from the test file', async () => {
    const root = await fixture(`  - {policy: require-team-label, rule: check-team, kind: Pod, resources: [apps/good], result: pass}\n`, true);
    const r = await runTests([root]);
    expect(r.tests[0]!.path).toContain('.kyverno-test');
    expect(r.summary.fail).toBe(0);
  });

  it("a result's namespace does not filter the lookup (Kyverno's CLI matches policy, kind and name only)", async () => {
    const root = await fixture(`  - {policy: require-team-label, rule: check-team, kind: Pod, namespace: elsewhere, resources: [good], result: pass}
  - {policy: require-team-label, rule: check-team, kind: Pod, namespace: elsewhere, resources: [bad], result: fail}
`);
    const r = await runTests([root]);
    expect(r.tests[0]!.rows.map((x) => x.reason)).toEqual(['Ok', 'Ok']);
    expect(r.summary.fail).toBe(0);
  });

  it('fails on a wrong expectation and on resources that are not found', async () => {
    const root = await fixture(`  - {policy: require-team-label, rule: check-team, kind: Pod, resources: [good], result: fail}
  - {policy: require-team-label, rule: check-team, kind: Pod, resources: [missing], result: pass}
  - {policy: require-team-label, rule: check-team, kind: Deployment, resources: [good], result: pass}
`);
    const r = await runTests([root]);
    const reasons = r.tests[0]!.rows.map((x) => x.reason);
    expect(reasons).toEqual(['Want fail, got pass', 'Not found', 'Not found']);
    expect(r.summary.fail).toBe(3);
  });

  it('a namespaced Policy is found by ns/name and by its bare name, unless a ClusterPolicy has that name', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kt-nspol-'));
    const pol = (kind: string, ns: string, label: string) => `apiVersion: kyverno.io/v1
kind: ${kind}
metadata: {name: needs-owner${ns ? `, namespace: ${ns}` : ''}}
spec:
  rules:
    - name: owner
      match: {any: [{resources: {kinds: [ConfigMap]}}]}
      validate: {message: owner label, pattern: {metadata: {labels: {${label}: "?*"}}}}
`;
    await writeFile(join(root, 'pol.yaml'), pol('Policy', 'shop', 'owner'));
    await writeFile(join(root, 'res.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prices, namespace: shop, labels: {owner: ann}}\n');
    const test = (rows: string) => `apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\npolicies: [pol.yaml]\nresources: [res.yaml]\nresults:\n${rows}`;
    await writeFile(join(root, 'kyverno-test.yaml'), test(`  - {policy: needs-owner, rule: owner, kind: ConfigMap, resources: [prices], result: pass}
  - {policy: shop/needs-owner, rule: owner, kind: ConfigMap, resources: [shop/prices], result: pass}
`));
    let r = await runTests([root]);
    expect(r.tests[0]!.rows.map((x) => x.reason)).toEqual(['Ok', 'Ok']);
    // With a ClusterPolicy of the same name, the bare name means the ClusterPolicy only.
    await writeFile(join(root, 'cpol.yaml'), pol('ClusterPolicy', '', 'team'));
    await writeFile(join(root, 'kyverno-test.yaml'), test(`  - {policy: needs-owner, rule: owner, kind: ConfigMap, resources: [prices], result: fail}\n`).replace('[pol.yaml]', '[pol.yaml, cpol.yaml]'));
    r = await runTests([root]);
    expect(r.tests[0]!.rows.map((x) => x.reason)).toEqual(['Ok']);
  });

  it('per-resource values set request.operation (preconditions then skip)', async () => {
    const extra = `---
apiVersion: v1
kind: Pod
metadata: {name: deleted, namespace: apps, labels: {team: red}}
spec: {containers: [{name: a, image: a}]}
`;
    const root = await fixture(`  - {policy: require-team-label, rule: check-team, kind: Pod, resources: [deleted], result: skip}\n`, false, extra);
    const r = await runTests([root]);
    expect(r.tests[0]!.rows[0]).toMatchObject({ actual: 'skip', outcome: 'pass' });
  });

  it('no test files is an error', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'kt-empty-'));
    await expect(runTests([empty])).rejects.toMatchObject({ code: 'NO_TESTS_FOUND' });
  });

  it('the shipped policy tests pass', async () => {
    const r = await runTests(['policies/kyverno']);
    expect(r.tests.length).toBe(3);
    expect(r.summary.fail).toBe(0);
  });
});

describe('policy test runner: mutate rules', () => {
  it('compares patchedResources and the rule result (docs: add-safe-to-evict)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-mut-'));
    await writeFile(
      join(dir, 'policy.yaml'),
      `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: add-safe-to-evict
  annotations:
    pod-policies.kyverno.io/autogen-controllers: none
spec:
  rules:
  - name: annotate-empty-dir
    match:
      any:
      - resources:
          kinds: [Pod]
    mutate:
      patchStrategicMerge:
        metadata:
          annotations:
            +(cluster-autoscaler.kubernetes.io/safe-to-evict): "true"
        spec:
          volumes:
          - <(emptyDir): {}
`,
    );
    await writeFile(
      join(dir, 'resource.yaml'),
      `apiVersion: v1
kind: Pod
metadata: {name: with-emptydir}
spec:
  containers: [{name: a, image: a}]
  volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: no-emptydir}
spec:
  containers: [{name: a, image: a}]
  volumes: [{name: cfg, configMap: {name: c}}]
`,
    );
    await writeFile(
      join(dir, 'patched.yaml'),
      `apiVersion: v1
kind: Pod
metadata:
  name: with-emptydir
  annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: "true"}
spec:
  containers: [{name: a, image: a}]
  volumes: [{name: scratch, emptyDir: {}}]
`,
    );
    await writeFile(
      join(dir, 'kyverno-test.yaml'),
      `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: add-safe-to-evict}
policies: [policy.yaml]
resources: [resource.yaml]
results:
- {kind: Pod, policy: add-safe-to-evict, rule: annotate-empty-dir, resources: [with-emptydir], patchedResources: patched.yaml, result: pass}
- {kind: Pod, policy: add-safe-to-evict, rule: annotate-empty-dir, resources: [no-emptydir], result: skip}
`,
    );
    const r = await runTests([dir]);
    expect(r.tests[0]!.rows.map((x) => [x.resource, x.outcome, x.reason])).toEqual([
      ['Pod/with-emptydir', 'pass', 'Ok'],
      ['Pod/no-emptydir', 'pass', 'Ok'],
    ]);
    // A different expected patch fails the row with a resource diff.
    const { readFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'patched.yaml'), (await readFile(join(dir, 'patched.yaml'), 'utf8')).replace('"true"', '"false"'));
    const r2 = await runTests([dir]);
    expect(r2.tests[0]!.rows[0]).toMatchObject({ outcome: 'fail', reason: 'Resource diff' });
    // On a row expecting fail, kyverno test counts the differing resource as the expected failure;
    // a plain status mismatch (want fail, got pass) still fails.
    const kt = join(dir, 'kyverno-test.yaml');
    await writeFile(kt, (await readFile(kt, 'utf8')).replace('patchedResources: patched.yaml, result: pass', 'patchedResources: patched.yaml, result: fail'));
    const r3 = await runTests([dir]);
    expect(r3.tests[0]!.rows[0]).toMatchObject({ outcome: 'pass', reason: 'Resource diff', expected: 'fail' });
    await writeFile(join(dir, 'patched.yaml'), (await readFile(join(dir, 'patched.yaml'), 'utf8')).replace('"false"', '"true"'));
    const r4 = await runTests([dir]);
    expect(r4.tests[0]!.rows[0]).toMatchObject({ outcome: 'fail', reason: 'Want fail, got pass' });
  });
});

describe('policy test runner: docs examples', () => {
  it('add-default-resources: +() anchors under a (name) condition; request.operation from per-resource values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-adr-'));
    await writeFile(join(dir, 'add-default-resources.yaml'), `apiVersion : kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: add-default-resources
spec:
  background: false
  rules:
  - name: add-default-requests
    match:
      any:
      - resources:
          kinds:
          - Pod
    preconditions:
      any:
      - key: "{{request.operation}}"
        operator: AnyIn
        value:
        - CREATE
        - UPDATE
    mutate:
      patchStrategicMerge:
        spec:
          containers:
            - (name): "*"
              resources:
                requests:
                  +(memory): "100Mi"
                  +(cpu): "100m"
`);
    await writeFile(join(dir, 'resource.yaml'), `apiVersion: v1
kind: Pod
metadata:
  name: nginx-demo1
spec:
  containers:
  - name: nginx
    image: nginx:1.14.2
---
apiVersion: v1
kind: Pod
metadata:
  name: nginx-demo2
spec:
  containers:
  - name: nginx
    image: nginx:latest
    resources:
      requests:
        memory: "200Mi"
        cpu: "200m"
`);
    await writeFile(join(dir, 'patchedResource1.yaml'), `apiVersion: v1
kind: Pod
metadata:
  name: nginx-demo1
spec:
  containers:
  - name: nginx
    image: nginx:1.14.2
    resources:
      requests:
        memory: "100Mi"
        cpu: "100m"
`);
    await writeFile(join(dir, 'patchedResource2.yaml'), `apiVersion: v1
kind: Pod
metadata:
  name: nginx-demo2
spec:
  containers:
  - name: nginx
    image: nginx:latest
    resources:
      requests:
        memory: "200Mi"
        cpu: "200m"
`);
    await writeFile(join(dir, 'values.yaml'), `apiVersion: cli.kyverno.io/v1alpha1
kind: Values
metadata:
  name: values
policies:
- name: add-default-resources
  resources:
  - name: nginx-demo1
    values:
      request.operation: CREATE
  - name: nginx-demo2
    values:
      request.operation: UPDATE
`);
    await writeFile(join(dir, 'kyverno-test.yaml'), `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata:
  name: add-default-resources
policies:
  - add-default-resources.yaml
resources:
  - resource.yaml
variables: values.yaml
results:
  - policy: add-default-resources
    rule: add-default-requests
    resources:
    - nginx-demo1
    patchedResources: patchedResource1.yaml
    kind: Pod
    result: pass
  - policy: add-default-resources
    rule: add-default-requests
    resources:
    - nginx-demo2
    patchedResources: patchedResource2.yaml
    kind: Pod
    result: skip
`);
    const r = await runTests([dir]);
    expect(r.summary).toMatchObject({ pass: 1, skip: 1, fail: 0 });
  });

  it('policies.kyverno.io/scored: "false" turns a fail into warn', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-warn-'));
    await writeFile(join(dir, 'p.yaml'), policyYaml.replace('  name: require-team-label\n', '  name: require-team-label\n  annotations:\n    policies.kyverno.io/scored: "false"\n'));
    await writeFile(join(dir, 'r.yaml'), resourcesYaml);
    await writeFile(join(dir, 'values.yaml'), valuesYaml);
    await writeFile(join(dir, 'kyverno-test.yaml'), `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: warn}
policies: [p.yaml]
resources: [r.yaml]
variables: values.yaml
results:
- {policy: require-team-label, rule: check-team, kind: Pod, resources: [bad], result: warn}
`);
    expect((await runTests([dir])).summary.fail).toBe(0);
  });
});

describe('policy test runner: PolicyException (docs example)', () => {
  it('resources matched by an exception are skipped; others fail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-ex-'));
    await writeFile(join(dir, 'disallow-host-namespace.yaml'), `apiVersion: kyverno.io/v2beta1
kind: ClusterPolicy
metadata:
  name: disallow-host-namespaces
spec:
  background: false
  rules:
    - name: host-namespaces
      match:
        any:
        - resources:
            kinds:
              - Pod
      validate:
        failureAction: Enforce
        message: >-
          Sharing the host namespaces is disallowed.
        pattern:
          spec:
            =(hostPID): "false"
            =(hostIPC): "false"
            =(hostNetwork): "false"
`);
    await writeFile(join(dir, 'delta-exception.yaml'), `apiVersion: kyverno.io/v2
kind: PolicyException
metadata:
  name: delta-exception
  namespace: delta
spec:
  exceptions:
  - policyName: disallow-host-namespaces
    ruleNames:
    - host-namespaces
    - autogen-host-namespaces
  match:
    any:
    - resources:
        kinds:
        - Pod
        - Deployment
        namespaces:
        - delta
        names:
        - important-tool*
`);
    const dep = (name: string, ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: busybox
  template:
    metadata:
      labels:
        app: busybox
    spec:
      hostIPC: true
      containers:
      - image: busybox:1.35
        name: busybox
`;
    await writeFile(join(dir, 'resource.yaml'), `${dep('important-tool', 'delta')}---\n${dep('not-important', 'gamma')}`);
    await writeFile(join(dir, 'kyverno-test.yaml'), `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata:
  name: disallow-host-namespaces-test-exception
policies:
- disallow-host-namespace.yaml
resources:
- resource.yaml
exceptions:
- delta-exception.yaml
results:
  - kind: Deployment
    policy: disallow-host-namespaces
    resources:
    - important-tool
    rule: host-namespaces
    result: skip
  - kind: Deployment
    policy: disallow-host-namespaces
    resources:
    - not-important
    rule: host-namespaces
    result: fail
`);
    const r = await runTests([dir]);
    expect(r.tests[0]!.rows.map((x) => [x.resource, x.actual, x.outcome])).toEqual([
      ['Deployment/important-tool', 'skip', 'pass'],
      ['Deployment/not-important', 'fail', 'pass'],
    ]);
  });
});

describe('test case selector', () => {
  it('filters by policy, rule and resource with wildcards', async () => {
    const r = await runTests(['policies/kyverno'], { selector: 'policy=require-image-digest, resource=pod-*' });
    expect(r.tests).toHaveLength(1);
    expect(r.tests[0]!.rows.every((x) => x.resource.startsWith('Pod/pod-'))).toBe(true);
    await expect(runTests(['policies/kyverno'], { selector: 'bogus=x' })).rejects.toMatchObject({ code: 'BAD_USAGE' });
  });
});

describe('policy test runner: generate (docs example)', () => {
  it('compares the generated resource (add-networkpolicy) and clones from cloneSourceResource', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-gen-'));
    await writeFile(join(dir, 'add_network_policy.yaml'), `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: add-networkpolicy
spec:
  rules:
  - name: default-deny
    match:
      any:
      - resources:
          kinds:
          - Namespace
    generate:
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      name: default-deny
      namespace: "{{request.object.metadata.name}}"
      synchronize: true
      data:
        spec:
          podSelector: {}
          policyTypes:
          - Ingress
          - Egress
  - name: copy-secret
    match:
      any:
      - resources:
          kinds:
          - Namespace
    generate:
      apiVersion: v1
      kind: Secret
      name: regcred
      namespace: "{{request.object.metadata.name}}"
      clone:
        namespace: default
        name: regcred
`);
    await writeFile(join(dir, 'resource.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hello-world-namespace\n');
    await writeFile(join(dir, 'generatedResource.yaml'), `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: hello-world-namespace
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
`);
    await writeFile(join(dir, 'source.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: default\ntype: Opaque\ndata:\n  k: dg==\n');
    await writeFile(join(dir, 'cloned.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: hello-world-namespace\ntype: Opaque\ndata:\n  k: dg==\n');
    await writeFile(join(dir, 'kyverno-test.yaml'), `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata:
  name: deny-all-traffic
policies:
  - add_network_policy.yaml
resources:
  - resource.yaml
results:
  - policy: add-networkpolicy
    rule: default-deny
    resources:
    - hello-world-namespace
    generatedResource: generatedResource.yaml
    kind: Namespace
    result: pass
  - policy: add-networkpolicy
    rule: copy-secret
    resources:
    - hello-world-namespace
    generatedResource: cloned.yaml
    cloneSourceResource: source.yaml
    kind: Namespace
    result: pass
`);
    const r = await runTests([dir]);
    expect(r.tests[0]!.rows.map((x) => [x.rule, x.outcome, x.reason])).toEqual([
      ['default-deny', 'pass', 'Ok'],
      ['copy-secret', 'pass', 'Ok'],
    ]);
  });
});
