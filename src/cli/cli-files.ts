import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../config/index.js';

/**
 * Paths named on the command line are the user's input: every way they can be wrong (missing, a
 * directory where a file belongs or the reverse, a missing parent, no permission) is a one-line
 * usage error (exit 2) naming the path and the errno, never an internal error.
 */

/** errno codes that mean "this path, as given, cannot be used" (the user's input, exit 2). */
const PATH_ERRNOS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
  ENOTEMPTY: 'directory not empty',
};
const WRITE_SYSCALLS = new Set(['mkdir', 'mkdtemp', 'write', 'rename', 'unlink', 'rmdir', 'rm', 'copyfile', 'symlink', 'link', 'chmod', 'chown', 'utime', 'futime', 'ftruncate']);

const errnoOf = (e: unknown): NodeJS.ErrnoException | undefined => {
  const x = e as NodeJS.ErrnoException | null;
  return x && typeof x === 'object' && typeof x.code === 'string' && typeof x.syscall === 'string' ? x : undefined;
};

/** `EISDIR (is a directory)`: the errno and what it means, for one-line messages. */
export function describeErrno(e: unknown): string {
  const x = errnoOf(e);
  if (!x) return (e as Error)?.message ?? String(e);
  const what = PATH_ERRNOS[x.code!];
  return what ? `${x.code} (${what})` : x.code!;
}

/**
 * The usage error for a file system error that escaped its call site, or undefined when `e` is
 * not one (child-process spawn errors included: those are the environment's). The CLI's one
 * top-level catch uses this so a path problem never surfaces as exit 70.
 */
export function pathErrorToInputError(e: unknown): InputError | undefined {
  const x = errnoOf(e);
  if (!x || x.syscall!.startsWith('spawn') || !(x.code! in PATH_ERRNOS)) return undefined;
  const path = typeof x.path === 'string' ? x.path : '(unknown path)';
  const writing = WRITE_SYSCALLS.has(x.syscall!) || x.code === 'EEXIST' || x.code === 'EROFS';
  return writing
    ? new InputError('OUTPUT_UNWRITABLE', `cannot write ${path}: ${describeErrno(x)}`, { cause: e })
    : new InputError('INPUT_UNREADABLE', `cannot read ${path}: ${describeErrno(x)}`, { cause: e });
}

/**
 * Writes an output file named by `flag`: refuses a directory (OUTPUT_UNWRITABLE) instead of letting
 * EISDIR escape, creates missing parent directories, and maps every write error to OUTPUT_UNWRITABLE.
 */
export async function writeOutputFile(path: string, data: string | Uint8Array, flag: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) throw new InputError('OUTPUT_UNWRITABLE', `${flag} ${path} is a directory; give a file path`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  } catch (cause) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot write ${flag} ${path}: ${describeErrno(cause)}`, { cause });
  }
}

/**
 * An existing directory named by `flag` (--dir, --repo, ...): INPUT_UNREADABLE when it is missing or
 * not permitted, INPUT_INVALID when it or a component of its path is a file.
 */
export async function existingDirectory(path: string, flag: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOTDIR') throw new InputError('INPUT_INVALID', `${flag} ${path}: a component of the path is a file`, { cause });
    throw new InputError('INPUT_UNREADABLE', `${flag} ${path}: ${describeErrno(cause)}`, { cause });
  }
  if (!st.isDirectory()) throw new InputError('INPUT_INVALID', `${flag} ${path} is not a directory`);
  return path;
}

/**
 * A directory to create or reuse (`init --dir`, `keys generate --out`): a file in the way is
 * INPUT_INVALID, any other failure to create it OUTPUT_UNWRITABLE.
 */
export async function ensureDirectory(path: string, flag: string, mode?: number): Promise<string> {
  const st = await stat(path).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOTDIR') throw new InputError('INPUT_INVALID', `${flag} ${path}: a component of the path is a file`, { cause });
    return undefined;
  });
  if (st && !st.isDirectory()) throw new InputError('INPUT_INVALID', `${flag} ${path} is not a directory`);
  if (!st) {
    try {
      await mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    } catch (cause) {
      throw new InputError('OUTPUT_UNWRITABLE', `cannot create ${flag} ${path}: ${describeErrno(cause)}`, { cause });
    }
  }
  return path;
}
