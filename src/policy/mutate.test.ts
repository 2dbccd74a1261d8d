import { describe, expect, it } from 'vitest';
import { mutatePolicy } from './engine.js';
import { applyJsonPatch, applyStrategicMerge } from './mutate.js';
import type { Policy, Resource, Rule } from './types.js';

const policy = (rules: Rule[], annotations?: Record<string, string>): Policy => ({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'm', ...(annotations ? { annotations } : {}) }, spec: { rules } });
const matchKind = (k: string) => ({ any: [{ resources: { kinds: [k] } }] });
const pod = (containers: Record<string, unknown>[], extra: Record<string, unknown> = {}): Resource => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { role: 'x' } }, spec: { containers, ...extra } });

// Examples from https://kyverno.io/docs/writing-policies/mutate/
describe('patchStrategicMerge', () => {
  it('conditional anchor: imagePullPolicy IfNotPresent for :latest images only', async () => {
    const p = policy([{ name: 'set-image-pull-policy', match: matchKind('Pod'), mutate: { patchStrategicMerge: { spec: { containers: [{ '(image)': '*:latest', imagePullPolicy: 'IfNotPresent' }] } } } }]);
    const r = await mutatePolicy(p, pod([{ name: 'a', image: 'nginx:latest' }, { name: 'b', image: 'nginx:1.2' }]));
    expect(r.rules).toMatchObject([{ name: 'set-image-pull-policy', status: 'pass' }]);
    const c = (r.patchedResource!.spec as { containers: Record<string, unknown>[] }).containers;
    expect(c[0]).toEqual({ name: 'a', image: 'nginx:latest', imagePullPolicy: 'IfNotPresent' });
    expect(c[1]).toEqual({ name: 'b', image: 'nginx:1.2' });
    const none = await mutatePolicy(p, pod([{ name: 'b', image: 'nginx:1.2' }]));
    expect(none.rules).toMatchObject([{ status: 'skip', message: 'no patches applied' }]);
  });

  it('merges containers by name, adds a new one, substitutes variables', async () => {
    const p = policy([{ name: 'smp', match: matchKind('Pod'), mutate: { patchStrategicMerge: { metadata: { labels: { name: '{{request.object.metadata.name}}' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest', imagePullPolicy: 'Never', command: ['ls'] }] } } } }]);
    const r = await mutatePolicy(p, pod([{ name: 'app', image: 'app:1' }]));
    expect(r.patchedResource!.metadata!.labels).toEqual({ role: 'x', name: 'web' });
    expect((r.patchedResource!.spec as { containers: unknown[] }).containers).toEqual([{ name: 'app', image: 'app:1' }, { name: 'nginx', image: 'nginx:latest', imagePullPolicy: 'Never', command: ['ls'] }]);
  });

  it('add-if-not-present anchors', () => {
    const res = { metadata: { labels: { 'lfx-mentorship': 'other' } }, spec: { securityContext: { runAsUser: 5 } } };
    const out = applyStrategicMerge(res, { metadata: { labels: { '+(lfx-mentorship)': 'kyverno', '+(team)': 'a' } }, spec: { securityContext: { '+(runAsNonRoot)': true, '+(runAsUser)': 1000 } } });
    expect(out).toEqual({ metadata: { labels: { 'lfx-mentorship': 'other', team: 'a' } }, spec: { securityContext: { runAsUser: 5, runAsNonRoot: true } } });
  });

  it('global anchor: add imagePullSecrets when an image comes from corp.reg.com', () => {
    const patch = { spec: { containers: [{ '<(image)': 'corp.reg.com/*' }], imagePullSecrets: [{ name: 'my-secret' }] } };
    const corp = { spec: { containers: [{ name: 'web', image: 'corp.reg.com/nginx' }] } };
    expect(applyStrategicMerge(corp, patch)).toEqual({ spec: { containers: [{ name: 'web', image: 'corp.reg.com/nginx' }], imagePullSecrets: [{ name: 'my-secret' }] } });
    const other = { spec: { containers: [{ name: 'web', image: 'docker.io/nginx' }] } };
    expect(applyStrategicMerge(other, patch)).toEqual(other);
  });

  it('global anchor in a list the resource does not have fails the whole patch; a conditional one only drops its element', () => {
    const patch = { metadata: { labels: { '+(scratch)': 'yes' } }, spec: { volumes: [{ '<(emptyDir)': {} }] } };
    const bare = { metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    expect(applyStrategicMerge(bare, patch)).toEqual(bare);
    const withTmp = { metadata: { name: 'b' }, spec: { volumes: [{ name: 'tmp', emptyDir: {} }] } };
    expect(applyStrategicMerge(withTmp, patch)).toEqual({ metadata: { name: 'b', labels: { scratch: 'yes' } }, spec: { volumes: [{ name: 'tmp', emptyDir: {} }] } });
    const cond = { metadata: { labels: { tier: 'web' } }, spec: { volumes: [{ '(emptyDir)': {}, name: 'x' }] } };
    expect(applyStrategicMerge(bare, cond)).toEqual({ ...bare, metadata: { name: 'a', labels: { tier: 'web' } } });
  });

  it('a conditional anchor holding +() keys adds them where the key exists, without matching the condition', () => {
    const patch = { spec: { disks: [{ '(scratch)': { '+(quota)': '5Gi' }, name: 'cache' }] } };
    const res = { spec: { disks: [{ name: 'cache', scratch: {} }, { name: 'data', persistent: { id: 7 } }] } };
    expect(applyStrategicMerge(res, patch)).toEqual({ spec: { disks: [{ name: 'cache', scratch: { quota: '5Gi' } }, { name: 'data', persistent: { id: 7 } }] } });
    const already = { spec: { disks: [{ name: 'cache', scratch: { quota: '1Gi' } }] } };
    expect(applyStrategicMerge(already, patch)).toEqual(already);
    const noKey = { spec: { disks: [{ name: 'cache', persistent: { id: 1 } }] } };
    expect(applyStrategicMerge(noKey, patch)).toEqual(noKey);
  });

  it('conditional element in nested lists: ports named secure*', () => {
    const ep = { subsets: [{ ports: [{ name: 'secure-https', port: 443 }, { name: 'http', port: 80 }] }] };
    expect(applyStrategicMerge(ep, { subsets: [{ ports: [{ '(name)': 'secure*', port: 6443 }] }] })).toEqual({ subsets: [{ ports: [{ name: 'secure-https', port: 6443 }, { name: 'http', port: 80 }] }] });
  });

  it('null deletes a key', () => {
    expect(applyStrategicMerge({ metadata: { labels: { a: '1', b: '2' } } }, { metadata: { labels: { a: null } } })).toEqual({ metadata: { labels: { b: '2' } } });
  });
});

describe('patchesJson6902', () => {
  it('add, remove, append with -, escaped keys, missing paths created', () => {
    const cm = { data: { a: '1' }, metadata: { labels: { purpose: 'x', keep: 'y' } }, spec: { tolerations: [{ key: 'a' }] } };
    const out = applyJsonPatch(cm, [
      { op: 'add', path: '/data/newKey1', value: 'newValue1' },
      { op: 'remove', path: '/metadata/labels/purpose' },
      { op: 'add', path: '/spec/tolerations/-', value: { key: 'networkzone' } },
      { op: 'add', path: '/metadata/annotations/config.linkerd.io~1skip-outbound-ports', value: '8200' },
      { op: 'remove', path: '/metadata/missing/key' },
    ]);
    expect(out).toEqual({ data: { a: '1', newKey1: 'newValue1' }, metadata: { labels: { keep: 'y' }, annotations: { 'config.linkerd.io/skip-outbound-ports': '8200' } }, spec: { tolerations: [{ key: 'a' }, { key: 'networkzone' }] } });
  });

  it('insert at an index and replace', async () => {
    const p = policy([{ name: 'insert', match: matchKind('Pod'), mutate: { patchesJson6902: '- op: add\n  path: "/spec/containers/1"\n  value: {name: busybox, image: "busybox:latest"}\n- op: replace\n  path: /metadata/labels/role\n  value: "{{ request.object.metadata.name }}"\n' } }]);
    const r = await mutatePolicy(p, pod([{ name: 'a' }, { name: 'b' }]));
    expect((r.patchedResource!.spec as { containers: { name: string }[] }).containers.map((c) => c.name)).toEqual(['a', 'busybox', 'b']);
    expect(r.patchedResource!.metadata!.labels).toEqual({ role: 'web' });
  });
});

describe('foreach and autogen', () => {
  it('foreach patches each element', async () => {
    const p = policy([{ name: 'always-pull', match: matchKind('Pod'), mutate: { foreach: [{ list: 'request.object.spec.containers', patchStrategicMerge: { spec: { containers: [{ name: '{{ element.name }}', imagePullPolicy: 'Always' }] } } }] } }]);
    const r = await mutatePolicy(p, pod([{ name: 'a', image: 'x' }, { name: 'b', image: 'y', imagePullPolicy: 'Never' }]));
    expect((r.patchedResource!.spec as { containers: { imagePullPolicy: string }[] }).containers.map((c) => c.imagePullPolicy)).toEqual(['Always', 'Always']);
  });

  it("foreach loads each element's context entries before its patch", async () => {
    const fe = { list: 'request.object.spec.containers', context: [{ name: 'where', variable: { value: '/spec/containers/{{ elementIndex }}' } }], patchesJson6902: "{{ [{op: 'add', path: join('/', [where, 'tty']), value: `true`}] | to_string(@) }}" };
    const p = policy([{ name: 'tty-all', match: matchKind('Pod'), mutate: { foreach: [fe] } }], { 'pod-policies.kyverno.io/autogen-controllers': 'none' });
    const r = await mutatePolicy(p, pod([{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }]));
    expect(r.rules).toMatchObject([{ name: 'tty-all', status: 'pass' }]);
    expect((r.patchedResource!.spec as { containers: { tty?: boolean }[] }).containers.map((c) => c.tty)).toEqual([true, true]);
  });

  it('strategic merge rules are auto-generated for Deployments', async () => {
    const p = policy([{ name: 'label', match: matchKind('Pod'), mutate: { patchStrategicMerge: { metadata: { labels: { '+(team)': 'core' } } } } }]);
    const dep: Resource = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { metadata: { labels: { app: 'd' } }, spec: { containers: [] } } } };
    const r = await mutatePolicy(p, dep);
    expect(r.rules).toMatchObject([{ name: 'autogen-label', status: 'pass' }]);
    expect((r.patchedResource!.spec as { template: { metadata: { labels: unknown } } }).template.metadata.labels).toEqual({ app: 'd', team: 'core' });
  });

  it('preconditions not met skip the rule', async () => {
    const p = policy([{ name: 'pre', match: matchKind('Pod'), preconditions: { all: [{ key: '{{ request.operation }}', operator: 'Equals', value: 'UPDATE' }] }, mutate: { patchStrategicMerge: { metadata: { labels: { a: 'b' } } } } }]);
    expect((await mutatePolicy(p, pod([]))).rules).toMatchObject([{ status: 'skip' }]);
  });
});
