import { CEL_COST_BUDGET, CelCompileError, compileCel, estimateCost, firstLine, largestCollection, toCelValue, type CompiledCel } from './cel-env.js';
import type { RequestInfo, Resource, Rule, RuleStatus } from './types.js';

/**
 * Kyverno `validate.cel` rules (pkg/engine/handlers/validation/validate_cel.go), which run the rule
 * through Kubernetes' ValidatingAdmissionPolicy validator with no failure policy (so Fail):
 * - `celPreconditions` (matchConditions): any false skips the rule ("cel preconditions not met");
 *   otherwise an evaluation error fails it;
 * - `expressions` in order: the first that is not `true` fails the rule with its messageExpression
 *   (a non-empty single-line string), else its message, else the rule's `validate.message`, else
 *   `failed expression: <expression>`; an evaluation error fails it with
 *   `expression '<expression>' resulted in error: <error>` (Kubernetes denies on error);
 * - all true: pass, "Validation rule '<name>' passed.".
 * `variables` are evaluated lazily, at most once, when an expression reads `variables.<name>`.
 * What cannot be evaluated offline is an `error`, never a pass: `paramKind`/`paramRef` (parameter
 * resources live in a cluster), `authorizer` (needs the API server), and compile errors.
 * `auditAnnotations` only annotate audit events; they are not evaluated.
 */

export interface CelExpression {
  expression?: unknown;
  message?: unknown;
  messageExpression?: unknown;
  reason?: unknown;
}

export interface CelSpec {
  expressions?: CelExpression[];
  variables?: { name?: unknown; expression?: unknown }[];
  auditAnnotations?: unknown;
  paramKind?: unknown;
  paramRef?: unknown;
}

export interface MatchCondition {
  name?: unknown;
  expression?: unknown;
}

export interface CelOutcome {
  status: RuleStatus;
  message: string;
}

/** Kubernetes drops a messageExpression result longer than this (celconfig.MaxEvaluatedMessageExpressionSizeBytes). */
const MAX_MESSAGE_BYTES = 5 * 1024;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** Lower-case plural, as the API server names most resources (offline there is no discovery). */
function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (k === '') return '';
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

/** The CEL `request` variable: an admission.k8s.io/v1 AdmissionRequest without object/oldObject. */
export function celRequest(resource: Resource, request: RequestInfo): Record<string, unknown> {
  const op = request.operation ?? 'CREATE';
  const { group, version } = splitApiVersion(String(resource.apiVersion ?? ''));
  const kind = { group, version, kind: String(resource.kind ?? '') };
  const res = { group, version, resource: pluralOf(kind.kind) };
  const ui = request.userInfo ?? {};
  const userInfo: Record<string, unknown> = {};
  if (ui.username !== undefined) userInfo['username'] = ui.username;
  if (ui.uid !== undefined) userInfo['uid'] = ui.uid;
  if (ui.groups !== undefined) userInfo['groups'] = ui.groups;
  return {
    uid: '',
    kind,
    resource: res,
    requestKind: kind,
    requestResource: res,
    name: String(resource.metadata?.name ?? ''),
    namespace: kind.kind === 'Namespace' && group === '' ? '' : String(resource.metadata?.namespace ?? ''),
    operation: op,
    userInfo,
    dryRun: false,
  };
}

/** Offline, Kyverno gives CEL a Namespace object with only its name (labels if the values file sets them). */
function namespaceObject(resource: Resource, request: RequestInfo): Record<string, unknown> | null {
  const isNamespace = resource.kind === 'Namespace' && String(resource.apiVersion ?? '') === 'v1';
  const ns = isNamespace ? '' : String(resource.metadata?.namespace ?? '');
  if (ns === '') return null;
  const metadata: Record<string, unknown> = { name: ns };
  if (request.namespaceLabels && Object.keys(request.namespaceLabels).length > 0) metadata['labels'] = request.namespaceLabels;
  return { apiVersion: 'v1', kind: 'Namespace', metadata, spec: {}, status: {} };
}

class CelRuleError extends Error {}

function compileOrThrow(expr: unknown, where: string): CompiledCel {
  if (typeof expr !== 'string' || expr.trim() === '') throw new CelRuleError(`${where} is required`);
  try {
    return compileCel(expr);
  } catch (e) {
    if (e instanceof CelCompileError) throw new CelRuleError(`compilation error: ${where}: ${e.message}`);
    throw e;
  }
}

interface CompiledRule {
  variables: Map<string, CompiledCel>;
  conditions: { name: string; compiled: CompiledCel }[];
  expressions: { spec: CelExpression; compiled: CompiledCel; message?: CompiledCel }[];
}

function compileRule(rule: Rule, spec: CelSpec): CompiledRule {
  const variables = new Map<string, CompiledCel>();
  (Array.isArray(spec.variables) ? spec.variables : []).forEach((v, i) => {
    if (!isObj(v) || typeof v.name !== 'string' || v.name === '') throw new CelRuleError(`cel.variables[${i}].name is required`);
    variables.set(v.name, compileOrThrow(v.expression, `cel.variables[${i}].expression`));
  });
  const pre = (rule as { celPreconditions?: unknown }).celPreconditions;
  const conditions = (Array.isArray(pre) ? (pre as MatchCondition[]) : []).map((c, i) => {
    if (!isObj(c)) throw new CelRuleError(`celPreconditions[${i}] must be an object`);
    return { name: String(c.name ?? ''), compiled: compileOrThrow(c.expression, `celPreconditions[${i}].expression`) };
  });
  if (!Array.isArray(spec.expressions) || spec.expressions.length === 0) throw new CelRuleError('cel.expressions must be a non-empty list');
  const expressions = spec.expressions.map((x, i) => {
    if (!isObj(x)) throw new CelRuleError(`cel.expressions[${i}] must be an object`);
    const compiled = compileOrThrow(x.expression, `cel.expressions[${i}].expression`);
    const message = x.messageExpression !== undefined ? compileOrThrow(x.messageExpression, `cel.expressions[${i}].messageExpression`) : undefined;
    return { spec: x, compiled, ...(message ? { message } : {}) };
  });
  const all = [...variables.values(), ...conditions.map((c) => c.compiled), ...expressions.flatMap((e) => (e.message ? [e.compiled, e.message] : [e.compiled]))];
  if (all.some((c) => c.usesAuthorizer)) throw new CelRuleError('authorizer checks need the API server; they are not supported offline');
  for (const [name] of variables) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CelRuleError(`cel variable name ${JSON.stringify(name)} is not a CEL identifier`);
  return { variables, conditions, expressions };
}

/** `variables.<name>` as lazily computed, memoised properties; a failing variable fails its readers. */
function lazyVariables(compiled: Map<string, CompiledCel>, activation: Record<string, unknown>): Record<string, unknown> {
  const vars = Object.create(null) as Record<string, unknown>;
  const done = new Map<string, { value?: unknown; error?: string }>();
  const evaluating = new Set<string>();
  for (const [name, c] of compiled) {
    Object.defineProperty(vars, name, {
      enumerable: true,
      get() {
        let r = done.get(name);
        if (!r) {
          // A variable may read only variables defined before it; a cycle cannot complete.
          if (evaluating.has(name)) throw new Error(`composited variable "${name}" refers to itself`);
          evaluating.add(name);
          try {
            r = { value: c.program(activation) };
          } catch (e) {
            r = { error: `composited variable "${name}" fails to evaluate: ${firstLine(e)}` };
          } finally {
            evaluating.delete(name);
          }
          done.set(name, r);
        }
        if (r.error !== undefined) throw new Error(r.error);
        return r.value;
      },
    });
  }
  return vars;
}

function evalCel(c: CompiledCel, activation: Record<string, unknown>): { value?: unknown; error?: string } {
  try {
    return { value: c.program(activation) };
  } catch (e) {
    return { error: `expression '${c.expression}' resulted in error: ${firstLine(e)}` };
  }
}

function failureMessage(rule: Rule, e: CompiledRule['expressions'][number], activation: Record<string, unknown>): string {
  if (e.message) {
    const r = evalCel(e.message, activation);
    if (typeof r.value === 'string') {
      const m = r.value.trim();
      if (m !== '' && !m.includes('\n') && Buffer.byteLength(m) <= MAX_MESSAGE_BYTES) return m;
    }
  }
  // Kyverno fills an expression without a message from the rule's validate.message.
  const staticMsg = typeof e.spec.message === 'string' && e.spec.message !== '' ? e.spec.message : typeof rule.validate?.message === 'string' ? rule.validate.message : '';
  if (staticMsg.trim() !== '') return staticMsg.trim();
  return `failed expression: ${e.compiled.expression.trim()}`;
}

/** Evaluates one `validate.cel` rule against a resource (the rule already matched it). */
export function evaluateCelRule(rule: Rule, resource: Resource, request: RequestInfo = {}): CelOutcome {
  const spec = rule.validate?.cel;
  if (!isObj(spec)) return { status: 'error', message: `rule ${rule.name}: validate.cel must be an object` };
  const cel = spec as CelSpec;
  if (cel.paramKind !== undefined || cel.paramRef !== undefined) {
    return { status: 'error', message: `rule ${rule.name}: cel.paramKind/paramRef need parameter resources from a cluster; not supported by this evaluator` };
  }
  let compiled: CompiledRule;
  try {
    compiled = compileRule(rule, cel);
  } catch (e) {
    if (e instanceof CelRuleError) return { status: 'error', message: `rule ${rule.name}: ${e.message}` };
    throw e;
  }
  const op = request.operation ?? 'CREATE';
  let object: unknown;
  let oldObject: unknown;
  try {
    object = op === 'DELETE' ? null : toCelValue(resource);
    oldObject = op === 'DELETE' || op === 'UPDATE' ? toCelValue(resource) : null;
  } catch (e) {
    return { status: 'error', message: `rule ${rule.name}: ${(e as Error).message}` };
  }
  // Untrusted resources decide list sizes; nested macros multiply them. Refuse before evaluating.
  const largest = largestCollection([object, oldObject]);
  const programs = [...compiled.variables.values(), ...compiled.conditions.map((c) => c.compiled), ...compiled.expressions.map((e) => e.compiled)];
  const cost = programs.reduce((sum, c) => sum + estimateCost(c, largest), 0);
  if (cost > CEL_COST_BUDGET) {
    return { status: 'error', message: `rule ${rule.name}: estimated CEL evaluation cost ${cost.toExponential(2)} exceeds the budget of ${CEL_COST_BUDGET} (largest list ${largest})` };
  }
  const activation: Record<string, unknown> = {
    object,
    oldObject,
    request: toCelValue(celRequest(resource, request)),
    namespaceObject: toCelValue(namespaceObject(resource, request)),
    params: null,
  };
  activation['variables'] = lazyVariables(compiled.variables, activation);

  // matchConditions: any false skips; otherwise any error fails (Kubernetes' matcher, failurePolicy Fail).
  const conditionErrors: string[] = [];
  for (const c of compiled.conditions) {
    const r = evalCel(c.compiled, activation);
    if (r.error !== undefined) conditionErrors.push(r.error);
    else if (r.value === false) return { status: 'skip', message: 'cel preconditions not met' };
    else if (r.value !== true) conditionErrors.push(`matchCondition '${c.name}' evaluated to a non-bool value`);
  }
  if (conditionErrors.length > 0) return { status: 'fail', message: conditionErrors.join(', ') };

  for (const e of compiled.expressions) {
    const r = evalCel(e.compiled, activation);
    if (r.error !== undefined) return { status: 'fail', message: r.error };
    if (r.value !== true) return { status: 'fail', message: failureMessage(rule, e, activation) };
  }
  return { status: 'pass', message: `Validation rule '${rule.name}' passed.` };
}
