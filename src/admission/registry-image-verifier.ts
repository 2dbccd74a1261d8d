import { createHash } from 'node:crypto';
import type { Trust } from '../attest/index.js';
import { verifyOciAttestation, verifyOciSignature, type OciVerification } from '../policy/bundle-cosign.js';
import { evaluateConditions } from '../policy/conditions.js';
import type { ImageVerifier, ImageVerifyRequest, ImageVerifyResult } from '../policy/image-verifier.js';
import type { AttestationCheck, Attestor, AttestorEntry } from '../policy/types.js';
import { RegistryError, isSha256Digest, type RegistryClient } from '../registry/index.js';
import { DecisionCache, type DecisionCacheOptions } from './decision-cache.js';

export interface RegistryImageVerifierOptions {
  client: RegistryClient;
  /** Budget for verifying one image, all registry calls together (default: the client's timeout). */
  verifyTimeoutMs?: number;
  /** trusted_root.json (parsed) for keyless attestors; without it keyless entries fail as errors. */
  trustedRoot?: object;
  cache?: DecisionCacheOptions;
}

type Outcome = ImageVerifyResult & { digest?: string };

/**
 * The registry-backed ImageVerifier the policy engine calls for verifyImages rules: it resolves the
 * image to a digest, fetches cosign signatures and attestations (`.sig`/`.att` tags and OCI
 * referrers) and verifies them with the attest module, following Kyverno's attestor semantics:
 * every attestor set must hold, and within a set `count` entries (default: all) must verify.
 * Attestation `conditions` are evaluated against the verified predicate only.
 *
 * Outcomes: `pass`; `fail` (the image is not acceptable: unsigned, wrong key, wrong builder);
 * `error` (the registry could not be asked: unreachable, timeout). Results are cached by digest and
 * verification spec (errors never are), and each image's registry calls share one deadline.
 */
export class RegistryImageVerifier implements ImageVerifier {
  readonly cache: DecisionCache<Outcome>;
  private readonly client: RegistryClient;
  private readonly budgetMs: number;
  private readonly trustedRoot: object | undefined;

  constructor(opts: RegistryImageVerifierOptions) {
    this.client = opts.client;
    this.budgetMs = opts.verifyTimeoutMs ?? opts.client.timeoutMs;
    this.trustedRoot = opts.trustedRoot;
    this.cache = new DecisionCache<Outcome>(opts.cache);
  }

  async verifyImage(req: ImageVerifyRequest): Promise<ImageVerifyResult> {
    const { registry, path } = req.info;
    let digest = req.info.digest;
    if (digest !== undefined && !isSha256Digest(digest)) return { status: 'fail', reason: 'DIGEST_UNSUPPORTED', message: `only sha256 digests are accepted, got ${digest.slice(0, 40)}` };
    // Warm path first: a pinned digest already verified under this spec needs no timer and no registry.
    if (digest !== undefined) {
      const hit = this.cache.get(cacheKey(digest, req));
      if (hit !== undefined) {
        this.cache.hits++;
        return hit;
      }
    }
    const signal = AbortSignal.timeout(this.budgetMs);
    try {
      // A tag is resolved through the registry, and the verified digest is what the result names:
      // the caller must pin it (Kyverno's mutateDigest) or the tag may move after admission.
      if (digest === undefined) digest = await this.client.resolve(registry, path, req.info.tag ?? 'latest', signal);
    } catch (e) {
      return this.registryFault(e, req.image);
    }
    const key = cacheKey(digest, req);
    return this.cache.getOrCompute(
      key,
      () => this.verifyDigest(req, registry, path, digest!, signal),
      (o) => (o.status === 'pass' ? 'positive' : o.status === 'fail' ? 'negative' : 'none'),
    );
  }

  private async verifyDigest(req: ImageVerifyRequest, registry: string, repository: string, digest: string, signal: AbortSignal): Promise<Outcome> {
    const at = { registry, repository, digest };
    try {
      for (const [i, set] of req.attestors.entries()) {
        const r = await this.checkAttestorSet(set, (trust) => verifyOciSignature(this.client, at, trust, signal));
        if (!r.ok) return { status: 'fail', reason: r.reason, message: `attestors[${i}]: ${r.message}` };
      }
      for (const [i, check] of req.attestations.entries()) {
        const predicateType = check.predicateType ?? check.type;
        if (!predicateType) return { status: 'fail', reason: 'POLICY_INVALID', message: `attestations[${i}] has no type` };
        const sets = check.attestors && check.attestors.length > 0 ? check.attestors : req.attestors;
        if (sets.length === 0) return { status: 'fail', reason: 'POLICY_INVALID', message: `attestations[${i}] (${predicateType}) has no attestors` };
        for (const [j, set] of sets.entries()) {
          const r = await this.checkAttestorSet(set, async (trust) => {
            const v = await verifyOciAttestation(this.client, at, trust, { predicateType }, signal);
            return v.ok ? conditionsHold(check, v) : v;
          });
          if (!r.ok) return { status: 'fail', reason: r.reason, message: `attestations[${i}] ${predicateType} attestors[${j}]: ${r.message}` };
        }
      }
    } catch (e) {
      return this.registryFault(e, req.image);
    }
    return { status: 'pass', digest, message: `verified ${req.image} as ${digest}` };
  }

  /** Kyverno: `count` entries of the set must verify (default: all of them). */
  private async checkAttestorSet(set: Attestor, verify: (trust: Trust) => Promise<OciVerification>): Promise<{ ok: true } | { ok: false; reason: string; message: string }> {
    // Kyverno: several PEM keys in one `publicKeys` are separate entries for `count`.
    const entries = (set.entries ?? []).flatMap((e) => {
      const pems = e.keys?.publicKeys?.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g);
      return pems && pems.length > 1 ? pems.map((pem) => ({ ...e, keys: { ...e.keys, publicKeys: pem } })) : [e];
    });
    if (entries.length === 0) return { ok: false, reason: 'POLICY_INVALID', message: 'attestor set has no entries' };
    // count < 1 would make an empty set pass; treat it as 1 (fail closed).
    const need = Math.max(1, Math.min(set.count ?? entries.length, entries.length));
    let passed = 0;
    let first: { reason: string; message: string } | undefined;
    for (const entry of entries) {
      const trust = this.trustOf(entry);
      if ('reason' in trust) {
        first ??= trust;
        continue;
      }
      const v = await verify(trust);
      if (v.ok) passed++;
      else first ??= { reason: v.reason, message: v.message };
      if (passed >= need) return { ok: true };
    }
    return { ok: false, reason: first?.reason ?? 'UNTRUSTED_SIGNER', message: first?.message ?? 'not enough attestors verified' };
  }

  private trustOf(entry: AttestorEntry): Trust | { reason: string; message: string } {
    if (entry.keys?.publicKeys) return { kind: 'key', publicKeyPem: entry.keys.publicKeys };
    if (entry.keyless) {
      // Restrictions we cannot enforce must not be silently dropped: that would accept more than
      // the policy allows. Custom roots and certificate extensions are refused instead.
      if (entry.keyless.roots || (entry.keyless.additionalExtensions && Object.keys(entry.keyless.additionalExtensions).length > 0)) {
        return { reason: 'ATTESTOR_UNSUPPORTED', message: 'keyless roots and additionalExtensions are not supported; use --trusted-root' };
      }
      if (!this.trustedRoot) return { reason: 'TRUST_ROOT_UNAVAILABLE', message: 'keyless attestor but the webhook has no trusted root (--trusted-root)' };
      const k = entry.keyless;
      return {
        kind: 'keyless',
        trustedRoot: this.trustedRoot,
        ...(k.subject ? { identity: k.subject } : {}),
        ...(k.subjectRegExp ? { identityRegexp: k.subjectRegExp } : {}),
        ...(k.issuer ? { issuer: k.issuer } : {}),
        ...(k.issuerRegExp ? { issuerRegexp: k.issuerRegExp } : {}),
      };
    }
    return { reason: 'ATTESTOR_UNSUPPORTED', message: 'only keys.publicKeys and keyless attestors are supported' };
  }

  private registryFault(e: unknown, image: string): ImageVerifyResult {
    if (e instanceof RegistryError) {
      if (e.outcome === 'rejected' && e.code !== 'NOT_FOUND') return { status: 'fail', reason: e.code, message: `${image}: ${e.message}` };
      if (e.code === 'NOT_FOUND') return { status: 'fail', reason: 'IMAGE_NOT_FOUND', message: `${image}: ${e.message}` };
      return { status: 'error', message: `registry error for ${image}: ${e.code}: ${e.message}` };
    }
    return { status: 'error', message: `cannot verify ${image}: ${(e as Error)?.message ?? String(e)}` };
  }
}

/** Attestation conditions are evaluated against the verified predicate, as Kyverno does. */
function conditionsHold(check: AttestationCheck, v: OciVerification & { ok: true }): OciVerification {
  const predicate = (v.result.statement?.predicate ?? {}) as Record<string, unknown>;
  for (const [i, c] of (check.conditions ?? []).entries()) {
    const r = evaluateConditions(c, { ...predicate }, 'preconditions');
    if (!r.met) {
      return { ok: false, reason: 'CONDITIONS_NOT_MET', message: `attestation conditions[${i}] not met${r.messages.length ? `: ${r.messages.join('; ')}` : ''}`, checked: v.checked };
    }
  }
  return v;
}

// The verification spec's hash, memoised by the identity of the attestors and attestations arrays
// (policies are loaded once and reused; anything rebuilt per request, e.g. after variable
// substitution, is a new array and is hashed afresh, so a key can never outlive its spec).
// An absent list reaches us as a fresh `[]` on every request (the engine's `?? []`); all empty
// lists are the same spec, so they share one identity instead of costing a JSON.stringify, a
// sha256 and a short-lived WeakMap entry per request.
const specHashes = new WeakMap<object, WeakMap<object, string>>();
const EMPTY_SPEC: readonly unknown[] = Object.freeze([]);

function specIdentity(list: readonly unknown[]): object {
  return list.length === 0 ? EMPTY_SPEC : list;
}

function cacheKey(digest: string, req: ImageVerifyRequest): string {
  const attestors = specIdentity(req.attestors);
  const attestations = specIdentity(req.attestations);
  let inner = specHashes.get(attestors);
  if (!inner) specHashes.set(attestors, (inner = new WeakMap()));
  let spec = inner.get(attestations);
  if (spec === undefined) {
    spec = createHash('sha256').update(JSON.stringify([req.attestors, req.attestations])).digest('hex');
    inner.set(attestations, spec);
  }
  return `${req.info.registry}/${req.info.path}@${digest}#${spec}`;
}
