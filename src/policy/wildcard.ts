/**
 * Kyverno's wildcard matching (github.com/IGLOU-EU/go-wildcard v1, wrapped by Kyverno's
 * ext/wildcard): `*` matches any run of characters (including none), `?` matches exactly one
 * character; everything else is literal; no escaping; the empty pattern matches only the empty
 * text. Characters are Unicode code points (Go runes), so `?` matches one emoji, not half of one.
 *
 * Patterns and texts both reach this from admitted objects (resource values, variables substituted
 * into patterns), so the matcher never backtracks: the pattern is split at `*` into segments, the
 * first is anchored at the start, the last at the end, and each middle one is found leftmost after
 * the previous (leftmost is always right for `*`). A segment is found with the Shift-And automaton
 * (one pass over the text, `?` is a bit set in every character's mask), so a match costs
 * O(|text| x ceil(|segment| / 32)) at most: linear in the text for segments of up to 32 characters.
 */

const STAR = 42; // '*'
const QUESTION = 63; // '?'
// Surrogate code units: only a text that has one needs converting to code points.
const SURROGATE = /[\uD800-\uDFFF]/;

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

export function wildcardMatch(pattern: string, text: string): boolean {
  if (pattern === '*') return true;
  if (!hasWildcard(pattern)) return pattern === text;
  return matchCodePoints(codePoints(pattern), codePoints(text));
}

function codePoints(s: string): Uint32Array {
  if (!SURROGATE.test(s)) {
    const out = new Uint32Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return Uint32Array.from(out);
}

function matchCodePoints(p: Uint32Array, t: Uint32Array): boolean {
  const segments: Uint32Array[] = [];
  let from = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i === p.length || p[i] === STAR) {
      segments.push(p.subarray(from, i));
      from = i + 1;
    }
  }
  const first = segments[0]!;
  if (segments.length === 1) return first.length === t.length && segmentAt(first, t, 0);
  const last = segments[segments.length - 1]!;
  if (first.length + last.length > t.length) return false;
  if (!segmentAt(first, t, 0) || !segmentAt(last, t, t.length - last.length)) return false;
  let pos = first.length;
  const end = t.length - last.length;
  for (let s = 1; s < segments.length - 1; s++) {
    const seg = segments[s]!;
    if (seg.length === 0) continue;
    const found = findSegment(seg, t, pos, end);
    if (found < 0) return false;
    pos = found + seg.length;
  }
  return true;
}

/** Does `seg` (literals and `?`) match t[at .. at+|seg|)? */
function segmentAt(seg: Uint32Array, t: Uint32Array, at: number): boolean {
  for (let i = 0; i < seg.length; i++) if (seg[i] !== QUESTION && seg[i] !== t[at + i]) return false;
  return true;
}

/**
 * Leftmost start of `seg` within t[from .. end), or -1. Shift-And over `words` 32-bit words: bit j
 * of the state is set when seg[0..j] matches the text ending at the current character.
 */
function findSegment(seg: Uint32Array, t: Uint32Array, from: number, end: number): number {
  const m = seg.length;
  const words = Math.ceil(m / 32);
  const anyMask = new Uint32Array(words);
  for (let j = 0; j < m; j++) if (seg[j] === QUESTION) anyMask[j >>> 5]! |= 1 << (j & 31);
  const masks = new Map<number, Uint32Array>();
  for (let j = 0; j < m; j++) {
    const c = seg[j]!;
    if (c === QUESTION) continue;
    let mask = masks.get(c);
    if (!mask) masks.set(c, (mask = Uint32Array.from(anyMask)));
    mask[j >>> 5]! |= 1 << (j & 31);
  }
  const state = new Uint32Array(words);
  const lastWord = (m - 1) >>> 5;
  const lastBit = 1 << ((m - 1) & 31);
  for (let i = from; i < end; i++) {
    const mask = masks.get(t[i]!) ?? anyMask;
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const v = state[w]!;
      state[w] = ((v << 1) | carry) & mask[w]!;
      carry = v >>> 31;
    }
    if (state[lastWord]! & lastBit) return i - m + 1;
  }
  return -1;
}
