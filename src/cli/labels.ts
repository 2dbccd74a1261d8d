import type { Command } from 'commander';
import { GitHubLabelsClient, LabelsError, describeAction, parseRepo, readLabelsFile, syncLabels, type LabelsFile, type SyncAction } from '../labels/index.js';
import { makePrinter } from './output.js';

const DEFAULT_FILE = '.github/labels.yml';

export function registerLabelsCommands(program: Command): void {
  const labels = program.command('labels').description('lint and sync the GitHub label taxonomy (.github/labels.yml)');

  labels
    .command('lint')
    .description("check a labels file against GitHub's limits; findings are reported as FILE:LINE:COLUMN")
    .argument('[file]', 'labels file', DEFAULT_FILE)
    .option('--json', 'print {"file","labels","findings":[{file,line,column,rule,message}]}')
    .action((file: string, opts: { json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const result = readLabelsFile(file);
      out.result({ ok: result.findings.length === 0, file, labels: result.labels.length, findings: result.findings }, () =>
        result.findings.length === 0
          ? `${file}: ${result.labels.length} labels, no findings`
          : result.findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.rule}: ${f.message}`),
      );
      if (result.findings.length > 0) process.exitCode = 1;
    });

  labels
    .command('sync')
    .description('make the labels of a GitHub repository match the file: create, update, rename (aliases); delete only with --prune')
    .requiredOption('--repo <owner/name>', 'target repository')
    .option('--file <file>', 'labels file', DEFAULT_FILE)
    .option('--dry-run', 'print the diff and change nothing')
    .option('--prune', 'also delete repository labels that the file does not list')
    .option('--json', 'print {"repo","dryRun","prune","actions","applied"}')
    .addHelpText(
      'after',
      '\nEnvironment:\n  GITHUB_TOKEN    token with issues:write on the repository (required unless --dry-run)\n  GITHUB_API_URL  REST API base URL (default https://api.github.com; GHES: https://HOST/api/v3)',
    )
    .action(async (opts: { repo: string; file: string; dryRun?: boolean; prune?: boolean; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const ref = parseRepo(opts.repo);
      const file = readLabelsFile(opts.file);
      assertClean(file);
      const token = process.env.GITHUB_TOKEN ?? '';
      if (!opts.dryRun && token === '') throw new LabelsError('TOKEN_MISSING', 'GITHUB_TOKEN is not set (needed to change labels; --dry-run works without it)');
      const client = new GitHubLabelsClient({ token, baseUrl: process.env.GITHUB_API_URL || undefined });
      const dryRun = Boolean(opts.dryRun);
      const prune = Boolean(opts.prune);
      // The diff goes out before the first change so an interrupted run still showed what it meant to do.
      const result = await syncLabels(client, ref, file.labels, {
        dryRun,
        prune,
        onPlan: (actions) => {
          if (!out.json) process.stdout.write(diffLines(`${ref.owner}/${ref.repo}`, actions, dryRun).join('\n') + '\n');
        },
      });
      out.result(
        {
          ok: true,
          repo: `${ref.owner}/${ref.repo}`,
          dryRun,
          prune,
          summary: summarize(result.actions),
          actions: result.actions.filter((a) => a.kind !== 'keep').map(toJson),
          applied: result.applied.length,
        },
        () => (dryRun ? 'dry run: nothing changed' : `applied ${result.applied.length} change(s)`),
      );
    });
}

function assertClean(file: LabelsFile): void {
  if (file.findings.length === 0) return;
  const first = file.findings[0]!;
  throw new LabelsError('LINT_FAILED', `${first.file}:${first.line}:${first.column}: ${first.message} (${file.findings.length} finding(s); run duallane labels lint)`, {
    details: { findings: file.findings },
  });
}

function summarize(actions: SyncAction[]): Record<SyncAction['kind'], number> {
  const s = { create: 0, update: 0, delete: 0, keep: 0, extra: 0 };
  for (const a of actions) s[a.kind]++;
  return s;
}

function diffLines(repo: string, actions: SyncAction[], dryRun: boolean): string[] {
  const s = summarize(actions);
  const lines = actions.filter((a) => a.kind !== 'keep').map(describeAction);
  return [
    `labels ${repo}${dryRun ? ' (dry run)' : ''}: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.keep} unchanged, ${s.extra} not in the file`,
    ...lines,
  ];
}

function toJson(a: SyncAction): Record<string, unknown> {
  switch (a.kind) {
    case 'create':
      return { action: 'create', name: a.label.name, color: a.label.color, description: a.label.description };
    case 'update':
      return { action: 'update', from: a.current.name, name: a.label.name, changes: a.changes, color: a.label.color, description: a.label.description };
    case 'delete':
      return { action: 'delete', name: a.current.name };
    case 'extra':
      return { action: 'extra', name: a.current.name };
    case 'keep':
      return { action: 'keep', name: a.label.name };
  }
}
