import { readBoundedFile } from '../config/index.js';
import type { Command } from 'commander';
import { admissionManifestObjects, admissionManifests, AdmissionError, buildAdmissionApp, loadAdmissionPolicies, RegistryImageVerifier } from '../admission/index.js';
import { loadTrustedRootFile } from '../attest/index.js';
import { createLogger } from '../observability/index.js';
import { makePrinter } from './output.js';
import { positiveInt, trustFromFlags } from './registry-flags.js';
import { CachingRegistryClient } from '../registry/index.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** 0 disables that cache; anything that is not a small whole number is a usage error. */
function nonNegativeInt(v: string, flag: string): number {
  if (!/^\d{1,10}$/.test(v)) throw new AdmissionError('BAD_USAGE', `${flag} must be a whole number of milliseconds`);
  return Number(v);
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    const b = await readBoundedFile(path, { maxBytes: 1024 * 1024, what });
    if (!b.includes('-----BEGIN')) throw new Error('not PEM');
    return b;
  } catch (cause) {
    throw new AdmissionError('TLS_INVALID', `cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

interface ServeFlags {
  tlsCert: string;
  tlsKey: string;
  port: string;
  host: string;
  policies: string;
  registryTimeout: string;
  reviewTimeout: string;
  insecureRegistry: string[];
  trustedRoot?: string;
  failurePolicy?: string;
  cacheTtl: string;
  negativeCacheTtl: string;
  policyKey?: string;
  policyCertificateIdentity?: string;
  policyCertificateIdentityRegexp?: string;
  policyCertificateOidcIssuer?: string;
  policyCertificateOidcIssuerRegexp?: string;
  json?: boolean;
}

export function registerAdmissionCommands(program: Command): void {
  const admission = program.command('admission').description('Kubernetes ValidatingAdmissionWebhook enforcing the Kyverno policies (signed images, provenance, digests)');

  admission
    .command('serve')
    .description('serve POST /validate (AdmissionReview v1), /healthz and /metrics over HTTPS')
    .requiredOption('--tls-cert <file>', 'PEM serving certificate')
    .requiredOption('--tls-key <file>', 'PEM private key of the certificate')
    .option('--port <n>', 'port to listen on', '8443')
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--policies <dir|oci://ref>', 'Kyverno policies: a file or directory, or oci://REGISTRY/REPO:TAG (a signed policy bundle)', 'policies/kyverno')
    .option('--policy-key <pub>', 'oci:// policies: the bundle must be signed by this public key')
    .option('--policy-certificate-identity <id>', 'oci:// policies: keyless signer identity')
    .option('--policy-certificate-identity-regexp <re>', 'oci:// policies: keyless signer identity regexp')
    .option('--policy-certificate-oidc-issuer <url>', 'oci:// policies: keyless signer OIDC issuer')
    .option('--policy-certificate-oidc-issuer-regexp <re>', 'oci:// policies: keyless signer OIDC issuer regexp')
    .option('--registry-timeout <ms>', 'bound on registry calls for one image (ms)', '3000')
    .option('--review-timeout <ms>', 'deadline for one AdmissionReview; past it: deny (ms)', '9000')
    .option('--insecure-registry <host>', 'speak plain HTTP to this registry host[:port] (repeatable; test registries only)', collect, [])
    .option('--trusted-root <file>', 'trusted_root.json for keyless attestors')
    .option('--failure-policy <Fail|Ignore>', 'override every policy: what an evaluation error (registry down) means')
    .option('--cache-ttl <ms>', 'how long a verified image digest stays verified (ms)', '600000')
    .option('--negative-cache-ttl <ms>', 'how long a failed verification is remembered (ms)', '30000')
    .option('--json', 'print the listening address as JSON')
    .action(async (f: ServeFlags) => {
      const out = makePrinter(Boolean(f.json));
      if (f.failurePolicy !== undefined && f.failurePolicy !== 'Fail' && f.failurePolicy !== 'Ignore') throw new AdmissionError('BAD_USAGE', '--failure-policy must be Fail or Ignore');
      const port = positiveInt(f.port, '--port', 8443);
      if (port > 65535) throw new AdmissionError('BAD_USAGE', '--port must be at most 65535');
      const registryTimeout = positiveInt(f.registryTimeout, '--registry-timeout', 3000);
      const cert = await readPem(f.tlsCert, 'TLS certificate');
      const key = await readPem(f.tlsKey, 'TLS key');
      // The verifier asks the same registry the same questions for several policies: remember the answers.
      const client = new CachingRegistryClient({ insecureRegistries: f.insecureRegistry, timeoutMs: registryTimeout });
      const policyTrust = await trustFromFlags({
        key: f.policyKey,
        certificateIdentity: f.policyCertificateIdentity,
        certificateIdentityRegexp: f.policyCertificateIdentityRegexp,
        certificateOidcIssuer: f.policyCertificateOidcIssuer,
        certificateOidcIssuerRegexp: f.policyCertificateOidcIssuerRegexp,
        trustedRoot: f.trustedRoot,
      });
      const loaded = await loadAdmissionPolicies(f.policies, { client, ...(policyTrust ? { trust: policyTrust } : {}) });
      const policies = loaded.policies;
      if (policies.length === 0) throw new AdmissionError('NO_POLICIES', `no Kyverno policies under ${f.policies}`);
      const imageVerifier = new RegistryImageVerifier({
        client,
        verifyTimeoutMs: registryTimeout,
        ...(f.trustedRoot ? { trustedRoot: await loadTrustedRootFile(f.trustedRoot) } : {}),
        cache: { positiveTtlMs: nonNegativeInt(f.cacheTtl, '--cache-ttl'), negativeTtlMs: nonNegativeInt(f.negativeCacheTtl, '--negative-cache-ttl') },
      });
      const app = buildAdmissionApp({
        policies,
        imageVerifier,
        https: { cert, key },
        reviewTimeoutMs: positiveInt(f.reviewTimeout, '--review-timeout', 9000),
        log: createLogger({ name: 'admission' }),
        ...(f.failurePolicy ? { failurePolicy: f.failurePolicy as 'Fail' | 'Ignore' } : {}),
      });
      let address: string;
      try {
        address = await app.listen({ port, host: f.host });
      } catch (cause) {
        throw new AdmissionError('LISTEN_FAILED', `cannot listen on ${f.host}:${port}: ${(cause as Error).message}`, { cause });
      }
      const stop = () => {
        void app.close().finally(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      out.result({ ok: true, listening: address, policies: policies.map((p) => p.metadata.name), policySource: loaded.origin }, () => `admission webhook listening on ${address} (${policies.length} policies)`);
    });

  admission
    .command('manifest')
    .description('print the ValidatingWebhookConfiguration, Service and Deployment that run the webhook')
    .option('--namespace <ns>', 'namespace', 'duallane-system')
    .option('--name <name>', 'name of the webhook, service and deployment', 'duallane-admission')
    .option('--image <image>', 'duallane container image (pin it by digest)')
    .option('--port <n>', 'container port', '8443')
    .option('--ca-file <pem>', 'CA certificate of the serving certificate (caBundle); default: cert-manager CA injection')
    .option('--failure-policy <Fail|Ignore>', 'API server failurePolicy when the webhook is unreachable', 'Fail')
    .option('--insecure-registry <host>', 'pass --insecure-registry to the webhook (repeatable)', collect, [])
    .option('--json', 'print the objects as a JSON array')
    .action(async (f: { namespace: string; name: string; image?: string; port: string; caFile?: string; failurePolicy: string; insecureRegistry: string[]; json?: boolean }) => {
      const out = makePrinter(Boolean(f.json));
      if (f.failurePolicy !== 'Fail' && f.failurePolicy !== 'Ignore') throw new AdmissionError('BAD_USAGE', '--failure-policy must be Fail or Ignore');
      const opts = {
        namespace: f.namespace,
        name: f.name,
        port: positiveInt(f.port, '--port', 8443),
        failurePolicy: f.failurePolicy as 'Fail' | 'Ignore',
        insecureRegistries: f.insecureRegistry,
        ...(f.image ? { image: f.image } : {}),
        ...(f.caFile ? { caBundle: (await readPem(f.caFile, 'CA certificate')).toString('base64') } : {}),
      };
      out.result(admissionManifestObjects(opts), () => admissionManifests(opts).trimEnd());
    });
}
