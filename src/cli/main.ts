import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands.js';
import { reportError } from './output.js';

const program = new Command();
program
  .name('duallane')
  .description('Two lanes, one repository: signed proposals from a read-only lane, verified and applied by a write lane.')
  .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

await registerCommands(program, process.argv.slice(2));

// Every subcommand inherits exitOverride so bad flags exit 2 instead of commander's default 1.
function applyOverrides(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyOverrides(sub);
}
applyOverrides(program);

const wantsJson = process.argv.includes('--json');
// Spans leave the process only when the standard OTEL_* variables ask for it; the SDK loads only then.
const env = process.env;
const tracing =
  env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? await import('../observability/tracing-setup.js').then((m) => m.initTracing()).catch((e: unknown) => {
        process.exitCode = reportError(e, wantsJson);
        return undefined;
      })
    : undefined;
try {
  if (process.exitCode === undefined || process.exitCode === 0) await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version are not errors.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exitCode = 0;
    else process.exitCode = 2;
  } else {
    process.exitCode = reportError(e, wantsJson);
  }
} finally {
  await tracing?.shutdown().catch(() => undefined);
}
