import { z } from 'zod';
import { RegistryError } from './registry-error.js';
import { digestTag } from './reference.js';
import { RegistryClient, sha256Digest } from './oci-client.js';
import { EMPTY_JSON, MEDIA_TYPES, imageManifestSchema, type Descriptor, type ImageManifest } from './oci-types.js';

/**
 * Where cosign keeps signatures and attestations next to an image (cosign SIGNATURE_SPEC and
 * BUNDLE_SPEC):
 *   - `<repo>:sha256-<hex>.sig`: an image manifest, one layer per signature; each layer is a
 *     simple-signing payload with the base64 signature in `dev.cosignproject.cosign/signature`;
 *   - `<repo>:sha256-<hex>.att`: one layer per DSSE envelope (`predicateType` annotation);
 *   - OCI 1.1 referrers: one manifest per Sigstore bundle v0.3, `artifactType` the bundle media type.
 * Layers also carry the full Sigstore bundle v0.3 in `dev.duallane.sigstore/bundle` so a verifier
 * needs nothing but the registry. cosign's own `dev.sigstore.cosign/bundle` holds its legacy Rekor
 * bundle (SignedEntryTimestamp + Payload); it is written only when the signature has a Rekor entry.
 */
export const ANNOTATIONS = {
  cosignSignature: 'dev.cosignproject.cosign/signature',
  cosignCertificate: 'dev.sigstore.cosign/certificate',
  cosignChain: 'dev.sigstore.cosign/chain',
  cosignRekorBundle: 'dev.sigstore.cosign/bundle',
  predicateType: 'predicateType',
  sigstoreBundle: 'dev.duallane.sigstore/bundle',
  bundleContent: 'dev.sigstore.bundle.content',
  bundlePredicateType: 'dev.sigstore.bundle.predicateType',
  created: 'org.opencontainers.image.created',
} as const;

/** Upper bound on signatures/attestations read per image: a registry must not make us loop forever. */
export const MAX_ATTACHED = 16;
/** Upper bound on one payload, envelope or bundle read from a registry. */
export const MAX_ATTACHED_BYTES = 1024 * 1024;

export function simpleSigningPayload(dockerReference: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

const simpleSigningSchema = z.object({
  critical: z.object({
    identity: z.object({ 'docker-reference': z.string().max(1024) }),
    image: z.object({ 'docker-manifest-digest': z.string().regex(/^sha256:[0-9a-f]{64}$/) }),
    type: z.literal('cosign container image signature'),
  }),
  optional: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** Parses a simple-signing payload. Only call on a payload whose signature has been verified. */
export function parseSimpleSigningPayload(payload: Buffer): { dockerReference: string; digest: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    throw new RegistryError('MANIFEST_INVALID', 'simple-signing payload is not JSON', { cause });
  }
  const r = simpleSigningSchema.safeParse(json);
  if (!r.success) throw new RegistryError('MANIFEST_INVALID', `not a cosign simple-signing payload: ${r.error.issues[0]?.message ?? ''}`);
  return { dockerReference: r.data.critical.identity['docker-reference'], digest: r.data.critical.image['docker-manifest-digest'] };
}

export interface ImageLocation {
  registry: string;
  repository: string;
  /** The manifest digest signatures are about. */
  digest: string;
}

export interface SignatureLayerInput {
  payload: Buffer;
  /** base64 signature over `payload`. */
  signature: string;
  /** Sigstore bundle v0.3 (JSON) holding the same signature. */
  bundle?: unknown;
  certificatePem?: string;
  /** cosign's legacy Rekor bundle, when the signature was logged. */
  rekorBundle?: unknown;
}

/** Adds a signature layer to `<repo>:sha256-<hex>.sig` (keeping the layers already there, as cosign does). */
export async function attachCosignSignature(client: RegistryClient, at: ImageLocation, input: SignatureLayerInput, signal?: AbortSignal): Promise<{ tag: string; digest: string }> {
  const annotations: Record<string, string> = { [ANNOTATIONS.cosignSignature]: input.signature };
  if (input.certificatePem) annotations[ANNOTATIONS.cosignCertificate] = input.certificatePem;
  if (input.rekorBundle) annotations[ANNOTATIONS.cosignRekorBundle] = JSON.stringify(input.rekorBundle);
  if (input.bundle) annotations[ANNOTATIONS.sigstoreBundle] = JSON.stringify(input.bundle);
  return appendLayer(client, at, '.sig', MEDIA_TYPES.cosignSimpleSigning, input.payload, annotations, signal);
}

/** Adds a DSSE envelope layer to `<repo>:sha256-<hex>.att`. */
export async function attachCosignAttestation(
  client: RegistryClient,
  at: ImageLocation,
  input: { envelope: unknown; predicateType: string; bundle?: unknown; certificatePem?: string },
  signal?: AbortSignal,
): Promise<{ tag: string; digest: string }> {
  // cosign writes an empty signature annotation on `.att` layers (the signature is inside the
  // envelope) and refuses a layer without one ("missing dev.cosignproject.cosign/signature").
  const annotations: Record<string, string> = { [ANNOTATIONS.cosignSignature]: '', [ANNOTATIONS.predicateType]: input.predicateType };
  if (input.certificatePem) annotations[ANNOTATIONS.cosignCertificate] = input.certificatePem;
  if (input.bundle) annotations[ANNOTATIONS.sigstoreBundle] = JSON.stringify(input.bundle);
  return appendLayer(client, at, '.att', MEDIA_TYPES.dsseEnvelope, Buffer.from(JSON.stringify(input.envelope)), annotations, signal);
}

/** Stores a Sigstore bundle v0.3 as an OCI 1.1 referrer of the image (cosign BUNDLE_SPEC). */
export async function attachSigstoreBundle(
  client: RegistryClient,
  at: ImageLocation & { subjectMediaType: string; subjectSize: number },
  bundle: unknown,
  meta: { content: 'message-signature' | 'dsse-envelope'; predicateType?: string; created?: string },
  signal?: AbortSignal,
): Promise<{ digest: string }> {
  const blob = Buffer.from(JSON.stringify(bundle));
  await client.pushBlob(at.registry, at.repository, EMPTY_JSON, signal);
  const layer = await client.pushBlob(at.registry, at.repository, blob, signal);
  const annotations: Record<string, string> = { [ANNOTATIONS.bundleContent]: meta.content };
  if (meta.predicateType) annotations[ANNOTATIONS.bundlePredicateType] = meta.predicateType;
  annotations[ANNOTATIONS.created] = meta.created ?? new Date().toISOString();
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: MEDIA_TYPES.sigstoreBundleV03,
    config: { mediaType: MEDIA_TYPES.ociEmpty, digest: sha256Digest(EMPTY_JSON), size: EMPTY_JSON.length },
    layers: [{ mediaType: MEDIA_TYPES.sigstoreBundleV03, digest: layer.digest, size: layer.size }],
    subject: { mediaType: at.subjectMediaType, digest: at.digest, size: at.subjectSize },
    annotations,
  };
  return client.pushReferrer(
    at.registry,
    at.repository,
    { body: Buffer.from(JSON.stringify(manifest)), mediaType: MEDIA_TYPES.ociManifest, artifactType: MEDIA_TYPES.sigstoreBundleV03, annotations },
    at.digest,
    signal,
  );
}

export interface FetchedSignature {
  payload: Buffer;
  signature: string | undefined;
  certificatePem: string | undefined;
  /** cosign's legacy Rekor bundle (parsed `dev.sigstore.cosign/bundle`); attacker-controlled. */
  rekorBundle: unknown;
  /** Parsed JSON of the layer's Sigstore bundle annotation; attacker-controlled until verified. */
  bundle: unknown;
}

/** The layers of `sha256-<hex>.sig`, payloads digest-checked; [] when the tag does not exist. */
export async function fetchCosignSignatures(client: RegistryClient, at: ImageLocation, signal?: AbortSignal): Promise<FetchedSignature[]> {
  const manifest = await getAttachedManifest(client, at, '.sig', signal);
  if (!manifest) return [];
  const out: FetchedSignature[] = [];
  for (const layer of manifest.layers.slice(0, MAX_ATTACHED)) {
    if (layer.mediaType !== MEDIA_TYPES.cosignSimpleSigning) continue;
    const payload = await client.getBlob(at.registry, at.repository, layer.digest, { maxBytes: MAX_ATTACHED_BYTES, signal });
    out.push({
      payload,
      signature: layer.annotations?.[ANNOTATIONS.cosignSignature],
      certificatePem: layer.annotations?.[ANNOTATIONS.cosignCertificate],
      rekorBundle: parseAnnotationJson(layer.annotations?.[ANNOTATIONS.cosignRekorBundle]),
      bundle: parseAnnotationJson(layer.annotations?.[ANNOTATIONS.sigstoreBundle]),
    });
  }
  return out;
}

export interface FetchedAttestation {
  /** Parsed DSSE envelope; attacker-controlled until verified. */
  envelope: unknown;
  predicateType: string | undefined;
  bundle: unknown;
  /** `.att` layers written by cosign keyless carry these instead of a Sigstore bundle. */
  certificatePem?: string | undefined;
  rekorBundle?: unknown;
  source: 'referrer' | 'att-tag';
}

/** DSSE attestations: Sigstore bundles among the referrers first, then the `.att` tag's layers. */
export async function fetchAttestations(client: RegistryClient, at: ImageLocation, signal?: AbortSignal): Promise<FetchedAttestation[]> {
  const out: FetchedAttestation[] = [];
  for (const b of await fetchSigstoreBundles(client, at, signal)) {
    if (b.content !== 'dsse-envelope') continue;
    const envelope = (b.bundle as { dsseEnvelope?: unknown } | null)?.dsseEnvelope;
    out.push({ envelope, predicateType: b.predicateType, bundle: b.bundle, source: 'referrer' });
  }
  const manifest = await getAttachedManifest(client, at, '.att', signal);
  for (const layer of manifest?.layers.slice(0, MAX_ATTACHED) ?? []) {
    if (layer.mediaType !== MEDIA_TYPES.dsseEnvelope) continue;
    const blob = await client.getBlob(at.registry, at.repository, layer.digest, { maxBytes: MAX_ATTACHED_BYTES, signal });
    out.push({
      envelope: parseAnnotationJson(blob.toString('utf8')),
      predicateType: layer.annotations?.[ANNOTATIONS.predicateType],
      bundle: parseAnnotationJson(layer.annotations?.[ANNOTATIONS.sigstoreBundle]),
      certificatePem: layer.annotations?.[ANNOTATIONS.cosignCertificate],
      rekorBundle: parseAnnotationJson(layer.annotations?.[ANNOTATIONS.cosignRekorBundle]),
      source: 'att-tag',
    });
  }
  return out;
}

/** Sigstore bundles attached as OCI referrers; content type from the annotation or the bundle itself. */
export async function fetchSigstoreBundles(
  client: RegistryClient,
  at: ImageLocation,
  signal?: AbortSignal,
): Promise<{ bundle: unknown; content: string | undefined; predicateType: string | undefined; digest: string }[]> {
  const refs = await client.referrers(at.registry, at.repository, at.digest, { artifactType: MEDIA_TYPES.sigstoreBundleV03, signal });
  const out = [];
  for (const d of refs.slice(0, MAX_ATTACHED)) {
    const m = await client.getManifest(at.registry, at.repository, d.digest, signal);
    const manifest = parseManifest(m.body);
    if (manifest.subject && manifest.subject.digest !== at.digest) continue; // a referrer of something else
    const layer = manifest.layers.find((l) => l.mediaType === MEDIA_TYPES.sigstoreBundleV03);
    if (!layer) continue;
    const blob = await client.getBlob(at.registry, at.repository, layer.digest, { maxBytes: MAX_ATTACHED_BYTES, signal });
    const bundle = parseAnnotationJson(blob.toString('utf8'));
    const b = bundle as { dsseEnvelope?: unknown; messageSignature?: unknown } | undefined;
    const content = manifest.annotations?.[ANNOTATIONS.bundleContent] ?? (b?.dsseEnvelope ? 'dsse-envelope' : b?.messageSignature ? 'message-signature' : undefined);
    out.push({ bundle, content, predicateType: manifest.annotations?.[ANNOTATIONS.bundlePredicateType], digest: d.digest });
  }
  return out;
}

async function getAttachedManifest(client: RegistryClient, at: ImageLocation, suffix: '.sig' | '.att', signal?: AbortSignal): Promise<ImageManifest | undefined> {
  try {
    const m = await client.getManifest(at.registry, at.repository, digestTag(at.digest, suffix), signal);
    return parseManifest(m.body);
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

async function appendLayer(
  client: RegistryClient,
  at: ImageLocation,
  suffix: '.sig' | '.att',
  mediaType: string,
  content: Buffer,
  annotations: Record<string, string>,
  signal?: AbortSignal,
): Promise<{ tag: string; digest: string }> {
  const tag = digestTag(at.digest, suffix);
  const existing = await getAttachedManifest(client, at, suffix, signal);
  const blob = await client.pushBlob(at.registry, at.repository, content, signal);
  const layers: Descriptor[] = (existing?.layers ?? []).filter((l) => l.digest !== blob.digest);
  layers.push({ mediaType, digest: blob.digest, size: blob.size, annotations });
  // cosign's config: an OCI image config whose rootfs lists the layers (diff_ids = layer digests).
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const cfg = await client.pushBlob(at.registry, at.repository, config, signal);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, size: cfg.size, digest: cfg.digest },
    layers,
  };
  const put = await client.putManifest(at.registry, at.repository, tag, Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest, signal);
  return { tag, digest: put.digest };
}

function parseManifest(body: Buffer): ImageManifest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new RegistryError('MANIFEST_INVALID', 'manifest is not JSON', { cause });
  }
  const r = imageManifestSchema.safeParse(json);
  if (!r.success) throw new RegistryError('MANIFEST_INVALID', `not an OCI image manifest: ${r.error.issues[0]?.message ?? ''}`);
  return r.data;
}

export { parseManifest };

/** Annotation JSON is attacker-controlled: bounded, and unparsable means absent. */
function parseAnnotationJson(text: string | undefined): unknown {
  if (text === undefined || text.length > MAX_ATTACHED_BYTES) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
