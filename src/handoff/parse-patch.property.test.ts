import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandoffError } from './handoff-error.js';
import { parsePatch, type ParsedPatch, type ParseLimits } from './parse-patch.js';

// Property tests of the patch parser: its input is attacker-controlled (a compromised propose lane
// signs any bytes). Random and mutated patches must only ever give a result within its bounds or a
// typed HandoffError; and whatever the parser accepts, git must not see more (or other) paths than
// the parser reported, or the scope policy would judge a different change from the one applied.

const TYPED = new Set(['PATCH_MALFORMED', 'INPUT_TOO_LARGE']);

/** parsePatch, with any exception that is not a typed HandoffError re-thrown as a test failure. */
function parseTyped(data: Buffer, limits?: ParseLimits): ParsedPatch | HandoffError {
  try {
    return parsePatch(data, limits);
  } catch (e) {
    if (e instanceof HandoffError && TYPED.has(e.code)) return e;
    throw new Error(`untyped failure on ${JSON.stringify(data.toString('latin1').slice(0, 300))}: ${(e as Error).stack}`);
  }
}

const add = (path: string, lines: string[]) => `diff --git a/${path} b/${path}\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}\n`).join('')}`;
const edit = (path: string) => `diff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n@@ -1,2 +1,2 @@\n keep\n-old\n+new\n`;
const del = (path: string) => `diff --git a/${path} b/${path}\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/${path}\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n`;
const link = (path: string, target: string) => `diff --git a/${path} b/${path}\nnew file mode 120000\nindex 0000000..3333333\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+${target}\n\\ No newline at end of file\n`;
const unified = (path: string) => `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n`;

const pathArb = fc.constantFrom('a.txt', 'docs/x.md', '.github/workflows/ci.yml', 'src/app.js', '../escape', 'with space.txt', '"q".txt', '.git/config');
const sectionArb = fc.oneof(
  fc.tuple(pathArb, fc.array(fc.constantFrom('x', '+diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml', '', '-', '@@ -1 +1 @@'), { minLength: 1, maxLength: 4 })).map(([p, ls]) => add(p, ls)),
  pathArb.map(edit),
  pathArb.map(del),
  fc.tuple(pathArb, fc.constantFrom('../../etc', 'ok', '/abs')).map(([p, t]) => link(p, t)),
);
const patchArb = fc.tuple(fc.constantFrom('', 'From 0 Mon Sep 17 00:00:00 2001\nSubject: x\n\n---\n', unified('.github/workflows/ci.yml')), fc.array(sectionArb, { minLength: 1, maxLength: 4 })).map(([pre, ss]) => pre + ss.join(''));

type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'dupLine' | 'dropLine' | 'truncate'; at: number; byte: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'dupLine', 'dropLine', 'truncate'),
  at: fc.nat(),
  byte: fc.constantFrom(0x0a, 0x20, 0x2b, 0x2d, 0x40, 0x22, 0x5c, 0x00, 0xff, 0x31, 0x2f, 0x2e),
});

function mutate(text: string, ms: Mutation[]): Buffer {
  let b = Buffer.from(text, 'latin1');
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    const lines = b.toString('latin1').split('\n');
    const li = m.at % lines.length;
    switch (m.kind) {
      case 'flip':
        b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at + 1)]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
        break;
      case 'dupLine':
        lines.splice(li, 0, lines[li]!);
        b = Buffer.from(lines.join('\n'), 'latin1');
        break;
      case 'dropLine':
        lines.splice(li, 1);
        b = Buffer.from(lines.join('\n'), 'latin1');
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** The paths `git apply` would touch, or null when git refuses the patch. */
function gitPaths(data: Buffer): Set<string> | null {
  try {
    const out = execFileSync('git', ['apply', '--numstat', '-z', '-'], { input: data, stdio: ['pipe', 'pipe', 'ignore'] }).toString('latin1');
    const paths = new Set<string>();
    // -z: "added\tremoved\tpath\0", or for a rename "added\tremoved\t\0old\0new\0".
    const parts = out.split('\0');
    for (let i = 0; i < parts.length; i++) {
      const rec = parts[i]!;
      if (!rec) continue;
      const fields = rec.split('\t');
      if (fields.length === 3 && fields[2] === '') {
        paths.add(parts[++i]!);
        paths.add(parts[++i]!);
      } else paths.add(fields.slice(2).join('\t'));
    }
    return paths;
  } catch {
    return null;
  }
}

function parserPaths(r: ParsedPatch): Set<string> {
  const s = new Set<string>();
  for (const f of r.files) {
    s.add(Buffer.from(f.path, 'utf8').toString('latin1'));
    if (f.oldPath !== undefined) s.add(Buffer.from(f.oldPath, 'utf8').toString('latin1'));
  }
  return s;
}

describe('parsePatch properties', () => {
  it('random bytes: a typed error or a result, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        parseTyped(Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('random lines from the patch alphabet: a typed error or a result within the limits', () => {
    const line = fc.constantFrom('diff --git a/x b/x', 'diff --git a/y b/y', '--- a/x', '+++ b/x', '--- /dev/null', '+++ /dev/null', 'new file mode 100644', 'deleted file mode 100644', 'index 1111111..2222222 100644', '@@ -1 +1 @@', '@@ -0,0 +1,3 @@', '@@ -99999999999999999999 +1 @@', '+a', '-a', ' a', '\\ No newline at end of file', 'GIT binary patch', 'literal 5', 'zcmV', 'rename from x', 'rename to y', 'similarity index 90%', '', '-- ');
    const limits = { maxFiles: 3, maxPathBytes: 8, maxBytes: 600 };
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), (ls) => {
        const data = Buffer.from(ls.join('\n') + '\n', 'latin1');
        const r = parseTyped(data, limits);
        if (data.length > limits.maxBytes) expect(r).toMatchObject({ code: 'INPUT_TOO_LARGE' });
        if (r instanceof HandoffError) return;
        expect(r.files.length).toBeGreaterThan(0);
        expect(r.files.length).toBeLessThanOrEqual(limits.maxFiles);
        for (const f of r.files) expect(Buffer.byteLength(f.path, 'utf8')).toBeLessThanOrEqual(limits.maxPathBytes);
        expect(r.added).toBe(r.files.reduce((n, f) => n + f.added, 0));
        expect(r.removed).toBe(r.files.reduce((n, f) => n + f.removed, 0));
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated patches: typed errors only; a rejection stays a rejection after a valid file; the parser never reports fewer paths than git applies', () => {
    const valid = edit('ok.txt');
    fc.assert(
      fc.property(patchArb, fc.array(mutationArb, { maxLength: 3 }), (text, ms) => {
        const data = mutate(text, ms);
        const r = parseTyped(data);
        const s = data.toString('latin1');
        if (r instanceof HandoffError) {
          // Preceded by a well-formed file section, a rejected section is still rejected.
          if (s.startsWith('diff --git ')) expect(parseTyped(Buffer.from(valid + s, 'latin1'))).toBeInstanceOf(HandoffError);
          return;
        }
        const git = gitPaths(data);
        if (git === null) return; // git refuses it: accept fails with PATCH_DOES_NOT_APPLY
        const mine = parserPaths(r);
        for (const p of git) expect(mine.has(p), `git applies ${JSON.stringify(p)}, the parser reported ${JSON.stringify([...mine])}; patch ${JSON.stringify(s)}`).toBe(true);
      }),
      { numRuns: 250 },
    );
  });

  it('refuses diff material git would apply outside the sections it reads (preamble, after a blank line, after the signature)', () => {
    const hidden = unified('.github/workflows/ci.yml');
    for (const text of [hidden + edit('a.txt'), edit('a.txt') + '\n' + add('.github/workflows/ci.yml', ['x']), edit('a.txt') + '-- \n2.39.5\n' + hidden]) {
      expect(gitPaths(Buffer.from(text))?.has('.github/workflows/ci.yml'), text).toBe(true);
      expect(parseTyped(Buffer.from(text)), text).toMatchObject({ code: 'PATCH_MALFORMED' });
    }
  });

  it('is deterministic: the same bytes give the same files and digests', () => {
    fc.assert(
      fc.property(patchArb, (text) => {
        const a = parseTyped(Buffer.from(text, 'latin1'));
        const b = parseTyped(Buffer.from(text, 'latin1'));
        expect(a instanceof HandoffError ? a.code : a).toEqual(b instanceof HandoffError ? b.code : b);
      }),
      { numRuns: 100 },
    );
  });
});
