import * as jp from '@jmespath-community/jmespath';
import { registerKyvernoFunctions } from './kyverno-functions.js';

registerKyvernoFunctions();

type Node = ReturnType<typeof jp.compile>;
const cache = new Map<string, Node>();

/** Thrown when a JMESPath expression cannot be parsed (lint reports it; evaluation turns it into a rule error). */
export class JmesPathSyntaxError extends Error {}
/**
 * Kyverno's fork reports a plain path that resolves to nothing as "Unknown key"; we do the same.
 * Raised often for control flow (optional lists in foreach), so it carries no stack trace.
 */
export class VariableNotFoundError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

export function compileJmesPath(expr: string): Node {
  let node = cache.get(expr);
  if (!node) {
    try {
      node = jp.compile(expr, { enable_legacy_literals: true });
    } catch (e) {
      throw new JmesPathSyntaxError(`invalid JMESPath expression ${JSON.stringify(expr)}: ${(e as Error).message}`);
    }
    if (cache.size > 10000) cache.clear();
    cache.set(expr, node);
  }
  return node;
}

const PLAIN_PATH = /^\s*[A-Za-z_$][\w$]*(\s*(\.\s*([A-Za-z_$][\w$]*|"[^"]*")|\[\d+\]))*\s*$/;

export function queryJmesPath(expr: string, data: unknown): unknown {
  const node = compileJmesPath(expr);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const out = jp.TreeInterpreter.search(node, data as any);
  if ((out === null || out === undefined) && PLAIN_PATH.test(expr)) {
    const missing = missingKey(expr, data);
    if (missing !== undefined) throw new VariableNotFoundError(`JMESPath query failed: Unknown key ${JSON.stringify(missing)} in path`);
  }
  return out ?? null;
}

/** For a plain dotted path, the first key that does not exist (a present key holding null is not missing). */
function missingKey(expr: string, data: unknown): string | undefined {
  const segs = [...expr.matchAll(/"((?:[^"\\]|\\.)*)"|([A-Za-z_$][\w$]*)|\[(\d+)\]/g)];
  let cur: unknown = data;
  for (const m of segs) {
    if (m[3] !== undefined) {
      if (!Array.isArray(cur)) return `[${m[3]}]`;
      cur = cur[Number(m[3])];
      if (cur === undefined) return `[${m[3]}]`;
      continue;
    }
    const key = m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2]!;
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, key)) return key;
    cur = (cur as Record<string, unknown>)[key];
  }
  return undefined;
}
