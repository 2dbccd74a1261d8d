import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url));

describe('npm run demo', () => {
  it('runs end to end with no services and prints the summary', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'duallane-demo-test-'));
    try {
      const r = await new Promise<{ code: number; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [DEMO, '--clean'], { env: { ...process.env, TMPDIR: tmp, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, out }));
      });
      expect(r.code, r.out).toBe(0);
      for (const step of ['propose (codex)', 'accept (claude)', 'branch pushed', 'pull request', 'replay rejected', 'tampered artifact rejected', 'trace re-verifies', 'SLSA provenance verified', 'wrong lane key rejected']) {
        expect(r.out).toContain(`✔ ${step}`);
      }
      expect(r.out).not.toContain('✘');
      expect(r.out).toContain('Summary');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 400_000);
});
