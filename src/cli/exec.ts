import type { Command } from 'commander';
import { getLane } from '../config/index.js';
import { runScrubbed, scrubEnv } from '../lanes/index.js';
import { openLedger } from '../ledger/index.js';
import { loadInitializedConfig } from './cli-config.js';
import { makePrinter } from './output.js';

export function registerExecCommand(program: Command): void {
  program
    .command('exec')
    .description("run CMD with only the lane's allowed environment and record the run (lane, command, exit code, start, end) in the ledger; exits with CMD's status")
    .requiredOption('--lane <lane>', 'the lane to run as')
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--json', 'after CMD finishes, print {"lane","command","exitCode","startedAt","endedAt","auditSeq"} as JSON')
    .argument('<command...>', 'the command and its arguments (after --)')
    .action(async (command: string[], opts: { lane: string; dir?: string; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const config = await loadInitializedConfig(opts.dir);
      const lane = getLane(config, opts.lane);
      // Fail before running anything if the run cannot be recorded. The ledger is closed while CMD
      // runs: an embedded (PGlite) ledger must not be open in two processes at once.
      await (await openLedger(config, { lane: lane.name, poolSize: 1 })).close();
      const run = await runScrubbed(command, scrubEnv(process.env, lane), { cwd: process.cwd() });
      const ledger = await openLedger(config, { lane: lane.name, poolSize: 1 });
      let auditSeq: number;
      try {
        auditSeq = (await ledger.withLane(lane.name, (tx) => tx.recordLaneRun(run))).seq;
      } finally {
        await ledger.close();
      }
      out.result({ lane: lane.name, command: run.command, exitCode: run.exitCode, signal: run.signal, startedAt: run.startedAt.toISOString(), endedAt: run.endedAt.toISOString(), auditSeq }, () => []);
      process.exitCode = run.exitCode;
    });
}
