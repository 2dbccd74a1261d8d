import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every command group, with the top-level command names it registers and a loader. Only the group
 * named on the command line is imported, so `duallane verify` never loads the policy engine, the
 * Grafana SDK or Fastify; `--help` (or an unknown name) loads them all. To add a group: one entry.
 */
const GROUPS: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['init'], load: async () => (await import('./init.js')).registerInitCommand },
  { names: ['db'], load: async () => (await import('./db.js')).registerDbCommands },
  { names: ['creds'], load: async () => (await import('./creds.js')).registerCredsCommands },
  { names: ['exec'], load: async () => (await import('./exec.js')).registerExecCommand },
  { names: ['handoff'], load: async () => (await import('./handoff.js')).registerHandoffCommands },
  { names: ['keys'], load: async () => (await import('./keys.js')).registerKeysCommands },
  { names: ['digest'], load: async () => (await import('./digest.js')).registerDigestCommand },
  { names: ['sign', 'attest'], load: async () => (await import('./sign.js')).registerSignCommands },
  { names: ['verify'], load: async () => (await import('./verify.js')).registerVerifyCommand },
  {
    names: ['policy'],
    load: async () => {
      const [{ registerPolicyCommands }, { registerPolicyBundleCommands }] = await Promise.all([import('./policy.js'), import('./policy-bundle.js')]);
      return (program) => {
        registerPolicyCommands(program);
        registerPolicyBundleCommands(program);
      };
    },
  },
  { names: ['admission'], load: async () => (await import('./admission.js')).registerAdmissionCommands },
  { names: ['labels'], load: async () => (await import('./labels.js')).registerLabelsCommands },
  { names: ['dashboard'], load: async () => (await import('./observability.js')).registerObservabilityCommands },
  { names: ['serve'], load: async () => (await import('./serve.js')).registerServeCommand },
  { names: ['mcp'], load: async () => (await import('./mcp.js')).registerMcpCommand },
];

/** Registers the group `args` names (the first non-option argument), or every group when none matches. */
export async function registerCommands(program: Command, args: string[]): Promise<void> {
  const name = args.find((a) => !a.startsWith('-'));
  const wanted = GROUPS.filter((g) => name !== undefined && g.names.includes(name));
  for (const g of wanted.length > 0 ? wanted : GROUPS) (await g.load())(program);
}
