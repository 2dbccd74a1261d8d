import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateCommand } from '../support/services.js';
import { parseJson, runCli } from '../support/cli.js';
import { startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';

/**
 * Interop: an implementation we did not write (OpenSSL) must accept what we sign. The DSSE
 * pre-authentication encoding is rebuilt here from the DSSE spec, not taken from our code.
 */
const hasOpenssl = gateCommand('openssl', 'openssl');

function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

function opensslVerify(pubPem: string, sigDer: string, data: string): string {
  return execFileSync('openssl', ['dgst', '-sha256', '-verify', pubPem, '-signature', sigDer, data], { encoding: 'utf8' }).trim();
}

describe.skipIf(!hasOpenssl)('openssl accepts duallane signatures', () => {
  let dir: string;
  let fake: FakeSigstore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-openssl-'));
    fake = await startFakeSigstore();
    await writeFile(join(dir, 'artifact.txt'), 'interop artifact\n');
    expect((await runCli(['keys', 'generate', '--lane', 'codex', '--out', dir])).code).toBe(0);
  });
  afterAll(() => fake.close());

  it('message signature: openssl dgst -verify over the artifact', async () => {
    const bundle = join(dir, 'msg.json');
    expect((await runCli(['sign', join(dir, 'artifact.txt'), '--key', join(dir, 'codex.key'), '--bundle', bundle])).code).toBe(0);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    await writeFile(join(dir, 'msg.sig'), Buffer.from(b.messageSignature.signature, 'base64'));
    expect(opensslVerify(join(dir, 'codex.pub'), join(dir, 'msg.sig'), join(dir, 'artifact.txt'))).toBe('Verified OK');
    // and refuses a different file, so the check above can fail
    await writeFile(join(dir, 'other.txt'), 'other\n');
    expect(() => opensslVerify(join(dir, 'codex.pub'), join(dir, 'msg.sig'), join(dir, 'other.txt'))).toThrow();
  });

  it('DSSE: openssl dgst -verify over the PAE of the envelope', async () => {
    const bundle = join(dir, 'att.json');
    const r = await runCli(['attest', join(dir, 'artifact.txt'), '--key', join(dir, 'codex.key'), '--bundle', bundle, '--json']);
    expect(r.code).toBe(0);
    const env = JSON.parse(await readFile(bundle, 'utf8')).dsseEnvelope;
    await writeFile(join(dir, 'pae.bin'), pae(env.payloadType, Buffer.from(env.payload, 'base64')));
    await writeFile(join(dir, 'dsse.sig'), Buffer.from(env.signatures[0].sig, 'base64'));
    expect(opensslVerify(join(dir, 'codex.pub'), join(dir, 'dsse.sig'), join(dir, 'pae.bin'))).toBe('Verified OK');
  });

  it('keyless: openssl verifies the signature with the key from the Fulcio certificate', async () => {
    const bundle = join(dir, 'keyless.json');
    const r = await runCli(['sign', join(dir, 'artifact.txt'), '--bundle', bundle, '--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    await writeFile(join(dir, 'leaf.der'), Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64'));
    execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(dir, 'leaf.der'), '-pubkey', '-noout', '-out', join(dir, 'leaf.pub')]);
    await writeFile(join(dir, 'keyless.sig'), Buffer.from(b.messageSignature.signature, 'base64'));
    expect(opensslVerify(join(dir, 'leaf.pub'), join(dir, 'keyless.sig'), join(dir, 'artifact.txt'))).toBe('Verified OK');
  });

  it('an encrypted lane key is standard PKCS#8 that openssl can open with the passphrase', async () => {
    const r = await runCli(['keys', 'generate', '--lane', 'enc', '--out', dir, '--passphrase-env', 'DL_PASS', '--json'], { env: { DL_PASS: 's3cret' } });
    expect(r.code).toBe(0);
    const keyPath = parseJson<{ keyPath: string }>(r).keyPath;
    const text = execFileSync('openssl', ['pkey', '-in', keyPath, '-passin', 'pass:s3cret', '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/prime256v1|P-256/);
    expect(() => execFileSync('openssl', ['pkey', '-in', keyPath, '-passin', 'pass:wrong', '-noout'], { stdio: 'ignore' })).toThrow();
  });
});
