import type { Command } from 'commander';
import {
  applyPolicies,
  lintFiles,
  loadExceptions,
  loadPolicies,
  loadResources,
  loadValuesFile,
  runTests,
  toJUnit,
  type PolicyResponse,
  type RuleStatus,
  type TestRunReport,
  type ValuesSpec,
} from '../policy/index.js';
import { readBoundedText } from '../config/index.js';
import { PolicyError, type ImageVerifier } from '../policy/index.js';
import { makePrinter } from './output.js';

interface RegistryFlags {
  registry?: boolean;
  insecureRegistry?: string[];
  trustedRoot?: string;
  registryTimeout?: string;
}

/** With --registry (as `kyverno test --registry`), verifyImages rules ask the OCI registry; otherwise offline. */
async function imageVerifierFrom(f: RegistryFlags): Promise<ImageVerifier | undefined> {
  if (!f.registry) return undefined;
  const timeoutMs = f.registryTimeout === undefined ? 10_000 : Number(f.registryTimeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new PolicyError('BAD_USAGE', '--registry-timeout must be a positive number of milliseconds');
  let trustedRoot: object | undefined;
  if (f.trustedRoot) {
    try {
      trustedRoot = JSON.parse(await readBoundedText(f.trustedRoot, { maxBytes: 16 * 1024 * 1024, what: 'trusted root' })) as object;
    } catch (e) {
      throw new PolicyError('POLICY_UNREADABLE', `cannot read trusted root ${f.trustedRoot}: ${(e as Error).message}`, { cause: e });
    }
  }
  // Loaded only with --registry: offline runs never load the registry client or the admission module.
  const [{ RegistryImageVerifier }, { RegistryClient }] = await Promise.all([import('../admission/index.js'), import('../registry/index.js')]);
  return new RegistryImageVerifier({ client: new RegistryClient({ insecureRegistries: f.insecureRegistry ?? [], timeoutMs }), trustedRoot });
}

function registryOptions(cmd: Command): Command {
  return cmd
    .option('--registry', 'verify images against their OCI registry (verifyImages rules); offline they are errors')
    .option('--insecure-registry <host...>', 'registries reached over plain HTTP (with --registry)')
    .option('--trusted-root <file>', 'Sigstore trusted_root.json for keyless attestors (with --registry)')
    .option('--registry-timeout <ms>', 'per-image registry budget in milliseconds (with --registry)', '10000');
}

/**
 * The `policy` command group. Other files attach subcommands to the same group through
 * `getPolicyCommand(program)` (e.g. src/cli/policy-bundle.ts adds bundle / verify-bundle / push / pull).
 */
export function getPolicyCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'policy');
  if (existing) return existing;
  return program.command('policy').description('Kyverno-format policies: lint, test offline (kyverno test), apply to resources (kyverno apply)');
}

export function registerPolicyCommands(program: Command): void {
  const policy = getPolicyCommand(program);

  policy
    .command('lint')
    .description('check Kyverno ClusterPolicy/Policy files: supported fields, anchors, JMESPath, condition operators, deprecated fields (file:line)')
    .argument('<file...>', 'policy files')
    .option('--json', 'print findings as JSON')
    .option('--strict', 'treat warnings as errors')
    .action(async (files: string[], opts: { json?: boolean; strict?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const report = await lintFiles(files);
      const failed = report.errors > 0 || (opts.strict === true && report.warnings > 0);
      out.result({ ok: !failed, ...report }, () => {
        const lines: string[] = [];
        for (const f of report.files) for (const x of f.findings) lines.push(`${x.file}:${x.line}: ${x.severity}: ${x.message}${x.path ? ` (${x.path})` : ''}`);
        lines.push(`${report.files.length} file(s), ${report.errors} error(s), ${report.warnings} warning(s)`);
        return lines;
      });
      if (failed) process.exitCode = 1;
    });

  const test = policy
    .command('test')
    .description('run Kyverno CLI tests (kyverno-test.yaml, also inside .kyverno-test/) offline; exit 1 when any result differs')
    .argument('<dir...>', 'directories (or test files) to search')
    .option('--json', 'print the report as JSON (same as -o json)')
    .option('-o, --output-format <format>', 'text | json | junit', 'text')
    .option('-f, --file-name <name>', 'test file name', 'kyverno-test.yaml')
    .option('--fail-only', 'print only failing rows')
    .option('-t, --test-case-selector <selector>', 'run only matching results, e.g. "policy=p, rule=r, resource=name" (wildcards allowed)');
  registryOptions(test).action(async (dirs: string[], opts: { json?: boolean; outputFormat: string; fileName: string; failOnly?: boolean; testCaseSelector?: string } & RegistryFlags) => {
      const format = opts.json ? 'json' : opts.outputFormat;
      if (!['text', 'json', 'junit'].includes(format)) throw new PolicyError('BAD_USAGE', `unknown output format ${format} (text, json, junit)`);
      const report = await runTests(dirs, { fileName: opts.fileName, selector: opts.testCaseSelector, imageVerifier: await imageVerifierFrom(opts) });
      if (format === 'junit') process.stdout.write(toJUnit(report) + '\n');
      else {
        const out = makePrinter(format === 'json');
        out.result({ ok: report.summary.fail === 0, ...report }, () => testText(report, Boolean(opts.failOnly)));
      }
      if (report.summary.fail > 0) process.exitCode = 1;
    });

  const apply = policy
    .command('apply')
    .description('apply policies to resources like `kyverno apply`; exit 1 when a rule fails or errors')
    .argument('<policy...>', 'policy files or directories')
    .requiredOption('-r, --resource <file...>', 'resource files or directories')
    .option('-f, --values-file <file>', 'Kyverno values file (cli.kyverno.io/v1alpha1 Values)')
    .option('-s, --set <key=value...>', 'variable values, e.g. request.operation=UPDATE')
    .option('-e, --exception <file...>', 'PolicyException files (kyverno.io/v2)')
    .option('--json', 'print results as JSON');
  registryOptions(apply).action(async (policyPaths: string[], opts: { resource: string[]; valuesFile?: string; set?: string[]; exception?: string[]; json?: boolean } & RegistryFlags) => {
      const out = makePrinter(Boolean(opts.json));
      const values: ValuesSpec = opts.valuesFile ? await loadValuesFile(opts.valuesFile) : {};
      for (const kv of opts.set ?? []) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new PolicyError('BAD_USAGE', `--set expects key=value, got ${JSON.stringify(kv)}`);
        values.globalValues = { ...(values.globalValues ?? {}), [kv.slice(0, i)]: kv.slice(i + 1) };
      }
      const { policies } = await loadPolicies(policyPaths);
      if (policies.length === 0) throw new PolicyError('POLICY_INVALID', `no Kyverno policies found in ${policyPaths.join(', ')}`);
      const resources = await loadResources(opts.resource);
      const exceptions = await loadExceptions(opts.exception ?? []);
      const responses = await applyPolicies(policies, resources, { values, exceptions, imageVerifier: await imageVerifierFrom(opts) });
      const counts: Record<RuleStatus, number> = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
      for (const r of responses) for (const rule of r.rules) counts[rule.status]++;
      out.result({ ok: counts.fail === 0 && counts.error === 0, policies: policies.length, resources: resources.length, responses, summary: counts }, () => applyText(responses, counts, policies.reduce((n, p) => n + (p.spec.rules?.length ?? 0), 0), resources.length));
      if (counts.fail > 0 || counts.error > 0) process.exitCode = 1;
    });
}

function testText(report: TestRunReport, failOnly: boolean): string[] {
  const lines: string[] = [];
  for (const t of report.tests) {
    lines.push(`Loading test ${t.name} ( ${t.path} ) ...`);
    for (const w of t.warnings) lines.push(`  warning: ${w}`);
    for (const [p, why] of Object.entries(t.skippedPolicies)) lines.push(`  skipping invalid policy ${p}: ${why}`);
    const rows = failOnly ? t.rows.filter((r) => r.outcome === 'fail') : t.rows;
    if (rows.length === 0) continue;
    const table = [['ID', 'POLICY', 'RULE', 'RESOURCE', 'RESULT', 'REASON'], ...rows.map((r) => [String(r.id), r.policy, r.rule, r.resource, r.outcome === 'pass' ? 'Pass' : 'Fail', r.reason])];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) lines.push('  ' + row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  }
  const { pass, fail, skip } = report.summary;
  lines.push('', `Test Summary: ${pass + skip} tests passed and ${fail} tests failed`);
  return lines;
}

function applyText(responses: PolicyResponse[], counts: Record<RuleStatus, number>, rules: number, resources: number): string[] {
  // Kyverno apply's layout: one block per failing policy/resource pair, then the counts.
  const lines = [`Applying ${rules} policy rule(s) to ${resources} resource(s)...`, ''];
  for (const r of responses) {
    const res = `${r.resource.namespace}/${r.resource.kind}/${r.resource.name}`;
    const bad = r.rules.filter((rule) => rule.status === 'fail' || rule.status === 'error' || rule.status === 'warn');
    if (bad.length === 0) continue;
    lines.push(`policy ${r.policy} -> resource ${res} ${bad.some((b) => b.status === 'fail') ? 'failed' : bad[0]!.status}:`);
    bad.forEach((rule, i) => lines.push(`${i + 1}. ${rule.name}: ${rule.message}`));
    lines.push('');
  }
  lines.push(`pass: ${counts.pass}, fail: ${counts.fail}, warn: ${counts.warn}, error: ${counts.error}, skip: ${counts.skip}`);
  return lines;
}
