import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, parseJson, runCli } from '../support/cli.js';
import { gateCommand } from '../support/services.js';
import { FAKE_IDENTITY, FAKE_ISSUER, startFakeSigstore, type FakeSigstore } from '../support/fake-sigstore.js';

describe('duallane keys / digest / sign / attest / verify through the CLI', () => {
  let dir: string;
  let fake: FakeSigstore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-cli-'));
    fake = await startFakeSigstore();
    await writeFile(join(dir, 'a.txt'), 'hello\n');
    await writeFile(join(dir, 'root.json'), JSON.stringify(fake.trustedRoot));
  });
  afterAll(() => fake.close());

  it('keys generate: default dir, 0600 key, SPKI public key, never overwrites', async () => {
    const r = await runCli(['keys', 'generate', '--lane', 'codex', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const out = parseJson<{ keyPath: string; pubPath: string }>(r);
    expect(out.keyPath).toBe('.duallane/keys/codex.key');
    expect((await stat(join(dir, out.keyPath))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, out.pubPath), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const before = await readFile(join(dir, out.keyPath), 'utf8');
    const again = await runCli(['keys', 'generate', '--lane', 'codex'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/KEY_EXISTS/);
    expect(await readFile(join(dir, out.keyPath), 'utf8')).toBe(before);
  });

  it('keys generate: bad lane name and unset passphrase variable are usage errors', async () => {
    expect((await runCli(['keys', 'generate', '--lane', '../evil'], { cwd: dir })).code).toBe(2);
    const r = await runCli(['keys', 'generate', '--lane', 'x', '--passphrase-env', 'DL_UNSET_VAR'], { cwd: dir, env: { DL_UNSET_VAR: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/at .*\.js/);
  });

  it('digest matches sha256sum and streams a file larger than one read buffer', async () => {
    const big = join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(9 * 1024 * 1024 + 7, 0x5a));
    const r = await runCli(['digest', big]);
    const want = execFileSync('sha256sum', [big], { encoding: 'utf8' }).split(' ')[0];
    expect(r.stdout.trim()).toBe(`sha256:${want}`);
    expect(r.stderr).toBe('');
    const missing = await runCli(['digest', join(dir, 'nope')]);
    expect([missing.code, missing.stderr.trim()]).toEqual([2, expect.stringMatching(/^duallane: INPUT_UNREADABLE: /)]);
  });

  it('digest draws a progress bar on a TTY (script(1) gives it one) and none in CI or --json', async () => {
    if (!gateCommand('script', 'bsdutils')) return;
    const big = join(dir, 'tty.bin');
    await writeFile(big, Buffer.alloc(80 * 1024 * 1024, 1));
    const cmd = `${process.execPath} ${BIN} digest ${big}`;
    const tty = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, CI: '' } });
    expect(tty).toMatch(/hashing .*100% 80\/80 MiB/);
    const ci = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(ci).not.toMatch(/hashing/);
  });

  it('sign with an encrypted key needs the passphrase variable; the passphrase never appears in output', async () => {
    await runCli(['keys', 'generate', '--lane', 'enc', '--out', dir, '--passphrase-env', 'P'], { env: { P: 'hunter2-passphrase' } });
    const bad = await runCli(['sign', join(dir, 'a.txt'), '--key', join(dir, 'enc.key'), '--bundle', join(dir, 'x.json'), '--passphrase-env', 'P'], { env: { P: 'wrong-passphrase' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).not.toMatch(/wrong-passphrase|hunter2/);
    const ok = await runCli(['sign', join(dir, 'a.txt'), '--key', join(dir, 'enc.key'), '--bundle', join(dir, 'x.json'), '--passphrase-env', 'P'], { env: { P: 'hunter2-passphrase' } });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await runCli(['verify', join(dir, 'a.txt'), '--bundle', join(dir, 'x.json'), '--key', join(dir, 'enc.pub')])).code).toBe(0);
  });

  it('attest --predicate-type slsa generates SLSA v1 provenance from git', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'dl-git-'));
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', 'https://token:secret@github.com/acme/widget.git']);
    await writeFile(join(repo, 'f.txt'), 'x\n');
    execFileSync('git', ['-C', repo, 'add', '.']);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'c']);
    const commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    await runCli(['keys', 'generate', '--lane', 'codex', '--out', repo]);
    const r = await runCli(['attest', 'f.txt', '--key', join(repo, 'codex.key'), '--bundle', 'f.att.json'], { cwd: repo, env: { GITHUB_ACTIONS: '' } });
    expect(r.code, r.stderr).toBe(0);
    const b = JSON.parse(await readFile(join(repo, 'f.att.json'), 'utf8'));
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
    expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(st.predicate.buildDefinition.externalParameters.source).toEqual({ uri: 'git+https://github.com/acme/widget@refs/heads/main', ref: 'refs/heads/main', commit });
    expect(st.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: 'git+https://github.com/acme/widget@refs/heads/main', digest: { gitCommit: commit } }]);
    expect(JSON.stringify(st)).not.toMatch(/secret/);
    expect(st.predicate.runDetails.metadata.startedOn <= st.predicate.runDetails.metadata.finishedOn).toBe(true);
    const v = await runCli(['verify', 'f.txt', '--bundle', 'f.att.json', '--key', join(repo, 'codex.pub'), '--source-uri', 'github.com/acme/widget', '--source-ref', 'refs/heads/main'], { cwd: repo });
    expect(v.code, v.stderr).toBe(0);
  });

  it('attest on GitHub Actions takes source and builder from the workflow variables', async () => {
    await runCli(['keys', 'generate', '--lane', 'gha', '--out', dir]);
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/widget',
      GITHUB_REF: 'refs/tags/v1.2.3',
      GITHUB_SHA: 'b'.repeat(40),
      GITHUB_WORKFLOW_REF: 'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3',
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '1',
    };
    expect((await runCli(['attest', join(dir, 'a.txt'), '--key', join(dir, 'gha.key'), '--bundle', join(dir, 'gha.json')], { env })).code).toBe(0);
    const v = await runCli(['verify', join(dir, 'a.txt'), '--bundle', join(dir, 'gha.json'), '--key', join(dir, 'gha.pub'), '--builder-id', 'https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/*', '--source-uri', 'github.com/acme/widget', '--source-ref', 'refs/tags/v1.2.3', '--json']);
    expect(v.code, v.stderr).toBe(0);
  });

  it('keyless sign and attest through the CLI, verified offline with --trusted-root', async () => {
    const common = ['--identity-token', fake.token(), '--fulcio-url', fake.url, '--rekor-url', fake.url, '--tsa-url', fake.url];
    expect((await runCli(['sign', join(dir, 'a.txt'), '--bundle', join(dir, 'kl.json'), ...common])).code).toBe(0);
    expect((await runCli(['attest', join(dir, 'a.txt'), '--bundle', join(dir, 'kl-att.json'), ...common])).code).toBe(0);
    for (const b of ['kl.json', 'kl-att.json']) {
      const r = await runCli(['verify', join(dir, 'a.txt'), '--bundle', join(dir, b), '--trusted-root', join(dir, 'root.json'), '--certificate-identity', FAKE_IDENTITY, '--certificate-oidc-issuer', FAKE_ISSUER, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(parseJson<{ signer: { identity: string } }>(r).signer.identity).toBe(FAKE_IDENTITY);
    }
  });

  it('keyless verification without --trusted-root says plainly that the public-good root cannot be reached (exit 3)', async () => {
    const r = await runCli(['verify', join(dir, 'a.txt'), '--bundle', join(dir, 'kl.json'), '--certificate-identity', FAKE_IDENTITY, '--certificate-oidc-issuer', FAKE_ISSUER], {
      env: { HOME: dir, TUF_CACHE_DIR: dir, HTTPS_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TRUST_ROOT_UNAVAILABLE: .*--trusted-root/);
  });

  it('keyless signing with an unreachable Fulcio is an environment error (exit 3)', async () => {
    const r = await runCli(['sign', join(dir, 'a.txt'), '--bundle', join(dir, 'z.json'), '--identity-token', fake.token(), '--fulcio-url', 'http://127.0.0.1:9', '--rekor-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/eyJ/);
  });

  it('usage errors exit 2 with one line: unknown flag, missing bundle, both key and identity', async () => {
    expect((await runCli(['verify', 'a.txt', '--bogus'])).code).toBe(2);
    expect((await runCli(['verify', join(dir, 'a.txt'), '--key', join(dir, 'enc.pub')])).code).toBe(2);
    const r = await runCli(['verify', join(dir, 'a.txt'), '--bundle', join(dir, 'x.json'), '--key', join(dir, 'enc.pub'), '--certificate-identity', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await runCli(['attest', join(dir, 'a.txt'), '--bundle', join(dir, 'q.json'), '--key', join(dir, 'enc.key'), '--predicate-type', 'not a uri'])).code).toBe(2);
  });

  it('every command answers --help with exit 0', async () => {
    for (const cmd of [['keys', 'generate'], ['digest'], ['sign'], ['attest'], ['verify']]) {
      const r = await runCli([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/--json/);
    }
  });

  it('verify --batch reports each line and exits 1 when any is rejected', async () => {
    await runCli(['keys', 'generate', '--lane', 'batch', '--out', dir]);
    await runCli(['sign', join(dir, 'a.txt'), '--key', join(dir, 'batch.key'), '--bundle', join(dir, 'b1.json')]);
    await writeFile(join(dir, 'other.txt'), 'other\n');
    await writeFile(join(dir, 'list.txt'), `${join(dir, 'a.txt')} ${join(dir, 'b1.json')}\n${join(dir, 'other.txt')} ${join(dir, 'b1.json')}\n`);
    const r = await runCli(['verify', '--batch', join(dir, 'list.txt'), '--key', join(dir, 'batch.pub'), '--json']);
    expect(r.code).toBe(1);
    const out = parseJson<{ verified: number; rejected: number; results: { code?: string }[] }>(r);
    expect([out.verified, out.rejected, out.results[1]?.code]).toEqual([1, 1, 'SUBJECT_MISMATCH']);
  });
});
