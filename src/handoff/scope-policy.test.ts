import { describe, expect, it } from 'vitest';
import { defaultConfig, type ScopePolicy } from '../config/index.js';
import type { FileChange, ParsedPatch } from './parse-patch.js';
import { checkScope, symlinkEscapes } from './scope-policy.js';

const policy = (over: Partial<ScopePolicy> = {}): ScopePolicy => ({ ...defaultConfig().lanes[1]!.scope, ...over });
const file = (path: string, over: Partial<FileChange> = {}): FileChange => ({
  path,
  status: 'modified',
  oldMode: '100644',
  newMode: '100644',
  oldBlob: null,
  newBlob: null,
  binary: false,
  symlink: false,
  submodule: false,
  added: 1,
  removed: 1,
  digest: 'sha256:' + '0'.repeat(64),
  ...over,
});
const patch = (...files: FileChange[]): ParsedPatch => ({ files, added: files.reduce((n, f) => n + f.added, 0), removed: files.reduce((n, f) => n + f.removed, 0) });
const codes = (p: ParsedPatch, pol = policy()) => checkScope(p, pol).map((v) => v.code);

describe('checkScope', () => {
  it('accepts an ordinary change', () => {
    expect(checkScope(patch(file('src/app.js'), file('README.md')), policy())).toEqual([]);
  });

  it.each([
    ['../etc/passwd', 'PATH_TRAVERSAL'],
    ['src/../../x', 'PATH_TRAVERSAL'],
    ['/etc/passwd', 'PATH_ABSOLUTE'],
    ['C:/windows', 'PATH_ABSOLUTE'],
    ['.git/hooks/pre-commit', 'PATH_GIT_INTERNAL'],
    ['sub/.GIT/config', 'PATH_GIT_INTERNAL'],
    ['a\\b', 'PATH_INVALID'],
    ['a\u0000b', 'PATH_INVALID'],
    ['a//b', 'PATH_INVALID'],
    ['./a', 'PATH_INVALID'],
    ['.duallane/ledger/x', 'PATH_DENIED'],
    ['.env.production', 'PATH_DENIED'],
    ['deploy/prod.key', 'PATH_DENIED'],
    ['.github/workflows/ci.yml', 'WORKFLOW_CHANGE'],
  ])('%s -> %s', (path, code) => {
    expect(codes(patch(file(path)))).toContain(code);
  });

  // Every default CI path is WORKFLOW_CHANGE; look-alikes and files CI runs only when called are not.
  it.each([
    ['.github/workflows/ci.yml', true],
    ['.GitHub/Workflows/ci.yml', true],
    ['.github/actions/setup/action.yml', true],
    ['.github/actions/setup/index.js', true],
    ['tools/release/action.yml', true],
    ['action.yaml', true],
    ['.github/dependabot.yml', true],
    ['.gitlab-ci.yml', true],
    ['.gitlab/ci/build.yml', true],
    ['.circleci/config.yml', true],
    ['Jenkinsfile', true],
    ['deploy/Jenkinsfile', true],
    ['.buildkite/pipeline.yml', true],
    ['azure-pipelines.yml', true],
    ['.travis.yml', true],
    ['bitbucket-pipelines.yml', true],
    ['Makefile', false],
    ['.pre-commit-config.yaml', false],
    ['package.json', false],
    ['docs/action.yml.md', false],
    ['.github/CODEOWNERS', false],
  ])('default ciPaths: %s -> WORKFLOW_CHANGE %s', (path, ci) => {
    expect(codes(patch(file(path))).includes('WORKFLOW_CHANGE')).toBe(ci);
  });

  it('ciPaths from the lane config replace the default list; allowWorkflows lets them all through', () => {
    const custom = policy({ ciPaths: ['ci/**', 'Makefile'] });
    expect(codes(patch(file('ci/deploy.sh')), custom)).toEqual(['WORKFLOW_CHANGE']);
    expect(codes(patch(file('Makefile')), custom)).toEqual(['WORKFLOW_CHANGE']);
    expect(codes(patch(file('.github/workflows/ci.yml')), custom)).toEqual([]);
    expect(checkScope(patch(file('ci/x')), custom)[0]!.message).toContain('ci/**');
    expect(codes(patch(file('ci/deploy.sh'), file('.gitlab-ci.yml')), policy({ ciPaths: ['ci/**'], allowWorkflows: true }))).toEqual([]);
    expect(codes(patch(file('.github/workflows/ci.yml')), policy({ ciPaths: [] }))).toEqual([]);
  });

  it('checks both sides of a rename', () => {
    expect(codes(patch(file('.github/workflows/x.yml', { oldPath: 'ok.txt' })))).toEqual(['WORKFLOW_CHANGE']);
  });

  it('applies allowed globs, workflows switch, binaries, symlinks and submodules', () => {
    expect(codes(patch(file('lib/x.js')), policy({ allowed: ['src/**'] }))).toEqual(['PATH_NOT_ALLOWED']);
    expect(codes(patch(file('.github/workflows/ci.yml')), policy({ allowWorkflows: true }))).toEqual([]);
    expect(codes(patch(file('a.png', { binary: true })))).toEqual(['BINARY_FILE']);
    expect(codes(patch(file('a.png', { binary: true })), policy({ allowBinaries: true }))).toEqual([]);
    expect(codes(patch(file('l', { symlink: true, newMode: '120000', symlinkTarget: 'src/app.js' })))).toEqual(['SYMLINK']);
    expect(codes(patch(file('l', { symlink: true, newMode: '120000', symlinkTarget: 'src/app.js' })), policy({ allowSymlinks: true }))).toEqual([]);
    expect(codes(patch(file('l', { symlink: true, newMode: '120000', symlinkTarget: '../../x' })), policy({ allowSymlinks: true }))).toEqual(['SYMLINK_ESCAPES']);
    expect(codes(patch(file('m', { submodule: true, newMode: '160000' })))).toEqual(['SUBMODULE']);
  });

  it('reports every violation, including whole-patch limits', () => {
    const many = Array.from({ length: 3 }, (_, i) => file(`f${i}.txt`, { added: 10 }));
    const v = checkScope(patch(...many, file('../x'), file('.github/workflows/a.yml')), policy({ maxFiles: 2, maxChangedLines: 5 }));
    expect(v.map((x) => x.code).sort()).toEqual(['PATH_TRAVERSAL', 'TOO_MANY_CHANGED_LINES', 'TOO_MANY_FILES', 'WORKFLOW_CHANGE']);
    expect(v.find((x) => x.code === 'PATH_TRAVERSAL')!.path).toBe('../x');
  });
});

describe('symlinkEscapes', () => {
  it.each([
    ['a/l', '../b', false],
    ['a/l', '../../b', true],
    ['l', '/etc/passwd', true],
    ['l', '.git/config', true],
    ['a/b/l', '../../c/d', false],
    ['l', '', true],
  ])('%s -> %s escapes: %s', (path, target, escapes) => {
    expect(symlinkEscapes(path, target)).toBe(escapes);
  });
});
