import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { InputError } from '../config/index.js';

/**
 * A policy bundle is a gzipped POSIX tar of a policy directory, built so that the same files give
 * the same bytes and so the same digest: entries sorted by path (byte order), mode 0644, uid/gid 0,
 * empty owner names, mtime 0, no directory entries, gzip header without name or time. It is also
 * the layer Flux's OCIRepository extracts (media type application/vnd.cncf.flux.content.v1.tar+gzip).
 */
export interface PolicyBundle {
  data: Buffer;
  digest: string;
  files: { path: string; size: number; digest: string }[];
}

export const MAX_BUNDLE_FILES = 10_000;
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const FIXED_MTIME = new Date(0);

/** Regular files under `dir`, recursively; symlinks and other special files are refused, not followed. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (cause) {
      throw new InputError('INPUT_UNREADABLE', `cannot read directory ${d}: ${(cause as Error).message}`, { cause });
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name === '.git' || e.name === 'node_modules') continue;
        await walk(p);
      } else if (e.isFile()) {
        out.push(p);
        if (out.length > MAX_BUNDLE_FILES) throw new InputError('INPUT_TOO_LARGE', `more than ${MAX_BUNDLE_FILES} files under ${dir}`);
      } else {
        throw new InputError('INPUT_INVALID', `${p} is not a regular file or directory (symlinks are not bundled)`);
      }
    }
  };
  const st = await lstat(dir).catch((cause: unknown) => {
    throw new InputError('INPUT_UNREADABLE', `cannot read ${dir}: ${(cause as Error).message}`, { cause });
  });
  if (!st.isDirectory()) throw new InputError('INPUT_INVALID', `${dir} is not a directory`);
  await walk(dir);
  return out;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export async function createPolicyBundle(dir: string): Promise<PolicyBundle> {
  const paths = await listFiles(dir);
  const entries = paths.map((p) => ({ abs: p, path: relative(dir, p).split(sep).join('/') })).sort((a, b) => byteOrder(a.path, b.path));
  const files: PolicyBundle['files'] = [];
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  let total = 0;
  for (const e of entries) {
    const content = await readFile(e.abs);
    total += content.length;
    if (total > MAX_BUNDLE_BYTES) throw new InputError('INPUT_TOO_LARGE', `policy files under ${dir} exceed ${MAX_BUNDLE_BYTES} bytes`);
    files.push({ path: e.path, size: content.length, digest: `sha256:${createHash('sha256').update(content).digest('hex')}` });
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name: e.path, size: content.length, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: FIXED_MTIME, type: 'file' }, content, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  pack.finalize();
  await done;
  const data = gzipSync(Buffer.concat(chunks), { level: 9 });
  return { data, digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, files };
}

/**
 * `a/b`, `./a/b` and `a/b/` name `a/b`; `.` and `./` name the root (''). Undefined for anything
 * that could leave the target directory or is ambiguous: absolute, `..`, empty or `.` segments
 * inside the path, backslashes, overlong.
 */
function normalEntryName(raw: string): string | undefined {
  if (raw.length >= 1024 || raw.startsWith('/') || raw.includes('\\') || raw.includes('\0')) return undefined;
  let name = raw.startsWith('./') ? raw.slice(2) : raw === '.' ? '' : raw;
  if (name.endsWith('/')) name = name.slice(0, -1);
  if (name === '') return '';
  return name.split('/').some((s) => s === '..' || s === '.' || s === '') ? undefined : name;
}

/**
 * Reads a bundle back into its files. The bundle may come from a registry: sizes and counts are
 * bounded, and only plain relative paths of regular files are accepted (no `..`, no absolute paths,
 * no links), so extracting it can never write outside its target.
 */
export async function readPolicyBundle(data: Buffer): Promise<Map<string, Buffer>> {
  let raw: Buffer;
  try {
    raw = gunzipSync(data, { maxOutputLength: MAX_BUNDLE_BYTES + 1024 * 1024 });
  } catch (cause) {
    throw new InputError('INPUT_INVALID', 'policy bundle is not gzip data (or is larger than the limit)', { cause });
  }
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const finished = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = normalEntryName(header.name);
      const refuse = (why: string) => {
        stream.resume();
        reject(new InputError('INPUT_INVALID', `policy bundle entry ${JSON.stringify(header.name).slice(0, 200)} ${why}`));
      };
      // `flux push artifact` (and `tar -C dir .`) write `.` and directory entries: they hold no
      // content and are skipped, but their names must be as safe as a file's.
      if (header.type === 'directory' && name !== undefined) {
        stream.resume();
        stream.on('end', () => next());
        return;
      }
      if (header.type !== 'file' || name === undefined || name === '' || files.size >= MAX_BUNDLE_FILES) return refuse('is not a plain relative file');
      // Two entries for one path: which one a reader keeps differs between tools; refuse the ambiguity.
      if (files.has(name)) return refuse('appears twice');
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => void parts.push(c as Buffer));
      stream.on('end', () => {
        files.set(name, Buffer.concat(parts));
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', () => resolve());
    extract.on('error', (cause) => reject(new InputError('INPUT_INVALID', 'policy bundle is not a valid tar archive', { cause })));
  });
  extract.end(raw);
  await finished;
  return files;
}
