import type { Command } from 'commander';
import type { DuallaneConfig } from '../config/index.js';
import { Ledger, openLedger, resolveLedgerTarget, rolesSql } from '../ledger/index.js';
import { rejectWithReport } from './lane-cli.js';
import { loadInitializedConfig } from './cli-config.js';
import { makePrinter } from './output.js';

interface DbOpts {
  dir?: string;
  json?: boolean;
}

/** The administrator's ledger: embedded PGlite, or $DATABASE_URL (ledger.urlEnv) in server mode. */
async function openAdminLedger(dir: string | undefined): Promise<{ ledger: Ledger; config: DuallaneConfig }> {
  const config = await loadInitializedConfig(dir);
  const ledger = await Ledger.open(resolveLedgerTarget(config), { lanes: config.lanes });
  return { ledger, config };
}

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the handoff ledger: migrations, lane roles, audit chain');

  db.command('migrate')
    .description('apply pending ledger migrations (one transaction: all or nothing; safe to re-run)')
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--json', 'print {"applied","current","ledger"} as JSON')
    .action(async (opts: DbOpts) => {
      const out = makePrinter(Boolean(opts.json));
      const { ledger } = await openAdminLedger(opts.dir);
      try {
        const r = await ledger.migrate();
        out.result({ ...r, ledger: { kind: ledger.kind, where: ledger.where } }, () =>
          r.applied.length
            ? `applied migration${r.applied.length > 1 ? 's' : ''} ${r.applied.join(', ')}; ledger at version ${r.current} (${ledger.where})${ledger.kind === 'server' ? '\nnew tables or columns need their grants: run `duallane db roles apply` next' : ''}`
            : `ledger already at version ${r.current} (${ledger.where})`,
        );
      } finally {
        await ledger.close();
      }
    });

  const roles = db.command('roles').description('per-lane PostgreSQL login roles with least privilege');
  roles
    .command('apply')
    .description('create or correct one login role per lane (grants, row-level security lanes); --print-sql only prints')
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--print-sql', 'print the SQL instead of running it (no database needed)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: DbOpts & { printSql?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const config = await loadInitializedConfig(opts.dir);
      if (opts.printSql) {
        const sql = rolesSql(config);
        out.result({ sql }, () => sql.trimEnd());
        return;
      }
      const ledger = await Ledger.open(resolveLedgerTarget(config), { lanes: config.lanes });
      try {
        await ledger.applyRoles(config);
        const lanes = config.lanes.map((l) => ({ lane: l.name, kind: l.kind, role: l.db.role }));
        out.result({ applied: lanes, ledger: { kind: ledger.kind, where: ledger.where } }, () => lanes.map((l) => `role ${l.role}: lane ${l.lane} (${l.kind})`));
      } finally {
        await ledger.close();
      }
    });

  db.command('verify-audit')
    .description('re-derive the audit_log hash chain and name every edited, deleted or reordered row (exit 1 if any)')
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--lane <lane>', "verify from inside a lane (server mode: with that lane's own URL)")
    .option('--json', 'print {"ok","rows","head","findings","unsealed","sealError"} as JSON')
    .action(async (opts: DbOpts & { lane?: string }) => {
      const out = makePrinter(Boolean(opts.json));
      const config = await loadInitializedConfig(opts.dir);
      const ledger = opts.lane ? await openLedger(config, { lane: opts.lane }) : await Ledger.open(resolveLedgerTarget(config), { lanes: config.lanes });
      try {
        const report = await ledger.verifyAudit();
        if (report.ok) {
          out.result(report, () => `audit chain intact: ${report.rows} row${report.rows === 1 ? '' : 's'}${report.head ? `, head seq ${report.head.seq} ${report.head.hash}` : ''}${report.unsealed ? `; ${report.unsealed} row(s) not chained yet` : ''}${report.sealError ? `; sealing failed: ${report.sealError}` : ''}`);
        } else {
          rejectWithReport(out, report, () => [...report.findings.map((f) => `${f.kind}: ${f.message}`), ...(report.sealError ? [`sealing failed: ${report.sealError}`] : [])], 'AUDIT_CHAIN_BROKEN', `${report.findings.length} problem(s) in audit_log`);
        }
      } finally {
        await ledger.close();
      }
    });
}
