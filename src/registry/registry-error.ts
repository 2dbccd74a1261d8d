import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes for talking to an OCI registry. Tests assert codes, never messages.
 * Everything a registry returns is attacker-controlled: a digest that does not match its content,
 * a response larger than the limit or a malformed manifest is a rejection, not an environment fault.
 */
export const REGISTRY_REJECTION_CODES = ['DIGEST_MISMATCH', 'TOO_LARGE', 'MANIFEST_INVALID', 'NOT_FOUND'] as const;
export const REGISTRY_USAGE_CODES = ['BAD_REFERENCE', 'CONFIG_INVALID'] as const;
export const REGISTRY_ENVIRONMENT_CODES = ['UNREACHABLE', 'TIMEOUT', 'UNAUTHORIZED', 'PROTOCOL_ERROR'] as const;

export type RegistryErrorCode =
  | (typeof REGISTRY_REJECTION_CODES)[number]
  | (typeof REGISTRY_USAGE_CODES)[number]
  | (typeof REGISTRY_ENVIRONMENT_CODES)[number];

const outcomes = new Map<string, ErrorOutcome>([
  ...REGISTRY_REJECTION_CODES.map((c) => [c, 'rejected'] as const),
  ...REGISTRY_USAGE_CODES.map((c) => [c, 'usage'] as const),
  ...REGISTRY_ENVIRONMENT_CODES.map((c) => [c, 'environment'] as const),
]);

export class RegistryError extends DuallaneError<RegistryErrorCode> {
  get outcome(): ErrorOutcome {
    return outcomes.get(this.code) ?? 'environment';
  }
}
