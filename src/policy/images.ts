import type { Resource } from './types.js';

/**
 * Kyverno's `images` context: containers, initContainers and ephemeralContainers keyed by container
 * name, each with registry, path, name, tag, digest and reference. Docker Hub images normalise to
 * `docker.io`; a reference without tag or digest gets tag `latest`.
 */
export interface ImageInfo {
  registry: string;
  path: string;
  name: string;
  tag?: string;
  digest?: string;
  reference: string;
  referenceWithTag: string;
}

export function parseImageReference(image: string): ImageInfo | undefined {
  let rest = image.trim();
  if (rest === '' || /\s/.test(rest)) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry = 'docker.io';
  let path = rest;
  const first = rest.split('/')[0]!;
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    path = rest.slice(first.length + 1);
  }
  if (!path) return undefined;
  if (!tag && !digest) tag = 'latest';
  const name = path.split('/').pop()!;
  const base = `${registry}/${path}`;
  const withTag = tag ? `${base}:${tag}` : base;
  return {
    registry,
    path,
    name,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
    reference: digest ? `${base}@${digest}` : withTag,
    referenceWithTag: withTag,
  };
}

/** Where the pod spec sits for each kind Kyverno knows. */
export function podSpecOf(resource: Resource): Record<string, unknown> | undefined {
  const spec = resource['spec'] as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  switch (resource.kind) {
    case 'Pod':
      return spec;
    case 'CronJob': {
      const jt = spec['jobTemplate'] as { spec?: { template?: { spec?: Record<string, unknown> } } } | undefined;
      return jt?.spec?.template?.spec;
    }
    default: {
      const t = spec['template'] as { spec?: Record<string, unknown> } | undefined;
      return t?.spec;
    }
  }
}

export type ImagesContext = Record<'containers' | 'initContainers' | 'ephemeralContainers', Record<string, ImageInfo>>;

export interface ContainerImage {
  field: 'containers' | 'initContainers' | 'ephemeralContainers';
  container: string;
  image: string;
  info: ImageInfo | undefined;
}

export function containerImages(resource: Resource): ContainerImage[] {
  const spec = podSpecOf(resource);
  const out: ContainerImage[] = [];
  if (!spec) return out;
  for (const field of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    for (const c of list as { name?: string; image?: string }[]) {
      if (!c || typeof c.image !== 'string') continue;
      out.push({ field, container: String(c.name ?? ''), image: c.image, info: parseImageReference(c.image) });
    }
  }
  return out;
}

const imagesCache = new WeakMap<Resource, Partial<ImagesContext>>();

/** Cached per resource object (resources are not mutated in place; mutations produce new objects). */
export function imagesContext(resource: Resource): Partial<ImagesContext> {
  const cached = imagesCache.get(resource);
  if (cached) return cached;
  const ctx: Partial<ImagesContext> = {};
  imagesCache.set(resource, ctx);
  for (const c of containerImages(resource)) {
    if (!c.info) continue;
    (ctx[c.field] ??= {})[c.container] = c.info;
  }
  return ctx;
}
