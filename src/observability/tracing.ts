import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { isDuallaneError } from '../config/index.js';
import { DUALLANE_VERSION } from './version.js';

/** The spans duallane emits. One name per step so traces group the same way in every backend. */
export type DuallaneSpanName =
  | 'duallane.propose'
  | 'duallane.verify'
  | 'duallane.accept'
  | 'duallane.accept.step'
  | 'duallane.policy.evaluate'
  | 'duallane.admission.review';

/** Attribute keys; the handoff id is fine on a span (traces are per-event), never on a metric. */
export const SPAN_ATTRIBUTES = {
  lane: 'duallane.lane',
  handoffId: 'duallane.handoff.id',
  step: 'duallane.step',
  policy: 'duallane.policy',
  result: 'duallane.result',
  reason: 'duallane.reason',
} as const;

export interface DuallaneSpanAttributes {
  lane?: string;
  handoffId?: string;
  /** For duallane.accept.step: verify-signer, verify-subject, single-use, expiry, scope, apply, push, open-pr, label, attest-applied. */
  step?: string;
  policy?: string;
  /** Any further attributes, already namespaced by the caller (never secrets). */
  extra?: Attributes;
}

export interface SpanHandle {
  /** Overrides the result recorded on success (e.g. 'deny' for an admission decision). */
  setResult(result: string, reason?: string): void;
  setAttribute(key: string, value: string | number | boolean): void;
  readonly span: Span;
}

/**
 * Runs `fn` inside a span. On return the span gets result=success (or what `setResult` said); on a
 * throw it gets result=rejected (a DuallaneError whose outcome is rejected) or error, the error code
 * as reason, the exception, and ERROR status, and the error is re-thrown unchanged.
 * Without a registered provider (no initTracing) this costs a no-op span.
 */
export async function withSpan<T>(name: DuallaneSpanName, attrs: DuallaneSpanAttributes, fn: (span: SpanHandle) => Promise<T> | T): Promise<T> {
  const tracer = trace.getTracer('duallane', DUALLANE_VERSION);
  return tracer.startActiveSpan(name, { attributes: toAttributes(attrs) }, async (span) => {
    let result: string | undefined;
    const handle: SpanHandle = {
      span,
      setResult(r, reason) {
        result = r;
        if (reason !== undefined) span.setAttribute(SPAN_ATTRIBUTES.reason, reason);
      },
      setAttribute(k, v) {
        span.setAttribute(k, v);
      },
    };
    try {
      const value = await fn(handle);
      span.setAttribute(SPAN_ATTRIBUTES.result, result ?? 'success');
      return value;
    } catch (e) {
      const rejected = isDuallaneError(e) && e.outcome === 'rejected';
      span.setAttribute(SPAN_ATTRIBUTES.result, rejected ? 'rejected' : 'error');
      if (isDuallaneError(e)) span.setAttribute(SPAN_ATTRIBUTES.reason, e.code);
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: SpanStatusCode.ERROR, message: isDuallaneError(e) ? e.code : 'error' });
      throw e;
    } finally {
      span.end();
    }
  });
}

function toAttributes(a: DuallaneSpanAttributes): Attributes {
  const out: Attributes = { ...(a.extra ?? {}) };
  if (a.lane !== undefined) out[SPAN_ATTRIBUTES.lane] = a.lane;
  if (a.handoffId !== undefined) out[SPAN_ATTRIBUTES.handoffId] = a.handoffId;
  if (a.step !== undefined) out[SPAN_ATTRIBUTES.step] = a.step;
  if (a.policy !== undefined) out[SPAN_ATTRIBUTES.policy] = a.policy;
  return out;
}

/**
 * Step spans for work written as one sequence with progress marks (accept): each `mark(step)` records
 * a duallane.accept.step span covering the time since the previous mark, as a child of the active
 * span. No restructuring of the traced code, and with no provider registered it is a no-op.
 */
export function stepSpans(name: DuallaneSpanName, attrs: DuallaneSpanAttributes): (step: string) => void {
  const tracer = trace.getTracer('duallane', DUALLANE_VERSION);
  let since = Date.now();
  return (step) => {
    const now = Date.now();
    tracer.startSpan(name, { startTime: since, attributes: { ...toAttributes(attrs), [SPAN_ATTRIBUTES.step]: step, [SPAN_ATTRIBUTES.result]: 'success' } }).end(now);
    since = now;
  };
}

/** Named helpers so call sites read as what they trace. */
export const traceSpans = {
  propose: <T>(a: { lane: string; handoffId?: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.propose', a, fn),
  verify: <T>(a: { lane: string; handoffId?: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.verify', a, fn),
  accept: <T>(a: { lane: string; handoffId: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.accept', a, fn),
  acceptStep: <T>(step: string, a: { lane: string; handoffId: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.accept.step', { ...a, step }, fn),
  policy: <T>(a: { policy: string; handoffId?: string; lane?: string }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.policy.evaluate', a, fn),
  admission: <T>(a: { policy?: string; extra?: Attributes }, fn: (s: SpanHandle) => Promise<T> | T) => withSpan('duallane.admission.review', a, fn),
};

