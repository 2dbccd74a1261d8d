import {
  AttestError,
  attestStatement,
  makeStatement,
  signBlob,
  verifyBundle,
  type SerializedBundle,
  type Signer,
  type Statement,
  type Trust,
  type VerifyResult,
} from '../attest/index.js';
import {
  RegistryError,
  attachCosignAttestation,
  attachCosignSignature,
  attachSigstoreBundle,
  fetchAttestations,
  fetchCosignSignatures,
  fetchSigstoreBundles,
  parseSimpleSigningPayload,
  sameDigest,
  simpleSigningPayload,
  type RegistryClient,
} from '../registry/index.js';
import { bundleFromKeySigned, bundleFromLegacyKeyless } from './cosign-legacy.js';

/**
 * Signing and verifying anything in an OCI registry the way cosign does, for images and for our
 * policy bundles alike. Signing writes every form a verifier may look for:
 *   - the legacy `sha256-<hex>.sig` layer (simple-signing payload, message signature), which Flux's
 *     `verify: provider: cosign` with a static key and cosign v2 read;
 *   - a cosign v3 signature: a DSSE in-toto statement (predicateType `https://sigstore.dev/cosign/sign/v1`,
 *     subject the manifest digest) as a Sigstore bundle OCI referrer;
 *   - attestations as Sigstore bundle referrers and as `.att` layers.
 * Verification accepts either signature form; every payload stays untrusted until its signature
 * verified, and the signed digest must equal the subject's digest (constant-time compare).
 */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export interface OciSubject {
  registry: string;
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
}

export interface SignOutcome {
  sigTag: string;
  referrers: string[];
}

function b64ToPem(b64: string): string {
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** cosign's legacy Rekor bundle, from the first tlog entry's inclusion promise (absent for key-only signatures). */
function legacyRekorBundle(b: SerializedBundle): unknown {
  const e = b.verificationMaterial.tlogEntries?.[0];
  if (!e?.inclusionPromise) return undefined;
  return {
    SignedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
    Payload: {
      body: e.canonicalizedBody,
      integratedTime: Number(e.integratedTime),
      logIndex: Number(e.logIndex),
      logID: Buffer.from(e.logId.keyId, 'base64').toString('hex'),
    },
  };
}

function certificateOf(b: SerializedBundle): string | undefined {
  const vm = b.verificationMaterial as { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: { rawBytes: string }[] } };
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes;
  return raw ? b64ToPem(raw) : undefined;
}

/** What cosign v2 puts next to a keyless signature: the certificate PEM and its legacy Rekor bundle. */
export function cosignLegacyAnnotations(b: SerializedBundle): { certificatePem?: string; rekorBundle?: unknown } {
  const certificatePem = certificateOf(b);
  const rekorBundle = legacyRekorBundle(b);
  return { ...(certificatePem ? { certificatePem } : {}), ...(rekorBundle ? { rekorBundle } : {}) };
}

/** Signs `subject` (legacy `.sig` + cosign v3 referrer) with `signer`. */
export async function signOciSubject(client: RegistryClient, subject: OciSubject, signer: Signer, signal?: AbortSignal): Promise<SignOutcome> {
  const at = { registry: subject.registry, repository: subject.repository, digest: subject.digest };
  const dockerReference = `${subject.registry}/${subject.repository}`;
  const payload = simpleSigningPayload(dockerReference, subject.digest);
  const msgBundle = await signBlob(payload, signer);
  const signature = (msgBundle as { messageSignature?: { signature: string } }).messageSignature?.signature;
  if (!signature) throw new AttestError('SIGNING_SERVICE_UNAVAILABLE', 'signBlob returned a bundle without a message signature');
  const sig = await attachCosignSignature(
    client,
    at,
    { payload, signature, bundle: msgBundle, certificatePem: certificateOf(msgBundle), rekorBundle: legacyRekorBundle(msgBundle) },
    signal,
  );
  const statement = makeStatement([{ name: dockerReference, digest: { sha256: hexOf(subject.digest) } }], COSIGN_SIGN_PREDICATE, {});
  const dsseBundle = await attestStatement(statement, signer);
  const ref = await attachSigstoreBundle(client, { ...at, subjectMediaType: subject.mediaType, subjectSize: subject.size }, dsseBundle, {
    content: 'dsse-envelope',
    predicateType: COSIGN_SIGN_PREDICATE,
  });
  return { sigTag: sig.tag, referrers: [ref.digest] };
}

/** Attests `subject` with an in-toto statement (e.g. SLSA provenance): referrer bundle and `.att` layer. */
export async function attestOciSubject(
  client: RegistryClient,
  subject: OciSubject,
  predicateType: string,
  predicate: Record<string, unknown>,
  signer: Signer,
  signal?: AbortSignal,
): Promise<{ attTag: string; referrer: string }> {
  const at = { registry: subject.registry, repository: subject.repository, digest: subject.digest };
  const statement: Statement = makeStatement([{ name: `${subject.registry}/${subject.repository}`, digest: { sha256: hexOf(subject.digest) } }], predicateType, predicate);
  const bundle = await attestStatement(statement, signer);
  const ref = await attachSigstoreBundle(client, { ...at, subjectMediaType: subject.mediaType, subjectSize: subject.size }, bundle, { content: 'dsse-envelope', predicateType }, signal);
  const att = await attachCosignAttestation(
    client,
    at,
    { envelope: (bundle as { dsseEnvelope?: unknown }).dsseEnvelope, predicateType, bundle, certificatePem: certificateOf(bundle) },
    signal,
  );
  return { attTag: att.tag, referrer: ref.digest };
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

export type VerificationFailureReason = 'NO_SIGNATURES' | 'NO_ATTESTATIONS' | string;

export type OciVerification =
  | { ok: true; result: VerifyResult; via: 'referrer' | 'sig-tag' | 'att-tag'; checked: number }
  | { ok: false; reason: VerificationFailureReason; message: string; checked: number };

/** Extra expectations on a signature or attestation, passed through to the attest module. */
export interface VerifyExpectations {
  predicateType?: string;
  builderId?: string;
  sourceUri?: string;
  sourceRef?: string;
}

/**
 * Verifies that `subject` carries at least one signature by `trust`. Registry faults (unreachable,
 * timeout) propagate as RegistryError; signature problems come back as `{ ok: false, reason }` with
 * the first attest reason code seen, so a caller can name why.
 */
export async function verifyOciSignature(client: RegistryClient, at: { registry: string; repository: string; digest: string }, trust: Trust, signal?: AbortSignal): Promise<OciVerification> {
  let checked = 0;
  let firstFailure: { reason: string; message: string } | undefined;
  const note = (e: unknown) => {
    if (e instanceof AttestError || (e instanceof RegistryError && e.outcome === 'rejected')) firstFailure ??= { reason: e.code, message: e.message };
    else throw e;
  };
  for (const b of await fetchSigstoreBundles(client, at, signal)) {
    if (b.content !== 'dsse-envelope' || (b.predicateType !== undefined && b.predicateType !== COSIGN_SIGN_PREDICATE)) continue;
    checked++;
    try {
      const result = await verifyBundle(b.bundle, { digest: at.digest, trust, predicateType: COSIGN_SIGN_PREDICATE });
      return { ok: true, result, via: 'referrer', checked };
    } catch (e) {
      note(e);
    }
  }
  for (const s of await fetchCosignSignatures(client, at, signal)) {
    checked++;
    try {
      const content = s.signature !== undefined && s.signature !== '' ? ({ kind: 'message', payload: s.payload, signature: s.signature } as const) : undefined;
      const bundle = s.bundle ?? (content && (trust.kind === 'keyless' ? bundleFromLegacyKeyless(content, s) : bundleFromKeySigned(content)));
      if (bundle === undefined) throw new AttestError('BUNDLE_MALFORMED', 'signature layer carries neither a Sigstore bundle nor a usable signature');
      const result = await verifyBundle(bundle, { artifact: s.payload, trust });
      // Only now is the payload trusted enough to read: it must name this exact manifest.
      const signed = parseSimpleSigningPayload(s.payload);
      if (!sameDigest(signed.digest, at.digest)) throw new AttestError('SUBJECT_MISMATCH', `signature is for ${signed.digest}, not ${at.digest}`);
      return { ok: true, result, via: 'sig-tag', checked };
    } catch (e) {
      note(e);
    }
  }
  if (firstFailure) return { ok: false, ...firstFailure, checked };
  return { ok: false, reason: 'NO_SIGNATURES', message: `no signature found for ${at.registry}/${at.repository}@${at.digest}`, checked };
}

/** Verifies that `subject` carries an attestation of `expect.predicateType` by `trust` meeting `expect`. */
export async function verifyOciAttestation(
  client: RegistryClient,
  at: { registry: string; repository: string; digest: string },
  trust: Trust,
  expect: VerifyExpectations & { predicateType: string },
  signal?: AbortSignal,
): Promise<OciVerification> {
  let checked = 0;
  let firstFailure: { reason: string; message: string } | undefined;
  for (const a of await fetchAttestations(client, at, signal)) {
    // The annotation is only a hint to skip other kinds cheaply; the verified statement decides.
    if (a.predicateType !== undefined && a.predicateType !== expect.predicateType) continue;
    // A cosign `.att` layer without our bundle annotation is a bare envelope (plus, keyless, the
    // certificate and legacy Rekor bundle): wrap it the way the `.sig` path does.
    const content = { kind: 'dsse', envelope: a.envelope } as const;
    const bundle = a.bundle ?? (trust.kind === 'keyless' ? bundleFromLegacyKeyless(content, a) : bundleFromKeySigned(content));
    if (bundle === undefined) continue;
    checked++;
    try {
      const result = await verifyBundle(bundle, { digest: at.digest, trust, ...expect });
      return { ok: true, result, via: a.source === 'referrer' ? 'referrer' : 'att-tag', checked };
    } catch (e) {
      if (e instanceof AttestError || (e instanceof RegistryError && e.outcome === 'rejected')) firstFailure ??= { reason: e.code, message: e.message };
      else throw e;
    }
  }
  if (firstFailure) return { ok: false, ...firstFailure, checked };
  return {
    ok: false,
    reason: 'NO_ATTESTATIONS',
    message: `no ${expect.predicateType} attestation found for ${at.registry}/${at.repository}@${at.digest}`,
    checked,
  };
}
