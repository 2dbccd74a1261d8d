/**
 * Rules for the proposer's free text and names. Everything here is attacker-controlled (a propose
 * lane chooses it, and a compromised one chooses it maliciously); each check is one pass over the
 * string, no regular expression, so its cost is linear in the input whatever the input is.
 */

/** C0 controls, DEL and C1 controls: what a terminal may act on (ESC, CSI 0x9b, BEL, CR, ...). */
function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/**
 * Why a title is refused, or null. A title is one line shown in terminals, commit subjects and pull
 * requests: no control character at all, tab, CR, LF and NUL included (a newline in a title would
 * start the commit body; a tab has no place in one line and is refused rather than guessed at).
 */
export function titleProblem(title: string): string | null {
  for (let i = 0; i < title.length; i++) {
    const c = title.charCodeAt(i);
    if (isControl(c)) return `control character U+${hex4(c)} at offset ${i}`;
  }
  return null;
}

/**
 * Why a summary is refused, or null. A summary is multi-line text (the commit body and PR body): LF
 * and tab are allowed, every other C0 control (NUL and CR included), DEL and C1 are not.
 */
export function summaryProblem(summary: string): string | null {
  for (let i = 0; i < summary.length; i++) {
    const c = summary.charCodeAt(i);
    if (c === 0x0a || c === 0x09) continue;
    if (isControl(c)) return `control character U+${hex4(c)} at offset ${i}`;
  }
  return null;
}

const FORBIDDEN_REF_CHARS = new Set([' ', '~', '^', ':', '?', '*', '[', '\\']);

/**
 * Why NAME is not a safe branch name, or null: the rules of `git check-ref-format --branch` for
 * `refs/heads/NAME`, plus ASCII only, at most 255 bytes, no leading `-` (it would read as an option)
 * and no `refs/` prefix or bare `HEAD` (names that mean something else to git).
 */
export function branchNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty';
  if (name.length > 255) return 'longer than 255 characters';
  if (name === 'HEAD' || name === '@') return `${name} is not a branch name`;
  if (name.startsWith('-')) return 'starts with -';
  if (name.startsWith('refs/')) return 'starts with refs/ (give the branch name only)';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with /';
  if (name.endsWith('.')) return 'ends with .';
  let componentStart = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i === name.length || name[i] === '/') {
      const component = name.slice(componentStart, i);
      if (component.length === 0) return 'contains //';
      if (component.startsWith('.')) return 'a component starts with .';
      if (component.endsWith('.lock')) return 'a component ends with .lock';
      componentStart = i + 1;
      continue;
    }
    const c = name.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return `character U+${hex4(c)} at offset ${i} (control or non-ASCII)`;
    const ch = name[i]!;
    if (FORBIDDEN_REF_CHARS.has(ch)) return `character ${JSON.stringify(ch)} at offset ${i}`;
    if (ch === '.' && name[i + 1] === '.') return 'contains ..';
    if (ch === '@' && name[i + 1] === '{') return 'contains @{';
  }
  return null;
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}
