import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { FAKE_ISSUER, startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';
import { gatePeer, runPeer } from '../support/peers.js';
import { gateCommand } from '../support/services.js';
import { startRegistry, type RunningRegistry } from '../registry/registry-harness.js';

/**
 * Interop of the signed policy bundle (`duallane policy push`) with the tools a GitOps pipeline uses
 * on it, against a real registry (Debian's docker-registry):
 *   - `flux pull artifact` extracts exactly the bundle's files (Flux's OCIRepository does the same);
 *   - its signature passes `cosign verify` the way Flux's `verify: {provider: cosign}` checks it:
 *     a static key with the transparency log ignored (source-controller sets IgnoreTlog for keys),
 *     in cosign v3's bundle format and in the legacy `.sig` one that older Flux reads; keyless with
 *     identity and issuer regexps (matchOIDCIdentity), here against the loopback Sigstore;
 *   - `oras manifest fetch`/`oras pull` and `crane manifest`/`crane config`/`crane export` read it.
 */
const POLICIES = fileURLToPath(new URL('../../policies/kyverno', import.meta.url));
const haveRegistry = gateCommand('docker-registry', 'docker-registry');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  await walk(dir);
  return out.sort();
}

describe.skipIf(!haveRegistry)('the policy bundle in a registry, read by flux, cosign, oras and crane', () => {
  let reg: RunningRegistry;
  let dir: string;
  let files: string[];
  let bundleBytes: Buffer;
  let signed: { ref: string; pinned: string; digest: string };
  let unsignedPinned: string;
  const env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'dl-flux-bundle-'));
    Object.assign(env, { HOME: dir, TUF_ROOT: join(dir, 'tuf'), DOCKER_CONFIG: join(dir, 'docker') });
    for (const lane of ['ours', 'other']) expect((await runCli(['keys', 'generate', '--lane', lane, '--out', dir])).code).toBe(0);
    const b = await runCli(['policy', 'bundle', POLICIES, '--out', join(dir, 'bundle.tgz'), '--json']);
    expect(b.code, b.stderr).toBe(0);
    files = parseJson<{ files: { path: string }[] }>(b).files.map((f) => f.path).sort();
    bundleBytes = await readFile(join(dir, 'bundle.tgz'));
    // SOURCE_DATE_EPOCH gives the manifest the created annotation flux push artifact writes.
    const push = async (tag: string, extra: string[]) => {
      const r = await runCli(['policy', 'push', join(dir, 'bundle.tgz'), `${reg.host}/policies/kyverno:${tag}`, '--insecure-registry', reg.host, '--json', ...extra], {
        env: { SOURCE_DATE_EPOCH: '1764806400' },
      });
      expect(r.code, r.stderr).toBe(0);
      const digest = parseJson<{ digest: string }>(r).digest;
      return { ref: `${reg.host}/policies/kyverno:${tag}`, pinned: `${reg.host}/policies/kyverno@${digest}`, digest };
    };
    signed = await push('v1', ['--key', join(dir, 'ours.key'), '--source', 'https://example.test/policies.git', '--revision', 'main@sha1:0123456789abcdef0123456789abcdef01234567']);
    unsignedPinned = (await push('unsigned', ['--unsigned'])).pinned;
  }, 180_000);
  afterAll(async () => {
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a malformed SOURCE_DATE_EPOCH with exit 2 before pushing anything', async () => {
    const ref = `${reg.host}/policies/bad-epoch:v1`;
    const r = await runCli(['policy', 'push', join(dir, 'bundle.tgz'), ref, '--insecure-registry', reg.host, '--unsigned', '--json'], { env: { SOURCE_DATE_EPOCH: 'yesterday' } });
    expect(r.code).toBe(2);
    expect(parseJson<{ error: { code: string } }>(r).error.code).toBe('BAD_USAGE');
    const pull = await runCli(['policy', 'pull', ref, '--out', join(dir, 'none.tgz'), '--insecure-registry', reg.host, '--json']);
    expect(pull.code).toBe(1);
  });

  describe.skipIf(!gatePeer('flux') || !gatePeer('crane'))('flux', () => {
    it('flux pull artifact extracts exactly the bundle files', async () => {
      const out = join(dir, 'flux-out');
      await mkdir(out);
      const r = await runPeer('flux', ['pull', 'artifact', `oci://${signed.ref}`, '--output', out, '--insecure-registry'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(await listFiles(out)).toEqual(files);
      for (const f of files) expect(await readFile(join(out, f), 'utf8'), f).toBe(await readFile(join(POLICIES, f), 'utf8'));
    });

    it('has the shape flux push artifact gives the same directory (media types, annotation names)', async () => {
      const ref = `${reg.host}/policies/by-flux:v1`;
      const args = ['push', 'artifact', `oci://${ref}`, '--path', POLICIES, '--source', 'https://example.test/policies.git', '--revision', 'main@sha1:0123456789abcdef0123456789abcdef01234567'];
      const p = await runPeer('flux', [...args, '--insecure-registry'], { env });
      expect(p.code, p.stderr).toBe(0);
      const manifest = async (r: string) => JSON.parse((await runPeer('crane', ['manifest', '--insecure', r], { env })).stdout);
      const theirs = await manifest(ref);
      const ours = await manifest(signed.ref);
      expect(ours.mediaType).toBe(theirs.mediaType);
      expect(ours.config.mediaType).toBe(theirs.config.mediaType);
      expect(ours.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(theirs.layers.map((l: { mediaType: string }) => l.mediaType));
      for (const k of Object.keys(theirs.annotations)) expect(Object.keys(ours.annotations), k).toContain(k);
    });

    it.skipIf(!gatePeer('cosign'))('duallane policy pull takes what flux push artifact wrote and cosign signed, and only with its key', async () => {
      const ref = `${reg.host}/policies/flux-signed:v1`;
      const args = ['push', 'artifact', `oci://${ref}`, '--path', POLICIES, '--source', 'https://example.test/policies.git', '--revision', 'main@sha1:0123456789abcdef0123456789abcdef01234567'];
      expect((await runPeer('flux', [...args, '--insecure-registry'], { env })).code).toBe(0);
      const pull = (key: string) => runCli(['policy', 'pull', ref, '--key', key, '--out', join(dir, 'from-flux.tgz'), '--insecure-registry', reg.host, '--json']);
      // Unsigned: refused, nothing written.
      const unsigned = await pull(join(dir, 'ours.pub'));
      expect(unsigned.code).toBe(1);
      const cenv = { ...env, COSIGN_PASSWORD: '' };
      expect((await runPeer('cosign', ['generate-key-pair', '--output-key-prefix', 'flux-signer'], { env: cenv, cwd: dir })).code).toBe(0);
      await writeFile(join(dir, 'no-services.json'), JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json' }));
      const digest = (await runPeer('crane', ['digest', '--insecure', ref], { env })).stdout.trim();
      const sign = await runPeer('cosign', ['sign', '--key', join(dir, 'flux-signer.key'), '--signing-config', join(dir, 'no-services.json'), '--allow-http-registry', '-y', `${reg.host}/policies/flux-signed@${digest}`], { env: cenv });
      expect(sign.code, sign.stderr).toBe(0);
      expect((await pull(join(dir, 'ours.pub'))).code).toBe(1);
      const ok = await pull(join(dir, 'flux-signer.pub'));
      expect(ok.code, ok.stderr).toBe(0);
      expect(parseJson<{ verified: boolean; digest: string; files: string[] }>(ok)).toMatchObject({ verified: true, digest });
      expect([...parseJson<{ files: string[] }>(ok).files].sort()).toEqual(files);
    });
  });

  describe.skipIf(!gatePeer('cosign'))('cosign, as Flux verify: {provider: cosign} checks', () => {
    const cosign = (args: string[]) => runPeer('cosign', args, { env });
    const keyed = (pub: string, image: string, extra: string[] = []) =>
      cosign(['verify', '--key', pub, '--insecure-ignore-tlog', '--allow-http-registry', ...extra, image]);

    it('static key: the bundle referrer (cosign v3 default) and the .sig tag (--new-bundle-format=false)', async () => {
      for (const extra of [[], ['--new-bundle-format=false']]) {
        const r = await keyed(join(dir, 'ours.pub'), signed.pinned, extra);
        expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(0);
        const [claims] = JSON.parse(r.stdout) as { critical: { image: { 'docker-manifest-digest': string } } }[];
        expect(claims!.critical.image['docker-manifest-digest']).toBe(signed.digest);
      }
    });

    it('refuses another key and an unsigned push', async () => {
      for (const extra of [[], ['--new-bundle-format=false']]) {
        expect((await keyed(join(dir, 'other.pub'), signed.pinned, extra)).code, extra.join(' ')).not.toBe(0);
        expect((await keyed(join(dir, 'ours.pub'), unsignedPinned, extra)).code, extra.join(' ')).not.toBe(0);
      }
    });

    describe('keyless (matchOIDCIdentity: identity and issuer regexps) against the loopback Sigstore', () => {
      let fake: FakeSigstore;
      beforeAll(async () => {
        fake = await startFakeSigstore();
        await writeFile(join(dir, 'fake-root.json'), JSON.stringify(fake.trustedRoot));
      });
      afterAll(() => fake?.close());

      it('cosign verify --certificate-identity-regexp --certificate-oidc-issuer-regexp --trusted-root', async () => {
        const keyless = ['--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url];
        const r = await runCli(['policy', 'push', join(dir, 'bundle.tgz'), `${reg.host}/policies/kyverno:keyless`, '--insecure-registry', reg.host, '--json', ...keyless]);
        expect(r.code, r.stderr).toBe(0);
        const pinned = `${reg.host}/policies/kyverno@${parseJson<{ digest: string }>(r).digest}`;
        const base = ['verify', '--trusted-root', join(dir, 'fake-root.json'), '--allow-http-registry', '--certificate-oidc-issuer-regexp', `^${FAKE_ISSUER.replace(/[.]/g, '\\.')}$`];
        const ok = await cosign([...base, '--certificate-identity-regexp', '^https://github\\.com/acme/widget/\\.github/workflows/release\\.yml@refs/tags/v.*$', pinned]);
        expect(ok.code, ok.stderr).toBe(0);
        const other = await cosign([...base, '--certificate-identity-regexp', '^https://github\\.com/evil/.*$', pinned]);
        expect(other.code).not.toBe(0);
      });
    });
  });

  describe.skipIf(!gatePeer('oras'))('oras', () => {
    it('oras manifest fetch shows the Flux media types; oras pull writes the bundle byte for byte', async () => {
      const m = await runPeer('oras', ['manifest', 'fetch', '--plain-http', signed.ref], { env });
      expect(m.code, m.stderr).toBe(0);
      const manifest = JSON.parse(m.stdout);
      expect(manifest.config.mediaType).toBe('application/vnd.cncf.flux.config.v1+json');
      expect(manifest.layers).toHaveLength(1);
      expect(manifest.layers[0].mediaType).toBe('application/vnd.cncf.flux.content.v1.tar+gzip');
      expect(manifest.annotations).toMatchObject({
        'org.opencontainers.image.source': 'https://example.test/policies.git',
        'org.opencontainers.image.revision': 'main@sha1:0123456789abcdef0123456789abcdef01234567',
      });
      expect(manifest.annotations['org.opencontainers.image.created']).toBe('2025-12-04T00:00:00Z');
      const out = join(dir, 'oras-out');
      await mkdir(out);
      const p = await runPeer('oras', ['pull', '--plain-http', '-o', out, signed.pinned], { env });
      expect(p.code, p.stderr).toBe(0);
      expect(await readdir(out)).toEqual(['policy-bundle.tar.gz']);
      expect((await readFile(join(out, 'policy-bundle.tar.gz'))).equals(bundleBytes)).toBe(true);
    });
  });

  describe.skipIf(!gatePeer('crane'))('crane', () => {
    const crane = (args: string[]) => runPeer('crane', args, { env });
    it('crane manifest and crane config read it; crane export yields the bundle files', async () => {
      const m = await crane(['manifest', '--insecure', signed.ref]);
      expect(m.code, m.stderr).toBe(0);
      expect(JSON.parse(m.stdout).layers[0].mediaType).toBe('application/vnd.cncf.flux.content.v1.tar+gzip');
      const d = await crane(['digest', '--insecure', signed.ref]);
      expect(d.stdout.trim()).toBe(signed.digest);
      const c = await crane(['config', '--insecure', signed.ref]);
      expect(c.code, c.stderr).toBe(0);
      expect(JSON.parse(c.stdout)).toEqual({});
      const tar = join(dir, 'crane-export.tar');
      const e = await crane(['export', '--insecure', signed.ref, tar]);
      expect(e.code, e.stderr).toBe(0);
      const out = join(dir, 'crane-out');
      await mkdir(out);
      execFileSync('tar', ['-xf', tar, '-C', out]);
      expect(await listFiles(out)).toEqual(files);
    });
  });
});
