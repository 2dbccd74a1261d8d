import { pathToFileURL } from 'node:url';

/**
 * Remote clients get digests and repository-relative names, never the server's filesystem layout:
 * a path such as `/srv/duallane/repo/.duallane/store/sha256/...` tells an attacker where the store
 * and keys live. This rewrites every string in a JSON value (responses, error messages and details)
 * so that each root (the config root, the repository) and its `file://` URL become relative:
 * `<root>/x` -> `x`, `<root>` alone -> `.`. Plain string replacement, linear in the text.
 */
export type PathRedactor = <T>(value: T) => T;

export function serverPathRedactor(roots: (string | undefined)[]): PathRedactor {
  const rules: [string, string][] = [];
  for (const root of [...new Set(roots.filter((r): r is string => Boolean(r) && r !== '/'))].sort((a, b) => b.length - a.length)) {
    const href = pathToFileURL(root).href;
    rules.push([`${href}/`, ''], [href, '.'], [`${root}/`, ''], [root, '.']);
  }
  const text = (s: string) => rules.reduce((acc, [from, to]) => (acc.includes(from) ? acc.replaceAll(from, to) : acc), s);
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return text(v);
    if (depth > 32 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return <T>(value: T) => walk(value, 0) as T;
}
