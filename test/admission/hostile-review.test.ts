import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdmissionApp } from '../../src/admission/index.js';
import type { Policy } from '../../src/policy/types.js';

/**
 * Property tests of the webhook's parser and decision over hostile AdmissionReviews, through the
 * real Fastify app: random bodies never crash it (every answer is a 400 with problems or a
 * well-formed AdmissionReview), and junk added to a review that is denied never makes it admitted.
 */

const pods = { any: [{ resources: { kinds: ['Pod'] } }] };
const policies = [
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'require-team' },
    spec: { rules: [{ name: 'team', match: pods, validate: { failureAction: 'Enforce', message: 'team label and pinned images', pattern: { metadata: { labels: { team: '?*' } }, spec: { containers: [{ image: '*@sha256:*' }] } } } }] },
  },
] as Policy[];

const app = buildAdmissionApp({ policies });

function deniedReview(): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'default',
      operation: 'CREATE',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:latest' }] } },
    },
  };
}

interface Answer {
  apiVersion?: string;
  kind?: string;
  response?: { uid: string; allowed: boolean; status?: { code: number; message: string } };
  problems?: { path: string; message: string }[];
}

async function post(payload: string): Promise<{ status: number; body: Answer }> {
  const res = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload });
  return { status: res.statusCode, body: res.json() as Answer };
}

function wellFormed(r: { status: number; body: Answer }): boolean {
  if (r.status === 400) return Array.isArray(r.body.problems) || typeof (r.body as { error?: unknown }).error === 'string';
  return r.status === 200 && r.body.apiVersion === 'admission.k8s.io/v1' && r.body.kind === 'AdmissionReview' && typeof r.body.response?.allowed === 'boolean' && typeof r.body.response.uid === 'string';
}

/** Hostile leaves: wildcard and regex bait, quantities, deep nesting, long runs. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom('*a*a*a*a*b', '?*', '(a+)+$', '2300m', '1e999999999', '1'.repeat(5000), 'a'.repeat(5000), '{{ request.object }}', '__proto__'),
  fc.integer({ min: 1, max: 160 }).map((n) => {
    let v: unknown = 'x';
    for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
    return v;
  }),
);

// Where junk may go without touching what the policy checks (labels.team, containers[].image).
const junkPath = fc.constantFrom(['metadata', 'annotations'], ['metadata'], ['spec'], [], ['spec', 'containers', 0]);

describe('hostile AdmissionReviews (property tests through the webhook app)', () => {
  it('random JSON bodies are answered with a 400 or a well-formed AdmissionReview, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 6 }), async (payload) => {
        expect(wellFormed(await post(payload))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('a review with its fields mutated at random is answered, never with a crash', async () => {
    const fields = ['apiVersion', 'kind', 'request', 'uid', 'operation', 'object', 'oldObject', 'userInfo', 'groups', 'metadata', 'spec'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), hostileValue, async (field, value) => {
        const review = deniedReview();
        const request = review['request'] as Record<string, unknown>;
        const object = request['object'] as Record<string, unknown>;
        const target = field in review ? review : field in object ? object : request;
        target[field] = value;
        expect(wellFormed(await post(JSON.stringify(review)))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('junk added anywhere the policy does not look never turns the denial into an admission', async () => {
    // Controls: the base review is denied, and the same pod with a team label and a pinned image is admitted.
    expect((await post(JSON.stringify(deniedReview()))).body.response!.allowed).toBe(false);
    const fixed = deniedReview();
    const obj = (fixed['request'] as { object: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } } }).object;
    obj.metadata.labels['team'] = 'core';
    obj.spec.containers[0]!.image = `nginx@sha256:${'a'.repeat(64)}`;
    expect((await post(JSON.stringify(fixed))).body.response!.allowed).toBe(true);
    await fc.assert(
      fc.asyncProperty(junkPath, fc.string({ minLength: 1, maxLength: 12 }), hostileValue, async (path, key, value) => {
        const review = deniedReview();
        let node = (review['request'] as Record<string, unknown>)['object'] as Record<string | number, unknown>;
        for (const p of path) {
          node[p] ??= {};
          node = node[p] as Record<string | number, unknown>;
        }
        if (['labels', 'containers', 'kind', 'apiVersion', 'image'].includes(key)) return;
        node[key] = value;
        const r = await post(JSON.stringify(review));
        expect(wellFormed(r)).toBe(true);
        if (r.status === 200) expect(r.body.response!.allowed).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
