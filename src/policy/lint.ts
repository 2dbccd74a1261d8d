import { looksLikeBadAnchor, parseAnchor } from './anchor.js';
import { CONDITION_OPERATORS } from './conditions.js';
import { CelCompileError, compileCel } from './cel-env.js';
import { compileJmesPath } from './jmespath.js';
import { lineOf, loadYamlFile, isKyvernoPolicy, yamlFilesUnder, type LoadedDoc } from './load.js';
import { PolicyError } from './policy-error.js';

/**
 * `policy lint`: structure against the ClusterPolicy/Policy fields this evaluator supports, plus
 * semantic checks (anchors, JMESPath, condition operators, deprecated fields). Every finding carries
 * file:line. Errors make the file unusable; warnings flag deprecated or unsupported-but-harmless use.
 */
export interface LintFinding {
  file: string;
  line: number;
  path: string;
  severity: 'error' | 'warning';
  message: string;
}

type Path = (string | number)[];
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const SPEC_FIELDS = ['rules', 'validationFailureAction', 'validationFailureActionOverrides', 'background', 'failurePolicy', 'webhookTimeoutSeconds', 'admission', 'applyRules', 'emitWarning', 'mutateExistingOnPolicyUpdate', 'generateExisting', 'generateExistingOnPolicyUpdate', 'schemaValidation', 'useServerSideApply', 'webhookConfiguration'];
const RULE_FIELDS = ['name', 'match', 'exclude', 'context', 'preconditions', 'validate', 'mutate', 'generate', 'verifyImages', 'imageExtractors', 'celPreconditions', 'skipBackgroundRequests', 'reportProperties'];
const VALIDATE_FIELDS = ['message', 'failureAction', 'failureActionOverrides', 'allowExistingViolations', 'pattern', 'anyPattern', 'deny', 'foreach', 'podSecurity', 'cel', 'manifests', 'assert'];
const CEL_FIELDS = ['expressions', 'variables', 'auditAnnotations', 'paramKind', 'paramRef', 'generate'];
const CEL_REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const FOREACH_FIELDS = ['list', 'elementScope', 'context', 'preconditions', 'pattern', 'anyPattern', 'deny', 'foreach'];
const MATCH_FIELDS = ['any', 'all', 'resources', 'subjects', 'roles', 'clusterRoles'];
const FILTER_FIELDS = ['resources', 'subjects', 'roles', 'clusterRoles'];
const RD_FIELDS = ['kinds', 'name', 'names', 'namespaces', 'annotations', 'selector', 'namespaceSelector', 'operations'];
const CONTEXT_FIELDS = ['name', 'variable', 'configMap', 'apiCall', 'imageRegistry', 'globalReference'];
const VERIFY_FIELDS = ['type', 'image', 'imageReferences', 'skipImageReferences', 'key', 'roots', 'subject', 'issuer', 'additionalExtensions', 'attestors', 'attestations', 'annotations', 'repository', 'mutateDigest', 'verifyDigest', 'validate', 'required', 'useCache', 'imageRegistryCredentials', 'failureAction', 'cosignOCI11', 'validationFailureAction'];
const ATTESTATION_FIELDS = ['type', 'predicateType', 'name', 'attestors', 'conditions'];
const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const OPS_LOWER = new Set(CONDITION_OPERATORS.map((o) => o.toLowerCase()));

class Linter {
  readonly findings: LintFinding[] = [];
  constructor(private readonly d: LoadedDoc) {}

  add(path: Path, severity: LintFinding['severity'], message: string): void {
    this.findings.push({ file: this.d.file, line: lineOf(this.d, path), path: fmtPath(path), severity, message });
  }

  fields(v: unknown, allowed: string[], path: Path, what: string): v is Obj {
    if (!isObj(v)) {
      this.add(path, 'error', `${what} must be an object`);
      return false;
    }
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.add([...path, k], 'error', `unknown field ${JSON.stringify(k)} in ${what}`);
    return true;
  }

  /** Every `{{ }}` must hold a parsable JMESPath expression. */
  variables(v: unknown, path: Path): void {
    if (typeof v === 'string') {
      const opens = (v.match(/(?<!\\)\{\{/g) ?? []).length;
      const closes = (v.match(/\}\}/g) ?? []).length;
      if (opens !== closes) this.add(path, 'error', `unbalanced {{ }} in ${JSON.stringify(v)}`);
      for (const m of v.matchAll(/(?<!\\)\{\{((?:\{[^{}]*\}|[^{}])*)\}\}/g)) {
        const expr = m[1]!.trim();
        if (expr === '' || expr.startsWith('@')) continue;
        try {
          compileJmesPath(expr);
        } catch (e) {
          this.add(path, 'error', `unparsable JMESPath in {{${m[1]}}}: ${(e as Error).message}`);
        }
      }
      return;
    }
    if (Array.isArray(v)) v.forEach((x, i) => this.variables(x, [...path, i]));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) {
      if (k.includes('{{')) this.variables(k, [...path, k]);
      this.variables(x, [...path, k]);
    }
  }

  jmespath(expr: unknown, path: Path): void {
    if (typeof expr !== 'string') {
      this.add(path, 'error', 'expected a JMESPath expression string');
      return;
    }
    if (expr.includes('{{')) return this.variables(expr, path);
    try {
      compileJmesPath(expr);
    } catch (e) {
      this.add(path, 'error', `unparsable JMESPath ${JSON.stringify(expr)}: ${(e as Error).message}`);
    }
  }

  anchors(v: unknown, path: Path): void {
    if (Array.isArray(v)) v.forEach((x, i) => this.anchors(x, [...path, i]));
    else if (isObj(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (looksLikeBadAnchor(k)) this.add([...path, k], 'error', `unknown anchor ${JSON.stringify(k)}: use (key), =(key), ^(key), X(key) or <(key)`);
        const a = parseAnchor(k);
        if (a?.kind === 'addIfNotPresent') this.add([...path, k], 'error', `anchor +(${a.key}) is only valid in mutate overlays`);
        if (a?.kind === 'existence' && !Array.isArray(x)) this.add([...path, k], 'error', `existence anchor ^(${a.key}) needs a list value`);
        this.anchors(x, [...path, k]);
      }
    }
  }

  conditions(v: unknown, path: Path): void {
    if (v === undefined || v === null) return;
    const check = (list: unknown, p: Path) => {
      if (!Array.isArray(list)) return this.add(p, 'error', 'conditions must be a list');
      list.forEach((c, i) => {
        if (!isObj(c)) return this.add([...p, i], 'error', 'condition must be an object');
        for (const k of Object.keys(c)) if (!['key', 'operator', 'value', 'message'].includes(k)) this.add([...p, i, k], 'error', `unknown field ${JSON.stringify(k)} in condition`);
        if (!('key' in c)) this.add([...p, i], 'error', 'condition needs a key');
        const op = String(c['operator'] ?? '');
        if (!OPS_LOWER.has(op.toLowerCase())) this.add([...p, i, 'operator'], 'error', `unknown condition operator ${JSON.stringify(op)}`);
        else if (['in', 'notin'].includes(op.toLowerCase())) this.add([...p, i, 'operator'], 'warning', `operator ${op} is deprecated; use AnyIn/AllIn or AnyNotIn/AllNotIn`);
        else if (/^duration/i.test(op)) this.add([...p, i, 'operator'], 'warning', `operator ${op} is deprecated; GreaterThan/LessThan compare durations`);
        this.variables(c, [...p, i]);
      });
    };
    if (Array.isArray(v)) {
      check(v, path);
      return;
    }
    if (!isObj(v)) return this.add(path, 'error', 'conditions must be {any: [...], all: [...]} or a list');
    for (const k of Object.keys(v)) if (k !== 'any' && k !== 'all') this.add([...path, k], 'error', `unknown field ${JSON.stringify(k)} in conditions (any | all)`);
    if (v['any'] !== undefined) check(v['any'], [...path, 'any']);
    if (v['all'] !== undefined) check(v['all'], [...path, 'all']);
  }

  resourceDescription(v: unknown, path: Path, requireKinds: boolean): void {
    if (!this.fields(v, RD_FIELDS, path, 'resources')) return;
    const kinds = v['kinds'];
    if (requireKinds && (!Array.isArray(kinds) || kinds.length === 0)) this.add(path, 'error', 'match resources need at least one kind');
    if (kinds !== undefined && (!Array.isArray(kinds) || kinds.some((k) => typeof k !== 'string' || k === ''))) this.add([...path, 'kinds'], 'error', 'kinds must be a list of non-empty strings');
    if (v['name'] !== undefined) this.add([...path, 'name'], 'warning', 'resources.name is deprecated; use names');
    const ops = v['operations'];
    if (Array.isArray(ops)) ops.forEach((o, i) => OPERATIONS.includes(String(o)) || this.add([...path, 'operations', i], 'error', `unknown operation ${JSON.stringify(o)}`));
  }

  match(v: unknown, path: Path, isMatch: boolean): void {
    if (!this.fields(v, MATCH_FIELDS, path, isMatch ? 'match' : 'exclude')) return;
    const hasAnyAll = v['any'] !== undefined || v['all'] !== undefined;
    if (hasAnyAll && v['resources'] !== undefined) this.add(path, 'error', 'use either any/all or resources, not both');
    if (v['any'] !== undefined && v['all'] !== undefined) this.add(path, 'error', 'use either any or all, not both');
    for (const k of ['any', 'all'] as const) {
      const list = v[k];
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        this.add([...path, k], 'error', `${k} must be a list`);
        continue;
      }
      list.forEach((f, i) => {
        if (!this.fields(f, FILTER_FIELDS, [...path, k, i], 'resource filter')) return;
        if (f['resources'] !== undefined) this.resourceDescription(f['resources'], [...path, k, i, 'resources'], isMatch);
        else if (isMatch && !f['subjects'] && !f['roles'] && !f['clusterRoles']) this.add([...path, k, i], 'error', 'resource filter is empty');
      });
    }
    if (v['resources'] !== undefined) this.resourceDescription(v['resources'], [...path, 'resources'], isMatch);
    else if (isMatch && !hasAnyAll && !v['subjects'] && !v['roles'] && !v['clusterRoles']) this.add(path, 'error', 'match needs any, all or resources');
  }

  context(v: unknown, path: Path): void {
    if (v === undefined) return;
    if (!Array.isArray(v)) return this.add(path, 'error', 'context must be a list');
    v.forEach((e, i) => {
      if (!this.fields(e, CONTEXT_FIELDS, [...path, i], 'context entry')) return;
      if (typeof e['name'] !== 'string' || e['name'] === '') this.add([...path, i], 'error', 'context entry needs a name');
      const kinds = ['variable', 'configMap', 'apiCall', 'imageRegistry', 'globalReference'].filter((k) => e[k] !== undefined);
      if (kinds.length !== 1) this.add([...path, i], 'error', 'context entry needs exactly one of variable, configMap, apiCall, imageRegistry, globalReference');
      if (kinds.includes('configMap') || kinds.includes('apiCall') || kinds.includes('imageRegistry') || kinds.includes('globalReference')) {
        this.add([...path, i], 'warning', `context entry ${String(e['name'])} (${kinds[0]}) needs cluster or registry access; offline tests must supply it in a values file`);
      }
      const variable = e['variable'];
      if (isObj(variable)) {
        for (const k of Object.keys(variable)) if (!['value', 'jmesPath', 'default'].includes(k)) this.add([...path, i, 'variable', k], 'error', `unknown field ${JSON.stringify(k)} in variable`);
        if (variable['jmesPath'] !== undefined) this.jmespath(variable['jmesPath'], [...path, i, 'variable', 'jmesPath']);
        this.variables(variable['value'], [...path, i, 'variable', 'value']);
        this.variables(variable['default'], [...path, i, 'variable', 'default']);
      }
      this.variables(e['apiCall'], [...path, i, 'apiCall']);
      this.variables(e['configMap'], [...path, i, 'configMap']);
    });
  }

  /** One CEL expression: it must parse and type-check in the validate.cel environment. */
  celExpression(expr: unknown, path: Path, what: string): void {
    if (typeof expr !== 'string' || expr.trim() === '') return this.add(path, 'error', `${what} is required`);
    try {
      const c = compileCel(expr);
      if (c.usesAuthorizer) this.add(path, 'error', 'authorizer checks need the API server; duallane evaluates this rule as error');
    } catch (e) {
      if (e instanceof CelCompileError) this.add(path, 'error', `CEL ${what} does not compile: ${e.message}`);
      else throw e;
    }
  }

  /** validate.cel, as Kyverno's policy validation checks it, plus compiling every expression. */
  cel(v: unknown, path: Path): void {
    if (!this.fields(v, CEL_FIELDS, path, 'cel')) return;
    const exprs = v['expressions'];
    if (!Array.isArray(exprs) || exprs.length === 0) this.add(path, 'error', 'cel.expressions must be a non-empty list');
    else exprs.forEach((x, i) => {
      const p = [...path, 'expressions', i];
      if (!this.fields(x, ['expression', 'message', 'messageExpression', 'reason'], p, 'cel expression')) return;
      this.celExpression(x['expression'], [...p, 'expression'], 'expression');
      if (x['messageExpression'] !== undefined) this.celExpression(x['messageExpression'], [...p, 'messageExpression'], 'messageExpression');
      if (x['message'] !== undefined && typeof x['message'] !== 'string') this.add([...p, 'message'], 'error', 'message must be a string');
      if (x['reason'] !== undefined && !CEL_REASONS.includes(String(x['reason']))) this.add([...p, 'reason'], 'error', `reason must be one of ${CEL_REASONS.join(', ')}`);
    });
    const vars = v['variables'];
    if (vars !== undefined) {
      const seen = new Set<string>();
      if (!Array.isArray(vars)) this.add([...path, 'variables'], 'error', 'cel.variables must be a list');
      else vars.forEach((x, i) => {
        const p = [...path, 'variables', i];
        if (!this.fields(x, ['name', 'expression'], p, 'cel variable')) return;
        const name = x['name'];
        if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.add([...p, 'name'], 'error', 'cel variable name must be a CEL identifier');
        else if (seen.has(name)) this.add([...p, 'name'], 'error', `duplicate cel variable ${name}`);
        else seen.add(name);
        this.celExpression(x['expression'], [...p, 'expression'], 'variable expression');
      });
    }
    const aa = v['auditAnnotations'];
    if (aa !== undefined) {
      this.add([...path, 'auditAnnotations'], 'warning', 'cel.auditAnnotations only annotate audit events; duallane does not evaluate them');
      if (!Array.isArray(aa)) this.add([...path, 'auditAnnotations'], 'error', 'cel.auditAnnotations must be a list');
      else aa.forEach((x, i) => {
        const p = [...path, 'auditAnnotations', i];
        if (!this.fields(x, ['key', 'valueExpression'], p, 'audit annotation')) return;
        if (typeof x['key'] !== 'string' || x['key'] === '') this.add(p, 'error', 'cel.auditAnnotation.key is required');
        this.celExpression(x['valueExpression'], [...p, 'valueExpression'], 'valueExpression');
      });
    }
    for (const k of ['paramKind', 'paramRef'] as const) {
      if (v[k] !== undefined) this.add([...path, k], 'error', `cel.${k}: parameter resources live in a cluster; duallane evaluates this rule as error`);
    }
  }

  celPreconditions(v: unknown, path: Path): void {
    if (!Array.isArray(v)) return this.add(path, 'error', 'celPreconditions must be a list of {name, expression}');
    const seen = new Set<string>();
    v.forEach((c, i) => {
      const p = [...path, i];
      if (!this.fields(c, ['name', 'expression'], p, 'celPrecondition')) return;
      if (typeof c['name'] !== 'string' || c['name'] === '') this.add(p, 'error', 'celPrecondition needs a name');
      else if (seen.has(c['name'])) this.add([...p, 'name'], 'error', `duplicate celPrecondition ${c['name']}`);
      else seen.add(c['name']);
      this.celExpression(c['expression'], [...p, 'expression'], 'celPrecondition expression');
    });
  }

  validateBody(v: Obj, path: Path, allowed: string[], what: string): void {
    const kinds = ['pattern', 'anyPattern', 'deny', 'foreach', 'podSecurity', 'cel', 'manifests', 'assert'].filter((k) => v[k] !== undefined);
    if (kinds.length !== 1) this.add(path, 'error', `${what} needs exactly one of pattern, anyPattern, deny, foreach${what === 'validate' ? ', podSecurity, cel, manifests' : ''} (found ${kinds.length ? kinds.join(', ') : 'none'})`);
    for (const k of kinds) if (['manifests', 'assert'].includes(k)) this.add([...path, k], 'warning', `validate.${k} is not supported by the duallane evaluator (results will be error)`);
    if (v['cel'] !== undefined) this.cel(v['cel'], [...path, 'cel']);
    const ps = v['podSecurity'];
    if (ps !== undefined && this.fields(ps, ['level', 'version', 'exclude'], [...path, 'podSecurity'], 'podSecurity')) {
      if (!['baseline', 'restricted', 'privileged'].includes(String(ps['level']))) this.add([...path, 'podSecurity', 'level'], 'error', 'podSecurity.level must be baseline, restricted or privileged');
      if (ps['exclude'] !== undefined && !Array.isArray(ps['exclude'])) this.add([...path, 'podSecurity', 'exclude'], 'error', 'podSecurity.exclude must be a list');
      else for (const [i, e] of ((ps['exclude'] as unknown[]) ?? []).entries()) if (!isObj(e) || typeof e['controlName'] !== 'string') this.add([...path, 'podSecurity', 'exclude', i], 'error', 'each exclude needs a controlName');
    }
    if (v['pattern'] !== undefined) {
      this.anchors(v['pattern'], [...path, 'pattern']);
      this.variables(v['pattern'], [...path, 'pattern']);
    }
    if (v['anyPattern'] !== undefined) {
      if (!Array.isArray(v['anyPattern'])) this.add([...path, 'anyPattern'], 'error', 'anyPattern must be a list');
      else v['anyPattern'].forEach((p, i) => {
        this.anchors(p, [...path, 'anyPattern', i]);
        this.variables(p, [...path, 'anyPattern', i]);
      });
    }
    if (v['deny'] !== undefined) {
      if (!isObj(v['deny'])) this.add([...path, 'deny'], 'error', 'deny must be an object with conditions');
      else {
        for (const k of Object.keys(v['deny'])) if (k !== 'conditions') this.add([...path, 'deny', k], 'error', `unknown field ${JSON.stringify(k)} in deny`);
        this.conditions(v['deny']['conditions'], [...path, 'deny', 'conditions']);
      }
    }
    if (v['foreach'] !== undefined) {
      if (!Array.isArray(v['foreach'])) this.add([...path, 'foreach'], 'error', 'foreach must be a list');
      else v['foreach'].forEach((f, i) => {
        const p = [...path, 'foreach', i];
        if (!this.fields(f, FOREACH_FIELDS, p, 'foreach')) return;
        if (f['list'] === undefined) this.add(p, 'error', 'foreach needs a list expression');
        else {
          if (typeof f['list'] === 'string' && /^\s*\{\{[\s\S]*\}\}\s*$/.test(f['list'])) this.add([...p, 'list'], 'warning', 'foreach.list is a JMESPath expression; write it without {{ }}');
          this.jmespath(f['list'], [...p, 'list']);
        }
        this.context(f['context'], [...p, 'context']);
        this.conditions(f['preconditions'], [...p, 'preconditions']);
        this.validateBody(f, p, FOREACH_FIELDS, 'foreach');
      });
    }
    void allowed;
  }

  verifyImages(v: unknown, path: Path): void {
    if (!Array.isArray(v)) return this.add(path, 'error', 'verifyImages must be a list');
    v.forEach((iv, i) => {
      const p = [...path, i];
      if (!this.fields(iv, VERIFY_FIELDS, p, 'verifyImages entry')) return;
      if (iv['image'] !== undefined) this.add([...p, 'image'], 'warning', 'verifyImages.image is deprecated; use imageReferences');
      if (iv['key'] !== undefined) this.add([...p, 'key'], 'warning', 'verifyImages.key is deprecated; use attestors');
      if (iv['validationFailureAction'] !== undefined) this.add([...p, 'validationFailureAction'], 'warning', 'use failureAction');
      const refs = iv['imageReferences'];
      if (refs === undefined && iv['image'] === undefined) this.add(p, 'error', 'verifyImages entry needs imageReferences');
      else if (refs !== undefined && (!Array.isArray(refs) || refs.length === 0)) this.add([...p, 'imageReferences'], 'error', 'imageReferences must be a non-empty list');
      if (iv['failureAction'] !== undefined && !['Audit', 'Enforce'].includes(String(iv['failureAction']))) this.add([...p, 'failureAction'], 'error', 'failureAction must be Audit or Enforce');
      if (iv['type'] !== undefined && !['Cosign', 'SigstoreBundle', 'Notary'].includes(String(iv['type']))) this.add([...p, 'type'], 'error', `unknown verifyImages type ${JSON.stringify(iv['type'])}`);
      const atts = iv['attestors'];
      if (atts !== undefined) {
        if (!Array.isArray(atts)) this.add([...p, 'attestors'], 'error', 'attestors must be a list');
        else atts.forEach((a, j) => this.attestor(a, [...p, 'attestors', j]));
      }
      if (atts === undefined && iv['attestations'] === undefined && iv['key'] === undefined) this.add(p, 'error', 'verifyImages entry needs attestors or attestations');
      const attestations = iv['attestations'];
      if (attestations !== undefined) {
        if (!Array.isArray(attestations)) this.add([...p, 'attestations'], 'error', 'attestations must be a list');
        else attestations.forEach((a, j) => {
          const ap = [...p, 'attestations', j];
          if (!this.fields(a, ATTESTATION_FIELDS, ap, 'attestation')) return;
          if (a['predicateType'] !== undefined) this.add([...ap, 'predicateType'], 'warning', 'attestations.predicateType is deprecated; use type');
          if (a['type'] === undefined && a['predicateType'] === undefined) this.add(ap, 'error', 'attestation needs a type');
          if (Array.isArray(a['attestors'])) a['attestors'].forEach((x, k) => this.attestor(x, [...ap, 'attestors', k]));
          if (a['conditions'] !== undefined) {
            if (!Array.isArray(a['conditions'])) this.add([...ap, 'conditions'], 'error', 'attestation conditions must be a list of {any|all}');
            else a['conditions'].forEach((c, k) => this.conditions(c, [...ap, 'conditions', k]));
          }
        });
      }
    });
  }

  attestor(a: unknown, path: Path): void {
    if (!this.fields(a, ['count', 'entries'], path, 'attestor')) return;
    const entries = a['entries'];
    if (!Array.isArray(entries) || entries.length === 0) return this.add(path, 'error', 'attestor needs entries');
    entries.forEach((e, i) => {
      if (!this.fields(e, ['keys', 'certificates', 'keyless', 'attestor', 'annotations', 'repository', 'signatureAlgorithm'], [...path, 'entries', i], 'attestor entry')) return;
      const kinds = ['keys', 'certificates', 'keyless', 'attestor'].filter((k) => e[k] !== undefined);
      if (kinds.length !== 1) this.add([...path, 'entries', i], 'error', 'attestor entry needs exactly one of keys, certificates, keyless, attestor');
      const kl = e['keyless'];
      if (isObj(kl) && kl['subject'] === undefined && kl['subjectRegExp'] === undefined) this.add([...path, 'entries', i, 'keyless'], 'error', 'keyless attestor needs subject or subjectRegExp');
      if (isObj(kl) && kl['issuer'] === undefined && kl['issuerRegExp'] === undefined) this.add([...path, 'entries', i, 'keyless'], 'error', 'keyless attestor needs issuer or issuerRegExp');
      const keys = e['keys'];
      if (isObj(keys) && keys['publicKeys'] === undefined && keys['kms'] === undefined && keys['secret'] === undefined) this.add([...path, 'entries', i, 'keys'], 'error', 'keys attestor needs publicKeys, kms or secret');
    });
  }

  policy(p: Obj): void {
    const apiVersion = String(p['apiVersion']);
    if (!['kyverno.io/v1', 'kyverno.io/v2beta1'].includes(apiVersion)) this.add(['apiVersion'], 'error', `unsupported apiVersion ${apiVersion} (kyverno.io/v1)`);
    const meta = p['metadata'];
    if (!isObj(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') this.add(['metadata'], 'error', 'metadata.name is required');
    else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta['name']) || meta['name'].length > 253) this.add(['metadata', 'name'], 'error', 'metadata.name must be a DNS subdomain name');
    if (p['kind'] === 'Policy' && isObj(meta) && meta['namespace'] === undefined) this.add(['metadata'], 'warning', 'namespaced Policy without metadata.namespace');
    const spec = p['spec'];
    if (!this.fields(spec, SPEC_FIELDS, ['spec'], 'spec')) return;
    if (spec['validationFailureAction'] !== undefined) {
      this.add(['spec', 'validationFailureAction'], 'warning', 'spec.validationFailureAction is deprecated since Kyverno 1.13; set failureAction on each validate/verifyImages rule');
      if (!['audit', 'enforce'].includes(String(spec['validationFailureAction']).toLowerCase())) this.add(['spec', 'validationFailureAction'], 'error', 'validationFailureAction must be Audit or Enforce');
    }
    if (spec['validationFailureActionOverrides'] !== undefined) this.add(['spec', 'validationFailureActionOverrides'], 'warning', 'spec.validationFailureActionOverrides is deprecated; use failureActionOverrides on each rule');
    if (spec['failurePolicy'] !== undefined && !['Fail', 'Ignore'].includes(String(spec['failurePolicy']))) this.add(['spec', 'failurePolicy'], 'error', 'failurePolicy must be Fail or Ignore');
    const rules = spec['rules'];
    if (!Array.isArray(rules) || rules.length === 0) return this.add(['spec'], 'error', 'spec.rules must be a non-empty list');
    const names = new Set<string>();
    rules.forEach((r, i) => {
      const path: Path = ['spec', 'rules', i];
      if (!this.fields(r, RULE_FIELDS, path, 'rule')) return;
      const name = r['name'];
      if (typeof name !== 'string' || name === '') this.add(path, 'error', 'rule needs a name');
      else {
        if (name.length > 63) this.add([...path, 'name'], 'error', 'rule name longer than 63 characters');
        if (names.has(name)) this.add([...path, 'name'], 'error', `duplicate rule name ${name}`);
        names.add(name);
      }
      const types = ['validate', 'mutate', 'generate', 'verifyImages'].filter((k) => r[k] !== undefined);
      if (types.length !== 1) this.add(path, 'error', `rule needs exactly one of validate, mutate, generate, verifyImages (found ${types.length ? types.join(', ') : 'none'})`);
      if (r['match'] === undefined) this.add(path, 'error', 'rule needs match');
      else this.match(r['match'], [...path, 'match'], true);
      if (r['exclude'] !== undefined) this.match(r['exclude'], [...path, 'exclude'], false);
      this.context(r['context'], [...path, 'context']);
      this.conditions(r['preconditions'], [...path, 'preconditions']);
      const isCel = isObj(r['validate']) && r['validate']['cel'] !== undefined;
      if (r['celPreconditions'] !== undefined) {
        if (!isCel) this.add([...path, 'celPreconditions'], 'error', 'celPreconditions can only be used with validate.cel');
        this.celPreconditions(r['celPreconditions'], [...path, 'celPreconditions']);
      }
      if (isCel) for (const k of ['context', 'preconditions'] as const) if (r[k] !== undefined) this.add([...path, k], 'warning', `${k} is ignored by validate.cel rules (Kyverno evaluates only celPreconditions)`);
      const g = r['generate'];
      if (g !== undefined && this.fields(g, ['apiVersion', 'kind', 'name', 'namespace', 'data', 'clone', 'cloneList', 'synchronize', 'orphanDownstreamOnPolicyDelete', 'uid', 'foreach', 'generateExisting'], [...path, 'generate'], 'generate')) {
        if (g['data'] === undefined && g['clone'] === undefined && g['cloneList'] === undefined && g['foreach'] === undefined) this.add([...path, 'generate'], 'error', 'generate needs data, clone, cloneList or foreach');
        if (g['data'] !== undefined || g['clone'] !== undefined) for (const k of ['kind', 'name']) if (g[k] === undefined) this.add([...path, 'generate'], 'error', `generate needs ${k}`);
        this.variables(g, [...path, 'generate']);
      }
      const m = r['mutate'];
      if (m !== undefined && this.fields(m, ['patchStrategicMerge', 'patchesJson6902', 'foreach', 'targets'], [...path, 'mutate'], 'mutate')) {
        if (m['targets'] !== undefined) this.add([...path, 'mutate', 'targets'], 'warning', 'mutate existing (targets) is not evaluated by duallane');
        if (m['patchStrategicMerge'] !== undefined) this.variables(m['patchStrategicMerge'], [...path, 'mutate', 'patchStrategicMerge']);
        if (m['patchesJson6902'] !== undefined) {
          if (typeof m['patchesJson6902'] !== 'string') this.add([...path, 'mutate', 'patchesJson6902'], 'error', 'patchesJson6902 must be a YAML string of operations');
          else this.variables(m['patchesJson6902'], [...path, 'mutate', 'patchesJson6902']);
        }
        if (m['foreach'] !== undefined) {
          if (!Array.isArray(m['foreach'])) this.add([...path, 'mutate', 'foreach'], 'error', 'foreach must be a list');
          else m['foreach'].forEach((f, i) => {
            const fp = [...path, 'mutate', 'foreach', i];
            if (!this.fields(f, ['list', 'order', 'context', 'preconditions', 'patchStrategicMerge', 'patchesJson6902', 'foreach'], fp, 'foreach')) return;
            if (f['list'] === undefined) this.add(fp, 'error', 'foreach needs a list expression');
            else this.jmespath(f['list'], [...fp, 'list']);
            this.context(f['context'], [...fp, 'context']);
            this.conditions(f['preconditions'], [...fp, 'preconditions']);
            this.variables(f['patchStrategicMerge'], [...fp, 'patchStrategicMerge']);
          });
        }
        const kinds = ['patchStrategicMerge', 'patchesJson6902', 'foreach'].filter((k) => m[k] !== undefined);
        if (kinds.length === 0 && m['targets'] === undefined) this.add([...path, 'mutate'], 'error', 'mutate needs patchStrategicMerge, patchesJson6902 or foreach');
      }
      const v = r['validate'];
      if (v !== undefined && this.fields(v, VALIDATE_FIELDS, [...path, 'validate'], 'validate')) {
        if (v['failureAction'] !== undefined && !['Audit', 'Enforce'].includes(String(v['failureAction']))) this.add([...path, 'validate', 'failureAction'], 'error', 'failureAction must be Audit or Enforce');
        this.variables(v['message'], [...path, 'validate', 'message']);
        this.validateBody(v, [...path, 'validate'], VALIDATE_FIELDS, 'validate');
      }
      if (r['verifyImages'] !== undefined) this.verifyImages(r['verifyImages'], [...path, 'verifyImages']);
    });
  }
}

function fmtPath(path: Path): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

export function lintDocument(d: LoadedDoc): LintFinding[] {
  const l = new Linter(d);
  if (isKyvernoPolicy(d.value)) l.policy(d.value as unknown as Obj);
  return l.findings;
}

export interface LintReport {
  files: { file: string; policies: string[]; findings: LintFinding[] }[];
  errors: number;
  warnings: number;
}

export async function lintFiles(files: string[]): Promise<LintReport> {
  const report: LintReport = { files: [], errors: 0, warnings: 0 };
  // Files named explicitly warn about non-policy documents; files found by walking a directory do not.
  const expanded: { file: string; explicit: boolean }[] = [];
  for (const f of files) {
    const under = await yamlFilesUnder(f);
    expanded.push(...under.map((file) => ({ file, explicit: under.length === 1 && file === f })));
  }
  for (const { file, explicit } of expanded) {
    const findings: LintFinding[] = [];
    const policies: string[] = [];
    let docs: LoadedDoc[] = [];
    try {
      docs = await loadYamlFile(file);
    } catch (e) {
      if (e instanceof PolicyError && e.code === 'POLICY_UNREADABLE') throw e;
      const line = Number((e as PolicyError).details?.['line'] ?? 1);
      findings.push({ file, line, path: '', severity: 'error', message: (e as Error).message.replace(/^[^:]+:\d+: /, '') });
    }
    for (const d of docs) {
      if (!isKyvernoPolicy(d.value)) {
        if (!explicit) continue;
        const kind = (d.value as Obj)?.['kind'];
        findings.push({ file, line: d.line, path: '', severity: 'warning', message: `not a Kyverno ClusterPolicy/Policy (kind ${JSON.stringify(kind ?? null)}); skipped` });
        continue;
      }
      policies.push(String((d.value as { metadata?: { name?: string } }).metadata?.name ?? ''));
      findings.push(...lintDocument(d));
    }
    if (!explicit && policies.length === 0 && findings.length === 0) continue;
    findings.sort((a, b) => a.line - b.line);
    report.errors += findings.filter((f) => f.severity === 'error').length;
    report.warnings += findings.filter((f) => f.severity === 'warning').length;
    report.files.push({ file, policies, findings });
  }
  return report;
}
