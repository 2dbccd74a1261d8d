import { createHash, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { posix } from 'node:path';
import * as jp from '@jmespath-community/jmespath';
import { parse as parseYamlText } from 'yaml';
import { parseImageReference } from './images.js';
import { Dec, formatDuration, parseDuration, parseQuantity } from './quantity.js';
import { re2ReplaceAll, re2ReplaceAllLiteral, re2Test } from './regex.js';
import { wildcardMatch } from './wildcard.js';
import { x509Decode } from './x509-decode.js';
import { MAX_NESTING_DEPTH, nestingExceeds } from './nesting.js';

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

/**
 * Kyverno's add/subtract/multiply/divide/modulo (pkg/engine/jmespath/arithmetic.go): operands are
 * numbers (scalars), quantities ("1Gi", "250m") or durations ("1h"). A string valid as both ("30m")
 * is a duration when the other operand is unambiguously one, else a quantity. Allowed pairs:
 * same kind for + - %, kind * scalar (either side) and kind / scalar, quantity / quantity and
 * duration / duration give a number; anything else is "invalid operands" / "types mismatch".
 */
// Quantities and durations are exact decimals (seconds for durations); scalars are JSON numbers (Go float64).
type Operand = { kind: 'scalar'; v: number } | { kind: 'quantity'; v: Dec; format: QuantityFormat } | { kind: 'duration'; v: Dec };

function operand(x: unknown, fn: string): { scalar?: number; q?: Dec; d?: Dec; raw?: string } {
  if (typeof x === 'number') return { scalar: x };
  if (typeof x === 'string') {
    const q = parseQuantity(x);
    const d = parseDuration(x);
    if (q !== undefined || d !== undefined) return { q, d, raw: x };
  }
  throw new Error(`JMESPath function '${fn}': invalid operand`);
}

function resolve(c: ReturnType<typeof operand>, durationContext: boolean): Operand {
  if (c.scalar !== undefined) return { kind: 'scalar', v: c.scalar };
  if (c.d !== undefined && (c.q === undefined || durationContext)) return { kind: 'duration', v: c.d };
  return { kind: 'quantity', v: c.q!, format: quantityFormat(c.raw!) };
}

function arith(a: unknown, b: unknown, op: '+' | '-' | '*' | '/' | '%', fn: string): unknown {
  const ca = operand(a, fn);
  const cb = operand(b, fn);
  const durationContext = (ca.d !== undefined && ca.q === undefined) || (cb.d !== undefined && cb.q === undefined);
  const x = resolve(ca, durationContext);
  const y = resolve(cb, durationContext);
  const mismatch = (): never => {
    throw new Error(`JMESPath function '${fn}': types mismatch`);
  };
  const out = (kind: Operand['kind'], v: Dec, format?: QuantityFormat): unknown => (kind === 'scalar' ? v.toNumber() : kind === 'duration' ? formatDuration(v) : formatQuantity(v, format ?? 'DecimalSI'));
  const fmt = x.kind === 'quantity' ? x.format : y.kind === 'quantity' ? y.format : undefined;
  // Two scalars compute as floats, like Kyverno's float64; anything with a unit computes exactly.
  const scalars = x.kind === 'scalar' && y.kind === 'scalar';
  const xv = new Dec(x.v);
  const yv = new Dec(y.v);
  if ((op === '/' || op === '%') && yv.isZero()) throw new Error(`JMESPath function '${fn}': Zero divisor passed`);
  switch (op) {
    case '+':
    case '-':
      if (x.kind !== y.kind) mismatch();
      if (scalars) return op === '+' ? (x.v as number) + (y.v as number) : (x.v as number) - (y.v as number);
      return out(x.kind, op === '+' ? xv.plus(yv) : xv.minus(yv), fmt);
    case '*':
      if (x.kind !== 'scalar' && y.kind !== 'scalar') mismatch();
      if (scalars) return (x.v as number) * (y.v as number);
      return out(x.kind === 'scalar' ? y.kind : x.kind, xv.times(yv), fmt);
    case '/':
      if (scalars) return (x.v as number) / (y.v as number);
      if (x.kind === y.kind) return xv.div(yv).toNumber();
      if (y.kind !== 'scalar') mismatch();
      return out(x.kind, xv.div(yv), fmt);
    case '%': {
      if (x.kind !== y.kind) mismatch();
      if (scalars) return (x.v as number) % (y.v as number);
      return out(x.kind, xv.mod(yv), fmt);
    }
  }
}

type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

function quantityFormat(s: string): QuantityFormat {
  if (/[KMGTPE]i$/.test(s.trim())) return 'BinarySI';
  if (/\d[eE][+-]?\d+$/.test(s.trim())) return 'DecimalExponent';
  return 'DecimalSI';
}

const DECIMAL_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };

/**
 * resource.Quantity.String(): BinarySI keeps a binary suffix when the value is an integer of at least
 * 1024 in magnitude (largest power of 1024 that divides it), else falls back to DecimalSI; DecimalSI
 * uses the largest power-of-1000 suffix that leaves an integer mantissa (values round up to nano).
 */
export function formatQuantity(valueIn: Dec | number, format: QuantityFormat): string {
  const value = new Dec(valueIn);
  if (value.isZero()) return '0';
  if (format === 'BinarySI' && value.abs().gte(1024) && value.isInteger()) {
    const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
    let k = 0;
    let n = BigInt(value.toFixed(0));
    while (k < 6 && n % 1024n === 0n) {
      n /= 1024n;
      k++;
    }
    return `${n}${suffixes[k]}`;
  }
  const sign = value.isNeg() ? '-' : '';
  let nano = BigInt(value.abs().times(1e9).ceil().toFixed(0));
  let exp = -9;
  while (exp < 18 && nano % 1000n === 0n) {
    nano /= 1000n;
    exp += 3;
  }
  if (format === 'DecimalExponent') return `${sign}${nano}${exp === 0 ? '' : `e${exp}`}`;
  return `${sign}${nano}${DECIMAL_SUFFIX[exp]}`;
}

/** net.IP.IsLoopback() || net.IP.IsPrivate() for a literal address. */
function loopbackOrPrivate(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h) === 4) {
    const [a, b] = h.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  const lower = h.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return loopbackOrPrivate(mapped[1]!);
  return lower === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(lower);
}

/**
 * Kyverno's is_external_url: false for a loopback or private address. Kyverno resolves host names
 * through DNS; offline nothing is resolved, so a name counts as external unless it is `localhost`
 * (or ends in `.localhost`), the one name whose answer is fixed (RFC 6761).
 */
function isExternalURL(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`is_external_url: invalid URL ${JSON.stringify(s)}`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return !loopbackOrPrivate(host);
  if (host === '' ) return false;
  return !(host === 'localhost' || host.endsWith('.localhost'));
}

/** Go's filepath.Clean on a slash path (Kyverno's path_canonicalize on Linux). */
function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  let out = posix.normalize(p);
  if (rooted) out = posix.resolve('/', out);
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out === '' ? '.' : out;
}

/**
 * Kyverno's random(pattern) generates a string matching a regular expression (zach-klippenstein/goregen).
 * Supported: literals and escapes, classes `[a-z0-9_]` (ranges, `^` negation over printable ASCII),
 * `\d \w \s .`, groups `( | )`, and the quantifiers `? * + {n} {n,} {n,m}` (unbounded ones stop at 10
 * more, as goregen's default); anything else is an error rather than a wrong string.
 */
function randomFromPattern(pattern: string): string {
  if (pattern === '') throw new Error('no pattern provided');
  const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
  const DIGITS = '0123456789'.split('');
  const WORD = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', ...DIGITS, '_'];
  let pos = 0;
  const peek = () => pattern[pos];
  type Node = () => string;
  const pick = (set: string[]): string => {
    if (set.length === 0) throw new Error(`random: empty character class in ${pattern}`);
    return set[randomInt(set.length)]!;
  };
  const escapeSet = (c: string): string[] => (c === 'd' ? DIGITS : c === 'w' ? WORD : c === 's' ? [' ', '\t'] : [c]);
  const parseClass = (): string[] => {
    pos++; // [
    let negate = false;
    if (peek() === '^') {
      negate = true;
      pos++;
    }
    const set = new Set<string>();
    let first = true;
    while (pos < pattern.length && (peek() !== ']' || first)) {
      first = false;
      let c = pattern[pos++]!;
      if (c === '\\') {
        for (const x of escapeSet(pattern[pos++] ?? '')) set.add(x);
        continue;
      }
      if (peek() === '-' && pattern[pos + 1] !== undefined && pattern[pos + 1] !== ']') {
        pos++;
        let end = pattern[pos++]!;
        if (end === '\\') end = pattern[pos++] ?? '';
        for (let x = c.charCodeAt(0); x <= end.charCodeAt(0); x++) set.add(String.fromCharCode(x));
        continue;
      }
      if (c === undefined) c = '';
      set.add(c);
    }
    if (peek() !== ']') throw new Error(`random: unterminated character class in ${pattern}`);
    pos++;
    const list = negate ? PRINTABLE.filter((x) => !set.has(x)) : [...set];
    return list;
  };
  const parseAlternation = (): Node => {
    const branches: Node[][] = [[]];
    while (pos < pattern.length && peek() !== ')') {
      if (peek() === '|') {
        pos++;
        branches.push([]);
        continue;
      }
      branches[branches.length - 1]!.push(parseQuantified());
    }
    return () => {
      const b = branches[randomInt(branches.length)]!;
      return b.map((n) => n()).join('');
    };
  };
  const parseAtom = (): Node => {
    const c = pattern[pos]!;
    if (c === '(') {
      pos++;
      if (pattern.startsWith('?:', pos)) pos += 2;
      const inner = parseAlternation();
      if (peek() !== ')') throw new Error(`random: unbalanced parenthesis in ${pattern}`);
      pos++;
      return inner;
    }
    if (c === '[') {
      const set = parseClass();
      return () => pick(set);
    }
    if (c === '\\') {
      pos += 2;
      const set = escapeSet(pattern[pos - 1] ?? '');
      return () => pick(set);
    }
    if (c === '.') {
      pos++;
      return () => pick(PRINTABLE);
    }
    if (c === '^' || c === '$') {
      pos++;
      return () => '';
    }
    if ('*+?{'.includes(c)) throw new Error(`random: missing argument to repetition operator in ${pattern}`);
    pos++;
    return () => c;
  };
  const parseQuantified = (): Node => {
    const atom = parseAtom();
    const q = peek();
    let min = 1;
    let max = 1;
    if (q === '*' || q === '+' || q === '?') {
      pos++;
      [min, max] = q === '*' ? [0, 10] : q === '+' ? [1, 11] : [0, 1];
    } else if (q === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(pos));
      if (!m) return atom;
      pos += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? min + 10 : Number(m[3]);
      if (max < min || max > 1000) throw new Error(`random: invalid repeat count in ${pattern}`);
    } else return atom;
    return () => {
      const n = min + randomInt(max - min + 1);
      let out = '';
      for (let i = 0; i < n; i++) out += atom();
      return out;
    };
  };
  const root = parseAlternation();
  if (pos < pattern.length) throw new Error(`random: unexpected ) in ${pattern}`);
  return root();
}

/** Text from the admitted object becomes data here: no deeper than the engine's nesting bound. */
function boundedNesting(v: unknown, fn: string): unknown {
  if (nestingExceeds(v)) throw new Error(`${fn}: nesting exceeds ${MAX_NESTING_DEPTH} levels`);
  return v;
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
  // Go regexp (RE2, linear time) as Kyverno: the policy's regex runs over the admitted object's text.
  regex_replace_all: [([re, src, rep]) => re2ReplaceAll(re, String(src), String(rep)), [S, A, A]],
  regex_replace_all_literal: [([re, src, rep]) => re2ReplaceAllLiteral(re, String(src), String(rep)), [S, A, A]],
  regex_match: [([re, s]) => re2Test(re, String(s)), [S, A]],
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
  parse_json: [([s]) => boundedNesting(JSON.parse(s), 'parse_json'), [S]],
  parse_yaml: [([s]) => boundedNesting(parseYamlText(s) ?? null, 'parse_yaml'), [S]],
  path_canonicalize: [([s]) => cleanPath(s), [S]],
  semver_compare: [([v, range]) => semverSatisfies(v, range), [S, S]],
  object_from_lists: [([keys, values]) => Object.fromEntries((keys as unknown[]).map((k, i) => [String(k), (values as unknown[])[i] ?? null])), [{ types: [TYPE_ARRAY] }, { types: [TYPE_ARRAY] }]],
  to_boolean: [([s]) => { const l = String(s).toLowerCase(); if (l === 'true') return true; if (l === 'false') return false; throw new Error(`to_boolean: cannot convert ${s}`); }, [S]],
  is_external_url: [([s]) => isExternalURL(s), [S]],
  sha256: [([s]) => createHash('sha256').update(String(s)).digest('hex'), [S]],
  random: [([p]) => randomFromPattern(String(p)), [S]],
  time_now: [() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), []],
  time_now_utc: [() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), []],
  time_since: [([, a, b]) => formatDuration(((b ? goTime(b) : new Date()).getTime() - goTime(a).getTime()) / 1000), [S, S, S]],
  time_add: [([t, d]) => new Date(goTime(t).getTime() + (parseDuration(d) ?? new Dec(0)).times(1000).toNumber()).toISOString().replace(/\.000Z$/, 'Z'), [S, S]],
  time_diff: [([a, b]) => formatDuration((goTime(b).getTime() - goTime(a).getTime()) / 1000), [S, S]],
  time_before: [([a, b]) => goTime(a).getTime() < goTime(b).getTime(), [S, S]],
  time_after: [([a, b]) => goTime(a).getTime() > goTime(b).getTime(), [S, S]],
  time_between: [([t, a, b]) => goTime(t).getTime() > goTime(a).getTime() && goTime(t).getTime() < goTime(b).getTime(), [S, S, S]],
  time_utc: [([t]) => goTime(t).toISOString().replace(/\.000Z$/, 'Z'), [S]],
  time_parse: [([layout, v]) => { void layout; const d = new Date(/^\d+$/.test(String(v)) ? Number(v) * 1000 : String(v)); if (Number.isNaN(d.getTime())) throw new Error(`time_parse: cannot parse ${v}`); return d.toISOString().replace(/\.000Z$/, 'Z'); }, [S, S]],
  time_truncate: [([t, d]) => { const sec = parseDuration(String(d))?.toNumber(); if (!sec) throw new Error('time_truncate: invalid duration'); const ms = goTime(t).getTime(); return new Date(ms - (ms % (sec * 1000))).toISOString().replace(/\.000Z$/, 'Z'); }, [S, S]],
  time_to_cron: [([t]) => { const d = goTime(t); return `${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} ${d.getUTCDay()}`; }, [S]],
  x509_decode: [([s]) => x509Decode(s), [S]],
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
