import type { Command } from 'commander';
import { registerDigestCommand } from './digest.js';
import { registerPolicyCommands } from './policy.js';
import { registerPolicyBundleCommands } from './policy-bundle.js';
import { registerAdmissionCommands } from './admission.js';
import { registerLabelsCommands } from './labels.js';
import { registerObservabilityCommands } from './observability.js';
import { registerKeysCommands } from './keys.js';
import { registerSignCommands } from './sign.js';
import { registerVerifyCommand } from './verify.js';
import { registerInitCommand } from './init.js';
import { registerDbCommands } from './db.js';
import { registerCredsCommands } from './creds.js';
import { registerExecCommand } from './exec.js';
import { registerHandoffCommands } from './handoff.js';

/**
 * Every command group registers itself here, one line each. Keep this list the only place that
 * knows all groups; each group lives in its own file under src/cli/.
 */
export function registerCommands(program: Command): void {
  registerInitCommand(program);
  registerDbCommands(program);
  registerCredsCommands(program);
  registerExecCommand(program);
  registerHandoffCommands(program);
  registerKeysCommands(program);
  registerDigestCommand(program);
  registerPolicyCommands(program);
  registerPolicyBundleCommands(program);
  registerAdmissionCommands(program);
  registerLabelsCommands(program);
  registerObservabilityCommands(program);
  registerSignCommands(program);
  registerVerifyCommand(program);
}
