import { Dec, parseDuration, parseQuantity } from './quantity.js';
import { validateValueWithPattern } from './value-pattern.js';
import { substituteAll, type EvalContext } from './variables.js';
import { wildcardMatch } from './wildcard.js';

/**
 * Kyverno conditions (preconditions and validate.deny): `{any: [...], all: [...]}` or a legacy list
 * (all). Operators follow pkg/engine/variables/operator, compared case-insensitively.
 */
export interface Condition {
  key?: unknown;
  operator?: string;
  value?: unknown;
  message?: string;
}

export type Conditions = Condition[] | { any?: Condition[]; all?: Condition[] };

export const CONDITION_OPERATORS = [
  'Equals', 'NotEquals', 'Equal', 'NotEqual', 'In', 'AnyIn', 'AllIn', 'NotIn', 'AnyNotIn', 'AllNotIn',
  'GreaterThan', 'GreaterThanOrEquals', 'LessThan', 'LessThanOrEquals',
  'DurationGreaterThan', 'DurationGreaterThanOrEquals', 'DurationLessThan', 'DurationLessThanOrEquals',
] as const;
const KNOWN = new Set(CONDITION_OPERATORS.map((o) => o.toLowerCase()));

export class ConditionError extends Error {}

export interface ConditionOutcome {
  met: boolean;
  /** messages of the conditions that were not met (Kyverno reports them for preconditions). */
  messages: string[];
}

/**
 * Conditions are evaluated lazily with short-circuiting, as Kyverno does: `any` stops at the first
 * true condition, `all` at the first false one. Each condition's key and value are substituted just
 * before it is evaluated, so an unresolvable variable in a condition that short-circuiting skips
 * never raises; one that is evaluated makes the whole rule an `error`.
 */
export function evaluateConditions(conditions: unknown, ctx: EvalContext, mode: 'preconditions' | 'deny'): ConditionOutcome {
  if (conditions === undefined || conditions === null) return { met: true, messages: [] };
  const run = (c: Condition, i: string) => evaluateCondition(substituteCondition(c, ctx, `/${mode}/${i}`));
  if (Array.isArray(conditions)) {
    for (const [i, c] of (conditions as Condition[]).entries()) if (!run(c, String(i))) return { met: false, messages: c.message ? [c.message] : [] };
    return { met: true, messages: [] };
  }
  if (typeof conditions !== 'object') throw new ConditionError('invalid condition');
  const { any, all } = conditions as { any?: Condition[]; all?: Condition[] };
  const messages: string[] = [];
  let anyOk = true;
  if (any !== undefined && any !== null) {
    anyOk = false;
    for (const [i, c] of any.entries()) {
      if (run(c, `any/${i}`)) {
        anyOk = true;
        break;
      }
      if (c.message) messages.push(c.message);
    }
  }
  let allOk = true;
  for (const [i, c] of (all ?? []).entries()) {
    if (!run(c, `all/${i}`)) {
      allOk = false;
      if (c.message) messages.push(c.message);
      break;
    }
  }
  return { met: anyOk && allOk, messages: anyOk && allOk ? [] : messages };
}

function substituteCondition(c: Condition, ctx: EvalContext, path: string): Condition {
  if (!c || typeof c !== 'object') throw new ConditionError('invalid condition');
  return {
    ...c,
    key: substituteAll(c.key ?? null, ctx, { path: `${path}/key` }),
    value: substituteAll(c.value ?? null, ctx, { path: `${path}/value` }),
  };
}

export function evaluateCondition(c: Condition): boolean {
  const op = String(c.operator ?? '').toLowerCase();
  if (!KNOWN.has(op)) throw new ConditionError(`unknown condition operator ${String(c.operator)}`);
  const key = c.key ?? null;
  const value = c.value ?? null;
  switch (op) {
    case 'equals':
    case 'equal':
      return equals(key, value);
    case 'notequals':
    case 'notequal':
      return !equals(key, value);
    case 'in':
      return legacyIn(key, value);
    case 'notin':
      return !legacyIn(key, value);
    case 'anyin':
    case 'allin':
    case 'anynotin':
    case 'allnotin':
      return setOp(key, value, op);
    case 'greaterthan':
      return numeric(key, value, (r) => r > 0);
    case 'greaterthanorequals':
      return numeric(key, value, (r) => r >= 0);
    case 'lessthan':
      return numeric(key, value, (r) => r < 0);
    case 'lessthanorequals':
      return numeric(key, value, (r) => r <= 0);
    case 'durationgreaterthan':
      return durationCmp(key, value, (r) => r > 0);
    case 'durationgreaterthanorequals':
      return durationCmp(key, value, (r) => r >= 0);
    case 'durationlessthan':
      return durationCmp(key, value, (r) => r < 0);
    case 'durationlessthanorequals':
      return durationCmp(key, value, (r) => r <= 0);
  }
  return false;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Kyverno parseDuration: at least one side must be a non-zero duration string; numbers count as seconds. Exact decimals. */
function durations(key: unknown, value: unknown): [Dec, Dec] | undefined {
  const dk = typeof key === 'string' ? parseDuration(key) : undefined;
  const dv = typeof value === 'string' ? parseDuration(value) : undefined;
  const k = dk !== undefined && !dk.isZero() ? dk : undefined;
  const v = dv !== undefined && !dv.isZero() ? dv : undefined;
  if (k === undefined && v === undefined) return undefined;
  const kk = k ?? (typeof key === 'number' ? new Dec(key) : dk);
  const vv = v ?? (typeof value === 'number' ? new Dec(value) : dv);
  if (kk === undefined || vv === undefined) return undefined;
  return [kk, vv];
}

function quantities(key: unknown, value: unknown): [Dec, Dec] | undefined {
  if (typeof key !== 'string' || typeof value !== 'string') return undefined;
  const k = parseQuantity(key);
  const v = parseQuantity(value);
  return k !== undefined && v !== undefined ? [k, v] : undefined;
}

function equals(key: unknown, value: unknown): boolean {
  if (typeof key === 'boolean') return typeof value === 'boolean' && key === value;
  if (typeof key === 'number') {
    if (typeof value === 'number') return key === value;
    if (typeof value === 'string') {
      const d = durations(key, value);
      if (d) return d[0].eq(d[1]);
      if (Number.isInteger(key) ? /^[+-]?\d+$/.test(value) : value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value) === key;
    }
    return false;
  }
  if (typeof key === 'string') {
    const d = durations(key, value);
    if (d) return d[0].eq(d[1]);
    const kq = parseQuantity(key);
    if (kq !== undefined && typeof value === 'string') {
      const vq = parseQuantity(value);
      return vq !== undefined && vq.eq(kq);
    }
    if (typeof value === 'string') return wildcardMatch(value, key);
    return false;
  }
  if (key === null || key === undefined) return false;
  return deepEqual(key, value);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const IN_RANGE = /^([-|+]?\d+(?:\.\d+)?[A-Za-z]*)-([-|+]?\d+(?:\.\d+)?[A-Za-z]*)$/;

/** fmt.Sprint of a scalar key; maps and nulls are not supported by the set operators. */
function keyString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** The value side of a set operator as a list of strings (Kyverno anyKeyExistsInArray / anySetExistsInArray). */
function valueSet(value: unknown): { list?: string[]; range?: string; whole?: string } | undefined {
  if (Array.isArray(value)) return { list: value.map((v) => str(v)) };
  if (typeof value === 'number') return { list: [String(value)] };
  if (typeof value === 'string') {
    if (IN_RANGE.test(value)) return { range: value, whole: value };
    const t = value.trim();
    if (t.startsWith('[') || t.startsWith('"')) {
      try {
        const parsed = JSON.parse(t);
        if (Array.isArray(parsed)) return { list: parsed.map((x) => str(x)), whole: value };
        return undefined;
      } catch {
        /* not JSON: a single value */
      }
    }
    return { list: [value], whole: value };
  }
  return undefined;
}

const both = (a: string, b: string) => wildcardMatch(a, b) || wildcardMatch(b, a);

/** Is one key in the value set? Wildcards apply both ways for lists; a string value matches as a wildcard; `a-b` is a numeric range. */
function inValue(key: string, value: unknown): boolean {
  if (typeof value === 'string' && wildcardMatch(value, key)) return true;
  const set = valueSet(value);
  if (!set) return false;
  if (set.range) return validateValueWithPattern(key, set.range);
  if (Array.isArray(value)) return set.list!.some((v) => both(v, key));
  return set.list!.some((v) => v === key);
}

function setOp(key: unknown, value: unknown, mode: 'anyin' | 'allin' | 'anynotin' | 'allnotin'): boolean {
  if (Array.isArray(key)) {
    const keys = key.map((k) => str(k));
    const set = valueSet(value);
    if (!set) return false;
    if (typeof value === 'string' && keys.length === 1 && keys[0] === value) return mode === 'anyin' || mode === 'allin';
    const isIn = (k: string) => (set.range ? validateValueWithPattern(k, set.range) : set.list!.some((v) => both(k, v)));
    switch (mode) {
      case 'anyin':
        return keys.some(isIn);
      case 'allin':
        return keys.every(isIn);
      case 'anynotin':
        return keys.some((k) => !isIn(k));
      case 'allnotin':
        return keys.every((k) => !isIn(k));
    }
  }
  const k = keyString(key);
  if (k === undefined) return false;
  if (valueSet(value) === undefined) return false;
  const found = inValue(k, value);
  return mode === 'anyin' || mode === 'allin' ? found : !found;
}

/** Deprecated In/NotIn: scalar key in the list; an array key must be wholly contained. */
function legacyIn(key: unknown, value: unknown): boolean {
  if (Array.isArray(key)) {
    if (typeof value === 'string') {
      try {
        const arr = JSON.parse(value);
        if (Array.isArray(arr)) return key.every((k) => arr.some((v: unknown) => deepEqual(k, v)));
      } catch {
        return false;
      }
    }
    if (!Array.isArray(value)) return false;
    return key.every((k) => value.some((v) => deepEqual(k, v) || (typeof k === 'string' && typeof v === 'string' && wildcardMatch(v, k))));
  }
  const k = keyString(key);
  return k !== undefined && inValue(k, value);
}

function semver(s: string): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function numeric(key: unknown, value: unknown, test: (r: number) => boolean): boolean {
  if (key === null || value === null || key === undefined || value === undefined) return false;
  const d = durations(key, value);
  if (d) return test(d[0].cmp(d[1]));
  const q = quantities(key, value);
  if (q) return test(q[0].cmp(q[1]));
  // A number against a quantity string compares exactly too; two plain numbers stay floats (Kyverno's float64).
  const toNum = (v: unknown): number | Dec | undefined => {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.trim() !== '') {
      const n = Number(v);
      if (!Number.isNaN(n)) return n;
      const qn = parseQuantity(v);
      if (qn !== undefined) return qn;
    }
    return undefined;
  };
  const a = toNum(key);
  const b = toNum(value);
  if (a !== undefined && b !== undefined) return test(typeof a === 'number' && typeof b === 'number' ? (a < b ? -1 : a > b ? 1 : 0) : new Dec(a).cmp(new Dec(b)));
  if (typeof key === 'string' && typeof value === 'string') {
    const sa = semver(key);
    const sb = semver(value);
    if (sa && sb) {
      for (let i = 0; i < 3; i++) if (sa[i] !== sb[i]) return test(sa[i]! < sb[i]! ? -1 : 1);
      return test(0);
    }
  }
  return false;
}

function durationCmp(key: unknown, value: unknown, test: (r: number) => boolean): boolean {
  const toD = (v: unknown) => (typeof v === 'number' ? new Dec(v) : typeof v === 'string' ? parseDuration(v) : undefined);
  const a = toD(key);
  const b = toD(value);
  if (a === undefined || b === undefined) return false;
  return test(a.cmp(b));
}
