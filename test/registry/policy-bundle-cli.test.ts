import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { gateCommand } from '../support/services.js';
import { startRegistry, type RunningRegistry } from './registry-harness.js';

const haveRegistry = gateCommand('docker-registry', 'docker-registry');

describe.skipIf(!haveRegistry)('duallane policy bundle | verify-bundle | push | pull', () => {
  let reg: RunningRegistry;
  let dir: string;
  const key = (name: string) => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
      priv: join(dir, `${name}.key`),
      pub: join(dir, `${name}.pub`),
      write: async function () {
        await writeFile(this.priv, k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
        await writeFile(this.pub, k.publicKey.export({ type: 'spki', format: 'pem' }) as string);
        return this;
      },
    };
  };
  let good: { priv: string; pub: string };
  let other: { priv: string; pub: string };

  beforeAll(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'duallane-bundle-cli-'));
    good = await key('good').write();
    other = await key('other').write();
    for (const [p, c] of Object.entries({ 'p/require-image-digest.yaml': 'kind: ClusterPolicy\n', 'p/tests/kyverno-test.yaml': 'kind: Test\n' })) {
      await mkdir(join(dir, p, '..'), { recursive: true });
      await writeFile(join(dir, p), c);
    }
  }, 30_000);
  afterAll(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('bundles deterministically, signs, verifies, pushes and pulls with verification', async () => {
    const b1 = parseJson<{ digest: string }>(await runCli(['policy', 'bundle', join(dir, 'p'), '--out', join(dir, 'b1.tgz'), '--json']));
    const b2 = parseJson<{ digest: string }>(await runCli(['policy', 'bundle', join(dir, 'p'), '--out', join(dir, 'b2.tgz'), '--json']));
    expect(b1.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b2.digest).toBe(b1.digest);

    expect((await runCli(['sign', join(dir, 'b1.tgz'), '--key', good.priv, '--bundle', join(dir, 'b1.sigstore.json')])).code).toBe(0);
    const v = await runCli(['policy', 'verify-bundle', join(dir, 'b1.tgz'), '--bundle', join(dir, 'b1.sigstore.json'), '--key', good.pub, '--json']);
    expect(v.code).toBe(0);
    expect(parseJson<{ digest: string; files: string[] }>(v)).toMatchObject({ digest: b1.digest, files: ['require-image-digest.yaml', 'tests/kyverno-test.yaml'] });
    const wrongKey = await runCli(['policy', 'verify-bundle', join(dir, 'b1.tgz'), '--bundle', join(dir, 'b1.sigstore.json'), '--key', other.pub]);
    expect(wrongKey.code).toBe(1);
    await writeFile(join(dir, 'tampered.tgz'), Buffer.concat([await readFile(join(dir, 'b1.tgz')), Buffer.from([0])]));
    const tampered = await runCli(['policy', 'verify-bundle', join(dir, 'tampered.tgz'), '--bundle', join(dir, 'b1.sigstore.json'), '--key', good.pub, '--json']);
    expect(tampered.code).toBe(1);
    expect(parseJson<{ error: { code: string } }>(tampered).error.code).toBe('SUBJECT_MISMATCH');

    const ref = `${reg.host}/policies/kyverno:v1`;
    const push = await runCli(['policy', 'push', join(dir, 'b1.tgz'), ref, '--key', good.priv, '--insecure-registry', reg.host, '--json']);
    expect(push.code, push.stderr).toBe(0);
    const pushed = parseJson<{ digest: string; signature: { sigTag: string } }>(push);
    expect(pushed.signature.sigTag).toBe(pushed.digest.replace(':', '-') + '.sig');

    const pull = await runCli(['policy', 'pull', ref, '--out', join(dir, 'pulled.tgz'), '--key', good.pub, '--insecure-registry', reg.host, '--json']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(parseJson(pull)).toMatchObject({ verified: true, digest: pushed.digest });
    expect((await readFile(join(dir, 'pulled.tgz'))).equals(await readFile(join(dir, 'b1.tgz')))).toBe(true);

    const pullWrong = await runCli(['policy', 'pull', ref, '--out', join(dir, 'never.tgz'), '--key', other.pub, '--insecure-registry', reg.host]);
    expect(pullWrong.code).toBe(1);
    await expect(readFile(join(dir, 'never.tgz'))).rejects.toThrow();

    // Signatures belong to digests: the same bytes pushed again would carry the signature along, so
    // the unsigned artifact differs (a revision annotation changes its manifest digest).
    const unsignedRef = `${reg.host}/policies/kyverno:unsigned`;
    expect((await runCli(['policy', 'push', join(dir, 'b1.tgz'), unsignedRef, '--unsigned', '--revision', 'r2', '--insecure-registry', reg.host])).code).toBe(0);
    const pullUnsigned = await runCli(['policy', 'pull', unsignedRef, '--out', join(dir, 'never.tgz'), '--key', good.pub, '--insecure-registry', reg.host, '--json']);
    expect(pullUnsigned.code).toBe(1);
    expect(parseJson<{ error: { code: string } }>(pullUnsigned).error.code).toBe('UNTRUSTED_SIGNER');
  });

  it('reports registry trouble as exit 3 and bad references as exit 2', async () => {
    const down = await runCli(['policy', 'pull', '127.0.0.1:1/p/k:v1', '--out', join(dir, 'x.tgz'), '--insecure-registry', '127.0.0.1:1', '--registry-timeout', '1000']);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('UNREACHABLE');
    const bad = await runCli(['policy', 'pull', 'Not A Ref', '--out', join(dir, 'x.tgz')]);
    expect(bad.code).toBe(2);
  });
});
