import { parseDuration, parseQuantity } from './quantity.js';
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

export function evaluateConditions(conditions: unknown, ctx: EvalContext, mode: 'preconditions' | 'deny'): ConditionOutcome {
  if (conditions === undefined || conditions === null) return { met: true, messages: [] };
  const substituted = substituteAll(conditions, ctx, { onError: mode === 'preconditions' ? 'null' : 'error', path: `/${mode}` });
  if (Array.isArray(substituted)) {
    for (const c of substituted as Condition[]) if (!evaluateCondition(c)) return { met: false, messages: c.message ? [c.message] : [] };
    return { met: true, messages: [] };
  }
  const { any, all } = (substituted ?? {}) as { any?: Condition[]; all?: Condition[] };
  const messages: string[] = [];
  let anyOk = true;
  if (any && any.length > 0) {
    anyOk = false;
    for (const c of any) {
      if (evaluateCondition(c)) {
        anyOk = true;
        break;
      }
      if (c.message) messages.push(c.message);
    }
  }
  let allOk = true;
  for (const c of all ?? []) {
    if (!evaluateCondition(c)) {
      allOk = false;
      if (c.message) messages.push(c.message);
      break;
    }
  }
  return { met: anyOk && allOk, messages: anyOk && allOk ? [] : messages };
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
      return Array.isArray(key) ? key.some((k) => inValue(k, value)) : inValue(key, value);
    case 'allin':
      return Array.isArray(key) ? key.every((k) => inValue(k, value)) : inValue(key, value);
    case 'anynotin':
      return Array.isArray(key) ? key.some((k) => !inValue(k, value)) : !inValue(key, value);
    case 'allnotin':
      return Array.isArray(key) ? key.every((k) => !inValue(k, value)) : !inValue(key, value);
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

/** Kyverno parseDuration: at least one side must be a non-zero duration string; numbers count as seconds. */
function durations(key: unknown, value: unknown): [number, number] | undefined {
  const dk = typeof key === 'string' ? parseDuration(key) : undefined;
  const dv = typeof value === 'string' ? parseDuration(value) : undefined;
  const k = dk !== undefined && dk !== 0 ? dk : undefined;
  const v = dv !== undefined && dv !== 0 ? dv : undefined;
  if (k === undefined && v === undefined) return undefined;
  const kk = k ?? (typeof key === 'number' ? key : dk);
  const vv = v ?? (typeof value === 'number' ? value : dv);
  if (kk === undefined || vv === undefined) return undefined;
  return [kk, vv];
}

function quantities(key: unknown, value: unknown): [number, number] | undefined {
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
      if (d) return d[0] === d[1];
      if (Number.isInteger(key) ? /^[+-]?\d+$/.test(value) : value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value) === key;
    }
    return false;
  }
  if (typeof key === 'string') {
    const d = durations(key, value);
    if (d) return d[0] === d[1];
    const q = quantities(key, value);
    if (q) return q[0] === q[1];
    if (typeof value === 'string') return wildcardMatch(value, key);
    return false;
  }
  if (key === null) return value === null;
  return deepEqual(key, value);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** AnyIn / AllIn / ...: is one key in the value set (array or string)? Wildcards apply both ways; numeric ranges `a-b` are honoured. */
function inValue(key: unknown, value: unknown): boolean {
  const k = str(key);
  if (Array.isArray(value)) {
    return value.some((v) => {
      const s = str(v);
      if (typeof v === 'string' && typeof key === 'number') {
        const r = /^(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)$/.exec(v);
        if (r) return key >= Number(r[1]) && key <= Number(r[2]);
      }
      return wildcardMatch(s, k) || wildcardMatch(k, s);
    });
  }
  if (typeof value === 'string') {
    if (wildcardMatch(value, k)) return true;
    try {
      const arr = JSON.parse(value);
      if (Array.isArray(arr)) return arr.some((v) => str(v) === k);
    } catch {
      /* not a JSON list */
    }
    return false;
  }
  return false;
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
  return inValue(key, value);
}

function semver(s: string): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function numeric(key: unknown, value: unknown, test: (r: number) => boolean): boolean {
  if (key === null || value === null || key === undefined || value === undefined) return false;
  const cmp = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);
  const d = durations(key, value);
  if (d) return test(cmp(d[0], d[1]));
  const q = quantities(key, value);
  if (q) return test(cmp(q[0], q[1]));
  const toNum = (v: unknown): number | undefined => {
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
  if (a !== undefined && b !== undefined) return test(cmp(a, b));
  if (typeof key === 'string' && typeof value === 'string') {
    const sa = semver(key);
    const sb = semver(value);
    if (sa && sb) {
      for (let i = 0; i < 3; i++) if (sa[i] !== sb[i]) return test(cmp(sa[i]!, sb[i]!));
      return test(0);
    }
  }
  return false;
}

function durationCmp(key: unknown, value: unknown, test: (r: number) => boolean): boolean {
  const toD = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' ? parseDuration(v) : undefined);
  const a = toD(key);
  const b = toD(value);
  if (a === undefined || b === undefined) return false;
  return test(a < b ? -1 : a > b ? 1 : 0);
}
