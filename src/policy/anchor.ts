/** Kyverno pattern anchors: `(k)` conditional, `=(k)` equality, `^(k)` existence, `X(k)` negation, `<(k)` global, `+(k)` add-if-absent (mutate). */
export type AnchorKind = 'condition' | 'equality' | 'existence' | 'negation' | 'global' | 'addIfNotPresent';

export interface Anchor {
  kind: AnchorKind;
  key: string;
}

const ANCHOR_RE = /^([+<=X^])?\((.+)\)$/;
const MODIFIERS: Record<string, AnchorKind> = { '': 'condition', '=': 'equality', '^': 'existence', X: 'negation', '<': 'global', '+': 'addIfNotPresent' };

export function parseAnchor(key: string): Anchor | undefined {
  const m = ANCHOR_RE.exec(key);
  if (!m) return undefined;
  return { kind: MODIFIERS[m[1] ?? '']!, key: m[2]! };
}

/** Something that looks like an anchor but uses an unknown modifier (`Y(key)`), or unbalanced parentheses. */
export function looksLikeBadAnchor(key: string): boolean {
  if (parseAnchor(key)) return false;
  return /^[^()]{0,2}\(.*\)$/.test(key) || (/^[+<=X^]?\(/.test(key) && !key.endsWith(')'));
}

export function removeAnchor(key: string): string {
  return parseAnchor(key)?.key ?? key;
}
