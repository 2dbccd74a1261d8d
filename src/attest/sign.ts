import { sign as cryptoSign, createPublicKey, type KeyObject } from 'node:crypto';
import { BUNDLE_V03_MEDIA_TYPE, bundleToJSON, type Bundle, type SerializedBundle } from '@sigstore/bundle';
import type { BundleBuilder, IdentityProvider, Signature, Signer as SigstoreSigner, Witness } from '@sigstore/sign';
import { AttestError } from './attest-error.js';
import { keyIdOf, loadPrivateKey } from './keys.js';
import { getMetrics } from '../observability/metrics.js';
import { IN_TOTO_PAYLOAD_TYPE, SLSA_PROVENANCE_V1, type Statement } from './statement.js';

/** Who signs: a local key, or a short-lived Fulcio certificate bound to an OIDC identity. */
export type Signer =
  | {
      kind: 'key';
      /** A PEM file path, or `env://VAR` for the PEM in an environment variable. */
      keyPath: string;
      /** Passphrase of an encrypted key (ours or cosign's). */
      passphrase?: string;
      /** Used for a cosign key when `passphrase` is absent (cosign's COSIGN_PASSWORD). */
      cosignPassword?: string;
    }
  | { kind: 'key-object'; privateKey: KeyObject }
  | {
      kind: 'keyless';
      /** An OIDC identity token; when absent, the ambient GitHub Actions token (or SIGSTORE_ID_TOKEN) is used. */
      identityToken?: string;
      fulcioURL: string;
      rekorURL?: string;
      tsaURL?: string;
      timeoutMs?: number;
    };

export type { SerializedBundle };

/** What the signature is for, for metrics: the lane signing and, for attestations, their kind. */
export interface SignContext {
  lane?: string;
  attestationKind?: 'proposal' | 'applied' | 'slsa_provenance' | 'policy_bundle';
}

/** Signs `data` and returns a Sigstore bundle v0.3 holding a message signature. */
export async function signBlob(data: Buffer, signer: Signer, ctx: SignContext = {}): Promise<SerializedBundle> {
  const { MessageSignatureBundleBuilder } = await sigstoreSign();
  const builder = new MessageSignatureBundleBuilder(await builderOptions(signer));
  const bundle = toV03(await build(builder, { data }));
  countSignature(signer, ctx);
  return bundle;
}

/** Signs an in-toto Statement as a DSSE envelope (payloadType application/vnd.in-toto+json). */
export async function attestStatement(statement: Statement, signer: Signer, ctx: SignContext = {}): Promise<SerializedBundle> {
  const { DSSEBundleBuilder } = await sigstoreSign();
  const builder = new DSSEBundleBuilder({ ...(await builderOptions(signer)), certificateChain: false });
  const bundle = toV03(withoutDsseKeyIds(await build(builder, { data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE })));
  countSignature(signer, ctx);
  const kind = ctx.attestationKind ?? (statement.predicateType === SLSA_PROVENANCE_V1 ? 'slsa_provenance' : undefined);
  if (kind) getMetrics().counter('duallane_attestations_created_total').inc({ lane: ctx.lane ?? 'other', kind });
  return bundle;
}

function countSignature(signer: Signer, ctx: SignContext): void {
  getMetrics().counter('duallane_signatures_created_total').inc({ lane: ctx.lane ?? 'other', kind: signer.kind === 'keyless' ? 'keyless' : 'key' });
}

async function build(builder: BundleBuilder, artifact: { data: Buffer; type?: string }): Promise<Bundle> {
  try {
    return await builder.create(artifact);
  } catch (cause) {
    if (cause instanceof AttestError) throw cause;
    const msg = (cause as Error)?.message ?? String(cause);
    const code = /token/i.test(msg) ? 'IDENTITY_TOKEN_UNAVAILABLE' : 'SIGNING_SERVICE_UNAVAILABLE';
    throw new AttestError(code, `signing failed: ${redact(msg)}`, { cause });
  }
}

// sigstore-js copies the public-key hint (our hex SHA-256 of the SPKI) into the DSSE signature's keyid.
// DSSE verifiers that honour keyids (go-securesystemslib, hence cosign verify-blob-attestation) skip a
// signature whose keyid differs from their own id for the key (an SSH-style SHA256 fingerprint), and
// then report no valid signature. The keyid is an unsigned hint; the bundle's verification material
// already names the key, so leave it empty, as cosign does.
function withoutDsseKeyIds(bundle: Bundle): Bundle {
  if (bundle.content.$case === 'dsseEnvelope') {
    for (const sig of bundle.content.dsseEnvelope.signatures) sig.keyid = '';
  }
  return bundle;
}

// sigstore-js writes message-signature bundles with a certificate chain (v0.2); v0.3 carries the leaf
// alone. The signature, tlog entry and timestamps do not depend on that choice.
function toV03(bundle: Bundle): SerializedBundle {
  const vm = bundle.verificationMaterial;
  if (vm.content.$case === 'x509CertificateChain') {
    const leaf = vm.content.x509CertificateChain.certificates[0];
    if (!leaf) throw new AttestError('SIGNING_SERVICE_UNAVAILABLE', 'Fulcio returned an empty certificate chain');
    vm.content = { $case: 'certificate', certificate: leaf };
  }
  bundle.mediaType = BUNDLE_V03_MEDIA_TYPE;
  return bundleToJSON(bundle);
}

async function builderOptions(signer: Signer): Promise<{ signer: SigstoreSigner; witnesses: Witness[] }> {
  switch (signer.kind) {
    case 'key':
      return { signer: keySigner(await loadPrivateKey(signer.keyPath, signer.passphrase, { cosignPassword: signer.cosignPassword })), witnesses: [] };
    case 'key-object':
      return { signer: keySigner(signer.privateKey), witnesses: [] };
    case 'keyless': {
      const { CIContextProvider, FulcioSigner, RekorWitness, TSAWitness } = await sigstoreSign();
      const timeout = signer.timeoutMs ?? 30_000;
      const identityProvider: IdentityProvider = signer.identityToken
        ? { getToken: async () => signer.identityToken as string }
        : new CIContextProvider('sigstore');
      const witnesses: Witness[] = [];
      if (signer.rekorURL) witnesses.push(new RekorWitness({ rekorBaseURL: signer.rekorURL, timeout, retry: 0 }));
      if (signer.tsaURL) witnesses.push(new TSAWitness({ tsaBaseURL: signer.tsaURL, timeout, retry: 0 }));
      if (witnesses.length === 0) {
        throw new AttestError('BAD_USAGE', 'keyless signing needs --rekor-url or --tsa-url (or both): a certificate alone cannot prove when it was used');
      }
      return { signer: new FulcioSigner({ identityProvider, fulcioBaseURL: signer.fulcioURL, timeout, retry: 0 }), witnesses };
    }
  }
}

/** @sigstore/sign (and its HTTP stack) loads only when something is signed. */
const sigstoreSign = () => import('@sigstore/sign');

function keySigner(privateKey: KeyObject): SigstoreSigner {
  const publicKey = createPublicKey(privateKey);
  const hint = keyIdOf(publicKey);
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  return {
    async sign(data: Buffer): Promise<Signature> {
      return { signature: cryptoSign('sha256', data, privateKey), key: { $case: 'publicKey', publicKey: publicKeyPem, hint } };
    },
  };
}

/** Errors from signing services may echo request material; keep only the first line, strip JWT-looking tokens. */
function redact(msg: string): string {
  return (msg.split('\n')[0] ?? '').replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '<redacted-token>').slice(0, 300);
}
