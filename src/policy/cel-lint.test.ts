import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintFiles } from './lint.js';

async function lint(yaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'cel-lint-'));
  const file = join(dir, 'p.yaml');
  await writeFile(file, yaml);
  const r = await lintFiles([file]);
  return r.files[0]!.findings.map((f) => `${f.line}:${f.severity}:${f.message}`);
}

const rule = (body: string) => `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: p
spec:
  rules:
    - name: r
      match:
        any:
          - resources:
              kinds: [Pod]
${body}`;

describe('policy lint: validate.cel', () => {
  it('a well-formed cel rule (variables, messageExpression, celPreconditions) has no findings', async () => {
    expect(await lint(rule(`      celPreconditions:
        - name: labelled
          expression: has(object.metadata.labels)
      validate:
        failureAction: Audit
        cel:
          variables:
            - name: images
              expression: object.spec.containers.map(c, c.image)
          expressions:
            - expression: variables.images.all(i, !i.endsWith(':latest'))
              messageExpression: "'latest: ' + variables.images.join(', ')"
              reason: Forbidden
`))).toEqual([]);
  });

  it('a syntax or type error is reported at the expression line', async () => {
    const f = await lint(rule(`      validate:
        cel:
          expressions:
            - expression: "object.spec ++ 1"
            - expression: "objet.spec == null"
              messageExpression: "'x' +"
`));
    expect(f).toEqual([
      expect.stringMatching(/^15:error:CEL expression does not compile: Unexpected token/),
      expect.stringMatching(/^16:error:CEL expression does not compile: Unknown variable: objet/),
      expect.stringMatching(/^17:error:CEL messageExpression does not compile/),
    ]);
  });

  it('structure: expressions required, each with an expression; unknown fields; bad reason; duplicate variables', async () => {
    expect(await lint(rule(`      validate:
        cel:
          expressions: []
`))).toEqual(['13:error:cel.expressions must be a non-empty list']);
    expect(await lint(rule(`      validate:
        cel:
          variables:
            - name: a
              expression: "1"
            - name: a
              expression: "2"
          expressions:
            - message: m
              reason: Teapot
              extra: 1
`))).toEqual([
      '17:error:duplicate cel variable a',
      '20:error:expression is required',
      '21:error:reason must be one of Unauthorized, Forbidden, Invalid, RequestEntityTooLarge',
      '22:error:unknown field "extra" in cel expression',
    ]);
  });

  it('params and authorizer are errors; auditAnnotations a warning; celPreconditions need validate.cel; JMESPath preconditions are ignored', async () => {
    expect(await lint(rule(`      preconditions:
        all:
          - key: "{{ request.operation }}"
            operator: Equals
            value: CREATE
      validate:
        cel:
          paramKind:
            apiVersion: v1
            kind: ConfigMap
          paramRef:
            name: cm
            parameterNotFoundAction: Deny
          auditAnnotations:
            - key: k
              valueExpression: "'v'"
          expressions:
            - expression: authorizer.requestResource.check('create').allowed()
`))).toEqual([
      '12:warning:preconditions is ignored by validate.cel rules (Kyverno evaluates only celPreconditions)',
      '19:error:cel.paramKind: parameter resources live in a cluster; duallane evaluates this rule as error',
      '22:error:cel.paramRef: parameter resources live in a cluster; duallane evaluates this rule as error',
      '25:warning:cel.auditAnnotations only annotate audit events; duallane does not evaluate them',
      '29:error:authorizer checks need the API server; duallane evaluates this rule as error',
    ]);
    expect(await lint(rule(`      celPreconditions:
        - name: c
          expression: "true"
      validate:
        pattern:
          metadata:
            name: "?*"
`))).toEqual(['12:error:celPreconditions can only be used with validate.cel']);
  });
});
