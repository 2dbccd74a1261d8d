import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAdmissionApp } from '../../src/admission/index.js';
import type { Policy } from '../../src/policy/types.js';
import { parseJson, runCli } from '../support/cli.js';

/**
 * Denial of service against the policy engine: the webhook is one Node process, so one review that
 * makes the evaluator backtrack, recurse without bound or loop over a huge string blocks every other
 * review (a timer cannot interrupt synchronous work). Each case posts what an attacker who may create
 * Pods controls (the object) to the real webhook app, or hands it to the real CLI, and asserts a
 * well-formed answer with the right verdict and reason code. On the old code the wildcard, quantity
 * and regex cases never finish (a backtracking match cannot be interrupted, so the test hangs).
 */

const pods = { any: [{ resources: { kinds: ['Pod'] } }] };

/** Policies whose patterns and expressions are ordinary, but backtrack on hostile text in a naive engine. */
const hostilePolicies: Policy[] = [
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'wildcard-note' },
    spec: { rules: [{ name: 'note', match: pods, validate: { failureAction: 'Enforce', message: 'note must end in b', pattern: { metadata: { '=(annotations)': { '=(note)': '*a*a*a*a*a*a*a*a*b' } } } } }] },
  },
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'regex-name' },
    spec: {
      rules: [
        {
          name: 'name',
          match: pods,
          validate: { failureAction: 'Enforce', message: 'bad name', deny: { conditions: { all: [{ key: "{{ regex_match('^(a+)+$', request.object.metadata.annotations.label || 'x') }}", operator: 'Equals', value: true }] } } },
        },
      ],
    },
  },
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'cpu-limit' },
    spec: { rules: [{ name: 'cpu', match: pods, validate: { failureAction: 'Enforce', message: 'cpu at most 2.3', pattern: { spec: { containers: [{ '=(resources)': { '=(limits)': { '=(cpu)': '<=2.3' } } }] } } } }] },
  },
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'cel-name' },
    spec: { rules: [{ name: 'cel', match: pods, validate: { failureAction: 'Enforce', cel: { expressions: [{ expression: "!has(object.metadata.labels) || !has(object.metadata.labels.app) || !object.metadata.labels.app.matches('^(a|aa)*$')", message: 'bad app label' }] } } }] },
  },
] as Policy[];

interface Answer {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string; details?: { causes: { reason: string }[] } } };
}

function review(uid: string, object: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'default', operation: 'CREATE', userInfo: { username: 'mallory' }, object },
  };
}

function pod(over: { annotations?: Record<string, string>; labels?: Record<string, string>; cpu?: string; extra?: unknown } = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', ...(over.annotations ? { annotations: over.annotations } : {}), ...(over.labels ? { labels: over.labels } : {}) },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27', ...(over.cpu ? { resources: { limits: { cpu: over.cpu } } } : {}) }], ...(over.extra !== undefined ? { extra: over.extra } : {}) },
  };
}

function deep(levels: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

describe('negative suite: denial of service in the policy engine', () => {
  const app = buildAdmissionApp({ policies: hostilePolicies });

  async function post(body: unknown): Promise<Answer> {
    const res = await app.inject({ method: 'POST', url: '/validate', payload: body as Record<string, unknown> });
    expect(res.statusCode).toBe(200);
    const answer = res.json() as Answer;
    if (process.env['DEBUG_DOS']) console.log(answer.response.uid, answer.response.status?.message?.slice(0, 300));
    expect(answer).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    return answer;
  }

  it('a clean pod is admitted (the policies are not denying everything)', async () => {
    const a = await post(review('ok', pod({ annotations: { note: 'xaaaaaaaab' }, cpu: '2300m', labels: { app: 'web' } })));
    expect(a.response.status?.message).toBeUndefined();
    expect(a.response).toMatchObject({ uid: 'ok', allowed: true });
  });

  it('pathological wildcard: *a*a*a*a*a*a*a*a*b against a megabyte of a is answered, and denied', async () => {
    const a = await post(review('wild', pod({ annotations: { note: 'a'.repeat(1_000_000) } })));
    expect(a.response.allowed).toBe(false);
    expect(a.response.status!.message).toContain('wildcard-note');
  });

  it('catastrophic regex in regex_match: ^(a+)+$ against a long annotation is answered (RE2, linear)', async () => {
    const a = await post(review('re', pod({ annotations: { label: `${'a'.repeat(200_000)}!` } })));
    expect(a.response.allowed).toBe(true);
    const b = await post(review('re2', pod({ annotations: { label: 'a'.repeat(200_000) } })));
    expect(b.response.allowed).toBe(false);
    expect(b.response.status!.message).toContain('regex-name');
  });

  it('catastrophic regex in CEL matches(): ^(a|aa)*$ against a long label is answered', async () => {
    const a = await post(review('cel', pod({ labels: { app: `${'a'.repeat(100_000)}!` } })));
    expect(a.response.allowed).toBe(true);
    const b = await post(review('cel2', pod({ labels: { app: 'a'.repeat(1000) } })));
    expect(b.response.allowed).toBe(false);
  });

  it('quantities: a megabyte of digits is parsed in one pass (not a quadratic regex) and compared exactly', async () => {
    const huge = await post(review('q', pod({ cpu: '9'.repeat(1_000_000) })));
    expect(huge.response.allowed).toBe(false);
    const junk = await post(review('q2', pod({ cpu: `${'1'.repeat(1_000_000)}x` })));
    expect(junk.response.allowed).toBe(false);
    const exact = await post(review('q3', pod({ cpu: '2300m' })));
    expect(exact.response.allowed).toBe(true); // as floats 2300m is 2.3000000000000003 > 2.3
    const over = await post(review('q4', pod({ cpu: '2301m' })));
    expect(over.response.allowed).toBe(false);
  });

  it('deep nesting (400,000 levels) is denied with OBJECT_TOO_DEEP, not a stack overflow', async () => {
    const body = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"deep","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":${'{"a":'.repeat(400_000)}1${'}'.repeat(400_000)}}}}`;
    const res = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: body });
    expect(res.statusCode).toBe(200);
    const a = res.json() as Answer;
    expect(a.response).toMatchObject({ uid: 'deep', allowed: false });
    expect(a.response.status!.details!.causes[0]!.reason).toBe('OBJECT_TOO_DEEP');
  });

  it('nesting just inside the bound is evaluated; one level past it is OBJECT_TOO_DEEP (oldObject too)', async () => {
    const inside = await post(review('d1', pod({ extra: deep(90) })));
    expect(inside.response.allowed).toBe(true);
    const past = await post({ ...review('d2', pod()), request: { ...(review('d2', pod()).request as object), operation: 'UPDATE', oldObject: { spec: deep(101) } } });
    expect(past.response.allowed).toBe(false);
    expect(past.response.status!.details!.causes[0]!.reason).toBe('OBJECT_TOO_DEEP');
  });

  it('parse_json on a deeply nested string from the object is a rule error (fail closed), not a crash', async () => {
    const policy = {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'parse-config' },
      spec: { rules: [{ name: 'config', match: pods, validate: { failureAction: 'Enforce', message: 'config', deny: { conditions: { all: [{ key: "{{ parse_json(request.object.metadata.annotations.config).x || 'none' }}", operator: 'Equals', value: 'bad' }] } } } }] },
    } as Policy;
    const a2 = buildAdmissionApp({ policies: [policy] });
    const res = await a2.inject({ method: 'POST', url: '/validate', payload: review('pj', pod({ annotations: { config: `${'['.repeat(200_000)}${']'.repeat(200_000)}` } })) });
    expect(res.statusCode).toBe(200);
    const a = res.json() as Answer;
    expect(a.response.allowed).toBe(false);
    expect(a.response.status!.message).toContain('nesting exceeds 100 levels');
  });

  it('huge strings up to the body limit are answered; past it the body is refused (413), never parsed', async () => {
    const limit = 3 * 1024 * 1024;
    const filler = 'a'.repeat(limit - 2_000);
    const a = await post(review('big', pod({ annotations: { note: filler } })));
    expect(a.response.allowed).toBe(false);
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review('too-big', pod({ annotations: { note: 'a'.repeat(limit + 10) } })) });
    expect(res.statusCode).toBe(413);
  });
});

describe('negative suite: policy DoS through the CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'policy-dos-'));
  });

  it('a resource file nested past the bound is refused (exit 2; the YAML loader reports POLICY_INVALID for any file it cannot read)', async () => {
    const resource = join(dir, 'deep.yaml');
    await writeFile(resource, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: deep(150) }));
    const r = await runCli(['policy', 'apply', 'policies/kyverno/require-image-digest.yaml', '--resource', resource, '--json']);
    expect(r.code).toBe(2);
    expect(parseJson<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining('maxDepth (100)') });
  });

  it('a policy nested past the bound is POLICY_INVALID (exit 2)', async () => {
    const policy = join(dir, 'deep-policy.yaml');
    await writeFile(policy, JSON.stringify({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'deep' }, spec: { rules: [{ name: 'r', match: pods, validate: { pattern: deep(150) } }] } }));
    const resource = join(dir, 'pod.yaml');
    await writeFile(resource, JSON.stringify(pod()));
    const r = await runCli(['policy', 'apply', policy, '--resource', resource, '--json']);
    expect(r.code).toBe(2);
    expect(parseJson<{ error: { code: string } }>(r).error.code).toBe('POLICY_INVALID');
  });

  it('a policy regex RE2 rejects (lookahead) is a rule error, as in Kyverno, not a JS RegExp match', async () => {
    const policy = join(dir, 'lookahead.yaml');
    await writeFile(
      policy,
      JSON.stringify({
        apiVersion: 'kyverno.io/v1',
        kind: 'ClusterPolicy',
        metadata: { name: 'lookahead' },
        spec: { rules: [{ name: 'r', match: pods, validate: { failureAction: 'Enforce', message: 'm', deny: { conditions: { all: [{ key: "{{ regex_match('^(?=w)web$', request.object.metadata.name) }}", operator: 'Equals', value: true }] } } } }] },
      }),
    );
    const resource = join(dir, 'pod2.yaml');
    await writeFile(resource, JSON.stringify(pod()));
    const r = await runCli(['policy', 'apply', policy, '--resource', resource, '--json']);
    const j = parseJson<{ responses: { rules: { status: string; message: string }[] }[] }>(r);
    expect(j.responses[0]!.rules[0]!.status).toBe('error');
    expect(j.responses[0]!.rules[0]!.message).toContain('invalid regular expression');
  });
});
