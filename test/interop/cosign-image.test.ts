import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { enforcementPolicies, TRUSTED_BUILDER } from '../admission/fixtures.js';
import { pushTestImage } from '../registry/images.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';
import { parseJson, runCli } from '../support/cli.js';
import { FAKE_IDENTITY, FAKE_ISSUER, startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';
import { gatePeer, runPeer } from '../support/peers.js';
import { gateCommand } from '../support/services.js';
import { startAdmissionServe, type AdmissionProcess } from './admission-process.js';

/**
 * Interop with cosign v3 on images in a real registry (Debian's docker-registry, distribution 2.8:
 * no referrers API, so bundles sit behind the `sha256-<hex>` referrers tag):
 *   - what `duallane sign|attest --image` writes, `cosign verify` and `cosign verify-attestation
 *     --type slsaprovenance1` accept, in cosign v3's default bundle format (Sigstore bundle referrers)
 *     and in the legacy one (`--new-bundle-format=false`: `.sig`/`.att` tags), and refuse with
 *     another key;
 *   - what `cosign sign|attest --key` writes (either format), `duallane admission serve` admits;
 *     unsigned images and images signed by another key it denies.
 * Key signatures carry no transparency-log entry, so cosign verifies them with --insecure-ignore-tlog
 * (cosign would otherwise fetch Sigstore's TUF root, and no such entry exists).
 */
const ready = gateCommand('docker-registry', 'docker-registry') && gateCommand('openssl', 'openssl') && gatePeer('cosign');

describe.skipIf(!ready)('cosign v3 and duallane on images in docker-registry', () => {
  let reg: RunningRegistry;
  let client: RegistryClient;
  let dir: string;
  const env: NodeJS.ProcessEnv = {};
  const http = () => ['--allow-http-registry'];
  const cosign = (args: string[]) => runPeer('cosign', args, { env, cwd: dir });
  const verify = (pub: string, image: string, extra: string[] = []) => cosign(['verify', '--key', pub, ...http(), '--insecure-ignore-tlog', ...extra, image]);
  const verifyAtt = (pub: string, image: string, extra: string[] = []) =>
    cosign(['verify-attestation', '--key', pub, '--type', 'slsaprovenance1', ...http(), '--insecure-ignore-tlog', ...extra, image]);
  const provenance = (builder: string) => ({
    buildDefinition: { buildType: 'https://duallane.dev/buildtypes/local/v1', externalParameters: { source: 'git+https://example.test/repo' } },
    runDetails: { builder: { id: builder } },
  });
  let n = 0;
  const image = async (name: string) => {
    const repo = `interop/${name}`;
    const p = await pushTestImage(client, reg.host, repo, 'v1', `${name}-${++n}`);
    return { tag: `${reg.host}/${repo}:v1`, pinned: `${reg.host}/${repo}@${p.digest}`, digest: p.digest };
  };

  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ insecureRegistries: [reg.host], timeoutMs: 5000 });
    dir = await mkdtemp(join(tmpdir(), 'dl-cosign-image-'));
    // cosign's key password, and its TUF cache kept out of $HOME.
    Object.assign(env, { COSIGN_PASSWORD: '', TUF_ROOT: join(dir, 'tuf'), HOME: dir });
    expect((await cosign(['generate-key-pair'])).code).toBe(0);
    expect((await runCli(['keys', 'generate', '--lane', 'ours', '--out', dir])).code).toBe(0);
    expect((await runCli(['keys', 'generate', '--lane', 'other', '--out', dir])).code).toBe(0);
    // A signing config with no services: `cosign sign|attest --key` without a transparency log.
    await writeFile(join(dir, 'no-services.json'), JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json' }));
    await writeFile(join(dir, 'trusted.json'), JSON.stringify(provenance(TRUSTED_BUILDER)));
  }, 180_000);
  afterAll(async () => {
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dl = (args: string[]) => runCli([...args, '--insecure-registry', reg.host, '--json']);

  describe('cosign verifies what duallane attaches', () => {
    let img: Awaited<ReturnType<typeof image>>;
    beforeAll(async () => {
      img = await image('by-duallane');
      const s = await dl(['sign', '--image', img.tag, '--key', join(dir, 'ours.key')]);
      expect(s.code, s.stderr).toBe(0);
      expect(parseJson(s)).toMatchObject({ ok: true, digest: img.digest, image: img.pinned });
      const a = await dl(['attest', '--image', img.pinned, '--key', join(dir, 'ours.key'), '--predicate', join(dir, 'trusted.json')]);
      expect(a.code, a.stderr).toBe(0);
    }, 180_000);

    it('cosign verify --key: default (bundle referrer) and --new-bundle-format=false (.sig tag)', async () => {
      for (const extra of [[], ['--new-bundle-format=false']]) {
        const r = await verify(join(dir, 'ours.pub'), img.pinned, extra);
        expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(0);
        const [claims] = JSON.parse(r.stdout) as { critical: { image: { 'docker-manifest-digest': string }; type: string } }[];
        expect(claims!.critical.image['docker-manifest-digest']).toBe(img.digest);
        // The two forms are told apart by the claim type cosign reports.
        expect(claims!.critical.type).toBe(extra.length === 0 ? 'https://sigstore.dev/cosign/sign/v1' : 'cosign container image signature');
      }
    });

    it('cosign verify-attestation --type slsaprovenance1 --key: both formats, predicate intact', async () => {
      for (const extra of [[], ['--new-bundle-format=false']]) {
        const r = await verifyAtt(join(dir, 'ours.pub'), img.pinned, extra);
        expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(0);
        const env0 = JSON.parse(r.stdout.trim().split('\n')[0]!) as { payload: string };
        const statement = JSON.parse(Buffer.from(env0.payload, 'base64').toString('utf8'));
        expect(statement.subject[0].digest.sha256).toBe(img.digest.slice('sha256:'.length));
        expect(statement.predicate.runDetails.builder.id).toBe(TRUSTED_BUILDER);
      }
    });

    it('cosign refuses them with another key, in both formats', async () => {
      for (const extra of [[], ['--new-bundle-format=false']]) {
        expect((await verify(join(dir, 'other.pub'), img.pinned, extra)).code, extra.join(' ')).not.toBe(0);
        expect((await verifyAtt(join(dir, 'cosign.pub'), img.pinned, extra)).code, extra.join(' ')).not.toBe(0);
      }
    });

    it('cosign refuses an unsigned image', async () => {
      const bare = await image('bare');
      expect((await verify(join(dir, 'ours.pub'), bare.pinned)).code).not.toBe(0);
      expect((await verifyAtt(join(dir, 'ours.pub'), bare.pinned)).code).not.toBe(0);
    });
  });

  describe('duallane admission serve admits what cosign signs', () => {
    let webhook: AdmissionProcess;
    const imgs: Record<string, string> = {};
    const cosignSign = (key: string, pinned: string, legacy: boolean) =>
      cosign([
        'sign',
        '--key',
        key,
        ...(legacy ? ['--use-signing-config=false', '--tlog-upload=false', '--new-bundle-format=false'] : ['--signing-config', join(dir, 'no-services.json')]),
        ...http(),
        '-y',
        pinned,
      ]);
    const cosignAttest = (key: string, pinned: string, legacy: boolean) =>
      cosign([
        'attest',
        '--key',
        key,
        '--type',
        'slsaprovenance1',
        '--predicate',
        join(dir, 'trusted.json'),
        ...(legacy ? ['--use-signing-config=false', '--tlog-upload=false', '--new-bundle-format=false'] : ['--signing-config', join(dir, 'no-services.json')]),
        ...http(),
        '-y',
        pinned,
      ]);

    beforeAll(async () => {
      for (const legacy of [false, true]) {
        const name = legacy ? 'cosign-legacy' : 'cosign-bundle';
        const i = await image(name);
        for (const r of [await cosignSign(join(dir, 'cosign.key'), i.pinned, legacy), await cosignAttest(join(dir, 'cosign.key'), i.pinned, legacy)]) expect(r.code, r.stderr).toBe(0);
        imgs[name] = i.pinned;
      }
      imgs.unsigned = (await image('unsigned')).pinned;
      // Signed and attested, but by a key the policy does not name.
      const other = await image('other-key');
      const gen = await runPeer('cosign', ['generate-key-pair', '--output-key-prefix', 'intruder'], { env, cwd: dir });
      expect(gen.code, gen.stderr).toBe(0);
      for (const r of [await cosignSign(join(dir, 'intruder.key'), other.pinned, false), await cosignAttest(join(dir, 'intruder.key'), other.pinned, false)]) expect(r.code, r.stderr).toBe(0);
      imgs.otherKey = other.pinned;
      // Signed by the right key, but only the signature: no provenance.
      const signedOnly = await image('signed-only');
      expect((await cosignSign(join(dir, 'cosign.key'), signedOnly.pinned, false)).code).toBe(0);
      imgs.signedOnly = signedOnly.pinned;
      const pub = await readFile(join(dir, 'cosign.pub'), 'utf8');
      webhook = await startAdmissionServe(join(dir, 'webhook'), enforcementPolicies(pub), reg.host);
    }, 180_000);
    afterAll(async () => {
      if (webhook) expect(await webhook.stop()).toBe(0);
    });

    it('allows images cosign signed and attested (SLSA v1), in either format', async () => {
      for (const name of ['cosign-bundle', 'cosign-legacy']) {
        const r = await webhook.review([imgs[name]!]);
        expect(r, name).toMatchObject({ allowed: true });
      }
    });

    it('denies an unsigned image', async () => {
      const r = await webhook.review([imgs.unsigned!]);
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain('policy require-signed-images rule verify-signature');
    });

    it('denies an image signed and attested by another key', async () => {
      const r = await webhook.review([imgs.otherKey!]);
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain('require-signed-images');
      expect(r.status?.message).toContain('require-slsa-provenance');
    });

    it('denies a signed image without provenance', async () => {
      const r = await webhook.review([imgs.signedOnly!]);
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain('policy require-slsa-provenance rule check-provenance');
      expect(r.status?.message).not.toContain('require-signed-images');
    });
  });

  describe('keyless: duallane signs with the loopback Fulcio and Rekor, cosign verifies with --trusted-root', () => {
    let fake: FakeSigstore;
    beforeAll(async () => {
      fake = await startFakeSigstore();
      await writeFile(join(dir, 'fake-root.json'), JSON.stringify(fake.trustedRoot));
    });
    afterAll(() => fake?.close());

    it('cosign verify --certificate-identity --certificate-oidc-issuer --trusted-root', async () => {
      const img = await image('keyless');
      const keyless = ['--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url];
      const s = await dl(['sign', '--image', img.pinned, ...keyless]);
      expect(s.code, s.stderr).toBe(0);
      const base = ['verify', '--trusted-root', join(dir, 'fake-root.json'), ...http(), '--certificate-oidc-issuer', FAKE_ISSUER];
      const ok = await cosign([...base, '--certificate-identity', FAKE_IDENTITY, img.pinned]);
      expect(ok.code, ok.stderr).toBe(0);
      const wrong = await cosign([...base, '--certificate-identity', 'https://github.com/evil/x/.github/workflows/r.yml@refs/heads/main', img.pinned]);
      expect(wrong.code).not.toBe(0);
    });

    it('cosign verify-attestation --type slsaprovenance1 with the keyless identity', async () => {
      const img = await image('keyless-att');
      const keyless = ['--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url];
      const a = await dl(['attest', '--image', img.pinned, '--predicate', join(dir, 'trusted.json'), ...keyless]);
      expect(a.code, a.stderr).toBe(0);
      const base = ['verify-attestation', '--type', 'slsaprovenance1', '--trusted-root', join(dir, 'fake-root.json'), ...http(), '--certificate-oidc-issuer', FAKE_ISSUER];
      const ok = await cosign([...base, '--certificate-identity', FAKE_IDENTITY, img.pinned]);
      expect(ok.code, ok.stderr).toBe(0);
      expect((await cosign([...base, '--certificate-identity', `${FAKE_IDENTITY}x`, img.pinned])).code).not.toBe(0);
    });
  });
});
