import type { Command } from 'commander';
import { DEFAULT_DASHBOARD_PATH, ObservabilityError, dashboardIsCurrent, renderDashboard } from '../observability/index.js';
import { writeOutputFile } from './cli-files.js';
import { makePrinter } from './output.js';

export function registerObservabilityCommands(program: Command): void {
  const dashboard = program.command('dashboard').description('the Grafana dashboard generated from the metric catalog');
  dashboard
    .command('generate')
    .description('write the Grafana dashboard JSON (Grafana Foundation SDK, from observability/prometheus/metrics.yaml)')
    .option('--out <file>', 'where to write it', DEFAULT_DASHBOARD_PATH)
    .option('--check', 'write nothing; exit 1 when the file differs from a fresh generation')
    .option('--stdout', 'print the JSON instead of writing a file')
    .option('--json', 'print {"file","written","current"}')
    .action(async (opts: { out: string; check?: boolean; stdout?: boolean; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      if (opts.stdout) {
        process.stdout.write(renderDashboard());
        return;
      }
      if (opts.check) {
        if (!dashboardIsCurrent(opts.out)) {
          throw new ObservabilityError('DASHBOARD_OUT_OF_DATE', `${opts.out} differs from the generated dashboard; run duallane dashboard generate`);
        }
        out.result({ ok: true, file: opts.out, written: false, current: true }, () => `${opts.out}: up to date`);
        return;
      }
      await writeOutputFile(opts.out, renderDashboard(), '--out');
      out.result({ ok: true, file: opts.out, written: true, current: true }, () => `wrote ${opts.out}`);
    });
}
