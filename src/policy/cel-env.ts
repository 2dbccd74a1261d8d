import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { Dec, parseQuantity } from './quantity.js';
import { re2Find, re2FindAll, re2Test } from './regex.js';

/**
 * The CEL environment of Kyverno `validate.cel` rules: the variables of a Kubernetes
 * ValidatingAdmissionPolicy (`object`, `oldObject`, `request`, `namespaceObject`, `variables`,
 * `params`) on @marcbachmann/cel-js, plus the Kubernetes CEL library functions the library lacks
 * (lists, regex, sets, quantity, and the cel-go string extensions `replace`, `charAt`, `reverse`).
 *
 * Expressions come from policy files; the values they read come from untrusted resources. CEL has
 * no loops or recursion, so evaluation always ends; its cost is bounded by `estimateCost` (list
 * sizes to the power of macro nesting) before anything runs, and parsing by the library's limits.
 */

export const CEL_VARIABLES = ['object', 'oldObject', 'request', 'namespaceObject', 'variables', 'params', 'authorizer'] as const;

/** Kubernetes' per-evaluation CEL cost budget (k8s.io/apiserver/pkg/apis/cel RuntimeCELCostBudget). */
export const CEL_COST_BUDGET = 10_000_000;

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

type Comparable = bigint | number | string | boolean;

function compare(a: unknown, b: unknown): number {
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    const x = typeof a === 'bigint' && typeof b === 'bigint' ? (a < b ? -1 : a > b ? 1 : 0) : Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
    return x;
  }
  if (typeof a === typeof b && (typeof a === 'string' || typeof a === 'boolean')) return (a as Comparable) < (b as Comparable) ? -1 : (a as Comparable) > (b as Comparable) ? 1 : 0;
  throw new Error(`no such overload: cannot compare ${typeof a} and ${typeof b}`);
}

function celEquals(a: unknown, b: unknown): boolean {
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => celEquals(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && celEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** A Kubernetes resource.Quantity, as the CEL `quantity()` library exposes it. */
export class CelQuantity {
  constructor(readonly value: Dec) {}
}

function quantityOf(s: string): CelQuantity {
  const v = parseQuantity(s);
  if (v === undefined) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  return new CelQuantity(v);
}

class SetsNamespace {}


let shared: Environment | undefined;

/** One environment for every rule: building one registers ~100 overloads. */
export function celEnvironment(): Environment {
  if (shared) return shared;
  const env = new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
    limits: { maxAstNodes: 10_000, maxDepth: 100, maxListElements: 1_000, maxMapEntries: 1_000, maxCallArguments: 32 },
  });
  for (const v of CEL_VARIABLES) env.registerVariable(v, 'dyn');
  // cel-go strings extension (Kubernetes enables it) beyond what the library ships.
  env.registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b));
  env.registerFunction('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => {
    if (n < 0n) return s.split(a).join(b);
    let out = s;
    let from = 0;
    for (let i = 0n; i < n; i++) {
      const at = out.indexOf(a, from);
      if (at < 0) break;
      out = out.slice(0, at) + b + out.slice(at + a.length);
      from = at + b.length;
    }
    return out;
  });
  env.registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
    const chars = [...s];
    if (i < 0n || i > BigInt(chars.length)) throw new Error(`index out of range: ${i}`);
    return chars[Number(i)] ?? '';
  });
  env.registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''));
  // Kubernetes regex library.
  // Kubernetes regex library and CEL's matches(): RE2 (re2js, linear time), as cel-go, never JS RegExp.
  env.registerFunction('string.find(string): string', (s: string, re: string) => re2Find(re, s) ?? '');
  env.registerFunction('string.findAll(string): list<string>', (s: string, re: string) => re2FindAll(re, s));
  env.registerFunction('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => re2FindAll(re, s, n < 0n ? -1 : Number(n)));
  env.registerFunction(`string.${RE2_MATCHES}(string): bool`, (s: string, re: string) => re2Test(re, s));
  env.registerFunction(`${RE2_MATCHES}(string, string): bool`, (s: string, re: string) => re2Test(re, s));
  // Kubernetes lists library.
  env.registerFunction('list.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || compare(l[i - 1], x) <= 0));
  env.registerFunction('list.sum(): dyn', (l: unknown[]) => {
    if (l.length === 0) return 0n;
    return l.reduce((a, b) => {
      if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
      if (typeof a === 'number' && typeof b === 'number') return a + b;
      throw new Error('no such overload: sum of mixed or non-numeric list');
    });
  });
  env.registerFunction('list.min(): dyn', (l: unknown[]) => {
    if (l.length === 0) throw new Error('min called on empty list');
    return l.reduce((a, b) => (compare(b, a) < 0 ? b : a));
  });
  env.registerFunction('list.max(): dyn', (l: unknown[]) => {
    if (l.length === 0) throw new Error('max called on empty list');
    return l.reduce((a, b) => (compare(b, a) > 0 ? b : a));
  });
  env.registerFunction('list.indexOf(dyn): int', (l: unknown[], v: unknown) => BigInt(l.findIndex((x) => celEquals(x, v))));
  env.registerFunction('list.lastIndexOf(dyn): int', (l: unknown[], v: unknown) => {
    for (let i = l.length - 1; i >= 0; i--) if (celEquals(l[i], v)) return BigInt(i);
    return -1n;
  });
  // cel-go sets extension.
  env.registerType('SetsNamespace', SetsNamespace);
  env.registerConstant('sets', 'SetsNamespace', new SetsNamespace());
  env.registerFunction('SetsNamespace.contains(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => b.every((y) => a.some((x) => celEquals(x, y))));
  env.registerFunction('SetsNamespace.equivalent(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => b.every((y) => a.some((x) => celEquals(x, y))) && a.every((x) => b.some((y) => celEquals(x, y))));
  env.registerFunction('SetsNamespace.intersects(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => a.some((x) => b.some((y) => celEquals(x, y))));
  // Kubernetes quantity library (exact decimals, as resource.Quantity's inf.Dec).
  env.registerType('Quantity', CelQuantity);
  env.registerFunction('isQuantity(string): bool', (s: string) => parseQuantity(s) !== undefined);
  env.registerFunction('quantity(string): Quantity', (s: string) => quantityOf(s));
  env.registerFunction('Quantity.isInteger(): bool', (q: CelQuantity) => q.value.isInteger());
  env.registerFunction('Quantity.asInteger(): int', (q: CelQuantity) => {
    const n = q.value.isInteger() ? BigInt(q.value.toFixed(0)) : undefined;
    if (n === undefined || n > 9223372036854775807n || n < -9223372036854775808n) throw new Error('cannot convert value to integer');
    return n;
  });
  env.registerFunction('Quantity.asApproximateFloat(): double', (q: CelQuantity) => q.value.toNumber());
  env.registerFunction('Quantity.sign(): int', (q: CelQuantity) => BigInt(q.value.isZero() ? 0 : q.value.isNeg() ? -1 : 1));
  env.registerFunction('Quantity.compareTo(Quantity): int', (a: CelQuantity, b: CelQuantity) => BigInt(a.value.cmp(b.value)));
  env.registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: CelQuantity, b: CelQuantity) => a.value.gt(b.value));
  env.registerFunction('Quantity.isLessThan(Quantity): bool', (a: CelQuantity, b: CelQuantity) => a.value.lt(b.value));
  env.registerFunction('Quantity.add(Quantity): Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(a.value.plus(b.value)));
  env.registerFunction('Quantity.add(int): Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(a.value.plus(b.toString())));
  env.registerFunction('Quantity.sub(Quantity): Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(a.value.minus(b.value)));
  env.registerFunction('Quantity.sub(int): Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(a.value.minus(b.toString())));
  env.registerOperator('Quantity == Quantity', (a: CelQuantity, b: CelQuantity) => a.value.eq(b.value));
  shared = env;
  return env;
}

export interface CompiledCel {
  expression: string;
  program: ParseResult;
  /** Deepest nesting of comprehension macros (all, exists, map, ...). */
  macroDepth: number;
  /** Names of `variables.<name>` the expression reads. */
  variableRefs: Set<string>;
  usesAuthorizer: boolean;
}

export class CelCompileError extends Error {}

function isNode(v: unknown): v is ASTNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { op?: unknown }).op === 'string';
}

function walk(node: unknown, depth: number, out: { depth: number; refs: Set<string>; authorizer: boolean }): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, depth, out);
    return;
  }
  if (!isNode(node)) return;
  const args = (node as { args: unknown }).args;
  let d = depth;
  if (node.op === 'rcall' && Array.isArray(args) && typeof args[0] === 'string' && MACROS.has(args[0])) d = depth + 1;
  if (d > out.depth) out.depth = d;
  if (node.op === 'id' && args === 'authorizer') out.authorizer = true;
  if ((node.op === '.' || node.op === '.?') && Array.isArray(args) && isNode(args[0]) && args[0].op === 'id' && (args[0] as { args: unknown }).args === 'variables' && typeof args[1] === 'string') out.refs.add(args[1]);
  // Unary operators (`!_`, `-_`) carry one node, not a list: walk it too, or a macro under `!` escapes the cost bound.
  if (Array.isArray(args)) for (const a of args) walk(a, d, out);
  else if (isNode(args)) walk(args, d, out);
}

const cache = new Map<string, CompiledCel>();

/**
 * The library's built-in matches() runs JS RegExp (backtracking) and cannot be re-registered, so
 * compiled programs call this RE2 overload instead: every `matches` call node is renamed after
 * parsing (the type check still sees `matches`, which has the same signature).
 */
const RE2_MATCHES = 'matchesRe2';

function useRe2Matches(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) useRe2Matches(n);
    return;
  }
  if (!isNode(node)) return;
  const args = (node as { args: unknown }).args;
  if (isNode(args)) return useRe2Matches(args);
  if (!Array.isArray(args)) return;
  if ((node.op === 'rcall' || node.op === 'call') && args[0] === 'matches') args[0] = RE2_MATCHES;
  for (const a of args) useRe2Matches(a);
}

/** Parses and type-checks one expression (cached by text). Throws CelCompileError with the library's message. */
export function compileCel(expression: string): CompiledCel {
  const hit = cache.get(expression);
  if (hit) return hit;
  const env = celEnvironment();
  let program: ParseResult;
  try {
    program = env.parse(expression);
  } catch (e) {
    throw new CelCompileError(firstLine(e));
  }
  const info = { depth: 0, refs: new Set<string>(), authorizer: false };
  walk(program.ast, 0, info);
  useRe2Matches(program.ast);
  // authorizer has no functions here; the caller reports it as unsupported rather than as a type error.
  if (!info.authorizer) {
    const checked = env.check(expression);
    if (!checked.valid) throw new CelCompileError(firstLine(checked.error));
  }
  const out: CompiledCel = { expression, program, macroDepth: info.depth, variableRefs: info.refs, usesAuthorizer: info.authorizer };
  if (cache.size > 5_000) cache.clear();
  cache.set(expression, out);
  return out;
}

/** The library's messages carry a source excerpt after the first line; reports want one line. */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.trim();
}

const MAX_DEPTH = 100;

/**
 * A resource as CEL sees it (Kubernetes unstructured JSON): integers are CEL ints (BigInt), other
 * numbers doubles, timestamps their RFC 3339 text. Objects get a null prototype so that a key such as
 * `__proto__` in untrusted input is a plain map key; an object with a `constructor` key becomes a Map.
 */
export function toCelValue(v: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new Error('resource nesting exceeds 100 levels');
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (v instanceof Date) return v.toISOString().replace(/\.000Z$/, 'Z');
  if (Array.isArray(v)) return v.map((x) => toCelValue(x, depth + 1));
  if (v && typeof v === 'object') {
    // The library types a value by its `constructor`; a key of that name would shadow it.
    if (Object.prototype.hasOwnProperty.call(v, 'constructor')) {
      return new Map(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, toCelValue(x, depth + 1)]));
    }
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toCelValue(x, depth + 1);
    return out;
  }
  return v === undefined ? null : v;
}

/** The largest list or map anywhere in the values: what one macro level may iterate over. */
export function largestCollection(values: unknown[]): number {
  let max = 0;
  const stack: unknown[] = [...values];
  let seen = 0;
  while (stack.length > 0 && seen < 1_000_000) {
    const v = stack.pop();
    seen++;
    if (Array.isArray(v)) {
      max = Math.max(max, v.length);
      for (const x of v) stack.push(x);
    } else if (v instanceof Map) {
      max = Math.max(max, v.size);
      for (const x of v.values()) stack.push(x);
    } else if (v && typeof v === 'object' && !(v instanceof CelQuantity)) {
      const vals = Object.values(v);
      max = Math.max(max, vals.length);
      for (const x of vals) stack.push(x);
    }
  }
  return max;
}

/** Upper bound of iterations: one pass per macro level over the largest collection. */
export function estimateCost(compiled: CompiledCel, largest: number): number {
  return Math.max(1, largest) ** compiled.macroDepth;
}
