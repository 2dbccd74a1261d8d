import { AttestError, REJECTION_CODES, type AttestErrorCode, type Signer, type Trust } from '../attest/index.js';
import { EMPTY_JSON, MEDIA_TYPES, RegistryError, parseManifest, pushArtifact, type ImageReference, type RegistryClient } from '../registry/index.js';
import { signOciSubject, verifyOciSignature, type OciVerification } from './bundle-cosign.js';

/**
 * A policy bundle in a registry is a Flux OCI artifact: config `application/vnd.cncf.flux.config.v1+json`
 * (`{}`), one layer `application/vnd.cncf.flux.content.v1.tar+gzip` holding the bundle bytes, so
 * Flux's OCIRepository (and `flux pull artifact`) extracts it as-is; the manifest carries the
 * `org.opencontainers.image.{created,source,revision}` annotations `flux push artifact` writes. Its signature sits where cosign (and so Flux's
 * `verify: provider: cosign`) looks: `sha256-<manifest hex>.sig` and the referrers.
 */
export const POLICY_BUNDLE_FILE = 'policy-bundle.tar.gz';

export interface PushedPolicyBundle {
  reference: string;
  digest: string;
  layerDigest: string;
  signature?: { sigTag: string; referrers: string[] };
}

export async function pushPolicyBundle(
  client: RegistryClient,
  ref: ImageReference,
  bundle: Buffer,
  opts: { signer?: Signer; source?: string; revision?: string; created?: string; signal?: AbortSignal } = {},
): Promise<PushedPolicyBundle> {
  if (!ref.tag) throw new RegistryError('BAD_REFERENCE', 'push needs a tag: REGISTRY/REPO:TAG');
  const annotations: Record<string, string> = {};
  if (opts.created) annotations['org.opencontainers.image.created'] = opts.created;
  if (opts.source) annotations['org.opencontainers.image.source'] = opts.source;
  if (opts.revision) annotations['org.opencontainers.image.revision'] = opts.revision;
  const pushed = await pushArtifact(
    client,
    ref.registry,
    ref.repository,
    ref.tag,
    {
      config: { mediaType: MEDIA_TYPES.fluxConfig, data: EMPTY_JSON },
      // The title is the file name `oras pull` writes the layer to; without one oras skips it.
      layers: [{ mediaType: MEDIA_TYPES.fluxContent, data: bundle, annotations: { 'org.opencontainers.image.title': POLICY_BUNDLE_FILE } }],
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    opts.signal,
  );
  const layerDigest = parseManifest(pushed.manifest).layers[0]!.digest;
  const out: PushedPolicyBundle = { reference: `${ref.registry}/${ref.repository}:${ref.tag}`, digest: pushed.digest, layerDigest };
  if (opts.signer) {
    out.signature = await signOciSubject(
      client,
      { registry: ref.registry, repository: ref.repository, digest: pushed.digest, mediaType: pushed.mediaType, size: pushed.size },
      opts.signer,
      opts.signal,
    );
  }
  return out;
}

export interface PulledPolicyBundle {
  digest: string;
  layerDigest: string;
  data: Buffer;
  verification?: OciVerification & { ok: true };
}

/**
 * Pulls the bundle layer of `ref` (digest-checked). With `trust`, the artifact's signature is
 * verified BEFORE the layer is fetched, and a failure throws: an unverified bundle is never returned.
 */
export async function pullPolicyBundle(client: RegistryClient, ref: ImageReference, opts: { trust?: Trust; signal?: AbortSignal } = {}): Promise<PulledPolicyBundle> {
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const m = await client.getManifest(ref.registry, ref.repository, reference, opts.signal);
  const manifest = parseManifest(m.body);
  let verification: PulledPolicyBundle['verification'];
  if (opts.trust) {
    const v = await verifyOciSignature(client, { registry: ref.registry, repository: ref.repository, digest: m.digest }, opts.trust, opts.signal);
    if (!v.ok) {
      const code = v.reason === 'NO_SIGNATURES' ? 'UNTRUSTED_SIGNER' : v.reason;
      const known = (REJECTION_CODES as readonly string[]).includes(code);
      throw new AttestError(known ? (code as AttestErrorCode) : 'SIGNATURE_INVALID', `policy bundle ${ref.registry}/${ref.repository}@${m.digest}: ${v.message}`);
    }
    verification = v;
  }
  const layer = manifest.layers.find((l) => l.mediaType === MEDIA_TYPES.fluxContent) ?? manifest.layers[0];
  if (!layer) throw new RegistryError('MANIFEST_INVALID', `${ref.registry}/${ref.repository}@${m.digest} has no layers`);
  const data = await client.getBlob(ref.registry, ref.repository, layer.digest, { signal: opts.signal });
  return { digest: m.digest, layerDigest: layer.digest, data, ...(verification ? { verification } : {}) };
}

