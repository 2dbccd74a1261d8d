import type { Command } from 'commander';
import { registerDigestCommand } from './digest.js';

/**
 * Every command group registers itself here, one line each. Keep this list the only place that
 * knows all groups; each group lives in its own file under src/cli/.
 */
export function registerCommands(program: Command): void {
  registerDigestCommand(program);
}
