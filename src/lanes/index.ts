// Lanes: who may hold what. Environment scrubbing, key file checks, GitHub token checks and the
// scrubbed runner. Database privilege checks live in ledger (checkLaneDbPrivileges): lanes does not
// import ledger; the CLI composes both into `duallane creds check` and `duallane exec`.
export { LaneError } from './lane-error.js';
export type { LaneErrorCode, LaneFinding } from './lane-error.js';
export { scrubEnv, envAllowed, looksSecret, checkLaneEnv } from './lane-env.js';
export { checkKeyFiles, checkOtherLaneKeys } from './key-files.js';
export { checkGithubToken, permissionsFromScopes, permissionsFromRepository } from './github-permissions.js';
export type { GithubTokenReport } from './github-permissions.js';
export { runScrubbed } from './run-scrubbed.js';
export type { ScrubbedRun } from './run-scrubbed.js';
