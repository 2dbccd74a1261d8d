import jsYaml from 'js-yaml';
import { parseAnchor } from './anchor.js';
import { matchPattern } from './pattern.js';
import { queryJmesPath } from './jmespath.js';
import { evaluateConditions } from './conditions.js';
import { substituteAll, type EvalContext } from './variables.js';

/**
 * Kyverno mutate rules, offline: `patchStrategicMerge` (with conditional `()`, add-if-absent `+()`
 * and global `<()` anchors), `patchesJson6902`, and `foreach` over either. The strategic merge is
 * schema-less: lists of objects merge by `name` (or `containerPort`, `mountPath`, `ip`) when every
 * patch element carries that key, other lists are replaced, `null` deletes. That covers the
 * Kubernetes types Kyverno's samples mutate; it is not a full OpenAPI-driven strategic merge.
 * Results follow Kyverno: `pass` when the resource changed, `skip` ("no patches applied") otherwise,
 * `error` when substitution or a JSON patch fails.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class MutateError extends Error {}
class ConditionFailed extends Error {}
class GlobalFailed extends Error {}

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as Obj).filter((k) => (a as Obj)[k] !== undefined);
  const kb = Object.keys(b as Obj).filter((k) => (b as Obj)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Obj)[k], (b as Obj)[k]));
}

/** Removes anchors from a patch value that is being inserted wholesale. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const a = parseAnchor(k);
    if (a && (a.kind === 'condition' || a.kind === 'global' || a.kind === 'equality' || a.kind === 'existence' || a.kind === 'negation')) continue;
    out[a ? a.key : k] = strip(x);
  }
  return out;
}

/** Conditional and global anchors of a patch map must hold on the resource map. */
/**
 * A conditional or global anchor whose value holds `+()` keys: Kyverno's strategic-merge preprocessing
 * (validateConditionsInternal) applies those add-if-not-present keys to the resource value and counts
 * the condition as met without matching it (only the key must exist); the value is then merged.
 */
function addsInCondition(v: unknown): v is Obj {
  return isObj(v) && Object.keys(v).some((k) => parseAnchor(k)?.kind === 'addIfNotPresent');
}

function checkConditions(res: Obj, pat: Obj): void {
  for (const [k, v] of Object.entries(pat)) {
    const a = parseAnchor(k);
    if (!a || (a.kind !== 'condition' && a.kind !== 'global')) continue;
    const has = Object.prototype.hasOwnProperty.call(res, a.key);
    const ok = has && (addsInCondition(v) || matchPattern(res[a.key], v).ok);
    if (!ok) throw a.kind === 'global' ? new GlobalFailed(a.key) : new ConditionFailed(a.key);
  }
}

/** Conditional or global anchors anywhere below: such list elements patch every matching resource element. */
function hasConditionsDeep(p: unknown): boolean {
  if (Array.isArray(p)) return p.some(hasConditionsDeep);
  if (!isObj(p)) return false;
  return hasConditions(p) || Object.values(p).some(hasConditionsDeep);
}

const MERGE_KEYS = ['name', 'containerPort', 'mountPath', 'ip', 'devicePath', 'topologyKey'];

function hasConditions(p: unknown): boolean {
  return isObj(p) && Object.keys(p).some((k) => {
    const a = parseAnchor(k);
    return !!a && (a.kind === 'condition' || a.kind === 'global');
  });
}

function mergeList(res: unknown, pat: unknown[]): unknown {
  const resList = Array.isArray(res) ? res : undefined;
  if (pat.length > 0 && pat.every(isObj)) {
    if (pat.some(hasConditionsDeep)) {
      // Conditional elements patch every resource element they match; others stay.
      if (!resList) {
        // Kyverno (processListOfMaps with no resource list) checks each conditional element against
        // nothing: a global anchor then fails the whole patch, a conditional anchor drops the element.
        checkAgainstMissing(pat);
        const plain = (pat as Obj[]).filter((p) => !hasConditionsDeep(p));
        return plain.length ? mergeList(res, plain) : res;
      }
      // Per pattern element, as Kyverno's processListOfMaps: a global anchor that failed on some
      // resource element and held on none fails the whole patch.
      const globalOk = pat.map(() => false);
      const globalFailed = pat.map(() => false);
      const out = resList.map((r) => {
        let cur = r;
        (pat as Obj[]).forEach((p, i) => {
          if (!hasConditionsDeep(p) || !isObj(cur)) return;
          try {
            cur = mergeValue(cur, p);
            globalOk[i] = true;
          } catch (e) {
            if (e instanceof ConditionFailed) return;
            if (e instanceof GlobalFailed) {
              globalFailed[i] = true;
              return;
            }
            throw e;
          }
        });
        return cur;
      });
      if (globalFailed.some((f, i) => f && !globalOk[i])) throw new GlobalFailed('list');
      // Unconditional elements in the same list merge by key as usual.
      const plain = (pat as Obj[]).filter((p) => !hasConditionsDeep(p));
      return plain.length ? mergeList(out, plain) : out;
    }
    const key = MERGE_KEYS.find((k) => (pat as Obj[]).every((p) => p[k] !== undefined || p[`+(${k})`] !== undefined));
    if (key && resList) {
      const out = [...resList];
      for (const p of pat as Obj[]) {
        const kv = p[key] ?? p[`+(${key})`];
        const i = out.findIndex((r) => isObj(r) && r[key] === kv);
        if (i >= 0) out[i] = mergeValue(out[i], p);
        else out.push(strip(p));
      }
      return out;
    }
  }
  return strip(pat);
}

/**
 * Anchors checked against a resource value that does not exist, as Kyverno's strategic-merge
 * preprocessing does: at each map level global anchors first (GlobalFailed), then conditional ones
 * (ConditionFailed); below that, non-anchor fields are checked against nothing too; in a list of
 * maps, an element whose condition fails is dropped and only global failures propagate.
 */
function checkAgainstMissing(p: unknown): void {
  if (Array.isArray(p)) {
    for (const e of p) {
      if (!isObj(e) || !hasConditionsDeep(e)) continue;
      try {
        checkAgainstMissing(e);
      } catch (err) {
        if (err instanceof ConditionFailed) continue;
        throw err;
      }
    }
    return;
  }
  if (!isObj(p)) return;
  const anchors = Object.keys(p).map((k) => parseAnchor(k));
  if (anchors.some((a) => a?.kind === 'global')) throw new GlobalFailed('missing');
  if (anchors.some((a) => a?.kind === 'condition')) throw new ConditionFailed('missing');
  for (const [k, v] of Object.entries(p)) if (!parseAnchor(k)) checkAgainstMissing(v);
}

function mergeValue(res: unknown, pat: unknown): unknown {
  if (Array.isArray(pat)) return mergeList(res, pat);
  if (!isObj(pat)) return pat;
  if (!isObj(res)) {
    if (hasConditions(pat)) {
      checkAgainstMissing(pat);
      throw new ConditionFailed('structure');
    }
    return strip(pat);
  }
  checkConditions(res, pat);
  const out: Obj = { ...res };
  for (const [k, v] of Object.entries(pat)) {
    const a = parseAnchor(k);
    if (a && a.kind === 'addIfNotPresent') {
      if (!Object.prototype.hasOwnProperty.call(out, a.key)) out[a.key] = strip(v);
      else if (isObj(v) && isObj(out[a.key])) {
        // +() on a map adds only the missing keys below it.
        const merged = { ...(out[a.key] as Obj) };
        for (const [ck, cv] of Object.entries(v)) if (!(ck in merged)) merged[ck] = strip(cv);
        out[a.key] = merged;
      }
      continue;
    }
    if (a && (a.kind === 'condition' || a.kind === 'global') && addsInCondition(v)) {
      out[a.key] = mergeValue(out[a.key], v);
      continue;
    }
    if (a) continue; // condition / global anchors were checked above
    if (v === null) {
      delete out[k];
      continue;
    }
    const merged = mergeValue(out[k], v);
    if (merged !== undefined || k in out) out[k] = merged;
  }
  return out;
}

/** Applies a strategic merge overlay; a failed condition or global anchor leaves the resource unchanged. */
export function applyStrategicMerge(resource: Obj, patch: unknown): Obj {
  try {
    return mergeValue(clone(resource), patch) as Obj;
  } catch (e) {
    if (e instanceof ConditionFailed || e instanceof GlobalFailed) return resource;
    throw e;
  }
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** RFC 6902 with Kyverno's options: missing paths are created on add, removing a missing path is not an error, index -1 appends. */
export function applyJsonPatch(resource: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw new MutateError('patchesJson6902 must be a list of operations');
  let doc: unknown = clone(resource);
  for (const raw of ops) {
    if (!isObj(raw)) throw new MutateError('invalid JSON patch operation');
    const op = String(raw['op']);
    const path = String(raw['path'] ?? '');
    const parts = path === '' ? [] : path.replace(/^\//, '').split('/').map(unescapePointer);
    const getParent = (create: boolean): [unknown, string] => {
      let cur: unknown = doc;
      for (let i = 0; i < parts.length - 1; i++) {
        const p = parts[i]!;
        if (Array.isArray(cur)) cur = cur[p === '-' ? cur.length - 1 : Number(p)];
        else if (isObj(cur)) {
          if (cur[p] === undefined && create) cur[p] = /^\d+$/.test(parts[i + 1]!) || parts[i + 1] === '-' ? [] : {};
          cur = cur[p];
        } else throw new MutateError(`path ${path} does not exist`);
      }
      return [cur, parts[parts.length - 1]!];
    };
    const get = (p: string): unknown => {
      const segs = p.replace(/^\//, '').split('/').map(unescapePointer);
      let cur: unknown = doc;
      for (const s of segs) cur = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
      return cur;
    };
    const put = (parent: unknown, last: string, value: unknown, insert: boolean) => {
      if (Array.isArray(parent)) {
        const idx = last === '-' || last === '-1' ? parent.length : Number(last);
        if (Number.isNaN(idx) || idx > parent.length) throw new MutateError(`index ${last} out of range at ${path}`);
        if (insert) parent.splice(idx, 0, value);
        else parent[idx] = value;
      } else if (isObj(parent)) parent[last] = value;
      else throw new MutateError(`path ${path} does not exist`);
    };
    switch (op) {
      case 'add':
      case 'replace': {
        if (parts.length === 0) {
          doc = clone(raw['value']);
          break;
        }
        const [parent, last] = getParent(true);
        put(parent, last, clone(raw['value']), op === 'add');
        break;
      }
      case 'remove': {
        let parent: unknown;
        let last: string;
        try {
          [parent, last] = getParent(false);
        } catch {
          break;
        }
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else if (isObj(parent)) delete parent[last];
        break;
      }
      case 'copy':
      case 'move': {
        const from = String(raw['from'] ?? '');
        const value = clone(get(from));
        if (op === 'move') doc = applyJsonPatch(doc as Obj, [{ op: 'remove', path: from }]);
        const [parent, last] = getParent(true);
        put(parent, last, value, true);
        break;
      }
      case 'test':
        if (!deepEqual(get(path), raw['value'])) throw new MutateError(`test failed at ${path}`);
        break;
      default:
        throw new MutateError(`unknown JSON patch op ${op}`);
    }
  }
  return doc as Obj;
}

export interface MutateSpec {
  patchStrategicMerge?: unknown;
  patchesJson6902?: string;
  foreach?: (MutateSpec & { list?: string; context?: unknown; preconditions?: unknown; order?: string })[];
}

/** Loads a foreach element's `context` entries into its evaluation context (the engine's context loader). */
export type ContextLoader = (entries: unknown, ctx: EvalContext) => void;

/**
 * One mutate body against the current resource, with variables substituted first. In `foreach`, each
 * element gets `element`/`elementIndex`, then its `context` entries (through `loadContext`), then its
 * preconditions, as Kyverno's foreach mutation does.
 */
export function applyMutation(resource: Obj, spec: MutateSpec, ctx: EvalContext, nesting = 0, loadContext?: ContextLoader): Obj {
  let out = resource;
  if (spec.patchStrategicMerge !== undefined) {
    out = applyStrategicMerge(out, substituteAll(spec.patchStrategicMerge, ctx));
  }
  if (spec.patchesJson6902 !== undefined) {
    const text = substituteAll(spec.patchesJson6902, ctx);
    const ops = typeof text === 'string' ? jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) : text;
    out = applyJsonPatch(out, ops);
  }
  for (const fe of spec.foreach ?? []) {
    const listExpr = String(substituteAll(fe.list ?? '', ctx));
    let elements: unknown;
    try {
      elements = queryJmesPath(listExpr, { ...ctx, request: { ...(ctx['request'] as Obj), object: out } });
    } catch {
      continue;
    }
    if (!Array.isArray(elements)) continue;
    const order = fe.order === 'Descending' ? [...elements.keys()].reverse() : [...elements.keys()];
    for (const i of order) {
      const el = elements[i];
      if (el === null || el === undefined) continue;
      const ectx: EvalContext = { ...ctx, request: { ...(ctx['request'] as Obj), object: out }, element: el, elementIndex: i, [`element${nesting}`]: el, [`elementIndex${nesting}`]: i };
      if (fe.context !== undefined) {
        if (!loadContext) throw new MutateError('foreach context entries need a context loader');
        loadContext(fe.context, ectx);
      }
      if (fe.preconditions !== undefined && !evaluateConditions(fe.preconditions, ectx, 'preconditions').met) continue;
      out = applyMutation(out, { patchStrategicMerge: fe.patchStrategicMerge, patchesJson6902: fe.patchesJson6902, foreach: fe.foreach }, ectx, nesting + 1, loadContext);
    }
  }
  return out;
}
