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

registerCommands(program);

// Every subcommand inherits exitOverride so bad flags exit 2 instead of commander's default 1.
function applyOverrides(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyOverrides(sub);
}
applyOverrides(program);

const wantsJson = process.argv.includes('--json');
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version are not errors.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exitCode = 0;
    else process.exitCode = 2;
  } else {
    process.exitCode = reportError(e, wantsJson);
  }
}
