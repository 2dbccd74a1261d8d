import { createPublicKey, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { Bundle } from '@sigstore/bundle';
import { X509Certificate, dsse } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { RE2JS } from 're2js';
import { toSignedEntity, toTrustMaterial, Verifier, type SignedEntity, type TrustMaterial } from '@sigstore/verify';
import { getMetrics } from '../observability/metrics.js';
import { withSpan } from '../observability/tracing.js';
import { AttestError } from './attest-error.js';
import { toBundle } from './bundle-input.js';
import { digestsEqual, isDigest, sha256Hex } from './digest.js';
import { checkProvenance, matchesIdentityWithRef, type ProvenanceExpectations } from './provenance-checks.js';
import { IN_TOTO_PAYLOAD_TYPE, parseStatement, type Statement } from './statement.js';
import { parseTrustedRoot, publicGoodTrustedRoot } from './trusted-root.js';
import { keyIdOf, parsePublicKey } from './keys.js';

const OID_BUILD_SIGNER_URI = '1.3.6.1.4.1.57264.1.9';

/** Whom we trust: one public key, or certificates from a trusted root bound to an OIDC identity. */
export type Trust =
  | {
      kind: 'key';
      publicKeyPem: string;
      /** trusted_root.json whose logs and timestamp authorities check the bundle's tlog entries and timestamps (cosign's `--key --trusted-root`). */
      trustedRoot?: object;
    }
  | { kind: 'key-object'; publicKey: KeyObject }
  | {
      kind: 'keyless';
      /** Parsed trusted_root.json; when absent, Sigstore's public-good root is fetched through TUF. */
      trustedRoot?: object;
      identity?: string;
      identityRegexp?: string;
      issuer?: string;
      issuerRegexp?: string;
    };

export interface VerifyOptions extends ProvenanceExpectations {
  /** The artifact's bytes, or its digest as `sha256:<hex>`; exactly one. */
  artifact?: Buffer;
  digest?: string;
  trust: Trust;
  /** Fulcio Build Signer URI (OID 1.3.6.1.4.1.57264.1.9), matched like a builder id. */
  signerWorkflow?: string;
  /** Minimum transparency-log entries (keyless default 1, key default 0). */
  tlogThreshold?: number;
  /** Minimum verified timestamps from tlog integrated times or RFC 3161 TSAs (keyless default 1, key default 0). */
  timestampThreshold?: number;
  /** Minimum SCTs in the certificate (keyless default 1). */
  ctlogThreshold?: number;
  /** The lane verifying, for traces only. */
  lane?: string;
}

export type VerifiedSigner = { kind: 'key'; keyId: string } | { kind: 'certificate'; identity: string; issuer: string; signerWorkflow?: string };

export interface VerifyResult {
  kind: 'message' | 'dsse';
  digest: string;
  statement?: Statement;
  signer: VerifiedSigner;
}

/**
 * Verifies an attacker-controlled Sigstore bundle against an artifact. Order matters and is the
 * contract: shape → digest binding (message) → signature with the bundle's own key → trust
 * (chain, SCTs, tlog, timestamps) → identity → only then is the DSSE payload parsed → subject
 * binding → predicate expectations. Each refusal is an AttestError with a stable code.
 */
export async function verifyBundle(json: unknown, opts: VerifyOptions): Promise<VerifyResult> {
  const started = process.hrtime.bigint();
  const metrics = getMetrics();
  try {
    const r = await withSpan('duallane.verify', { lane: opts.lane ?? 'other', extra: { 'duallane.trust': opts.trust.kind } }, () => verifyUntraced(json, opts));
    metrics.counter('duallane_verifications_total').inc({ result: 'success', reason: 'none' });
    metrics.histogram('duallane_verification_duration_seconds').observe({ result: 'success' }, Number(process.hrtime.bigint() - started) / 1e9);
    return r;
  } catch (e) {
    if (e instanceof AttestError && (e.outcome === 'rejected' || e.code === 'BUNDLE_MALFORMED')) {
      metrics.counter('duallane_verifications_total').inc({ result: 'failure', reason: e.code.toLowerCase() });
      metrics.histogram('duallane_verification_duration_seconds').observe({ result: 'failure' }, Number(process.hrtime.bigint() - started) / 1e9);
    }
    throw e;
  }
}

async function verifyUntraced(json: unknown, opts: VerifyOptions): Promise<VerifyResult> {
  const bundle = toBundle(json);
  const digestHex = artifactDigestHex(opts);
  const keyless = opts.trust.kind === 'keyless';
  if (keyless) assertIdentityPolicyGiven(opts.trust as Extract<Trust, { kind: 'keyless' }>);

  const content = bundle.content;
  if (content.$case === 'messageSignature') {
    const md = content.messageSignature.messageDigest;
    if (!md || md.algorithm !== 1 /* SHA2_256 */) {
      throw new AttestError('BUNDLE_MALFORMED', 'message signature digest must be SHA2_256');
    }
    if (!digestsEqual(Buffer.from(md.digest).toString('hex'), digestHex)) {
      throw new AttestError('SUBJECT_MISMATCH', `artifact sha256:${digestHex.slice(0, 12)}… is not what the bundle signed (sha256:${Buffer.from(md.digest).toString('hex').slice(0, 12)}…)`);
    }
  }

  const { key: signingKey, certificate } = keyOf(bundle, opts.trust);
  if (!signatureHolds(bundle, signingKey, opts.artifact, digestHex)) {
    throw new AttestError('SIGNATURE_INVALID', 'signature does not verify over the signed content');
  }

  rejectDuplicateEvidence(bundle);
  const hasEvidence = bundle.verificationMaterial.tlogEntries.length > 0 || (bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0) > 0;
  let signer: VerifiedSigner;
  if (keyless || hasEvidence || (opts.tlogThreshold ?? 0) > 0 || (opts.timestampThreshold ?? 0) > 0) {
    const material = await trustMaterialFor(opts.trust, signingKey);
    const entity = signedEntity(bundle, signingKey, opts.artifact);
    const verifier = new Verifier(material, {
      tlogThreshold: opts.tlogThreshold ?? (keyless ? 1 : 0),
      timestampThreshold: opts.timestampThreshold ?? (keyless ? 1 : 0),
      ctlogThreshold: opts.ctlogThreshold ?? (keyless ? 1 : 0),
    });
    try {
      verifier.verify(entity);
    } catch (cause) {
      throw mapSigstoreError(cause);
    }
  }
  if (opts.trust.kind === 'keyless') {
    signer = checkIdentity(certificate, opts.trust);
  } else {
    signer = { kind: 'key', keyId: keyIdOf(signingKey) };
  }
  if (opts.signerWorkflow !== undefined) {
    const actual = signer.kind === 'certificate' ? signer.signerWorkflow : undefined;
    if (actual === undefined || !matchesIdentityWithRef(actual, opts.signerWorkflow)) {
      throw new AttestError('SIGNER_WORKFLOW_MISMATCH', `build signer ${JSON.stringify(actual ?? null)} does not match ${JSON.stringify(opts.signerWorkflow)}`);
    }
  }

  if (content.$case === 'messageSignature') {
    if (opts.predicateType || opts.builderId || opts.sourceUri || opts.sourceRef) {
      throw new AttestError('PREDICATE_TYPE_MISMATCH', 'a message signature carries no statement, but a predicate was required');
    }
    return { kind: 'message', digest: `sha256:${digestHex}`, signer };
  }
  const env = content.dsseEnvelope;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new AttestError('PAYLOAD_INVALID', `DSSE payloadType is ${JSON.stringify(env.payloadType).slice(0, 80)}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const statement = parseStatement(Buffer.from(env.payload));
  assertSubject(statement, digestHex);
  checkProvenance(statement, opts);
  return { kind: 'dsse', digest: `sha256:${digestHex}`, statement, signer };
}

/** @sigstore/verify does not bind a DSSE bundle to an artifact; we do: the digest must be a subject. */
export function assertSubject(statement: Statement, digestHex: string): void {
  const found = statement.subject.some((s) => typeof s.digest.sha256 === 'string' && digestsEqual(s.digest.sha256, digestHex));
  if (!found) {
    throw new AttestError('SUBJECT_MISMATCH', `artifact sha256:${digestHex.slice(0, 12)}… is not a subject of the statement`);
  }
}

function artifactDigestHex(opts: VerifyOptions): string {
  if (opts.artifact !== undefined && opts.digest !== undefined) throw new AttestError('BAD_USAGE', 'give the artifact or its digest, not both');
  if (opts.artifact !== undefined) return sha256Hex(opts.artifact);
  if (opts.digest !== undefined) {
    if (!isDigest(opts.digest)) throw new AttestError('BAD_USAGE', 'digest must be sha256: followed by 64 lowercase hex digits');
    return opts.digest.slice('sha256:'.length);
  }
  throw new AttestError('BAD_USAGE', 'an artifact or a digest is required');
}

function assertIdentityPolicyGiven(t: Extract<Trust, { kind: 'keyless' }>): void {
  if (t.identity === undefined && t.identityRegexp === undefined) {
    throw new AttestError('BAD_USAGE', 'keyless verification needs --certificate-identity or --certificate-identity-regexp');
  }
  if (t.issuer === undefined && t.issuerRegexp === undefined) {
    throw new AttestError('BAD_USAGE', 'keyless verification needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp');
  }
}

function keyOf(bundle: Bundle, trust: Trust): { key: KeyObject; certificate?: X509Certificate } {
  const vm = bundle.verificationMaterial.content;
  switch (trust.kind) {
    case 'key':
      return { key: parsePublicKey(trust.publicKeyPem) };
    case 'key-object':
      return { key: trust.publicKey };
    case 'keyless': {
      const raw = vm.$case === 'certificate' ? vm.certificate.rawBytes : vm.$case === 'x509CertificateChain' ? vm.x509CertificateChain.certificates[0]?.rawBytes : undefined;
      if (!raw) throw new AttestError('UNTRUSTED_SIGNER', 'bundle carries no certificate, but keyless verification was asked for');
      try {
        const certificate = X509Certificate.parse(Buffer.from(raw));
        return { key: createPublicKey({ key: certificate.publicKey, format: 'der', type: 'spki' }), certificate };
      } catch (cause) {
        throw new AttestError('CERTIFICATE_INVALID', 'bundle certificate cannot be parsed', { cause });
      }
    }
  }
}

function signatureHolds(bundle: Bundle, key: KeyObject, artifact: Buffer | undefined, digestHex: string): boolean {
  try {
    const c = bundle.content;
    if (c.$case === 'dsseEnvelope') {
      const sig = c.dsseEnvelope.signatures[0]?.sig;
      if (!sig || c.dsseEnvelope.signatures.length !== 1) return false;
      return cryptoVerify('sha256', dsse.preAuthEncoding(c.dsseEnvelope.payloadType, Buffer.from(c.dsseEnvelope.payload)), key, Buffer.from(sig));
    }
    const sig = Buffer.from(c.messageSignature.signature);
    if (artifact) return cryptoVerify('sha256', artifact, key, sig);
    return verifyPrehashed(key, Buffer.from(digestHex, 'hex'), sig);
  } catch {
    return false;
  }
}

/** ECDSA P-256 over a digest we did not hash ourselves (Sigstore conformance: verify by digest). */
function verifyPrehashed(key: KeyObject, digest: Buffer, sig: Buffer): boolean {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) return false;
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return p256.verify(sig, digest, point, { prehash: false, lowS: false, format: 'der' });
}

/** Only called once the signature has verified with `key` (see verifyUntraced). */
function signedEntity(bundle: Bundle, key: KeyObject, artifact: Buffer | undefined): SignedEntity {
  let entity: SignedEntity;
  try {
    entity = toSignedEntity(bundle, artifact);
  } catch (cause) {
    throw new AttestError('BUNDLE_MALFORMED', 'bundle verification material cannot be parsed (certificate or timestamp)', { cause });
  }
  // The signature was already checked against `key` (prehashed when only a digest is known, which
  // the stock content cannot re-hash); answer from that check rather than verifying it twice.
  const inner = entity.signature;
  entity.signature = {
    signature: inner.signature,
    compareSignature: (s) => inner.compareSignature(s),
    compareDigest: (d) => inner.compareDigest(d),
    verifySignature: (k) => k.equals(key),
  };
  return entity;
}

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });

/** Parsing a trusted root is costly; batch verification reuses one per root object. */
const parsedRoots = new WeakMap<object, TrustMaterial>();

async function trustMaterialFor(trust: Trust, key: KeyObject): Promise<TrustMaterial> {
  switch (trust.kind) {
    case 'key':
    case 'key-object': {
      // Key mode: the one key we were given is the only trusted key, whatever hint the bundle names;
      // a trusted root, when given, contributes only its logs and timestamp authorities.
      const root = trust.kind === 'key' && trust.trustedRoot ? parseTrustedRoot(trust.trustedRoot) : EMPTY_ROOT;
      return toTrustMaterial({ ...root, certificateAuthorities: [], ctlogs: [] }, () => ({ publicKey: key, validFor: () => true }));
    }
    case 'keyless': {
      if (!trust.trustedRoot) return toTrustMaterial(await publicGoodTrustedRoot());
      let material = parsedRoots.get(trust.trustedRoot);
      if (!material) {
        material = toTrustMaterial(parseTrustedRoot(trust.trustedRoot));
        parsedRoots.set(trust.trustedRoot, material);
      }
      return material;
    }
  }
}

/**
 * Identity regexps are Go RE2 syntax (cosign's) on re2js, linear in the certificate's text: a JS
 * RegExp would backtrack on a hostile SAN. Anchored: `.../org/repo` must not also accept `.../org/repo-evil`.
 */
function compileAnchored(re: string, flag: string): { test(s: string): boolean } {
  try {
    // matches() is a whole-string match: no `^(?:...)$` wrapping that an unbalanced `)` could escape.
    const compiled = RE2JS.compile(re);
    return { test: (s) => compiled.matches(s) };
  } catch (cause) {
    throw new AttestError('BAD_USAGE', `${flag} is not a valid regular expression`, { cause });
  }
}

function checkIdentity(cert: X509Certificate | undefined, t: Extract<Trust, { kind: 'keyless' }>): VerifiedSigner {
  if (!cert) throw new AttestError('UNTRUSTED_SIGNER', 'no certificate');
  const identity = cert.subjectAltName ?? '';
  const issuerExt = cert.extension('1.3.6.1.4.1.57264.1.8');
  const issuer = issuerExt ? (issuerExt.valueObj.subs?.[0]?.value.toString('utf8') ?? '') : (cert.extension('1.3.6.1.4.1.57264.1.1')?.value.toString('utf8') ?? '');
  if (t.identity !== undefined ? identity !== t.identity : !compileAnchored(t.identityRegexp as string, '--certificate-identity-regexp').test(identity)) {
    throw new AttestError('IDENTITY_MISMATCH', `certificate identity ${JSON.stringify(identity)} does not match ${JSON.stringify(t.identity ?? t.identityRegexp)}`);
  }
  if (t.issuer !== undefined ? issuer !== t.issuer : !compileAnchored(t.issuerRegexp as string, '--certificate-oidc-issuer-regexp').test(issuer)) {
    throw new AttestError('ISSUER_MISMATCH', `certificate issuer ${JSON.stringify(issuer)} does not match ${JSON.stringify(t.issuer ?? t.issuerRegexp)}`);
  }
  const wf = cert.extension(OID_BUILD_SIGNER_URI);
  const signerWorkflow = wf ? wf.valueObj.subs?.[0]?.value.toString('utf8') : undefined;
  return { kind: 'certificate', identity, issuer, ...(signerWorkflow ? { signerWorkflow } : {}) };
}

/** The same tlog entry or timestamp twice must never count twice toward a threshold. */
function rejectDuplicateEvidence(bundle: Bundle): void {
  const seen = new Set<string>();
  for (const e of bundle.verificationMaterial.tlogEntries) {
    const id = `${Buffer.from(e.logId?.keyId ?? []).toString('hex')}:${e.logIndex}`;
    if (seen.has(id)) throw new AttestError('TLOG_INVALID', `transparency-log entry ${e.logIndex} appears more than once`);
    seen.add(id);
  }
  const ts = new Set<string>();
  for (const t of bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []) {
    const h = createHash('sha256').update(t.signedTimestamp).digest('hex');
    if (ts.has(h)) throw new AttestError('TIMESTAMP_INVALID', 'the same RFC 3161 timestamp appears more than once');
    ts.add(h);
  }
}

function mapSigstoreError(cause: unknown): AttestError {
  if (cause instanceof AttestError) return cause;
  const code = (cause as { code?: string }).code ?? '';
  // Chain failures wrap the specific reason (expired, untrusted) in `cause`; classify on both.
  const inner = (cause as { cause?: { message?: string } }).cause?.message;
  const msg = [(cause as Error)?.message ?? String(cause), inner].filter(Boolean).join(': ');
  const m = (c: ConstructorParameters<typeof AttestError>[0]) => new AttestError(c, msg, { cause });
  switch (code) {
    case 'SIGNATURE_ERROR':
      return m('SIGNATURE_INVALID');
    case 'TLOG_ERROR':
      return /expected \d+ tlog entries/.test(msg) ? m('TLOG_MISSING') : m('TLOG_INVALID');
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
    case 'TLOG_BODY_ERROR':
      return m('TLOG_INVALID');
    case 'TIMESTAMP_ERROR':
      return /expected \d+ timestamps/.test(msg) ? m('TIMESTAMP_MISSING') : m('TIMESTAMP_INVALID');
    case 'CERTIFICATE_ERROR':
      if (/expired|not valid .*date/.test(msg)) return m('CERTIFICATE_EXPIRED');
      if (/SCT/.test(msg)) return m('SCT_INVALID');
      if (/certificate path|chain/.test(msg)) return m('UNTRUSTED_SIGNER');
      return m('CERTIFICATE_INVALID');
    case 'PUBLIC_KEY_ERROR':
      return m('UNTRUSTED_SIGNER');
    case 'UNTRUSTED_SIGNER_ERROR':
      return m('IDENTITY_MISMATCH');
    default:
      return new AttestError('SIGNATURE_INVALID', `verification failed: ${msg}`, { cause });
  }
}
