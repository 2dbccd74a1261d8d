import * as jp from '@jmespath-community/jmespath';
import { compileJmesPath } from './jmespath.js';

/**
 * Kyverno JSON assertion trees (kyverno-json pkg/core/assertion), the language of `checks` in a
 * kyverno-test.yaml. The tree is matched against a value:
 * - a map node projects each key out of the value and asserts its child on the result. A plain key is
 *   a field lookup ("field not found in the input object" when absent); `(expr)` is a JMESPath
 *   projection of the current value; `\(text)\` escapes a literal key that looks like an expression;
 *   a `~.` (or `~name.`) prefix asserts the child on every element of the projected list or map
 *   (binding the index or key to `$name`); a `-> name` suffix binds the projection to `$name`.
 *   An empty map only requires the value to be non-null.
 * - a list node requires a list of the same length and asserts element by element.
 * - a scalar leaf compares with the value; a string leaf `(expr)` is evaluated against the value first
 *   and its result compared. Numbers compare by value whatever their type.
 * Only the JMESPath engine is supported: a `(cel;...)` expression is an error, not a silent pass.
 */
export interface AssertionError {
  path: string;
  message: string;
}

/** Thrown for a malformed tree or an expression that cannot be evaluated (Kyverno aborts the test). */
export class AssertionTreeError extends Error {}

type Bindings = Record<string, unknown>;

const FOREACH = /^~(\w+)?\.(.*)$/s;
const BINDING = /^(.*?)\s*->\s*(\w+)$/s;
const ESCAPE = /^\\(.+)\\$/s;
const COMPILER = /^\((?:(\w+);)?(.+)\)$/s;

interface KeyExpr {
  foreach: boolean;
  foreachName?: string;
  binding?: string;
  /** JMESPath statement, or undefined for a plain field lookup of `field`. */
  statement?: string;
  field: string;
}

function parseKey(key: string): KeyExpr {
  let rest = key;
  const out: KeyExpr = { foreach: false, field: key };
  const f = FOREACH.exec(rest);
  if (f) {
    out.foreach = true;
    if (f[1]) out.foreachName = f[1];
    rest = f[2]!;
  }
  const b = BINDING.exec(rest);
  if (b) {
    out.binding = b[2];
    rest = b[1]!;
  }
  const e = ESCAPE.exec(rest);
  if (e) {
    out.field = e[1]!;
    return out;
  }
  const c = COMPILER.exec(rest);
  if (c) {
    if (c[1] && c[1] !== 'jp') throw new AssertionTreeError(`assertion tree: the ${c[1]} expression engine is not supported (only JMESPath): ${key}`);
    out.statement = c[2]!;
    return out;
  }
  out.field = rest;
  return out;
}

function evaluate(statement: string, value: unknown, bindings: Bindings): unknown {
  let node;
  try {
    node = compileJmesPath(statement);
  } catch (e) {
    throw new AssertionTreeError((e as Error).message);
  }
  try {
    if (Object.keys(bindings).length === 0) return jp.TreeInterpreter.search(node, value as jp.JSONValue) ?? null;
    // search() resets the scope; visit() from a scoped interpreter keeps the bindings.
    const scoped = jp.TreeInterpreter.withScope(bindings as jp.JSONObject) as unknown as { _rootValue: unknown; visit(n: unknown, v: unknown): unknown };
    scoped._rootValue = value;
    return scoped.visit(node, value) ?? null;
  } catch (e) {
    throw new AssertionTreeError(`assertion tree: cannot evaluate (${statement}): ${(e as Error).message}`);
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equalValues(expected: unknown, actual: unknown, path: string): boolean {
  if (expected === null || expected === undefined || actual === null || actual === undefined) return (expected ?? null) === (actual ?? null);
  if (typeof expected === 'number' && typeof actual === 'number') return expected === actual;
  if (typeof expected === typeof actual) return deepEqual(expected, actual);
  throw new AssertionTreeError(`${path}: types are not comparable, ${kindOf(expected)} - ${kindOf(actual)}`);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'slice';
  if (isMap(v)) return 'map';
  if (typeof v === 'number') return 'float64';
  return typeof v;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null);
}

function assertNode(tree: unknown, value: unknown, path: string, bindings: Bindings, errs: AssertionError[]): void {
  if (Array.isArray(tree)) {
    if (value === null || value === undefined) {
      errs.push({ path, message: 'Invalid value: "null": value is null' });
      return;
    }
    if (!Array.isArray(value)) throw new AssertionTreeError(`${path}: expected a slice`);
    if (value.length !== tree.length) {
      errs.push({ path, message: "lengths of slices don't match" });
      return;
    }
    tree.forEach((t, i) => assertNode(t, value[i], `${path}[${i}]`, bindings, errs));
    return;
  }
  if (isMap(tree)) {
    const keys = Object.keys(tree);
    if (keys.length === 0) {
      if (value === null || value === undefined) errs.push({ path, message: 'invalid value, must not be null' });
      return;
    }
    for (const key of keys) {
      const k = parseKey(key);
      const child = path === '' ? key : `${path}.${key}`;
      let projected: unknown;
      if (k.statement !== undefined) projected = evaluate(k.statement, value, bindings);
      else {
        if (value === null || value === undefined) {
          errs.push({ path: child, message: 'Required value: field not found in the input object' });
          continue;
        }
        if (!isMap(value)) throw new AssertionTreeError(`${child}: projection not recognized`);
        if (!Object.prototype.hasOwnProperty.call(value, k.field)) {
          errs.push({ path: child, message: 'Required value: field not found in the input object' });
          continue;
        }
        projected = value[k.field];
      }
      const scoped = k.binding ? { ...bindings, [k.binding]: projected } : bindings;
      if (!k.foreach) {
        assertNode(tree[key], projected, child, scoped, errs);
        continue;
      }
      if (Array.isArray(projected)) projected.forEach((item, i) => assertNode(tree[key], item, `${child}[${i}]`, k.foreachName ? { ...scoped, [k.foreachName]: i } : scoped, errs));
      else if (isMap(projected)) for (const [mk, mv] of Object.entries(projected)) assertNode(tree[key], mv, `${child}[${mk}]`, k.foreachName ? { ...scoped, [k.foreachName]: mk } : scoped, errs);
      else throw new AssertionTreeError(`${child}: expected a slice or a map`);
    }
    return;
  }
  let expected: unknown = tree;
  if (typeof tree === 'string' && !ESCAPE.test(tree)) {
    const c = COMPILER.exec(tree);
    if (c) {
      if (c[1] && c[1] !== 'jp') throw new AssertionTreeError(`assertion tree: the ${c[1]} expression engine is not supported (only JMESPath): ${tree}`);
      expected = evaluate(c[2]!, value, bindings);
    }
  } else if (typeof tree === 'string') expected = ESCAPE.exec(tree)![1];
  if (!equalValues(expected, value, path)) errs.push({ path, message: `Invalid value: ${show(value)}: Expected value: ${show(expected)}` });
}

/** Every way `value` fails the assertion tree (empty: it holds). Throws AssertionTreeError when the tree cannot be evaluated. */
export function assertTree(tree: unknown, value: unknown): AssertionError[] {
  const errs: AssertionError[] = [];
  assertNode(tree, value, '', {}, errs);
  return errs;
}

/** One line, like Kubernetes' field.ErrorList aggregate. */
export function formatAssertionErrors(errs: AssertionError[]): string {
  const parts = errs.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
  return parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
}
