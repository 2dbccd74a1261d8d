import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AttestError, type Trust } from '../attest/index.js';
import { getMetrics, type DuallaneMetrics } from '../observability/index.js';
import { readPolicyBundle } from '../policy/bundle.js';
import { pullPolicyBundle } from '../policy/bundle-oci.js';
import { loadPolicies } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import { parseImageReference, type RegistryClient } from '../registry/index.js';
import { AdmissionError } from './admission-error.js';

export interface PolicySourceOptions {
  client: RegistryClient;
  /** Whose signature a policy bundle from a registry must carry. Required for `oci://`. */
  trust?: Trust;
  metrics?: DuallaneMetrics;
}

export interface LoadedPolicies {
  policies: Policy[];
  origin: { kind: 'path'; path: string } | { kind: 'oci'; reference: string; digest: string; signer: unknown };
}

/**
 * Where the webhook's policies come from: a file or directory, or `oci://REGISTRY/REPO:TAG`, a
 * signed policy bundle (as `duallane policy push` publishes it) whose signature is verified before
 * any of its bytes are read as policies. An unsigned or wrongly signed bundle stops the webhook
 * from starting; the verification is counted in duallane_policy_bundle_verifications_total.
 */
export async function loadAdmissionPolicies(source: string, opts: PolicySourceOptions): Promise<LoadedPolicies> {
  if (!source.startsWith('oci://')) {
    const { policies } = await loadPolicies([source]);
    return { policies, origin: { kind: 'path', path: source } };
  }
  if (!opts.trust) throw new AdmissionError('BAD_USAGE', 'an oci:// policy source needs --policy-key or --policy-certificate-identity and --policy-certificate-oidc-issuer');
  const metrics = opts.metrics ?? getMetrics();
  const ref = parseImageReference(source.slice('oci://'.length));
  let pulled;
  try {
    pulled = await pullPolicyBundle(opts.client, ref, { trust: opts.trust });
  } catch (e) {
    if (e instanceof AttestError) count(metrics, 'failure', e.code.toLowerCase());
    throw e;
  }
  count(metrics, 'success', 'none');
  const files = await readPolicyBundle(pulled.data);
  const dir = await mkdtemp(join(tmpdir(), 'duallane-policies-'));
  try {
    for (const [name, content] of files) {
      if (!/\.ya?ml$/.test(name)) continue;
      const target = join(dir, name);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    const { policies } = await loadPolicies([dir]);
    return { policies, origin: { kind: 'oci', reference: source, digest: pulled.digest, signer: pulled.verification?.result.signer } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function count(metrics: DuallaneMetrics, result: 'success' | 'failure', reason: string): void {
  try {
    metrics.counter('duallane_policy_bundle_verifications_total').inc({ result, reason });
  } catch {
    // Metrics never change the outcome.
  }
}
