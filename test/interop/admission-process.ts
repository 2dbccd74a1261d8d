import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Policy } from '../../src/policy/types.js';
import { podReview } from '../admission/fixtures.js';
import { httpsRequest, makeServingCert } from '../admission/tls.js';
import { freePort } from '../registry/registry-harness.js';
import { BIN } from '../support/cli.js';

export interface AdmissionProcess {
  /** POSTs a Pod AdmissionReview for `images`; returns its `response`. */
  review(images: string[]): Promise<{ allowed: boolean; status?: { code: number; message: string } }>;
  stop(): Promise<number | null>;
}

/**
 * `duallane admission serve` as its own process (TLS, policies from a directory, plain HTTP to the
 * loopback registry), exactly as a cluster would run it. Needs openssl for the serving certificate.
 */
export async function startAdmissionServe(dir: string, policies: Policy[], registryHost: string, extraArgs: string[] = []): Promise<AdmissionProcess> {
  const policiesDir = join(dir, 'policies');
  await mkdir(policiesDir, { recursive: true });
  const tls = makeServingCert(dir);
  for (const p of policies) await writeFile(join(policiesDir, `${p.metadata.name}.yaml`), stringify(p));
  const port = await freePort();
  const args = [BIN, 'admission', 'serve', '--tls-cert', tls.certPath, '--tls-key', tls.keyPath, '--port', String(port), '--host', '127.0.0.1'];
  args.push('--policies', policiesDir, '--insecure-registry', registryHost, '--registry-timeout', '10000', '--json', ...extraArgs);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    const t = setTimeout(() => reject(new Error(`admission serve did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (stdout.includes('"listening"')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`admission serve exited ${code}: ${stderr}`)));
  });
  let n = 0;
  return {
    async review(images) {
      const uid = `interop-${++n}`;
      const r = await httpsRequest(`https://127.0.0.1:${port}/validate`, {
        ca: tls.cert,
        method: 'POST',
        body: JSON.stringify(podReview(uid, images)),
        headers: { 'content-type': 'application/json' },
      });
      const body = JSON.parse(r.body) as { response: { uid: string; allowed: boolean; status?: { code: number; message: string } } };
      if (body.response.uid !== uid) throw new Error(`response for ${body.response.uid}, asked ${uid}`);
      return body.response;
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
