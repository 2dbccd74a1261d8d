import { symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempRepo, type TempRepo } from '../../test/handoff/temp-repo.js';
import { patchFromFile, patchFromWorktree, treeOfArtifact, PATCH_HEADER } from './patch-artifact.js';
import { parsePatch } from './parse-patch.js';

let repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos) r.cleanup();
  repos = [];
});
const repo = (files?: Record<string, string>) => {
  const r = makeTempRepo(files);
  repos.push(r);
  return r;
};

describe('patch artifact', () => {
  it('is byte-identical for the same change from a worktree, a patch file, and another clone', async () => {
    const a = repo();
    a.write('src/app.js', 'export const x = 2;\n');
    a.write('docs/new file.md', 'hello\n');
    const fromWorktree = await patchFromWorktree(a.dir);
    expect(fromWorktree.bytes.toString('utf8').startsWith(PATCH_HEADER)).toBe(true);
    expect(fromWorktree.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The same change as a user-made patch with a different diff configuration and a version trailer.
    a.git('add', '-A');
    const userPatch = a.git('diff', '--cached', '-U10', '--src-prefix=x/', '--dst-prefix=y/', '--stat', '-p') + '\n-- \n2.39.5\n';
    a.git('reset', '-q', '--hard');
    const fromFile = await patchFromFile(a.dir, Buffer.from(userPatch.replace(/^.*\|.*$/gm, '').replace(/^ \d+ files? changed.*$/m, ''), 'utf8'));
    expect(fromFile.bytes.equals(fromWorktree.bytes)).toBe(true);

    // Another repository with the same base content produces the same base commit only by chance, but the
    // same base commit plus the same change must give the same bytes: re-run on a fresh worktree state.
    a.write('src/app.js', 'export const x = 2;\n');
    a.write('docs/new file.md', 'hello\n');
    const again = await patchFromWorktree(a.dir);
    expect(again.digest).toBe(fromWorktree.digest);
  });

  it('ignores user configuration that changes diff output', async () => {
    const a = repo({ 'a.txt': 'one\ntwo\nthree\n' });
    a.write('a.txt', 'one\n2\nthree\n');
    const plain = await patchFromWorktree(a.dir);
    a.git('config', 'diff.noprefix', 'true');
    a.git('config', 'diff.mnemonicPrefix', 'true');
    a.git('config', 'core.quotePath', 'false');
    const configured = await patchFromWorktree(a.dir);
    expect(configured.bytes.equals(plain.bytes)).toBe(true);
  });

  it('includes untracked files, honours .gitignore and refuses an empty change', async () => {
    const a = repo({ '.gitignore': 'secret.txt\n', 'x.txt': 'x\n' });
    await expect(patchFromWorktree(a.dir)).rejects.toMatchObject({ code: 'EMPTY_CHANGE' });
    a.write('secret.txt', 'ignored\n');
    a.write('new.txt', 'new\n');
    const p = parsePatch((await patchFromWorktree(a.dir)).bytes);
    expect(p.files.map((f) => f.path)).toEqual(['new.txt']);
  });

  it('refuses a patch file that does not apply to the base', async () => {
    const a = repo({ 'a.txt': 'one\n' });
    const patch = 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-not what is there\n+two\n';
    await expect(patchFromFile(a.dir, Buffer.from(patch))).rejects.toMatchObject({ code: 'PATCH_DOES_NOT_APPLY' });
  });

  it('round-trips through treeOfArtifact and rejects a non-canonical artifact', async () => {
    const a = repo({ 'a.txt': 'one\n' });
    const base = a.git('rev-parse', 'HEAD');
    a.write('a.txt', 'two\n');
    const art = await patchFromWorktree(a.dir);
    const tree = await treeOfArtifact(a.dir, base, art.bytes);
    expect(tree).toBe(art.tree);
    // Same change, but with the mail header edited: applies, yet is not the canonical bytes.
    const edited = Buffer.from(art.bytes.toString('utf8').replace('duallane handoff', 'something else'));
    await expect(treeOfArtifact(a.dir, base, edited)).rejects.toMatchObject({ code: 'ARTIFACT_NOT_CANONICAL' });
  });

  it('captures binary files, symlinks and mode changes', async () => {
    const a = repo({ 'run.sh': 'echo hi\n', 'keep.txt': 'k\n' });
    writeFileSync(join(a.dir, 'logo.bin'), Buffer.from([0, 1, 2, 3, 255, 0, 10]));
    symlinkSync('keep.txt', join(a.dir, 'link'));
    symlinkSync('../../etc/passwd', join(a.dir, 'evil'));
    chmodSync(join(a.dir, 'run.sh'), 0o755);
    const p = parsePatch((await patchFromWorktree(a.dir)).bytes);
    const by = Object.fromEntries(p.files.map((f) => [f.path, f]));
    expect(Object.keys(by).sort()).toEqual(['evil', 'link', 'logo.bin', 'run.sh']);
    expect(by['logo.bin']).toMatchObject({ binary: true, status: 'added', newMode: '100644' });
    expect(by['link']).toMatchObject({ symlink: true, symlinkTarget: 'keep.txt', status: 'added' });
    expect(by['evil']).toMatchObject({ symlink: true, symlinkTarget: '../../etc/passwd' });
    expect(by['run.sh']).toMatchObject({ oldMode: '100644', newMode: '100755', added: 0, removed: 0, status: 'modified' });
  });
});

describe('quarantined application', () => {
  it('computes the tree without writing any object into the repository', async () => {
    const a = makeTempRepo({ 'a.txt': 'one\n' });
    repos.push(a);
    const base = a.git('rev-parse', 'HEAD');
    a.write('new.txt', 'a brand new blob 8c1f\n');
    const art = await patchFromWorktree(a.dir);
    // patchFromWorktree stored the blob; remove it to see whether verification writes it back.
    const blob = a.git('hash-object', 'new.txt');
    a.git('reset', '-q', '--hard');
    a.git('clean', '-qfd');
    a.git('prune', '--expire=now');
    expect(() => a.git('cat-file', '-e', blob)).toThrow();
    const tree = await treeOfArtifact(a.dir, base, art.bytes, { quarantine: true });
    expect(tree).toBe(art.tree);
    expect(() => a.git('cat-file', '-e', blob)).toThrow();
    expect(await treeOfArtifact(a.dir, base, art.bytes)).toBe(tree);
    expect(a.git('cat-file', '-t', blob)).toBe('blob');
  });
});
