import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';

// End-to-end through the built binary (`npm run build` first; npm test does): Kyverno CLI Test files
// for validate.cel policies (test/policy/fixtures/cel, see its README).
const FIXTURES = 'test/policy/fixtures/cel';

describe('duallane policy test: validate.cel', () => {
  it('the CEL fixtures lint clean and every expected result holds (pass, fail, skip; autogen Deployment and CronJob)', async () => {
    const lint = await runCli(['policy', 'lint', FIXTURES, '--json']);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    const r = await runCli(['policy', 'test', FIXTURES, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(parseJson<{ ok: boolean; summary: { pass: number; skip: number; fail: number } }>(r)).toMatchObject({ ok: true, summary: { pass: 14, skip: 1, fail: 0 } });
  });

  it('apply reports the messageExpression of the first failing expression', async () => {
    const r = await runCli(['policy', 'apply', join(FIXTURES, 'image-tags/image-tags.yaml'), '-r', join(FIXTURES, 'image-tags/resources.yaml'), '--json']);
    expect(r.code).toBe(1);
    const j = parseJson<{ responses: { resource: { name: string }; rules: { name: string; status: string; message: string }[] }[] }>(r);
    const rule = (name: string) => j.responses.find((x) => x.resource.name === name)!.rules[0]!;
    expect(rule('latest')).toMatchObject({ status: 'fail', message: 'images with the latest tag: debug' });
    expect(rule('untagged')).toMatchObject({ status: 'fail', message: 'Every container image needs a tag or a digest.' });
    expect(rule('nightly')).toMatchObject({ name: 'autogen-cronjob-pinned-tag', status: 'fail' });
  });

  // Kyverno's own CEL samples with their kyverno-test.yaml, from a local checkout of kyverno/policies.
  const samples = process.env['DUALLANE_KYVERNO_POLICIES'];
  const SAMPLE_DIRS = ['other-cel/allowed-annotations', 'other-cel/deny-secret-service-account-token-type', 'best-practices-cel/disallow-latest-tag', 'best-practices-cel/check-deprecated-apis'];
  it.skipIf(!samples)('Kyverno policy-library CEL samples pass their own tests (set DUALLANE_KYVERNO_POLICIES to a kyverno/policies checkout)', async () => {
    let ran = 0;
    for (const d of SAMPLE_DIRS) {
      const dir = join(samples!, d);
      if (!existsSync(dir)) continue;
      ran++;
      const r = await runCli(['policy', 'test', dir, '--json']);
      expect(r.code, `${d}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    expect(ran, `none of ${SAMPLE_DIRS.join(', ')} under ${samples}`).toBeGreaterThan(0);
  });
});
