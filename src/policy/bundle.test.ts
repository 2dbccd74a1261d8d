import { mkdir, mkdtemp, rm, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../config/index.js';
import { createPolicyBundle, readPolicyBundle } from './bundle.js';

const dirs: string[] = [];
async function policyDir(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'duallane-bundle-'));
  dirs.push(d);
  for (const [p, c] of Object.entries(files)) {
    await mkdir(join(d, p, '..'), { recursive: true });
    await writeFile(join(d, p), c);
  }
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('policy bundle', () => {
  it('is deterministic: same files give the same digest whatever the order, times and modes on disk', async () => {
    const a = await policyDir({ 'b.yaml': 'kind: B\n', 'a/x.yaml': 'kind: X\n', 'a.yaml': 'kind: A\n' });
    const b = await policyDir({ 'a.yaml': 'kind: A\n', 'a/x.yaml': 'kind: X\n', 'b.yaml': 'kind: B\n' });
    await utimes(join(b, 'a.yaml'), new Date('2001-01-01'), new Date('2001-01-01'));
    await chmod(join(b, 'b.yaml'), 0o600);
    const ba = await createPolicyBundle(a);
    const bb = await createPolicyBundle(b);
    expect(ba.digest).toBe(bb.digest);
    expect(ba.data.equals(bb.data)).toBe(true);
    expect(ba.files.map((f) => f.path)).toEqual(['a.yaml', 'a/x.yaml', 'b.yaml']);
  });

  it('changes digest when any policy byte changes', async () => {
    const a = await createPolicyBundle(await policyDir({ 'p.yaml': 'x: 1\n' }));
    const b = await createPolicyBundle(await policyDir({ 'p.yaml': 'x: 2\n' }));
    expect(a.digest).not.toBe(b.digest);
  });

  it('round-trips through readPolicyBundle', async () => {
    const bundle = await createPolicyBundle(await policyDir({ 'p.yaml': 'x: 1\n', 'tests/kyverno-test.yaml': 't\n' }));
    const files = await readPolicyBundle(bundle.data);
    expect([...files.keys()]).toEqual(['p.yaml', 'tests/kyverno-test.yaml']);
    expect(files.get('p.yaml')!.toString()).toBe('x: 1\n');
  });

  it('refuses symlinks instead of following them', async () => {
    const d = await policyDir({ 'p.yaml': 'x\n' });
    await symlink('/etc/passwd', join(d, 'evil.yaml'));
    await expect(createPolicyBundle(d)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('refuses archives with path traversal or non-file entries', async () => {
    const header = (name: string, type: string) => {
      const h = Buffer.alloc(512);
      h.write(name, 0);
      h.write('0000644\0', 100);
      h.write('00000000000\0', 124);
      h.write('00000000000\0', 136);
      h.write('        ', 148);
      h.write(type, 156);
      h.write('ustar\0', 257);
      h.write('00', 263);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
      return h;
    };
    const evil = gzipSync(Buffer.concat([header('../escape.yaml', '0'), Buffer.alloc(1024)]));
    await expect(readPolicyBundle(evil)).rejects.toBeInstanceOf(InputError);
    const link = gzipSync(Buffer.concat([header('l', '2'), Buffer.alloc(1024)]));
    await expect(readPolicyBundle(link)).rejects.toBeInstanceOf(InputError);
    await expect(readPolicyBundle(Buffer.from('not gzip'))).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});

describe('readPolicyBundle with archives other tools write', () => {
  async function tarGz(entries: { name: string; type: 'file' | 'directory'; body?: string }[]): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
    for (const e of entries) {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: e.name, type: e.type, mode: e.type === 'directory' ? 0o755 : 0o644, ...(e.body !== undefined ? { size: Buffer.byteLength(e.body) } : {}) }, e.body ?? '', (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    }
    pack.finalize();
    await done;
    return gzipSync(Buffer.concat(chunks));
  }

  it('reads what flux push artifact writes: "." and directory entries before their files', async () => {
    const data = await tarGz([
      { name: '.', type: 'directory' },
      { name: 'a.yaml', type: 'file', body: 'a' },
      { name: 'tests', type: 'directory' },
      { name: 'tests/', type: 'directory' },
      { name: 'tests/b.yaml', type: 'file', body: 'b' },
      { name: './c.yaml', type: 'file', body: 'c' },
    ]);
    const files = await readPolicyBundle(data);
    expect([...files.keys()].sort()).toEqual(['a.yaml', 'c.yaml', 'tests/b.yaml']);
    expect(files.get('tests/b.yaml')?.toString()).toBe('b');
  });

  it('still refuses traversal in directory names and a file given twice', async () => {
    await expect(readPolicyBundle(await tarGz([{ name: '../up', type: 'directory' }]))).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(readPolicyBundle(await tarGz([{ name: '/abs', type: 'directory' }]))).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    const twice = await tarGz([
      { name: 'p.yaml', type: 'file', body: 'reviewed' },
      { name: './p.yaml', type: 'file', body: 'swapped' },
    ]);
    await expect(readPolicyBundle(twice)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});
