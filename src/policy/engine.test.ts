import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from './engine.js';
import type { ImageVerifier, ImageVerifyRequest } from './image-verifier.js';
import type { Policy, Resource, Rule } from './types.js';

const policy = (rules: Rule[], spec: Partial<Policy['spec']> = {}): Policy => ({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p' }, spec: { rules, ...spec } });
const matchPod = { any: [{ resources: { kinds: ['Pod'] } }] };
const pod = (containers: Record<string, unknown>[], meta: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Resource => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'apps', ...meta }, spec: { containers, ...spec } });
const results = async (p: Policy, r: Resource, opts = {}) => (await evaluatePolicy(p, r, opts)).rules.map((x) => [x.name, x.status]);

describe('validate rules', () => {
  it('pattern pass / fail with the message and path', async () => {
    const p = policy([{ name: 'no-latest', match: matchPod, validate: { message: 'no latest tag', pattern: { spec: { containers: [{ image: '!*:latest' }] } } } }]);
    expect(await results(p, pod([{ name: 'a', image: 'nginx:1.2' }]))).toEqual([['no-latest', 'pass']]);
    const r = await evaluatePolicy(p, pod([{ name: 'a', image: 'nginx:latest' }]));
    expect(r.rules[0]).toMatchObject({ status: 'fail', message: 'validation error: no latest tag. rule no-latest failed at path /spec/containers/0/image/' });
  });

  it('rules that do not match produce no response', async () => {
    const p = policy([{ name: 'svc', match: { any: [{ resources: { kinds: ['Service'] } }] }, validate: { pattern: { spec: { type: 'ClusterIP' } } } }]);
    expect(await results(p, pod([{ image: 'x' }]))).toEqual([]);
  });

  it('preconditions not met give skip (docs: NodePort services)', async () => {
    const rule: Rule = { name: 'np', match: { any: [{ resources: { kinds: ['Service'] } }] }, preconditions: { all: [{ key: '{{ request.object.spec.type }}', operator: 'Equals', value: 'NodePort' }] }, validate: { pattern: { spec: { externalTrafficPolicy: 'Local' } } } };
    const svc = (type: string, etp?: string): Resource => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type, ...(etp ? { externalTrafficPolicy: etp } : {}) } });
    expect(await results(policy([rule]), svc('ClusterIP'))).toEqual([['np', 'skip']]);
    expect(await results(policy([rule]), svc('NodePort'))).toEqual([['np', 'fail']]);
    expect(await results(policy([rule]), svc('NodePort', 'Local'))).toEqual([['np', 'pass']]);
  });

  it('anyPattern passes when one pattern matches; skip when all skip', async () => {
    const rule: Rule = { name: 'nonroot', match: matchPod, validate: { anyPattern: [{ spec: { securityContext: { runAsNonRoot: true } } }, { spec: { containers: [{ securityContext: { runAsNonRoot: true } }] } }] } };
    expect(await results(policy([rule]), pod([{ image: 'a' }], {}, { securityContext: { runAsNonRoot: true } }))).toEqual([['nonroot', 'pass']]);
    expect(await results(policy([rule]), pod([{ image: 'a', securityContext: { runAsNonRoot: true } }]))).toEqual([['nonroot', 'pass']]);
    expect(await results(policy([rule]), pod([{ image: 'a' }]))).toEqual([['nonroot', 'fail']]);
    const skipRule: Rule = { name: 's', match: matchPod, validate: { anyPattern: [{ spec: { containers: [{ '(image)': 'corp/*', name: 'x' }] } }] } };
    expect(await results(policy([skipRule]), pod([{ image: 'other' }]))).toEqual([['s', 'skip']]);
  });

  it('deny: fail when conditions hold (docs: team=eng OR unit=green)', async () => {
    const rule: Rule = { name: 'd', match: { any: [{ resources: { kinds: ['ConfigMap'] } }] }, validate: { message: 'Main message is here.', deny: { conditions: { any: [{ key: '{{ request.object.data.team }}', operator: 'Equals', value: 'eng' }, { key: '{{ request.object.data.unit }}', operator: 'Equals', value: 'green' }] } } } };
    const cm = (data: Record<string, string>): Resource => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
    const r = await evaluatePolicy(policy([rule]), cm({ team: 'eng', unit: 'red' }));
    expect(r.rules[0]).toMatchObject({ status: 'fail', message: 'Main message is here.' });
    expect(await results(policy([rule]), cm({ team: 'ops', unit: 'red' }))).toEqual([['d', 'pass']]);
    // the missing key is only looked at when the first condition is false
    expect(await results(policy([rule]), cm({ team: 'ops' }))).toEqual([['d', 'error']]);
    expect(await results(policy([rule]), cm({ team: 'eng' }))).toEqual([['d', 'fail']]);
  });

  it('DELETE requests: deny sees request.oldObject, patterns are not applied', async () => {
    const rule: Rule = { name: 'block-delete', match: matchPod, validate: { deny: { conditions: { all: [{ key: '{{ request.operation }}', operator: 'Equals', value: 'DELETE' }, { key: "{{ request.oldObject.metadata.labels.protected || '' }}", operator: 'Equals', value: 'true' }] } } } };
    expect(await results(policy([rule]), pod([{ image: 'a' }], { labels: { protected: 'true' } }), { request: { operation: 'DELETE' } })).toEqual([['block-delete', 'fail']]);
    const pat: Rule = { name: 'pat', match: matchPod, validate: { pattern: { spec: { containers: [{ image: 'none' }] } } } };
    expect(await results(policy([pat]), pod([{ image: 'a' }]), { request: { operation: 'DELETE' } })).toEqual([]);
  });

  it('context variables (value, jmesPath, default) feed conditions', async () => {
    const rule: Rule = {
      name: 'hostpaths',
      match: matchPod,
      context: [{ name: 'hostpathvolnames', variable: { jmesPath: 'request.object.spec.volumes[?hostPath].name', default: [] } }, { name: 'limit', variable: { value: 1 } }],
      validate: { deny: { conditions: { all: [{ key: '{{ length(hostpathvolnames) }}', operator: 'GreaterThan', value: '{{ limit }}' }] } } },
    };
    const vols = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i}`, hostPath: { path: `/h${i}` } }));
    expect(await results(policy([rule]), pod([{ image: 'a' }], {}, { volumes: vols(2) }))).toEqual([['hostpaths', 'fail']]);
    expect(await results(policy([rule]), pod([{ image: 'a' }], {}, { volumes: vols(1) }))).toEqual([['hostpaths', 'pass']]);
  });

  it('context entries that need a cluster are errors unless values provide them', async () => {
    const rule: Rule = { name: 'cm', match: matchPod, context: [{ name: 'dict', configMap: { name: 'x', namespace: 'y' } }], validate: { deny: { conditions: { any: [{ key: '{{ dict.data.allowed }}', operator: 'Equals', value: 'no' }] } } } };
    expect(await results(policy([rule]), pod([{ image: 'a' }]))).toEqual([['cm', 'error']]);
    expect(await results(policy([rule]), pod([{ image: 'a' }]), { values: { 'dict.data.allowed': 'no' } })).toEqual([['cm', 'fail']]);
  });

  it('images variable', async () => {
    const rule: Rule = { name: 'reg', match: matchPod, validate: { foreach: [{ list: 'request.object.spec.containers', deny: { conditions: { any: [{ key: '{{ images.containers."{{element.name}}".registry }}', operator: 'NotEquals', value: 'ghcr.io' }] } } }] } };
    expect(await results(policy([rule]), pod([{ name: 'a', image: 'ghcr.io/x/y:1' }]))).toEqual([['reg', 'pass']]);
    expect(await results(policy([rule]), pod([{ name: 'a', image: 'nginx' }]))).toEqual([['reg', 'fail']]);
  });

  it('failureAction per rule, falling back to spec.validationFailureAction', async () => {
    const r1 = await evaluatePolicy(policy([{ name: 'a', match: matchPod, validate: { failureAction: 'Enforce', pattern: { spec: {} } } }]), pod([]));
    expect(r1.rules[0]!.failureAction).toBe('Enforce');
    const r2 = await evaluatePolicy(policy([{ name: 'a', match: matchPod, validate: { pattern: { spec: {} } } }], { validationFailureAction: 'enforce' }), pod([]));
    expect(r2.rules[0]!.failureAction).toBe('Enforce');
    const r3 = await evaluatePolicy(policy([{ name: 'a', match: matchPod, validate: { pattern: { spec: {} } } }]), pod([]));
    expect(r3.rules[0]!.failureAction).toBe('Audit');
  });

  it('autogen rules evaluate pod controllers', async () => {
    const p = policy([{ name: 'no-latest', match: matchPod, validate: { pattern: { spec: { containers: [{ image: '!*:latest' }] } } } }]);
    const dep: Resource = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'x:latest' }] } } } };
    expect(await results(p, dep)).toEqual([['autogen-no-latest', 'fail']]);
    const cron: Resource = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: 'x:1' }] } } } } } };
    expect(await results(p, cron)).toEqual([['autogen-cronjob-no-latest', 'pass']]);
  });
});

describe('namespaced Policy', () => {
  it('applies only to resources in its namespace', async () => {
    const p: Policy = { apiVersion: 'kyverno.io/v1', kind: 'Policy', metadata: { name: 'p', namespace: 'apps' }, spec: { rules: [{ name: 'r', match: matchPod, validate: { pattern: { spec: {} } } }] } };
    expect(await results(p, pod([]))).toEqual([['r', 'pass']]);
    expect(await results(p, { ...pod([]), metadata: { name: 'x', namespace: 'other' } })).toEqual([]);
  });
});

describe('foreach', () => {
  it('pattern per element (element scope)', async () => {
    const rule: Rule = { name: 'trusted', match: matchPod, validate: { message: 'images must come from trusted-registry.io', foreach: [{ list: 'request.object.spec.containers', pattern: { image: 'trusted-registry.io/*' } }] } };
    expect(await results(policy([rule]), pod([{ name: 'a', image: 'trusted-registry.io/a' }]))).toEqual([['trusted', 'pass']]);
    expect(await results(policy([rule]), pod([{ name: 'a', image: 'trusted-registry.io/a' }, { name: 'b', image: 'docker.io/b' }]))).toEqual([['trusted', 'fail']]);
  });

  it('deny per element with element and elementIndex; an empty list gives no rule response (Kyverno 1.19)', async () => {
    const rule: Rule = { name: 'names', match: matchPod, validate: { foreach: [{ list: 'request.object.spec.containers', deny: { conditions: { any: [{ key: '{{ element.name }}-{{ elementIndex }}', operator: 'Equals', value: 'bad-1' }] } } }] } };
    expect(await results(policy([rule]), pod([{ name: 'ok' }, { name: 'bad' }]))).toEqual([['names', 'fail']]);
    expect(await results(policy([rule]), pod([{ name: 'bad' }, { name: 'ok' }]))).toEqual([['names', 'pass']]);
    expect(await results(policy([rule]), pod([]))).toEqual([]);
  });

  it('per-element preconditions skip elements; all skipped gives no rule response', async () => {
    const rule: Rule = { name: 'pre', match: matchPod, validate: { foreach: [{ list: 'request.object.spec.containers', preconditions: { all: [{ key: '{{ element.name }}', operator: 'Equals', value: 'side*' }] }, pattern: { image: '!*:latest' } }] } };
    expect(await results(policy([rule]), pod([{ name: 'main', image: 'a:latest' }]))).toEqual([]);
    expect(await results(policy([rule]), pod([{ name: 'main', image: 'a:latest' }, { name: 'sidecar', image: 'b:latest' }]))).toEqual([['pre', 'fail']]);
    expect(await results(policy([rule]), pod([{ name: 'sidecar', image: 'b:1' }]))).toEqual([['pre', 'pass']]);
  });

  it('nested foreach with element0 / element1', async () => {
    const rule: Rule = {
      name: 'nested',
      match: matchPod,
      validate: { foreach: [{ list: 'request.object.spec.containers', foreach: [{ list: 'element.ports', deny: { conditions: { any: [{ key: '{{ element1.containerPort }}', operator: 'LessThan', value: 1024 }] } } }] }] },
    };
    expect(await results(policy([rule]), pod([{ name: 'a', ports: [{ containerPort: 8080 }] }]))).toEqual([['nested', 'pass']]);
    expect(await results(policy([rule]), pod([{ name: 'a', ports: [{ containerPort: 8080 }, { containerPort: 80 }] }]))).toEqual([['nested', 'fail']]);
  });

  it('elementScope: false validates the whole resource', async () => {
    const rule: Rule = { name: 'scope', match: matchPod, validate: { foreach: [{ list: 'request.object.spec.containers', elementScope: false, pattern: { metadata: { labels: { app: '?*' } } } }] } };
    expect(await results(policy([rule]), pod([{ name: 'a' }], { labels: { app: 'x' } }))).toEqual([['scope', 'pass']]);
    expect(await results(policy([rule]), pod([{ name: 'a' }]))).toEqual([['scope', 'fail']]);
  });
});

describe('verifyImages', () => {
  const vrule = (extra: Record<string, unknown> = {}): Rule => ({ name: 'verify', match: matchPod, verifyImages: [{ imageReferences: ['ghcr.io/acme/*'], mutateDigest: false, verifyDigest: true, attestors: [{ entries: [{ keys: { publicKeys: 'PEM' } }] }], ...extra }] });
  const digest = 'sha256:' + 'c'.repeat(64);
  const seen: ImageVerifyRequest[] = [];
  const verifier: ImageVerifier = {
    async verifyImage(req) {
      seen.push(req);
      return req.image.includes('unsigned') ? { status: 'fail', reason: 'SIGNATURE_INVALID', message: 'no matching signatures' } : { status: 'pass', digest: req.info.digest };
    },
  };
  it('skips images outside imageReferences', async () => {
    expect(await results(policy([vrule()]), pod([{ name: 'a', image: 'docker.io/nginx@' + digest }]), { imageVerifier: verifier })).toEqual([['verify', 'skip']]);
  });
  it('delegates to the ImageVerifier: pass and fail', async () => {
    expect(await results(policy([vrule()]), pod([{ name: 'a', image: `ghcr.io/acme/app@${digest}` }]), { imageVerifier: verifier })).toEqual([['verify', 'pass']]);
    expect(seen.at(-1)!.attestors[0]!.entries![0]!.keys!.publicKeys).toBe('PEM');
    expect(await results(policy([vrule()]), pod([{ name: 'a', image: `ghcr.io/acme/unsigned@${digest}` }]), { imageVerifier: verifier })).toEqual([['verify', 'fail']]);
  });
  it('requires a digest when mutateDigest is false', async () => {
    expect(await results(policy([vrule()]), pod([{ name: 'a', image: 'ghcr.io/acme/app:1' }]), { imageVerifier: verifier })).toEqual([['verify', 'fail']]);
  });
  it('a verifier that throws yields error, not pass', async () => {
    const throwing: ImageVerifier = { verifyImage: async () => { throw new Error('registry unreachable'); } };
    expect(await results(policy([vrule()]), pod([{ name: 'a', image: `ghcr.io/acme/app@${digest}` }]), { imageVerifier: throwing })).toEqual([['verify', 'error']]);
  });
  it('without a verifier (offline) a matching image is an error', async () => {
    expect(await results(policy([vrule()]), pod([{ name: 'a', image: `ghcr.io/acme/app@${digest}` }]))).toEqual([['verify', 'error']]);
  });
  it('skipImageReferences and initContainers', async () => {
    const p = policy([vrule({ skipImageReferences: ['ghcr.io/acme/skip*'] })]);
    expect(await results(p, pod([{ name: 'a', image: `ghcr.io/acme/skip@${digest}` }]), { imageVerifier: verifier })).toEqual([['verify', 'skip']]);
    const withInit = pod([{ name: 'a', image: 'docker.io/x' }], {}, { initContainers: [{ name: 'i', image: `ghcr.io/acme/unsigned@${digest}` }] });
    expect(await results(p, withInit, { imageVerifier: verifier })).toEqual([['verify', 'fail']]);
  });
});

describe('{{@}} in patterns', () => {
  it('resolves to the resource value at the pattern path', async () => {
    const rule: Rule = { name: 'at', match: matchPod, validate: { pattern: { metadata: { name: "{{ regex_match('^web', '{{@}}') && '{{@}}' || 'nope' }}" } } } };
    expect(await results(policy([rule]), pod([]))).toEqual([['at', 'pass']]);
    expect(await results(policy([rule]), { ...pod([]), metadata: { name: 'db', namespace: 'apps' } })).toEqual([['at', 'fail']]);
  });
});
