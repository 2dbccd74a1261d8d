import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Reason codes for the policy module. Tests assert codes, never messages.
 * rejected (exit 1): a test expectation differed, a resource was denied by `apply`, lint found errors.
 * usage (exit 2): a policy, resource, test or values file could not be read as what it claims to be.
 */
export const POLICY_REJECTION_CODES = ['TESTS_FAILED', 'POLICY_VIOLATION', 'LINT_FAILED'] as const;
export const POLICY_USAGE_CODES = ['POLICY_UNREADABLE', 'POLICY_INVALID', 'RESOURCE_INVALID', 'TEST_FILE_INVALID', 'VALUES_INVALID', 'NO_TESTS_FOUND', 'BAD_USAGE'] as const;

export type PolicyErrorCode = (typeof POLICY_REJECTION_CODES)[number] | (typeof POLICY_USAGE_CODES)[number];

const outcomes = new Map<string, ErrorOutcome>([
  ...POLICY_REJECTION_CODES.map((c) => [c, 'rejected'] as const),
  ...POLICY_USAGE_CODES.map((c) => [c, 'usage'] as const),
]);

export class PolicyError extends DuallaneError<PolicyErrorCode> {
  get outcome(): ErrorOutcome {
    return outcomes.get(this.code) ?? 'usage';
  }
}
