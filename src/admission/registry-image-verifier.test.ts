import { describe, expect, it } from 'vitest';
import type { ImageVerifyRequest } from '../policy/image-verifier.js';
import { parseImageReference } from '../policy/images.js';
import type { RegistryClient } from '../registry/index.js';
import { RegistryImageVerifier } from './registry-image-verifier.js';

// The digest is pinned, so no registry call is needed; an attestor set without entries fails
// (POLICY_INVALID) and that failure is cached, which lets the test watch the cache keys.
const image = `registry.test/app@sha256:${'a'.repeat(64)}`;
const client = { timeoutMs: 1000 } as unknown as RegistryClient;

function request(attestors: ImageVerifyRequest['attestors'], attestations: ImageVerifyRequest['attestations']): ImageVerifyRequest {
  return { image, info: parseImageReference(image)!, attestors, attestations, rule: {}, policy: 'p', ruleName: 'r' };
}

describe('RegistryImageVerifier cache keys', () => {
  it('treats every empty attestations list as the same spec, and a different attestor spec as a different one', async () => {
    const v = new RegistryImageVerifier({ client });
    const attestors = [{ entries: [] }];
    const first = await v.verifyImage(request(attestors, []));
    expect(first).toMatchObject({ status: 'fail', reason: 'POLICY_INVALID' });
    // A fresh `[]` per request (as the engine passes for an absent list) hits the same entry.
    await v.verifyImage(request(attestors, []));
    expect(v.cache.hits).toBe(1);
    expect(v.cache.size).toBe(1);
    // Different content is a different key, even when both lists are freshly built.
    const other = await v.verifyImage(request([{ entries: [], count: 1 }], []));
    expect(other).toMatchObject({ status: 'fail' });
    expect(v.cache.size).toBe(2);
    await v.verifyImage(request([], [{ type: 'https://slsa.dev/provenance/v1' }]));
    expect(v.cache.size).toBe(3);
  });
});
