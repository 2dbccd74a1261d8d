import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/**
 * Codes for the observability module. Catalog and payload problems are usage errors (the input file
 * or request body is wrong); a label value outside the catalog's bounded set is a programming error
 * that we refuse loudly (rejected) rather than let it create an unbounded series.
 */
export const OBSERVABILITY_CODES = {
  CATALOG_UNREADABLE: 'usage',
  CATALOG_INVALID: 'usage',
  METRIC_UNKNOWN: 'rejected',
  METRIC_TYPE_MISMATCH: 'rejected',
  LABEL_MISSING: 'rejected',
  LABEL_UNKNOWN: 'rejected',
  LABEL_VALUE_UNBOUNDED: 'rejected',
  ALERT_PAYLOAD_INVALID: 'usage',
  TRACING_CONFIG_INVALID: 'usage',
  DASHBOARD_OUT_OF_DATE: 'rejected',
} as const satisfies Record<string, ErrorOutcome>;

export type ObservabilityErrorCode = keyof typeof OBSERVABILITY_CODES;

export class ObservabilityError extends DuallaneError<ObservabilityErrorCode> {
  get outcome(): ErrorOutcome {
    return OBSERVABILITY_CODES[this.code];
  }
}
