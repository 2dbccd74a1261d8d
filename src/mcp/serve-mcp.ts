import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { DuallaneConfig } from '../config/index.js';
import { getLane } from '../config/index.js';
import { checkLaneEnv } from '../lanes/index.js';
import { buildLaneMcpServer, type LaneMcpOptions } from './lane-mcp-server.js';
import { McpError } from './mcp-error.js';

/**
 * The lane's credentials only: refuses when the environment holds anything `creds check` would
 * report for this lane (another lane's token or key, a credential outside the lane's allowlist).
 * Names only in the message, never values.
 */
export function assertLaneEnvironment(config: DuallaneConfig, laneName: string, env: NodeJS.ProcessEnv): void {
  const lane = getLane(config, laneName);
  const findings = checkLaneEnv(config, lane, env);
  if (findings.length > 0) {
    throw new McpError('FOREIGN_CREDENTIALS', `refusing to serve lane ${lane.name}: ${findings.map((f) => `${f.code} ${f.message}`).join('; ')}`, {
      details: { findings },
    });
  }
}

/** Serves one lane over stdio until the client closes the stream. Resolves when it has. */
export async function serveLaneOverStdio(opts: LaneMcpOptions): Promise<void> {
  const server = buildLaneMcpServer(opts);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
