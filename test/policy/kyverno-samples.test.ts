import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Conformance sweep over a local copy of Kyverno's sample policies (kyverno/policies folders, each with
// its kyverno-test.yaml): every folder's expected results must hold. The samples are not part of this
// repository; point DUALLANE_KYVERNO_POLICIES at them. Same runner as `node scripts/kyverno-samples.mjs`.
const root = process.env['DUALLANE_KYVERNO_POLICIES'];
const reason = !root ? 'DUALLANE_KYVERNO_POLICIES is not set' : !existsSync(root) ? `${root} does not exist` : '';

interface Sweep {
  total: { folders: number; foldersPassed: number; pass: number; fail: number; errors: number };
  results: { folder: string; error: string | null; failures: { policy: string; rule: string; resource: string; expected: string; actual: string; reason: string }[] }[];
}

describe('Kyverno sample policies (conformance sweep)', () => {
  it.skipIf(!!reason)(`every sample folder passes its own kyverno-test.yaml${reason ? ` (skipped: ${reason})` : ''}`, () => {
    const r = spawnSync(process.execPath, ['scripts/kyverno-samples.mjs', root!, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
    const sweep = JSON.parse(r.stdout) as Sweep;
    expect(sweep.total.folders, `no sample folders under ${root}`).toBeGreaterThan(0);
    const failing = sweep.results.flatMap((f) => [
      ...(f.error ? [`${f.folder}: ${f.error}`] : []),
      ...f.failures.map((x) => `${f.folder}: ${x.policy}/${x.rule} ${x.resource} expected ${x.expected}, got ${x.actual} (${x.reason})`),
    ]);
    expect(failing).toEqual([]);
  }, 600_000);
});
