import { describe, expect, it } from 'vitest';
import { matchPattern } from './pattern.js';

/**
 * Cases ported from Kyverno pkg/engine/validate/validate_test.go (TestConditionalAnchorWithMultiplePatterns,
 * Test_global_anchor, TestValidateMapWildcardKeys). Kyverno's harness checks only pass and skip
 * outcomes strictly; for its "fail" cases we assert "not pass".
 */
type Want = 'pass' | 'skip' | 'fail';
const outcome = (resource: unknown, pattern: unknown): Want => {
  const r = matchPattern(resource, pattern);
  return r.ok ? 'pass' : r.skip ? 'skip' : 'fail';
};
const check = (resource: unknown, pattern: unknown, want: Want) => {
  const got = outcome(resource, pattern);
  if (want === 'fail') expect(got).not.toBe('pass');
  else expect(got).toBe(want);
};

const P1 = { spec: { containers: [{ name: '*', '(image)': '*:latest | !*:*', imagePullPolicy: '!Always' }] } };
const pods = (...cs: [string, string, string][]) => ({ spec: { containers: cs.map(([name, image, imagePullPolicy]) => ({ name, image, imagePullPolicy })) } });

describe('Kyverno TestConditionalAnchorWithMultiplePatterns', () => {
  const cases: [string, [string, string, string][], Want][] = [
    ['test-1', [['nginx', 'nginx:1.2.3', 'Always']], 'skip'],
    ['test-2', [['nginx', 'nginx:latest', 'Always']], 'fail'],
    ['test-3', [['nginx', 'nginx', 'Always']], 'fail'],
    ['test-4', [['nginx', 'nginx', 'Never']], 'pass'],
    ['test-5', [['nginx', 'nginx:latest', 'Never']], 'pass'],
    ['test-6', [['nginx', 'nginx:1.2.3', 'Never']], 'skip'],
    ['test-7', [['nginx', 'nginx', 'Always'], ['busybox', 'busybox:1.28', 'Always']], 'fail'],
    ['test-8', [['nginx', 'nginx:latest', 'Always'], ['busybox', 'busybox:1.28', 'Always']], 'fail'],
    ['test-9', [['nginx', 'nginx:1.2.3', 'Always'], ['busybox', 'busybox:1.28', 'Always']], 'skip'],
    ['test-10', [['nginx', 'nginx', 'Never'], ['busybox', 'busybox:1.28', 'Always']], 'pass'],
    ['test-11', [['nginx', 'nginx:latest', 'Never'], ['busybox', 'busybox:1.28', 'Always']], 'pass'],
    ['test-12', [['nginx', 'nginx:1.2.3', 'Never'], ['busybox', 'busybox:1.28', 'Always']], 'skip'],
    ['test-13', [['busybox', 'busybox:1.28', 'Always'], ['nginx', 'nginx', 'Always']], 'fail'],
    ['test-14', [['busybox', 'busybox:1.28', 'Always'], ['nginx', 'nginx:latest', 'Always']], 'fail'],
    ['test-15', [['busybox', 'busybox:1.28', 'Always'], ['nginx', 'nginx:1.2.3', 'Always']], 'skip'],
    ['test-16', [['busybox', 'busybox:1.28', 'Always'], ['nginx', 'nginx', 'Never']], 'pass'],
    ['test-17', [['busybox', 'busybox:1.28', 'Always'], ['nginx', 'nginx:latest', 'Never']], 'pass'],
    ['test-18', [['busybox', 'busybox:1.28', 'Always'], ['nginx', 'nginx:1.2.3', 'Never']], 'skip'],
    ['test-19', [['busybox', 'busybox', 'Always'], ['nginx', 'nginx', 'Always']], 'fail'],
    ['test-20', [['busybox', 'busybox:latest', 'Always'], ['nginx', 'nginx:latest', 'Always']], 'fail'],
    ['test-21', [['busybox', 'busybox:1.2.3', 'Always'], ['nginx', 'nginx:latest', 'IfNotPresent']], 'pass'],
  ];
  for (const [name, cs, want] of cases) it(name, () => check(pods(...cs), P1, want));

  it('test-22: alternatives in either order', () => {
    check(pods(['nginx', 'nginx:latest', 'Always']), { spec: { containers: [{ name: '*', '(image)': '!*:* | *:latest', imagePullPolicy: '!Always' }] } }, 'fail');
  });

  it('tests 26-29: global anchors in nested env lists', () => {
    const p26 = { spec: { containers: [{ name: '*', '<(image)': 'nginx', env: [{ '<(name)': 'foo', '<(value)': 'bar' }], imagePullPolicy: '!Always' }] } };
    check({ spec: { containers: [{ name: 'nginx', image: 'nginx', env: [{ name: 'foo', value: 'bar' }], imagePullPolicy: 'Always' }] } }, p26, 'fail');
    const p28 = { spec: { containers: [{ name: '*', env: [{ '<(name)': 'foo', '<(value)': 'bar' }], imagePullPolicy: '!Always' }] } };
    check({ spec: { containers: [{ name: 'nginx', image: 'nginx', env: [{ name: 'foo', value: 'bar' }], imagePullPolicy: 'IfNotpresent' }] } }, p28, 'pass');
    check({ spec: { containers: [{ name: 'nginx', image: 'nginx', env: [{ name: 'foo', value: 'bar' }], imagePullPolicy: 'Always' }] } }, p28, 'fail');
  });

  it('tests 30-36: global anchors on metadata and imagePullSecrets', () => {
    const p30 = { metadata: { '<(name)': 'nginx' }, spec: { imagePullSecrets: [{ name: 'regcred' }] } };
    check({ metadata: { name: 'nginx' }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest' }], imagePullSecrets: [{ name: 'cred' }] } }, p30, 'fail');
    const p32 = { metadata: { labels: { '<(foo)': 'bar' } }, spec: { containers: [{ name: 'nginx', image: '!*:latest' }] } };
    check({ metadata: { name: 'nginx', labels: { foo: 'bar' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } }, p32, 'pass');
    check({ metadata: { name: 'nginx', labels: { foo: 'bar' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest' }] } }, p32, 'fail');
    const p34 = { spec: { containers: [{ name: '*', '<(image)': 'nginx' }], imagePullSecrets: [{ name: 'my-registry-secret' }] } };
    check({ spec: { containers: [{ name: 'nginx', image: 'nginx' }], imagePullSecrets: [{ name: 'cred' }] } }, p34, 'fail');
    check({ spec: { containers: [{ name: 'nginx', image: 'nginx' }], imagePullSecrets: [{ name: 'my-registry-secret' }] } }, p34, 'pass');
  });

  it('tests 37-42: nested conditional anchors (docker.sock)', () => {
    const p = { metadata: { labels: { 'allow-docker': 'true' } }, '(spec)': { '(volumes)': [{ '(hostPath)': { path: '/var/run/docker.sock' } }] } };
    const base = { metadata: { labels: { run: 'nginx' } as Record<string, string>, name: 'nginx' }, spec: { containers: [{ image: 'nginx', name: 'nginx' }] } as Record<string, unknown> };
    check(base, p, 'skip');
    check({ ...base, spec: { ...base.spec, volumes: [{ hostPath: { path: '/var/run/docker.sock' } }] } }, p, 'fail');
    check({ ...base, spec: { ...base.spec, volumes: [{ hostPath: { path: '/randome/value' } }] } }, p, 'skip');
    check({ metadata: { labels: { run: 'nginx', 'allow-docker': 'true' }, name: 'nginx' }, spec: { ...base.spec, volumes: [{ hostPath: { path: '/var/run/docker.sock' } }] } }, p, 'pass');
    check({ metadata: { labels: { run: 'nginx', 'allow-docker': 'false' }, name: 'nginx' }, spec: { ...base.spec, volumes: [{ hostPath: { path: '/var/run/docker.sock' } }] } }, p, 'fail');
  });

  it('tests 43-54: conditional names with negation and equality anchors', () => {
    const p43 = { spec: { '=(volumes)': [{ '(name)': '!cache-volume', '=(emptyDir)': { sizeLimit: '?*' } }] } };
    check({ spec: { volumes: [{ name: 'cache-volume', emptyDir: {} }] } }, p43, 'skip');
    const p44 = { spec: { '=(initContainers)': [{ '(name)': '!istio-init', '=(securityContext)': { '=(runAsUser)': '>0' } }], '=(containers)': [{ '=(securityContext)': { '=(runAsUser)': '>0' } }] } };
    check({ spec: { initContainers: [{ name: 'nginx', securityContext: { runAsUser: 1000 } }], containers: [{ name: 'nginx', image: 'nginx' }] } }, p44, 'pass');
    check({ spec: { initContainers: [{ name: 'nginx', securityContext: { runAsUser: 0 } }], containers: [{ name: 'nginx', image: 'nginx' }] } }, p44, 'fail');
    check({ spec: { initContainers: [{ name: 'istio-init', securityContext: { runAsUser: 0 } }], containers: [{ securityContext: { runAsUser: 1000 } }] } }, p44, 'pass');
    check({ spec: { initContainers: [{ name: 'istio-init', securityContext: { runAsUser: 1000 } }], containers: [{ securityContext: { runAsUser: 0 } }] } }, p44, 'fail');
    check({ spec: { containers: [{ securityContext: { runAsUser: 1000 } }] } }, p44, 'pass');
    check({ spec: { containers: [{ securityContext: { runAsUser: 0 } }] } }, p44, 'fail');
    check({ spec: { initContainers: [{ name: 'istio-init', securityContext: { runAsUser: 0 } }], containers: [{ name: 'nginx', image: 'nginx' }] } }, p44, 'pass');
    const p51 = { spec: { '=(volumes)': [{ '(name)': '!credential-socket&!istio-data&!istio-envoy&!workload-certs&!workload-socket', '=(emptyDir)': { sizeLimit: '?*' } }] } };
    check({ spec: { volumes: [{ name: 'credential-socket', emptyDir: { sizeLimit: '1Gi' } }] } }, p51, 'skip');
    check({ spec: { volumes: [{ name: 'cache-volume', emptyDir: { sizeLimit: '1Gi' } }] } }, p51, 'pass');
    check({ spec: { volumes: [{ name: 'cache-volume' }] } }, p51, 'pass');
    check({ spec: { volumes: [{ name: 'cache-volume', emptyDir: {} }] } }, p51, 'fail');
  });
});

describe('Kyverno Test_global_anchor', () => {
  const p = { spec: { containers: [{ name: '*', '<(image)': '*:latest', imagePullPolicy: '!Always' }] } };
  it('skip / fail / pass / mixed', () => {
    check(pods(['nginx', 'nginx:v1', 'Always']), p, 'skip');
    check(pods(['nginx', 'nginx:latest', 'Always']), p, 'fail');
    check(pods(['nginx', 'nginx:latest', 'IfNotPresent']), p, 'pass');
    check(pods(['nginx', 'nginx:latest', 'IfNotPresent'], ['nginx', 'nginx:v2', 'IfNotPresent']), p, 'pass');
  });
});

describe('Kyverno TestValidateMapWildcardKeys', () => {
  const cases: [unknown, unknown, string, boolean][] = [
    [{ metadata: { annotations: { 'test/*': 'value1' } } }, { metadata: { annotations: { 'test/bar': 'value1' } } }, '', true],
    [{ metadata: { annotations: { 'test/b??': 'v*' } } }, { metadata: { annotations: { 'test/bar': 'value1' } } }, '', true],
    [{}, { metadata: { annotations: { 'test/bar': 'value1' } } }, '', true],
    [{ metadata: { annotations: { 'test/b??': 'v*' } } }, { metadata: { labels: { 'test/bar': 'value1' } } }, '/metadata/annotations/', false],
    [{ metadata: { labels: { '*/test': 'foo' } } }, { metadata: { labels: { 'foo/test': 'foo' } } }, '', true],
    [{ metadata: { labels: { 'foo/a*': 'bar' } } }, { metadata: { labels: { 'foo/aa?': 'bar', 'foo/789': 'bar' } } }, '', true],
    [{ '=(metadata)': { '=(labels)': { 'foo/P*': 'bar', 'foo/Q*': 'bar2' } } }, { metadata: { labels: { 'foo/PQR': 'bar', 'foo/QR': 'bar2' } } }, '', true],
    [{ metadata: { labels: { 'foo/X*': 'bar', 'foo/A*': 'bar2' } } }, { metadata: { labels: { 'foo/XYZ': 'bar' } } }, '/metadata/labels/', false],
  ];
  cases.forEach(([pattern, resource, path, ok], i) =>
    it(`case ${i + 1}`, () => {
      const r = matchPattern(resource, pattern);
      expect(r.ok).toBe(ok);
      if (!r.ok && path) expect(r.path.startsWith(path)).toBe(true);
    }),
  );
});
