import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { getMetrics, renderMetrics, traceSpans, type DuallaneMetrics } from '../observability/index.js';
import type { ImageVerifier } from '../policy/image-verifier.js';
import type { Policy } from '../policy/types.js';
import { admissionReviewSchema, toAdmissionResponse, type AdmissionDecision } from './admission-review.js';
import { decideAdmission, prepareAdmissionPolicies, type PolicyVerdict } from './decide.js';

export interface AdmissionAppOptions {
  policies: Policy[];
  imageVerifier?: ImageVerifier;
  failurePolicy?: 'Fail' | 'Ignore';
  /** PEM certificate and key: the app listens with HTTPS (the API server accepts nothing else). */
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Largest AdmissionReview accepted (default 3 MiB, the API server's own request limit). */
  bodyLimit?: number;
  /** Deadline for one review; past it the request is denied (fail-closed). Default 9 s (< the API server's 10 s). */
  reviewTimeoutMs?: number;
  metrics?: DuallaneMetrics;
  /** Fastify's own request log (off by default). */
  logger?: boolean;
  /** One line per denial or warning (uid, kind, namespace/name, reasons); createLogger() in production. */
  log?: Logger;
}

/**
 * The ValidatingAdmissionWebhook as a Fastify app: `POST /validate` (AdmissionReview v1),
 * `GET /healthz`, `GET /metrics`. Tests drive it with `app.inject` and through a real HTTPS listener.
 * A malformed review is answered 400 with every problem's path; the decision itself is always an
 * AdmissionReview (allowed or denied), never an HTTP error, so the API server's failurePolicy only
 * comes into play when the webhook is unreachable.
 */
export function buildAdmissionApp(opts: AdmissionAppOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 3 * 1024 * 1024,
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
  }) as unknown as FastifyInstance;
  const metrics = opts.metrics ?? getMetrics();
  const timeoutMs = opts.reviewTimeoutMs ?? 9000;
  const decideOpts = { ...opts, policies: prepareAdmissionPolicies(opts.policies) };

  app.get('/healthz', async () => ({ ok: true, policies: opts.policies.map((p) => p.metadata.name) }));

  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await renderMetrics(metrics);
    return reply.type(contentType).send(body);
  });

  app.post('/validate', async (req, reply) => {
    const started = process.hrtime.bigint();
    const parsed = admissionReviewSchema.safeParse(req.body);
    if (!parsed.success) {
      return reply.code(400).send({
        error: 'not an AdmissionReview v1',
        problems: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const review = parsed.data;
    let decision: AdmissionDecision;
    let verdicts: PolicyVerdict[] = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`review not decided within ${timeoutMs} ms`)), timeoutMs);
      });
      const r = review.request;
      ({ decision, verdicts } = await traceSpans.admission({ extra: { 'duallane.admission.kind': r.kind.kind, 'duallane.admission.operation': r.operation } }, async (span) => {
        const out = await Promise.race([decideAdmission(r, decideOpts), timeout]);
        span.setResult(out.decision.allowed ? (out.decision.warnings.length > 0 ? 'audit' : 'allow') : 'deny');
        return out;
      }));
    } catch (e) {
      decision = { allowed: false, code: 'UNDECIDED', message: `denied: the webhook could not decide (${(e as Error).message}); failing closed`, warnings: [] };
      verdicts = [{ policy: 'none', rule: '*', outcome: 'error', message: (e as Error).message }];
    } finally {
      clearTimeout(timer);
    }
    record(metrics, decision, verdicts, started);
    if (opts.log && (!decision.allowed || decision.warnings.length > 0)) {
      const r = review.request;
      opts.log.info(
        { uid: r.uid, kind: r.kind.kind, namespace: r.namespace ?? '', name: r.name ?? '', operation: r.operation, allowed: decision.allowed, reasons: verdicts.filter((v) => v.outcome !== 'allow').map((v) => `${v.policy}/${v.rule}: ${v.message}`).slice(0, 16) },
        decision.allowed ? 'admitted with warnings' : 'denied',
      );
    }
    return reply.send(toAdmissionResponse(review.request.uid, decision));
  });

  return app;
}

function record(metrics: DuallaneMetrics, decision: AdmissionDecision, verdicts: PolicyVerdict[], started: bigint): void {
  try {
    const byPolicy = new Map<string, PolicyVerdict['outcome']>();
    const rank = { allow: 0, audit: 1, error: 2, deny: 3 } as const;
    for (const v of verdicts) {
      const prev = byPolicy.get(v.policy);
      if (!prev || rank[v.outcome] > rank[prev]) byPolicy.set(v.policy, v.outcome);
    }
    if (byPolicy.size === 0) byPolicy.set('none', decision.allowed ? 'allow' : 'deny');
    for (const [policy, outcome] of byPolicy) metrics.counter('duallane_admission_decisions_total').inc({ policy, decision: outcome });
    const overall = !decision.allowed ? 'deny' : decision.warnings.length > 0 ? 'audit' : 'allow';
    metrics.histogram('duallane_admission_request_duration_seconds').observe({ decision: overall }, Number(process.hrtime.bigint() - started) / 1e9);
  } catch {
    // Metrics must never change a decision.
  }
}
