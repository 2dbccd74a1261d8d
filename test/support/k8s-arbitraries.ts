import fc from 'fast-check';

/**
 * fast-check arbitraries for Kubernetes-shaped objects: Pods and the pod controllers, Services,
 * ConfigMaps and Namespaces, with the variety policies look at (image references with and without
 * registries, tags and digests; labels and annotations; security contexts; resource quantities such
 * as 500m, 1Gi, 2300m; hostPath volumes; ports). Objects are structurally valid for the API server's
 * schema (so that the Kyverno CLI accepts them) but not necessarily admissible. Names are left out:
 * the caller numbers them so that every object in a corpus is unique.
 */

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

const registry = fc.constantFrom('', 'docker.io/', 'ghcr.io/', 'ghcr.io/duallane/', 'registry.k8s.io/', 'registry.duallane.local/', 'localhost:5000/', 'quay.io/team/');
const repoPath = fc.constantFrom('app', 'nginx', 'library/busybox', 'duallane', 'team/app/web', 'pause', 'kube-proxy', 'db');
const tagPart = fc.oneof(
  fc.constant(''),
  fc.constantFrom(':latest', ':1.2.3', ':v1', ':v1.31.0', ':nightly', ':2.1', ':1.0.0-rc.1'),
  hex64.map((h) => `@sha256:${h}`),
  fc.tuple(fc.constantFrom(':1.0.0', ':latest'), hex64).map(([t, h]) => `${t}@sha256:${h}`),
);
export const imageArb = fc.tuple(registry, repoPath, tagPart).map(([r, p, t]) => `${r}${p}${t}`);

const labelKey = fc.constantFrom('app', 'team', 'env', 'tier', 'app.kubernetes.io/name', 'owner', 'version');
const labelValue = fc.constantFrom('web', 'db', 'prod', 'dev', 'backend', 'frontend', 'platform', 'PAYMENTS', 'a-b', 'searchplatform', 'x', '');
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 4 });
const annotations = fc.dictionary(
  fc.constantFrom('duallane.dev/owner', 'duallane.dev/scan', 'prometheus.io/scrape', 'kubernetes.io/description'),
  fc.constantFrom('true', 'false', 'ops@duallane.dev', 'Ops Team', 'dev@example.com', ''),
  { maxKeys: 3 },
);
export const namespaceArb = fc.constantFrom('default', 'apps', 'prod', 'kube-system', 'dev', 'dev-team-a', 'monitoring');

const cpu = fc.constantFrom('50m', '100m', '250m', '500m', '1', '2', '2300m', '2.3', '0.5', '3', '100', '1500m');
const memory = fc.constantFrom('64Mi', '128Mi', '512Mi', '1Gi', '1024Mi', '1.5Gi', '2G', '2Gi', '1000M', '128974848', '1e3', '900Mi');
const resourceList = fc.record({ cpu, memory }, { requiredKeys: [] });
const resources = fc.record({ requests: resourceList, limits: resourceList }, { requiredKeys: [] });

const capability = fc.constantFrom('ALL', 'NET_ADMIN', 'NET_BIND_SERVICE', 'SYS_ADMIN', 'CHOWN', 'KILL');
const seccomp = fc.oneof(fc.constant({ type: 'RuntimeDefault' }), fc.constant({ type: 'Unconfined' }), fc.constant({ type: 'Localhost', localhostProfile: 'profiles/audit.json' }));
const containerSecurity = fc.record(
  {
    privileged: fc.boolean(),
    runAsNonRoot: fc.boolean(),
    runAsUser: fc.constantFrom(0, 1000, 65534),
    allowPrivilegeEscalation: fc.boolean(),
    readOnlyRootFilesystem: fc.boolean(),
    capabilities: fc.record({ add: fc.uniqueArray(capability, { maxLength: 2 }), drop: fc.uniqueArray(capability, { maxLength: 2 }) }, { requiredKeys: [] }),
    seccompProfile: seccomp,
  },
  { requiredKeys: [] },
);

const port = fc.record(
  {
    containerPort: fc.constantFrom(80, 443, 8080, 8443, 9090),
    hostPort: fc.constantFrom(0, 80, 8000, 8080, 8100, 9000),
    protocol: fc.constantFrom('TCP', 'UDP'),
  },
  { requiredKeys: ['containerPort'] },
);

const containerName = fc.constantFrom('app', 'web', 'sidecar', 'db', 'proxy', 'worker');

function containerArb() {
  return fc.record(
    {
      name: containerName,
      image: imageArb,
      imagePullPolicy: fc.constantFrom('Always', 'IfNotPresent', 'Never'),
      ports: fc.array(port, { minLength: 1, maxLength: 2 }),
      resources,
      securityContext: containerSecurity,
      env: fc.array(fc.record({ name: fc.constantFrom('MODE', 'LOG_LEVEL', 'TOKEN'), value: fc.constantFrom('debug', 'info', 'x') }), { minLength: 1, maxLength: 2 }),
    },
    { requiredKeys: ['name', 'image'] },
  );
}

/** Containers in a list get distinct names, as the API server requires. */
function containersArb(min: number, max: number) {
  return fc.array(containerArb(), { minLength: min, maxLength: max }).map((cs) => cs.map((c, i) => ({ ...c, name: `${c.name}${i === 0 ? '' : `-${i}`}` })));
}

const volume = fc.oneof(
  fc.constantFrom('/var/run/docker.sock', '/etc', '/data', '/data/cache', '/proc').map((path) => ({ hostPath: { path } })),
  fc.constant({ emptyDir: {} }),
  fc.constant({ emptyDir: { sizeLimit: '1Gi' } }),
  fc.constant({ configMap: { name: 'settings' } }),
  fc.constant({ secret: { secretName: 'creds' } }),
);
const volumes = fc.array(volume, { minLength: 1, maxLength: 3 }).map((vs) => vs.map((v, i) => ({ name: `vol-${i}`, ...v })));

const podSecurity = fc.record(
  {
    runAsNonRoot: fc.boolean(),
    runAsUser: fc.constantFrom(0, 1000),
    seccompProfile: seccomp,
    sysctls: fc.array(fc.record({ name: fc.constantFrom('kernel.shm_rmid_forced', 'net.core.somaxconn', 'net.ipv4.ip_local_port_range'), value: fc.constant('1') }), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);

export function podSpecArb(restartPolicy?: string[]) {
  return fc
    .record(
      {
        containers: containersArb(1, 3),
        initContainers: containersArb(1, 2),
        ephemeralContainers: fc.array(fc.record({ name: fc.constant('debug'), image: imageArb }), { minLength: 1, maxLength: 1 }),
        volumes,
        hostNetwork: fc.boolean(),
        hostPID: fc.boolean(),
        hostIPC: fc.boolean(),
        securityContext: podSecurity,
        serviceAccountName: fc.constantFrom('default', 'builder'),
        automountServiceAccountToken: fc.boolean(),
        imagePullSecrets: fc.constant([{ name: 'regcred' }]),
        nodeSelector: fc.constant({ 'kubernetes.io/os': 'linux' }),
        restartPolicy: fc.constantFrom(...(restartPolicy ?? ['Always', 'OnFailure', 'Never'])),
      },
      { requiredKeys: ['containers'] },
    )
    .map((spec) => {
      // Init container names must differ from container names.
      if (spec.initContainers) spec.initContainers = spec.initContainers.map((c) => ({ ...c, name: `init-${c.name}` }));
      return spec;
    });
}

function metaArb(namespaced: boolean) {
  return fc.record({ labels, annotations, namespace: namespaced ? namespaceArb : fc.constant(undefined) }, { requiredKeys: namespaced ? ['namespace'] : [] }).map((m) => {
    const out: Record<string, unknown> = {};
    if (m.namespace) out.namespace = m.namespace;
    if (m.labels && Object.keys(m.labels).length > 0) out.labels = m.labels;
    if (m.annotations && Object.keys(m.annotations).length > 0) out.annotations = m.annotations;
    return out;
  });
}

function template(spec: fc.Arbitrary<Record<string, unknown>>) {
  return fc.tuple(labels, spec).map(([l, s]) => ({ metadata: { labels: { app: 'w', ...l } }, spec: s }));
}

const pod = fc.tuple(metaArb(true), podSpecArb()).map(([metadata, spec]) => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec }));

function controller(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet') {
  return fc.tuple(metaArb(true), template(podSpecArb(['Always'])), fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined })).map(([metadata, tpl, replicas]) => {
    const spec: Record<string, unknown> = { selector: { matchLabels: { app: 'w' } }, template: tpl };
    if (replicas !== undefined && kind !== 'DaemonSet') spec.replicas = replicas;
    if (kind === 'StatefulSet') spec.serviceName = 'svc';
    return { apiVersion: 'apps/v1', kind, metadata, spec };
  });
}

const jobSpec = fc.tuple(template(podSpecArb(['Never', 'OnFailure'])), fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined })).map(([tpl, backoffLimit]) => ({
  ...(backoffLimit === undefined ? {} : { backoffLimit }),
  template: tpl,
}));
const job = fc.tuple(metaArb(true), jobSpec).map(([metadata, spec]) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata, spec }));
const cronJob = fc.tuple(metaArb(true), jobSpec, fc.constantFrom('* * * * *', '0 3 * * *', '*/5 * * * *', '@hourly')).map(([metadata, spec, schedule]) => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata,
  spec: { schedule, jobTemplate: { spec } },
}));

const servicePort = fc.record(
  { port: fc.constantFrom(80, 443, 1024, 8080, 9090), targetPort: fc.constantFrom(80, 8080, 'http'), nodePort: fc.constantFrom(30080, 31000, 32767), protocol: fc.constantFrom('TCP', 'UDP') },
  { requiredKeys: ['port'] },
);
const service = fc
  .tuple(metaArb(true), fc.option(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'), { nil: undefined }), fc.array(servicePort, { minLength: 1, maxLength: 3 }))
  .map(([metadata, type, ports]) => {
    const spec: Record<string, unknown> = { selector: { app: 'w' } };
    if (type) spec.type = type;
    if (type === 'ExternalName') spec.externalName = 'db.example.com';
    else spec.ports = ports.map((p, i) => ({ name: `p${i}`, ...(type === 'NodePort' || type === 'LoadBalancer' ? p : { ...p, nodePort: undefined }) })).map((p) => JSON.parse(JSON.stringify(p)) as object);
    return { apiVersion: 'v1', kind: 'Service', metadata, spec };
  });

const configMap = fc
  .tuple(metaArb(true), fc.dictionary(fc.constantFrom('config.yaml', 'password', 'db-secret-ref', 'token', 'mode', 'LOG_LEVEL'), fc.constantFrom('a', 'debug', 'x: 1', ''), { maxKeys: 3 }))
  .map(([metadata, data]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata, ...(Object.keys(data).length > 0 ? { data } : {}) }));

const nsLabels = fc.dictionary(fc.constantFrom('team', 'pod-security.kubernetes.io/enforce', 'env'), fc.constantFrom('platform', 'baseline', 'restricted', 'privileged', 'prod'), { maxKeys: 3 });
const namespace = fc.tuple(metaArb(false), nsLabels).map(([metadata, l]) => {
  const merged = { ...(metadata.labels as Record<string, string> | undefined), ...l };
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { ...metadata, ...(Object.keys(merged).length > 0 ? { labels: merged } : {}) } };
});

/** Any one object of the kinds above, Pods weighted highest (most policies select Pods). */
export const k8sObjectArb: fc.Arbitrary<K8sObject> = fc.oneof(
  { weight: 6, arbitrary: pod },
  { weight: 2, arbitrary: controller('Deployment') },
  { weight: 1, arbitrary: controller('StatefulSet') },
  { weight: 1, arbitrary: controller('DaemonSet') },
  { weight: 1, arbitrary: job },
  { weight: 1, arbitrary: cronJob },
  { weight: 2, arbitrary: service },
  { weight: 1, arbitrary: configMap },
  { weight: 1, arbitrary: namespace },
) as fc.Arbitrary<K8sObject>;

/** A corpus of `count` objects from one seed, each named `<kind>-<index>` (unique across kinds). */
export function k8sCorpus(seed: number, count: number): K8sObject[] {
  return fc.sample(k8sObjectArb, { seed, numRuns: count }).map((o, i) => ({ ...o, metadata: { name: `${o.kind.toLowerCase()}-${i}`, ...o.metadata } }));
}
