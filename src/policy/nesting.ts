/**
 * The one nesting bound for everything the engine walks recursively (resources, AdmissionReview
 * objects, policy documents, parse_json/parse_yaml results). Kubernetes objects rarely pass 20
 * levels; the engine's recursion (patterns, mutation, CEL conversion) is safe far beyond 100. A
 * deeper value is refused with a clear error instead of overflowing the stack mid-evaluation.
 */
export const MAX_NESTING_DEPTH = 100;

/** Is `value` nested deeper than `max` objects/arrays? Iterative, so the check itself cannot overflow. */
export function nestingExceeds(value: unknown, max = MAX_NESTING_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
