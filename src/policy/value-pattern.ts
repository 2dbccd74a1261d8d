import { parseDuration, parseQuantity, type Dec } from './quantity.js';
import { wildcardMatch } from './wildcard.js';

/**
 * Compares one resource value with one scalar pattern value the way Kyverno's
 * `ValidateValueWithPattern` does: `|` alternatives, `&` conjunctions, operators
 * `>`, `<`, `>=`, `<=`, `!`, ranges `a-b` and `a!-b`, wildcards, quantities and durations.
 */
export function validateValueWithPattern(value: unknown, pattern: unknown): boolean {
  if (typeof pattern === 'boolean') return typeof value === 'boolean' && value === pattern;
  if (typeof pattern === 'number') return Number.isInteger(pattern) ? intPattern(value, pattern) : floatPattern(value, pattern);
  if (typeof pattern === 'string') return stringPatterns(value, pattern);
  if (pattern === null || pattern === undefined) return nilPattern(value);
  if (Array.isArray(pattern)) return false;
  if (typeof pattern === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return false;
}

function intPattern(value: unknown, pattern: number): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && value === pattern;
  if (typeof value === 'string') return /^[+-]?\d+$/.test(value) && Number(value) === pattern;
  return false;
}

function floatPattern(value: unknown, pattern: number): boolean {
  if (typeof value === 'number') return value === pattern;
  if (typeof value === 'string') {
    const n = Number(value);
    return value.trim() !== '' && !Number.isNaN(n) && n === pattern;
  }
  return false;
}

function nilPattern(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'number') return value === 0;
  if (typeof value === 'string') return value === '';
  if (typeof value === 'boolean') return !value;
  return false;
}

function stringPatterns(value: unknown, pattern: string): boolean {
  for (const alt of pattern.split('|')) {
    const cond = alt.trim();
    if (cond.split('&').every((c) => stringPattern(value, c.trim()))) return true;
  }
  return false;
}

type Op = '>=' | '<=' | '>' | '<' | '!' | '' | '-' | '!-';
// Kyverno operator.InRangeRegex / NotInRangeRegex: signed numbers with an optional unit suffix.
const NOT_IN_RANGE = /^([-|+]?\d+(?:\.\d+)?[A-Za-z]*)!-([-|+]?\d+(?:\.\d+)?[A-Za-z]*)$/;
const IN_RANGE = /^([-|+]?\d+(?:\.\d+)?[A-Za-z]*)-([-|+]?\d+(?:\.\d+)?[A-Za-z]*)$/;

/** Operator at the start of a pattern (Kyverno operator.GetOperatorFromStringPattern). */
export function operatorOf(pattern: string): Op {
  if (pattern.length < 2) return '';
  if (pattern.startsWith('>=')) return '>=';
  if (pattern.startsWith('<=')) return '<=';
  if (pattern.startsWith('>')) return '>';
  if (pattern.startsWith('<')) return '<';
  if (pattern.startsWith('!')) return '!';
  if (NOT_IN_RANGE.test(pattern)) return '!-';
  if (IN_RANGE.test(pattern)) return '-';
  return '';
}

function stringPattern(value: unknown, patternIn: string): boolean {
  let pattern = patternIn;
  let op = operatorOf(pattern);
  if (op === '-') {
    const [, l, r] = IN_RANGE.exec(pattern)!;
    if (!stringPattern(value, `>=${l}`)) return false;
    pattern = `<=${r}`;
    op = '<=';
  }
  if (op === '!-') {
    const [, l, r] = NOT_IN_RANGE.exec(pattern)!;
    if (stringPattern(value, `<${l}`)) return true;
    pattern = `>${r}`;
    op = '>';
  }
  pattern = pattern.slice(op.length).trim();
  const num = /^(-?\d*(\.\d+)?)/.exec(pattern)![1]!;
  if (num === '' || num === '-') return validateString(value, pattern, op);
  return validateNumberWithStr(value, pattern, op);
}

function scalarToString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function validateString(value: unknown, pattern: string, op: Op): boolean {
  if (op === '!' || op === '') {
    const s = scalarToString(value);
    if (s === undefined) return false;
    const m = wildcardMatch(pattern, s);
    return op === '!' ? !m : m;
  }
  // >, <, >=, <= on a non-numeric pattern: durations are the one comparable string form.
  const pd = parseDuration(pattern);
  const vd = typeof value === 'string' ? parseDuration(value) : undefined;
  if (pd !== undefined && vd !== undefined) return compare(vd, pd, op);
  return false;
}

function validateNumberWithStr(value: unknown, pattern: string, op: Op): boolean {
  const typed = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : undefined;
  if (typed === undefined) return false;
  const pq = parseQuantity(pattern);
  if (pq !== undefined) {
    const vq = parseQuantity(typed);
    if (vq === undefined) return false;
    return compare(vq, pq, op);
  }
  const pd = parseDuration(pattern);
  if (pd !== undefined) {
    const vd = parseDuration(typed);
    if (vd !== undefined) return compare(vd, pd, op);
  }
  const m = wildcardMatch(pattern, typed);
  return op === '!' ? !m : m;
}

/** Exact decimal comparison: quantities and durations never go through floats. */
function compare(v: Dec, p: Dec, op: Op): boolean {
  const c = v.cmp(p);
  switch (op) {
    case '':
      return c === 0;
    case '!':
      return c !== 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    default:
      return false;
  }
}
