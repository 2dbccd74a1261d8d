import { InputError } from '../config/index.js';
import type { Signer } from '../attest/index.js';
import { attestOciSubject, signOciSubject, type OciSubject } from '../policy/bundle-cosign.js';
import { parseImageReference, type RegistryClient } from '../registry/index.js';

/**
 * `sign --image REF` and `attest --image REF`: signatures and attestations stored next to an image
 * the way cosign stores them (the `.sig`/`.att` tags and Sigstore bundle referrers, see
 * src/registry/cosign-layout.ts), so `cosign verify` and `cosign verify-attestation` accept them.
 * A tag is resolved once to the manifest digest, and only that digest is signed.
 */
export async function resolveImageSubject(client: RegistryClient, reference: string): Promise<OciSubject & { reference: string }> {
  const ref = parseImageReference(reference);
  const m = await client.getManifest(ref.registry, ref.repository, ref.digest ?? ref.tag ?? 'latest');
  return { registry: ref.registry, repository: ref.repository, digest: m.digest, mediaType: m.mediaType, size: m.body.length, reference: `${ref.registry}/${ref.repository}@${m.digest}` };
}

export async function signImage(client: RegistryClient, reference: string, signer: Signer): Promise<Record<string, unknown>> {
  const subject = await resolveImageSubject(client, reference);
  const r = await signOciSubject(client, subject, signer);
  return { image: subject.reference, digest: subject.digest, sigTag: r.sigTag, referrers: r.referrers };
}

export async function attestImage(
  client: RegistryClient,
  reference: string,
  predicateType: string,
  predicate: Record<string, unknown>,
  signer: Signer,
): Promise<Record<string, unknown>> {
  const subject = await resolveImageSubject(client, reference);
  const r = await attestOciSubject(client, subject, predicateType, predicate, signer);
  return { image: subject.reference, digest: subject.digest, predicateType, attTag: r.attTag, referrers: [r.referrer] };
}

/** Exactly one of FILE (with --bundle) or --image REF. */
export function assertOneSubject(file: string | undefined, opts: { image?: string; bundle?: string }): void {
  if (file !== undefined && opts.image !== undefined) throw new InputError('BAD_USAGE', 'give FILE or --image REF, not both');
  if (file === undefined && opts.image === undefined) throw new InputError('BAD_USAGE', 'give FILE (with --bundle OUT) or --image REGISTRY/REPO[:TAG|@sha256:...]');
  if (file !== undefined && opts.bundle === undefined) throw new InputError('BAD_USAGE', "required option '--bundle <out>' not specified");
  if (opts.image !== undefined && opts.bundle !== undefined) throw new InputError('BAD_USAGE', '--bundle is for FILE; an image signature is stored in the registry');
}
