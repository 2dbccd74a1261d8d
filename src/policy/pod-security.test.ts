import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from './engine.js';
import { checkPodSecurity } from './pod-security.js';
import type { Policy, Resource } from './types.js';

// Pod Security Standards: https://kubernetes.io/docs/concepts/security/pod-security-standards/
const restrictedContainer = { name: 'app', image: 'ghcr.io/acme/app:1', securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } } };
const pod = (spec: Record<string, unknown>): Resource => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'apps' }, spec });

describe('podSecurity', () => {
  it('baseline: a plain pod passes; host namespaces, privileged, hostPath, hostPort, capabilities fail', () => {
    expect(checkPodSecurity(pod({ containers: [{ name: 'a', image: 'nginx' }] }), { level: 'baseline' })).toEqual([]);
    expect(checkPodSecurity(pod({ hostNetwork: true, containers: [{ name: 'a', image: 'nginx' }] }), { level: 'baseline' })[0]).toMatch(/^Host Namespaces/);
    expect(checkPodSecurity(pod({ containers: [{ name: 'a', image: 'nginx', securityContext: { privileged: true } }] }), { level: 'baseline' })[0]).toMatch(/^Privileged Containers/);
    expect(checkPodSecurity(pod({ containers: [{ name: 'a', image: 'nginx' }], volumes: [{ name: 'h', hostPath: { path: '/' } }] }), { level: 'baseline' })[0]).toMatch(/^HostPath Volumes/);
    expect(checkPodSecurity(pod({ containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080 }] }] }), { level: 'baseline' })[0]).toMatch(/^Host Ports/);
    expect(checkPodSecurity(pod({ containers: [{ name: 'a', image: 'nginx', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] }), { level: 'baseline' })[0]).toMatch(/^Capabilities/);
    expect(checkPodSecurity(pod({ containers: [{ name: 'a', image: 'nginx', securityContext: { capabilities: { add: ['CHOWN'] } } }] }), { level: 'baseline' })).toEqual([]);
  });

  it('restricted: a hardened pod passes; missing drop ALL, runAsNonRoot, seccomp or escalation fail', () => {
    expect(checkPodSecurity(pod({ containers: [restrictedContainer] }), { level: 'restricted' })).toEqual([]);
    expect(checkPodSecurity(pod({ securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'a', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] }), { level: 'restricted' })).toEqual([]);
    const loose = checkPodSecurity(pod({ containers: [{ name: 'a', image: 'x' }] }), { level: 'restricted' });
    expect(loose.map((l) => l.split(' (')[0])).toEqual(['Privilege Escalation', 'Running as Non-root', 'Seccomp', 'Capabilities']);
    expect(checkPodSecurity(pod({ containers: [restrictedContainer], volumes: [{ name: 'n', nfs: { server: 's', path: '/' } }] }), { level: 'restricted' })[0]).toMatch(/^Volume Types/);
  });

  it('exclude by control name and image', () => {
    const p = pod({ containers: [{ ...restrictedContainer, securityContext: { ...restrictedContainer.securityContext, capabilities: { drop: ['ALL'], add: ['CHOWN'] } } }] });
    expect(checkPodSecurity(p, { level: 'restricted' })).toHaveLength(1);
    expect(checkPodSecurity(p, { level: 'restricted', exclude: [{ controlName: 'Capabilities', images: ['ghcr.io/acme/*'] }] })).toEqual([]);
    expect(checkPodSecurity(p, { level: 'restricted', exclude: [{ controlName: 'Capabilities', images: ['docker.io/*'] }] })).toHaveLength(1);
  });

  it('as a rule, with autogen for Deployments', async () => {
    const policy: Policy = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'psa' }, spec: { rules: [{ name: 'restricted', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { failureAction: 'Enforce', podSecurity: { level: 'restricted', version: 'latest' } } }] } };
    const good = await evaluatePolicy(policy, pod({ containers: [restrictedContainer] }));
    expect(good.rules.map((r) => r.status)).toEqual(['pass']);
    const dep: Resource = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } };
    const bad = await evaluatePolicy(policy, dep);
    expect(bad.rules).toMatchObject([{ name: 'autogen-restricted', status: 'fail' }]);
  });
});
