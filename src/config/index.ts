export { DuallaneError, InputError, EXIT_CODES, isDuallaneError } from './duallane-error.js';
export type { ErrorOutcome, InputErrorCode } from './duallane-error.js';
export { readBoundedFile, readBoundedText, NOT_REGULAR_FILE } from './bounded-read.js';
export type { BoundedReadOptions } from './bounded-read.js';
export { escapeControl } from './terminal-text.js';
export { ConfigError } from './config-error.js';
export type { ConfigErrorCode } from './config-error.js';
export { configFileSchema, laneSchema, identitySchema, scopeSchema, ledgerSchema, forgeSchema, DEFAULT_CI_PATHS } from './schema.js';
export type {
  ConfigFile,
  DuallaneConfig,
  LaneConfig,
  LaneKind,
  LaneIdentity,
  ScopePolicy,
  GithubLaneSettings,
  LedgerSettings,
  ForgeSettings,
  PermissionLevel,
} from './schema.js';
export { defaultConfig, DEFAULT_CONFIG_YAML, CONFIG_FILE_NAME } from './defaults.js';
export { loadConfig, parseConfigText, getLane, lanesOfKind, resolveConfigPath, formatPath } from './load-config.js';
export type { ConfigProblem, LoadConfigOptions } from './load-config.js';
