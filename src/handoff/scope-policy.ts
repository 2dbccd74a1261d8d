import { posix } from 'node:path';
import picomatch from 'picomatch';
import type { ScopePolicy } from '../config/index.js';
import type { FileChange, ParsedPatch } from './parse-patch.js';

export type ScopeViolationCode =
  | 'PATH_INVALID'
  | 'PATH_ABSOLUTE'
  | 'PATH_TRAVERSAL'
  | 'PATH_GIT_INTERNAL'
  | 'PATH_DENIED'
  | 'PATH_NOT_ALLOWED'
  | 'WORKFLOW_CHANGE'
  | 'BINARY_FILE'
  | 'SYMLINK'
  | 'SYMLINK_ESCAPES'
  | 'SUBMODULE'
  | 'TOO_MANY_FILES'
  | 'TOO_MANY_CHANGED_LINES';

export interface ScopeViolation {
  code: ScopeViolationCode;
  /** The offending path; absent for whole-patch limits. */
  path?: string;
  message: string;
}

/**
 * Checks a parsed patch against a lane's scope policy and returns every violation (empty: in scope).
 * Pure: no file system, no git. Paths are judged as the patch states them, before git normalizes
 * anything, so a path that only becomes harmless after normalization is still reported.
 * Some checks hold whatever the policy says: traversal, absolute paths, `.git` internals, symlinks
 * pointing outside the repository, submodules.
 */
export function checkScope(patch: ParsedPatch, policy: ScopePolicy): ScopeViolation[] {
  const out: ScopeViolation[] = [];
  const opts = { dot: true, nocase: false } as const;
  const allowed = picomatch(policy.allowed.length ? policy.allowed : ['**'], opts);
  const denied = policy.denied.length ? picomatch(policy.denied, opts) : () => false;
  // Case-insensitive: on a case-insensitive checkout `.GitHub/Workflows/x.yml` is the workflow file.
  const ci = policy.ciPaths.map((glob) => ({ glob, match: picomatch(glob, { dot: true, nocase: true }) }));

  if (patch.files.length > policy.maxFiles) {
    out.push({ code: 'TOO_MANY_FILES', message: `${patch.files.length} files changed, the lane allows ${policy.maxFiles}` });
  }
  const lines = patch.added + patch.removed;
  if (lines > policy.maxChangedLines) {
    out.push({ code: 'TOO_MANY_CHANGED_LINES', message: `${lines} lines changed, the lane allows ${policy.maxChangedLines}` });
  }
  for (const f of patch.files) {
    for (const path of pathsOf(f)) {
      const structural = checkPathShape(path);
      out.push(...structural);
      if (structural.length > 0) continue;
      if (denied(path)) out.push({ code: 'PATH_DENIED', path, message: `${path} matches a denied pattern` });
      else if (!allowed(path)) out.push({ code: 'PATH_NOT_ALLOWED', path, message: `${path} matches no allowed pattern` });
      const ciGlob = policy.allowWorkflows ? undefined : ci.find((c) => c.match(path))?.glob;
      if (ciGlob !== undefined) out.push({ code: 'WORKFLOW_CHANGE', path, message: `${path} is executed by CI (scope.ciPaths: ${ciGlob})` });
    }
    if (f.binary && !policy.allowBinaries) out.push({ code: 'BINARY_FILE', path: f.path, message: `${f.path} is a binary change` });
    if (f.submodule) out.push({ code: 'SUBMODULE', path: f.path, message: `${f.path} is a submodule (gitlink)` });
    if (f.symlink && f.status !== 'deleted') {
      if (!policy.allowSymlinks) out.push({ code: 'SYMLINK', path: f.path, message: `${f.path} is a symlink` });
      if (f.symlinkTarget === undefined || symlinkEscapes(f.path, f.symlinkTarget)) {
        out.push({ code: 'SYMLINK_ESCAPES', path: f.path, message: `${f.path} points outside the repository (${JSON.stringify((f.symlinkTarget ?? '?').slice(0, 200))})` });
      }
    }
  }
  return out;
}

function pathsOf(f: FileChange): string[] {
  return f.oldPath !== undefined && f.oldPath !== f.path ? [f.oldPath, f.path] : [f.path];
}

/** Violations that follow from the path's shape alone. */
export function checkPathShape(path: string): ScopeViolation[] {
  // eslint-disable-next-line no-control-regex
  if (path === '' || /[\u0000-\u001f\u007f\\]/.test(path) || path.includes('\ufffd')) {
    return [{ code: 'PATH_INVALID', path, message: `path ${JSON.stringify(path.slice(0, 200))} is empty or has control characters, backslashes or invalid UTF-8` }];
  }
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return [{ code: 'PATH_ABSOLUTE', path, message: `${path} is absolute` }];
  const parts = path.split('/');
  if (parts.some((p) => p === '..')) return [{ code: 'PATH_TRAVERSAL', path, message: `${path} contains ".."` }];
  if (parts.some((p) => p === '' || p === '.')) return [{ code: 'PATH_INVALID', path, message: `${path} has an empty or "." component` }];
  // .git in any case (case-insensitive file systems) and NTFS short names are the repository itself.
  if (parts.some((p) => /^\.git(\.|\s)*$/i.test(p) || /^git~\d+$/i.test(p))) return [{ code: 'PATH_GIT_INTERNAL', path, message: `${path} is inside .git` }];
  return [];
}

/** True when a symlink at PATH with TARGET resolves outside the repository root. */
export function symlinkEscapes(path: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || /^[A-Za-z]:/.test(target) || target.includes('\\') || target.includes('\u0000')) return true;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../') || resolved.startsWith('/')) return true;
  return resolved.split('/').some((p) => /^\.git$/i.test(p));
}
