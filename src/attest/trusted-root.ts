import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import { AttestError } from './attest-error.js';
import { readAttestInput } from './bundle-input.js';

/** Reads and validates a trusted_root.json (Sigstore's TrustedRoot message); returns its JSON. */
export async function loadTrustedRootFile(path: string): Promise<object> {
  const text = await readAttestInput(path, 16 * 1024 * 1024, 'trusted root');
  parseTrustedRoot(text, path);
  return JSON.parse(text) as object;
}

export function parseTrustedRoot(text: string | object, label = 'trusted root'): TrustedRoot {
  try {
    const json = typeof text === 'string' ? JSON.parse(text) : text;
    const root = TrustedRoot.fromJSON(json);
    if (root.certificateAuthorities.length === 0 && root.tlogs.length === 0 && root.timestampAuthorities.length === 0) {
      throw new Error('it names no certificate authority, transparency log or timestamp authority');
    }
    return root;
  } catch (cause) {
    throw new AttestError('BAD_USAGE', `${label} is not a Sigstore trusted root: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Sigstore's public-good trusted root through TUF. Without network this fails; say so plainly and
 * point at the offline alternative instead of surfacing a fetch stack.
 */
export async function publicGoodTrustedRoot(opts: { cachePath?: string; timeoutMs?: number } = {}): Promise<TrustedRoot> {
  try {
    // TUF (and its HTTP client) loads only when the public-good root is actually needed.
    const { getTrustedRoot } = await import('@sigstore/tuf');
    return await getTrustedRoot({ cachePath: opts.cachePath, timeout: opts.timeoutMs ?? 5000, retry: 0 });
  } catch (cause) {
    throw new AttestError(
      'TRUST_ROOT_UNAVAILABLE',
      "cannot reach Sigstore's public-good TUF repository to fetch the trusted root; pass --trusted-root FILE to verify offline",
      { cause },
    );
  }
}

export function trustMaterialFrom(root: TrustedRoot): TrustMaterial {
  return toTrustMaterial(root);
}
