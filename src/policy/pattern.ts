import { parseAnchor, removeAnchor } from './anchor.js';
import { validateValueWithPattern } from './value-pattern.js';
import { hasWildcard, wildcardMatch } from './wildcard.js';

/**
 * Kyverno's validate `pattern` matcher (pkg/engine/validate): walks the pattern tree against the
 * resource, applying anchors. The outcome mirrors Kyverno's PatternError: `skip` when a conditional
 * or global anchor did not hold, `fail` with the path where the resource diverged, or `error` when an
 * anchor key was missing in a way Kyverno reports as an execution error (empty path).
 */
export type PatternResult = { ok: true } | { ok: false; skip: boolean; path: string; message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const CONDITIONAL_MSG = 'conditional anchor mismatch';
const GLOBAL_MSG = 'global anchor mismatch';
const NEGATION_MSG = 'negation anchor matched in resource';

class PErr {
  constructor(
    readonly path: string,
    readonly message: string,
    /** True for Kyverno's *PatternError (an aggregated skip from a list or map below), false for an anchor's own error. */
    readonly nested = false,
  ) {}
}
const isSkip = (e: PErr) => e.message.includes(CONDITIONAL_MSG) || e.message.includes(GLOBAL_MSG);

/** Tracks whether every conditional/existence/negation anchor key was found somewhere in the resource. */
class AnchorKeys {
  private readonly seen = new Map<string, boolean>();
  check(pattern: Obj, resource: unknown): void {
    for (const key of Object.keys(pattern)) {
      const a = parseAnchor(key);
      if (!a || !(a.kind === 'condition' || a.kind === 'existence' || a.kind === 'negation')) continue;
      if (this.seen.get(key)) continue;
      this.seen.set(key, hasKey(a.key, resource));
    }
  }
  missing(): boolean {
    for (const v of this.seen.values()) if (!v) return true;
    return false;
  }
}

function hasKey(key: string, resource: unknown): boolean {
  if (isObj(resource)) return key in resource;
  if (Array.isArray(resource)) return resource.some((r) => hasKey(key, r));
  return false;
}

export function matchPattern(resource: unknown, pattern: unknown): PatternResult {
  const ac = new AnchorKeys();
  const err = validateElement(resource, pattern, '/', ac);
  if (!err) return { ok: true };
  if (isSkip(err)) return { ok: false, skip: true, path: '', message: err.message };
  if (err.message.includes(NEGATION_MSG)) return { ok: false, skip: false, path: err.path, message: err.message };
  if (ac.missing()) return { ok: false, skip: false, path: '', message: err.message };
  return { ok: false, skip: false, path: err.path, message: err.message };
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'map' : typeof v;
}

function validateElement(resource: unknown, pattern: unknown, path: string, ac: AnchorKeys): PErr | undefined {
  if (isObj(pattern)) {
    if (!isObj(resource)) {
      return new PErr(path, `pattern and resource have different structures. Path: ${path}. Expected map, found ${typeName(resource)}`);
    }
    ac.check(pattern, resource);
    return validateMap(resource, pattern, path, ac);
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(resource)) return new PErr(path, `validation rule failed at path ${path}, resource does not satisfy the expected overlay pattern`);
    return validateArray(resource, pattern, path, ac);
  }
  if (Array.isArray(resource)) {
    for (const r of resource) {
      if (!validateValueWithPattern(r, pattern)) return new PErr(path, `resource value '${fmt(resource)}' does not match '${fmt(pattern)}' at path ${path}`);
    }
    return undefined;
  }
  if (!validateValueWithPattern(resource, pattern)) {
    return new PErr(path, `resource value '${fmt(resource)}' does not match '${fmt(pattern)}' at path ${path}`);
  }
  return undefined;
}

function fmt(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function isAnchorForPhase1(key: string): boolean {
  const a = parseAnchor(key);
  return !!a && (a.kind === 'condition' || a.kind === 'existence' || a.kind === 'equality' || a.kind === 'negation');
}

export function hasNestedAnchors(v: unknown): boolean {
  if (isObj(v)) return Object.entries(v).some(([k, x]) => parseAnchor(k) !== undefined || hasNestedAnchors(x));
  if (Array.isArray(v)) return v.some(hasNestedAnchors);
  return false;
}

/**
 * Kyverno validateMap (v1.14+): phase 1 evaluates the conditional/existence/equality/negation
 * anchors in key order. A skip from an anchor is collected; a failure is returned unless an anchor
 * of this same map already skipped (then the map is skipped anyway). If every anchor skipped, or any
 * anchor of this map skipped directly, the whole map skips; skips that only come from lists below,
 * next to anchors that applied, are ignored. Phase 2 then checks global anchors and plain keys.
 */
function validateMap(resource: Obj, patternIn: Obj, path: string, ac: AnchorKeys): PErr | undefined {
  const pattern = expandInMetadata(patternIn, resource);
  const anchors: string[] = [];
  const plain: string[] = [];
  for (const k of Object.keys(pattern)) (isAnchorForPhase1(k) ? anchors : plain).push(k);
  anchors.sort();
  const skips: PErr[] = [];
  let applied = 0;
  for (const k of anchors) {
    const e = handle(k, pattern[k], resource, path, ac);
    if (e) {
      if (isSkip(e)) {
        skips.push(e);
        continue;
      }
      if (!skips.some((x) => !x.nested)) return e;
      continue;
    }
    applied++;
  }
  if (skips.length > 0 && (applied === 0 || skips.some((x) => !x.nested))) {
    return new PErr(path, skips.map((x) => x.message).join('; '), true);
  }
  const front: string[] = [];
  const back: string[] = [];
  for (const k of [...plain].sort()) {
    if (parseAnchor(k)?.kind === 'global' || hasNestedAnchors(pattern[k])) front.unshift(k);
    else back.push(k);
  }
  for (const k of [...front, ...back]) {
    const e = handle(k, pattern[k], resource, path, ac);
    if (e) return e;
  }
  return undefined;
}

function handle(element: string, pattern: unknown, resource: Obj, path: string, ac: AnchorKeys): PErr | undefined {
  const a = parseAnchor(element);
  if (a && a.kind !== 'addIfNotPresent') {
    const current = `${path}${a.key}/`;
    const present = Object.prototype.hasOwnProperty.call(resource, a.key);
    const value = resource[a.key];
    switch (a.kind) {
      case 'negation':
        return present ? new PErr(current, `${NEGATION_MSG}: ${current} is not allowed`) : undefined;
      case 'equality':
        return present ? validateElement(value, pattern, current, ac) : undefined;
      case 'condition': {
        if (!present) return new PErr(current, `${CONDITIONAL_MSG}: conditional anchor key doesn't exist in the resource`);
        const e = validateElement(value, pattern, current, ac);
        return e ? new PErr(e.path, `${CONDITIONAL_MSG}: ${e.message}`) : undefined;
      }
      case 'global': {
        if (!present) return undefined;
        const e = validateElement(value, pattern, current, ac);
        return e ? new PErr(e.path, `${GLOBAL_MSG}: ${e.message}`) : undefined;
      }
      case 'existence': {
        if (!present) return undefined;
        if (!Array.isArray(value)) return new PErr(current, `invalid resource type: Existence ^ () anchor can be used only on list/array type resource`);
        if (!Array.isArray(pattern)) return new PErr(current, 'invalid pattern type: Pattern has to be of list to compare against resource');
        for (const p of pattern) {
          if (!isObj(p)) return new PErr(current, 'invalid pattern type: Pattern has to be of type map to compare against items in resource');
          const ok = value.some((r, i) => validateElement(r, p, `${current}${i}/`, ac) === undefined);
          if (!ok) return new PErr(current, `existence anchor validation failed at path ${current}`);
        }
        return undefined;
      }
    }
  }
  const current = `${path}${element}/`;
  const value = resource[element];
  if (pattern === '*') {
    return value !== undefined && value !== null ? undefined : new PErr(path, `${path}/${element} not found`);
  }
  return validateElement(value, pattern, current, ac);
}

function validateArray(resource: unknown[], pattern: unknown[], path: string, ac: AnchorKeys): PErr | undefined {
  if (pattern.length === 0) return new PErr(path, 'pattern Array empty');
  const first = pattern[0];
  if (isObj(first)) return validateArrayOfMaps(resource, first, path, ac);
  if (first === null || typeof first !== 'object') return validateElement(resource, first, path, ac);
  if (resource.length < pattern.length) {
    return new PErr('', `validate Array failed, array length mismatch, resource Array len is ${resource.length} and pattern Array len is ${pattern.length}`);
  }
  let applied = 0;
  const skips: PErr[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const e = validateElement(resource[i], pattern[i], `${path}${i}/`, ac);
    if (e) {
      if (isSkip(e)) {
        skips.push(e);
        continue;
      }
      return e;
    }
    applied++;
  }
  if (applied === 0 && skips.length > 0) return new PErr(path, skips.map((s) => s.message).join('; '), true);
  return undefined;
}

function validateArrayOfMaps(resource: unknown[], pattern: Obj, path: string, ac: AnchorKeys): PErr | undefined {
  let applied = 0;
  const skips: PErr[] = [];
  for (let i = 0; i < resource.length; i++) {
    const e = validateElement(resource[i], pattern, `${path}${i}/`, ac);
    if (e) {
      if (isSkip(e)) {
        skips.push(e);
        continue;
      }
      return e;
    }
    applied++;
  }
  if (applied === 0 && skips.length > 0) return new PErr(path, skips.map((s) => s.message).join('; '), true);
  return undefined;
}

/** Kyverno wildcards.ExpandInMetadata: wildcard label/annotation keys in the pattern take the matching resource key. */
function expandInMetadata(pattern: Obj, resource: Obj): Obj {
  const metaKey = Object.keys(pattern).find((k) => removeAnchor(k) === 'metadata');
  if (!metaKey) return pattern;
  const pMeta = pattern[metaKey];
  const rMeta = resource['metadata'];
  if (!isObj(pMeta) || !isObj(rMeta)) return pattern;
  let newMeta: Obj | undefined;
  for (const tag of ['labels', 'annotations']) {
    const tagKey = Object.keys(pMeta).find((k) => removeAnchor(k) === tag);
    if (!tagKey) continue;
    const pTags = pMeta[tagKey];
    if (!isObj(pTags)) continue;
    if (!Object.keys(pTags).some((k) => hasWildcard(k))) continue;
    const rTags = isObj(rMeta[tag]) ? (rMeta[tag] as Obj) : {};
    const out: Obj = {};
    for (const [k, v] of Object.entries(pTags)) {
      const a = parseAnchor(k);
      const bare = a ? a.key : k;
      if (!hasWildcard(bare)) {
        out[k] = v;
        continue;
      }
      let found: string | undefined;
      for (const [rk, rv] of Object.entries(rTags)) {
        if (wildcardMatch(bare, rk) && (typeof v !== 'string' || typeof rv !== 'string' || wildcardMatch(v, rv) || !hasWildcard(v))) {
          found = rk;
          break;
        }
      }
      const newKey = found ?? bare.replace(/[*?]/g, '0');
      out[a ? k.replace(`(${bare})`, `(${newKey})`) : newKey] = v;
    }
    newMeta = { ...(newMeta ?? pMeta), [tagKey]: out };
  }
  return newMeta ? { ...pattern, [metaKey]: newMeta } : pattern;
}
