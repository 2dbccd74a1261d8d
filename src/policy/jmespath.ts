import * as jp from '@jmespath-community/jmespath';
import { registerKyvernoFunctions } from './kyverno-functions.js';

registerKyvernoFunctions();

type Node = ReturnType<typeof jp.compile>;
const cache = new Map<string, Node>();

/** Thrown when a JMESPath expression cannot be parsed (lint reports it; evaluation turns it into a rule error). */
export class JmesPathSyntaxError extends Error {}
/** Kyverno's fork reports a plain path that resolves to nothing as "Unknown key"; we do the same. */
export class VariableNotFoundError extends Error {}

export function compileJmesPath(expr: string): Node {
  let node = cache.get(expr);
  if (!node) {
    try {
      node = jp.compile(expr);
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
    throw new VariableNotFoundError(`Unknown key in path ${expr.trim()}`);
  }
  return out ?? null;
}
