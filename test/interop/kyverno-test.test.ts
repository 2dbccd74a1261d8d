import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { gatePeer, runPeer } from '../support/peers.js';

/**
 * The shipped policies' test folders (policies/kyverno/tests/*) are in the format `kyverno test`
 * reads: Kyverno's own CLI must pass them, and so must `duallane policy test`. (Kyverno counts more
 * rows: its CLI answers each verifyImages rule twice, once per pass, and compares both.)
 */
const hasKyverno = gatePeer('kyverno');
const POLICIES = join(fileURLToPath(new URL('../../', import.meta.url)), 'policies/kyverno');

describe.skipIf(!hasKyverno)('kyverno test on the shipped policies', () => {
  it('kyverno test policies/kyverno passes every row, as duallane policy test does', async () => {
    const k = await runPeer('kyverno', ['test', POLICIES, '--remove-color'], { timeoutMs: 300_000 });
    expect(k.code, `${k.stdout}\n${k.stderr}`).toBe(0);
    const summary = /Test Summary: (\d+) tests passed and (\d+) tests failed/.exec(k.stdout);
    expect(summary, k.stdout).not.toBeNull();
    expect(Number(summary![2])).toBe(0);

    const d = await runCli(['policy', 'test', POLICIES, '--json']);
    expect(d.code, d.stdout).toBe(0);
    const report = parseJson<{ summary: { pass: number; fail: number; skip: number } }>(d);
    expect(report.summary.fail).toBe(0);
    expect(report.summary.pass + report.summary.skip).toBeGreaterThan(0);
  }, 320_000);
});
