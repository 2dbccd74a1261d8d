import { describe, expect, it } from 'vitest';
import { containerImages, imagesContext, parseImageReference } from './images.js';

// The `images` variable: https://kyverno.io/docs/writing-policies/variables/#variables-from-container-images
describe('images context', () => {
  it('parses references with registry, path, tag and digest', () => {
    expect(parseImageReference('nginx')).toMatchObject({ registry: 'docker.io', path: 'nginx', name: 'nginx', tag: 'latest', reference: 'docker.io/nginx:latest' });
    expect(parseImageReference('ghcr.io/tomcat/tomcat:9')).toMatchObject({ registry: 'ghcr.io', path: 'tomcat/tomcat', name: 'tomcat', tag: '9' });
    expect(parseImageReference('localhost:5000/app@sha256:' + 'a'.repeat(64))).toMatchObject({ registry: 'localhost:5000', path: 'app', digest: 'sha256:' + 'a'.repeat(64) });
    expect(parseImageReference('library/busybox:1.36')).toMatchObject({ registry: 'docker.io', path: 'library/busybox', tag: '1.36' });
    expect(parseImageReference('r.io/a:1@sha256:' + 'b'.repeat(64))).toMatchObject({ tag: '1', digest: 'sha256:' + 'b'.repeat(64) });
    expect(parseImageReference('bad image')).toBeUndefined();
  });
  it('collects containers, initContainers and ephemeralContainers by name, for Pods and controllers', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'nginx:1.2' }], initContainers: [{ name: 'init', image: 'busybox' }], ephemeralContainers: [{ name: 'dbg', image: 'alpine' }] } };
    const ctx = imagesContext(pod);
    expect(ctx.containers!['app']!.tag).toBe('1.2');
    expect(ctx.initContainers!['init']!.name).toBe('busybox');
    expect(ctx.ephemeralContainers!['dbg']!.registry).toBe('docker.io');
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'j', image: 'job:1' }] } } } } } };
    expect(containerImages(cron).map((c) => c.image)).toEqual(['job:1']);
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'w', image: 'web:2' }] } } } };
    expect(imagesContext(dep).containers!['w']!.tag).toBe('2');
  });
});
