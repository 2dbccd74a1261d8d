/**
 * Kyverno's wildcard matching (minio/pkg wildcard.Match): `*` matches any run of characters
 * (including none), `?` matches exactly one character; everything else is literal. No escaping.
 */
const cache = new Map<string, RegExp>();

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

export function wildcardMatch(pattern: string, text: string): boolean {
  if (pattern === '*') return true;
  if (!hasWildcard(pattern)) return pattern === text;
  let re = cache.get(pattern);
  if (!re) {
    const src = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
    re = new RegExp(`^${src}$`);
    if (cache.size > 5000) cache.clear();
    cache.set(pattern, re);
  }
  return re.test(text);
}
