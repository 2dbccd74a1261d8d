import { queryJmesPath } from './jmespath.js';

/**
 * `{{ }}` variable substitution (Kyverno pkg/engine/variables). A string that is exactly one
 * variable takes the variable's type; otherwise values are interpolated (non-strings as JSON).
 * `\{{` escapes a literal. Resolution errors propagate unless `onError` says otherwise
 * (preconditions resolve failures to null, as Kyverno does).
 */
export class VariableSubstitutionError extends Error {}

const VAR_RE = /(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})/;

export interface SubstituteOptions {
  /** 'error' (default): throw; 'null': substitute null (preconditions). */
  onError?: 'error' | 'null';
  /** Path prefix used in error messages. */
  path?: string;
  /**
   * For patterns: the resource being validated. `{{@}}` then resolves to the resource value at the
   * pattern's own path (anchors removed), as in Kyverno.
   */
  atResource?: unknown;
}

function valueAtPatternPath(resource: unknown, path: string): unknown {
  let cur: unknown = resource;
  for (const raw of path.split('/').filter((x) => x !== '')) {
    const seg = /^[+<=X^]?\((.+)\)$/.exec(raw)?.[1] ?? raw;
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

export type EvalContext = Record<string, unknown>;

export function resolveVariable(variable: string, ctx: EvalContext): unknown {
  let expr = variable.trim();
  if (expr.startsWith('{{')) expr = expr.slice(2, -2).trim();
  return queryJmesPath(expr, ctx);
}

export function hasVariables(s: string): boolean {
  return VAR_RE.test(s);
}

export function substituteString(input: string, ctx: EvalContext, opts: SubstituteOptions = {}): unknown {
  let s = input;
  for (let guard = 0; guard < 100; guard++) {
    const m = VAR_RE.exec(s);
    if (!m) break;
    const whole = m[2]!;
    const inner = whole.slice(2, -2).trim();
    let value: unknown;
    try {
      if (inner === '@' && opts.atResource !== undefined) {
        value = valueAtPatternPath(opts.atResource, opts.path ?? '');
        if (value === undefined) throw new Error(`no value at ${opts.path ?? '/'} for {{@}}`);
      } else value = inner === '' ? null : resolveVariable(inner, ctx);
    } catch (e) {
      if (opts.onError === 'null') value = null;
      else throw new VariableSubstitutionError(`failed to resolve ${inner} at path ${opts.path ?? ''}: ${(e as Error).message}`, { cause: e });
    }
    if (s === whole) return value;
    const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    const start = m.index + m[1]!.length;
    s = s.slice(0, start) + text + s.slice(start + whole.length);
  }
  return s.replace(/\\\{\{/g, '{{');
}

export function substituteAll(doc: unknown, ctx: EvalContext, opts: SubstituteOptions = {}, path = ''): unknown {
  if (typeof doc === 'string') return doc.includes('{{') ? substituteString(doc, ctx, { ...opts, path: path || '/' }) : doc;
  if (Array.isArray(doc)) return doc.map((d, i) => substituteAll(d, ctx, opts, `${path}/${i}`));
  if (doc && typeof doc === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) {
      const key = k.includes('{{') ? String(substituteString(k, ctx, opts)) : k;
      out[key] = substituteAll(v, ctx, opts, `${path}/${k}`);
    }
    return out;
  }
  return doc;
}

/**
 * Sets `a.b.c` = value in a nested object (values-file keys such as `request.object.metadata.name`).
 * Copy-on-write: every object on the path is shallow-copied, so shared resources are never mutated.
 */
export function setDotted(target: Record<string, unknown>, dotted: string, value: unknown): void {
  setPath(target, dotted.split('.'), value);
}

/**
 * Splits a values-file key into fields as Kyverno's context.AddVariable does: Go's encoding/csv with `.`
 * as the separator, so a field in double quotes may hold dots (`metadata.annotations."example.com/x"`)
 * and `""` inside it is one quote. A quote inside an unquoted field, or text after a closing quote, is
 * kept literally (csv would reject the key).
 */
export function splitValuesKey(key: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (key[i] === '"') {
      i++;
      for (;;) {
        if (i >= key.length) break;
        if (key[i] === '"') {
          if (key[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += key[i++];
      }
    }
    while (i < key.length && key[i] !== '.') field += key[i++];
    fields.push(field);
    if (i >= key.length) return fields;
    i++; // the separator
  }
}

/** Sets a values-file key (split as {@link splitValuesKey}) in a nested object, copy-on-write as setDotted. */
export function setValuesKey(target: Record<string, unknown>, key: string, value: unknown): void {
  setPath(target, splitValuesKey(key), value);
}

function setPath(target: Record<string, unknown>, parts: string[], value: unknown): void {
  let cur: Record<string, unknown> = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const next = cur[p];
    cur[p] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}
