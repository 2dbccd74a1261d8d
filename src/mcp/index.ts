// Lane-scoped Model Context Protocol servers: the handoff functions as tools for one lane's agent.
export { McpError, MCP_CODES } from './mcp-error.js';
export type { McpErrorCode } from './mcp-error.js';
export { buildLaneMcpServer, publicView, PROPOSE_TOOLS, EXECUTE_TOOLS } from './lane-mcp-server.js';
export type { LaneMcpOptions } from './lane-mcp-server.js';
export { assertLaneEnvironment, serveLaneOverStdio } from './serve-mcp.js';
