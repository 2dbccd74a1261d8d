import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MEDIA_TYPES, pushArtifact, type RegistryClient } from '../../src/registry/index.js';

/**
 * A tiny but real OCI image: a config blob and one gzipped layer holding one file. `seed` makes the
 * content (and so the digest) unique per test image.
 */
export async function pushTestImage(client: RegistryClient, registry: string, repository: string, tag: string, seed: string) {
  const file = Buffer.from(`hello from ${seed}\n`);
  const tar = ustarOneFile('hello.txt', file);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello.txt'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] },
    }),
  );
  return pushArtifact(client, registry, repository, tag, {
    config: { mediaType: MEDIA_TYPES.ociConfig, data: config },
    layers: [{ mediaType: MEDIA_TYPES.ociLayerTarGzip, data: layer }],
  });
}

function ustarOneFile(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}
