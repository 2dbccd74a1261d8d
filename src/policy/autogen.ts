import type { MatchResources, Policy, ResourceDescription, ResourceFilter, Rule } from './types.js';

/**
 * Kyverno auto-generated rules for pod controllers (pkg/autogen). A policy whose rules select Pods
 * (and nothing else, without names, selectors or annotations) also gets `autogen-<rule>` for
 * DaemonSet, Deployment, Job, StatefulSet, ReplicaSet, ReplicationController and
 * `autogen-cronjob-<rule>` for CronJob. Patterns are nested under `spec.template`
 * (`spec.jobTemplate.spec.template`); `request.object.spec|metadata` in variables are rewritten.
 * The annotation `pod-policies.kyverno.io/autogen-controllers` narrows the list, `none` disables.
 */
export const AUTOGEN_ANNOTATION = 'pod-policies.kyverno.io/autogen-controllers';
export const POD_CONTROLLERS = ['DaemonSet', 'Deployment', 'Job', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'CronJob'];

function descriptions(m: MatchResources | undefined): ResourceDescription[] {
  if (!m) return [];
  const out: ResourceDescription[] = [];
  if (m.resources) out.push(m.resources);
  for (const f of [...(m.any ?? []), ...(m.all ?? [])]) if (f.resources) out.push(f.resources);
  return out;
}

/** Which controllers get generated rules (empty: none). */
export function autogenControllers(policy: Policy): string[] {
  const ann = policy.metadata.annotations?.[AUTOGEN_ANNOTATION];
  if (ann !== undefined && ann.trim().toLowerCase() === 'none') return [];
  let needed = false;
  for (const rule of policy.spec.rules ?? []) {
    if (rule.generate) return [];
    const mut = rule.mutate as { patchesJson6902?: unknown; patchStrategicMerge?: unknown } | undefined;
    if (mut && mut.patchesJson6902) return [];
    for (const d of [...descriptions(rule.match), ...descriptions(rule.exclude)]) {
      const kinds = d.kinds ?? [];
      if (d.name || (d.names && d.names.length > 0) || d.selector || d.annotations) return [];
      if (kinds.length > 1 && kinds.includes('Pod')) return [];
      if (kinds.includes('Pod')) needed = true;
    }
  }
  if (!needed) return [];
  if (ann === undefined || ann.trim() === '') return POD_CONTROLLERS;
  // Custom resources that embed a Pod template (e.g. OpenKruise CloneSet) may be named too.
  return [...new Set(ann.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
}

function ruleSelectsPod(rule: Rule): boolean {
  return descriptions(rule.match).some((d) => (d.kinds ?? []).includes('Pod'));
}

function replaceKinds(m: MatchResources | undefined, kinds: string[]): MatchResources | undefined {
  if (!m) return m;
  const fix = (d: ResourceDescription | undefined) => (d && d.kinds && d.kinds.includes('Pod') ? { ...d, kinds } : d);
  const fixF = (f: ResourceFilter) => ({ ...f, resources: fix(f.resources) });
  return { ...m, resources: fix(m.resources), any: m.any?.map(fixF), all: m.all?.map(fixF) };
}

function rewriteVariables(v: unknown, cron: boolean): unknown {
  if (v === undefined) return v;
  const spec = cron ? 'spec.jobTemplate.spec.template.spec' : 'spec.template.spec';
  const meta = cron ? 'spec.jobTemplate.spec.template.metadata' : 'spec.template.metadata';
  const json = JSON.stringify(v)
    .replace(/request\.object\.spec/g, `request.object.${spec}`)
    .replace(/request\.oldObject\.spec/g, `request.oldObject.${spec}`)
    .replace(/request\.object\.metadata/g, `request.object.${meta}`)
    .replace(/request\.oldObject\.metadata/g, `request.oldObject.${meta}`);
  return JSON.parse(json);
}

/**
 * CEL rules (validate.cel) are rewritten as text, as Kyverno does on the rule's JSON:
 * `object.spec` -> `object.spec.template.spec` (CronJob: `object.spec.jobTemplate.spec.template.spec`),
 * likewise `oldObject.spec` and `object.metadata` / `oldObject.metadata`.
 */
function rewriteCel<T>(v: T, cron: boolean): T {
  if (v === undefined) return v;
  const tpl = cron ? 'spec.jobTemplate.spec.template' : 'spec.template';
  const json = JSON.stringify(v)
    .replace(/object\.spec/g, `object.${tpl}.spec`)
    .replace(/oldObject\.spec/g, `oldObject.${tpl}.spec`)
    .replace(/object\.metadata/g, `object.${tpl}.metadata`)
    .replace(/oldObject\.metadata/g, `oldObject.${tpl}.metadata`);
  return JSON.parse(json) as T;
}

function wrapPattern(p: unknown, cron: boolean): unknown {
  if (p === undefined) return p;
  const inner = { spec: { template: p } };
  return cron ? { spec: { jobTemplate: inner } } : inner;
}

function generate(rule: Rule, kinds: string[], cron: boolean): Rule {
  const v = rule.validate;
  if (v?.cel !== undefined) {
    const cel: Rule = {
      ...rule,
      name: `${cron ? 'autogen-cronjob-' : 'autogen-'}${rule.name}`,
      match: replaceKinds(rule.match, kinds),
      exclude: replaceKinds(rule.exclude, kinds),
      context: rewriteCel(rule.context, cron),
      preconditions: rewriteCel(rule.preconditions, cron),
      celPreconditions: rewriteCel(rule.celPreconditions, cron),
      validate: rewriteCel(v, cron),
    };
    for (const k of ['exclude', 'context', 'preconditions', 'celPreconditions'] as const) if (cel[k] === undefined) delete cel[k];
    return cel;
  }
  const out: Rule = {
    ...rule,
    name: `${cron ? 'autogen-cronjob-' : 'autogen-'}${rule.name}`,
    match: replaceKinds(rule.match, kinds),
    exclude: replaceKinds(rule.exclude, kinds),
    context: rewriteVariables(rule.context, cron) as Rule['context'],
    preconditions: rewriteVariables(rule.preconditions, cron),
  };
  if (v) {
    out.validate = {
      ...v,
      message: rewriteVariables(v.message, cron) as string | undefined,
      pattern: v.pattern === undefined ? undefined : rewriteVariables(wrapPattern(v.pattern, cron), cron),
      anyPattern: v.anyPattern?.map((p) => rewriteVariables(wrapPattern(p, cron), cron)),
      deny: rewriteVariables(v.deny, cron) as typeof v.deny,
      foreach: rewriteVariables(v.foreach, cron) as typeof v.foreach,
    };
    for (const k of ['pattern', 'anyPattern', 'deny', 'foreach', 'message'] as const) if (out.validate[k] === undefined) delete out.validate[k];
  }
  const m = rule.mutate as { patchStrategicMerge?: unknown; foreach?: { patchStrategicMerge?: unknown }[] } | undefined;
  if (m) {
    const mm: Record<string, unknown> = { ...m };
    if (m.patchStrategicMerge !== undefined) mm['patchStrategicMerge'] = rewriteVariables(wrapPattern(m.patchStrategicMerge, cron), cron);
    if (m.foreach) {
      mm['foreach'] = m.foreach.map((fe) => {
        const r = rewriteVariables({ ...fe, patchStrategicMerge: undefined }, cron) as Record<string, unknown>;
        if (fe.patchStrategicMerge !== undefined) r['patchStrategicMerge'] = rewriteVariables(wrapPattern(fe.patchStrategicMerge, cron), cron);
        else delete r['patchStrategicMerge'];
        return r;
      });
    }
    out.mutate = mm;
  }
  for (const k of ['exclude', 'context', 'preconditions'] as const) if (out[k] === undefined) delete out[k];
  return out;
}

/** The policy's rules followed by the generated ones, as Kyverno computes them (autogen.ComputeRules). */
const computed = new WeakMap<Policy, Rule[]>();

/** Cached per policy object: policies are treated as immutable once loaded. */
export function computeRules(policy: Policy): Rule[] {
  let out = computed.get(policy);
  if (!out) {
    out = computeRulesUncached(policy);
    computed.set(policy, out);
  }
  return out;
}

function computeRulesUncached(policy: Policy): Rule[] {
  const rules = policy.spec.rules ?? [];
  const controllers = autogenControllers(policy);
  if (controllers.length === 0) return rules;
  const plain = controllers.filter((c) => c !== 'CronJob');
  const out = [...rules];
  for (const r of rules) if (ruleSelectsPod(r) && plain.length > 0) out.push(generate(r, plain, false));
  if (controllers.includes('CronJob')) for (const r of rules) if (ruleSelectsPod(r)) out.push(generate(r, ['CronJob'], true));
  return out;
}
