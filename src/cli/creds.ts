import type { Command } from 'commander';
import { getLane } from '../config/index.js';
import { checkGithubToken, checkKeyFiles, checkLaneEnv, checkOtherLaneKeys, type LaneFinding, type GithubTokenReport } from '../lanes/index.js';
import { checkLaneDbPrivileges, openLedger, type DbPrivilegeReport } from '../ledger/index.js';
import { rejectWithReport } from './lane-cli.js';
import { loadInitializedConfig } from './cli-config.js';
import { makePrinter } from './output.js';

/** Said plainly in every embedded-mode report: the limits no check in this process can lift. */
const EMBEDDED_NOT_SEPARATED = [
  'the ledger: one PGlite directory opened as its superuser; SET ROLE guards each lane against mistakes, not against a lane that runs RESET ROLE',
  "files: lanes run as one OS user, so anything one lane can read or write (keys, .duallane/, the working tree) the other can too unless you move it out of reach",
  'processes: `duallane exec` scrubs the environment only; it is not a sandbox',
];

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
      const otherKeys = await checkOtherLaneKeys(config, lane);
      violations.push(...env, ...keys, ...otherKeys);

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

      // What one embedded ledger on one machine cannot keep apart, however clean the checks above are.
      const embedded = warnings.some((w) => w.code === 'EMBEDDED_NOT_ISOLATED');
      const notSeparated = embedded ? EMBEDDED_NOT_SEPARATED : [];
      const report = { lane: lane.name, kind: lane.kind, ok: violations.length === 0, violations, warnings, notSeparated, db, github };
      const lines = () => [
        ...violations.map((v) => `violation ${v.code}: ${v.message}`),
        ...warnings.map((w) => `warning ${w.code}: ${w.message}`),
        ...notSeparated.map((n) => `embedded mode cannot separate: ${n}`),
        violations.length > 0
          ? `lane ${lane.name}: ${violations.length} violation(s)`
          : embedded
            ? `lane ${lane.name}: no violation found, but embedded mode does not separate lanes (above); run each lane as its own user or machine against PostgreSQL for that`
            : `lane ${lane.name}: credentials are exactly those of ${lane.kind === 'execute' ? 'an' : 'a'} ${lane.kind} lane`,
      ];
      if (violations.length === 0) {
        out.result(report, lines);
      } else {
        rejectWithReport(out, report, lines, 'CREDENTIAL_VIOLATIONS', `lane ${lane.name} holds ${violations.length} credential(s) it must not`);
      }
    });
}
