import { RE2JS } from 're2js';

/**
 * Regular expressions from policies, evaluated the way Kyverno and Kubernetes CEL evaluate them:
 * Go's regexp (RE2 syntax, no backreferences or lookaround) on re2js, a linear-time engine. A
 * policy's regex runs against text from the admitted object, so a backtracking engine (JS RegExp)
 * would let `(a+)+$` and a long name stall the webhook; here matching is linear in the text.
 * Syntax RE2 rejects (`(?=`, `\1`, repeats over 1000) is an error, as it is in Kyverno.
 */
export class RegexError extends Error {}

const cache = new Map<string, RE2JS>();
const MAX_CACHED = 1000;

export function compileRe2(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re) return re;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new RegexError(`invalid regular expression ${JSON.stringify(pattern.length > 200 ? `${pattern.slice(0, 200)}…` : pattern)}: ${(e as Error).message}`);
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** regexp.MatchString: is there a match anywhere in the text? */
export function re2Test(pattern: string, text: string): boolean {
  return compileRe2(pattern).matcher(text).find();
}

/** The leftmost match, or undefined. */
export function re2Find(pattern: string, text: string): string | undefined {
  const m = compileRe2(pattern).matcher(text);
  return m.find() ? (m.group(0) ?? '') : undefined;
}

/** regexp.FindAllString(text, n): successive non-overlapping matches; n < 0 means all. */
export function re2FindAll(pattern: string, text: string, n = -1): string[] {
  const out: string[] = [];
  eachMatch(compileRe2(pattern), text, (m) => {
    if (n >= 0 && out.length >= n) return false;
    out.push(text.slice(m.start, m.end));
    return true;
  });
  return out;
}

/** regexp.ReplaceAllString: `$1`, `${1}`, `$name`, `${name}` expand as Go's Regexp.Expand does; `$$` is a `$`. */
export function re2ReplaceAll(pattern: string, src: string, template: string): string {
  const re = compileRe2(pattern);
  return replace(re, src, (m) => expand(template, m.groups, re.namedGroups()));
}

/** regexp.ReplaceAllLiteralString: the replacement is inserted as it is. */
export function re2ReplaceAllLiteral(pattern: string, src: string, repl: string): string {
  return replace(compileRe2(pattern), src, () => repl);
}

interface Match {
  start: number;
  end: number;
  groups: (string | undefined)[];
}

/**
 * Go's match loop (regexp.allMatches / replaceAll): after each match the search moves on by at least
 * one character, and an empty match right after the previous match is skipped. Each search starts
 * where the last left off, so the whole loop stays linear in the text.
 */
function eachMatch(re: RE2JS, text: string, visit: (m: Match) => boolean): void {
  const matcher = re.matcher(text);
  let pos = 0;
  let prevEnd = -1;
  while (pos <= text.length && matcher.find(pos)) {
    const start = matcher.start();
    const end = matcher.end();
    const skip = end === start && start === prevEnd;
    const groups: (string | undefined)[] = [];
    for (let g = 0; g <= matcher.groupCount(); g++) groups.push(matcher.group(g) ?? undefined);
    if (!skip && !visit({ start, end, groups })) return;
    prevEnd = end;
    const width = pos < text.length && text.codePointAt(pos)! > 0xffff ? 2 : 1;
    pos = pos + width > end ? pos + width : end;
  }
}

function replace(re: RE2JS, src: string, repl: (m: Match) => string): string {
  let out = '';
  let last = 0;
  eachMatch(re, src, (m) => {
    out += src.slice(last, m.start) + repl(m);
    last = m.end;
    return true;
  });
  return out + src.slice(last);
}

const isNameChar = (c: string) => /^[\p{L}\p{Nd}_]$/u.test(c);

/** Go's Regexp.Expand over one match. */
function expand(template: string, groups: (string | undefined)[], named: Record<string, number>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    let j = brace ? i + 1 : i;
    const nameStart = j;
    while (j < template.length && isNameChar(template[j]!)) j++;
    const name = template.slice(nameStart, j);
    if (name === '' || (brace && template[j] !== '}')) {
      out += '$'; // malformed: the $ is literal text
      continue;
    }
    i = brace ? j + 1 : j;
    const num = /^\d+$/.test(name) && !(name.length > 1 && name[0] === '0') && name.length <= 8 ? Number(name) : -1;
    const index = num >= 0 ? num : named[name];
    if (index !== undefined) out += groups[index] ?? '';
  }
  return out + template.slice(i);
}
