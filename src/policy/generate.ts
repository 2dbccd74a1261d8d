import { evaluateConditions } from './conditions.js';
import { queryJmesPath } from './jmespath.js';
import { parseKindSelector, selectorMatches } from './match.js';
import { substituteReferences } from './references.js';
import { setDotted, substituteAll, type EvalContext } from './variables.js';
import type { LabelSelector, Resource } from './types.js';

/**
 * Kyverno generate rules, offline. What would be created is computed, never created:
 * - `data` builds the downstream resource from the rule (variables substituted);
 * - `clone` copies one source resource, `cloneList` every source in `cloneList.namespace` whose kind is
 *   in `cloneList.kinds` ("v1/Secret", "Secret", "apps/v1/Deployment") and whose labels match the
 *   optional `selector`, each into `generate.namespace` under its own name;
 * - `foreach` (Kyverno 1.13+) evaluates each entry's `list` (JMESPath, no braces) and, for every
 *   element (`element`, `elementIndex`), loads the entry's context, skips the element when its
 *   preconditions fail, and generates the entry's data / clone / cloneList.
 * Sources are what the caller supplies: in `kyverno test`, the test's `cloneSourceResource` files and
 * the trigger itself, as Kyverno's CLI seeds its fake cluster client. Synchronisation, ownership and
 * Kyverno's own `generate.kyverno.io/*` labels are not modelled (`kyverno test` strips those labels).
 */
export interface GenerateTarget {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  data?: Record<string, unknown>;
  clone?: { namespace?: string; name?: string };
  cloneList?: { namespace?: string; kinds?: string[]; selector?: LabelSelector };
}

export interface GenerateForEach extends GenerateTarget {
  list?: string;
  context?: { name?: string; variable?: { jmesPath?: string; value?: unknown; default?: unknown } & Record<string, unknown> }[];
  preconditions?: unknown;
  foreach?: unknown;
}

export interface GenerateSpec extends GenerateTarget {
  synchronize?: boolean;
  foreach?: GenerateForEach[];
}

export class GenerateError extends Error {}

/** Server-managed metadata a clone never carries over. */
const VOLATILE_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'ownerReferences', 'generation', 'selfLink'];

function copyOf<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function apiVersionOf(group: string, version: string): string {
  return group === '' || group === '*' ? version : `${group}/${version}`;
}

function cloneOf(src: Resource, apiVersion: string | undefined, kind: string | undefined, name: string | undefined, namespace: string | undefined): Resource {
  const base = copyOf(src) as Record<string, unknown>;
  const meta = { ...((base['metadata'] as Record<string, unknown>) ?? {}) };
  for (const k of VOLATILE_METADATA) delete meta[k];
  meta['name'] = name;
  if (namespace) meta['namespace'] = namespace;
  else delete meta['namespace'];
  return { ...base, apiVersion: apiVersion ?? src.apiVersion, kind: kind ?? src.kind, metadata: meta } as Resource;
}

function cloneListSources(list: NonNullable<GenerateTarget['cloneList']>, sources: Resource[]): Resource[] {
  if (!Array.isArray(list.kinds) || list.kinds.length === 0) throw new GenerateError('cloneList needs kinds');
  if (!list.namespace) throw new GenerateError('cloneList needs namespace');
  const out: Resource[] = [];
  const seen = new Set<string>();
  for (const k of list.kinds) {
    const sel = parseKindSelector(String(k));
    for (const r of sources) {
      if (r.kind !== sel.kind || (r.metadata?.namespace ?? '') !== list.namespace) continue;
      if (sel.version !== '*' && String(r.apiVersion ?? '') !== apiVersionOf(sel.group, sel.version)) continue;
      if (list.selector && !selectorMatches(list.selector, r.metadata?.labels as Record<string, string> | undefined)) continue;
      const key = `${r.apiVersion}/${r.kind}/${r.metadata?.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(r);
    }
  }
  return out;
}

/** One generate target (top level or a foreach entry) with variables already in `ctx`. */
function generateTarget(given: GenerateTarget, ctx: EvalContext, sources: Resource[]): Resource[] {
  // `$(...)` references are resolved in the rule document before variables, as Kyverno's SubstituteAll
  // does (e.g. name: "$(./../data/data/target)-generated").
  const spec = (substituteReferences({ generate: given }) as { generate: GenerateTarget }).generate;
  const s = substituteAll({ ...spec, data: undefined, foreach: undefined, list: undefined, context: undefined, preconditions: undefined }, ctx) as GenerateTarget;
  if (s.cloneList !== undefined && s.cloneList !== null) {
    return cloneListSources(s.cloneList, sources).map((src) => cloneOf(src, undefined, undefined, String(src.metadata?.name ?? ''), s.namespace));
  }
  if (spec.data !== undefined || (!s.clone && s.cloneList == null)) {
    // Without data, clone or cloneList Kyverno generates the bare resource (apiVersion, kind, metadata),
    // as its own test-generate/multiple-resources expects.
    const data = (spec.data === undefined ? {} : copyOf(substituteAll(spec.data, ctx))) as Record<string, unknown>;
    const meta = { ...((data['metadata'] as Record<string, unknown>) ?? {}) };
    meta['name'] = s.name;
    if (s.namespace) meta['namespace'] = s.namespace;
    else delete meta['namespace'];
    return [{ ...data, apiVersion: s.apiVersion, kind: s.kind, metadata: meta } as Resource];
  }
  if (s.clone) {
    const src =
      sources.find((r) => r.kind === s.kind && r.metadata?.name === s.clone!.name && (r.metadata?.namespace ?? '') === (s.clone!.namespace ?? '')) ??
      sources.find((r) => r.kind === s.kind && r.metadata?.name === s.clone!.name);
    if (!src) throw new GenerateError(`clone source ${s.kind} ${s.clone.namespace ?? ''}/${s.clone.name ?? ''} not found (give cloneSourceResource in the test)`);
    return [cloneOf(src, s.apiVersion, s.kind, s.name, s.namespace)];
  }
  throw new GenerateError('generate needs data, clone or cloneList');
}

/** Variable context entries of a foreach entry (Kyverno's context.variable); other kinds need a cluster. */
function loadForEachContext(entries: GenerateForEach['context'], ctx: EvalContext): void {
  for (const entry of entries ?? []) {
    if (!entry || typeof entry.name !== 'string') continue;
    const v = entry.variable;
    if (!v) throw new GenerateError(`context entry ${entry.name} needs cluster or registry access; only variable entries are evaluated in generate.foreach`);
    const def = v.default === undefined ? null : substituteAll(v.default, ctx);
    const path = v.jmesPath ? String(substituteAll(v.jmesPath, ctx)) : '';
    let out: unknown = def;
    if (v.value !== undefined) {
      const value = substituteAll(v.value, ctx);
      out = path ? (queryJmesPath(path, value) ?? def) : value;
    } else if (path) {
      try {
        out = queryJmesPath(path, ctx) ?? def;
      } catch (e) {
        if (def === null) throw e;
      }
    }
    if (out === null || out === undefined) throw new GenerateError(`unable to add context entry for variable ${entry.name} since it evaluated to nil`);
    setDotted(ctx, entry.name, out);
  }
}

function generateForEach(entries: GenerateForEach[], ctx: EvalContext, sources: Resource[]): Resource[] {
  const out: Resource[] = [];
  for (const [i, fe] of entries.entries()) {
    if (!fe || typeof fe.list !== 'string') throw new GenerateError(`generate.foreach[${i}].list is required (a JMESPath expression without braces)`);
    if (fe.foreach !== undefined) throw new GenerateError(`generate.foreach[${i}]: nested foreach is not supported in generate rules`);
    const list = queryJmesPath(String(substituteAll(fe.list, ctx)), ctx);
    if (list === null) continue;
    if (!Array.isArray(list)) throw new GenerateError(`generate.foreach[${i}].list did not evaluate to a list`);
    for (const [index, element] of list.entries()) {
      const ectx: EvalContext = { ...ctx, element, elementIndex: index };
      loadForEachContext(fe.context, ectx);
      if (!evaluateConditions(fe.preconditions ?? null, ectx, 'preconditions').met) continue;
      out.push(...generateTarget(fe, ectx, sources));
    }
  }
  return out;
}

/** Every resource one generate rule would create for the trigger whose context is `ctx`. */
export function generateResources(spec: GenerateSpec, ctx: EvalContext, sources: Resource[] = []): Resource[] {
  if (Array.isArray(spec.foreach)) return generateForEach(spec.foreach, ctx, sources);
  if (spec.foreach !== undefined) throw new GenerateError('generate.foreach must be a list');
  return generateTarget(spec, ctx, sources);
}

/**
 * The engine's single-result view: one resource as is; several (cloneList, foreach) as a v1 `List`
 * whose `items` are the resources and whose name summarises them, which the test runner unpacks
 * and compares item by item as `kyverno test` does.
 */
export function generateResource(spec: GenerateSpec, ctx: EvalContext, sources: Resource[] = []): Resource | undefined {
  const request = (ctx['request'] ?? {}) as { object?: Resource };
  const all = request.object && !sources.includes(request.object) ? [...sources, request.object] : sources;
  const out = generateResources(spec, ctx, all);
  if (out.length === 1 && spec.cloneList === undefined && spec.foreach === undefined) return out[0];
  return asGeneratedList(out);
}

export function asGeneratedList(items: Resource[]): Resource {
  const names = items.map((r) => `${r.kind} ${r.metadata?.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata?.name ?? ''}`);
  return { apiVersion: 'v1', kind: 'List', metadata: { name: `${items.length} resource(s)${names.length ? `: ${names.join(', ')}` : ''}` }, items } as Resource;
}

/** The resources inside a generated result: the items of a List made by generateResource, else the resource. */
export function generatedItems(r: Resource | undefined): Resource[] {
  if (!r) return [];
  const items = (r as { items?: unknown }).items;
  if (r.kind === 'List' && r.apiVersion === 'v1' && Array.isArray(items)) return items as Resource[];
  return [r];
}
