import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes for the admission webhook's setup (a request itself never throws to the caller: a bad
 * AdmissionReview gets an HTTP 400, a policy failure a denial). Tests assert codes, never messages.
 */
export const ADMISSION_USAGE_CODES = ['TLS_INVALID', 'POLICIES_INVALID', 'NO_POLICIES', 'BAD_USAGE'] as const;
export const ADMISSION_ENVIRONMENT_CODES = ['LISTEN_FAILED'] as const;

export type AdmissionErrorCode = (typeof ADMISSION_USAGE_CODES)[number] | (typeof ADMISSION_ENVIRONMENT_CODES)[number];

const outcomes = new Map<string, ErrorOutcome>([
  ...ADMISSION_USAGE_CODES.map((c) => [c, 'usage'] as const),
  ...ADMISSION_ENVIRONMENT_CODES.map((c) => [c, 'environment'] as const),
]);

export class AdmissionError extends DuallaneError<AdmissionErrorCode> {
  get outcome(): ErrorOutcome {
    return outcomes.get(this.code) ?? 'usage';
  }
}
