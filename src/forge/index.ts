// Public surface of the forge module: git via the CLI, pull requests through a local or GitHub forge.
export { ForgeError, FORGE_CODES } from './forge-error.js';
export type { ForgeErrorCode } from './forge-error.js';
export { git, gitText, resolveCommit, commitExists, remoteBranchSha, localBranchSha, pushBranch, remoteBranchContains, isSafeBranchName } from './git.js';
export type { GitOptions, GitResult, RemoteAccess, RemoteBranchContains } from './git.js';
export { gitPushTarget, gitWebBaseUrl, tokenPushAccess, redactSecrets } from './push-auth.js';
export type { GitPushTarget, TokenPushAccess } from './push-auth.js';
export type { Forge, ForgeTarget, PullRequestRef, OpenPullRequestInput, PullRequestStore, LocalPullRequestRecord } from './forge.js';
export { LocalForge, MemoryPullRequestStore, localPullRequestUrl } from './local-forge.js';
export { GitHubForge, toForgeError } from './github-forge.js';
export type { GitHubForgeOptions } from './github-forge.js';
export { openForge } from './open-forge.js';
