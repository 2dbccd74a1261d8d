import { getMetrics } from '../observability/index.js';
import type { HandoffErrorCode } from './handoff-error.js';

/** The catalog's bounded reason values (observability/prometheus/metrics.yaml). */
const REASONS: Partial<Record<HandoffErrorCode, string>> = {
  SIGNATURE_INVALID: 'signature_invalid',
  UNTRUSTED_SIGNER: 'untrusted_signer',
  SUBJECT_MISMATCH: 'subject_mismatch',
  ARTIFACT_TAMPERED: 'subject_mismatch',
  REPLAY: 'replay',
  EXPIRED: 'expired',
  SCOPE_VIOLATION: 'scope_violation',
  // A base off the target would publish history the scope policy never judged.
  BASE_NOT_ON_TARGET: 'scope_violation',
  PATCH_DOES_NOT_APPLY: 'apply_conflict',
  BASE_COMMIT_MISSING: 'apply_conflict',
  PATCH_MALFORMED: 'malformed',
  PREDICATE_INVALID: 'malformed',
  ARTIFACT_NOT_CANONICAL: 'malformed',
};

// Metrics must never fail a handoff: a catalog problem is a bug to see in tests, not an outage.
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* ignored */
  }
}

export const handoffMetrics = {
  proposed(lane: string): void {
    safely(() => getMetrics().counter('duallane_handoffs_proposed_total').inc({ lane }));
  },
  accepted(lane: string, proposedAt: string, forge: string): void {
    safely(() => {
      const m = getMetrics();
      m.counter('duallane_handoffs_accepted_total').inc({ lane });
      m.counter('duallane_pull_requests_opened_total').inc({ forge });
      m.histogram('duallane_handoff_propose_to_pr_duration_seconds').observe({ lane }, Math.max(0, (Date.now() - Date.parse(proposedAt)) / 1000));
    });
  },
  rejected(lane: string, code: HandoffErrorCode): void {
    safely(() => getMetrics().counter('duallane_handoffs_rejected_total').inc({ lane, reason: REASONS[code] ?? 'other' }));
  },
};
