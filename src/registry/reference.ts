import { RegistryError } from './registry-error.js';

/** A parsed image reference: `registry/repository[:tag][@sha256:hex]`. */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const REPO_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export function isSha256Digest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/**
 * Parses an image reference the way Docker does: a first component with a `.` or `:` or equal to
 * `localhost` names a registry, otherwise `docker.io` (with `library/` for single names). Only
 * sha256 digests are accepted; anything else is BAD_REFERENCE.
 */
export function parseImageReference(ref: string): ImageReference {
  const bad = (why: string): never => {
    throw new RegistryError('BAD_REFERENCE', `invalid image reference ${JSON.stringify(ref.slice(0, 300))}: ${why}`);
  };
  if (ref.length === 0 || ref.length > 1024) bad('empty or too long');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) bad('digest must be sha256:<64 lowercase hex>');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) bad('invalid tag');
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  for (const p of parts) if (!REPO_COMPONENT_RE.test(p)) bad(`invalid repository component ${JSON.stringify(p)}`);
  const out: ImageReference = { registry, repository: parts.join('/') };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** `registry/repository[:tag][@digest]`, the canonical form of a reference. */
export function formatImageReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The tag under which cosign and the OCI referrers tag schema store things about `digest`. */
export function digestTag(digest: string, suffix = ''): string {
  if (!DIGEST_RE.test(digest)) throw new RegistryError('BAD_REFERENCE', `not a sha256 digest: ${digest.slice(0, 80)}`);
  return digest.replace(':', '-') + suffix;
}
