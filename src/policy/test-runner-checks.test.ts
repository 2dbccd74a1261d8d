import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTestFile, runTests } from './test-runner.js';

const policy = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-team
  labels: {tier: core}
spec:
  rules:
    - name: check-team
      match:
        any:
          - resources: {kinds: [Pod]}
      exclude:
        any:
          - resources: {namespaces: [kube-system]}
      validate:
        message: team label required
        pattern:
          metadata:
            labels:
              team: "?*"
`;

const resources = `apiVersion: v1
kind: Pod
metadata: {name: good, namespace: apps, labels: {team: blue, app: web}}
spec: {containers: [{name: a, image: a}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: apps}
spec: {containers: [{name: a, image: a}]}
`;

async function fixture(checks: string, results = '') {
  const dir = await mkdtemp(join(tmpdir(), 'kchecks-'));
  await writeFile(join(dir, 'policy.yaml'), policy);
  await writeFile(join(dir, 'resources.yaml'), resources);
  await writeFile(
    join(dir, 'kyverno-test.yaml'),
    `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: checks}
policies: [policy.yaml]
resources: [resources.yaml]
${results}
checks:
${checks}`,
  );
  return dir;
}

describe('kyverno test checks (assertion trees)', () => {
  it('runs the documented example: match resource/policy/rule, assert status, error expression', async () => {
    const dir = await fixture(`  - match:
      resource:
        kind: Pod
        metadata: {name: good}
      policy:
        kind: ClusterPolicy
        metadata: {name: require-team}
      rule: {name: check-team}
    assert:
      status: pass
    error:
      (status != 'pass'): true
`);
    const r = await runTests([dir]);
    expect(r.tests[0]!.rows.map((x) => [x.resource, x.rule, x.outcome, x.check])).toEqual([
      ['Pod/apps/good', 'check-team', 'pass', true],
      ['Pod/apps/good', 'check-team', 'pass', true],
    ]);
    expect(r.summary).toMatchObject({ pass: 2, fail: 0 });
  });

  it('an empty match selects every rule response; a failed assert and a holding error fail with reasons', async () => {
    const dir = await fixture(`  - match: {}
    assert: {status: pass}
  - match:
      resource: {metadata: {labels: {app: web}}}
    error: {status: pass}
`);
    const r = await runTests([dir]);
    const rows = r.tests[0]!.rows.map((x) => [x.resource, x.outcome, x.reason]);
    expect(rows).toEqual([
      ['Pod/apps/good', 'pass', 'Ok'],
      ['Pod/apps/bad', 'fail', 'status: Invalid value: "fail": Expected value: "pass"'],
      ['Pod/apps/good', 'fail', 'The assertion succeeded but was expected to fail'],
    ]);
    expect(r.summary).toMatchObject({ pass: 1, fail: 2 });
  });

  it('selects by policy labels and resource metadata; a policy that matches nothing yields no row', async () => {
    const dir = await fixture(`  - match:
      policy: {metadata: {labels: {tier: core}}}
      resource: {metadata: {namespace: apps, name: bad}}
    assert:
      status: fail
      (contains(message, 'team')): true
  - match:
      policy: {metadata: {labels: {tier: other}}}
    assert: {status: pass}
`);
    const r = await runTests([dir]);
    expect(r.tests[0]!.rows).toHaveLength(1);
    expect(r.tests[0]!.rows[0]).toMatchObject({ outcome: 'pass', reason: 'Ok', actual: 'fail' });
  });

  it('rows follow the results rows and a test may have only checks', async () => {
    const dir = await fixture(`  - match: {rule: {name: check-team}}
    assert: {status: fail}
`, `results:
  - policy: require-team
    rule: check-team
    resources: [bad]
    kind: Pod
    result: fail`);
    const r = await runTests([dir]);
    expect(r.tests[0]!.rows.map((x) => [x.id, Boolean(x.check), x.outcome])).toEqual([
      [1, false, 'pass'],
      [2, true, 'fail'],
      [3, true, 'pass'],
    ]);
  });

  it('rejects malformed checks with a clear error, and an unsupported engine as a failing row', async () => {
    await expect(loadTestFile(join(await fixture(`  - match: {resources: {}}\n    assert: {status: pass}\n`), 'kyverno-test.yaml'))).rejects.toMatchObject({ code: 'TEST_FILE_INVALID', message: expect.stringContaining('checks[0].match.resources is not a match field') });
    await expect(loadTestFile(join(await fixture(`  - assert: [status]\n`), 'kyverno-test.yaml'))).rejects.toMatchObject({ code: 'TEST_FILE_INVALID' });
    const r = await runTests([await fixture(`  - assert: {(cel;status == 'pass'): true}\n`)]);
    expect(r.tests[0]!.rows[0]).toMatchObject({ outcome: 'fail', reason: expect.stringContaining('cel expression engine is not supported') });
  });
});
