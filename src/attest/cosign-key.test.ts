import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPrivateKey, type AttestErrorCode } from './index.js';

// A throwaway key written once by `cosign generate-key-pair` (see testdata/README.md).
const FIXTURE = new URL('./testdata/throwaway-test-fixture-cosign', import.meta.url).pathname;
const PASSWORD = 'test-fixture-password';

async function failure(p: Promise<unknown>): Promise<{ code: AttestErrorCode | 'OK'; message: string }> {
  try {
    await p;
    return { code: 'OK', message: '' };
  } catch (e) {
    return { code: (e as { code: AttestErrorCode }).code, message: (e as Error).message };
  }
}

interface Doc {
  kdf: { name: unknown; params: { N: unknown; r: unknown; p: unknown }; salt?: unknown };
  cipher: { name: unknown; nonce: unknown };
  ciphertext: string;
}

/** Rewrites the JSON inside a cosign PEM block, keeping the PEM framing. */
function craft(pem: string, edit: (doc: Doc) => void, type = 'ENCRYPTED SIGSTORE PRIVATE KEY'): string {
  const body = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  const doc = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as Doc;
  edit(doc);
  const b64 = Buffer.from(JSON.stringify(doc)).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

describe("cosign's encrypted key format (cosign.key)", () => {
  let pem: string;
  let pub: string;
  let dir: string;

  beforeAll(async () => {
    pem = await readFile(`${FIXTURE}.key`, 'utf8');
    pub = await readFile(`${FIXTURE}.pub`, 'utf8');
    dir = await mkdtemp(join(tmpdir(), 'dl-cosign-key-'));
  });

  async function file(name: string, content: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  }

  it('decrypts the fixture with COSIGN_PASSWORD to the key whose public half is cosign.pub', async () => {
    const key = await loadPrivateKey(`${FIXTURE}.key`, undefined, { cosignPassword: PASSWORD });
    expect(createPublicKey(key).export({ format: 'pem', type: 'spki' })).toBe(createPublicKey(pub).export({ format: 'pem', type: 'spki' }));
  });

  it('an explicit passphrase wins over COSIGN_PASSWORD', async () => {
    expect((await failure(loadPrivateKey(`${FIXTURE}.key`, PASSWORD, { cosignPassword: 'wrong' }))).code).toBe('OK');
    expect((await failure(loadPrivateKey(`${FIXTURE}.key`, 'wrong', { cosignPassword: PASSWORD }))).code).toBe('KEY_INVALID');
  });

  it('reads the older ENCRYPTED COSIGN PRIVATE KEY block type', async () => {
    const legacy = await file('legacy.key', craft(pem, () => {}, 'ENCRYPTED COSIGN PRIVATE KEY'));
    expect((await failure(loadPrivateKey(legacy, undefined, { cosignPassword: PASSWORD }))).code).toBe('OK');
  });

  it('a wrong or missing password is KEY_INVALID and the password is not echoed', async () => {
    const wrong = await failure(loadPrivateKey(`${FIXTURE}.key`, undefined, { cosignPassword: 'not-the-password' }));
    expect(wrong.code).toBe('KEY_INVALID');
    expect(wrong.message).not.toContain('not-the-password');
    expect((await failure(loadPrivateKey(`${FIXTURE}.key`))).code).toBe('KEY_INVALID');
  });

  it('refuses KDF parameters outside the bounds before running scrypt', async () => {
    const cases: Array<(d: Doc) => void> = [
      (d) => (d.kdf.params.N = 2 ** 30),
      (d) => (d.kdf.params.N = 65535),
      (d) => (d.kdf.params.N = 2 ** 18 * 4),
      (d) => (d.kdf.params.r = 1_000_000),
      (d) => (d.kdf.params.p = 1_000),
      (d) => (d.kdf.params.N = '65536'),
      (d) => Object.assign(d.kdf.params, { N: 2 ** 18, r: 16 }),
      (d) => (d.kdf.name = 'pbkdf2'),
      (d) => (d.cipher.name = 'aes-gcm'),
      (d) => (d.cipher.nonce = Buffer.alloc(12).toString('base64')),
      (d) => delete d.kdf.salt,
      (d) => (d.ciphertext = 'not base64!'),
    ];
    for (const [i, edit] of cases.entries()) {
      const path = await file(`crafted-${i}.key`, craft(pem, edit));
      expect((await failure(loadPrivateKey(path, undefined, { cosignPassword: PASSWORD }))).code, `case ${i}`).toBe('KEY_INVALID');
    }
  });

  it('a truncated, garbled or tampered file is KEY_INVALID', async () => {
    const tampered = craft(pem, (d) => {
      const ct = Buffer.from(d.ciphertext, 'base64');
      ct.writeUInt8(ct.readUInt8(ct.length - 1) ^ 1, ct.length - 1);
      d.ciphertext = ct.toString('base64');
    });
    const bodies = [pem.slice(0, pem.length / 2), pem.replace(/[A-Za-z]{8}/, '!!!!!!!!'), tampered, '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n'];
    for (const [i, body] of bodies.entries()) {
      const path = await file(`bad-${i}.key`, body);
      expect((await failure(loadPrivateKey(path, undefined, { cosignPassword: PASSWORD }))).code, `case ${i}`).toBe('KEY_INVALID');
    }
  });

  it('env://VAR reads the PEM from the environment; the value never appears in errors', async () => {
    const env = { COSIGN_KEY_PEM: pem, GARBAGE: 'SECRET-ISH-VALUE' };
    expect((await failure(loadPrivateKey('env://COSIGN_KEY_PEM', undefined, { cosignPassword: PASSWORD, env }))).code).toBe('OK');
    const garbage = await failure(loadPrivateKey('env://GARBAGE', undefined, { env }));
    expect(garbage.code).toBe('KEY_INVALID');
    expect(garbage.message).not.toContain('SECRET-ISH-VALUE');
    const wrong = await failure(loadPrivateKey('env://COSIGN_KEY_PEM', undefined, { cosignPassword: 'nope', env }));
    expect(wrong.code).toBe('KEY_INVALID');
    expect(wrong.message).not.toContain(pem.split('\n')[1]);
    expect((await failure(loadPrivateKey('env://UNSET_VAR', undefined, { env }))).code).toBe('KEY_INVALID');
    expect((await failure(loadPrivateKey('env://bad name', undefined, { env }))).code).toBe('BAD_USAGE');
  });
});
