import type { Command } from 'commander';
import { getLane } from '../config/index.js';
import { checkGithubToken, checkKeyFiles, checkLaneEnv, type LaneFinding, type GithubTokenReport } from '../lanes/index.js';
import { checkLaneDbPrivileges, openLedger, type DbPrivilegeReport } from '../ledger/index.js';
import { rejectWithReport } from './lane-cli.js';
import { loadInitializedConfig } from './cli-config.js';
import { makePrinter } from './output.js';

interface CredsOpts {
  lane: string;
  dir?: string;
  json?: boolean;
  offline?: boolean;
  githubRepo?: string;
}

export function registerCredsCommands(program: Command): void {
  const creds = program.command('creds').description("prove a lane's credentials from inside the lane");
  creds
    .command('check')
    .description('database privileges (catalog + attempted forbidden writes), GitHub token permissions, stray secrets in the environment, key file modes; exit 1 listing each violation')
    .requiredOption('--lane <lane>', 'the lane this process runs as')
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--offline', 'skip the GitHub API check (reported as a warning)')
    .option('--github-repo <owner/name>', 'repository to check the GitHub token against (default: forge.repo)')
    .option('--json', 'print the full report as JSON')
    .action(async (opts: CredsOpts) => {
      const out = makePrinter(Boolean(opts.json));
      const config = await loadInitializedConfig(opts.dir);
      const lane = getLane(config, opts.lane);
      const violations: LaneFinding[] = [];
      const warnings: LaneFinding[] = [];

      const env = checkLaneEnv(config, lane, process.env);
      const keys = await checkKeyFiles(config, lane);
      violations.push(...env, ...keys);

      let db: DbPrivilegeReport;
      const ledger = await openLedger(config, { lane: lane.name, poolSize: 1 });
      try {
        db = await checkLaneDbPrivileges(ledger, config, lane);
      } finally {
        await ledger.close();
      }
      violations.push(...db.violations);
      warnings.push(...db.warnings);

      let github: GithubTokenReport | { skipped: string };
      const token = process.env[lane.github.tokenEnv];
      const repo = opts.githubRepo ?? (config.forge.kind === 'github' ? config.forge.repo : undefined);
      if (opts.offline) {
        github = { skipped: 'offline' };
        warnings.push({ code: 'GITHUB_SKIPPED_OFFLINE', message: 'GitHub token permissions not checked (--offline)' });
      } else if (!token) {
        github = { skipped: `no token in $${lane.github.tokenEnv}` };
      } else if (!repo) {
        github = { skipped: 'no repository (forge is local; pass --github-repo)' };
        warnings.push({ code: 'GITHUB_SKIPPED_NO_REPO', message: `$${lane.github.tokenEnv} is set but there is no repository to check it against (pass --github-repo owner/name)` });
      } else {
        const apiUrl = process.env.GITHUB_API_URL ?? (config.forge.kind === 'github' ? config.forge.apiUrl : 'https://api.github.com');
        github = await checkGithubToken({ token, repo, apiUrl, allowed: lane.github.permissions });
        violations.push(...github.violations);
      }

      const report = { lane: lane.name, kind: lane.kind, ok: violations.length === 0, violations, warnings, db, github };
      const lines = () => [
        ...violations.map((v) => `violation ${v.code}: ${v.message}`),
        ...warnings.map((w) => `warning ${w.code}: ${w.message}`),
        violations.length === 0 ? `lane ${lane.name}: credentials are exactly those of ${lane.kind === 'execute' ? 'an' : 'a'} ${lane.kind} lane` : `lane ${lane.name}: ${violations.length} violation(s)`,
      ];
      if (violations.length === 0) {
        out.result(report, lines);
      } else {
        rejectWithReport(out, report, lines, 'CREDENTIAL_VIOLATIONS', `lane ${lane.name} holds ${violations.length} credential(s) it must not`);
      }
    });
}
