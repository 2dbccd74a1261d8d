import yaml from 'js-yaml';

/**
 * Verdicts of one `apply` run keyed `policy|rule|Kind/name` -> pass | fail | warn | error | skip, read
 * from Kyverno's policy report (`kyverno apply -p --output-format json`) and from
 * `duallane policy apply --json`. A rule that does not match a resource has no entry on either side.
 */
export type Verdicts = Map<string, string>;

export function verdictKey(policy: string, rule: string, kind: string, name: string): string {
  return `${policy}|${rule}|${kind}/${name}`;
}

interface ReportResult {
  policy: string;
  rule: string;
  result: string;
  message?: string;
  resources?: { kind: string; name: string; namespace?: string }[];
}

/**
 * `kyverno apply -p --output-format json` prints "Applying N policy rule(s) ..." lines, then one
 * merged ClusterReport (ClusterPolicies) and `---`-separated namespaced reports, each report on one
 * line. A rule Kyverno answers twice for one resource with different results reads `first+second`.
 */
export function kyvernoVerdicts(stdout: string): { verdicts: Verdicts; messages: Map<string, string> } {
  const verdicts: Verdicts = new Map();
  const messages = new Map<string, string>();
  for (const report of jsonObjectsIn(stdout)) {
    for (const r of (report.results as ReportResult[] | undefined) ?? []) {
      for (const res of r.resources ?? []) {
        const key = verdictKey(r.policy, r.rule, res.kind, res.name);
        const seen = verdicts.get(key);
        verdicts.set(key, seen === undefined || seen === r.result ? r.result : `${seen}+${r.result}`);
        messages.set(key, r.message ?? '');
      }
    }
  }
  return { verdicts, messages };
}

function jsonObjectsIn(text: string): Record<string, unknown>[] {
  // --output-format json prints each report as one line.
  return text
    .split('\n')
    .filter((l) => l.startsWith('{"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface DuallaneResponse {
  policy: string;
  resource: { kind: string; name: string };
  rules: { name: string; status: string; message: string }[];
  patchedResource?: Record<string, unknown>;
}

export function duallaneVerdicts(stdout: string): { verdicts: Verdicts; messages: Map<string, string>; patched: Map<string, unknown> } {
  const doc = JSON.parse(stdout) as { responses: DuallaneResponse[] };
  const verdicts: Verdicts = new Map();
  const messages = new Map<string, string>();
  const patched = new Map<string, unknown>();
  for (const r of doc.responses) {
    for (const rule of r.rules) {
      const key = verdictKey(r.policy, rule.name, r.resource.kind, r.resource.name);
      verdicts.set(key, rule.status);
      messages.set(key, rule.message);
    }
    if (r.patchedResource) patched.set(`${r.resource.kind}/${r.resource.name}`, r.patchedResource);
  }
  return { verdicts, messages, patched };
}

/** The resources Kyverno wrote with `-o FILE` (mutated or not), keyed Kind/name. */
export function kyvernoPatched(fileText: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const d of yaml.loadAll(fileText) as ({ kind?: string; metadata?: { name?: string } } | null)[]) {
    if (d && d.kind && d.metadata?.name) out.set(`${d.kind}/${d.metadata.name}`, d);
  }
  return out;
}

export interface Disagreement {
  key: string;
  kyverno: string;
  duallane: string;
  kyvernoMessage: string;
  duallaneMessage: string;
}

export function compareVerdicts(
  k: { verdicts: Verdicts; messages: Map<string, string> },
  d: { verdicts: Verdicts; messages: Map<string, string> },
): { compared: number; disagreements: Disagreement[] } {
  const keys = new Set([...k.verdicts.keys(), ...d.verdicts.keys()]);
  const disagreements: Disagreement[] = [];
  for (const key of [...keys].sort()) {
    const kv = k.verdicts.get(key) ?? 'none';
    const dv = d.verdicts.get(key) ?? 'none';
    if (kv !== dv) disagreements.push({ key, kyverno: kv, duallane: dv, kyvernoMessage: k.messages.get(key) ?? '', duallaneMessage: d.messages.get(key) ?? '' });
  }
  return { compared: keys.size, disagreements };
}
