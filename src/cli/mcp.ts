import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadTrustedRootFile } from '../attest/index.js';
import { getLane, loadConfig } from '../config/index.js';
import { makeContext } from '../handoff/index.js';
import { openLedger, resolveLedgerTarget, type Ledger } from '../ledger/index.js';
import { assertLaneEnvironment, serveLaneOverStdio } from '../mcp/index.js';

interface McpOpts {
  lane: string;
  dir: string;
  repo?: string;
  trustedRoot?: string;
  json?: boolean;
}

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description("serve one lane's handoff tools to its agent over the Model Context Protocol (stdio)")
    .requiredOption('--lane <lane>', 'the lane this server acts as: its tools follow from the lane kind')
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--repo <dir>', 'git repository the handoffs apply to (default: the --dir)')
    .option('--trusted-root <file>', 'trusted_root.json for keyless lanes')
    .option('--json', 'errors before the server starts are printed as JSON (the protocol itself is JSON-RPC on stdout)')
    .addHelpText(
      'after',
      `
Tools: a propose lane gets propose_handoff, check_scope, list_handoffs, show_handoff, trace_handoff;
an execute lane gets next_handoff, accept_handoff, list_handoffs, show_handoff, trace_handoff.
Resources: duallane://handoff/{id}. The server refuses to start when its environment holds
credentials the lane must not have (the rules of \`duallane creds check\`).

Examples:
  claude mcp add duallane -- duallane mcp --lane claude --dir /path/to/repo
  duallane mcp --lane codex --dir .      # in ~/.codex/config.toml: [mcp_servers.duallane]`,
    )
    .action(async (o: McpOpts) => {
      const config = await loadConfig(resolve(o.dir));
      getLane(config, o.lane);
      assertLaneEnvironment(config, o.lane, process.env);
      const trustedRoot = o.trustedRoot ? await loadTrustedRootFile(o.trustedRoot) : undefined;
      const repoDir = o.repo ? resolve(o.repo) : config.root;
      const contextOf = (ledger: Ledger) => makeContext(config, ledger, { repoDir, trustedRoot });
      if (resolveLedgerTarget(config, { lane: o.lane }).kind === 'embedded') {
        // PGlite allows one process at a time: open it per call, so both lanes' servers can share it.
        await serveLaneOverStdio({
          config,
          lane: o.lane,
          withContext: async (fn) => {
            const ledger = await openLedger(config, { lane: o.lane });
            try {
              return await fn(contextOf(ledger));
            } finally {
              await ledger.close();
            }
          },
        });
        return;
      }
      const ledger = await openLedger(config, { lane: o.lane });
      try {
        const ctx = contextOf(ledger);
        await serveLaneOverStdio({ config, lane: o.lane, withContext: (fn) => fn(ctx) });
      } finally {
        await ledger.close();
      }
    });
}
