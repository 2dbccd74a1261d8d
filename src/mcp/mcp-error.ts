import { DuallaneError, type ErrorOutcome } from '../config/index.js';

/** Reason codes of the MCP server itself (tool errors carry the domain modules' own codes). */
export const MCP_CODES = {
  /** The environment holds credentials the lane must not have: the server refuses to start. */
  FOREIGN_CREDENTIALS: 'rejected',
} as const satisfies Record<string, ErrorOutcome>;

export type McpErrorCode = keyof typeof MCP_CODES;

export class McpError extends DuallaneError<McpErrorCode> {
  get outcome(): ErrorOutcome {
    return MCP_CODES[this.code];
  }
}
