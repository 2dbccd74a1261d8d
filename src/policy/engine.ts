import { traceSpans } from '../observability/tracing.js';
import { computeRules } from './autogen.js';
import { evaluateCelRule } from './cel-validate.js';
import { ConditionError, evaluateConditions } from './conditions.js';
import type { ImageVerifier } from './image-verifier.js';
import { containerImages, imagesContext } from './images.js';
import { JmesPathSyntaxError, queryJmesPath, VariableNotFoundError } from './jmespath.js';
import { ruleMatches } from './match.js';
import { matchPattern } from './pattern.js';
import { substituteReferences } from './references.js';
import { checkPodSecurity, type PodSecuritySpec } from './pod-security.js';
import { applyMutation, deepEqual, type MutateSpec } from './mutate.js';
import { generateResource, type GenerateSpec } from './generate.js';
import type { ContextEntry, ForEachValidation, ImageVerification, Policy, PolicyException, PolicyResponse, RequestInfo, Resource, Rule, RuleResponse, RuleStatus } from './types.js';
import { setDotted, setValuesKey, splitValuesKey, substituteAll, VariableSubstitutionError, type EvalContext } from './variables.js';
import { wildcardMatch } from './wildcard.js';

/**
 * Evaluates one Kyverno policy against one resource, rule by rule (validate and verifyImages), with
 * autogen rules for pod controllers. Rules that do not match the resource produce no response, as in
 * Kyverno; everything else yields pass / fail / skip / error / warn with Kyverno's messages.
 * The resource and the policy are untrusted input: nothing here executes code from them, JMESPath
 * is interpreted, and recursion depth is bounded by the documents themselves.
 */
export interface EvaluateOptions {
  request?: RequestInfo;
  /** Values merged into the evaluation context (dotted keys allowed), e.g. from a values file. */
  values?: Record<string, unknown>;
  /** Per-rule values, by rule name (also applied to that rule's autogen variants). */
  ruleValues?: Record<string, Record<string, unknown>>;
  imageVerifier?: ImageVerifier;
  /** PolicyExceptions in force (matched rules become `skip`). */
  exceptions?: PolicyException[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function failureActionOf(policy: Policy, rule: Rule): 'Audit' | 'Enforce' {
  const per = rule.validate?.failureAction ?? rule.verifyImages?.find((v) => v.failureAction)?.failureAction;
  const a = String(per ?? policy.spec.validationFailureAction ?? 'Audit').toLowerCase();
  return a === 'enforce' ? 'Enforce' : 'Audit';
}

function resp(rule: Rule, policy: Policy, type: RuleResponse['type'], status: RuleStatus, message: string): RuleResponse {
  return { name: rule.name, type, status, message, failureAction: failureActionOf(policy, rule) };
}

export function baseContext(resource: Resource, opts: EvaluateOptions): EvalContext {
  const req = opts.request ?? {};
  const op = req.operation ?? 'CREATE';
  const userInfo = req.userInfo ?? {};
  const ctx: EvalContext = {
    request: {
      operation: op,
      object: op === 'DELETE' ? null : resource,
      oldObject: op === 'DELETE' || op === 'UPDATE' ? resource : null,
      userInfo,
      roles: req.roles ?? [],
      clusterRoles: req.clusterRoles ?? [],
      namespace: resource.metadata?.namespace ?? '',
    },
    images: imagesContext(resource),
  };
  const username = String(userInfo.username ?? '');
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  ctx['serviceAccountName'] = sa ? sa[2] : '';
  ctx['serviceAccountNamespace'] = sa ? sa[1] : '';
  for (const [k, v] of Object.entries(opts.values ?? {})) setValuesKey(ctx, k, v);
  return ctx;
}

function cloneCtx(ctx: EvalContext): EvalContext {
  // Shallow per-level copy of the mutable top level; request/object are never mutated.
  return { ...ctx };
}

class RuleError extends Error {}

const SCORED = 'policies.kyverno.io/scored';

function loadContext(entries: ContextEntry[] | undefined, ctx: EvalContext, provided: Set<string>): void {
  for (const entry of entries ?? []) {
    if (!entry || typeof entry.name !== 'string') continue;
    if (provided.has(entry.name)) continue;
    if (entry.variable) {
      const v = entry.variable;
      let def: unknown = null;
      if (v.default !== undefined) def = substituteAll(v.default, ctx);
      let output: unknown = def;
      const path = v.jmesPath ? String(substituteAll(v.jmesPath, ctx)) : '';
      if (v.value !== undefined) {
        let value: unknown;
        try {
          value = substituteAll(v.value, ctx);
        } catch (e) {
          if (def === null) throw e;
          value = undefined;
        }
        if (value !== undefined) {
          if (path) {
            try {
              const r = queryJmesPath(path, value);
              if (r !== null) output = r;
            } catch (e) {
              if (e instanceof JmesPathSyntaxError) throw e;
            }
          } else output = value;
        }
      } else if (path) {
        try {
          const r = queryJmesPath(path, ctx);
          if (r !== null) output = r;
        } catch (e) {
          if (def === null) throw new RuleError(`failed to apply jmespath ${path}: ${(e as Error).message}`);
        }
      }
      if (output === null || output === undefined) throw new RuleError(`unable to add context entry for variable ${entry.name} since it evaluated to nil`);
      setDotted(ctx, entry.name, output);
      continue;
    }
    const kind = entry.configMap ? 'configMap' : entry.apiCall ? 'apiCall' : entry.imageRegistry ? 'imageRegistry' : entry.globalReference ? 'globalReference' : 'unknown';
    throw new RuleError(`context entry ${entry.name} (${kind}) needs cluster or registry access; provide its value in the values file`);
  }
}

function errorMessage(rule: Rule, ctx: EvalContext, path: string, err: string): string {
  const raw = rule.validate?.message;
  if (!raw) {
    return path ? `validation error: rule ${rule.name} failed at path ${path}` : `validation error: rule ${rule.name} execution error: ${err}`;
  }
  let msg: string;
  try {
    const m = substituteAll(raw, ctx);
    msg = typeof m === 'string' ? m : 'the produced message didn\'t resolve to a string, check your policy definition.';
  } catch {
    return `validation error: variables substitution error in rule ${rule.name} execution error: ${err}`;
  }
  if (!msg.endsWith('.')) msg += '.';
  return path ? `validation error: ${msg} rule ${rule.name} failed at path ${path}` : `validation error: ${msg} rule ${rule.name} execution error: ${err}`;
}

function denyMessage(rule: Rule, ctx: EvalContext): string {
  const raw = rule.validate?.message;
  if (!raw) return `validation error: rule ${rule.name} failed`;
  try {
    const m = substituteAll(raw, ctx);
    return typeof m === 'string' ? m : String(JSON.stringify(m));
  } catch (e) {
    return `failed to substitute variables in message: ${(e as Error).message}`;
  }
}

type Outcome = { status: RuleStatus; message: string } | undefined;

interface ValidateSpec {
  pattern?: unknown;
  anyPattern?: unknown[];
  deny?: { conditions?: unknown };
  foreach?: ForEachValidation[];
  podSecurity?: unknown;
  cel?: unknown;
  manifests?: unknown;
}

function validatePatterns(rule: Rule, spec: ValidateSpec, target: unknown, ctx: EvalContext): Outcome {
  if (spec.pattern !== undefined) {
    const r = matchPattern(target, spec.pattern);
    if (r.ok) return { status: 'pass', message: `validation rule '${rule.name}' passed.` };
    if (r.skip) return { status: 'skip', message: r.message };
    if (r.path === '') return { status: 'error', message: errorMessage(rule, ctx, '', r.message) };
    return { status: 'fail', message: errorMessage(rule, ctx, r.path, r.message) };
  }
  if (spec.anyPattern !== undefined) {
    const failed: string[] = [];
    const skipped: string[] = [];
    const list = Array.isArray(spec.anyPattern) ? spec.anyPattern : [];
    for (let i = 0; i < list.length; i++) {
      const r = matchPattern(target, list[i]);
      if (r.ok) return { status: 'pass', message: `validation rule '${rule.name}' anyPattern[${i}] passed.` };
      if (r.skip) skipped.push(`rule ${rule.name}[${i}] skipped: ${r.message}`);
      else failed.push(r.path === '' ? `rule ${rule.name}[${i}] failed: ${r.message}.` : `rule ${rule.name}[${i}] failed at path ${r.path}`);
    }
    if (skipped.length > 0 && failed.length === 0) return { status: 'skip', message: skipped.join(' ') };
    const base = rule.validate?.message ? denyMessage(rule, ctx) : '';
    return { status: 'fail', message: `${base ? `${base}. ` : ''}${failed.join(' ')}`.trim() };
  }
  return undefined;
}

function validateDeny(rule: Rule, deny: { conditions?: unknown }, ctx: EvalContext): Outcome {
  const out = evaluateConditions(deny.conditions ?? null, ctx, 'deny');
  if (out.met) return { status: 'fail', message: denyMessage(rule, ctx) };
  return { status: 'pass', message: `validation rule '${rule.name}' passed.` };
}

function runGuarded(fn: () => Outcome, rule: Rule, what: string): Outcome {
  try {
    return fn();
  } catch (e) {
    if (e instanceof VariableSubstitutionError || e instanceof VariableNotFoundError) return { status: 'error', message: `variable substitution failed for rule ${rule.name}: ${e.message}` };
    if (e instanceof JmesPathSyntaxError || e instanceof ConditionError || e instanceof RuleError) return { status: 'error', message: `${what}: ${e.message}` };
    return { status: 'error', message: `${what}: ${(e as Error).message}` };
  }
}

/** One validate body (top-level or foreach element): context, preconditions, then deny | pattern | foreach. */
function validateBody(rule: Rule, spec: ValidateSpec & { context?: ContextEntry[]; preconditions?: unknown }, ctx: EvalContext, element: unknown, resource: Resource, provided: Set<string>, nesting: number, isDelete: boolean): Outcome {
  try {
    loadContext(spec.context, ctx, provided);
  } catch (e) {
    return { status: 'error', message: `failed to load context: ${(e as Error).message}` };
  }
  let pre;
  try {
    pre = evaluateConditions(spec.preconditions ?? null, ctx, 'preconditions');
  } catch (e) {
    return { status: 'error', message: `failed to evaluate preconditions: ${(e as Error).message}` };
  }
  if (!pre.met) return { status: 'skip', message: `preconditions not met${pre.messages.length ? `; ${pre.messages.join('; ')}` : ''}` };
  if (spec.deny) return runGuarded(() => validateDeny(rule, spec.deny!, ctx), rule, 'failed to evaluate deny conditions');
  if (spec.pattern !== undefined || spec.anyPattern !== undefined) {
    return runGuarded(
      () => {
        if (element === undefined && isDelete) return undefined;
        const target = element !== undefined ? element : resource;
        const opts = { atResource: target };
        const substituted = {
          pattern: spec.pattern === undefined ? undefined : substituteReferences(substituteAll(spec.pattern, ctx, opts)),
          anyPattern: spec.anyPattern === undefined ? undefined : (spec.anyPattern as unknown[]).map((p) => substituteReferences(substituteAll(p, ctx, opts))),
        };
        return validatePatterns(rule, substituted, target, ctx);
      },
      rule,
      'variable substitution failed',
    );
  }
  if (spec.foreach) return validateForEach(rule, spec.foreach, ctx, resource, provided, nesting, isDelete);
  if (spec.podSecurity !== undefined) {
    if (isDelete) return undefined;
    const failed = checkPodSecurity(resource, spec.podSecurity as PodSecuritySpec);
    if (failed.length === 0) return { status: 'pass', message: `validation rule '${rule.name}' passed.` };
    const level = String((spec.podSecurity as PodSecuritySpec).level ?? 'baseline');
    return { status: 'fail', message: `${rule.validate?.message ? `${denyMessage(rule, ctx)} ` : ''}Validation rule '${rule.name}' failed. It violates PodSecurity "${level}:${(spec.podSecurity as PodSecuritySpec).version ?? 'latest'}": ${failed.join('; ')}` };
  }
  if (spec.manifests !== undefined) {
    return { status: 'error', message: `rule ${rule.name}: manifests validations are not supported by this evaluator` };
  }
  return { status: 'error', message: `invalid validation rule: podSecurity, patterns, or deny expected` };
}

function validateForEach(rule: Rule, foreachList: ForEachValidation[], ctx: EvalContext, resource: Resource, provided: Set<string>, nesting: number, isDelete: boolean): Outcome {
  let applied = 0;
  for (const fe of foreachList) {
    let elements: unknown;
    try {
      const listExpr = String(substituteAll(fe.list, ctx));
      elements = queryJmesPath(listExpr, ctx);
    } catch {
      continue;
    }
    if (!Array.isArray(elements)) continue;
    let count = 0;
    let outcome: Outcome = { status: 'pass', message: '' };
    for (let i = 0; i < elements.length; i++) {
      const el = elements[i];
      if (el === null || el === undefined) continue;
      const ectx = cloneCtx(ctx);
      ectx['element'] = el;
      ectx['elementIndex'] = i;
      ectx[`element${nesting}`] = el;
      ectx[`elementIndex${nesting}`] = i;
      let scoped = isObj(el);
      if (fe.elementScope !== undefined) {
        if (fe.elementScope && !isObj(el)) {
          outcome = { status: 'error', message: `failed to process foreach: cannot use elementScope=true foreach rules for elements that are not maps` };
          break;
        }
        scoped = fe.elementScope;
      }
      const r = validateBody(rule, { ...fe, deny: fe.deny, foreach: fe.foreach }, ectx, scoped ? el : undefined, resource, provided, nesting + 1, isDelete);
      if (!r || r.status === 'skip') continue;
      if (r.status !== 'pass') {
        if (r.status === 'error') {
          if (i < elements.length - 1) continue;
          outcome = { status: 'error', message: `validation failure: ${r.message}` };
          break;
        }
        outcome = { status: 'fail', message: `validation failure: ${r.message}` };
        break;
      }
      count++;
    }
    if (outcome && outcome.status !== 'pass') return outcome;
    applied += count;
  }
  // Kyverno 1.19 (checked by test/interop/kyverno-differential.test.ts): a foreach that applies to no
  // element produces no rule response at all, so the resource is not reported for the rule.
  if (applied === 0) return undefined;
  return { status: 'pass', message: 'rule passed' };
}

function imageMatches(image: string, patterns: string[] | undefined): boolean {
  return (patterns ?? []).some((p) => wildcardMatch(p, image));
}

async function verifyImagesRule(policy: Policy, rule: Rule, resource: Resource, opts: EvaluateOptions): Promise<Outcome> {
  const images = containerImages(resource);
  const failures: string[] = [];
  const errors: string[] = [];
  let verified = 0;
  for (const iv of rule.verifyImages ?? []) {
    const refs = iv.imageReferences ?? (iv.image ? [iv.image] : ['*']);
    const matching = images.filter((c) => {
      const full = c.info?.reference ?? c.image;
      const m = imageMatches(full, refs) || imageMatches(c.image, refs);
      const s = imageMatches(full, iv.skipImageReferences) || imageMatches(c.image, iv.skipImageReferences);
      return m && !s;
    });
    if (matching.length === 0) continue;
    for (const c of matching) {
      if (!c.info) {
        errors.push(`invalid image reference ${c.image}`);
        continue;
      }
      if (iv.verifyDigest !== false && iv.mutateDigest === false && !c.info.digest) {
        failures.push(`missing digest for ${c.image}`);
        continue;
      }
      const attestors = iv.attestors ?? (iv.key ? [{ entries: [{ keys: { publicKeys: iv.key } }] }] : []);
      if (!opts.imageVerifier) {
        errors.push(`failed to verify image ${c.image}: image verification requires registry access and no image verifier is configured`);
        continue;
      }
      let r;
      try {
        r = await opts.imageVerifier.verifyImage({ image: c.image, info: c.info, attestors, attestations: iv.attestations ?? [], rule: iv as ImageVerification, policy: policy.metadata.name, ruleName: rule.name });
      } catch (e) {
        // A verifier that throws (registry down, malformed attestation) is an error, never a pass.
        errors.push(`failed to verify image ${c.image}: ${(e as Error).message}`);
        continue;
      }
      if (r.status === 'pass') verified++;
      else if (r.status === 'fail') failures.push(`failed to verify image ${c.image}: ${r.message}`);
      else errors.push(`failed to verify image ${c.image}: ${r.message}`);
    }
  }
  if (failures.length > 0) return { status: 'fail', message: failures.join('; ') };
  if (errors.length > 0) return { status: 'error', message: errors.join('; ') };
  if (verified === 0) {
    const refs = (rule.verifyImages ?? []).flatMap((iv) => iv.imageReferences ?? (iv.image ? [iv.image] : []));
    return { status: 'skip', message: `skip run verification as image in resource not found in imageRefs '${refs.join(',')}'` };
  }
  return { status: 'pass', message: `verified image signatures for ${verified} image(s)` };
}

/** Context entry names the values file already provides (a key `a.b.c` provides `a`, `a.b` and `a.b.c`). */
function providedNames(values: Record<string, unknown> | undefined, ruleValues: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  for (const k of [...Object.keys(values ?? {}), ...Object.keys(ruleValues ?? {})]) {
    const parts = splitValuesKey(k);
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return out;
}

function baseRuleName(name: string): string {
  return name.replace(/^autogen-cronjob-/, '').replace(/^autogen-/, '');
}

/** The first exception that names this policy and rule and matches the resource (wildcards allowed in names). */
function matchingException(policy: Policy, rule: Rule, resource: Resource, opts: EvaluateOptions, ctx: EvalContext): PolicyException | undefined {
  const key = policy.kind === 'Policy' ? `${policy.metadata.namespace ?? 'default'}/${policy.metadata.name}` : policy.metadata.name;
  for (const ex of opts.exceptions ?? []) {
    const named = (ex.spec?.exceptions ?? []).some((e) => wildcardMatch(e.policyName, key) && (e.ruleNames ?? []).some((n) => wildcardMatch(n, rule.name)));
    if (!named || !ruleMatches(ex.spec.match, undefined, resource, opts.request ?? {})) continue;
    try {
      if (ex.spec.conditions !== undefined && !evaluateConditions(ex.spec.conditions, ctx, 'preconditions').met) continue;
    } catch {
      continue;
    }
    return ex;
  }
  return undefined;
}

/** Sets a rule's test `values` (by rule name, or the name before autogen) into its context; returns them. */
function applyRuleValues(ctx: EvalContext, rule: Rule, opts: EvaluateOptions): Record<string, unknown> | undefined {
  const rv = opts.ruleValues?.[rule.name] ?? opts.ruleValues?.[baseRuleName(rule.name)];
  for (const [k, v] of Object.entries(rv ?? {})) setValuesKey(ctx, k, v);
  return rv;
}

/** Validate and verifyImages rules of one policy against one resource, traced as duallane.policy.evaluate. */
/** The rules of `policy` that can apply to `resource`: none for a namespaced Policy of another namespace. */
function rulesFor(policy: Policy, resource: Resource): Rule[] {
  const elsewhere = policy.kind === 'Policy' && (policy.metadata.namespace ?? 'default') !== String(resource.metadata?.namespace ?? '');
  return elsewhere ? [] : computeRules(policy).filter((rule) => rule && typeof rule.name === 'string');
}

/** The policy and resource a PolicyResponse is about. */
function responseHead(policy: Policy, resource: Resource): Omit<PolicyResponse, 'rules'> {
  const meta = resource.metadata ?? {};
  return {
    policy: policy.metadata.name,
    ...(policy.kind === 'Policy' ? { policyNamespace: policy.metadata.namespace ?? 'default' } : {}),
    resource: { apiVersion: String(resource.apiVersion ?? ''), kind: String(resource.kind ?? ''), namespace: String(meta.namespace ?? ''), name: String(meta.name ?? '') },
  };
}

/**
 * What every rule kind does first for a rule that matched: its own context (from `base` or a fresh
 * one), the rule values of the test's values file, and the first policy exception that skips it.
 */
function rulePrelude(policy: Policy, rule: Rule, resource: Resource, opts: EvaluateOptions, base?: EvalContext) {
  const ctx = base ? cloneCtx(base) : baseContext(resource, opts);
  const provided = providedNames(opts.values, applyRuleValues(ctx, rule, opts));
  return { ctx, provided, exception: matchingException(policy, rule, resource, opts, ctx) };
}

export async function evaluatePolicy(policy: Policy, resource: Resource, opts: EvaluateOptions = {}): Promise<PolicyResponse> {
  return traceSpans.policy({ policy: policy.metadata.name }, async (span) => {
    const r = await evaluatePolicyRules(policy, resource, opts);
    const worst = r.rules.some((x) => x.status === 'error') ? 'error' : r.rules.some((x) => x.status === 'fail') ? 'fail' : r.rules.length ? 'pass' : 'skip';
    span.setResult(worst);
    span.setAttribute('duallane.resource.kind', r.resource.kind);
    return r;
  });
}

async function evaluatePolicyRules(policy: Policy, resource: Resource, opts: EvaluateOptions): Promise<PolicyResponse> {
  const base = baseContext(resource, opts);
  const req = opts.request ?? {};
  const isDelete = (req.operation ?? 'CREATE') === 'DELETE';
  const rules: RuleResponse[] = [];
  for (const rule of rulesFor(policy, resource)) {
    if (!rule.validate && !rule.verifyImages) continue;
    if (!ruleMatches(rule.match, rule.exclude, resource, req)) continue;
    const { ctx, provided, exception: ex } = rulePrelude(policy, rule, resource, opts, base);
    if (ex) {
      rules.push(resp(rule, policy, rule.verifyImages ? 'ImageVerify' : 'Validation', 'skip', `rule skipped due to policy exception ${ex.metadata.namespace ? `${ex.metadata.namespace}/` : ''}${ex.metadata.name}`));
      continue;
    }
    if (rule.verifyImages) {
      let pre;
      try {
        loadContext(rule.context, ctx, provided);
        pre = evaluateConditions(rule.preconditions ?? null, ctx, 'preconditions');
      } catch (e) {
        rules.push(resp(rule, policy, 'ImageVerify', 'error', `failed to load context or preconditions: ${(e as Error).message}`));
        continue;
      }
      if (!pre.met) {
        rules.push(resp(rule, policy, 'ImageVerify', 'skip', 'preconditions not met'));
        continue;
      }
      const o = await verifyImagesRule(policy, rule, resource, opts);
      if (o) rules.push(resp(rule, policy, 'ImageVerify', o.status, o.message));
      continue;
    }
    const v = rule.validate!;
    // validate.cel rules run Kubernetes' CEL validator; JMESPath context and preconditions do not apply.
    const o = v.cel !== undefined ? evaluateCelRule(rule, resource, req) : validateBody(rule, { ...v, context: rule.context, preconditions: rule.preconditions }, ctx, undefined, resource, provided, 0, isDelete);
    if (!o) continue;
    let status = o.status;
    // Docs (kyverno test): `policies.kyverno.io/scored: "false"` on the policy or the resource turns a fail into a warn.
    if (status === 'fail' && (policy.metadata.annotations?.[SCORED] === 'false' || resource.metadata?.annotations?.[SCORED] === 'false')) status = 'warn';
    rules.push(resp(rule, policy, 'Validation', status, o.message));
  }
  return { ...responseHead(policy, resource), rules };
}

/**
 * Mutate rules of one policy, applied in order to the resource (each rule sees the previous rule's
 * result), as Kyverno's CLI does before validation. Returns the rule results and the patched resource.
 * Kept apart from `evaluatePolicy` so that admission decisions (validate and verifyImages) never
 * depend on mutations the webhook cannot apply.
 */
export async function mutatePolicy(policy: Policy, resource: Resource, opts: EvaluateOptions = {}): Promise<PolicyResponse> {
  const req = opts.request ?? {};
  const rules: RuleResponse[] = [];
  let current = resource;
  for (const rule of rulesFor(policy, resource)) {
    if (!rule.mutate) continue;
    // mutate-existing rules change other resources (background controller); not evaluated offline.
    if ((rule.mutate as { targets?: unknown }).targets !== undefined) continue;
    if (!ruleMatches(rule.match, rule.exclude, current, req)) continue;
    // Each rule sees the resource as the previous rules left it.
    const { ctx, provided, exception: ex } = rulePrelude(policy, rule, current, opts);
    const r = (status: RuleStatus, message: string): RuleResponse => ({ name: rule.name, type: 'Mutation', status, message, failureAction: 'Audit' });
    if (ex) {
      rules.push(r('skip', `rule skipped due to policy exception ${ex.metadata.name}`));
      continue;
    }
    try {
      loadContext(rule.context, ctx, provided);
    } catch (e) {
      rules.push(r('error', `failed to load context: ${(e as Error).message}`));
      continue;
    }
    let pre;
    try {
      pre = evaluateConditions(rule.preconditions ?? null, ctx, 'preconditions');
    } catch (e) {
      rules.push(r('error', `failed to evaluate preconditions: ${(e as Error).message}`));
      continue;
    }
    if (!pre.met) {
      rules.push(r('skip', 'preconditions not met'));
      continue;
    }
    try {
      const patched = applyMutation(current as Record<string, unknown>, rule.mutate as MutateSpec, ctx, 0, (entries, c) => loadContext(entries as ContextEntry[] | undefined, c, provided)) as Resource;
      if (deepEqual(patched, current)) rules.push(r('skip', 'no patches applied'));
      else {
        rules.push(r('pass', 'mutated resource'));
        current = patched;
      }
    } catch (e) {
      rules.push(r('error', `failed to apply mutation: ${(e as Error).message}`));
    }
  }
  return { ...responseHead(policy, resource), rules, patchedResource: current };
}

/**
 * Generate rules of one policy for a trigger resource. Each matching rule yields `pass` with the
 * resource it would create (`generatedResources`, by rule name), `skip` when preconditions fail, or
 * `error`. Nothing is created anywhere: this is what `kyverno test` compares with `generatedResource`.
 */
export async function generatePolicy(policy: Policy, resource: Resource, opts: EvaluateOptions & { cloneSources?: Resource[] } = {}): Promise<PolicyResponse & { generatedResources: Record<string, Resource> }> {
  const req = opts.request ?? {};
  const rules: RuleResponse[] = [];
  const generated: Record<string, Resource> = {};
  for (const rule of rulesFor(policy, resource)) {
    if (!rule.generate) continue;
    if (!ruleMatches(rule.match, rule.exclude, resource, req)) continue;
    const { ctx, provided, exception: ex } = rulePrelude(policy, rule, resource, opts);
    const r = (status: RuleStatus, message: string): RuleResponse => ({ name: rule.name, type: 'Generation', status, message, failureAction: 'Audit' });
    if (ex) {
      rules.push(r('skip', `rule skipped due to policy exception ${ex.metadata.name}`));
      continue;
    }
    try {
      loadContext(rule.context, ctx, provided);
      const pre = evaluateConditions(rule.preconditions ?? null, ctx, 'preconditions');
      if (!pre.met) {
        rules.push(r('skip', 'preconditions not met'));
        continue;
      }
      const g = generateResource(rule.generate as GenerateSpec, ctx, opts.cloneSources ?? []);
      if (!g) {
        rules.push(r('skip', 'cloneList generation is not evaluated offline'));
        continue;
      }
      generated[rule.name] = g;
      rules.push(r('pass', `created ${g.kind} ${g.metadata?.namespace ? `${g.metadata.namespace}/` : ''}${g.metadata?.name}`));
    } catch (e) {
      rules.push(r('error', `failed to generate: ${(e as Error).message}`));
    }
  }
  return { ...responseHead(policy, resource), rules, generatedResources: generated };
}
