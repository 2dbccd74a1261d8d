import { createHash } from 'node:crypto';
import * as jp from '@jmespath-community/jmespath';
import { parse as parseYamlText } from 'yaml';
import { parseImageReference } from './images.js';
import { formatDuration, parseDuration, parseQuantity } from './quantity.js';
import { wildcardMatch } from './wildcard.js';

/**
 * Kyverno's custom JMESPath functions (pkg/engine/jmespath/functions.go), registered once into the
 * @jmespath-community/jmespath runtime. Errors thrown here surface as rule `error` results.
 */
type Fn = (args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

const { TYPE_ANY, TYPE_STRING, TYPE_NUMBER, TYPE_OBJECT, TYPE_ARRAY, TYPE_BOOLEAN } = jp;
const S = { types: [TYPE_STRING] };
const A = { types: [TYPE_ANY] };
const N = { types: [TYPE_NUMBER] };

function num(v: unknown, fn: string): number {
  if (typeof v === 'number') return v;
  throw new Error(`${fn}: expected a number`);
}

/** Arithmetic over numbers, quantities ("1Gi") and durations ("1h"), as Kyverno's add/subtract/... */
function arith(a: unknown, b: unknown, op: '+' | '-' | '*' | '/' | '%', fn: string): unknown {
  const calc = (x: number, y: number): number => {
    switch (op) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '/':
        if (y === 0) throw new Error(`${fn}: zero divisor`);
        return x / y;
      case '%':
        if (y === 0) throw new Error(`${fn}: zero divisor`);
        return x % y;
    }
  };
  if (typeof a === 'number' && typeof b === 'number') return calc(a, b);
  const da = typeof a === 'string' ? parseDuration(a) : undefined;
  const db = typeof b === 'string' ? parseDuration(b) : undefined;
  if (da !== undefined && (db !== undefined || typeof b === 'number')) {
    if ((op === '*' || op === '/') && typeof b === 'number') return formatDuration(calc(da, b));
    if (op === '/' && db !== undefined) return calc(da, db);
    return formatDuration(calc(da, db ?? (b as number)));
  }
  const qa = typeof a === 'string' ? parseQuantity(a) : undefined;
  const qb = typeof b === 'string' ? parseQuantity(b) : typeof b === 'number' ? b : undefined;
  if (qa !== undefined && qb !== undefined) {
    if (op === '/' && typeof b === 'string') return calc(qa, qb);
    const suffix = /([a-zA-Z]+)$/.exec(a as string)?.[1] ?? '';
    const unit = typeof a === 'string' ? (parseQuantity(`1${suffix}`) ?? 1) : 1;
    const v = calc(qa, qb) / unit;
    return `${Number.isInteger(v) ? v : Number(v.toFixed(6))}${suffix}`;
  }
  throw new Error(`${fn}: invalid operands`);
}

function goTime(s: unknown): Date {
  if (typeof s !== 'string') throw new Error('expected an RFC 3339 time string');
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid time ${s}`);
  return d;
}

function labelMatch(selector: unknown, labels: unknown): boolean {
  if (typeof selector !== 'object' || selector === null) return false;
  const l = (labels ?? {}) as Record<string, unknown>;
  return Object.entries(selector as Record<string, unknown>).every(([k, v]) => l[k] === v);
}

const FUNCTIONS: Record<string, [Fn, { types: number[]; optional?: boolean; variadic?: boolean }[]]> = {
  compare: [([a, b]) => (a < b ? -1 : a > b ? 1 : 0), [S, S]],
  equal_fold: [([a, b]) => a.toLowerCase() === b.toLowerCase(), [S, S]],
  replace_all: [([s, o, n]) => s.split(o).join(n), [S, S, S]],
  to_upper: [([s]) => s.toUpperCase(), [S]],
  to_lower: [([s]) => s.toLowerCase(), [S]],
  trim_prefix: [([s, p]) => (s.startsWith(p) ? s.slice(p.length) : s), [S, S]],
  regex_replace_all: [([re, src, rep]) => String(src).replace(new RegExp(re, 'g'), String(rep).replace(/\$\{?(\d+)\}?/g, '$$$1')), [S, A, A]],
  regex_replace_all_literal: [([re, src, rep]) => String(src).replace(new RegExp(re, 'g'), () => String(rep)), [S, A, A]],
  regex_match: [([re, s]) => new RegExp(re).test(String(s)), [S, A]],
  pattern_match: [([p, s]) => wildcardMatch(p, String(s)), [S, A]],
  label_match: [([sel, labels]) => labelMatch(sel, labels), [{ types: [TYPE_OBJECT] }, { types: [TYPE_OBJECT, jp.TYPE_NULL] }]],
  add: [([a, b]) => arith(a, b, '+', 'add'), [A, A]],
  sum: [([arr]) => (arr as unknown[]).reduce((acc: unknown, x) => (acc === undefined ? x : arith(acc, x, '+', 'sum')), undefined), [{ types: [TYPE_ARRAY] }]],
  subtract: [([a, b]) => arith(a, b, '-', 'subtract'), [A, A]],
  multiply: [([a, b]) => (typeof a === 'number' && typeof b !== 'number' ? arith(b, a, '*', 'multiply') : arith(a, b, '*', 'multiply')), [A, A]],
  divide: [([a, b]) => arith(a, b, '/', 'divide'), [A, A]],
  modulo: [([a, b]) => arith(a, b, '%', 'modulo'), [A, A]],
  round: [([x, d]) => Math.round(num(x, 'round') * 10 ** num(d, 'round')) / 10 ** d, [N, N]],
  base64_decode: [([s]) => Buffer.from(s, 'base64').toString('utf8'), [S]],
  base64_encode: [([s]) => Buffer.from(s, 'utf8').toString('base64'), [S]],
  truncate: [([s, n]) => (s.length > n ? s.slice(0, Math.max(0, n)) : s), [S, N]],
  parse_json: [([s]) => JSON.parse(s), [S]],
  parse_yaml: [([s]) => parseYamlText(s) ?? null, [S]],
  path_canonicalize: [([s]) => s.replace(/\/+/g, '/').replace(/\/\.\//g, '/').replace(/(.)\/$/, '$1'), [S]],
  semver_compare: [([v, range]) => semverSatisfies(v, range), [S, S]],
  object_from_lists: [([keys, values]) => Object.fromEntries((keys as unknown[]).map((k, i) => [String(k), (values as unknown[])[i] ?? null])), [{ types: [TYPE_ARRAY] }, { types: [TYPE_ARRAY] }]],
  to_boolean: [([s]) => { const l = String(s).toLowerCase(); if (l === 'true') return true; if (l === 'false') return false; throw new Error(`to_boolean: cannot convert ${s}`); }, [S]],
  is_external_url: [([s]) => { try { const u = new URL(s); return !['localhost', '127.0.0.1', '::1'].includes(u.hostname) && !u.hostname.startsWith('10.') && !u.hostname.startsWith('192.168.'); } catch { return false; } }, [S]],
  sha256: [([s]) => createHash('sha256').update(String(s)).digest('hex'), [S]],
  random: [([p]) => String(p).replace(/\[[^\]]+\]\{?\d*\}?/g, (m) => m.replace(/\[.*\]|\{.*\}/g, '') || 'a'), [S]],
  time_now: [() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), []],
  time_now_utc: [() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), []],
  time_since: [([, a, b]) => formatDuration(((b ? goTime(b) : new Date()).getTime() - goTime(a).getTime()) / 1000), [S, S, S]],
  time_add: [([t, d]) => new Date(goTime(t).getTime() + (parseDuration(d) ?? 0) * 1000).toISOString().replace(/\.000Z$/, 'Z'), [S, S]],
  time_diff: [([a, b]) => formatDuration((goTime(b).getTime() - goTime(a).getTime()) / 1000), [S, S]],
  time_before: [([a, b]) => goTime(a).getTime() < goTime(b).getTime(), [S, S]],
  time_after: [([a, b]) => goTime(a).getTime() > goTime(b).getTime(), [S, S]],
  time_between: [([t, a, b]) => goTime(t).getTime() > goTime(a).getTime() && goTime(t).getTime() < goTime(b).getTime(), [S, S, S]],
  time_utc: [([t]) => goTime(t).toISOString().replace(/\.000Z$/, 'Z'), [S]],
  time_parse: [([layout, v]) => { void layout; const d = new Date(/^\d+$/.test(String(v)) ? Number(v) * 1000 : String(v)); if (Number.isNaN(d.getTime())) throw new Error(`time_parse: cannot parse ${v}`); return d.toISOString().replace(/\.000Z$/, 'Z'); }, [S, S]],
  time_truncate: [([t, d]) => { const sec = parseDuration(String(d)); if (!sec) throw new Error('time_truncate: invalid duration'); const ms = goTime(t).getTime(); return new Date(ms - (ms % (sec * 1000))).toISOString().replace(/\.000Z$/, 'Z'); }, [S, S]],
  time_to_cron: [([t]) => { const d = goTime(t); return `${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} ${d.getUTCDay()}`; }, [S]],
  x509_decode: [() => { throw new Error('x509_decode is not supported by this evaluator'); }, [S]],
  image_normalize: [([s]) => { const i = parseImageReference(String(s)); if (!i) throw new Error(`image_normalize: invalid image reference ${s}`); return i.reference; }, [S]],
  lookup: [([o, k]) => (Array.isArray(o) ? (o[k] ?? null) : (o?.[k] ?? null)), [{ types: [TYPE_OBJECT, TYPE_ARRAY] }, { types: [TYPE_STRING, TYPE_NUMBER] }]],
};

/** Built-ins whose Kyverno signature differs from the community one. */
const OVERRIDES: Record<string, [Fn, { types: number[]; optional?: boolean; variadic?: boolean }[]]> = {
  replace: [([s, o, n, c]) => { const out = String(s); let count = c === undefined || c < 0 ? Infinity : c; let idx = 0; let res = ''; while (count > 0) { const i = out.indexOf(o, idx); if (i < 0 || o === '') break; res += out.slice(idx, i) + n; idx = i + o.length; count--; } res += out.slice(idx); return res; }, [S, S, S, { types: [TYPE_NUMBER], optional: true }]],
  items: [([o, k, v]) => {
    const entries: [string, unknown][] = Array.isArray(o) ? o.map((x, i) => [String(i), x]) : Object.entries(o as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (k === undefined) return entries.map(([a, b]) => [a, b]);
    return entries.map(([a, b]) => ({ [k]: Array.isArray(o) ? Number(a) : a, [v ?? 'value']: b }));
  }, [{ types: [TYPE_OBJECT, TYPE_ARRAY] }, { types: [TYPE_STRING], optional: true }, { types: [TYPE_STRING], optional: true }]],
  trim: [([s, cut]) => { const set = cut === undefined ? ' \t\n\r' : String(cut); let a = 0; let b = s.length; while (a < b && set.includes(s[a])) a++; while (b > a && set.includes(s[b - 1])) b--; return s.slice(a, b); }, [S, { types: [TYPE_STRING], optional: true }]],
};

function semverSatisfies(version: string, range: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split(/[-+]/)[0]!.split('.').map((x) => Number(x) || 0);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0) ? -1 : 1;
    return 0;
  };
  const v = parse(version);
  return range.split('||').some((alt) =>
    alt.trim().split(/\s+/).every((c) => {
      const m = /^(>=|<=|>|<|=|!=)?(.+)$/.exec(c.trim());
      if (!m) return false;
      const r = cmp(v, parse(m[2]!));
      switch (m[1] ?? '=') {
        case '>=': return r >= 0;
        case '<=': return r <= 0;
        case '>': return r > 0;
        case '<': return r < 0;
        case '!=': return r !== 0;
        default: return r === 0;
      }
    }),
  );
}

let registered = false;
export function registerKyvernoFunctions(): void {
  if (registered) return;
  registered = true;
  for (const [name, [fn, sig]] of Object.entries(FUNCTIONS)) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    jp.registerFunction(name, fn as any, sig as any, { override: true });
  }
  for (const [name, [fn, sig]] of Object.entries(OVERRIDES)) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    jp.registerFunction(name, fn as any, sig as any, { override: true });
  }
  void TYPE_BOOLEAN;
}
