import { z } from 'zod';

/**
 * AdmissionReview v1 as the API server sends it. The body is untrusted (anyone who can reach the
 * port can POST): only the fields we use are read, each is bounded, and anything else is ignored.
 */
const groupVersionKind = z.object({ group: z.string().max(253), version: z.string().max(63), kind: z.string().max(63) });

export const admissionReviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.object({
    uid: z.string().min(1).max(128),
    kind: groupVersionKind,
    resource: z.object({ group: z.string().max(253), version: z.string().max(63), resource: z.string().max(253) }).optional(),
    subResource: z.string().max(253).optional(),
    name: z.string().max(253).optional(),
    namespace: z.string().max(63).optional(),
    operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
    userInfo: z
      .object({
        username: z.string().max(512).optional(),
        uid: z.string().max(128).optional(),
        groups: z.array(z.string().max(512)).max(256).optional(),
      })
      .optional(),
    object: z.record(z.string(), z.unknown()).nullable().optional(),
    oldObject: z.record(z.string(), z.unknown()).nullable().optional(),
    dryRun: z.boolean().optional(),
  }),
});

export type AdmissionReview = z.infer<typeof admissionReviewSchema>;
export type AdmissionRequest = AdmissionReview['request'];

/**
 * Denials the webhook makes before or instead of policy evaluation: OBJECT_TOO_DEEP (object or
 * oldObject nested past the engine's bound), UNDECIDED (evaluation failed or missed the deadline;
 * failing closed).
 */
export const ADMISSION_DENIAL_CODES = ['OBJECT_TOO_DEEP', 'UNDECIDED'] as const;
export type AdmissionDenialCode = (typeof ADMISSION_DENIAL_CODES)[number];

export interface AdmissionDecision {
  allowed: boolean;
  /** Denial message: names image, policy, rule and reason. */
  message?: string;
  /** Stable reason code of a denial the webhook makes itself (not a policy's), in status.details.causes[0].reason. */
  code?: AdmissionDenialCode;
  warnings: string[];
}

/** Kubernetes shows at most a few warnings and truncates long ones; keep them short and bounded. */
const MAX_WARNINGS = 16;
const MAX_WARNING_CHARS = 512;
/** The API server stores and shows this message; a pod with hundreds of bad images must not make it huge. */
const MAX_MESSAGE_CHARS = 8192;

function bounded(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function toAdmissionResponse(uid: string, d: AdmissionDecision): Record<string, unknown> {
  const warnings = d.warnings.slice(0, MAX_WARNINGS).map((w) => bounded(w, MAX_WARNING_CHARS));
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed: d.allowed,
      ...(d.allowed
        ? {}
        : { status: { code: 403, reason: 'Forbidden', message: bounded(d.message ?? 'denied by policy', MAX_MESSAGE_CHARS), ...(d.code ? { details: { causes: [{ reason: d.code }] } } : {}) } }),
      ...(warnings.length > 0 ? { warnings } : {}),
    },
  };
}
