import type { Policy } from '../../src/policy/types.js';

export const TRUSTED_BUILDER = 'https://builder.duallane.test/trusted@v1';

/**
 * The three policies of policies/kyverno (require-signed-images, require-slsa-provenance,
 * require-image-digest), with the test's own public key and builder: the same rule kinds and
 * Kyverno 1.13 fields, so the webhook is exercised exactly as it runs with the shipped ones.
 */
export function enforcementPolicies(publicKeyPem: string, failureAction: 'Enforce' | 'Audit' = 'Enforce'): Policy[] {
  const attestor = { entries: [{ keys: { publicKeys: publicKeyPem, rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } }] };
  const pods = { any: [{ resources: { kinds: ['Pod'] } }] };
  return [
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'require-signed-images' },
      spec: {
        webhookConfiguration: { failurePolicy: 'Fail', timeoutSeconds: 10 },
        rules: [
          {
            name: 'verify-signature',
            match: pods,
            verifyImages: [{ imageReferences: ['*'], failureAction, mutateDigest: false, verifyDigest: true, required: true, attestors: [attestor] }],
          },
        ],
      },
    },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'require-slsa-provenance' },
      spec: {
        rules: [
          {
            name: 'check-provenance',
            match: pods,
            verifyImages: [
              {
                imageReferences: ['*'],
                failureAction,
                mutateDigest: false,
                verifyDigest: true,
                attestations: [
                  {
                    type: 'https://slsa.dev/provenance/v1',
                    attestors: [attestor],
                    conditions: [{ all: [{ key: '{{ runDetails.builder.id }}', operator: 'Equals', value: TRUSTED_BUILDER }] }],
                  },
                ],
              },
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'require-image-digest' },
      spec: {
        rules: [
          {
            name: 'require-digest',
            match: pods,
            validate: {
              failureAction,
              message: 'images must be pinned by digest',
              pattern: {
                spec: {
                  containers: [{ image: '*@sha256:*' }],
                  '=(initContainers)': [{ image: '*@sha256:*' }],
                  '=(ephemeralContainers)': [{ image: '*@sha256:*' }],
                },
              },
            },
          },
        ],
      },
    },
  ] as Policy[];
}

export function podReview(uid: string, images: string[], kind = 'Pod'): Record<string, unknown> {
  const podSpec = { containers: images.map((image, i) => ({ name: `c${i}`, image })) };
  const group = kind === 'Pod' ? '' : kind === 'Job' || kind === 'CronJob' ? 'batch' : 'apps';
  let object: Record<string, unknown>;
  if (kind === 'Pod') object = { apiVersion: 'v1', kind, metadata: { name: 'web', namespace: 'default' }, spec: podSpec };
  else if (kind === 'CronJob')
    object = { apiVersion: 'batch/v1', kind, metadata: { name: 'web', namespace: 'default' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: podSpec } } } } };
  else object = { apiVersion: `${group}/v1`, kind, metadata: { name: 'web', namespace: 'default' }, spec: { selector: {}, template: { metadata: {}, spec: podSpec } } };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group, version: 'v1', kind },
      resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      object,
    },
  };
}
