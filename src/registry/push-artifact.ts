import { RegistryClient } from './oci-client.js';
import { MEDIA_TYPES } from './oci-types.js';

export interface ArtifactInput {
  config: { mediaType: string; data: Buffer };
  layers: { mediaType: string; data: Buffer; annotations?: Record<string, string> }[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface PushedArtifact {
  digest: string;
  mediaType: string;
  size: number;
  manifest: Buffer;
}

/** Pushes blobs then an OCI image manifest under `tag`: an image or any OCI artifact. */
export async function pushArtifact(
  client: RegistryClient,
  registry: string,
  repository: string,
  tag: string,
  input: ArtifactInput,
  signal?: AbortSignal,
): Promise<PushedArtifact> {
  const cfg = await client.pushBlob(registry, repository, input.config.data, signal);
  const layers = [];
  for (const l of input.layers) {
    const b = await client.pushBlob(registry, repository, l.data, signal);
    layers.push({ mediaType: l.mediaType, digest: b.digest, size: b.size, ...(l.annotations ? { annotations: l.annotations } : {}) });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      ...(input.artifactType ? { artifactType: input.artifactType } : {}),
      config: { mediaType: input.config.mediaType, digest: cfg.digest, size: cfg.size },
      layers,
      ...(input.annotations ? { annotations: input.annotations } : {}),
    }),
  );
  const put = await client.putManifest(registry, repository, tag, manifest, MEDIA_TYPES.ociManifest, signal);
  return { digest: put.digest, mediaType: MEDIA_TYPES.ociManifest, size: manifest.length, manifest };
}
