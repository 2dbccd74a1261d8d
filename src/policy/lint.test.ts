import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintFiles } from './lint.js';

async function lint(yaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'lint-'));
  const file = join(dir, 'p.yaml');
  await writeFile(file, yaml);
  const r = await lintFiles([file]);
  return r.files[0]!.findings.map((f) => `${f.line}:${f.severity}:${f.message}`);
}

const head = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: p
spec:
`;

describe('policy lint', () => {
  it('a clean Kyverno 1.13 policy has no findings', async () => {
    expect(await lint(`${head}  rules:
    - name: r
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        failureAction: Enforce
        message: "x {{ request.object.metadata.name }}"
        pattern:
          spec:
            =(hostNetwork): false
`)).toEqual([]);
  });

  it('warns on deprecated spec.validationFailureAction with its line', async () => {
    const f = await lint(`${head}  validationFailureAction: Enforce
  rules:
    - name: r
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        pattern:
          spec: {}
`);
    expect(f).toEqual([expect.stringMatching(/^6:warning:spec.validationFailureAction is deprecated/)]);
  });

  it('reports unknown fields, unknown anchors and bad JMESPath at their lines', async () => {
    const f = await lint(`${head}  rules:
    - name: r
      match:
        any:
          - resources:
              kinds: [Pod]
              kind: Pod
      validate:
        mesage: typo
        pattern:
          spec:
            Y(hostNetwork): false
            containers:
              - image: "{{ request.object.[ }}"
`);
    expect(f).toContainEqual(expect.stringMatching(/^12:error:unknown field "kind" in resources/));
    expect(f).toContainEqual(expect.stringMatching(/^14:error:unknown field "mesage" in validate/));
    expect(f).toContainEqual(expect.stringMatching(/^17:error:unknown anchor "Y\(hostNetwork\)"/));
    expect(f).toContainEqual(expect.stringMatching(/^19:error:unparsable JMESPath/));
  });

  it('checks condition operators, rule shape, duplicate names and kinds', async () => {
    const f = await lint(`${head}  rules:
    - name: r
      match:
        any:
          - resources:
              namespaces: [a]
      validate:
        deny:
          conditions:
            any:
              - key: "{{ request.operation }}"
                operator: Matches
                value: CREATE
    - name: r
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        pattern: {}
        deny: {}
`);
    expect(f).toContainEqual(expect.stringMatching(/error:match resources need at least one kind/));
    expect(f).toContainEqual(expect.stringMatching(/error:unknown condition operator "Matches"/));
    expect(f).toContainEqual(expect.stringMatching(/error:duplicate rule name r/));
    expect(f).toContainEqual(expect.stringMatching(/error:validate needs exactly one of/));
  });

  it('checks verifyImages attestors and attestations', async () => {
    const f = await lint(`${head}  rules:
    - name: v
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["*"]
          attestors:
            - entries:
                - keyless:
                    issuer: https://token.actions.githubusercontent.com
          attestations:
            - predicateType: https://slsa.dev/provenance/v1
              conditions:
                - all:
                    - key: "{{ runDetails.builder.id }}"
                      operator: Equals
                      value: x
`);
    expect(f).toContainEqual(expect.stringMatching(/error:keyless attestor needs subject or subjectRegExp/));
    expect(f).toContainEqual(expect.stringMatching(/warning:attestations.predicateType is deprecated/));
  });

  it('warns on a foreach list written as a {{ }} variable', async () => {
    const f = await lint(`${head}  rules:
    - name: r
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        foreach:
          - list: "{{ request.object.spec.containers }}"
            pattern:
              image: "*:*"
`);
    expect(f).toEqual([expect.stringMatching(/^14:warning:foreach.list is a JMESPath expression/)]);
  });

  it('YAML syntax errors carry a line; non-policies are skipped with a warning', async () => {
    expect(await lint('a: [\n')).toEqual([expect.stringMatching(/^\d+:error:YAML error/)]);
    expect(await lint('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n')).toEqual([expect.stringMatching(/^1:warning:not a Kyverno ClusterPolicy/)]);
  });

  it('the shipped policies lint clean', async () => {
    const r = await lintFiles(['policies/kyverno/require-image-digest.yaml', 'policies/kyverno/require-signed-images.yaml', 'policies/kyverno/require-slsa-provenance.yaml']);
    expect(r.errors + r.warnings).toBe(0);
  });
});
