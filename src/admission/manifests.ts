import { stringify } from 'yaml';

export interface ManifestOptions {
  namespace?: string;
  name?: string;
  image?: string;
  port?: number;
  /** base64 PEM of the CA that signed the serving certificate (caBundle); omitted → left for cert-manager's CA injector. */
  caBundle?: string;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  replicas?: number;
  /** Registries spoken to over plain HTTP (test clusters only). */
  insecureRegistries?: string[];
}

/**
 * The Kubernetes objects that run the webhook: a ValidatingWebhookConfiguration (Pods, their
 * ephemeral-containers subresource and pod controllers, CREATE/UPDATE, fail-closed, its own
 * namespace and kube-system excluded so the webhook can never block itself), a Service and a Deployment (non-root, read-only root, TLS from
 * the Secret `<name>-tls`, policies from the ConfigMap `<name>-policies`).
 */
export function admissionManifestObjects(o: ManifestOptions = {}): Record<string, unknown>[] {
  const ns = o.namespace ?? 'duallane-system';
  const name = o.name ?? 'duallane-admission';
  const port = o.port ?? 8443;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'duallane' };
  const webhook = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name, labels, ...(o.caBundle ? {} : { annotations: { 'cert-manager.io/inject-ca-from': `${ns}/${name}-tls` } }) },
    webhooks: [
      {
        name: `validate.${name}.duallane.dev`,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: o.failurePolicy ?? 'Fail',
        timeoutSeconds: o.timeoutSeconds ?? 10,
        matchPolicy: 'Equivalent',
        clientConfig: { service: { namespace: ns, name, path: '/validate', port: 443 }, ...(o.caBundle ? { caBundle: o.caBundle } : {}) },
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [ns, 'kube-system'] }] },
        rules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'pods/ephemeralcontainers'], scope: 'Namespaced' },
          { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], scope: 'Namespaced' },
          { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs', 'cronjobs'], scope: 'Namespaced' },
        ],
      },
    ],
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels },
    spec: { selector: labels, ports: [{ name: 'https', port: 443, targetPort: port, protocol: 'TCP' }] },
  };
  const args = ['admission', 'serve', '--tls-cert', '/tls/tls.crt', '--tls-key', '/tls/tls.key', '--port', String(port), '--policies', '/policies'];
  for (const r of o.insecureRegistries ?? []) args.push('--insecure-registry', r);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: o.replicas ?? 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/scheme': 'https', 'prometheus.io/port': String(port) } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'webhook',
              image: o.image ?? 'ghcr.io/duallane/duallane:latest',
              args,
              ports: [{ name: 'https', containerPort: port }],
              readinessProbe: { httpGet: { path: '/healthz', port, scheme: 'HTTPS' }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/healthz', port, scheme: 'HTTPS' }, periodSeconds: 10 },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'tls', mountPath: '/tls', readOnly: true },
                { name: 'policies', mountPath: '/policies', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'tls', secret: { secretName: `${name}-tls` } },
            { name: 'policies', configMap: { name: `${name}-policies` } },
          ],
        },
      },
    },
  };
  return [webhook, service, deployment];
}

/** The same objects as one multi-document YAML stream. */
export function admissionManifests(o: ManifestOptions = {}): string {
  return admissionManifestObjects(o).map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}
