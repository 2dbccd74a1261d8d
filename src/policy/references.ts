import { posix } from 'node:path';
import { removeAnchor } from './anchor.js';

/**
 * `$(...)` references in validate patterns (Kyverno variables.substituteReferencesIfAny): a string
 * such as `$(<=./../../limits/memory)` is replaced by the operator plus the value found at that
 * path *in the pattern itself*, relative to the string's own location (or absolute from the
 * pattern's root). Unresolvable references are left as written, so the pattern then fails where it
 * stands, as Kyverno's does.
 */
const REF = /\$\([^()\s]*\)/g;

function lookup(doc: unknown, abs: string): unknown {
  let cur: unknown = doc;
  for (const seg of abs.split('/').filter((s) => s !== '')) {
    if (Array.isArray(cur)) {
      cur = cur[Number(seg)];
    } else if (cur && typeof cur === 'object') {
      const o = cur as Record<string, unknown>;
      const key = seg in o ? seg : Object.keys(o).find((k) => removeAnchor(k) === seg);
      cur = key === undefined ? undefined : o[key];
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

export function substituteReferences(pattern: unknown): unknown {
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('$(')) return node;
      return node.replace(REF, (ref) => {
        const inner = ref.slice(2, -1);
        const op = ['>=', '<=', '>', '<', '!'].find((o) => inner.startsWith(o)) ?? '';
        const rel = inner.slice(op.length);
        if (rel === '') return ref;
        const abs = rel.startsWith('/') ? rel : posix.join(path, rel);
        const v = lookup(pattern, abs);
        if (v === undefined || v === null || typeof v === 'object') return ref;
        return `${op}${String(v)}`;
      });
    }
    if (Array.isArray(node)) return node.map((x, i) => walk(x, `${path}/${i}`));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, `${path}/${removeAnchor(k)}`);
      return out;
    }
    return node;
  };
  return walk(pattern, '');
}
