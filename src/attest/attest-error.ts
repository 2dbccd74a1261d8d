import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes for signing and verification. Tests assert codes, never messages.
 * Rejections (exit 1) say why a signature or attestation is not acceptable;
 * usage codes (exit 2) say the input could not be read as what it claims to be.
 */
export const REJECTION_CODES = [
  'SUBJECT_MISMATCH',
  'SIGNATURE_INVALID',
  'UNTRUSTED_SIGNER',
  'IDENTITY_MISMATCH',
  'ISSUER_MISMATCH',
  'PREDICATE_TYPE_MISMATCH',
  'BUILDER_MISMATCH',
  'SOURCE_MISMATCH',
  'SIGNER_WORKFLOW_MISMATCH',
  'TLOG_INVALID',
  'TLOG_MISSING',
  'TIMESTAMP_MISSING',
  'TIMESTAMP_INVALID',
  'CERTIFICATE_INVALID',
  'CERTIFICATE_EXPIRED',
  'SCT_INVALID',
  'PAYLOAD_INVALID',
] as const;
export const USAGE_CODES = ['BUNDLE_MALFORMED', 'INPUT_TOO_LARGE', 'INPUT_UNREADABLE', 'KEY_INVALID', 'KEY_EXISTS', 'BAD_USAGE'] as const;
export const ENVIRONMENT_CODES = ['TRUST_ROOT_UNAVAILABLE', 'SIGNING_SERVICE_UNAVAILABLE', 'IDENTITY_TOKEN_UNAVAILABLE'] as const;

export type AttestErrorCode =
  | (typeof REJECTION_CODES)[number]
  | (typeof USAGE_CODES)[number]
  | (typeof ENVIRONMENT_CODES)[number];

const outcomes = new Map<string, ErrorOutcome>([
  ...REJECTION_CODES.map((c) => [c, 'rejected'] as const),
  ...USAGE_CODES.map((c) => [c, 'usage'] as const),
  ...ENVIRONMENT_CODES.map((c) => [c, 'environment'] as const),
]);

export class AttestError extends DuallaneError<AttestErrorCode> {
  get outcome(): ErrorOutcome {
    return outcomes.get(this.code) ?? 'rejected';
  }
}
