import { createHash } from 'node:crypto';
import { HandoffError } from './handoff-error.js';
import { MAX_PATCH_BYTES } from './patch-artifact.js';

/**
 * A defensive parser for git patches. The bytes are attacker-controlled (a compromised propose lane
 * can sign anything), so: sizes and counts are bounded; hunks are consumed by their declared line
 * counts (a `+diff --git` line inside a hunk is content, not a header); every path is decoded from
 * git's C quoting to raw bytes and kept verbatim for the scope policy to judge; anything not
 * understood is an error with its line number, never skipped.
 */

export type FileStatus = 'added' | 'deleted' | 'modified';

export interface FileChange {
  /** Repository-relative path as the patch states it (after a/ b/ prefixes). */
  path: string;
  /** Set only when the patch renames or copies (never in canonical artifacts). */
  oldPath?: string;
  status: FileStatus;
  oldMode: string | null;
  newMode: string | null;
  oldBlob: string | null;
  newBlob: string | null;
  binary: boolean;
  /** The file is (or becomes) a symlink: mode 120000. */
  symlink: boolean;
  /** The link target a symlink is given (the `+` line of its hunk). */
  symlinkTarget?: string;
  /** A submodule (gitlink, mode 160000). */
  submodule: boolean;
  added: number;
  removed: number;
  /** sha256 of this file's section of the patch: `sha256:<hex>`. */
  digest: string;
}

export interface ParsedPatch {
  files: FileChange[];
  added: number;
  removed: number;
}

export interface ParseLimits {
  maxBytes?: number;
  maxFiles?: number;
  maxPathBytes?: number;
}

const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const MODE_RE = /^(100644|100755|120000|160000|040000)$/;
const OID_RE = /^[0-9a-f]{4,64}$/;

export function parsePatch(data: Buffer, limits: ParseLimits = {}): ParsedPatch {
  const maxBytes = limits.maxBytes ?? MAX_PATCH_BYTES;
  const maxFiles = limits.maxFiles ?? 10_000;
  const maxPath = limits.maxPathBytes ?? 4096;
  if (data.length > maxBytes) throw new HandoffError('INPUT_TOO_LARGE', `patch is ${data.length} bytes, more than ${maxBytes}`);
  // latin1 maps each byte to one char: string offsets are byte offsets and no byte is lost.
  const text = data.toString('latin1');
  const lines: { s: string; start: number; end: number }[] = [];
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl + 1;
    lines.push({ s: text.slice(pos, nl === -1 ? text.length : nl), start: pos, end });
    pos = end;
  }
  const files: FileChange[] = [];
  const bad = (i: number, msg: string): never => {
    throw new HandoffError('PATCH_MALFORMED', `line ${i + 1}: ${msg}`, { details: { line: i + 1 } });
  };
  let i = 0;
  // Preamble (mail headers, commit message): everything before the first file header. git apply
  // also applies traditional diffs it finds there, which this parser would not see: refused.
  while (i < lines.length && !lines[i]!.s.startsWith('diff --git ')) {
    if (looksLikeDiff(lines[i]!.s)) bad(i, 'diff material outside a "diff --git" section');
    i++;
  }
  while (i < lines.length) {
    const startLine = i;
    const header = lines[i]!.s;
    if (!header.startsWith('diff --git ')) {
      // Trailer after the last file: only a format-patch signature ("-- " + version) or blank lines.
      if (header === '-- ' || header === '') {
        // Nothing git would apply may hide after the last section (it skips blank lines and goes on).
        for (let j = i; j < lines.length; j++) if (looksLikeDiff(lines[j]!.s)) bad(j, 'diff material after the last file section');
        i = lines.length;
        break;
      }
      bad(i, `expected "diff --git", found ${JSON.stringify(header.slice(0, 60))}`);
    }
    if (files.length >= maxFiles) throw new HandoffError('INPUT_TOO_LARGE', `patch changes more than ${maxFiles} files`);
    const [aPath, bPath] = splitDiffGitPaths(header.slice('diff --git '.length), () => bad(i, 'unparseable "diff --git" paths'));
    const f: FileChange = {
      path: bPath,
      status: 'modified',
      oldMode: null,
      newMode: null,
      oldBlob: null,
      newBlob: null,
      binary: false,
      symlink: false,
      submodule: false,
      added: 0,
      removed: 0,
      digest: '',
    };
    if (aPath !== bPath) f.oldPath = aPath;
    i++;
    let minus: string | null | undefined;
    let plus: string | null | undefined;
    // Extended header lines.
    for (; i < lines.length; i++) {
      const s = lines[i]!.s;
      let m: RegExpMatchArray | null;
      if ((m = s.match(/^old mode (\d+)$/))) f.oldMode = mode(m[1]!, i);
      else if ((m = s.match(/^new mode (\d+)$/))) f.newMode = mode(m[1]!, i);
      else if ((m = s.match(/^deleted file mode (\d+)$/))) {
        f.status = 'deleted';
        f.oldMode = mode(m[1]!, i);
      } else if ((m = s.match(/^new file mode (\d+)$/))) {
        f.status = 'added';
        f.newMode = mode(m[1]!, i);
      } else if ((m = s.match(/^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?$/))) {
        if (!OID_RE.test(m[1]!) || !OID_RE.test(m[2]!)) bad(i, 'bad object id');
        f.oldBlob = m[1]!;
        f.newBlob = m[2]!;
        if (m[3]) {
          const md = mode(m[3], i);
          f.oldMode ??= md;
          f.newMode ??= md;
        }
      } else if ((m = s.match(/^(rename|copy) (from|to) (.*)$/))) {
        const p = decodePath(m[3]!, () => bad(i, 'bad quoted path')) ?? bad(i, 'rename or copy of /dev/null');
        if (m[2] === 'from') f.oldPath = p;
        else f.path = p;
      } else if (/^(similarity|dissimilarity) index \d+%$/.test(s)) {
        /* informational */
      } else break;
    }
    // Content: ---/+++ and hunks, or a binary patch, or nothing (mode-only change, empty file).
    if (i < lines.length && lines[i]!.s.startsWith('--- ')) {
      minus = stripPrefix(decodePath(lines[i]!.s.slice(4), () => bad(i, 'bad --- path')), 'a/');
      i++;
      if (i >= lines.length || !lines[i]!.s.startsWith('+++ ')) bad(i, 'expected "+++"');
      plus = stripPrefix(decodePath(lines[i]!.s.slice(4), () => bad(i, 'bad +++ path')), 'b/');
      i++;
      if (minus !== null && minus !== (f.oldPath ?? f.path)) bad(i - 2, '"---" path differs from the "diff --git" line');
      if (plus !== null && plus !== f.path) bad(i - 1, '"+++" path differs from the "diff --git" line');
      if (minus === null && f.status !== 'added') bad(i - 2, '--- /dev/null without "new file mode"');
      if (plus === null && f.status !== 'deleted') bad(i - 1, '+++ /dev/null without "deleted file mode"');
      let sawHunk = false;
      while (i < lines.length && lines[i]!.s.startsWith('@@')) {
        sawHunk = true;
        const h = lines[i]!.s.match(HUNK_RE) ?? bad(i, 'bad hunk header');
        let oldLeft = h[2] === undefined ? 1 : Number(h[2]);
        let newLeft = h[4] === undefined ? 1 : Number(h[4]);
        if (!Number.isSafeInteger(oldLeft) || !Number.isSafeInteger(newLeft) || oldLeft + newLeft > lines.length) bad(i, 'hunk line counts exceed the patch');
        i++;
        while (oldLeft > 0 || newLeft > 0) {
          if (i >= lines.length) bad(i, 'hunk ends early');
          const s = lines[i]!.s;
          const c = s[0];
          if (c === ' ' || (s === '' && oldLeft > 0 && newLeft > 0)) {
            oldLeft--;
            newLeft--;
          } else if (c === '-') {
            oldLeft--;
            f.removed++;
          } else if (c === '+') {
            newLeft--;
            f.added++;
            if (f.symlinkTarget === undefined) f.symlinkTarget = Buffer.from(s.slice(1), 'latin1').toString('utf8');
          } else if (c === '\\') {
            /* "\ No newline at end of file" */
          } else bad(i, 'unexpected line inside a hunk');
          if (oldLeft < 0 || newLeft < 0) bad(i, 'hunk longer than its header says');
          i++;
        }
        if (i < lines.length && lines[i]!.s.startsWith('\\')) i++;
      }
      if (!sawHunk) bad(i, 'expected a hunk after "+++"');
    } else if (i < lines.length && lines[i]!.s === 'GIT binary patch') {
      f.binary = true;
      i++;
      for (let block = 0; block < 2 && i < lines.length && /^(literal|delta) \d+$/.test(lines[i]!.s); block++) {
        i++;
        while (i < lines.length && lines[i]!.s !== '') {
          if (!/^[A-Za-z][0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+$/.test(lines[i]!.s)) bad(i, 'bad base85 line in binary patch');
          i++;
        }
        if (i < lines.length) i++; // the blank line ending the block
      }
    } else if (i < lines.length && /^Binary files .* differ$/.test(lines[i]!.s)) {
      f.binary = true;
      i++;
    }
    const mode0 = f.newMode ?? f.oldMode;
    f.symlink = f.newMode === '120000' || f.oldMode === '120000';
    if (!(f.newMode === '120000' || (f.status !== 'deleted' && mode0 === '120000'))) delete f.symlinkTarget;
    if (f.status === 'deleted') delete f.symlinkTarget;
    f.submodule = f.newMode === '160000' || f.oldMode === '160000';
    for (const p of [f.path, f.oldPath]) if (p !== undefined && Buffer.byteLength(p, 'utf8') > maxPath) bad(startLine, `path longer than ${maxPath} bytes`);
    const section = data.subarray(lines[startLine]!.start, i < lines.length ? lines[i]!.start : data.length);
    f.digest = `sha256:${createHash('sha256').update(section).digest('hex')}`;
    files.push(f);
  }
  if (files.length === 0) throw new HandoffError('PATCH_MALFORMED', 'the patch changes no file');
  return { files, added: files.reduce((n, f) => n + f.added, 0), removed: files.reduce((n, f) => n + f.removed, 0) };

  function mode(m: string, line: number): string {
    if (!MODE_RE.test(m)) bad(line, `unknown file mode ${m}`);
    return m;
  }
}

function stripPrefix(p: string | null, prefix: string): string | null {
  if (p === null) return null;
  if (!p.startsWith(prefix)) throw new HandoffError('PATCH_MALFORMED', `path ${JSON.stringify(p.slice(0, 80))} lacks the ${prefix} prefix`);
  return p.slice(prefix.length);
}

/** `/dev/null` -> null; `"a/\303\251"` -> the decoded UTF-8 path; anything else verbatim (trailing tab stripped). */
function decodePath(raw: string, onError: () => never): string | null {
  const s = raw.replace(/\t.*$/, '');
  if (s === '/dev/null') return null;
  if (!s.startsWith('"')) return Buffer.from(s, 'latin1').toString('utf8');
  const r = unquote(s, 0);
  if (!r || r.end !== s.length) onError();
  return r!.value;
}

/** Decodes a git C-quoted string starting at s[at] === '"'. Returns the value and the index after it. */
function unquote(s: string, at: number): { value: string; end: number } | null {
  const bytes: number[] = [];
  const ESC: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  for (let i = at + 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { value: Buffer.from(bytes).toString('utf8'), end: i + 1 };
    if (c !== '\\') {
      bytes.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const n = s[++i];
    if (n === undefined) return null;
    if (n in ESC) bytes.push(ESC[n]!);
    else if (/[0-3]/.test(n) && /^[0-7]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i, i + 3), 8));
      i += 2;
    } else return null;
  }
  return null;
}

/**
 * Splits `a/X b/Y` of a "diff --git" line. Quoted forms are unambiguous; unquoted paths may contain
 * spaces, so without renames (X === Y) the split is the one where both halves agree.
 */
function splitDiffGitPaths(rest: string, onError: () => never): [string, string] {
  let a: string;
  let bRaw: string;
  if (rest.startsWith('"')) {
    const q = unquote(rest, 0);
    if (!q || rest[q.end] !== ' ') onError();
    a = q!.value;
    bRaw = rest.slice(q!.end + 1);
  } else if (rest.endsWith('"')) {
    const idx = rest.lastIndexOf(' "');
    if (idx < 0) onError();
    a = Buffer.from(rest.slice(0, idx), 'latin1').toString('utf8');
    bRaw = rest.slice(idx + 1);
  } else {
    // Unquoted both: "a/P b/P" has odd length 2*len(P)+5.
    const half = (rest.length - 1) / 2;
    if (Number.isInteger(half) && rest[half] === ' ' && rest.slice(2, half) === rest.slice(half + 3)) {
      a = Buffer.from(rest.slice(0, half), 'latin1').toString('utf8');
      bRaw = rest.slice(half + 1);
    } else {
      const idx = rest.indexOf(' b/');
      if (idx < 0) onError();
      a = Buffer.from(rest.slice(0, idx), 'latin1').toString('utf8');
      bRaw = rest.slice(idx + 1);
    }
  }
  let b: string;
  if (bRaw.startsWith('"')) {
    const q = unquote(bRaw, 0);
    if (!q || q.end !== bRaw.length) onError();
    b = q!.value;
  } else b = Buffer.from(bRaw, 'latin1').toString('utf8');
  if (!a.startsWith('a/') || !b.startsWith('b/')) onError();
  return [a.slice(2), b.slice(2)];
}

/** A line git apply could take as the start of a patch (git, traditional unified or context diff, binary). */
function looksLikeDiff(line: string): boolean {
  return ['diff ', '--- ', '+++ ', '@@ ', '*** ', 'GIT binary patch', 'Binary files ', 'Index: '].some((p) => line.startsWith(p));
}
