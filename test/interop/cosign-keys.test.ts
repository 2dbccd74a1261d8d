import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { gatePeer, runPeer } from '../support/peers.js';

/**
 * A cosign user brings their key: `cosign generate-key-pair` writes cosign.key (scrypt +
 * nacl/secretbox, password from COSIGN_PASSWORD); `duallane sign|attest --key cosign.key` (or
 * `--key env://VAR`) signs with it, and cosign verifies the result with cosign.pub.
 */
const hasCosign = gatePeer('cosign');
const PASSWORD = 'bring-your-own-key';

describe.skipIf(!hasCosign)('cosign.key -> duallane sign -> cosign verify-blob', { timeout: 240_000 }, () => {
  let dir: string;
  let artifact: string;
  let pem: string;
  let n = 0;
  const p = (name: string) => join(dir, name);
  const fresh = (name: string) => p(`${n++}-${name}`);
  const cosign = (args: string[]) => runPeer('cosign', args, { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });

  /** Runs duallane with only the environment given (COSIGN_PASSWORD is not inherited from the runner). */
  async function dl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; error: string; stderr: string; stdout: string }> {
    const r = await runCli([...args, '--json'], { cwd: dir, env: { COSIGN_PASSWORD: undefined, COSIGN_KEY_PEM: undefined, ...env } });
    const out = parseJson<{ error?: { code: string } }>(r);
    return { code: r.code, error: out.error?.code ?? 'OK', stderr: r.stderr, stdout: r.stdout };
  }

  async function verifiedByBoth(bundle: string): Promise<void> {
    const ok = await cosign(['verify-blob', '--key', p('cosign.pub'), '--bundle', bundle, '--insecure-ignore-tlog', artifact]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await dl(['verify', artifact, '--bundle', bundle, '--key', p('cosign.pub')])).code).toBe(0);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-cosign-keys-'));
    artifact = p('artifact.txt');
    await writeFile(artifact, 'signed with a key cosign generated\n');
    const gen = await cosign(['generate-key-pair']);
    expect(gen.code, gen.stderr).toBe(0);
    pem = await readFile(p('cosign.key'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
  });

  it('sign --key cosign.key with COSIGN_PASSWORD: cosign verify-blob and duallane verify accept it', async () => {
    const bundle = fresh('bundle.json');
    const r = await dl(['sign', artifact, '--key', p('cosign.key'), '--bundle', bundle], { COSIGN_PASSWORD: PASSWORD });
    expect(r.code, r.stderr).toBe(0);
    await verifiedByBoth(bundle);
  });

  it('sign --key env://COSIGN_KEY_PEM reads the key from the environment', async () => {
    const bundle = fresh('bundle.json');
    const r = await dl(['sign', artifact, '--key', 'env://COSIGN_KEY_PEM', '--bundle', bundle], { COSIGN_PASSWORD: PASSWORD, COSIGN_KEY_PEM: pem });
    expect(r.code, r.stderr).toBe(0);
    await verifiedByBoth(bundle);
  });

  it('--passphrase-env wins over COSIGN_PASSWORD', async () => {
    const bundle = fresh('bundle.json');
    const env = { COSIGN_PASSWORD: 'wrong', MY_PW: PASSWORD };
    expect((await dl(['sign', artifact, '--key', p('cosign.key'), '--passphrase-env', 'MY_PW', '--bundle', bundle], env)).code).toBe(0);
    await verifiedByBoth(bundle);
  });

  it('attest --key cosign.key: cosign verify-blob-attestation accepts it', async () => {
    const bundle = fresh('attestation.json');
    const r = await dl(['attest', artifact, '--key', p('cosign.key'), '--bundle', bundle], { COSIGN_PASSWORD: PASSWORD });
    expect(r.code, r.stderr).toBe(0);
    const ok = await cosign(['verify-blob-attestation', '--key', p('cosign.pub'), '--bundle', bundle, '--type', 'slsaprovenance1', '--insecure-ignore-tlog', artifact]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a wrong or missing password: exit 2, KEY_INVALID, one line, nothing written, no secret echoed', async () => {
    for (const env of [{ COSIGN_PASSWORD: 'not-it' }, {}, { COSIGN_PASSWORD: 'not-it', COSIGN_KEY_PEM: pem }]) {
      const bundle = fresh('bundle.json');
      const key = 'COSIGN_KEY_PEM' in env ? 'env://COSIGN_KEY_PEM' : p('cosign.key');
      const r = await dl(['sign', artifact, '--key', key, '--bundle', bundle], env);
      expect([r.code, r.error]).toEqual([2, 'KEY_INVALID']);
      expect(r.stderr + r.stdout).not.toMatch(/not-it|\n\s+at |eyJrZGYi/);
      await expect(access(bundle)).rejects.toThrow();
    }
  });

  it('a crafted key with scrypt N=2^30 is refused with KEY_INVALID (not run)', async () => {
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const doc = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as { kdf: { params: { N: number } } };
    doc.kdf.params.N = 2 ** 30;
    const crafted = fresh('crafted.key');
    await writeFile(crafted, `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(doc)).toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`);
    const r = await dl(['sign', artifact, '--key', crafted, '--bundle', fresh('bundle.json')], { COSIGN_PASSWORD: PASSWORD });
    expect([r.code, r.error]).toEqual([2, 'KEY_INVALID']);
  });

  it('a truncated or garbled cosign.key is KEY_INVALID', async () => {
    for (const content of [pem.slice(0, Math.floor(pem.length / 2)), pem.replace(/\n[A-Za-z0-9+/]{20}/, '\n####################')]) {
      const bad = fresh('bad.key');
      await writeFile(bad, content);
      const r = await dl(['sign', artifact, '--key', bad, '--bundle', fresh('bundle.json')], { COSIGN_PASSWORD: PASSWORD });
      expect([r.code, r.error]).toEqual([2, 'KEY_INVALID']);
    }
  });
});
