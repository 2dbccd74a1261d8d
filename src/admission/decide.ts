import { AUTOGEN_ANNOTATION, computeRules } from '../policy/autogen.js';
import { evaluatePolicy } from '../policy/engine.js';
import type { ImageVerifier } from '../policy/image-verifier.js';
import { MAX_NESTING_DEPTH, nestingExceeds } from '../policy/index.js';
import type { Policy, Resource } from '../policy/types.js';
import type { AdmissionDecision, AdmissionRequest } from './admission-review.js';

/** Kinds the webhook evaluates: Pods and the controllers whose templates become Pods. */
export const ADMITTED_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;

export interface PolicyVerdict {
  policy: string;
  rule: string;
  outcome: 'allow' | 'deny' | 'audit' | 'error';
  message: string;
}

export interface DecideOptions {
  policies: Policy[];
  imageVerifier?: ImageVerifier;
  /** Overrides every policy's spec.failurePolicy ('Fail' | 'Ignore'); default: each policy's own, else Fail. */
  failurePolicy?: 'Fail' | 'Ignore';
}

/**
 * Expands Kyverno's autogen rules (pod controllers) once, at load, instead of on every review: the
 * returned policies carry the generated rules and `autogen-controllers: none`, so the engine
 * evaluates exactly the same rules without regenerating them per request.
 */
export function prepareAdmissionPolicies(policies: Policy[]): Policy[] {
  return policies.map((p) => {
    const rules = computeRules(p);
    return {
      ...p,
      metadata: { ...p.metadata, annotations: { ...(p.metadata.annotations ?? {}), [AUTOGEN_ANNOTATION]: 'none' } },
      spec: { ...p.spec, rules },
    };
  });
}

/** A policy's failure policy: what an evaluation error (registry down, bad context) means. Fail-closed unless `Ignore`. */
export function failurePolicyOf(policy: Policy, override?: 'Fail' | 'Ignore'): 'Fail' | 'Ignore' {
  if (override) return override;
  return String(policy.spec.failurePolicy ?? 'Fail') === 'Ignore' ? 'Ignore' : 'Fail';
}

/**
 * Evaluates every policy on the request's object and folds the rule results into one decision:
 *   fail + Enforce                → deny;   fail + Audit → allowed with a warning ("audit");
 *   error + failurePolicy Fail    → deny;   error + Ignore → allowed with a warning;
 *   warn                          → allowed with a warning.
 * Every denial reason names the policy, the rule and (through the engine's message) the image and
 * why; all reasons are joined so one response explains every problem.
 */
export async function decideAdmission(req: AdmissionRequest, opts: DecideOptions): Promise<{ decision: AdmissionDecision; verdicts: PolicyVerdict[] }> {
  const verdicts: PolicyVerdict[] = [];
  const object = req.object as Resource | null | undefined;
  if (req.operation === 'DELETE' || req.operation === 'CONNECT' || !object || !(ADMITTED_KINDS as readonly string[]).includes(req.kind.kind)) {
    return { decision: { allowed: true, warnings: [] }, verdicts };
  }
  // Nesting is attacker-shaped and the engine recurses over it: too deep is a denial, never a stack overflow.
  if (nestingExceeds(object) || nestingExceeds(req.oldObject ?? null)) {
    const message = `object nesting exceeds ${MAX_NESTING_DEPTH} levels`;
    verdicts.push({ policy: 'none', rule: '*', outcome: 'deny', message });
    return { decision: { allowed: false, code: 'OBJECT_TOO_DEEP', message: `${req.kind.kind} denied: ${message}`, warnings: [] }, verdicts };
  }
  // The request's kind is what the API server admits; a body whose object claims another kind must
  // not slip past rules that match on kind.
  const resource: Resource = { ...object, kind: req.kind.kind };
  if (req.namespace && !resource.metadata?.namespace) resource.metadata = { ...(resource.metadata ?? {}), namespace: req.namespace };
  const request = {
    operation: req.operation,
    userInfo: { username: req.userInfo?.username ?? '', groups: req.userInfo?.groups ?? [], uid: req.userInfo?.uid ?? '' },
  };
  for (const policy of opts.policies) {
    let response;
    try {
      response = await evaluatePolicy(policy, resource, { request, ...(opts.imageVerifier ? { imageVerifier: opts.imageVerifier } : {}) });
    } catch (e) {
      verdicts.push({ policy: policy.metadata.name, rule: '*', outcome: failurePolicyOf(policy, opts.failurePolicy) === 'Fail' ? 'deny' : 'error', message: `evaluation failed: ${(e as Error).message}` });
      continue;
    }
    for (const r of response.rules) {
      let outcome: PolicyVerdict['outcome'];
      switch (r.status) {
        case 'pass':
        case 'skip':
          outcome = 'allow';
          break;
        case 'fail':
          outcome = r.failureAction === 'Enforce' ? 'deny' : 'audit';
          break;
        case 'warn':
          outcome = 'audit';
          break;
        case 'error':
          // Audit-mode rules never block; Enforce-mode errors follow the failure policy (fail-closed by default).
          outcome = r.failureAction === 'Enforce' && failurePolicyOf(policy, opts.failurePolicy) === 'Fail' ? 'deny' : 'error';
          break;
      }
      verdicts.push({ policy: policy.metadata.name, rule: r.name, outcome, message: r.message });
    }
  }
  const describe = (v: PolicyVerdict) => `policy ${v.policy} rule ${v.rule}: ${v.message}`;
  const denials = verdicts.filter((v) => v.outcome === 'deny');
  const warnings = verdicts.filter((v) => v.outcome === 'audit' || v.outcome === 'error').map((v) => `${v.outcome === 'audit' ? 'audit' : 'ignored error'}: ${describe(v)}`);
  if (denials.length > 0) {
    const what = `${req.kind.kind} ${req.namespace ? `${req.namespace}/` : ''}${object.metadata && typeof (object.metadata as { name?: unknown }).name === 'string' ? (object.metadata as { name: string }).name : (req.name ?? '')}`;
    return { decision: { allowed: false, message: `${what} denied: ${denials.map(describe).join('; ')}`, warnings }, verdicts };
  }
  return { decision: { allowed: true, warnings }, verdicts };
}
