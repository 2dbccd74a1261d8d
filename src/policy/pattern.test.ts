import { describe, expect, it } from 'vitest';
import { matchPattern } from './pattern.js';

const status = (r: ReturnType<typeof matchPattern>) => (r.ok ? 'pass' : r.skip ? 'skip' : r.path === '' ? 'error' : 'fail');

// Examples from https://kyverno.io/docs/writing-policies/validate/ (patterns, wildcards, anchors).
describe('matchPattern', () => {
  const pod = (containers: unknown[], extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers, ...extra } });

  it('plain pattern: every array element must match; path names the failing element', () => {
    const pattern = { spec: { containers: [{ image: '!*:latest' }] } };
    expect(status(matchPattern(pod([{ name: 'a', image: 'nginx:1.2' }]), pattern))).toBe('pass');
    const r = matchPattern(pod([{ name: 'a', image: 'nginx:1.2' }, { name: 'b', image: 'nginx:latest' }]), pattern);
    expect(status(r)).toBe('fail');
    expect(!r.ok && r.path).toBe('/spec/containers/1/image/');
  });

  it('wildcard "?*" requires a value (docs: require resource limits)', () => {
    const pattern = { spec: { containers: [{ resources: { limits: { memory: '?*' }, requests: { memory: '?*', cpu: '?*' } } }] } };
    expect(status(matchPattern(pod([{ resources: { limits: { memory: '1Gi' }, requests: { memory: '1Gi', cpu: '1' } } }]), pattern))).toBe('pass');
    expect(status(matchPattern(pod([{ resources: { requests: { memory: '1Gi', cpu: '1' } } }]), pattern))).toBe('fail');
  });

  it('"*" on a key requires the key to exist', () => {
    expect(status(matchPattern({ metadata: { labels: { app: 'a' } } }, { metadata: { labels: { app: '*' } } }))).toBe('pass');
    expect(status(matchPattern({ metadata: { labels: {} } }, { metadata: { labels: { app: '*' } } }))).toBe('fail');
  });

  it('conditional anchor: if image is :latest then imagePullPolicy must not be IfNotPresent', () => {
    const pattern = { spec: { containers: [{ '(image)': '*:latest', imagePullPolicy: '!IfNotPresent' }] } };
    expect(status(matchPattern(pod([{ image: 'nginx:latest', imagePullPolicy: 'Always' }]), pattern))).toBe('pass');
    expect(status(matchPattern(pod([{ image: 'nginx:latest', imagePullPolicy: 'IfNotPresent' }]), pattern))).toBe('fail');
    // No container satisfies the condition: the rule does not apply (skip).
    expect(status(matchPattern(pod([{ image: 'nginx:1.2', imagePullPolicy: 'IfNotPresent' }]), pattern))).toBe('skip');
    // Mixed: one element applies and passes, the other is skipped: pass.
    expect(status(matchPattern(pod([{ image: 'nginx:1.2', imagePullPolicy: 'IfNotPresent' }, { image: 'a:latest', imagePullPolicy: 'Always' }]), pattern))).toBe('pass');
  });

  it('conditional anchors on maps (docs: docker.sock needs allow-docker label)', () => {
    const pattern = { metadata: { labels: { 'allow-docker': 'true' } }, '(spec)': { '(volumes)': [{ '(hostPath)': { path: '/var/run/docker.sock' } }] } };
    const withSock = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { volumes: [{ name: 'd', hostPath: { path: '/var/run/docker.sock' } }] } });
    expect(status(matchPattern(withSock({ 'allow-docker': 'true' }), pattern))).toBe('pass');
    expect(status(matchPattern(withSock({}), pattern))).toBe('fail');
    expect(status(matchPattern({ metadata: { labels: {} }, spec: { volumes: [{ name: 'e', emptyDir: {} }] } }, pattern))).toBe('skip');
  });

  it('equality anchor: if hostPath is defined its path must not be /var/run/docker.sock', () => {
    const pattern = { '=(spec)': { '=(volumes)': [{ '=(hostPath)': { path: '!/var/run/docker.sock' } }] } };
    expect(status(matchPattern({ spec: { volumes: [{ hostPath: { path: '/data' } }] } }, pattern))).toBe('pass');
    expect(status(matchPattern({ spec: { volumes: [{ emptyDir: {} }] } }, pattern))).toBe('pass');
    expect(status(matchPattern({ spec: {} }, pattern))).toBe('pass');
    expect(status(matchPattern({ spec: { volumes: [{ hostPath: { path: '/var/run/docker.sock' } }] } }, pattern))).toBe('fail');
  });

  it('existence anchor: at least one container uses nginx:latest', () => {
    const pattern = { spec: { '^(containers)': [{ image: 'nginx:latest' }] } };
    expect(status(matchPattern(pod([{ image: 'busybox' }, { image: 'nginx:latest' }]), pattern))).toBe('pass');
    expect(status(matchPattern(pod([{ image: 'busybox' }]), pattern))).toBe('fail');
  });

  it('negation anchor: hostPath must not be defined', () => {
    const pattern = { spec: { '=(volumes)': [{ 'X(hostPath)': 'null' }] } };
    expect(status(matchPattern({ spec: { volumes: [{ emptyDir: {} }] } }, pattern))).toBe('pass');
    expect(status(matchPattern({ spec: { volumes: [{ hostPath: { path: '/x' } }] } }, pattern))).toBe('fail');
  });

  it('negation anchor with a conditional peer (Flux annotation example shape)', () => {
    const pattern = { metadata: { '=(annotations)': { 'X(fluxcd.io/*)': '*?' } } };
    expect(status(matchPattern({ metadata: { annotations: { other: 'x' } } }, pattern))).toBe('pass');
    expect(status(matchPattern({ metadata: { annotations: { 'fluxcd.io/automated': 'true' } } }, pattern))).toBe('fail');
  });

  it('global anchor: images from corp.reg.com need my-registry-secret (docs example)', () => {
    const pattern = { spec: { containers: [{ name: '*', '<(image)': 'corp.reg.com/*' }], imagePullSecrets: [{ name: 'my-registry-secret' }] } };
    const blocked = { spec: { containers: [{ name: 'web', image: 'corp.reg.com/nginx' }], imagePullSecrets: [{ name: 'other-secret' }] } };
    expect(status(matchPattern(blocked, pattern))).toBe('fail');
    const ok = { spec: { containers: [{ name: 'web', image: 'corp.reg.com/nginx' }], imagePullSecrets: [{ name: 'my-registry-secret' }] } };
    expect(status(matchPattern(ok, pattern))).toBe('pass');
    const other = { spec: { containers: [{ name: 'web', image: 'docker.io/nginx' }] } };
    expect(status(matchPattern(other, pattern))).toBe('skip');
  });

  it('wildcard label keys in metadata expand to the resource key', () => {
    const pattern = { metadata: { labels: { 'app.kubernetes.io/*': '?*' } } };
    expect(status(matchPattern({ metadata: { labels: { 'app.kubernetes.io/name': 'web' } } }, pattern))).toBe('pass');
    expect(status(matchPattern({ metadata: { labels: { team: 'x' } } }, pattern))).toBe('fail');
  });

  it('structure mismatch fails', () => {
    expect(status(matchPattern({ spec: 'x' }, { spec: { a: 1 } }))).toBe('fail');
    expect(status(matchPattern({ spec: { a: 'x' } }, { spec: { a: [{ b: 1 }] } }))).toBe('fail');
  });

  it('scalar pattern against an array checks every element', () => {
    expect(status(matchPattern({ args: ['a', 'b'] }, { args: '!--privileged' }))).toBe('pass');
    expect(status(matchPattern({ args: ['a', '--privileged'] }, { args: '!--privileged' }))).toBe('fail');
  });

  it('anyPattern-style: securityContext at pod or container level', () => {
    const p1 = { spec: { securityContext: { runAsNonRoot: true }, containers: [{ '=(securityContext)': { '=(runAsNonRoot)': true } }] } };
    expect(status(matchPattern({ spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: 'a' }] } }, p1))).toBe('pass');
    expect(status(matchPattern({ spec: { containers: [{ name: 'a' }] } }, p1))).not.toBe('pass');
    expect(status(matchPattern({ spec: { securityContext: { runAsNonRoot: true }, containers: [{ securityContext: { runAsNonRoot: false } }] } }, p1))).toBe('fail');
  });
});
