import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { gateCommand } from '../support/services.js';
import { pushTestImage } from './images.js';
import { startRegistry, type RunningRegistry } from './registry-harness.js';

const run = promisify(execFile);
const haveTools = gateCommand('docker-registry', 'docker-registry') && gateCommand('skopeo', 'skopeo');

/**
 * A client we did not write, containers/image (skopeo), reads what our client pushes. Debian's
 * skopeo is built with sigstore verification disabled ("Debian-local change"), so it cannot check
 * our cosign `.sig` layers; that check stays with cosign/Flux outside this machine.
 */
describe.skipIf(!haveTools)('interoperability with skopeo (containers/image)', () => {
  let reg: RunningRegistry;
  let dir: string;
  let client: RegistryClient;

  beforeAll(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'duallane-skopeo-'));
    client = new RegistryClient({ insecureRegistries: [reg.host] });
  }, 30_000);
  afterAll(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('skopeo inspects the images our client pushed', async () => {
    const img = await pushTestImage(client, reg.host, 'shop/app', 'inspect', 'inspect');
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/shop/app:inspect`]);
    expect(JSON.parse(stdout)).toMatchObject({ Digest: img.digest, Os: 'linux', Architecture: 'amd64' });
  });

  it('skopeo copies an image our client pushed (every blob digest re-checked by containers/image)', async () => {
    await pushTestImage(client, reg.host, 'shop/app', 'copy', 'copy');
    await writeFile(join(dir, 'any.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await run('skopeo', ['--policy', join(dir, 'any.json'), 'copy', '--src-tls-verify=false', `docker://${reg.host}/shop/app:copy`, `oci:${join(dir, 'layout')}:copy`]);
    const { stdout } = await run('skopeo', ['inspect', `oci:${join(dir, 'layout')}:copy`]);
    expect(JSON.parse(stdout)).toMatchObject({ Os: 'linux', Layers: [expect.stringMatching(/^sha256:/)] });
  });
});
