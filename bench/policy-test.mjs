#!/usr/bin/env node
// `policy test` throughput: resource evaluations per second (one policy applied to one resource)
// through the full `duallane policy test` path (load YAML, autogen, match, variables, patterns,
// conditions, foreach, compare with expectations). Goal: >= 1,000 evaluations/s.
// Anchor: only reading the same resource file (js-yaml parse, no evaluation), expressed per
// policy-resource pair, measured in the same run: the ratio is the share of pure input-parsing
// throughput that the full evaluation keeps.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const policy = await import(join(root, 'dist/policy/index.js'));
const quick = process.env.BENCH_QUICK === '1';
const N = quick ? 300 : 2000;
const { stringify } = await import('yaml');
const base = join(root, 'bench/.work/policy-test');
rmSync(base, { recursive: true, force: true });

const digest = 'sha256:' + 'ab'.repeat(32);
const docs = [];
const results = [];
for (let i = 0; i < N; i++) {
  const pinned = i % 2 === 0;
  const image = pinned ? `registry.duallane.local/app${i}@${digest}` : `registry.duallane.local/app${i}:1.${i}`;
  const containers = [
    { name: 'app', image, resources: { limits: { memory: '256Mi' }, requests: { memory: '128Mi', cpu: '100m' } }, securityContext: { runAsNonRoot: true } },
    { name: 'sidecar', image: `registry.duallane.local/sidecar@${digest}` },
  ];
  const labels = { app: `app${i}`, team: i % 3 === 0 ? 'red' : 'blue' };
  if (i % 4 === 3) {
    docs.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `r${i}`, namespace: 'apps', labels }, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers } } } });
    results.push({ kind: 'Deployment', name: `r${i}`, pinned, team: labels.team });
  } else {
    docs.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `r${i}`, namespace: 'apps', labels }, spec: { containers } });
    results.push({ kind: 'Pod', name: `r${i}`, pinned, team: labels.team });
  }
}
// Two more policies typical of Kyverno's samples: deny with conditions and foreach with preconditions.
const extraPolicies = (
  ({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'bench-team-and-limits' },
    spec: {
      rules: [
        { name: 'team', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { failureAction: 'Audit', message: 'team must not be red', deny: { conditions: { any: [{ key: "{{ request.object.metadata.labels.team || '' }}", operator: 'AnyIn', value: ['red', 'green'] }] } } } },
        { name: 'limits', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { failureAction: 'Audit', foreach: [{ list: 'request.object.spec.containers', preconditions: { all: [{ key: '{{ element.name }}', operator: 'Equals', value: 'app' }] }, pattern: { resources: { limits: { memory: '<=1Gi' }, requests: { cpu: '?*' } } } }] } },
      ],
    },
  }));
const rows = [];
for (const r of results) {
  rows.push({ policy: 'require-image-digest', rule: 'require-image-digest', kind: r.kind, resources: [r.name], result: r.pinned ? 'pass' : 'fail' });
  rows.push({ policy: 'bench-team-and-limits', rule: 'team', kind: r.kind, resources: [r.name], result: r.team === 'red' ? 'fail' : 'pass' });
  rows.push({ policy: 'bench-team-and-limits', rule: 'limits', kind: r.kind, resources: [r.name], result: 'pass' });
}
const testDoc = { apiVersion: 'cli.kyverno.io/v1alpha1', kind: 'Test', metadata: { name: 'bench' }, policies: [join(root, 'policies/kyverno/require-image-digest.yaml'), 'extra-policies.yaml'], resources: ['resources.yaml'], results: rows };
// Two layouts of the same test: YAML block style (what people write) and JSON documents.
function layout(format) {
  const dir = join(base, format);
  mkdirSync(dir, { recursive: true });
  const ser = format === 'yaml' ? (d) => stringify(d) : (d) => JSON.stringify(d);
  writeFileSync(join(dir, 'resources.yaml'), docs.map(ser).join(format === 'yaml' ? '---\n' : '\n---\n'));
  writeFileSync(join(dir, 'extra-policies.yaml'), ser(extraPolicies));
  writeFileSync(join(dir, 'kyverno-test.yaml'), ser(testDoc));
  return dir;
}

async function once(work) {
  const s = process.hrtime.bigint();
  const report = await policy.runTests([work]);
  const secs = Number(process.hrtime.bigint() - s) / 1e9;
  if (report.summary.fail !== 0) throw new Error(`bench expectations failed: ${report.summary.fail}`);
  return { secs, evaluations: report.summary.evaluations };
}

async function measure(work) {
  await once(work); // warm-up (JIT, JMESPath compile cache)
  let best = Infinity;
  let evaluations = 0;
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    const r = await once(work);
    best = Math.min(best, r.secs);
    evaluations = r.evaluations;
  }
  return { rate: evaluations / best, evaluations, best };
}
const yamlRun = await measure(layout('yaml'));
const jsonRun = await measure(layout('json'));
const jsYaml = (await import('js-yaml')).default;
const { readFileSync } = await import('node:fs');
const yamlText = readFileSync(join(base, 'yaml', 'resources.yaml'), 'utf8');
let anchorBest = Infinity;
for (let i = 0; i < (quick ? 3 : 7); i++) {
  const s = process.hrtime.bigint();
  jsYaml.loadAll(yamlText, () => {}, { schema: jsYaml.CORE_SCHEMA });
  anchorBest = Math.min(anchorBest, Number(process.hrtime.bigint() - s) / 1e9);
}
// Two policies per resource: one parse serves two evaluations.
const anchorRate = (N * 2) / anchorBest;
const row = (name, r, note) => ({
  bench: name,
  anchor: 'parsing the resources only',
  anchorRate: `${Math.round(anchorRate)} evals/s`,
  rate: `${Math.round(r.rate)} evals/s`,
  ratio: r.rate / anchorRate,
  extra: `goal >= 1000 evals/s: ${r.rate >= 1000 ? 'met' : 'missed'}; ${r.evaluations} evaluations (${N} resources x 2 policies, autogen, deny/AnyIn, foreach) in ${r.best.toFixed(3)} s; ${note}`,
  pass: r.rate >= 1000,
});
console.log(`yaml: ${Math.round(yamlRun.rate)} evals/s, json: ${Math.round(jsonRun.rate)} evals/s`);
console.log(JSON.stringify([row('policy test throughput (YAML files)', yamlRun, 'includes YAML parsing of every resource'), row('policy test throughput (JSON files)', jsonRun, 'same test, resources as JSON documents')]));
