import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { evaluatePolicy, generatePolicy, mutatePolicy } from './engine.js';
import { assertTree, AssertionTreeError, formatAssertionErrors } from './assertion-tree.js';
import { generatedItems } from './generate.js';
import { deepEqual } from './mutate.js';
import { wildcardMatch } from './wildcard.js';
import type { ImageVerifier } from './image-verifier.js';
import { loadExceptions, loadPolicies, loadResources, loadYamlFile, loadYamlValues } from './load.js';
import { PolicyError } from './policy-error.js';
import type { Policy, PolicyException, PolicyResponse, RequestInfo, Resource, RuleStatus } from './types.js';

/**
 * `kyverno test` semantics (cmd/cli/kubectl-kyverno/commands/test): find every `kyverno-test.yaml`
 * under the given directories (hidden `.kyverno-test/` folders included), apply its policies to its
 * resources with its values, then check each expected result. For every result and every listed
 * resource: the engine responses of that policy for a resource of that kind and name are looked up;
 * each rule response named `rule`, `autogen-rule` or `autogen-cronjob-rule` is compared with the
 * expectation; a response without a matching rule means the resource was excluded (a pass, counted
 * as skip); no response at all is "Not found" (a failure).
 */
export interface TestResultSpec {
  policy: string;
  rule: string;
  resources?: string[];
  resource?: string;
  kind?: string;
  namespace?: string;
  result?: RuleStatus;
  status?: RuleStatus;
  /** v1alpha1 name; `patchedResource` is the pre-1.11 spelling. */
  patchedResources?: string;
  patchedResource?: string;
  generatedResource?: string;
  cloneSourceResource?: string;
}

/**
 * A `checks` item (Kyverno 1.12+ assertion trees): `match` selects engine responses by resource and
 * policy and rule responses by rule name; `assert` must hold for each selected rule response, `error`
 * must not. Each is a Kyverno JSON assertion tree (see assertion-tree.ts).
 */
export interface CheckSpec {
  match?: { resource?: unknown; policy?: unknown; rule?: unknown };
  assert?: unknown;
  error?: unknown;
}

export interface ValuesSpec {
  globalValues?: Record<string, unknown>;
  policies?: { name: string; rules?: { name: string; values?: Record<string, unknown>; foreachValues?: Record<string, unknown[]> }[]; resources?: { name: string; values?: Record<string, unknown> }[] }[];
  namespaceSelector?: { name: string; labels?: Record<string, string> }[];
  subresources?: unknown[];
}

export interface TestFile {
  path: string;
  name: string;
  policies: string[];
  resources: string[];
  variables?: string;
  values?: ValuesSpec;
  userinfo?: string;
  exceptions: string[];
  results: TestResultSpec[];
  checks: CheckSpec[];
  /** Schema notes (deprecated fields in use), reported but not fatal. */
  warnings: string[];
}

export interface TestRow {
  id: number;
  policy: string;
  rule: string;
  resource: string;
  kind: string;
  expected: RuleStatus;
  actual?: RuleStatus;
  /** pass: actual matched the expectation; fail: it did not (or nothing was found). */
  outcome: 'pass' | 'fail';
  /** True when the row counts as a skip in the summary (expected skip, or excluded). */
  skipped: boolean;
  reason: string;
  message: string;
  /** True for a row from a `checks` item (expected is then the rule's own status). */
  check?: boolean;
}

export interface TestCaseReport {
  path: string;
  name: string;
  rows: TestRow[];
  evaluations: number;
  warnings: string[];
  skippedPolicies: Record<string, string>;
}

export interface TestRunReport {
  tests: TestCaseReport[];
  summary: { pass: number; fail: number; skip: number; evaluations: number };
}

export interface RunTestsOptions {
  fileName?: string;
  imageVerifier?: ImageVerifier;
  /** `--test-case-selector "policy=a, rule=b, resource=c"` (wildcards allowed), as in kyverno test. */
  selector?: string;
}

/** Parses and applies a test-case selector; unknown keys are a usage error. */
export function applySelector(results: TestResultSpec[], selector: string | undefined): TestResultSpec[] {
  if (!selector) return results;
  const sel: Record<string, string> = {};
  for (const part of selector.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const i = t.indexOf('=');
    const k = i > 0 ? t.slice(0, i).trim() : '';
    if (!['policy', 'rule', 'resource'].includes(k)) throw new PolicyError('BAD_USAGE', `invalid test case selector ${JSON.stringify(t)} (policy=, rule=, resource=)`);
    sel[k] = t.slice(i + 1).trim();
  }
  const out: TestResultSpec[] = [];
  for (const r of results) {
    if (sel['policy'] && !wildcardMatch(sel['policy'], r.policy)) continue;
    if (sel['rule'] && !wildcardMatch(sel['rule'], r.rule)) continue;
    if (sel['resource']) {
      const names = (r.resources ?? (r.resource ? [r.resource] : [])).filter((n) => wildcardMatch(sel['resource']!, n));
      if (names.length === 0) continue;
      out.push({ ...r, resources: names, resource: undefined });
      continue;
    }
    out.push(r);
  }
  return out;
}

const STATUSES = new Set(['pass', 'fail', 'skip', 'warn', 'error']);

export async function findTestFiles(dirs: string[], fileName = 'kyverno-test.yaml'): Promise<string[]> {
  const out: string[] = [];
  async function walk(p: string): Promise<void> {
    let s;
    try {
      s = await stat(p);
    } catch (e) {
      throw new PolicyError('TEST_FILE_INVALID', `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (!s.isDirectory()) {
      if (p.endsWith(fileName) || dirs.includes(p)) out.push(p);
      return;
    }
    const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || e.name === '.git') continue;
        await walk(join(p, e.name));
      } else if (e.name === fileName) out.push(join(p, e.name));
    }
  }
  for (const d of dirs) await walk(d);
  return out;
}

function asStringList(v: unknown, field: string, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new PolicyError('TEST_FILE_INVALID', `${path}: ${field} must be a list of paths`);
  return v as string[];
}

export async function loadTestFile(path: string): Promise<TestFile> {
  const docs = await loadYamlValues(path);
  const d = docs[0];
  if (!d || typeof d.value !== 'object' || d.value === null) throw new PolicyError('TEST_FILE_INVALID', `${path}: empty test file`);
  const t = d.value as Record<string, unknown>;
  const warnings: string[] = [];
  if (t['apiVersion'] === undefined || t['kind'] === undefined) warnings.push('test file has no apiVersion/kind (legacy schema); use apiVersion: cli.kyverno.io/v1alpha1, kind: Test');
  else if (t['kind'] !== 'Test' || !String(t['apiVersion']).startsWith('cli.kyverno.io/')) throw new PolicyError('TEST_FILE_INVALID', `${path}: expected apiVersion cli.kyverno.io/v1alpha1 kind Test`);
  const meta = (t['metadata'] ?? {}) as { name?: string };
  const checks = parseChecks(t['checks'], path);
  const results = t['results'] ?? (checks.length > 0 ? [] : undefined);
  if (!Array.isArray(results)) throw new PolicyError('TEST_FILE_INVALID', `${path}: results must be a list`);
  for (const [i, r] of (results as TestResultSpec[]).entries()) {
    if (!r || typeof r.policy !== 'string') throw new PolicyError('TEST_FILE_INVALID', `${path}: results[${i}].policy is required`);
    const expected = r.result ?? r.status;
    if (!expected || !STATUSES.has(String(expected))) throw new PolicyError('TEST_FILE_INVALID', `${path}: results[${i}].result must be one of pass, fail, skip, warn, error`);
    if (r.status !== undefined) warnings.push(`results[${i}].status is deprecated; use result`);
    if (r.resource !== undefined) warnings.push(`results[${i}].resource is deprecated; use resources`);
  }
  return {
    path,
    name: String(meta.name ?? t['name'] ?? relative(process.cwd(), path)),
    policies: asStringList(t['policies'], 'policies', path),
    resources: asStringList(t['resources'], 'resources', path),
    variables: typeof t['variables'] === 'string' ? (t['variables'] as string) : undefined,
    values: (t['values'] as ValuesSpec | undefined) ?? undefined,
    userinfo: typeof t['userinfo'] === 'string' ? (t['userinfo'] as string) : undefined,
    exceptions: asStringList(t['exceptions'], 'exceptions', path),
    results: results as TestResultSpec[],
    checks,
    warnings,
  };
}

function parseChecks(v: unknown, path: string): CheckSpec[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PolicyError('TEST_FILE_INVALID', `${path}: checks must be a list`);
  return v.map((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new PolicyError('TEST_FILE_INVALID', `${path}: checks[${i}] must be an object`);
    const o = c as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['match', 'assert', 'error'].includes(k)) throw new PolicyError('TEST_FILE_INVALID', `${path}: checks[${i}].${k} is not a check field (match, assert, error)`);
    const m = o['match'];
    if (m !== undefined && m !== null) {
      if (typeof m !== 'object' || Array.isArray(m)) throw new PolicyError('TEST_FILE_INVALID', `${path}: checks[${i}].match must be an object`);
      for (const k of Object.keys(m)) if (!['resource', 'policy', 'rule'].includes(k)) throw new PolicyError('TEST_FILE_INVALID', `${path}: checks[${i}].match.${k} is not a match field (resource, policy, rule)`);
    }
    for (const k of ['assert', 'error'] as const) {
      const a = o[k];
      // Kyverno evaluates each as an object tree over the rule response (name, ruleType, message, status, ...).
      if (a !== undefined && a !== null && (typeof a !== 'object' || Array.isArray(a))) throw new PolicyError('TEST_FILE_INVALID', `${path}: checks[${i}].${k} must be an object`);
    }
    return { match: (m ?? undefined) as CheckSpec['match'], assert: o['assert'] ?? undefined, error: o['error'] ?? undefined };
  });
}

export async function loadValuesFile(path: string): Promise<ValuesSpec> {
  const docs = await loadYamlFile(path);
  const v = docs[0]?.value;
  if (!v || typeof v !== 'object') throw new PolicyError('VALUES_INVALID', `${path}: empty values file`);
  const o = v as Record<string, unknown>;
  if (o['kind'] !== undefined && o['kind'] !== 'Values') throw new PolicyError('VALUES_INVALID', `${path}: expected kind Values`);
  return o as ValuesSpec;
}

async function loadUserInfo(path: string): Promise<RequestInfo> {
  const docs = await loadYamlFile(path);
  const v = (docs[0]?.value ?? {}) as { roles?: string[]; clusterRoles?: string[]; userInfo?: { username?: string; groups?: string[] } };
  return { roles: v.roles ?? [], clusterRoles: v.clusterRoles ?? [], userInfo: v.userInfo ?? {} };
}

export function policyKey(p: Policy): string {
  return p.kind === 'Policy' ? `${p.metadata.namespace ?? 'default'}/${p.metadata.name}` : p.metadata.name;
}

/** Values that apply to one policy/resource pair (globalValues, then per-resource values). */
export function valuesFor(values: ValuesSpec | undefined, policy: string, resourceName: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(values?.globalValues ?? {}) };
  for (const p of values?.policies ?? []) {
    if (p.name !== policy) continue;
    for (const r of p.resources ?? []) if (r.name === resourceName) Object.assign(out, r.values ?? {});
  }
  return out;
}

export function ruleValuesFor(values: ValuesSpec | undefined, policy: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of values?.policies ?? []) {
    if (p.name !== policy) continue;
    for (const r of p.rules ?? []) out[r.name] = { ...(out[r.name] ?? {}), ...(r.values ?? {}) };
  }
  return out;
}

export function namespaceLabelsFor(values: ValuesSpec | undefined, ns: string): Record<string, string> | undefined {
  return values?.namespaceSelector?.find((n) => n.name === ns)?.labels;
}

function resourceKey(r: Resource): string {
  return `${r.apiVersion},${r.kind},${r.metadata?.namespace ?? ''},${r.metadata?.name ?? ''}`;
}

export interface ApplyOptions {
  values?: ValuesSpec;
  request?: RequestInfo;
  imageVerifier?: ImageVerifier;
  exceptions?: PolicyException[];
  /** Sources for generate.clone rules (the test's cloneSourceResource files). */
  cloneSources?: Resource[];
}

/** Kinds that are not namespaced; every other kind defaults to namespace `default`, as in Kyverno's CLI. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'CustomResourceDefinition',
  'PriorityClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding', 'APIService', 'CSIDriver',
  'CSINode', 'RuntimeClass', 'IngressClass', 'PodSecurityPolicy', 'ClusterPolicy', 'ClusterIssuer', 'VolumeAttachment',
  'CertificateSigningRequest', 'ComponentStatus', 'FlowSchema', 'PriorityLevelConfiguration', 'ClusterPolicyReport',
  'ClusterCleanupPolicy', 'ClusterSecretStore', 'ClusterImagePolicy', 'ClusterEphemeralReport', 'ClusterAdmissionReport',
]);

/** Kyverno's CLI shows and evaluates a namespaced resource without a namespace as being in `default`. */
export function withDefaultNamespace(r: Resource): Resource {
  if (CLUSTER_SCOPED.has(String(r.kind)) || (r.metadata && r.metadata.namespace)) return r;
  return { ...r, metadata: { ...(r.metadata ?? {}), namespace: 'default' } };
}

/** Applies every policy to every resource (as the CLI processor does) and returns all engine responses. */
export async function applyPolicies(policies: Policy[], resources: Resource[], opts: ApplyOptions = {}): Promise<PolicyResponse[]> {
  const out: PolicyResponse[] = [];
  for (const given of resources) {
    const original = withDefaultNamespace(given);
    const name = String(original.metadata?.name ?? '');
    const ns = String(original.metadata?.namespace ?? '');
    const optsFor = (policy: Policy) => {
      const values = valuesFor(opts.values, policy.metadata.name, name);
      const op = String(values['request.operation'] ?? opts.request?.operation ?? 'CREATE').toUpperCase() as RequestInfo['operation'];
      return {
        request: { ...opts.request, operation: op, namespaceLabels: namespaceLabelsFor(opts.values, original.kind === 'Namespace' ? name : ns) ?? opts.request?.namespaceLabels },
        values,
        ruleValues: ruleValuesFor(opts.values, policy.metadata.name),
        imageVerifier: opts.imageVerifier,
        exceptions: opts.exceptions,
      };
    };
    // Kyverno's CLI order: every policy's mutations first (each sees the previous result), then validation.
    let resource = original;
    for (const policy of policies) {
      if (!(policy.spec.rules ?? []).some((r) => r && r.mutate)) continue;
      const r = await mutatePolicy(policy, resource, optsFor(policy));
      out.push(r);
      if (r.patchedResource) resource = r.patchedResource;
    }
    for (const policy of policies) {
      if (!(policy.spec.rules ?? []).some((r) => r && (r.validate || r.verifyImages))) continue;
      out.push(await evaluatePolicy(policy, resource, optsFor(policy)));
    }
    for (const policy of policies) {
      if (!(policy.spec.rules ?? []).some((r) => r && r.generate)) continue;
      out.push(await generatePolicy(policy, resource, { ...optsFor(policy), cloneSources: opts.cloneSources }));
    }
  }
  return out;
}

function dedupe(resources: Resource[]): Resource[] {
  const seen = new Map<string, Resource>();
  for (const r of resources) seen.set(resourceKey(r), r);
  return [...seen.values()];
}

/** Expected patched resources by the `patchedResource` path of a result, loaded by the caller. */
export type PatchedResources = Map<string, Resource[]>;

function samePatched(actual: Resource | undefined, file: Resource[] | undefined): boolean {
  if (!actual || !file) return false;
  const m = actual.metadata ?? {};
  const expected = file.find((r) => r.kind === actual.kind && r.metadata?.name === m.name && (r.metadata?.namespace ?? '') === (m.namespace ?? '')) ?? file.find((r) => r.kind === actual.kind && r.metadata?.name === m.name);
  return expected !== undefined && deepEqual(actual, expected);
}

/**
 * A patched or generated resource that differs from the test's file fails the row, except when the row
 * expects `fail`: kyverno test counts a failed check on an expected-`fail` row as a success
 * (printTestResult: `ok || test.Result == fail`; its own test-mutate/patched-resource-negative relies on
 * it). duallane applies that only to resource differences: a `Want fail, got pass` row still fails, as
 * the documentation of `kyverno test` says results must agree.
 */
function diffOutcome(expected: RuleStatus): 'pass' | 'fail' {
  return expected === 'fail' ? 'pass' : 'fail';
}

export function checkResults(results: TestResultSpec[], responses: (PolicyResponse & { policyKey?: string })[], patched: PatchedResources = new Map()): TestRow[] {
  const rows: TestRow[] = [];
  let id = 1;
  // Index by policy, kind and resource name: test files list thousands of results.
  const index = new Map<string, (PolicyResponse & { policyKey?: string })[]>();
  const clusterPolicyNames = new Set(responses.filter((r) => (r.policyKey ?? r.policy) === r.policy).map((r) => r.policy));
  for (const r of responses) {
    // A namespaced Policy is named `ns/name` (Kyverno 1.11+ CLI, cache.MetaObjectToName) or by its bare
    // name (earlier CLIs, and Kyverno's own generate tests still use it): both find it.
    // (The bare name is not used when a ClusterPolicy has it.)
    const policyNames = new Set([r.policyKey ?? r.policy]);
    if (!clusterPolicyNames.has(r.policy)) policyNames.add(r.policy);
    for (const pol of policyNames) {
      for (const name of [r.resource.name, r.resource.namespace ? `${r.resource.namespace}/${r.resource.name}` : undefined]) {
        if (name === undefined) continue;
        const key = `${pol}\u0000${r.resource.kind}\u0000${name}`;
        const list = index.get(key) ?? [];
        if (!list.includes(r)) list.push(r);
        index.set(key, list);
      }
    }
  }
  for (const t of results) {
    const expected = (t.result ?? t.status) as RuleStatus;
    const kind = t.kind ?? '';
    const names = t.resources ?? (t.resource ? [t.resource] : []);
    for (const resName of names) {
      // Kyverno's CLI (1.11+, lookupEngineResponses) finds responses by policy, kind and resource name
      // (`name` or `ns/name`) only: a result's `namespace` field is shown but does not filter.
      const matching = index.get(`${t.policy}\u0000${kind}\u0000${resName}`) ?? [];
      const resourceLabel = `${kind}/${t.namespace ?? ''}/${resName}`.replace('//', '/');
      const before = rows.length;
      for (const resp of matching) {
        const ruleResponses = resp.rules.filter((x) => x.name === t.rule || x.name === `autogen-${t.rule}` || x.name === `autogen-cronjob-${t.rule}`);
        let any = false;
        for (const rr of ruleResponses) {
          any = true;
          if (t.generatedResource) {
            // One row per generated resource (cloneList and foreach make several), as kyverno test does;
            // a rule that generated nothing leaves the resource excluded.
            const items = generatedItems(resp.generatedResources?.[rr.name]);
            if (items.length === 0 && rr.status === 'pass') {
              any = false;
              continue;
            }
            if (items.length > 1 || (items.length === 1 && rr.status === 'pass')) {
              for (const g of items) {
                const label = `${g.kind}/${g.metadata?.namespace ? `${g.metadata.namespace}/` : ''}${g.metadata?.name ?? ''}`;
                if (!samePatched(g, patched.get(t.generatedResource))) rows.push({ id: id++, policy: t.policy, rule: t.rule, resource: label, kind, expected, actual: rr.status, outcome: diffOutcome(expected), skipped: false, reason: 'Resource diff', message: "Generated resource didn't match the generated resource in the test result" });
                else {
                  const ok = rr.status === expected;
                  rows.push({ id: id++, policy: t.policy, rule: t.rule, resource: label, kind, expected, actual: rr.status, outcome: ok ? 'pass' : 'fail', skipped: ok && expected === 'skip', reason: ok ? 'Ok' : `Want ${expected}, got ${rr.status}`, message: rr.message });
                }
              }
              continue;
            }
            if (!samePatched(items[0], patched.get(t.generatedResource))) {
              rows.push({ id: id++, policy: t.policy, rule: t.rule, resource: resourceLabel, kind, expected, actual: rr.status, outcome: diffOutcome(expected), skipped: false, reason: 'Resource diff', message: "Generated resource didn't match the generated resource in the test result" });
              continue;
            }
          }
          const patchedFile = t.patchedResources ?? t.patchedResource;
          if (patchedFile && !samePatched(resp.patchedResource, patched.get(patchedFile))) {
            rows.push({ id: id++, policy: t.policy, rule: t.rule, resource: resourceLabel, kind, expected, actual: rr.status, outcome: diffOutcome(expected), skipped: false, reason: 'Resource diff', message: "Patched resource didn't match the patched resource in the test result" });
            continue;
          }
          const ok = rr.status === expected;
          rows.push({ id: id++, policy: t.policy, rule: t.rule, resource: resourceLabel, kind, expected, actual: rr.status, outcome: ok ? 'pass' : 'fail', skipped: ok && expected === 'skip', reason: ok ? 'Ok' : `Want ${expected}, got ${rr.status}`, message: rr.message });
        }
        if (!any) rows.push({ id: id++, policy: t.policy, rule: t.rule, resource: resourceLabel, kind, expected, outcome: 'pass', skipped: true, reason: 'Excluded', message: 'Excluded' });
      }
      if (rows.length === before) rows.push({ id: id++, policy: t.policy, rule: t.rule, resource: resourceLabel, kind, expected, outcome: 'fail', skipped: false, reason: 'Not found', message: 'Not found' });
    }
  }
  return rows;
}

type CheckVerdict = { ok: true } | { ok: false; reason: string };

function treeHolds(tree: unknown, value: unknown): CheckVerdict {
  try {
    const errs = assertTree(tree, value);
    return errs.length === 0 ? { ok: true } : { ok: false, reason: formatAssertionErrors(errs) };
  } catch (e) {
    if (e instanceof AssertionTreeError) throw e;
    throw new AssertionTreeError((e as Error).message);
  }
}

/**
 * `checks` semantics of `kyverno test` (commands/test, printCheckResult): every engine response whose
 * resource matches `match.resource` and whose policy matches `match.policy`; within it every rule
 * response whose `{name}` matches `match.rule`. For each such rule response, `assert` yields one row
 * (pass when the tree holds) and `error` one row (pass when the tree does NOT hold). The asserted value
 * is `{name, ruleType, message, status, podSecurityChecks, exceptions}`. A passing row counts as a skip
 * when the rule's status is skip. A tree that cannot be evaluated makes a failing row with the reason.
 */
export function checkChecks(
  checks: CheckSpec[],
  responses: (PolicyResponse & { policyKey?: string })[],
  lookup: { policy(r: PolicyResponse): Policy | undefined; resource(r: PolicyResponse): Resource | undefined },
  firstId = 1,
): TestRow[] {
  const rows: TestRow[] = [];
  let id = firstId;
  for (const check of checks) {
    for (const resp of responses) {
      let rules = resp.rules;
      try {
        if (check.match?.resource !== undefined && check.match.resource !== null && !treeHolds(check.match.resource, lookup.resource(resp) ?? null).ok) continue;
        if (check.match?.policy !== undefined && check.match.policy !== null && !treeHolds(check.match.policy, lookup.policy(resp) ?? null).ok) continue;
        if (check.match?.rule !== undefined && check.match.rule !== null) rules = rules.filter((rr) => treeHolds(check.match!.rule, { name: rr.name }).ok);
      } catch (e) {
        rows.push(checkRow(id++, resp, undefined, { ok: false, reason: `check match cannot be evaluated: ${(e as Error).message}` }));
        continue;
      }
      for (const rr of rules) {
        const data = { name: rr.name, ruleType: rr.type, message: rr.message, status: rr.status, podSecurityChecks: null, exceptions: null };
        for (const [tree, negate] of [[check.assert, false], [check.error, true]] as const) {
          if (tree === undefined || tree === null) continue;
          let verdict: CheckVerdict;
          try {
            const held = treeHolds(tree, data);
            verdict = negate ? (held.ok ? { ok: false, reason: 'The assertion succeeded but was expected to fail' } : { ok: true }) : held;
          } catch (e) {
            verdict = { ok: false, reason: `check cannot be evaluated: ${(e as Error).message}` };
          }
          rows.push(checkRow(id++, resp, rr, verdict));
        }
      }
    }
  }
  return rows;
}

function checkRow(id: number, resp: PolicyResponse, rr: PolicyResponse['rules'][number] | undefined, verdict: CheckVerdict): TestRow {
  const { kind, namespace, name } = resp.resource;
  return {
    id,
    policy: resp.policy,
    rule: rr?.name ?? '',
    resource: namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`,
    kind,
    expected: rr?.status ?? 'error',
    actual: rr?.status,
    outcome: verdict.ok ? 'pass' : 'fail',
    skipped: verdict.ok && rr?.status === 'skip',
    reason: verdict.ok ? 'Ok' : verdict.reason,
    message: rr?.message ?? '',
    check: true,
  };
}

export async function runTestFile(test: TestFile, opts: RunTestsOptions = {}): Promise<TestCaseReport> {
  const dir = dirname(test.path);
  const at = (p: string) => resolve(dir, p);
  let values: ValuesSpec | undefined = test.values;
  if (test.variables) {
    const fromFile = await loadValuesFile(at(test.variables));
    values = { ...fromFile, ...(values ?? {}) };
  }
  const request: RequestInfo = test.userinfo ? await loadUserInfo(at(test.userinfo)) : {};
  const { policies } = await loadPolicies(test.policies.map(at));
  const resources = dedupe(await loadResources(test.resources.map(at)));
  const skippedPolicies: Record<string, string> = {};
  const valid = policies.filter((p) => {
    if (!Array.isArray(p.spec.rules) || p.spec.rules.length === 0) {
      skippedPolicies[p.metadata.name] = 'policy has no rules';
      return false;
    }
    return true;
  });
  const exceptions = await loadExceptions(test.exceptions.map(at));
  const cloneSources: Resource[] = [];
  for (const r of test.results) if (r.cloneSourceResource) cloneSources.push(...(await loadResources([at(r.cloneSourceResource)])));
  const responses = (await applyPolicies(valid, resources, { values, request, imageVerifier: opts.imageVerifier, exceptions, cloneSources })).map((r) => ({
    ...r,
    policyKey: r.policyNamespace ? `${r.policyNamespace}/${r.policy}` : r.policy,
  }));
  const patched: PatchedResources = new Map();
  for (const r of test.results) {
    for (const f of [r.patchedResources ?? r.patchedResource, r.generatedResource]) {
      if (f && !patched.has(f)) patched.set(f, (await loadResources([at(f)])).map(withDefaultNamespace));
    }
  }
  const rows = checkResults(test.results, responses, patched);
  if (test.checks.length > 0) {
    const byKey = new Map(valid.map((p) => [policyKey(p), p]));
    const byResource = new Map(resources.map((r) => withDefaultNamespace(r)).map((r) => [resourceKey(r), r]));
    rows.push(
      ...checkChecks(
        test.checks,
        responses,
        {
          policy: (r) => byKey.get(r.policyNamespace ? `${r.policyNamespace}/${r.policy}` : r.policy),
          resource: (r) => byResource.get(`${r.resource.apiVersion},${r.resource.kind},${r.resource.namespace},${r.resource.name}`),
        },
        rows.length + 1,
      ),
    );
  }
  return { path: test.path, name: test.name, rows, evaluations: responses.length, warnings: test.warnings, skippedPolicies };
}

export async function runTests(dirs: string[], opts: RunTestsOptions = {}): Promise<TestRunReport> {
  const files = await findTestFiles(dirs, opts.fileName);
  if (files.length === 0) throw new PolicyError('NO_TESTS_FOUND', `no ${opts.fileName ?? 'kyverno-test.yaml'} found under ${dirs.join(', ')}`);
  const tests: TestCaseReport[] = [];
  for (const f of files) {
    const test = await loadTestFile(f);
    const results = applySelector(test.results, opts.selector);
    if (results.length === 0 && (test.checks.length === 0 || opts.selector)) continue;
    tests.push(await runTestFile({ ...test, results }, opts));
  }
  const summary = { pass: 0, fail: 0, skip: 0, evaluations: 0 };
  for (const t of tests) {
    summary.evaluations += t.evaluations;
    for (const r of t.rows) {
      if (r.outcome === 'fail') summary.fail++;
      else if (r.skipped) summary.skip++;
      else summary.pass++;
    }
  }
  return { tests, summary };
}
