import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MEDIA_TYPES } from '../registry/index.js';

/**
 * Sigstore bundles for what cosign writes without one: `.sig` layers (simple-signing payload and a
 * base64 signature annotation) and `.att` layers (a bare DSSE envelope), each optionally with the
 * keyless certificate and cosign's legacy Rekor bundle in annotations. Every field is copied, none
 * is trusted: the attest verifier checks the signature and, for keyless, the SET, the chain, the SCT
 * and the identity. A helper returns undefined when the layer lacks what its form needs.
 */
export type LegacyContent = { kind: 'message'; payload: Buffer; signature: string } | { kind: 'dsse'; envelope: unknown };

export interface LegacyMaterial {
  certificatePem?: string | undefined;
  rekorBundle?: unknown;
}

const envelopeSchema = z.object({
  payloadType: z.string().max(256),
  payload: z.string().max(4 * 1024 * 1024),
  signatures: z.array(z.object({ sig: z.string().max(4096), keyid: z.string().max(1024).optional() })).min(1).max(16),
});

function contentOf(c: LegacyContent): Record<string, unknown> | undefined {
  if (c.kind === 'message') {
    return { messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(c.payload).digest('base64') }, signature: c.signature } };
  }
  const env = envelopeSchema.safeParse(c.envelope);
  return env.success ? { dsseEnvelope: env.data } : undefined;
}

/** Key-signed, no transparency log (`cosign sign|attest --key` with an empty signing config). */
export function bundleFromKeySigned(c: LegacyContent): unknown {
  const content = contentOf(c);
  if (!content) return undefined;
  return {
    mediaType: MEDIA_TYPES.sigstoreBundleV03,
    verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    ...content,
  };
}

// cosign's legacy Rekor bundle, as it sits in the `dev.sigstore.cosign/bundle` annotation.
const legacyRekorBundleSchema = z.object({
  SignedEntryTimestamp: z.string().max(4096),
  Payload: z.object({
    body: z.string().max(256 * 1024),
    integratedTime: z.number().int().nonnegative(),
    logIndex: z.number().int().nonnegative(),
    logID: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});

/** cosign v2 keyless: a bundle v0.1 (inclusion promise, certificate chain) from the annotations. */
export function bundleFromLegacyKeyless(c: LegacyContent, m: LegacyMaterial): unknown {
  const rb = legacyRekorBundleSchema.safeParse(m.rekorBundle);
  const content = contentOf(c);
  if (!rb.success || !content || !m.certificatePem) return undefined;
  const der = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(m.certificatePem)?.[1]?.replace(/\s+/g, '');
  if (!der) return undefined;
  let kind: { kind?: unknown; apiVersion?: unknown };
  try {
    kind = JSON.parse(Buffer.from(rb.data.Payload.body, 'base64').toString('utf8')) as typeof kind;
  } catch {
    return undefined;
  }
  if (typeof kind.kind !== 'string' || typeof kind.apiVersion !== 'string') return undefined;
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates: [{ rawBytes: der }] },
      tlogEntries: [
        {
          logIndex: String(rb.data.Payload.logIndex),
          logId: { keyId: Buffer.from(rb.data.Payload.logID, 'hex').toString('base64') },
          kindVersion: { kind: kind.kind, version: kind.apiVersion },
          integratedTime: String(rb.data.Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: rb.data.SignedEntryTimestamp },
          canonicalizedBody: rb.data.Payload.body,
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    ...content,
  };
}
