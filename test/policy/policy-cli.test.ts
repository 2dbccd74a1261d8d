import { mkdtemp, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';

// End-to-end through the built binary: `npm run build` first (npm test does).
describe('duallane policy (CLI)', () => {
  it('lint: shipped policies are clean (exit 0); a broken policy exits 1 with file:line', async () => {
    const ok = await runCli(['policy', 'lint', 'policies/kyverno/require-image-digest.yaml', 'policies/kyverno/require-signed-images.yaml', 'policies/kyverno/require-slsa-provenance.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('0 error(s)');
    const dir = await mkdtemp(join(tmpdir(), 'pcli-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: bad\nspec:\n  rules:\n    - name: r\n      match:\n        any:\n          - resources:\n              kinds: [Pod]\n      validate:\n        pattern:\n          spec:\n            Z(hostPID): true\n');
    const r = await runCli(['policy', 'lint', bad, '--json']);
    expect(r.code).toBe(1);
    const j = parseJson<{ ok: boolean; errors: number; files: { findings: { line: number; message: string }[] }[] }>(r);
    expect(j.ok).toBe(false);
    expect(j.files[0]!.findings[0]).toMatchObject({ line: 15 });
  });

  it('test: shipped tests pass (text, --json, -o junit)', async () => {
    const text = await runCli(['policy', 'test', 'policies/kyverno']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Test Summary: 20 tests passed and 0 tests failed/);
    const json = await runCli(['policy', 'test', 'policies/kyverno', '--json']);
    expect(json.code).toBe(0);
    const j = parseJson<{ ok: boolean; summary: { pass: number; fail: number; skip: number } }>(json);
    expect(j).toMatchObject({ ok: true, summary: { fail: 0 } });
    const junit = await runCli(['policy', 'test', 'policies/kyverno', '-o', 'junit']);
    expect(junit.code).toBe(0);
    expect(junit.stdout).toMatch(/^<\?xml/);
    expect(junit.stdout).toContain('<testsuite name="require-image-digest"');
  });

  it('test: a changed expectation exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pcli-'));
    await cp('policies/kyverno', join(dir, 'kyverno'), { recursive: true });
    const testFile = join(dir, 'kyverno', 'tests', 'require-image-digest', 'kyverno-test.yaml');
    const { readFile } = await import('node:fs/promises');
    await writeFile(testFile, (await readFile(testFile, 'utf8')).replace('result: pass', 'result: fail'));
    const r = await runCli(['policy', 'test', join(dir, 'kyverno'), '--json']);
    expect(r.code).toBe(1);
    expect(parseJson<{ summary: { fail: number } }>(r).summary.fail).toBeGreaterThan(0);
  });

  it('test: a bad output format is a usage error (exit 2)', async () => {
    const r = await runCli(['policy', 'test', 'policies/kyverno', '-o', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BAD_USAGE');
  });

  it('apply: like kyverno apply; fail exits 1, pass exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pcli-'));
    const pod = join(dir, 'pod.yaml');
    await writeFile(pod, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n');
    const bad = await runCli(['policy', 'apply', 'policies/kyverno/require-image-digest.yaml', '--resource', pod, '--json']);
    expect(bad.code).toBe(1);
    const j = parseJson<{ summary: { fail: number }; responses: { rules: { name: string; status: string; failureAction: string }[] }[] }>(bad);
    expect(j.summary.fail).toBe(1);
    expect(j.responses[0]!.rules[0]).toMatchObject({ name: 'require-image-digest', status: 'fail', failureAction: 'Enforce' });
    await writeFile(pod, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx@sha256:' + 'd'.repeat(64) + '\n');
    const good = await runCli(['policy', 'apply', 'policies/kyverno/require-image-digest.yaml', '-r', pod]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('pass: 1, fail: 0');
  });

  it('apply: mutate rules report the patched resource; --exception skips a rule', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pcli-'));
    await writeFile(join(dir, 'm.yaml'), 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: add-team\nspec:\n  rules:\n    - name: team\n      match:\n        any:\n          - resources:\n              kinds: [Pod]\n      mutate:\n        patchStrategicMerge:\n          metadata:\n            labels:\n              +(team): core\n');
    await writeFile(join(dir, 'ex.yaml'), 'apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata:\n  name: skip-web\n  namespace: apps\nspec:\n  exceptions:\n    - policyName: require-image-digest\n      ruleNames: [require-image-digest]\n  match:\n    any:\n      - resources:\n          kinds: [Pod]\n          names: [web]\n');
    const pod = join(dir, 'pod.yaml');
    await writeFile(pod, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n');
    const r = await runCli(['policy', 'apply', join(dir, 'm.yaml'), 'policies/kyverno/require-image-digest.yaml', '-r', pod, '-e', join(dir, 'ex.yaml'), '--json']);
    expect(r.code).toBe(0);
    const j = parseJson<{ responses: { policy: string; rules: { name: string; status: string }[]; patchedResource?: { metadata: { labels: Record<string, string>; namespace: string } } }[] }>(r);
    const m = j.responses.find((x) => x.policy === 'add-team')!;
    expect(m.rules[0]).toMatchObject({ name: 'team', status: 'pass' });
    expect(m.patchedResource!.metadata).toMatchObject({ labels: { team: 'core' }, namespace: 'default' });
    expect(j.responses.find((x) => x.policy === 'require-image-digest')!.rules[0]).toMatchObject({ status: 'skip' });
  });

  it('apply: unreadable input is exit 2 with one line', async () => {
    const r = await runCli(['policy', 'apply', 'policies/kyverno/require-image-digest.yaml', '--resource', '/nonexistent.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help works for the group and each subcommand', async () => {
    for (const args of [['policy', '--help'], ['policy', 'test', '--help'], ['policy', 'lint', '--help'], ['policy', 'apply', '--help']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage');
    }
  });
});
