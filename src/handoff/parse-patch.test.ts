import { describe, expect, it } from 'vitest';
import { parsePatch } from './parse-patch.js';

const p = (s: string) => parsePatch(Buffer.from(s, 'utf8'));

describe('parsePatch (attacker-controlled input)', () => {
  it('counts lines per file and digests each section', () => {
    const r = p(
      'junk before\ndiff --git a/a.txt b/a.txt\nindex 1111111..2222222 100644\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,3 @@\n one\n-two\n+2\n+3\n' +
        'diff --git a/b.txt b/b.txt\nnew file mode 100644\nindex 0000000..3333333\n--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n\\ No newline at end of file\n',
    );
    expect(r.files.map((f) => [f.path, f.status, f.added, f.removed])).toEqual([
      ['a.txt', 'modified', 2, 1],
      ['b.txt', 'added', 1, 0],
    ]);
    expect(r.added).toBe(3);
    expect(r.files[0]!.digest).not.toBe(r.files[1]!.digest);
    expect(r.files[0]!.newMode).toBe('100644');
  });

  it('treats a "diff --git" line inside a hunk as content (hunk lengths come from the header)', () => {
    const r = p('diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n-x\n+diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml\n+y\n');
    expect(r.files.map((f) => f.path)).toEqual(['a.txt']);
    expect(r.files[0]!.added).toBe(2);
  });

  it('decodes C-quoted paths, paths with spaces, and keeps traversal verbatim', () => {
    const r = p(
      'diff --git "a/caf\\303\\251 \\"q\\"" "b/caf\\303\\251 \\"q\\""\nnew file mode 100644\n--- /dev/null\n+++ "b/caf\\303\\251 \\"q\\""\n@@ -0,0 +1 @@\n+x\n' +
        'diff --git a/with space.txt b/with space.txt\nnew file mode 100644\n--- /dev/null\n+++ b/with space.txt\n@@ -0,0 +1 @@\n+x\n' +
        'diff --git a/../escape b/../escape\nnew file mode 100644\n--- /dev/null\n+++ b/../escape\n@@ -0,0 +1 @@\n+x\n',
    );
    expect(r.files.map((f) => f.path)).toEqual(['café "q"', 'with space.txt', '../escape']);
  });

  it('reports renames with both paths', () => {
    const r = p('diff --git a/x b/.github/workflows/x.yml\nsimilarity index 100%\nrename from x\nrename to .github/workflows/x.yml\n');
    expect(r.files[0]).toMatchObject({ path: '.github/workflows/x.yml', oldPath: 'x' });
  });

  it.each([
    ['no file', 'just text\n'],
    ['hunk longer than the patch', 'diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,999999 +1,999999 @@\n x\n'],
    ['hunk ends early', 'diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,3 +1,3 @@\n x\n'],
    ['garbage in hunk', 'diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n?x\n'],
    ['+++ path differs', 'diff --git a/a b/a\n--- a/a\n+++ b/other\n@@ -1 +1 @@\n-x\n+y\n'],
    ['missing +++', 'diff --git a/a b/a\n--- a/a\n@@ -1 +1 @@\n-x\n+y\n'],
    ['unknown mode', 'diff --git a/a b/a\nnew file mode 100777\n--- /dev/null\n+++ b/a\n@@ -0,0 +1 @@\n+x\n'],
    ['bad quoting', 'diff --git "a/x\\q" "b/x\\q"\n'],
    ['garbage between files', 'diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+y\nextra\n'],
    ['bad base85', 'diff --git a/a b/a\nGIT binary patch\nliteral 3\nzz zz\n\n'],
  ])('rejects %s with PATCH_MALFORMED', (_name, text) => {
    expect(() => p(text)).toThrow(expect.objectContaining({ code: 'PATCH_MALFORMED' }));
  });

  it('enforces size and file-count limits', () => {
    const one = 'diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+y\n';
    expect(() => parsePatch(Buffer.from(one), { maxBytes: 10 })).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE' }));
    expect(() => parsePatch(Buffer.from(one + one.replaceAll('a', 'b')), { maxFiles: 1 })).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE' }));
    expect(() => parsePatch(Buffer.from(one.replaceAll('a/a', `a/${'x'.repeat(50)}`).replaceAll('b/a', `b/${'x'.repeat(50)}`)), { maxPathBytes: 20 })).toThrow(
      expect.objectContaining({ code: 'PATCH_MALFORMED' }),
    );
  });
});
