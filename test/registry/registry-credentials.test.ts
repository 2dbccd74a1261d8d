import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDockerCredentials, parseDockerConfig, RegistryClient, RegistryError, registryHostOf } from '../../src/registry/index.js';
import { gateCommand } from '../support/services.js';
import { pushTestImage } from './images.js';
import { freePort } from './registry-harness.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function errorOf(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RegistryError) return e;
    throw e;
  }
  throw new Error('expected a RegistryError');
}

describe('Docker config credentials', () => {
  it('reads auths from $DOCKER_CONFIG/config.json, else ~/.docker/config.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dcfg-'));
    await mkdir(join(dir, 'home', '.docker'), { recursive: true });
    await writeFile(join(dir, 'home', '.docker', 'config.json'), JSON.stringify({ auths: { 'home.example:5000': { auth: b64('h:p') } } }));
    await mkdir(join(dir, 'cfg'));
    await writeFile(
      join(dir, 'cfg', 'config.json'),
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hubuser:pa:ss') },
          'ghcr.io': { username: 'u', password: 'p' },
          'https://registry.example.com/v2/': { auth: b64('<token>:'), identitytoken: 'idtok' },
          'helper-only.example': {},
        },
        credsStore: 'desktop',
        credHelpers: { 'gcr.io': 'gcloud' },
      }),
    );
    expect(loadDockerCredentials({ env: {}, home: join(dir, 'home') })).toEqual({ 'home.example:5000': { username: 'h', password: 'p' } });
    expect(loadDockerCredentials({ env: { DOCKER_CONFIG: join(dir, 'cfg') }, home: join(dir, 'home') })).toEqual({
      'docker.io': { username: 'hubuser', password: 'pa:ss' },
      'ghcr.io': { username: 'u', password: 'p' },
      'registry.example.com': { username: '<token>', identityToken: 'idtok' },
    });
    expect(loadDockerCredentials({ env: { DOCKER_CONFIG: join(dir, 'none') }, home: join(dir, 'none') })).toEqual({});
    await rm(dir, { recursive: true, force: true });
  });

  it('normalises server names like docker, and never echoes the file in errors', () => {
    expect(registryHostOf('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryHostOf('http://LocalHost:5000/x')).toBe('localhost:5000');
    const bad = (() => {
      try {
        parseDockerConfig('{"auths": {"x": {"auth": "c2VjcmV0LXBhc3N3b3Jk"}}}', '/cfg.json');
      } catch (e) {
        return e as RegistryError;
      }
      throw new Error('no error');
    })();
    expect(bad.code).toBe('CONFIG_INVALID');
    expect(bad.message).not.toContain('secret-password');
    expect(() => parseDockerConfig('{"auths": "secret-password', '/cfg.json')).toThrow(/not valid JSON$/);
  });
});

/**
 * A registry that answers 401 with a Bearer challenge and a token service in the same process:
 * GET /token with Basic alice:pa:ss yields `tok-basic`; POST /token with the refresh token yields
 * `tok-oauth` (or 404 when oauth is switched off, so the client must fall back to GET).
 */
function fakeTokenRegistry() {
  const seen: { method: string; url: string; authorization?: string; body?: string }[] = [];
  const state = { oauth: true, tokenStatus: 200 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      const port = (server.address() as AddressInfo).port;
      const url = new URL(req.url!, `http://127.0.0.1:${port}`);
      if (url.pathname === '/token') {
        if (state.tokenStatus !== 200) return res.writeHead(state.tokenStatus).end('token service down for pa:ss');
        if (req.method === 'POST') {
          if (!state.oauth) return res.writeHead(404).end();
          const form = new URLSearchParams(body);
          const ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'idtok-123' && form.get('service') === 'fake' && form.get('scope') === 'repository:demo/app:pull';
          return ok ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'tok-oauth', expires_in: 300 })) : res.writeHead(401).end();
        }
        if (req.headers.authorization === `Basic ${b64('alice:pa:ss')}` && url.searchParams.get('service') === 'fake' && url.searchParams.get('scope') === 'repository:demo/app:pull') {
          return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok-basic', expires_in: 300 }));
        }
        return res.writeHead(401).end();
      }
      if (url.pathname === '/v2/demo/app/tags/list') {
        if (['Bearer tok-basic', 'Bearer tok-oauth', 'Bearer reg-token'].includes(req.headers.authorization ?? '')) {
          return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'demo/app', tags: ['v1'] }));
        }
        return res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="fake",scope="repository:demo/app:pull"` }).end();
      }
      res.writeHead(404).end();
    });
  });
  return { server, seen, state };
}

describe('registry token flow with Docker credentials (local fake)', () => {
  const fake = fakeTokenRegistry();
  let host = '';
  beforeAll(async () => {
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', () => r()));
    host = `127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => fake.server.close(r));
  });

  it('exchanges basic credentials for a bearer token at the realm (service and scope passed on)', async () => {
    const client = new RegistryClient({ insecureRegistries: [host], credentials: { [host]: { username: 'alice', password: 'pa:ss' } } });
    expect(await client.listTags(host, 'demo/app')).toEqual(['v1']);
    const tokenCall = fake.seen.find((s) => s.url.startsWith('/token'))!;
    expect(tokenCall.method).toBe('GET');
    // The token is cached: a second call goes straight to the registry.
    const before = fake.seen.length;
    await client.listTags(host, 'demo/app');
    expect(fake.seen.slice(before).map((s) => s.url)).toEqual(['/v2/demo/app/tags/list']);
  });

  it('uses the identity token with the OAuth2 refresh grant, falling back to GET on 404', async () => {
    const client = new RegistryClient({ insecureRegistries: [host], credentials: { [host]: { username: 'alice', password: 'pa:ss', identityToken: 'idtok-123' } } });
    fake.seen.length = 0;
    expect(await client.listTags(host, 'demo/app')).toEqual(['v1']);
    expect(fake.seen.filter((s) => s.url.startsWith('/token')).map((s) => s.method)).toEqual(['POST']);
    expect(fake.seen.at(-1)!.authorization).toBe('Bearer tok-oauth');
    fake.state.oauth = false;
    fake.seen.length = 0;
    const again = new RegistryClient({ insecureRegistries: [host], credentials: { [host]: { username: 'alice', password: 'pa:ss', identityToken: 'idtok-123' } } });
    expect(await again.listTags(host, 'demo/app')).toEqual(['v1']);
    expect(fake.seen.filter((s) => s.url.startsWith('/token')).map((s) => s.method)).toEqual(['POST', 'GET']);
    fake.state.oauth = true;
  });

  it('sends a registry token as is, and nothing to a host without credentials', async () => {
    fake.seen.length = 0;
    const client = new RegistryClient({ insecureRegistries: [host], credentials: { [host]: { registryToken: 'reg-token' } } });
    expect(await client.listTags(host, 'demo/app')).toEqual(['v1']);
    expect(fake.seen.map((s) => s.url)).toEqual(['/v2/demo/app/tags/list']);
    const other = new RegistryClient({ insecureRegistries: [host], credentials: { 'elsewhere.example': { username: 'alice', password: 'pa:ss' } } });
    expect((await errorOf(other.listTags(host, 'demo/app'))).code).toBe('UNAUTHORIZED');
    expect(fake.seen.every((s) => !s.authorization?.startsWith('Basic') || s.url.startsWith('/token'))).toBe(true);
  });

  it('keeps credentials out of errors', async () => {
    fake.state.tokenStatus = 500;
    const client = new RegistryClient({ insecureRegistries: [host], credentials: { [host]: { username: 'alice', password: 'pa:ss' } } });
    const e = await errorOf(client.listTags(host, 'demo/app'));
    fake.state.tokenStatus = 200;
    expect(e.code).toBe('UNAUTHORIZED');
    const port = await freePort();
    const down = new RegistryClient({ insecureRegistries: [`127.0.0.1:${port}`], timeoutMs: 2000, credentials: { [`127.0.0.1:${port}`]: { username: 'alice', password: 'pa:ss', identityToken: 'idtok-123' } } });
    const e2 = await errorOf(down.listTags(`127.0.0.1:${port}`, 'demo/app'));
    expect(e2.code).toBe('UNREACHABLE');
    for (const err of [e, e2]) {
      const text = `${err.message} ${JSON.stringify(err)} ${String(err.cause ?? '')}`;
      for (const secret of ['pa:ss', b64('alice:pa:ss'), 'idtok-123']) expect(text).not.toContain(secret);
    }
  });
});

const haveRegistry = gateCommand('docker-registry', 'docker-registry');
const haveHtpasswd = gateCommand('htpasswd', 'apache2-utils');

describe.skipIf(!haveRegistry || !haveHtpasswd)('docker-registry with htpasswd auth and credentials from a Docker config', () => {
  let dir = '';
  let host = '';
  let child: ReturnType<typeof spawn> | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duallane-authreg-'));
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), 'ci-user', 'ci-pa:ss'], { stdio: 'ignore' });
    await writeFile(
      join(dir, 'config.yml'),
      ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, 'auth:', '  htpasswd:', '    realm: duallane-test', `    path: ${join(dir, 'htpasswd')}`, 'http:', `  addr: ${host}`, ''].join('\n'),
    );
    child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const status = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status).catch(() => 0);
      if (status === 401) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('docker-registry with htpasswd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    await mkdir(join(dir, 'docker'));
    await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [`http://${host}`]: { auth: b64('ci-user:ci-pa:ss') } } }));
  }, 30_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pushes and reads with Basic auth from the config file; refuses without it', async () => {
    const credentials = loadDockerCredentials({ env: { DOCKER_CONFIG: join(dir, 'docker') } });
    const client = new RegistryClient({ insecureRegistries: [host], timeoutMs: 5000, credentials });
    const pushed = await pushTestImage(client, host, 'auth/app', 'v1', 'auth');
    expect((await client.getManifest(host, 'auth/app', 'v1')).digest).toBe(pushed.digest);
    const anonymous = new RegistryClient({ insecureRegistries: [host], timeoutMs: 5000, credentials: {} });
    expect((await errorOf(anonymous.getManifest(host, 'auth/app', 'v1'))).code).toBe('UNAUTHORIZED');
    const wrong = new RegistryClient({ insecureRegistries: [host], timeoutMs: 5000, credentials: { [host]: { username: 'ci-user', password: 'nope' } } });
    const e = await errorOf(wrong.getManifest(host, 'auth/app', 'v1'));
    expect(e.code).toBe('UNAUTHORIZED');
    expect(e.message).not.toContain('nope');
  });
});
