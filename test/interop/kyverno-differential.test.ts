import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { k8sCorpus, type K8sObject } from '../support/k8s-arbitraries.js';
import { compareVerdicts, duallaneVerdicts, kyvernoPatched, kyvernoVerdicts, type Disagreement } from '../support/kyverno-verdicts.js';
import { gatePeer, runPeer } from '../support/peers.js';

/**
 * Differential test against Kyverno's own CLI: a generated corpus of Kubernetes objects is run
 * through `kyverno apply` and `duallane policy apply` with the shipped policies and the policies in
 * fixtures/kyverno-differential/, and every verdict (policy, rule, resource -> pass | fail | warn |
 * error | skip, or no result when the rule does not match) must agree; for mutate policies the patched
 * resources must agree too. The seed is fixed so a failure reproduces; DUALLANE_DIFF_SEED and
 * DUALLANE_DIFF_COUNT change it. Known differences are listed in KNOWN with the section of
 * docs/policy.md ("Where duallane differs from Kyverno") that explains each.
 */
const hasKyverno = gatePeer('kyverno');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/interop/fixtures/kyverno-differential');
const SEED = Number(process.env.DUALLANE_DIFF_SEED ?? 20261204);
const COUNT = Number(process.env.DUALLANE_DIFF_COUNT ?? 2000);

/**
 * Policy sets run in separate invocations: mutations would otherwise feed the validate set. The
 * shipped verifyImages policies are not here: Kyverno's CLI asks the registry for every image (minutes
 * of network timeouts offline); their offline cases are in their kyverno-test folders (kyverno-test.test.ts).
 */
const SETS: Record<string, string[]> = {
  shipped: [join(ROOT, 'policies/kyverno/require-image-digest.yaml')],
  validate: ['validate-patterns.yaml', 'deny-conditions.yaml', 'cel-pss.yaml', 'match-exclude.yaml'].map((f) => join(FIXTURES, f)),
  // mutate.yaml is not compared yet: `kyverno apply -p` prints no report for a mutate-only set
  // (docs/policy.md, "Differential test against Kyverno's CLI").
};

interface Known {
  /** The heading in docs/policy.md under "Where duallane differs from Kyverno". */
  doc: string;
  applies: (d: Disagreement, resource: K8sObject | undefined) => boolean;
}

const KNOWN: Known[] = [
  {
    doc: 'A missing field against an operator pattern',
    applies: (d, r) =>
      d.key.startsWith('diff-match|job-backoff|') && d.kyverno === 'pass' && d.duallane === 'fail' && (r?.spec as { backoffLimit?: unknown } | undefined)?.backoffLimit === undefined,
  },
];

function describeCase(d: Disagreement, resource: K8sObject | undefined): string {
  return [
    `seed ${SEED} (DUALLANE_DIFF_SEED=${SEED} DUALLANE_DIFF_COUNT=${COUNT} to reproduce)`,
    `${d.key}: kyverno ${d.kyverno} (${d.kyvernoMessage}) vs duallane ${d.duallane} (${d.duallaneMessage})`,
    yaml.dump(resource ?? null),
  ].join('\n');
}

describe.skipIf(!hasKyverno)('differential: duallane policy apply agrees with kyverno apply', () => {
  let dir: string;
  let corpus: K8sObject[];
  let byKey: Map<string, K8sObject>;
  let resourcesFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-kyverno-diff-'));
    corpus = k8sCorpus(SEED, COUNT);
    byKey = new Map(corpus.map((o) => [`${o.kind}/${String(o.metadata.name)}`, o]));
    resourcesFile = join(dir, 'resources.yaml');
    await writeFile(resourcesFile, corpus.map((o) => yaml.dump(o, { noRefs: true })).join('---\n'));
    console.log(`kyverno differential: seed ${SEED}, ${corpus.length} resources`);
  });

  for (const [set, policies] of Object.entries(SETS)) {
    it(`${set} policies: every verdict agrees`, async () => {
      const outFile = join(dir, `${set}-kyverno-out.yaml`);
      const [k, d] = await Promise.all([
        runPeer('kyverno', ['apply', ...policies, '--resource', resourcesFile, '-p', '--output-format', 'json', '-o', outFile], { timeoutMs: 600_000 }),
        runCli(['policy', 'apply', ...policies, '-r', resourcesFile, '--json']),
      ]);
      const kv = kyvernoVerdicts(k.stdout);
      expect(kv.verdicts.size, `kyverno apply printed no report (exit ${k.code}):\n${k.stderr.slice(0, 2000)}\n${k.stdout.slice(0, 2000)}`).toBeGreaterThan(0);
      const dv = duallaneVerdicts(d.stdout);
      const { compared, disagreements } = compareVerdicts(kv, dv);
      const resourceOf = (x: Disagreement) => byKey.get(x.key.split('|')[2]!);
      const unexplained = disagreements.filter((x) => !KNOWN.some((kn) => kn.applies(x, resourceOf(x))));
      const kinds = new Map<string, number>();
      for (const x of unexplained) {
        const [p, r] = x.key.split('|');
        const c = `${p}/${(r ?? '').replace(/^autogen-(cronjob-)?/, '')}: kyverno ${x.kyverno} vs duallane ${x.duallane}`;
        kinds.set(c, (kinds.get(c) ?? 0) + 1);
      }
      for (const [c, n] of kinds) console.log(`  ${n} x ${c}`);
      console.log(`${set}: ${policies.length} policy file(s), ${compared} verdicts compared, ${disagreements.length} disagreements (${disagreements.length - unexplained.length} known)`);
      expect(unexplained.length, unexplained.length > 0 ? describeCase(unexplained[0]!, resourceOf(unexplained[0]!)) : '').toBe(0);

      if (set === 'mutate') {
        const kp = kyvernoPatched(await readFile(outFile, 'utf8'));
        let compared = 0;
        for (const [key, patched] of dv.patched) {
          const theirs = kp.get(key);
          compared++;
          expect(patched, `seed ${SEED}: patched ${key} differs\n${yaml.dump(byKey.get(key))}`).toEqual(theirs);
        }
        console.log(`mutate: ${compared} patched resources compared`);
        expect(compared).toBeGreaterThan(0);
      }
    }, 900_000);
  }
});
